//! Compensation ceilings (docs/domain.md §6; 000 §六, 001 §三, Postal Law art. 47, Express Delivery
//! Interim Regulations art. 27). Integer fen throughout.
//!
//! **A ceiling bounds the sum per ticket, not each grant.** Every payment, and every other
//! remedy the policy lists in `compensation.ceiling_counts` (by default coupons too), counts
//! against the item's ceiling: a grant is refused when what the ticket was already granted of
//! those remedies plus the new amount exceeds the ceiling, and the refusal names the headroom
//! left. Postage refunds are besides bounded, all together, by the postage. Remedies the policy
//! does not count (reshipment, waiver, extended service by default) have no ceiling.
//!
//! The item's ceiling is computed from the request's facts (insured, amounts, postage …) by
//! the first rule that applies, in this order:
//! 1. a remedy the policy does not count → [`CompensationRule::NonMonetary`] (a postage refund
//!    is capped at the postage, the others have no ceiling);
//! 2. intent or gross negligence → [`CompensationRule::GrossNegligence`]: the actual loss, no cap;
//! 3. registered letter → [`CompensationRule::RegisteredLetter`]: N × postage;
//! 4. insured and lost or destroyed → [`CompensationRule::InsuredTotalLoss`]: the insured amount;
//! 5. insured and partly damaged or short → [`CompensationRule::InsuredPartialLoss`]:
//!    actual loss × insured amount ÷ full value (rounded down to the fen), never more than the
//!    actual loss (an over-insured item is not paid above its loss);
//! 6. otherwise → [`CompensationRule::UninsuredCapped`]: the actual loss, capped at N × postage.

use crate::command::CompensationRequest;
use crate::event::{Compensation, CompensationRule, Money, Remedy};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

/// What one ticket was granted so far, per remedy, in fen (folded from its `Compensated` and
/// final `Responded` events; the per-ticket ceiling counts from here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GrantedTotals {
    pub payment: i64,
    pub reshipment: i64,
    pub postage_refund: i64,
    pub postage_waiver: i64,
    pub coupon: i64,
    pub extended_service: i64,
    /// The item's ceiling the last counted grant was checked against (its rule and fen): a
    /// later counted grant that does not restate the item's facts is checked against it.
    #[serde(default)]
    pub item_ceiling: Option<(CompensationRule, i64)>,
}

impl GrantedTotals {
    fn slot(&mut self, remedy: Remedy) -> &mut i64 {
        match remedy {
            Remedy::Payment => &mut self.payment,
            Remedy::Reshipment => &mut self.reshipment,
            Remedy::PostageRefund => &mut self.postage_refund,
            Remedy::PostageWaiver => &mut self.postage_waiver,
            Remedy::Coupon => &mut self.coupon,
            Remedy::ExtendedService => &mut self.extended_service,
        }
    }

    /// Adds a grant.
    pub fn add(&mut self, remedy: Remedy, granted: Money) {
        let slot = self.slot(remedy);
        *slot = slot.saturating_add(granted.0);
    }

    /// Folds a recorded grant in: its amount, and the item's ceiling when one was computed.
    pub fn record(&mut self, c: &Compensation) {
        self.add(c.remedy, c.granted);
        if let (CompensationRule::NonMonetary, _) | (_, None) = (c.rule, c.ceiling) {
            return;
        }
        self.item_ceiling = c.ceiling.map(|m| (c.rule, m.0));
    }

    /// What was granted of one remedy.
    pub fn of(&self, remedy: Remedy) -> i64 {
        let mut copy = *self;
        *copy.slot(remedy)
    }

    /// What counts against the item's ceiling under this policy (`compensation.ceiling_counts`).
    pub fn counted(&self, policy: &Policy) -> i64 {
        policy
            .compensation
            .ceiling_counts
            .iter()
            .fold(0i64, |sum, r| sum.saturating_add(self.of(*r)))
    }
}

/// Why a compensation request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompensationError {
    /// The rule needs an input the request does not give.
    #[error("compensation rule {rule:?} needs `{field}`")]
    MissingInput {
        rule: CompensationRule,
        field: &'static str,
    },
    /// An amount is negative.
    #[error("compensation `{field}` is negative ({fen} fen)")]
    Negative { field: &'static str, fen: i64 },
    /// Partial loss with a full value of zero.
    #[error("compensation `full_value` must be positive for rule {rule:?}")]
    ZeroFullValue { rule: CompensationRule },
    /// The amount asked, added to what the ticket was already granted under the same ceiling,
    /// is above the ceiling of the rule.
    #[error("compensation of {granted} fen is above the ceiling of {ceiling} fen for the ticket under rule {rule:?} ({basis}): {already_granted} fen already granted, {} fen headroom left", (ceiling - already_granted).max(0))]
    AboveCeiling {
        rule: CompensationRule,
        granted: i64,
        ceiling: i64,
        /// Earlier grants of the ticket counted against this ceiling.
        already_granted: i64,
        basis: String,
    },
    /// Arithmetic overflow on absurd amounts.
    #[error("compensation amounts overflow")]
    Overflow,
}

fn need(rule: CompensationRule, field: &'static str, v: Option<Money>) -> Result<i64, CompensationError> {
    let m = v.ok_or(CompensationError::MissingInput { rule, field })?;
    if m.0 < 0 {
        return Err(CompensationError::Negative { field, fen: m.0 });
    }
    Ok(m.0)
}

fn times(multiple: u32, fen: i64) -> Result<i64, CompensationError> {
    fen.checked_mul(i64::from(multiple)).ok_or(CompensationError::Overflow)
}

/// The ceiling and rule for a request on a ticket granted nothing yet (see
/// [`compute_for_ticket`]).
///
/// ```
/// use plaint_domain::compensation::compute;
/// use plaint_domain::policy::Policy;
/// use plaint_domain::{CompensationRequest, CompensationRule, Money, Remedy};
/// let req = CompensationRequest {
///     remedy: Remedy::Payment, amount: Money(3_000), insured: false, insured_amount: None,
///     full_value: None, actual_loss: Some(Money(50_000)), postage: Some(Money(1_200)),
///     total_loss: true, registered_letter: false, gross_negligence: false,
/// };
/// let c = compute(&Policy::default(), &req).unwrap();
/// assert_eq!(c.rule, CompensationRule::UninsuredCapped);
/// assert_eq!(c.ceiling, Some(Money(3_600))); // 3 × postage
/// ```
pub fn compute(policy: &Policy, req: &CompensationRequest) -> Result<Compensation, CompensationError> {
    compute_for_ticket(policy, req, &GrantedTotals::default())
}

/// The item's ceiling under the monetary rules (gross negligence, registered letter, insured,
/// uninsured), from the request's facts.
fn item_ceiling(policy: &Policy, req: &CompensationRequest) -> Result<(CompensationRule, i64), CompensationError> {
    let cp = &policy.compensation;
    Ok(if req.gross_negligence {
        let r = CompensationRule::GrossNegligence;
        (r, need(r, "actual_loss", req.actual_loss)?)
    } else if req.registered_letter {
        let r = CompensationRule::RegisteredLetter;
        let postage = need(r, "postage", req.postage)?;
        (r, times(cp.registered_letter_postage_multiple, postage)?)
    } else if req.insured && req.total_loss {
        let r = CompensationRule::InsuredTotalLoss;
        (r, need(r, "insured_amount", req.insured_amount)?)
    } else if req.insured {
        let r = CompensationRule::InsuredPartialLoss;
        let loss = need(r, "actual_loss", req.actual_loss)?;
        let insured = need(r, "insured_amount", req.insured_amount)?;
        let full = need(r, "full_value", req.full_value)?;
        if full == 0 {
            return Err(CompensationError::ZeroFullValue { rule: r });
        }
        let prorata = i128::from(loss) * i128::from(insured) / i128::from(full);
        let prorata = i64::try_from(prorata).map_err(|_| CompensationError::Overflow)?;
        (r, prorata.min(loss))
    } else {
        let r = CompensationRule::UninsuredCapped;
        let loss = need(r, "actual_loss", req.actual_loss)?;
        let postage = need(r, "postage", req.postage)?;
        (r, loss.min(times(cp.uninsured_cap_postage_multiple, postage)?))
    })
}

/// The decision recorded in the event for a request on a ticket that was already granted
/// `before` (docs/domain.md §6: the ceiling bounds the sum per ticket).
///
/// A remedy the policy counts (`compensation.ceiling_counts`: always payments, by default
/// coupons) is checked against the item's ceiling together with every earlier counted grant;
/// a postage refund, all postage refunds together, against the postage. The recorded
/// `ceiling` is the ceiling of the sum the grant was checked against. A counted request that
/// does not give the item's facts is checked against the ceiling an earlier grant of the ticket
/// established (`before.item_ceiling`); with none, it is refused for the missing fact unless it
/// grants nothing (0 fen).
///
/// ```
/// use plaint_domain::compensation::{compute_for_ticket, CompensationError, GrantedTotals};
/// use plaint_domain::policy::Policy;
/// use plaint_domain::{CompensationRequest, Money, Remedy};
/// let policy = Policy::default();
/// let pay = |fen| CompensationRequest {
///     remedy: Remedy::Payment, amount: Money(fen), insured: true, insured_amount: Some(Money(50_000)),
///     full_value: None, actual_loss: None, postage: None,
///     total_loss: true, registered_letter: false, gross_negligence: false,
/// };
/// let mut before = GrantedTotals::default();
/// before.add(Remedy::Payment, Money(50_000)); // the insured amount was paid once
/// let err = compute_for_ticket(&policy, &pay(50_000), &before).unwrap_err();
/// assert!(matches!(err, CompensationError::AboveCeiling { ceiling: 50_000, already_granted: 50_000, .. }));
/// assert!(err.to_string().contains("0 fen headroom left"));
/// ```
pub fn compute_for_ticket(
    policy: &Policy,
    req: &CompensationRequest,
    before: &GrantedTotals,
) -> Result<Compensation, CompensationError> {
    let cp = &policy.compensation;
    if req.amount.0 < 0 {
        return Err(CompensationError::Negative {
            field: "amount",
            fen: req.amount.0,
        });
    }
    let basis_of = |rule: CompensationRule| match rule {
        CompensationRule::InsuredTotalLoss => &cp.legal_basis.insured_total_loss,
        CompensationRule::InsuredPartialLoss => &cp.legal_basis.insured_partial_loss,
        CompensationRule::UninsuredCapped => &cp.legal_basis.uninsured_capped,
        CompensationRule::RegisteredLetter => &cp.legal_basis.registered_letter,
        CompensationRule::GrossNegligence => &cp.legal_basis.gross_negligence,
        CompensationRule::NonMonetary => &cp.legal_basis.non_monetary,
    };
    let check = |rule: CompensationRule, ceiling: i64, already_granted: i64| {
        debug_assert!(ceiling >= 0);
        let total = already_granted
            .checked_add(req.amount.0)
            .ok_or(CompensationError::Overflow)?;
        if total > ceiling {
            return Err(CompensationError::AboveCeiling {
                rule,
                granted: req.amount.0,
                ceiling,
                already_granted,
                basis: basis_of(rule).clone(),
            });
        }
        Ok(())
    };
    // Postage refunds, all together, never above the postage.
    let postage_cap = if req.remedy == Remedy::PostageRefund {
        let r = CompensationRule::NonMonetary;
        let postage = need(r, "postage", req.postage)?;
        check(r, postage, before.postage_refund)?;
        Some(postage)
    } else {
        None
    };
    let (rule, ceiling) = if cp.ceiling_counts.contains(&req.remedy) {
        // The item's facts in the request give the ceiling; without them, the ceiling an
        // earlier grant of the ticket established; without either, only a grant of nothing
        // (0 fen) can be recorded, with no ceiling.
        match item_ceiling(policy, req) {
            Ok((rule, ceiling)) => {
                check(rule, ceiling, before.counted(policy))?;
                (rule, Some(ceiling))
            }
            Err(CompensationError::MissingInput { .. }) if before.item_ceiling.is_some() => {
                let (rule, ceiling) = before.item_ceiling.expect("checked above");
                check(rule, ceiling, before.counted(policy))?;
                (rule, Some(ceiling))
            }
            Err(CompensationError::MissingInput { .. }) if req.amount.0 == 0 => (CompensationRule::NonMonetary, None),
            Err(e) => return Err(e),
        }
    } else {
        (CompensationRule::NonMonetary, postage_cap)
    };
    Ok(Compensation {
        remedy: req.remedy,
        rule,
        legal_basis: basis_of(rule).clone(),
        ceiling: ceiling.map(Money),
        granted: req.amount,
        actual_loss: req.actual_loss,
        postage: req.postage,
        insured_amount: req.insured_amount,
        full_value: req.full_value,
        policy_version: policy.version.clone(),
    })
}

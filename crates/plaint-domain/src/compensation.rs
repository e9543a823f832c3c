//! Compensation ceilings (DOMAIN.md §6; 000 §六, 001 §三, Postal Law art. 47, Express Delivery
//! Interim Regulations art. 27). Integer fen throughout; a grant above the ceiling is an error.
//!
//! Which rule applies, in this order:
//! 1. a non-monetary remedy → [`CompensationRule::NonMonetary`] (a postage refund is capped at
//!    the postage, other non-monetary remedies have no ceiling);
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
    /// The amount asked is above the ceiling of the rule.
    #[error("compensation of {granted} fen is above the ceiling of {ceiling} fen under rule {rule:?} ({basis})")]
    AboveCeiling {
        rule: CompensationRule,
        granted: i64,
        ceiling: i64,
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

/// The ceiling and rule for a request, and the decision recorded in the event.
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
    let cp = &policy.compensation;
    if req.amount.0 < 0 {
        return Err(CompensationError::Negative {
            field: "amount",
            fen: req.amount.0,
        });
    }
    let (rule, ceiling): (CompensationRule, Option<i64>) = match req.remedy {
        Remedy::PostageRefund => {
            let r = CompensationRule::NonMonetary;
            (r, Some(need(r, "postage", req.postage)?))
        }
        Remedy::Reshipment | Remedy::PostageWaiver | Remedy::Coupon | Remedy::ExtendedService => {
            (CompensationRule::NonMonetary, None)
        }
        Remedy::Payment => {
            if req.gross_negligence {
                let r = CompensationRule::GrossNegligence;
                (r, Some(need(r, "actual_loss", req.actual_loss)?))
            } else if req.registered_letter {
                let r = CompensationRule::RegisteredLetter;
                let postage = need(r, "postage", req.postage)?;
                (r, Some(times(cp.registered_letter_postage_multiple, postage)?))
            } else if req.insured && req.total_loss {
                let r = CompensationRule::InsuredTotalLoss;
                (r, Some(need(r, "insured_amount", req.insured_amount)?))
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
                (r, Some(prorata.min(loss)))
            } else {
                let r = CompensationRule::UninsuredCapped;
                let loss = need(r, "actual_loss", req.actual_loss)?;
                let postage = need(r, "postage", req.postage)?;
                (r, Some(loss.min(times(cp.uninsured_cap_postage_multiple, postage)?)))
            }
        }
    };
    let basis = match rule {
        CompensationRule::InsuredTotalLoss => &cp.legal_basis.insured_total_loss,
        CompensationRule::InsuredPartialLoss => &cp.legal_basis.insured_partial_loss,
        CompensationRule::UninsuredCapped => &cp.legal_basis.uninsured_capped,
        CompensationRule::RegisteredLetter => &cp.legal_basis.registered_letter,
        CompensationRule::GrossNegligence => &cp.legal_basis.gross_negligence,
        CompensationRule::NonMonetary => &cp.legal_basis.non_monetary,
    };
    if let Some(ceiling) = ceiling {
        debug_assert!(ceiling >= 0);
        if req.amount.0 > ceiling {
            return Err(CompensationError::AboveCeiling {
                rule,
                granted: req.amount.0,
                ceiling,
                basis: basis.clone(),
            });
        }
    }
    Ok(Compensation {
        remedy: req.remedy,
        rule,
        legal_basis: basis.clone(),
        ceiling: ceiling.map(Money),
        granted: req.amount,
        actual_loss: req.actual_loss,
        postage: req.postage,
        insured_amount: req.insured_amount,
        full_value: req.full_value,
        policy_version: policy.version.clone(),
    })
}

//! Repeat and duplicate complaints (DOMAIN.md §8) as pure functions a projection calls.
//!
//! * **Same customer**: equal matching keys (the hash of the normalised phone, see
//!   `personal::match_key`) or equal customer ids.
//! * **Duplicate**: same customer, same waybill, and the earlier complaint is still open → merge
//!   (DOMAIN.md §2), whatever its age.
//! * **Repeat**: same customer and the same waybill or the same category, received within the
//!   window (policy `repeat.window`, default 30 days) before the new one.
//! * Otherwise **new**.
//!
//! When several earlier complaints qualify, the most recent one is named (the chain can be
//! followed from there).

use crate::event::Category;
use crate::ids::ComplaintId;
use crate::policy::Policy;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a projection knows of an earlier complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorComplaint {
    /// The earlier ticket.
    pub id: ComplaintId,
    /// Matching key of the customer (hash of the normalised phone, `personal::match_key`).
    pub match_key: Option<String>,
    /// The back office's customer id.
    pub customer_id: Option<String>,
    /// Waybill number concerned.
    pub waybill: Option<String>,
    /// Category, once classified.
    pub category: Option<Category>,
    /// When it was received.
    pub received_at: Timestamp,
    /// Not closed yet.
    pub open: bool,
}

/// The complaint being judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Matching key of the customer (`personal::match_key`).
    pub match_key: Option<String>,
    /// The back office's customer id.
    pub customer_id: Option<String>,
    /// Waybill number concerned.
    pub waybill: Option<String>,
    /// Often unknown at verification time; then only the waybill can match.
    pub category: Option<Category>,
    /// When it was received.
    pub received_at: Timestamp,
}

impl Candidate {
    /// A candidate from intake data in clear: the matching key is computed from the phone
    /// (normalised, DOMAIN.md §3) or, without one, from the customer id
    /// (`personal::match_key`), the waybill is normalised.
    ///
    /// ```
    /// use plaint_domain::repeat::Candidate;
    /// use plaint_domain::Timestamp;
    /// let s = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);
    /// let a = Candidate::from_intake(&s, None, Some("+86 138-0013-8000"), Some("sf 100"), None, Timestamp::EPOCH);
    /// let b = Candidate::from_intake(&s, None, Some("13800138000"), Some("SF100"), None, Timestamp::EPOCH);
    /// assert_eq!(a, b);
    /// ```
    pub fn from_intake(
        match_secret: &crate::personal::MatchSecret,
        customer_id: Option<&str>,
        phone: Option<&str>,
        waybill: Option<&str>,
        category: Option<Category>,
        received_at: Timestamp,
    ) -> Candidate {
        Candidate {
            match_key: crate::personal::match_key(match_secret, customer_id, phone),
            customer_id: customer_id.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            waybill: waybill.map(normalise_waybill).filter(|w| !w.is_empty()),
            category,
            received_at,
        }
    }
}

/// The judgement on a new complaint (DOMAIN.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum RepeatVerdict {
    /// Neither duplicate nor repeat.
    New,
    /// Same customer and waybill as an open ticket `of`: merge it (DOMAIN.md §2).
    Duplicate { of: ComplaintId },
    /// Repeats ticket `of` within the window: raise the `repeat` flag.
    Repeat { of: ComplaintId },
}

/// Waybill numbers compare without spaces, dashes and case.
pub fn normalise_waybill(w: &str) -> String {
    w.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x == y)
}

/// Same customer: equal match keys or equal (non-blank) customer ids.
pub fn same_customer(c: &Candidate, p: &PriorComplaint) -> bool {
    let ids = match (&c.customer_id, &p.customer_id) {
        (Some(a), Some(b)) => !a.trim().is_empty() && a.trim() == b.trim(),
        _ => false,
    };
    same(&c.match_key, &p.match_key) || ids
}

fn same_waybill(c: &Candidate, p: &PriorComplaint) -> bool {
    match (&c.waybill, &p.waybill) {
        (Some(a), Some(b)) => {
            let a = normalise_waybill(a);
            !a.is_empty() && a == normalise_waybill(b)
        }
        _ => false,
    }
}

/// Judges a new complaint against earlier ones with an explicit window in milliseconds.
pub fn judge_within(candidate: &Candidate, priors: &[PriorComplaint], window_ms: i64) -> RepeatVerdict {
    let latest = |it: &mut dyn Iterator<Item = &PriorComplaint>| -> Option<ComplaintId> {
        it.max_by(|a, b| a.received_at.cmp(&b.received_at).then_with(|| a.id.cmp(&b.id)))
            .map(|p| p.id.clone())
    };
    let mine = || {
        priors
            .iter()
            .filter(|p| p.received_at <= candidate.received_at && same_customer(candidate, p))
    };
    if let Some(of) = latest(&mut mine().filter(|p| p.open && same_waybill(candidate, p))) {
        return RepeatVerdict::Duplicate { of };
    }
    let in_window = |p: &&PriorComplaint| candidate.received_at.millis_since(p.received_at) <= window_ms;
    let related = |p: &&PriorComplaint| same_waybill(candidate, p) || same(&candidate.category, &p.category);
    match latest(&mut mine().filter(in_window).filter(related)) {
        Some(of) => RepeatVerdict::Repeat { of },
        None => RepeatVerdict::New,
    }
}

/// Judges a new complaint against earlier ones with the policy's repeat window.
pub fn judge(candidate: &Candidate, priors: &[PriorComplaint], policy: &Policy) -> RepeatVerdict {
    judge_within(candidate, priors, policy.repeat.window_ms())
}

//! Repeat and duplicate complaints (docs/domain.md §8): the one rule, the port it reads earlier
//! complaints through, and the facts the log records of its verdicts.
//!
//! * **Same customer** ([`CustomerRef::same_as`]): equal matching keys (the hash of the
//!   normalised phone, see `personal::match_key`) or equal customer ids.
//! * **Earlier**: received before the new one (at the same instant, the smaller complaint id is
//!   the earlier one), never the complaint itself.
//! * **Duplicate**: same customer, same waybill, and the earlier complaint is still open →
//!   flagged (`Verified.duplicate_of`) so it can be merged (docs/domain.md §2), whatever its age.
//! * **Repeat**: same customer and the same waybill or the same category, received within the
//!   window (policy `repeat.window`, default 30 days) before the new one. The other parcel or the
//!   other channel does not matter.
//! * Otherwise **new**.
//!
//! When several earlier complaints qualify, the most recent one is named (the chain can be
//! followed from there).
//!
//! ## When the rule runs, and where its verdict is recorded
//!
//! `state::decide_with` judges twice, through a [`PriorComplaints`] port that the caller (the
//! engine, the cqrs-es adapter) implements over its own index of complaints:
//!
//! 1. at verification (the history check of 三核), before the category is known: a duplicate
//!    is recorded as `Verified.duplicate_of`, a repeat (same waybill) as `Verified.repeat_of`;
//! 2. at classification, once the category is known, when no link was recorded yet: a repeat
//!    (same category, on any waybill) is recorded as `Classified.repeat_of`, and the `repeat`
//!    flag opens the green channel before the deadlines are computed.
//!
//! Views never judge again: they fold the recorded links ([`recorded_links`]) and keep what
//! the rule needs to know of each complaint with [`PriorComplaint::fold`].

use crate::event::{Category, Event, EventData};
use crate::ids::ComplaintId;
use crate::policy::Policy;
use crate::state::ComplaintState;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Who the customer is, as far as matching goes: the pseudonymous matching key recorded at
/// intake (`CustomerRecord.match_key`) and the back office's customer id. Indexes key their
/// lookups on [`CustomerRef::keys`]; how a matching key is computed is `personal`'s business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CustomerRef {
    /// Matching key of the customer (`personal::match_key`).
    pub match_key: Option<String>,
    /// The back office's customer id (blank ids are treated as absent).
    pub customer_id: Option<String>,
}

impl CustomerRef {
    /// A customer from the recorded matching key and customer id (blank values dropped).
    pub fn new(match_key: Option<&str>, customer_id: Option<&str>) -> CustomerRef {
        let keep = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        CustomerRef {
            match_key: keep(match_key),
            customer_id: keep(customer_id),
        }
    }

    /// Whether anything identifies the customer (an anonymous complaint matches nobody).
    pub fn is_known(&self) -> bool {
        self.match_key.is_some() || self.customer_id.is_some()
    }

    /// Same customer: equal matching keys or equal customer ids.
    pub fn same_as(&self, other: &CustomerRef) -> bool {
        let eq = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x == y);
        eq(&self.match_key, &other.match_key) || eq(&self.customer_id, &other.customer_id)
    }

    /// The values an index looks this customer up by (matching key first).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        [self.match_key.as_deref(), self.customer_id.as_deref()]
            .into_iter()
            .flatten()
    }
}

/// What the rule needs to know of an earlier complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorComplaint {
    /// The earlier ticket.
    pub id: ComplaintId,
    pub customer: CustomerRef,
    /// Waybill number concerned (normalised).
    pub waybill: Option<String>,
    /// Category, once classified.
    pub category: Option<Category>,
    /// When it was received.
    pub received_at: Timestamp,
    /// Not closed, rejected or merged.
    pub open: bool,
}

impl PriorComplaint {
    /// Folds one event of a complaint into what the rule needs to know of it (`None` until its
    /// `Received`). Every index of complaints (the repeat projection, the cqrs-es adapter's)
    /// folds through this one function.
    pub fn fold(prior: &mut Option<PriorComplaint>, event: &Event) {
        match (&event.data, prior.as_mut()) {
            (EventData::Received(r), None) => {
                *prior = Some(PriorComplaint {
                    id: event.meta.complaint_id.clone(),
                    customer: CustomerRef::new(r.customer.match_key.as_deref(), r.customer.customer_id.as_deref()),
                    waybill: r.waybill.as_deref().map(normalise_waybill).filter(|w| !w.is_empty()),
                    category: None,
                    received_at: event.meta.occurred_at,
                    open: true,
                });
            }
            (EventData::Classified(c), Some(p)) => p.category = Some(c.category),
            (EventData::Rejected(_) | EventData::Closed(_) | EventData::MergedAsDuplicate(_), Some(p)) => {
                p.open = false
            }
            _ => {}
        }
    }
}

/// The complaint being judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: ComplaintId,
    pub customer: CustomerRef,
    /// Waybill number concerned.
    pub waybill: Option<String>,
    /// Unknown at verification; then only the waybill can match.
    pub category: Option<Category>,
    /// When it was received.
    pub received_at: Timestamp,
}

impl Candidate {
    /// A candidate from intake data in clear: the matching key is computed from the phone
    /// (normalised, docs/domain.md §3) or, without one, from the customer id
    /// (`personal::match_key`), the waybill is normalised.
    ///
    /// ```
    /// use plaint_domain::repeat::Candidate;
    /// use plaint_domain::{ComplaintId, Timestamp};
    /// let s = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);
    /// let id = ComplaintId::new("CMP-1").unwrap();
    /// let a = Candidate::from_intake(&s, id.clone(), None, Some("+86 138-0013-8000"), Some("sf 100"), None, Timestamp::EPOCH);
    /// let b = Candidate::from_intake(&s, id, None, Some("13800138000"), Some("SF100"), None, Timestamp::EPOCH);
    /// assert_eq!(a, b);
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn from_intake(
        match_secret: &crate::personal::MatchSecret,
        id: ComplaintId,
        customer_id: Option<&str>,
        phone: Option<&str>,
        waybill: Option<&str>,
        category: Option<Category>,
        received_at: Timestamp,
    ) -> Candidate {
        let key = crate::personal::match_key(match_secret, customer_id, phone);
        Candidate {
            id,
            customer: CustomerRef::new(key.as_deref(), customer_id),
            waybill: waybill.map(normalise_waybill).filter(|w| !w.is_empty()),
            category,
            received_at,
        }
    }

    /// The candidate a complaint's state describes (`None` before it was received), with the
    /// category it has or is being given.
    pub fn from_state(state: &ComplaintState, category: Option<Category>) -> Option<Candidate> {
        Some(Candidate {
            id: state.id.clone()?,
            customer: CustomerRef::new(state.match_key.as_deref(), state.customer_id.as_deref()),
            waybill: state.waybill.clone(),
            category,
            received_at: state.received_at?,
        })
    }
}

/// The port through which the rule reads earlier complaints. The engine implements it over
/// its repeat projection, the cqrs-es adapter over a query it feeds; a slice of
/// [`PriorComplaint`]s implements it too.
pub trait PriorComplaints {
    /// The complaints this index knows of `customer`, in any order. It may return more (other
    /// customers, later complaints, the candidate itself): the rule filters.
    fn of_customer(&self, customer: &CustomerRef) -> Vec<PriorComplaint>;
}

impl PriorComplaints for [PriorComplaint] {
    fn of_customer(&self, customer: &CustomerRef) -> Vec<PriorComplaint> {
        self.iter().filter(|p| p.customer.same_as(customer)).cloned().collect()
    }
}

impl PriorComplaints for Vec<PriorComplaint> {
    fn of_customer(&self, customer: &CustomerRef) -> Vec<PriorComplaint> {
        self.as_slice().of_customer(customer)
    }
}

/// No index: every complaint is judged new (what `state::decide` uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPriors;

impl PriorComplaints for NoPriors {
    fn of_customer(&self, _: &CustomerRef) -> Vec<PriorComplaint> {
        Vec::new()
    }
}

/// The judgement on a new complaint (docs/domain.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum RepeatVerdict {
    /// Neither duplicate nor repeat.
    New,
    /// Same customer and waybill as an open ticket `of`: merge it (docs/domain.md §2).
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

fn same_waybill(c: &Candidate, p: &PriorComplaint) -> bool {
    match (&c.waybill, &p.waybill) {
        (Some(a), Some(b)) => {
            let a = normalise_waybill(a);
            !a.is_empty() && a == normalise_waybill(b)
        }
        _ => false,
    }
}

fn earlier(c: &Candidate, p: &PriorComplaint) -> bool {
    p.id != c.id && (p.received_at, &p.id) < (c.received_at, &c.id)
}

/// Judges a new complaint against earlier ones with an explicit window in milliseconds.
pub fn judge_within(candidate: &Candidate, priors: &[PriorComplaint], window_ms: i64) -> RepeatVerdict {
    if !candidate.customer.is_known() {
        return RepeatVerdict::New;
    }
    let latest = |it: &mut dyn Iterator<Item = &PriorComplaint>| -> Option<ComplaintId> {
        it.max_by(|a, b| a.received_at.cmp(&b.received_at).then_with(|| a.id.cmp(&b.id)))
            .map(|p| p.id.clone())
    };
    let mine = || {
        priors
            .iter()
            .filter(|p| earlier(candidate, p) && candidate.customer.same_as(&p.customer))
    };
    if let Some(of) = latest(&mut mine().filter(|p| p.open && same_waybill(candidate, p))) {
        return RepeatVerdict::Duplicate { of };
    }
    let in_window = |p: &&PriorComplaint| candidate.received_at.millis_since(p.received_at) <= window_ms;
    let related = |p: &&PriorComplaint| {
        same_waybill(candidate, p) || matches!((candidate.category, p.category), (Some(a), Some(b)) if a == b)
    };
    match latest(&mut mine().filter(in_window).filter(related)) {
        Some(of) => RepeatVerdict::Repeat { of },
        None => RepeatVerdict::New,
    }
}

/// Judges a new complaint against earlier ones with the policy's repeat window.
pub fn judge(candidate: &Candidate, priors: &[PriorComplaint], policy: &Policy) -> RepeatVerdict {
    judge_within(candidate, priors, policy.repeat.window_ms())
}

/// Judges a new complaint against the earlier complaints a port knows of its customer.
pub fn judge_with(candidate: &Candidate, priors: &dyn PriorComplaints, policy: &Policy) -> RepeatVerdict {
    if !candidate.customer.is_known() {
        return RepeatVerdict::New;
    }
    judge(candidate, &priors.of_customer(&candidate.customer), policy)
}

/// The repeat and duplicate links an event records (docs/domain.md §8): `(repeat_of, duplicate_of)`.
/// `Verified` may carry either, `Classified` a repeat found once the category was known. This
/// is what views fold; they never judge again.
pub fn recorded_links(data: &EventData) -> (Option<&ComplaintId>, Option<&ComplaintId>) {
    match data {
        EventData::Verified(v) => (v.repeat_of.as_ref(), v.duplicate_of.as_ref()),
        EventData::Classified(c) => (c.repeat_of.as_ref(), None),
        _ => (None, None),
    }
}

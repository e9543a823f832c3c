//! The closed loop, first-contact ownership and supervision (issue 17; docs/domain.md R-LOOP,
//! R-OWN, R-SUP): the per-event facts [`crate::state::evolve`] and every projection fold the
//! same way, so no view re-decides them.
//!
//! - [`RevisitTally`]: every revisit of a ticket counted (first and latest both kept), so the
//!   satisfaction figures count each revisit, not only the last (002: 回访 确认是否解决、是否满意).
//! - [`owner_after`]: 首问负责制 (004: 客服部门首问负责; 002: 第一责任人): the first person who acts on
//!   a ticket owns it until it is closed; only an `OwnershipTransferred` moves it.

use crate::event::{EventData, Revisited};
use crate::ids::Actor;
use serde::{Deserialize, Serialize};

/// The outcome of one revisit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisitOutcome {
    pub solved: bool,
    pub satisfied: bool,
    pub score: Option<u8>,
}

impl From<&Revisited> for RevisitOutcome {
    fn from(r: &Revisited) -> Self {
        RevisitOutcome {
            solved: r.solved,
            satisfied: r.satisfied,
            score: r.satisfaction_score,
        }
    }
}

/// Every revisit of one ticket, counted (docs/domain.md R-LOOP-4). 20 bytes: counters are
/// `u16` (a ticket has at most `REOPEN_COUNT_MAX` + 1 revisits; they saturate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RevisitTally {
    /// Revisits made.
    pub count: u16,
    /// Of those, the customer was satisfied.
    pub satisfied: u16,
    /// Of those, the problem was solved.
    pub solved: u16,
    /// Of those, unsolved or unsatisfied: each reopened the ticket (R-LIFE-8).
    pub unsatisfied: u16,
    /// Of those, a 1–5 score was given; `score_sum` is their sum.
    pub scored: u16,
    pub score_sum: u16,
    /// The first revisit's outcome.
    pub first: Option<RevisitOutcome>,
    /// The latest revisit's outcome.
    pub latest: Option<RevisitOutcome>,
}

impl RevisitTally {
    /// Counts one revisit.
    pub fn record(&mut self, r: &Revisited) {
        let o = RevisitOutcome::from(r);
        self.count = self.count.saturating_add(1);
        self.satisfied = self.satisfied.saturating_add(u16::from(r.satisfied));
        self.solved = self.solved.saturating_add(u16::from(r.solved));
        self.unsatisfied = self.unsatisfied.saturating_add(u16::from(!(r.solved && r.satisfied)));
        if let Some(score) = r.satisfaction_score {
            self.scored = self.scored.saturating_add(1);
            self.score_sum = self.score_sum.saturating_add(u16::from(score));
        }
        if self.first.is_none() {
            self.first = Some(o);
        }
        self.latest = Some(o);
    }
}

/// The owner of a ticket after one event, when it changes (docs/domain.md R-OWN): an
/// `OwnershipTransferred` names the new owner; otherwise a ticket with no owner yet is owned by
/// the first person (not `system`) who acts on it. `has_owner`: whether the ticket has one
/// before the event. `None`: the owner stays as it is.
pub fn owner_after(has_owner: bool, actor: &Actor, data: &EventData) -> Option<String> {
    match data {
        EventData::OwnershipTransferred(t) => Some(t.to.clone()),
        EventData::CustomerErased(_) => None,
        _ => match actor {
            Actor::Person(p) if !has_owner => Some(p.clone()),
            _ => None,
        },
    }
}

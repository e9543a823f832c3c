//! What one event does to a ticket, decided once (issue 11, "one truth").
//!
//! [`Lifecycle`] is the compact part of a complaint's state that every view needs (status, the
//! status a hold returns to, reopen count, escalation level, compensation total), and
//! [`Lifecycle::apply`] folds one event into it, returning the [`Step`]: the view-relevant facts
//! of that event (status before and after, hold started or ended, deadlines recorded and whether
//! they replace the earlier ones, compensation granted, reopened, escalated). [`crate::state::evolve`]
//! folds its status, hold, reopen, escalation and compensation fields through it, and every
//! projection keeps a `Lifecycle` per ticket and folds the same steps: no view re-decides a
//! transition, so none can disagree with `evolve`.
//!
//! Pure and allocation-free: a step borrows from the event.

use crate::event::*;
use crate::state::Status;
use serde::{Deserialize, Serialize};

/// The compact lifecycle position of one ticket (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Where the ticket is (docs/domain.md §2).
    pub status: Status,
    /// While on hold: the status `Resumed` returns to.
    pub resume_to: Option<Status>,
    /// Highest escalation level reached.
    pub escalation_level: Option<EscalationLevel>,
    /// Reopens so far.
    pub reopen_count: u32,
    /// Sum of the compensation granted (final responses and `Compensated`).
    pub compensated: Money,
}

/// What an event did to the hold of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldChange {
    /// Nothing.
    None,
    /// A hold started (a hold while already on hold keeps the first: `None` then).
    Started { reason: HoldReason, resume_to: Status },
    /// `Resumed` ended the hold; the ticket went back to `resume_to`.
    Resumed { resume_to: Status },
    /// The ticket was closed while on hold (imported history): the hold ends at the closing,
    /// its time is not counted as a completed hold.
    EndedByClose,
}

/// The view-relevant facts of one event, as the domain decides them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<'a> {
    pub before: Status,
    pub after: Status,
    pub hold: HoldChange,
    /// The deadlines this event records (classification, dispatch, final response).
    pub deadlines: &'a [ClockDeadline],
    /// The recorded deadlines replace every earlier one (a classification) instead of adding.
    pub deadlines_replace: bool,
    /// Compensation granted by this event.
    pub compensation: Option<&'a Compensation>,
    /// The reopen count after a `Reopened` (`None` for other events).
    pub reopened: Option<u32>,
    /// The level of an `Escalated`.
    pub escalated: Option<EscalationLevel>,
    /// A final response was given (it stands until a reopen).
    pub final_response: bool,
}

impl Lifecycle {
    /// A ticket with no event yet.
    pub const NEW: Lifecycle = Lifecycle {
        status: Status::New,
        resume_to: None,
        escalation_level: None,
        reopen_count: 0,
        compensated: Money(0),
    };

    /// Folds one event's data in and says what it did. Never refuses: events are facts.
    pub fn apply<'a>(&mut self, data: &'a EventData) -> Step<'a> {
        let before = self.status;
        let mut step = Step {
            before,
            after: before,
            hold: HoldChange::None,
            deadlines: &[],
            deadlines_replace: false,
            compensation: None,
            reopened: None,
            escalated: None,
            final_response: false,
        };
        match data {
            EventData::Received(_) => self.status = Status::Received,
            EventData::Verified(_) => self.status = Status::Verified,
            EventData::Rejected(_) => self.status = Status::Rejected,
            EventData::MergedAsDuplicate(_) => self.status = Status::Merged,
            EventData::Classified(c) => {
                self.status = Status::Classified;
                step.deadlines = &c.deadlines;
                step.deadlines_replace = true;
            }
            EventData::Dispatched(d) => {
                self.status = Status::Dispatched;
                step.deadlines = &d.deadlines;
            }
            EventData::Redispatched(_)
            | EventData::CustomerErased(_)
            | EventData::RevisitAttempted(_)
            | EventData::OwnershipTransferred(_)
            | EventData::SeverityOverridden(_)
            | EventData::CompensationProposed(_)
            | EventData::CompensationPaid(_)
            | EventData::CompensationRefused(_)
            | EventData::IncidentOpened(_)
            | EventData::IncidentLinked(_)
            | EventData::IncidentProgressReported(_)
            | EventData::ImprovementRecorded(_)
            | EventData::DisputeEscalated(_) => {}
            // 督办: its deadline is a clock (docs/domain.md R-SUP).
            EventData::SupervisionOpened(o) => step.deadlines = std::slice::from_ref(&o.deadline),
            // docs/domain.md R-COMP-6: an approved compensation is granted (the total views show).
            EventData::CompensationApproved(a) => {
                self.compensated = Money(self.compensated.0.saturating_add(a.amount.0));
            }
            // Access control (tokens, reveals): not about a ticket.
            EventData::TokenIssued(_) | EventData::TokenRevoked(_) | EventData::PersonalDataRevealed(_) => {}
            EventData::OnHold(h) => {
                if self.resume_to.is_none() {
                    self.resume_to = Some(before);
                    step.hold = HoldChange::Started {
                        reason: h.reason,
                        resume_to: before,
                    };
                }
                self.status = Status::OnHold;
            }
            EventData::Resumed(_) => {
                if let Some(to) = self.resume_to.take() {
                    self.status = to;
                    step.hold = HoldChange::Resumed { resume_to: to };
                }
            }
            EventData::Responded(r) => {
                step.deadlines = &r.deadlines;
                step.compensation = r.compensation.as_ref();
                if r.kind == ResponseKind::Final {
                    self.status = Status::Responded;
                    step.final_response = true;
                }
            }
            EventData::Compensated(c) => step.compensation = Some(&c.compensation),
            EventData::Escalated(e) => {
                self.escalation_level = self.escalation_level.max(Some(e.level));
                step.escalated = Some(e.level);
            }
            EventData::Revisited(_) => self.status = Status::Revisited,
            EventData::Reopened(r) => {
                self.status = Status::Dispatched;
                self.reopen_count = r.reopen_count.max(self.reopen_count.saturating_add(1));
                step.reopened = Some(self.reopen_count);
            }
            EventData::Closed(_) => {
                self.status = Status::Closed;
                if self.resume_to.take().is_some() {
                    step.hold = HoldChange::EndedByClose;
                }
            }
        }
        if let Some(c) = step.compensation {
            self.compensated = Money(self.compensated.0.saturating_add(c.granted.0));
        }
        step.after = self.status;
        step
    }

    /// Folds a complaint's events, in stream order.
    pub fn of(events: &[Event]) -> Lifecycle {
        let mut l = Lifecycle::NEW;
        for e in events {
            l.apply(&e.data);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_stays_compact() {
        assert!(
            std::mem::size_of::<Lifecycle>() <= 16,
            "{}",
            std::mem::size_of::<Lifecycle>()
        );
    }

    #[test]
    fn resumed_ticket_keeps_status_before_hold() {
        let mut l = Lifecycle {
            status: Status::Verified,
            ..Lifecycle::NEW
        };
        let hold = EventData::OnHold(OnHold {
            reason: HoldReason::AwaitingEvidence,
            note: String::new(),
        });
        let step = l.apply(&hold);
        assert_eq!(
            step.hold,
            HoldChange::Started {
                reason: HoldReason::AwaitingEvidence,
                resume_to: Status::Verified
            }
        );
        let resume = EventData::Resumed(Resumed { note: String::new() });
        let step = l.apply(&resume);
        assert_eq!(step.after, Status::Verified);
        assert_eq!(l.status, Status::Verified);
        assert_eq!(l.resume_to, None);
    }
}

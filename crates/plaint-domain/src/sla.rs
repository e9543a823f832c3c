//! SLA evaluation (DOMAIN.md §7) as a pure function of a ticket's history and `now`.
//!
//! **Audit rule**: only the deadlines *recorded* in the history count (in `Classified`,
//! `Dispatched` and the final `Responded`), never the current policy's numbers, so a later policy
//! change never changes a past verdict and a replay always gives the same figures. The policy is
//! used only for the at-risk share and the appeal windows, which are warnings, not verdicts.
//! Events with `occurred_at` after `now` are ignored: the evaluation is "as of `now`".
//!
//! # Which event satisfies which clock
//!
//! | clock | started by (allowance measured from) | satisfied by |
//! |---|---|---|
//! | registration | the customer's contact (`Received.contact_at`) | `Received` itself (its `occurred_at`) |
//! | first_response | receipt | the first `Responded` of any kind |
//! | resolution | receipt | the first `Responded { kind: final }` |
//! | preliminary_plan | receipt | the first `Responded` of kind `preliminary_plan` or `final` |
//! | progress_update | recurring, see below | `Responded { kind: progress }` |
//! | investigation | `Dispatched` | the first `Responded` (any kind), `Redispatched` or `OnHold` after dispatch: the department has looked at it |
//! | preliminary_solution | `Dispatched` | the first `Responded` of kind `preliminary_plan` or `final` after dispatch |
//! | green_channel | receipt | the first `Escalated` by a person to `supervisor` or above (the watchdog's own escalation does not count: it is the consequence of the breach) |
//! | revisit | the latest final `Responded` | a `Revisited` after that final response |
//! | regulatory_result, regulator_reply | receipt | the first `Responded { kind: final }` |
//!
//! The latest recording of a clock's deadline is what counts (a reclassification records new
//! deadlines; a reopened ticket's new final response records a new revisit deadline).
//!
//! **Verdicts**: satisfied at or before the effective due time → `met` (with the margin); after
//! it → `breached` (with how late). Not satisfied: due later than `now` → `pending`; past due →
//! `pending_overdue`; the ticket was closed → `breached` at the closing time if that was past
//! due, else `not_applicable` (the clock became moot). No recorded deadline → `not_applicable`.
//!
//! **Pauses**: a pausable clock's effective due time is the recorded one plus the time the
//! ticket spent on hold between the clock's start and the moment it was satisfied (or `now`).
//! The first-response clock is never pausable (the policy refuses it).
//!
//! **Progress updates** (major tickets): the recorded deadline is the first update's due time;
//! the interval is that time minus the preliminary-plan deadline (both recorded, so the series
//! needs no policy). Each update on time or late moves the next due time to the update plus the
//! interval; the series ends with the first final response or the closing. The verdict is
//! `breached` at the first late (or missed) update, else `met` with the smallest margin once the
//! series has ended, else `pending` / `pending_overdue` for the current due time. Progress
//! updates are not paused.
//!
//! **At risk**: a pending clock whose used share of its allowance (elapsed since start, minus
//! pauses, divided by due − start) is at least the policy's `warnings.at_risk_share`.

use crate::event::{
    Clock, ClockDeadline, EscalationDue, EscalationLevel, EscalationTrigger, Event, EventData, ResponseKind,
};
use crate::ids::ComplaintId;
use crate::policy::Policy;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every clock, in report order.
pub const ALL_CLOCKS: [Clock; 11] = [
    Clock::Registration,
    Clock::FirstResponse,
    Clock::Resolution,
    Clock::PreliminaryPlan,
    Clock::ProgressUpdate,
    Clock::Investigation,
    Clock::PreliminarySolution,
    Clock::GreenChannel,
    Clock::Revisit,
    Clock::RegulatoryResult,
    Clock::RegulatorReply,
];

/// Upper bound on the progress-update cycles walked for one ticket (a year of hourly updates).
pub const PROGRESS_CYCLES_MAX: usize = 10_000;

/// The verdict of one clock (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Satisfied at `at`, `margin_ms` before the effective due time.
    Met { at: Timestamp, margin_ms: i64 },
    /// Satisfied (or the ticket closed) at `at`, `late_ms` after the effective due time.
    Breached { at: Timestamp, late_ms: i64 },
    /// Not yet satisfied, due later than now.
    Pending,
    /// Not satisfied and past due by `overdue_ms`.
    PendingOverdue { overdue_ms: i64 },
    /// The clock does not run for this ticket (no recorded deadline) or became moot.
    NotApplicable,
}

impl Verdict {
    /// The snake_case name used in JSON and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Met { .. } => "met",
            Verdict::Breached { .. } => "breached",
            Verdict::Pending => "pending",
            Verdict::PendingOverdue { .. } => "pending_overdue",
            Verdict::NotApplicable => "not_applicable",
        }
    }
}

/// One clock of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSla {
    /// The clock.
    pub clock: Clock,
    /// Its verdict at `now`.
    pub verdict: Verdict,
    /// When the allowance started (contact, receipt, dispatch, final response).
    pub started_at: Option<Timestamp>,
    /// The deadline as recorded in the history.
    pub recorded_due_at: Option<Timestamp>,
    /// The recorded deadline plus the time on hold (pausable clocks only).
    pub effective_due_at: Option<Timestamp>,
    /// Whether time on hold extends it (as recorded).
    pub pausable: bool,
    /// Time on hold that extended this clock.
    pub paused_ms: i64,
    /// Pending and at least the at-risk share of the allowance used.
    pub at_risk: bool,
}

/// Why a customer may appeal to the regulator (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealReason {
    /// No final answer within the policy's `appeal_if_no_answer_within` of receipt.
    NoAnswer,
    /// The revisit found the customer dissatisfied.
    Dissatisfied,
}

/// Whether the customer may appeal to the postal regulator now (DOMAIN.md §7): when the company
/// gave no final answer in 7 days, or the customer was dissatisfied, within 1 year of receipt
/// (both configurable). A ticket that already came as a regulator referral is `AlreadyReferred`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "appeal", rename_all = "snake_case")]
pub enum AppealEligibility {
    /// No ground for an appeal (yet).
    NotEligible,
    /// The customer may appeal now: `reason`, possible since `since`, until `until`.
    Eligible {
        reason: AppealReason,
        since: Timestamp,
        until: Timestamp,
    },
    /// A ground existed but the appeal window closed at `until`.
    Expired {
        reason: AppealReason,
        since: Timestamp,
        until: Timestamp,
    },
    /// The ticket came as a regulator referral: it is the appeal.
    AlreadyReferred,
}

/// The SLA picture of one ticket at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSla {
    /// The ticket (from the first event).
    pub complaint_id: Option<ComplaintId>,
    /// The `now` of the evaluation.
    pub evaluated_at: Timestamp,
    /// The policy version the deadlines were recorded with (from `Classified`).
    pub policy_version: Option<String>,
    /// One entry per clock of [`ALL_CLOCKS`], in that order.
    pub clocks: Vec<ClockSla>,
    /// On hold at `now`.
    pub on_hold: bool,
    /// Total time on hold up to `now`.
    pub paused_ms: i64,
    /// Closed at `now`.
    pub closed: bool,
    /// Appeal to the regulator (DOMAIN.md §7).
    pub appeal: AppealEligibility,
}

impl TicketSla {
    /// The entry of one clock.
    pub fn clock(&self, clock: Clock) -> &ClockSla {
        self.clocks
            .iter()
            .find(|c| c.clock == clock)
            .expect("every clock is evaluated")
    }
    /// Any clock breached or pending overdue.
    pub fn any_breach(&self) -> bool {
        self.clocks
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Breached { .. } | Verdict::PendingOverdue { .. }))
    }
}

/// What the history says, as of `now` (events after `now` dropped).
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub complaint_id: Option<ComplaintId>,
    pub received_at: Option<Timestamp>,
    pub contact_at: Option<Timestamp>,
    pub regulator_referral: bool,
    pub policy_version: Option<String>,
    /// Latest recording of each clock: (deadline, start of its allowance).
    pub deadlines: BTreeMap<Clock, (ClockDeadline, Timestamp)>,
    /// Latest planned escalations.
    pub planned: Vec<EscalationDue>,
    /// Hold intervals; an open one has `None` as end.
    pub holds: Vec<(Timestamp, Option<Timestamp>)>,
    pub responses: Vec<(ResponseKind, Timestamp)>,
    pub dispatched_at: Option<Timestamp>,
    pub redispatches: Vec<Timestamp>,
    pub revisits: Vec<(Timestamp, bool)>,
    pub escalations: Vec<(EscalationLevel, EscalationTrigger, Timestamp)>,
    pub reopens: Vec<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

impl Facts {
    pub(crate) fn gather(history: &[Event], now: Timestamp) -> Facts {
        let mut f = Facts::default();
        for e in history {
            if f.complaint_id.is_none() {
                f.complaint_id = Some(e.meta.complaint_id.clone());
            }
            let at = e.meta.occurred_at;
            if at > now {
                continue;
            }
            match &e.data {
                EventData::Received(r) => {
                    f.received_at = Some(at);
                    f.contact_at = Some(r.contact_at);
                    f.regulator_referral = r.channel == crate::event::Channel::RegulatorReferral;
                }
                EventData::Classified(c) => {
                    let received = f.received_at.unwrap_or(at);
                    for d in &c.deadlines {
                        let start = if d.clock == Clock::Registration {
                            f.contact_at.unwrap_or(received)
                        } else {
                            received
                        };
                        f.deadlines.insert(d.clock, (*d, start));
                    }
                    f.planned = c.escalations.clone();
                    f.policy_version = Some(c.policy_version.clone());
                }
                EventData::Dispatched(d) => {
                    f.dispatched_at = Some(at);
                    for dl in &d.deadlines {
                        f.deadlines.insert(dl.clock, (*dl, at));
                    }
                }
                EventData::Redispatched(_) => f.redispatches.push(at),
                EventData::OnHold(_) => {
                    if !matches!(f.holds.last(), Some((_, None))) {
                        f.holds.push((at, None));
                    }
                }
                EventData::Resumed(_) => {
                    if let Some((_, end @ None)) = f.holds.last_mut() {
                        *end = Some(at);
                    }
                }
                EventData::Responded(r) => {
                    f.responses.push((r.kind, at));
                    for dl in &r.deadlines {
                        f.deadlines.insert(dl.clock, (*dl, at));
                    }
                }
                EventData::Escalated(x) => f.escalations.push((x.level, x.trigger.clone(), at)),
                EventData::Revisited(r) => f.revisits.push((at, r.satisfied)),
                EventData::Reopened(_) => f.reopens.push(at),
                EventData::Closed(_) => {
                    f.closed_at = Some(at);
                    if let Some((_, end @ None)) = f.holds.last_mut() {
                        *end = Some(at);
                    }
                }
                EventData::Verified(_)
                | EventData::Rejected(_)
                | EventData::MergedAsDuplicate(_)
                | EventData::Compensated(_)
                | EventData::CustomerErased(_) => {}
            }
        }
        f
    }

    /// Time on hold inside `[a, b]`.
    pub(crate) fn paused_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.holds
            .iter()
            .map(|&(s, e)| {
                let s = s.max(a);
                let e = e.unwrap_or(Timestamp::MAX).min(b);
                e.millis_since(s).max(0)
            })
            .sum()
    }

    pub(crate) fn on_hold(&self) -> bool {
        matches!(self.holds.last(), Some((_, None)))
    }

    fn first_response(&self, after: Timestamp, kinds: &[ResponseKind]) -> Option<Timestamp> {
        self.responses
            .iter()
            .filter(|(k, at)| *at >= after && kinds.contains(k))
            .map(|(_, at)| *at)
            .min()
    }

    /// The moment the clock was satisfied, if it was.
    pub(crate) fn satisfied_at(&self, clock: Clock, start: Timestamp) -> Option<Timestamp> {
        use ResponseKind::*;
        const ANY: [ResponseKind; 4] = [Acknowledgement, Progress, PreliminaryPlan, Final];
        match clock {
            Clock::Registration => self.received_at,
            Clock::FirstResponse => self.first_response(Timestamp::EPOCH, &ANY),
            Clock::Resolution | Clock::RegulatoryResult | Clock::RegulatorReply => {
                self.first_response(Timestamp::EPOCH, &[Final])
            }
            Clock::PreliminaryPlan => self.first_response(Timestamp::EPOCH, &[PreliminaryPlan, Final]),
            Clock::Investigation => {
                let resp = self.first_response(start, &ANY);
                let moved = self.redispatches.iter().copied().filter(|t| *t >= start).min();
                let held = self.holds.iter().map(|h| h.0).filter(|t| *t >= start).min();
                [resp, moved, held].into_iter().flatten().min()
            }
            Clock::PreliminarySolution => self.first_response(start, &[PreliminaryPlan, Final]),
            Clock::GreenChannel => self
                .escalations
                .iter()
                .filter(|(level, trigger, _)| {
                    *level >= EscalationLevel::Supervisor && matches!(trigger, EscalationTrigger::Person)
                })
                .map(|(_, _, at)| *at)
                .min(),
            Clock::Revisit => self.revisits.iter().map(|r| r.0).filter(|t| *t >= start).min(),
            Clock::ProgressUpdate => None,
        }
    }

    /// Whether the ticket is resolved at this point: a final response after the last reopen.
    pub(crate) fn resolved(&self) -> bool {
        let last_reopen = self.reopens.iter().copied().max().unwrap_or(Timestamp::EPOCH);
        self.responses
            .iter()
            .any(|(k, at)| *k == ResponseKind::Final && *at >= last_reopen)
    }

    /// Effective due time and pause of a single (non-recurring) clock as of `now`.
    pub(crate) fn effective_due(&self, clock: Clock, now: Timestamp) -> Option<(Timestamp, i64, Option<Timestamp>)> {
        let (d, start) = *self.deadlines.get(&clock)?;
        let sat = self.satisfied_at(clock, start);
        let until = sat.or(self.closed_at).unwrap_or(now).min(now);
        let paused = if d.pausable {
            self.paused_between(start, until)
        } else {
            0
        };
        Some((d.due_at.plus_millis(paused), paused, sat))
    }
}

fn single_clock(f: &Facts, clock: Clock, now: Timestamp, share: f64) -> ClockSla {
    let Some(&(d, start)) = f.deadlines.get(&clock) else {
        return not_applicable(clock);
    };
    let (eff, paused, sat) = f.effective_due(clock, now).expect("deadline present");
    let mut at_risk = false;
    let verdict = match sat {
        Some(s) if s <= eff => Verdict::Met {
            at: s,
            margin_ms: eff.millis_since(s),
        },
        Some(s) => Verdict::Breached {
            at: s,
            late_ms: s.millis_since(eff),
        },
        None => match f.closed_at {
            Some(c) if c > eff => Verdict::Breached {
                at: c,
                late_ms: c.millis_since(eff),
            },
            Some(_) => Verdict::NotApplicable,
            None if now <= eff => {
                at_risk = is_at_risk(start, d.due_at, now, paused, share);
                Verdict::Pending
            }
            None => Verdict::PendingOverdue {
                overdue_ms: now.millis_since(eff),
            },
        },
    };
    ClockSla {
        clock,
        verdict,
        started_at: Some(start),
        recorded_due_at: Some(d.due_at),
        effective_due_at: Some(eff),
        pausable: d.pausable,
        paused_ms: paused,
        at_risk,
    }
}

fn is_at_risk(start: Timestamp, due: Timestamp, now: Timestamp, paused: i64, share: f64) -> bool {
    let allowance = due.millis_since(start);
    if allowance <= 0 {
        return true;
    }
    let used = now.millis_since(start) - paused;
    used as f64 >= share * allowance as f64
}

fn not_applicable(clock: Clock) -> ClockSla {
    ClockSla {
        clock,
        verdict: Verdict::NotApplicable,
        started_at: None,
        recorded_due_at: None,
        effective_due_at: None,
        pausable: false,
        paused_ms: 0,
        at_risk: false,
    }
}

fn progress_clock(f: &Facts, now: Timestamp, share: f64, policy: &Policy) -> ClockSla {
    let Some(&(d, _)) = f.deadlines.get(&Clock::ProgressUpdate) else {
        return not_applicable(Clock::ProgressUpdate);
    };
    let interval = match f.deadlines.get(&Clock::PreliminaryPlan) {
        Some((plan, _)) if d.due_at > plan.due_at => d.due_at.millis_since(plan.due_at),
        // Imported history without a plan deadline: fall back to the policy's interval.
        _ => match policy.sla.major.progress_update_every.and_then(|p| p.fixed_millis()) {
            Some(ms) if ms > 0 => ms,
            _ => return not_applicable(Clock::ProgressUpdate),
        },
    };
    let final_at = f.first_response(Timestamp::EPOCH, &[ResponseKind::Final]);
    let ended_at = match (final_at, f.closed_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut updates: Vec<Timestamp> = f
        .responses
        .iter()
        .filter(|(k, _)| *k == ResponseKind::Progress)
        .map(|(_, at)| *at)
        .collect();
    updates.sort();
    let mut due = d.due_at;
    let mut idx = 0;
    let mut first_breach: Option<(Timestamp, i64)> = None;
    let mut best: Option<(Timestamp, i64)> = None; // (last on-time update, smallest margin)
    let mut open_verdict = None;
    for _ in 0..PROGRESS_CYCLES_MAX {
        if let Some(e) = ended_at {
            if e <= due {
                break;
            }
        }
        let limit = ended_at.unwrap_or(now);
        match updates.get(idx) {
            Some(&u) if u <= limit => {
                idx += 1;
                if u <= due {
                    let m = due.millis_since(u);
                    best = Some((u, best.map_or(m, |(_, bm)| bm.min(m))));
                } else if first_breach.is_none() {
                    first_breach = Some((u, u.millis_since(due)));
                }
                due = u.plus_millis(interval);
            }
            _ => {
                match ended_at {
                    Some(e) => {
                        if first_breach.is_none() {
                            first_breach = Some((e, e.millis_since(due)));
                        }
                    }
                    None if now <= due => {
                        let start = due.plus_millis(-interval);
                        open_verdict = Some((Verdict::Pending, is_at_risk(start, due, now, 0, share)));
                    }
                    None => {
                        open_verdict = Some((
                            Verdict::PendingOverdue {
                                overdue_ms: now.millis_since(due),
                            },
                            false,
                        ))
                    }
                }
                break;
            }
        }
    }
    let (verdict, at_risk) = if let Some((at, late_ms)) = first_breach {
        (Verdict::Breached { at, late_ms }, false)
    } else if let Some(v) = open_verdict {
        v
    } else if let Some((at, margin_ms)) = best {
        (Verdict::Met { at, margin_ms }, false)
    } else {
        (Verdict::NotApplicable, false)
    };
    ClockSla {
        clock: Clock::ProgressUpdate,
        verdict,
        started_at: Some(due.plus_millis(-interval)),
        recorded_due_at: Some(d.due_at),
        effective_due_at: Some(due),
        pausable: false,
        paused_ms: 0,
        at_risk,
    }
}

fn appeal(f: &Facts, now: Timestamp, policy: &Policy) -> AppealEligibility {
    if f.regulator_referral {
        return AppealEligibility::AlreadyReferred;
    }
    let Some(received) = f.received_at else {
        return AppealEligibility::NotEligible;
    };
    let reg = &policy.sla.regulatory;
    let no_answer_ms = reg.appeal_if_no_answer_within.fixed_millis().unwrap_or(0);
    let window_ms = reg.appeal_window.fixed_millis().unwrap_or(0);
    let until = received.plus_millis(window_ms);
    let answer_by = received.plus_millis(no_answer_ms);
    let final_at = f.first_response(Timestamp::EPOCH, &[ResponseKind::Final]);
    let mut ground: Option<(AppealReason, Timestamp)> = None;
    if final_at.is_none_or(|t| t > answer_by) && now > answer_by {
        ground = Some((AppealReason::NoAnswer, answer_by));
    }
    if let Some((at, _)) = f.revisits.iter().find(|(_, satisfied)| !satisfied) {
        if ground.is_none_or(|(_, since)| *at < since) {
            ground = Some((AppealReason::Dissatisfied, *at));
        }
    }
    match ground {
        None => AppealEligibility::NotEligible,
        Some((reason, since)) if now <= until => AppealEligibility::Eligible { reason, since, until },
        Some((reason, since)) => AppealEligibility::Expired { reason, since, until },
    }
}

/// The SLA verdict of every clock of a ticket at `now` (DOMAIN.md §7), from its history alone
/// (the policy gives only the at-risk share and the appeal windows).
pub fn evaluate(history: &[Event], now: Timestamp, policy: &Policy) -> TicketSla {
    let f = Facts::gather(history, now);
    let share = policy.warnings.at_risk_share;
    let clocks = ALL_CLOCKS
        .iter()
        .map(|&c| match c {
            Clock::ProgressUpdate => progress_clock(&f, now, share, policy),
            c => single_clock(&f, c, now, share),
        })
        .collect();
    let start = f.received_at.unwrap_or(Timestamp::EPOCH);
    TicketSla {
        complaint_id: f.complaint_id.clone(),
        evaluated_at: now,
        policy_version: f.policy_version.clone(),
        clocks,
        on_hold: f.on_hold(),
        paused_ms: f.paused_between(start, now),
        closed: f.closed_at.is_some(),
        appeal: appeal(&f, now, policy),
    }
}

//! SLA evaluation (docs/domain.md §7) as a pure function of a ticket's history and `now`.
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
//! | green_channel | receipt | the first `Escalated` by a person to the level the classification planned for the green channel (policy `escalation.green_channel_level`, recorded in `Classified.escalations`; `supervisor` for history without one) or above (the watchdog's own escalation does not count: it is the consequence of the breach) |
//! | supervision | the `SupervisionOpened` | the ticket's `Closed` (督办 ends with the ticket) |
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
    Channel, Clock, ClockDeadline, EscalationDue, EscalationLevel, EscalationTrigger, Event, EventData, ResponseKind,
};
use crate::ids::ComplaintId;
use crate::policy::Policy;
use crate::time::{PackedTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::num::NonZeroU16;

/// Every clock, in report order, which is also their declaration order (`ALL_CLOCKS[c as usize]
/// == c`, asserted at compile time below): a [`PackedDeadline`] holds its clock as that index.
/// That every `Clock` is listed is checked by `trail_tests::all_clocks_lists_every_clock`, whose
/// exhaustive `match` stops the build when a variant is added.
pub const ALL_CLOCKS: [Clock; 14] = [
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
    Clock::Supervision,
    Clock::Payment,
    Clock::IncidentReport,
];

/// `ALL_CLOCKS` is in declaration order: a clock inserted or moved in the enum, or the list
/// reordered, fails the build (review of wave 13: a run-time check per deadline found it only at
/// the first deadline of the wrong clock, in a fold or a checkpoint load).
const _: () = {
    let mut i = 0;
    while i < ALL_CLOCKS.len() {
        assert!(ALL_CLOCKS[i] as usize == i, "ALL_CLOCKS is in declaration order");
        i += 1;
    }
};

/// Upper bound on the progress-update cycles walked for one ticket (a year of hourly updates).
pub const PROGRESS_CYCLES_MAX: usize = 10_000;

/// The verdict of one clock (docs/domain.md §7).
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

/// Why a customer may appeal to the regulator (docs/domain.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealReason {
    /// No final answer within the policy's `appeal_if_no_answer_within` of receipt.
    NoAnswer,
    /// The revisit found the customer dissatisfied.
    Dissatisfied,
}

/// Whether the customer may appeal to the postal regulator now (docs/domain.md §7): when the company
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
    /// Appeal to the regulator (docs/domain.md §7).
    pub appeal: AppealEligibility,
    /// `false` when a recorded deadline was computed weekends-only in a year without calendar
    /// data (`calendar_covered: false` on Classified, Dispatched or Responded; issue 11): its
    /// verdicts rest on weekend-only arithmetic.
    #[serde(default = "covered")]
    pub calendar_covered: bool,
}

/// `calendar_covered` of a serialised `TicketSla` from before issue 11.
fn covered() -> bool {
    true
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
    /// (level, raised by the watchdog, at).
    pub escalations: Vec<(EscalationLevel, bool, Timestamp)>,
    pub reopens: Vec<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// The level the green channel escalates to, as planned at classification (R-SLA-9).
    pub green_level: Option<EscalationLevel>,
    /// Issue 17: payments that left nothing approved unpaid.
    pub settlements: Vec<Timestamp>,
    /// Issue 17: incident progress reports.
    pub incident_reports: Vec<Timestamp>,
    /// The casework as of `now` (filled by `gather`, the watchdog's view, only): which payment
    /// and incident-report rungs are still unmet (R-COMP-9, R-INC-4).
    pub casework: crate::state::casework::Casework,
}

/// What one event tells the SLA rules, compactly (the event's time and deadlines are in the
/// [`SlaFact`] around it). Events that no clock looks at have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlaEvent {
    Classified,
    Dispatched,
    Redispatched,
    OnHold,
    Resumed,
    Responded(ResponseKind),
    /// `by_watchdog`: raised by the watchdog (it does not satisfy the green channel).
    Escalated {
        level: EscalationLevel,
        by_watchdog: bool,
    },
    Revisited {
        satisfied: bool,
    },
    Reopened,
    Closed,
    /// 督办 (docs/domain.md R-SUP): its deadline is the fact's.
    SupervisionOpened,
    /// A `Classified` that planned the green-channel escalation to `level` (R-SLA-9): the
    /// green-channel clock is met by a person's escalation to that level or above.
    ClassifiedGreen {
        level: EscalationLevel,
    },
    /// Issue 17: a compensation approved (records the `payment` deadline).
    CompensationApproved,
    /// A compensation paid; `settled`: every approved one is paid now.
    CompensationPaid {
        settled: bool,
    },
    /// An incident group formed (records the first `incident_report` deadline).
    IncidentOpened,
    /// An incident progress report (records the next deadline).
    IncidentReported,
}

impl SlaEvent {
    /// The SLA fact of an event's data and the deadlines it records; `None` for the events no
    /// clock looks at (`Received` is the [`SlaTicket`] header).
    pub fn of(data: &EventData) -> Option<(SlaEvent, &[ClockDeadline])> {
        Some(match data {
            EventData::Classified(c) => (
                match c
                    .escalations
                    .iter()
                    .find(|d| d.rule_id == crate::policy::RULE_GREEN_CHANNEL)
                {
                    Some(green) => SlaEvent::ClassifiedGreen { level: green.level },
                    None => SlaEvent::Classified,
                },
                &c.deadlines[..],
            ),
            EventData::Dispatched(d) => (SlaEvent::Dispatched, &d.deadlines[..]),
            EventData::Redispatched(_) => (SlaEvent::Redispatched, &[][..]),
            EventData::OnHold(_) => (SlaEvent::OnHold, &[][..]),
            EventData::Resumed(_) => (SlaEvent::Resumed, &[][..]),
            EventData::Responded(r) => (SlaEvent::Responded(r.kind), &r.deadlines[..]),
            EventData::Escalated(x) => (
                SlaEvent::Escalated {
                    level: x.level,
                    by_watchdog: matches!(x.trigger, EscalationTrigger::Watchdog { .. }),
                },
                &[][..],
            ),
            EventData::Revisited(r) => (SlaEvent::Revisited { satisfied: r.satisfied }, &[][..]),
            EventData::Reopened(_) => (SlaEvent::Reopened, &[][..]),
            EventData::Closed(_) => (SlaEvent::Closed, &[][..]),
            EventData::SupervisionOpened(o) => (SlaEvent::SupervisionOpened, std::slice::from_ref(&o.deadline)),
            EventData::CompensationApproved(a) => (SlaEvent::CompensationApproved, &a.deadlines[..]),
            EventData::CompensationPaid(p) => (SlaEvent::CompensationPaid { settled: p.settled }, &p.deadlines[..]),
            EventData::IncidentOpened(o) => (SlaEvent::IncidentOpened, &o.deadlines[..]),
            EventData::IncidentProgressReported(r) => (SlaEvent::IncidentReported, &r.deadlines[..]),
            EventData::CompensationProposed(_)
            | EventData::CompensationRefused(_)
            | EventData::IncidentLinked(_)
            | EventData::ImprovementRecorded(_)
            | EventData::DisputeEscalated(_)
            | EventData::Received(_)
            | EventData::Verified(_)
            | EventData::Rejected(_)
            | EventData::MergedAsDuplicate(_)
            | EventData::Compensated(_)
            | EventData::CustomerErased(_)
            | EventData::RevisitAttempted(_)
            | EventData::OwnershipTransferred(_)
            | EventData::SeverityOverridden(_) => return None,
            EventData::TokenIssued(_) | EventData::TokenRevoked(_) | EventData::PersonalDataRevealed(_) => return None,
        })
    }
}

/// One SLA-relevant event: its business time, what it was, and where its recorded deadlines are
/// in the trail's list. It is also a fact's encoding in a projection checkpoint; the trail holds
/// it as a 9-byte [`PackedFact`] and [`SlaTrail::facts`] gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaFact {
    pub at: Timestamp,
    pub event: SlaEvent,
    /// The fact's deadlines are `deadlines[deadlines_start .. deadlines_start + deadlines_len]`.
    pub deadlines_start: u32,
    pub deadlines_len: u8,
}

/// A [`SlaFact`] in 9 bytes instead of 16 (issue 13, wave 9: about eight per ticket in the SLA
/// projection; 12 until the review of wave 12, 11 in wave 12): the time as a 6-byte
/// [`PackedTimestamp`] (alignment 1),
/// and no start, because a fact's
/// deadlines follow the previous facts' ([`SlaTrail::check_ranges`]): the trail counts where
/// they start.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PackedFact {
    at: PackedTimestamp,
    event: SlaEvent,
    deadlines_len: u8,
}

impl PackedFact {
    fn new(at: Timestamp, event: SlaEvent, deadlines_len: u8) -> PackedFact {
        PackedFact {
            at: PackedTimestamp::new(at),
            event,
            deadlines_len,
        }
    }
    fn get(&self, deadlines_start: u32) -> SlaFact {
        SlaFact {
            at: self.at.get(),
            event: self.event,
            deadlines_start,
            deadlines_len: self.deadlines_len,
        }
    }
}

/// The fields it holds: a fact's start is the trail's to count ([`SlaTrail::facts`]).
impl std::fmt::Debug for PackedFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedFact")
            .field("at", &self.at.get())
            .field("event", &self.event)
            .field("deadlines_len", &self.deadlines_len)
            .finish()
    }
}

/// Most deadlines one event may record in a trail (decide records at most
/// `RECORDED_DEADLINES_MAX` (32) or one per clock).
pub const DEADLINES_PER_FACT_MAX: usize = u8::MAX as usize;

/// The SLA-relevant facts of one ticket, in stream order, with their recorded deadlines: all the
/// SLA rules read (besides the [`SlaTicket`] header). Held per ticket by the SLA projection and
/// built from a history by [`evaluate`]: one code path for every verdict.
///
/// The fields are private: [`SlaTrail::push`] keeps the invariant [`SlaTrail::check_ranges`]
/// states. The one other way in is decoding (a projection checkpoint): decoding notes the first
/// fact whose encoded start does not follow the previous facts' deadlines (a gap), and
/// `check_ranges`, which the projection runs before it reads the trail, refuses it by name. It
/// serialises as the facts ([`SlaFact`]s, each with its start), the deadlines and the flag: the
/// bytes wave 8 wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlaTrail {
    /// Exact boxed slices, not `Vec`s: 16 bytes each instead of 24 in every ticket of the SLA
    /// projection (issue 13, wave 7); they grow by one event's worth at a time anyway.
    facts: Box<[PackedFact]>,
    deadlines: Box<[PackedDeadline]>,
    /// Set once an event recorded deadlines with weekend-only arithmetic because the calendar
    /// had no data for a year they needed (`calendar_covered: false`, docs/domain.md R-CAL).
    calendar_uncovered: bool,
    /// Decoding only: the first fact whose encoded start was not where the previous facts'
    /// deadlines end (its index + 1), and that start, for [`SlaTrail::check_ranges`] to name
    /// (postcard drops a `Deserialize` error's message). They lie in what was the trail's
    /// padding: it stays 40 bytes (asserted by the tests).
    gap_fact: Option<NonZeroU16>,
    gap_start: u32,
}

impl SlaTrail {
    /// The facts, in stream order, each with where its deadlines start.
    pub fn facts(&self) -> impl ExactSizeIterator<Item = SlaFact> + '_ {
        let mut start = 0u32;
        self.facts.iter().map(move |f| {
            let fact = f.get(start);
            start += u32::from(f.deadlines_len);
            fact
        })
    }

    /// How many facts the trail holds.
    pub fn fact_count(&self) -> usize {
        self.facts.len()
    }

    /// Every recorded deadline, fact after fact (see [`SlaTrail::deadlines_of`]).
    pub fn deadlines(&self) -> &[PackedDeadline] {
        &self.deadlines
    }

    /// Whether an event recorded deadlines without the calendar's data for a year.
    pub fn calendar_uncovered(&self) -> bool {
        self.calendar_uncovered
    }

    /// Adds the fact of one event at business time `at`, if it is SLA-relevant; `false` when it
    /// is not, or when it records more than [`DEADLINES_PER_FACT_MAX`] deadlines or the trail
    /// has `u32::MAX` deadlines (nothing is added then). Capacities grow exactly: a million
    /// tickets' doubling slack is real memory.
    pub fn push(&mut self, at: Timestamp, data: &EventData) -> bool {
        self.calendar_uncovered |= match data {
            EventData::Classified(c) => !c.calendar_covered,
            EventData::Dispatched(d) => !d.calendar_covered,
            EventData::Responded(r) => !r.calendar_covered,
            _ => false,
        };
        let Some((event, dl)) = SlaEvent::of(data) else {
            return false;
        };
        let Ok(start) = u32::try_from(self.deadlines.len()) else {
            return false;
        };
        if dl.len() > DEADLINES_PER_FACT_MAX || start.checked_add(dl.len() as u32).is_none() {
            return false;
        }
        if !dl.is_empty() {
            let mut deadlines = std::mem::take(&mut self.deadlines).into_vec();
            deadlines.reserve_exact(dl.len());
            deadlines.extend(dl.iter().map(PackedDeadline::new));
            self.deadlines = deadlines.into_boxed_slice();
        }
        let mut facts = std::mem::take(&mut self.facts).into_vec();
        facts.reserve_exact(1);
        facts.push(PackedFact::new(at, event, dl.len() as u8));
        self.facts = facts.into_boxed_slice();
        true
    }

    /// The invariant [`SlaTrail::push`] keeps and [`SlaTrail::deadlines_of`] relies on: the
    /// facts' deadlines are consecutive ranges of the list, in fact order, covering it exactly.
    /// Consecutive holds by construction (a fact holds no start), but a trail decoded from a
    /// projection checkpoint may have encoded another: `Err` names the first such fact, or says
    /// when the facts do not cover the list exactly.
    pub fn check_ranges(&self) -> Result<(), String> {
        if let Some(k) = self.gap_fact {
            let k = usize::from(k.get() - 1);
            let next: u64 = self.facts[..k].iter().map(|f| u64::from(f.deadlines_len)).sum();
            return Err(format!("fact {k}'s deadlines start at {}, not {next}", self.gap_start));
        }
        let next: u64 = self.facts.iter().map(|f| u64::from(f.deadlines_len)).sum();
        if next != self.deadlines.len() as u64 {
            return Err(format!("the facts name {next} deadlines of {}", self.deadlines.len()));
        }
        Ok(())
    }

    /// The deadlines a fact recorded.
    pub fn deadlines_of(&self, f: &SlaFact) -> impl ExactSizeIterator<Item = ClockDeadline> + '_ {
        let start = f.deadlines_start as usize;
        self.deadlines[start..start + f.deadlines_len as usize]
            .iter()
            .map(PackedDeadline::get)
    }

    /// A decoded trail. Its facts' deadlines must follow one another (the start a fact's
    /// encoding names is the one the trail counts): the first that does not is noted for
    /// [`SlaTrail::check_ranges`] to refuse by name. `Err` (whose message postcard drops) only
    /// when that fact's index does not fit the note: past 65,534 facts, which no projection
    /// keeps (the SLA projection refuses over 4,096).
    fn from_encoded(e: EncodedTrail) -> Result<SlaTrail, String> {
        let mut next = 0u64;
        let mut gap = None;
        let mut facts = Vec::with_capacity(e.facts.len());
        for (k, f) in e.facts.iter().enumerate() {
            if gap.is_none() && u64::from(f.deadlines_start) != next {
                gap = Some((k, f.deadlines_start));
            }
            next += u64::from(f.deadlines_len);
            facts.push(PackedFact::new(f.at, f.event, f.deadlines_len));
        }
        let (gap_fact, gap_start) = match gap {
            None => (None, 0),
            Some((k, start)) => {
                let k1 = u16::try_from(k + 1).map_err(|_| format!("fact {k}'s deadlines start at {start}"))?;
                (NonZeroU16::new(k1), start)
            }
        };
        Ok(SlaTrail {
            facts: facts.into_boxed_slice(),
            deadlines: e.deadlines,
            calendar_uncovered: e.calendar_uncovered,
            gap_fact,
            gap_start,
        })
    }
}

/// How a trail is encoded: what wave 8's derived encoding wrote (each fact with its start).
#[derive(Deserialize)]
#[serde(rename = "SlaTrail")]
struct EncodedTrail {
    facts: Vec<SlaFact>,
    deadlines: Box<[PackedDeadline]>,
    calendar_uncovered: bool,
}

/// [`EncodedTrail`], written from a trail without copying it.
#[derive(Serialize)]
#[serde(rename = "SlaTrail")]
struct EncodingTrail<'a> {
    facts: EncodingFacts<'a>,
    deadlines: &'a [PackedDeadline],
    calendar_uncovered: bool,
}

struct EncodingFacts<'a>(&'a SlaTrail);

impl Serialize for EncodingFacts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.facts())
    }
}

/// Each fact with the start the trail counts: a decoded trail with a gap (which
/// [`SlaTrail::check_ranges`] refuses before any use) would be written without it.
impl Serialize for SlaTrail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EncodingTrail {
            facts: EncodingFacts(self),
            deadlines: &self.deadlines,
            calendar_uncovered: self.calendar_uncovered,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SlaTrail {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SlaTrail::from_encoded(EncodedTrail::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A [`ClockDeadline`] in 7 bytes instead of 16, alignment 1: the instant as a 6-byte
/// [`PackedTimestamp`], the clock's index in [`ALL_CLOCKS`] and the flag in one byte (issue 13,
/// wave 7: a ticket's trail and the ticket projection hold about seven each per complaint; 12
/// bytes with alignment 4 until the review of wave 12, 10 in wave 12). Nothing is lost:
/// [`PackedDeadline::get`] gives back the exact deadline, and it serialises exactly as that
/// `ClockDeadline`, so a projection checkpoint's bytes do not change.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PackedDeadline {
    due: PackedTimestamp,
    /// The clock's index in [`ALL_CLOCKS`] in the low bits, [`PAUSABLE`] for the flag.
    clock_and_flag: u8,
}

/// The bit of [`PackedDeadline::clock_and_flag`] that says the deadline is pausable.
const PAUSABLE: u8 = 0x80;
const _: () = assert!(
    ALL_CLOCKS.len() <= PAUSABLE as usize,
    "a clock's index fits below the flag"
);

impl PackedDeadline {
    pub fn new(d: &ClockDeadline) -> PackedDeadline {
        let index = d.clock as u8;
        // Compile-time facts (the order above, the list complete by `all_clocks_lists_every_clock`).
        debug_assert_eq!(ALL_CLOCKS.get(usize::from(index)), Some(&d.clock));
        let flag = if d.pausable { PAUSABLE } else { 0 };
        PackedDeadline {
            due: PackedTimestamp::new(d.due_at),
            clock_and_flag: index | flag,
        }
    }
    #[inline]
    pub fn get(&self) -> ClockDeadline {
        ClockDeadline {
            clock: ALL_CLOCKS[usize::from(self.clock_and_flag & !PAUSABLE)],
            due_at: self.due.get(),
            pausable: self.clock_and_flag & PAUSABLE != 0,
        }
    }
}

impl std::fmt::Debug for PackedDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for PackedDeadline {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PackedDeadline {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(PackedDeadline::new(&ClockDeadline::deserialize(d)?))
    }
}

/// One ticket as the SLA rules see it: the `Received` header and the trail.
#[derive(Debug, Clone, Copy)]
pub struct SlaTicket<'a> {
    pub complaint_id: Option<&'a ComplaintId>,
    /// Registration (`Received.occurred_at`); `None` when there was no `Received`.
    pub received_at: Option<Timestamp>,
    pub contact_at: Timestamp,
    pub channel: Channel,
    /// The policy version of the (latest) classification.
    pub policy_version: Option<&'a str>,
    pub trail: &'a SlaTrail,
}

/// A history's header and trail, owned.
struct OwnedTicket {
    complaint_id: Option<ComplaintId>,
    received_at: Option<Timestamp>,
    contact_at: Timestamp,
    channel: Channel,
    policy_version: Option<String>,
    trail: SlaTrail,
}

impl OwnedTicket {
    fn of(history: &[Event]) -> OwnedTicket {
        let mut t = OwnedTicket {
            complaint_id: history.first().map(|e| e.meta.complaint_id.clone()),
            received_at: None,
            contact_at: Timestamp::EPOCH,
            channel: Channel::Hotline,
            policy_version: None,
            trail: SlaTrail::default(),
        };
        for e in history {
            match &e.data {
                EventData::Received(r) if t.received_at.is_none() => {
                    t.received_at = Some(e.meta.occurred_at);
                    t.contact_at = r.contact_at;
                    t.channel = r.channel;
                }
                EventData::Classified(c) => t.policy_version = Some(c.policy_version.clone()),
                _ => {}
            }
            t.trail.push(e.meta.occurred_at, &e.data);
        }
        t
    }
    fn borrow(&self) -> SlaTicket<'_> {
        SlaTicket {
            complaint_id: self.complaint_id.as_ref(),
            received_at: self.received_at,
            contact_at: self.contact_at,
            channel: self.channel,
            policy_version: self.policy_version.as_deref(),
            trail: &self.trail,
        }
    }
}

impl Facts {
    /// What a history says as of `now`, with the planned escalations (the watchdog's view).
    pub(crate) fn gather(history: &[Event], now: Timestamp) -> Facts {
        let mut f = Facts::from_ticket(&OwnedTicket::of(history).borrow(), now);
        for e in history {
            if e.meta.occurred_at > now {
                continue;
            }
            match &e.data {
                EventData::Classified(c) => {
                    // A supervision opened before the classification keeps its escalation.
                    f.planned
                        .retain(|d| crate::policy::rule_outlives_classification(&d.rule_id));
                    f.planned.extend(c.escalations.iter().cloned());
                }
                EventData::SupervisionOpened(o) => f.planned.push(EscalationDue {
                    rule_id: o.rule_id(),
                    level: o.escalate_to,
                    due_at: o.deadline.due_at,
                }),
                // R-COMP-9, R-INC-4: the casework's rungs, planned by the same fold as `evolve`'s.
                data => {
                    f.casework.fold(data);
                    if let Some(rung) = f.casework.planned_escalation(data) {
                        f.planned.push(rung);
                    }
                }
            }
        }
        f
    }

    /// What a ticket's trail says as of `now` (facts after `now` dropped).
    pub(crate) fn from_ticket(t: &SlaTicket<'_>, now: Timestamp) -> Facts {
        let mut f = Facts {
            complaint_id: t.complaint_id.cloned(),
            ..Facts::default()
        };
        if let Some(received) = t.received_at.filter(|r| *r <= now) {
            f.received_at = Some(received);
            f.contact_at = Some(t.contact_at);
            f.regulator_referral = t.channel == Channel::RegulatorReferral;
        }
        for fact in t.trail.facts() {
            let at = fact.at;
            if at > now {
                continue;
            }
            let deadlines = t.trail.deadlines_of(&fact);
            match fact.event {
                SlaEvent::Classified | SlaEvent::ClassifiedGreen { .. } => {
                    f.green_level = match fact.event {
                        SlaEvent::ClassifiedGreen { level } => Some(level),
                        _ => None,
                    };
                    let received = f.received_at.unwrap_or(at);
                    for d in deadlines {
                        let start = if d.clock == Clock::Registration {
                            f.contact_at.unwrap_or(received)
                        } else {
                            received
                        };
                        f.deadlines.insert(d.clock, (d, start));
                    }
                    f.policy_version = t.policy_version.map(str::to_owned);
                }
                SlaEvent::Dispatched => {
                    f.dispatched_at = Some(at);
                    for dl in deadlines {
                        f.deadlines.insert(dl.clock, (dl, at));
                    }
                }
                SlaEvent::Redispatched => f.redispatches.push(at),
                SlaEvent::OnHold => {
                    if !matches!(f.holds.last(), Some((_, None))) {
                        f.holds.push((at, None));
                    }
                }
                SlaEvent::Resumed => {
                    if let Some((_, end @ None)) = f.holds.last_mut() {
                        *end = Some(at);
                    }
                }
                SlaEvent::Responded(kind) => {
                    f.responses.push((kind, at));
                    for dl in deadlines {
                        f.deadlines.insert(dl.clock, (dl, at));
                    }
                }
                SlaEvent::Escalated { level, by_watchdog } => f.escalations.push((level, by_watchdog, at)),
                SlaEvent::Revisited { satisfied } => f.revisits.push((at, satisfied)),
                SlaEvent::Reopened => f.reopens.push(at),
                SlaEvent::SupervisionOpened | SlaEvent::CompensationApproved | SlaEvent::IncidentOpened => {
                    for dl in deadlines {
                        f.deadlines.insert(dl.clock, (dl, at));
                    }
                }
                SlaEvent::CompensationPaid { settled } => {
                    if settled {
                        f.settlements.push(at);
                    }
                    for dl in deadlines {
                        f.deadlines.insert(dl.clock, (dl, at));
                    }
                }
                SlaEvent::IncidentReported => {
                    f.incident_reports.push(at);
                    for dl in deadlines {
                        f.deadlines.insert(dl.clock, (dl, at));
                    }
                }
                SlaEvent::Closed => {
                    f.closed_at = Some(at);
                    if let Some((_, end @ None)) = f.holds.last_mut() {
                        *end = Some(at);
                    }
                }
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
                .filter(|(level, by_watchdog, _)| {
                    *level >= self.green_level.unwrap_or(EscalationLevel::Supervisor) && !*by_watchdog
                })
                .map(|(_, _, at)| *at)
                .min(),
            Clock::Revisit => self.revisits.iter().map(|r| r.0).filter(|t| *t >= start).min(),
            // 督办 ends with the ticket (docs/domain.md R-SUP).
            Clock::Supervision => self.closed_at.filter(|t| *t >= start),
            Clock::ProgressUpdate => None,
            // docs/domain.md R-COMP-7: the payment that left no approved compensation unpaid.
            Clock::Payment => self.settlements.iter().copied().filter(|t| *t >= start).min(),
            // R-INC-2: the next report after the one that recorded this deadline.
            Clock::IncidentReport => self.incident_reports.iter().copied().filter(|t| *t > start).min(),
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

/// The SLA verdict of every clock of a ticket at `now` (docs/domain.md §7), from its history alone
/// (the policy gives only the at-risk share and the appeal windows).
pub fn evaluate(history: &[Event], now: Timestamp, policy: &Policy) -> TicketSla {
    evaluate_ticket(&OwnedTicket::of(history).borrow(), now, policy)
}

/// The SLA verdict of every clock of a ticket at `now`, from its header and [`SlaTrail`]: what
/// [`evaluate`] does for a history, and what the SLA projection calls for each ticket it holds.
pub fn evaluate_ticket(ticket: &SlaTicket<'_>, now: Timestamp, policy: &Policy) -> TicketSla {
    let f = Facts::from_ticket(ticket, now);
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
        calendar_covered: !ticket.trail.calendar_uncovered(),
    }
}

#[cfg(test)]
mod trail_tests {
    use super::*;
    use crate::event::{Clock, ClockDeadline};

    fn fact(start: u32, len: u8) -> SlaFact {
        SlaFact {
            at: Timestamp::from_millis(0),
            event: SlaEvent::Classified,
            deadlines_start: start,
            deadlines_len: len,
        }
    }

    fn deadlines(n: usize) -> Box<[PackedDeadline]> {
        (0..n)
            .map(|i| {
                PackedDeadline::new(&ClockDeadline {
                    clock: Clock::FirstResponse,
                    due_at: Timestamp::from_millis(i as i64),
                    pausable: false,
                })
            })
            .collect()
    }

    /// The clock declared after `c` (`None` after the last). Exhaustive, no wildcard: a new
    /// `Clock` variant stops the build here until it is put in the chain, and then
    /// `all_clocks_lists_every_clock` fails until `ALL_CLOCKS` lists it in its place.
    fn declared_after(c: Clock) -> Option<Clock> {
        match c {
            Clock::Registration => Some(Clock::FirstResponse),
            Clock::FirstResponse => Some(Clock::Resolution),
            Clock::Resolution => Some(Clock::PreliminaryPlan),
            Clock::PreliminaryPlan => Some(Clock::ProgressUpdate),
            Clock::ProgressUpdate => Some(Clock::Investigation),
            Clock::Investigation => Some(Clock::PreliminarySolution),
            Clock::PreliminarySolution => Some(Clock::GreenChannel),
            Clock::GreenChannel => Some(Clock::Revisit),
            Clock::Revisit => Some(Clock::RegulatoryResult),
            Clock::RegulatoryResult => Some(Clock::RegulatorReply),
            Clock::RegulatorReply => Some(Clock::Supervision),
            Clock::Supervision => Some(Clock::Payment),
            Clock::Payment => Some(Clock::IncidentReport),
            Clock::IncidentReport => None,
        }
    }

    /// Review of wave 13: `ALL_CLOCKS` holds every clock, each at its declaration index (what
    /// `PackedDeadline` relies on; the order is also a compile-time assertion).
    #[test]
    fn all_clocks_lists_every_clock() {
        let mut every = vec![Clock::Registration];
        while let Some(next) = declared_after(*every.last().unwrap()) {
            every.push(next);
        }
        for (i, c) in every.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?} is declared at {i}");
            assert_eq!(ALL_CLOCKS.get(i), Some(c), "ALL_CLOCKS lists {c:?} at {i}");
        }
        assert_eq!(ALL_CLOCKS.len(), every.len());
    }

    #[test]
    fn packed_deadlines_keep_every_instant_and_serialise_as_the_domain_type() {
        assert_eq!(std::mem::size_of::<PackedDeadline>(), 7);
        assert_eq!(std::mem::align_of::<PackedDeadline>(), 1);
        let instants = [
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            1,
            1_796_000_000_000,
            u32::MAX as i64,
            i64::MAX - 1,
            i64::MAX,
        ];
        let cases = instants
            .into_iter()
            .flat_map(|ms| ALL_CLOCKS.into_iter().map(move |c| (ms, c)));
        for (k, (ms, clock)) in cases.enumerate() {
            let d = ClockDeadline {
                clock,
                due_at: Timestamp::from_millis(ms),
                pausable: k % 3 == 0,
            };
            let p = PackedDeadline::new(&d);
            assert_eq!(p.get(), d);
            let bytes = postcard::to_allocvec(&p).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&d).unwrap());
            assert_eq!(postcard::from_bytes::<PackedDeadline>(&bytes).unwrap(), p);
        }
    }

    /// A trail as a checkpoint encodes it (wave 8's derived encoding: each fact with its start).
    fn encoded(facts: Vec<SlaFact>, n: usize) -> EncodedTrail {
        EncodedTrail {
            facts,
            deadlines: deadlines(n),
            calendar_uncovered: false,
        }
    }

    #[test]
    fn ranges_must_follow_one_another_and_cover_the_list() {
        let trail = |facts: Vec<SlaFact>, n: usize| SlaTrail::from_encoded(encoded(facts, n));
        assert_eq!(trail(vec![], 0).unwrap().check_ranges(), Ok(()));
        let sound = trail(vec![fact(0, 2), fact(2, 0), fact(2, 1)], 3).unwrap();
        assert_eq!(sound.check_ranges(), Ok(()));
        let gap = trail(vec![fact(0, 1), fact(2, 1)], 3)
            .unwrap()
            .check_ranges()
            .unwrap_err();
        assert!(gap.contains("fact 1's deadlines start at 2, not 1"), "{gap}");
        // Only the first gap is named, though a later gap and a coverage fault follow it.
        let gaps = trail(vec![fact(0, 2), fact(2, 0), fact(3, 1), fact(9, 1)], 3);
        let gaps = gaps.unwrap().check_ranges().unwrap_err();
        assert!(gaps.contains("fact 2's deadlines start at 3, not 2"), "{gaps}");
        let first = trail(vec![fact(5, 0)], 0).unwrap().check_ranges().unwrap_err();
        assert!(first.contains("fact 0's deadlines start at 5, not 0"), "{first}");
        let last = u32::from(u16::MAX);
        let far: Vec<SlaFact> = (0..=last).map(|k| fact(if k == last { 7 } else { 0 }, 0)).collect();
        assert!(
            trail(far, 0).is_err(),
            "a gap past 65,534 facts is refused when decoded"
        );
        let beyond = trail(vec![fact(0, 4)], 3).unwrap().check_ranges().unwrap_err();
        assert!(beyond.contains("name 4 deadlines of 3"), "{beyond}");
        let short = trail(vec![fact(0, 1)], 3).unwrap().check_ranges().unwrap_err();
        assert!(short.contains("name 1 deadlines of 3"), "{short}");
    }

    /// Issue 13, wave 9: a fact is held in 9 bytes (12 before the review of wave 12, 11 in wave 12) without its start, and a trail still
    /// serialises as wave 8's derived encoding did (each fact with its start), so checkpoints
    /// keep their bytes; decoding a gap is refused.
    #[test]
    fn packed_facts_keep_every_fact_and_the_trail_serialises_as_before() {
        assert_eq!(std::mem::size_of::<PackedFact>(), 9);
        // The gap note lies in what was padding.
        assert_eq!(std::mem::size_of::<SlaTrail>(), 40);
        let debug = format!("{:?}", trail_of_one());
        assert!(!debug.contains("deadlines_start"), "{debug}");
        assert!(debug.contains("deadlines_len: 2"), "{debug}");
        #[derive(Serialize)]
        struct Wave8<'a> {
            facts: &'a [SlaFact],
            deadlines: &'a [PackedDeadline],
            calendar_uncovered: bool,
        }
        let facts = [
            SlaFact {
                at: Timestamp::from_millis(i64::MIN),
                event: SlaEvent::Escalated {
                    level: EscalationLevel::DepartmentHead,
                    by_watchdog: true,
                },
                deadlines_start: 0,
                deadlines_len: 2,
            },
            SlaFact {
                at: Timestamp::from_millis(-1),
                event: SlaEvent::Responded(ResponseKind::Final),
                deadlines_start: 2,
                deadlines_len: 0,
            },
            SlaFact {
                at: Timestamp::from_millis(i64::MAX),
                event: SlaEvent::Closed,
                deadlines_start: 2,
                deadlines_len: 1,
            },
        ];
        let trail = SlaTrail::from_encoded(encoded(facts.to_vec(), 3)).unwrap();
        assert_eq!(trail.facts().collect::<Vec<_>>(), facts);
        let wave8 = Wave8 {
            facts: &facts,
            deadlines: &deadlines(3),
            calendar_uncovered: false,
        };
        let bytes = postcard::to_allocvec(&wave8).unwrap();
        assert_eq!(postcard::to_allocvec(&trail).unwrap(), bytes);
        assert_eq!(postcard::from_bytes::<SlaTrail>(&bytes).unwrap(), trail);
        let mut gap = facts;
        gap[2].deadlines_start = 1;
        let gap = postcard::to_allocvec(&Wave8 { facts: &gap, ..wave8 }).unwrap();
        let gap = postcard::from_bytes::<SlaTrail>(&gap)
            .unwrap()
            .check_ranges()
            .unwrap_err();
        assert!(gap.contains("fact 2's deadlines start at 1, not 2"), "{gap}");
    }

    /// A trail of one fact that recorded two deadlines.
    fn trail_of_one() -> SlaTrail {
        SlaTrail::from_encoded(encoded(vec![fact(0, 2)], 2)).unwrap()
    }
}

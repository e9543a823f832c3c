//! What a complaint desk looks at every morning (docs/cli.md `plaint queue`, `plaint sla
//! --ticket`, `plaint appeals`): the open tickets by their next deadline, one ticket's clocks
//! explained, and the tickets whose customer may appeal to the regulator.
//!
//! Every figure comes from the projections and the domain: verdicts, at-risk and appeal
//! eligibility from `plaint_domain::sla` (through the SLA projection), the setting behind a
//! deadline from [`Policy::clock_rule`], the days a deadline skipped from the business
//! calendar. Nothing here decides a rule; it gathers and orders.

use crate::engine::Engine;
use crate::error::EngineError;
use plaint_domain::event::{Clock, EscalationLevel, HoldReason};
use plaint_domain::policy::{Policy, PolicyDuration};
use plaint_domain::sla::{AppealEligibility, ClockSla, TicketSla, Verdict};
use plaint_domain::{ComplaintId, Timestamp};
use plaint_projections::tickets::TicketView;
use serde::{Deserialize, Serialize};

/// Version of the JSON shapes of this module ([`Queue`], [`SlaExplanation`], [`Appeals`]).
pub const DESK_SCHEMA_VERSION: u32 = 1;

/// Which open tickets `plaint queue` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only tickets the department holds now.
    pub department: Option<String>,
    /// Only tickets assigned to this handler now.
    pub handler: Option<String>,
}

/// Where a ticket stands against its next deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// A clock is pending past its due time.
    Overdue,
    /// A clock is past the policy's warning share of its allowance.
    AtRisk,
    /// Pending clocks, none at risk.
    OnTrack,
    /// Open, but no clock is running.
    NoClock,
}

impl Urgency {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Overdue => "overdue",
            Urgency::AtRisk => "at_risk",
            Urgency::OnTrack => "on_track",
            Urgency::NoClock => "no_clock",
        }
    }
}

/// One open ticket in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Its status (`dispatched`, `on_hold`, …).
    pub status: String,
    /// The pending clock due first, when any.
    pub clock: Option<Clock>,
    /// When that clock is due (pauses on hold included).
    pub due_at: Option<Timestamp>,
    /// Overdue, at risk, on track, or no clock running.
    pub urgency: Urgency,
    /// How long past due, for an overdue clock.
    pub overdue_ms: Option<i64>,
    /// Pending clocks past due, of all the ticket's clocks.
    pub overdue_clocks: u32,
    /// The escalation level reached, when escalated.
    pub escalation_level: Option<EscalationLevel>,
    /// The department holding it now.
    pub department: Option<String>,
    /// The handler it is assigned to now.
    pub handler: Option<String>,
    /// 首问负责制: the person who owns it until it is closed (docs/domain.md R-OWN).
    pub owner: Option<String>,
    /// Its severity, once classified.
    pub severity: Option<String>,
    /// When it was received.
    pub received_at: Timestamp,
}

/// The open tickets ordered by their next deadline (earliest first; tickets without a running
/// clock last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    /// [`DESK_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The instant verdicts are judged at.
    pub now: Timestamp,
    /// The policy that judged at-risk clocks.
    pub policy_version: String,
    /// The department asked for.
    pub department: Option<String>,
    /// The handler asked for.
    pub handler: Option<String>,
    /// Tickets overdue.
    pub overdue: u64,
    /// Tickets at risk (not overdue).
    pub at_risk: u64,
    /// The tickets, next deadline first.
    pub tickets: Vec<QueueEntry>,
}

/// A calendar date a working-time deadline did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedDay {
    /// The local date.
    pub date: String,
    /// `weekend`, or the holiday's name.
    pub why: String,
}

/// One clock of a ticket, explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockExplanation {
    /// The clock, its verdict and instants, as the domain judged them.
    #[serde(flatten)]
    pub sla: ClockSla,
    /// The verdict's name (`met`, `pending_overdue`, …).
    pub verdict_name: String,
    /// The policy setting the allowance came from (`sla.urgent.resolution`).
    pub rule: Option<String>,
    /// The allowance it gives (`24 h`, `3 working days`).
    pub allowance: Option<String>,
    /// For an allowance in working days or hours: the non-working dates between the clock's
    /// start and its recorded due time, which it did not count (empty otherwise).
    pub skipped_days: Vec<SkippedDay>,
}

/// A period the ticket was on hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    /// On hold from.
    pub from: Timestamp,
    /// Resumed at; `None` while still on hold.
    pub until: Option<Timestamp>,
    /// Why.
    pub reason: HoldReason,
}

/// `plaint sla --ticket`: every clock of one ticket, where its deadline came from and its
/// verdict at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaExplanation {
    /// [`DESK_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// The instant verdicts are judged at.
    pub now: Timestamp,
    /// The policy version the deadlines were computed under (recorded at classification).
    pub policy_version: Option<String>,
    /// The policy version judging at-risk now.
    pub judged_with_policy: String,
    /// The business calendar and its time zone.
    pub calendar: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// Whether the calendar had holiday data for every deadline.
    pub calendar_covered: bool,
    /// Severity and channel, which choose the rules.
    pub severity: Option<String>,
    /// The channel the complaint came through.
    pub channel: String,
    /// Every clock.
    pub clocks: Vec<ClockExplanation>,
    /// Time on hold.
    pub pauses: Vec<Pause>,
    /// Total time on hold, in milliseconds.
    pub paused_ms: i64,
    /// Whether the ticket is closed.
    pub closed: bool,
    /// The regulator-appeal eligibility at `now`.
    pub appeal: AppealEligibility,
    /// Whether any clock is breached or pending overdue.
    pub any_breach: bool,
}

/// One ticket whose customer may appeal (or whose window closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppealEntry {
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Its status.
    pub status: String,
    /// The eligibility, as the domain judged it.
    pub appeal: AppealEligibility,
    /// The department holding it.
    pub department: Option<String>,
}

/// `plaint appeals`: regulator-appeal eligibility at `now` (docs/domain.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appeals {
    /// [`DESK_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The instant judged at.
    pub now: Timestamp,
    /// Tickets whose customer may appeal now, window closing first.
    pub eligible: Vec<AppealEntry>,
    /// Tickets that came as a regulator referral.
    pub already_referred: u64,
    /// Tickets whose window closed (listed with `include_expired`).
    pub expired: u64,
    /// The expired ones, when asked for.
    pub expired_tickets: Vec<AppealEntry>,
}

fn handler(v: &TicketView) -> Option<String> {
    v.assignments.last().and_then(|a| a.handler.clone())
}

fn is_pending(c: &ClockSla) -> bool {
    matches!(c.verdict, Verdict::Pending | Verdict::PendingOverdue { .. })
}

fn queue_entry(v: &TicketView, sla: &TicketSla) -> QueueEntry {
    let next = sla
        .clocks
        .iter()
        .filter(|c| is_pending(c) && c.effective_due_at.is_some())
        .min_by_key(|c| (c.effective_due_at, c.clock));
    let overdue_clocks = sla
        .clocks
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::PendingOverdue { .. }))
        .count() as u32;
    let urgency = match next {
        None => Urgency::NoClock,
        Some(c) if matches!(c.verdict, Verdict::PendingOverdue { .. }) => Urgency::Overdue,
        Some(_) if sla.clocks.iter().any(|c| is_pending(c) && c.at_risk) => Urgency::AtRisk,
        Some(_) => Urgency::OnTrack,
    };
    QueueEntry {
        complaint_id: v.id.clone(),
        status: v.status.as_str().to_owned(),
        clock: next.map(|c| c.clock),
        due_at: next.and_then(|c| c.effective_due_at),
        urgency,
        overdue_ms: next.and_then(|c| match c.verdict {
            Verdict::PendingOverdue { overdue_ms } => Some(overdue_ms),
            _ => None,
        }),
        overdue_clocks,
        escalation_level: v.escalation_level,
        department: v.department().map(str::to_owned),
        handler: handler(v),
        owner: v.owner.clone(),
        severity: v.severity.map(|s| s.as_str().to_owned()),
        received_at: v.received_at,
    }
}

fn explain_clock(engine: &Engine, policy: &Policy, v: &TicketView, c: &ClockSla) -> ClockExplanation {
    let rule = v
        .severity
        .and_then(|s| policy.clock_rule(s, v.channel, c.clock))
        .or_else(|| {
            // Clocks that run before classification (registration, first response, the
            // regulatory ones) are the same in every tier's table only if the policy says so;
            // without a severity, name the ordinary tier's setting.
            policy.clock_rule(plaint_domain::event::Severity::Ordinary, v.channel, c.clock)
        });
    let calendar = engine.calendar();
    let mut skipped_days = Vec::new();
    // Only an allowance in working time skips days; `24 h` or `7 days` run through holidays.
    let working_time = matches!(
        rule,
        Some((_, PolicyDuration::WorkingDays(_) | PolicyDuration::WorkingHours(_)))
    );
    if let (true, Some(start), Some(due)) = (working_time, c.started_at, c.recorded_due_at) {
        let mut date = calendar.local(start).date();
        // A deadline at local midnight does not reach into that day.
        let last = calendar.local(Timestamp::from_millis(due.as_millis() - 1)).date();
        // Bounded by the calendar's own walk limit.
        let mut walked = 0;
        while date <= last && walked < plaint_domain::calendar::CALENDAR_WALK_DAYS_MAX {
            if !calendar.is_working_day(date) {
                let why = calendar
                    .holiday_ranges()
                    .iter()
                    .find(|h| h.from <= date && date <= h.to)
                    .map(|h| h.name.clone())
                    .unwrap_or_else(|| "weekend".to_owned());
                skipped_days.push(SkippedDay {
                    date: date.to_string(),
                    why,
                });
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
            walked += 1;
        }
    }
    ClockExplanation {
        sla: c.clone(),
        verdict_name: c.verdict.as_str().to_owned(),
        rule: rule.as_ref().map(|(key, _)| key.clone()),
        allowance: rule.map(|(_, d)| d.to_string()),
        skipped_days,
    }
}

impl Engine {
    /// The open tickets matching `filter`, ordered by their next deadline at `now`.
    pub async fn queue(&self, now: Timestamp, filter: &QueueFilter) -> Result<Queue, EngineError> {
        let policy = self.policy();
        let mut tickets = self
            .with_projections(|p| {
                p.tickets
                    .state
                    .views()
                    // A ticket received after `now` is not in the queue yet.
                    .filter(|v| v.status.is_open() && v.received_at <= now)
                    .filter(|v| filter.department.as_deref().is_none_or(|d| v.department() == Some(d)))
                    .filter(|v| {
                        filter
                            .handler
                            .as_deref()
                            .is_none_or(|h| handler(v).as_deref() == Some(h))
                    })
                    .filter_map(|v| {
                        let sla = p.sla.state.ticket(&v.id, now, policy)?;
                        Some(queue_entry(&v, &sla))
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        tickets.sort_by(|a, b| {
            (a.due_at.is_none(), a.due_at, &a.complaint_id).cmp(&(b.due_at.is_none(), b.due_at, &b.complaint_id))
        });
        Ok(Queue {
            schema_version: DESK_SCHEMA_VERSION,
            now,
            policy_version: policy.version.clone(),
            department: filter.department.clone(),
            handler: filter.handler.clone(),
            overdue: tickets.iter().filter(|t| t.urgency == Urgency::Overdue).count() as u64,
            at_risk: tickets.iter().filter(|t| t.urgency == Urgency::AtRisk).count() as u64,
            tickets,
        })
    }

    /// One ticket's clocks at `now`, each with the policy setting and calendar days behind its
    /// deadline, the pauses and the verdict.
    pub async fn explain_sla(&self, id: &ComplaintId, now: Timestamp) -> Result<SlaExplanation, EngineError> {
        let sla = self.ticket_sla(id, now).await?;
        let view = self
            .with_projections(|p| p.tickets.state.view(id))
            .await?
            .ok_or_else(|| EngineError::UnknownComplaint { complaint: id.clone() })?;
        let policy = self.policy();
        let clocks = sla
            .clocks
            .iter()
            .filter(|c| !matches!(c.verdict, Verdict::NotApplicable) || c.recorded_due_at.is_some())
            .map(|c| explain_clock(self, policy, &view, c))
            .collect();
        Ok(SlaExplanation {
            schema_version: DESK_SCHEMA_VERSION,
            complaint_id: id.clone(),
            now,
            policy_version: sla.policy_version.clone(),
            judged_with_policy: policy.version.clone(),
            calendar: self.calendar().name().to_owned(),
            time_zone: self.calendar().time_zone().name(),
            calendar_covered: sla.calendar_covered,
            severity: view.severity.map(|s| s.as_str().to_owned()),
            channel: view.channel.as_str().to_owned(),
            clocks,
            pauses: view
                .holds
                .iter()
                .map(|h| Pause {
                    from: h.from,
                    until: h.until,
                    reason: h.reason,
                })
                .collect(),
            paused_ms: sla.paused_ms,
            closed: sla.closed,
            any_breach: sla.any_breach(),
            appeal: sla.appeal,
        })
    }

    /// Regulator-appeal eligibility of every ticket at `now`: the eligible ones (window closing
    /// first), counts of referrals and closed windows, and the expired ones when asked for.
    pub async fn appeals(&self, now: Timestamp, include_expired: bool) -> Result<Appeals, EngineError> {
        let policy = self.policy();
        let (mut eligible, referred, mut expired) = self
            .with_projections(|p| {
                let mut eligible = Vec::new();
                let mut expired = Vec::new();
                let mut referred = 0u64;
                for v in p.tickets.state.views().filter(|v| v.received_at <= now) {
                    let Some(sla) = p.sla.state.ticket(&v.id, now, policy) else {
                        continue;
                    };
                    let entry = || AppealEntry {
                        complaint_id: v.id.clone(),
                        status: v.status.as_str().to_owned(),
                        appeal: sla.appeal,
                        department: v.department().map(str::to_owned),
                    };
                    match &sla.appeal {
                        AppealEligibility::Eligible { .. } => eligible.push(entry()),
                        AppealEligibility::Expired { .. } => expired.push(entry()),
                        AppealEligibility::AlreadyReferred => referred += 1,
                        _ => {}
                    }
                }
                (eligible, referred, expired)
            })
            .await?;
        let until = |e: &AppealEntry| match &e.appeal {
            AppealEligibility::Eligible { until, .. } | AppealEligibility::Expired { until, .. } => Some(*until),
            _ => None,
        };
        eligible.sort_by(|a, b| (until(a), &a.complaint_id).cmp(&(until(b), &b.complaint_id)));
        expired.sort_by(|a, b| (until(a), &a.complaint_id).cmp(&(until(b), &b.complaint_id)));
        let expired_count = expired.len() as u64;
        if !include_expired {
            expired.clear();
        }
        Ok(Appeals {
            schema_version: DESK_SCHEMA_VERSION,
            now,
            eligible,
            already_referred: referred,
            expired: expired_count,
            expired_tickets: expired,
        })
    }
}

//! The SLA watchdog decision (docs/domain.md §7): which planned escalations are due at `now`.
//!
//! The escalations a ticket may get are planned when it is classified and recorded in
//! `Classified.escalations` (rule ids `ladder.<level>`, `breach.<clock>`, `green_channel`; see
//! `policy`), when a supervision is opened (`supervision.<number>`, from `SupervisionOpened`),
//! when a compensation is approved (`payment.<compensation_id>`, R-COMP-9) and for each daily
//! report of an incident group (`incident_report.<incident_id>.<n>`, R-INC-4). [`due_escalations`] returns those that are
//!
//! * **due**: `now` is at or past the planned time, extended by the time on hold when the clock
//!   the rule watches is pausable (the resolution clock for the ladder);
//! * **not yet applied**: no `Escalated` with `EscalationTrigger::Watchdog { rule_id }` for the
//!   rule is in the history — so each is returned until it is appended, then never again,
//!   however often the watchdog asks (exactly once);
//! * **still relevant**: the ticket is not closed, and
//!   - `ladder.*`: the ticket is not resolved (no final response since the last reopen);
//!   - `breach.<clock>` and `green_channel`: the clock has not been satisfied;
//!   - `payment.<id>`: that compensation is still approved and unpaid;
//!   - `incident_report.<id>.<n>`: the group made no report since that deadline was recorded.
//!
//! Pure: the caller (a projection or the CLI's `watchdog` command) turns each result into an
//! `Escalate` command with the rule id.

use crate::event::{Clock, EscalationDue, EscalationTrigger, Event, EventData};
use crate::policy::{
    RULE_BREACH_PREFIX, RULE_GREEN_CHANNEL, RULE_INCIDENT_REPORT_PREFIX, RULE_LADDER_PREFIX, RULE_PAYMENT_PREFIX,
    RULE_SUPERVISION_PREFIX,
};
use crate::sla::{Facts, ALL_CLOCKS};
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// The clock a planned escalation watches, by its rule id.
pub fn rule_clock(rule_id: &str) -> Option<Clock> {
    if rule_id == RULE_GREEN_CHANNEL {
        return Some(Clock::GreenChannel);
    }
    if rule_id.starts_with(RULE_LADDER_PREFIX) {
        return Some(Clock::Resolution);
    }
    if rule_id.starts_with(RULE_SUPERVISION_PREFIX) {
        return Some(Clock::Supervision);
    }
    if rule_id.starts_with(RULE_PAYMENT_PREFIX) {
        return Some(Clock::Payment);
    }
    if rule_id.starts_with(RULE_INCIDENT_REPORT_PREFIX) {
        return Some(Clock::IncidentReport);
    }
    let name = rule_id.strip_prefix(RULE_BREACH_PREFIX)?;
    ALL_CLOCKS.into_iter().find(|c| c.as_str() == name)
}

/// The planned escalations due at `now` and not yet applied, in due order.
///
/// ```
/// use plaint_domain::watchdog::due_escalations;
/// use plaint_domain::time::Timestamp;
/// // No history, nothing planned.
/// assert!(due_escalations(&[], Timestamp::from_millis(0)).is_empty());
/// ```
pub fn due_escalations(history: &[Event], now: Timestamp) -> Vec<EscalationDue> {
    due_given(&Facts::gather(history, now), &applied_rules(history), now)
}

/// The first instant at or after `from` at which [`due_escalations`] of `history` is not
/// empty; `None` when there is none (closed, or nothing planned is left to fall due).
///
/// Exact, not a bound: `due_escalations(history, t)` is empty for every `t` in
/// `[from, next_due)` and not empty at `next_due`. The watchdog need not look at a ticket
/// again before that instant while its history stays as it is (issue 13: `Engine::tick` reads
/// only the tickets with something due).
///
/// How: the facts `due_escalations` judges on change only at the business times of the
/// history's events. Between two of them, a rung falls due where its effective due instant
/// (the planned one, moved by time on hold) meets `now`; on hold that instant moves with
/// `now`, so it never does. Each interval's candidates are checked with the rule itself.
///
/// ```
/// use plaint_domain::watchdog::next_due;
/// use plaint_domain::time::Timestamp;
/// assert_eq!(next_due(&[], Timestamp::from_millis(0)), None);
/// ```
pub fn next_due(history: &[Event], from: Timestamp) -> Option<Timestamp> {
    let applied = applied_rules(history);
    let mut changes: Vec<Timestamp> = history
        .iter()
        .map(|e| e.meta.occurred_at)
        .filter(|t| *t > from)
        .collect();
    changes.sort_unstable();
    changes.dedup();
    let mut start = from;
    for end in changes.into_iter().map(Some).chain([None]) {
        if let Some(t) = first_due_within(history, &applied, start, end) {
            return Some(t);
        }
        start = end?;
    }
    None
}

/// The first instant in `[start, end)` (no end: `None`) at which something is due, the
/// history's facts being those of `start` throughout.
fn first_due_within(
    history: &[Event],
    applied: &BTreeSet<&str>,
    start: Timestamp,
    end: Option<Timestamp>,
) -> Option<Timestamp> {
    let f = Facts::gather(history, start);
    if f.closed_at.is_some() {
        return None;
    }
    let received = f.received_at.unwrap_or(Timestamp::EPOCH);
    let mut candidates: Vec<Timestamp> = f
        .planned
        .iter()
        .filter(|p| !applied.contains(p.rule_id.as_str()))
        .filter_map(|p| rung_due_at(&f, p, received, start))
        .map(|t| t.max(start))
        .filter(|t| end.is_none_or(|end| *t < end))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .find(|&t| !due_given(&Facts::gather(history, t), applied, t).is_empty())
}

/// The watchdog rule ids already escalated, from the whole history (not only up to `now`): an
/// escalation already appended is never proposed again.
fn applied_rules(history: &[Event]) -> BTreeSet<&str> {
    history
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Escalated(x) => match &x.trigger {
                EscalationTrigger::Watchdog { rule_id, .. } => Some(rule_id.as_str()),
                EscalationTrigger::Person => None,
            },
            _ => None,
        })
        .collect()
}

/// The planned escalations due at `now` by the facts as of `now`, not yet `applied`, in due
/// order.
fn due_given(f: &Facts, applied: &BTreeSet<&str>, now: Timestamp) -> Vec<EscalationDue> {
    if f.closed_at.is_some() {
        return Vec::new();
    }
    let received = f.received_at.unwrap_or(Timestamp::EPOCH);
    let mut out: Vec<EscalationDue> = f
        .planned
        .iter()
        .filter(|p| !applied.contains(p.rule_id.as_str()))
        .filter(|p| rung_due_at(f, p, received, now).is_some_and(|due| due <= now))
        .cloned()
        .collect();
    out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.rule_id.cmp(&b.rule_id)));
    out
}

/// When the planned rung `p` falls due by the facts as of `now` (time on hold counted up to
/// `now`), or `None` when it is no longer relevant.
fn rung_due_at(f: &Facts, p: &EscalationDue, received: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let Some(clock) = rule_clock(&p.rule_id) else {
        // An unknown rule id (a newer policy's): plain due-time check, no relevance test.
        return Some(p.due_at);
    };
    // R-COMP-9, R-INC-4: one compensation unpaid, one report deadline missed — judged on the
    // rung's own item, not the ticket-wide clock (which the others also move).
    if let Some(pending) = f.casework.rung_pending(&p.rule_id) {
        return pending.then_some(p.due_at);
    }
    if p.rule_id.starts_with(RULE_LADDER_PREFIX) {
        if f.resolved() {
            return None;
        }
        let pausable = f.deadlines.get(&Clock::Resolution).is_some_and(|(d, _)| d.pausable);
        let paused = if pausable { f.paused_between(received, now) } else { 0 };
        return Some(p.due_at.plus_millis(paused));
    }
    match f.effective_due(clock, now) {
        // Satisfied: the breach is over (or never happened).
        Some((_, _, Some(_))) => None,
        Some((eff, _, None)) => Some(p.due_at.max(eff)),
        None => Some(p.due_at),
    }
}

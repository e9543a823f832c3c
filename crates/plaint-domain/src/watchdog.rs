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
    let f = Facts::gather(history, now);
    if f.closed_at.is_some() {
        return Vec::new();
    }
    // Applied rules are taken from the whole history (not only up to `now`): an escalation
    // already appended is never proposed again.
    let applied: BTreeSet<&str> = history
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Escalated(x) => match &x.trigger {
                EscalationTrigger::Watchdog { rule_id, .. } => Some(rule_id.as_str()),
                EscalationTrigger::Person => None,
            },
            _ => None,
        })
        .collect();
    let received = f.received_at.unwrap_or(Timestamp::EPOCH);
    let mut out: Vec<EscalationDue> = f
        .planned
        .iter()
        .filter(|p| !applied.contains(p.rule_id.as_str()))
        .filter(|p| {
            let Some(clock) = rule_clock(&p.rule_id) else {
                // An unknown rule id (a newer policy's): plain due-time check, no relevance test.
                return p.due_at <= now;
            };
            // R-COMP-9, R-INC-4: one compensation unpaid, one report deadline missed — judged
            // on the rung's own item, not the ticket-wide clock (which the others also move).
            if let Some(pending) = f.casework.rung_pending(&p.rule_id) {
                return pending && p.due_at <= now;
            }
            if p.rule_id.starts_with(RULE_LADDER_PREFIX) {
                if f.resolved() {
                    return false;
                }
                let pausable = f.deadlines.get(&Clock::Resolution).is_some_and(|(d, _)| d.pausable);
                let paused = if pausable { f.paused_between(received, now) } else { 0 };
                return p.due_at.plus_millis(paused) <= now;
            }
            match f.effective_due(clock, now) {
                // Satisfied: the breach is over (or never happened).
                Some((_, _, Some(_))) => false,
                Some((eff, _, None)) => p.due_at.max(eff) <= now,
                None => p.due_at <= now,
            }
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.rule_id.cmp(&b.rule_id)));
    out
}

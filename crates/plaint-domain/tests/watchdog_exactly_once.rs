//! docs/domain.md §7 escalation ladder and SLA watchdog: which planned escalations are due at `now`,
//! each exactly once however often the watchdog asks.

mod sla_common;

use plaint_domain::time::MS_PER_HOUR;
use plaint_domain::watchdog::{due_escalations, rule_clock};
use plaint_domain::*;
use sla_common::{at, History};

const MON_10: &str = "2025-11-17T10:00:00+08:00";

fn hours_after_receipt(h: i64) -> Timestamp {
    at(MON_10).plus_hours(h)
}

fn ticket(severity: Severity, flags: Flags) -> History {
    let mut h = History::new();
    h.received(Channel::Hotline, at(MON_10), at(MON_10))
        .classified(severity, flags, at(MON_10));
    h
}

fn ids(due: &[EscalationDue]) -> Vec<&str> {
    due.iter().map(|d| d.rule_id.as_str()).collect()
}

/// Appends what the watchdog asks for, as the CLI would.
fn apply(h: &mut History, due: &[EscalationDue], now: Timestamp) {
    for d in due {
        h.escalated(
            d.level,
            EscalationTrigger::Watchdog {
                rule_id: d.rule_id.clone(),
                due_at: d.due_at,
            },
            now,
        );
    }
}

#[test]
fn section_7_ordinary_ladder_supervisor_at_48h_department_head_at_72h() {
    let mut h = ticket(Severity::Ordinary, Flags::default());
    assert!(due_escalations(&h.events, hours_after_receipt(47)).is_empty());
    let due = due_escalations(&h.events, hours_after_receipt(48));
    assert_eq!(ids(&due), ["ladder.supervisor"]);
    assert_eq!(due[0].level, EscalationLevel::Supervisor);
    assert_eq!(due[0].due_at, hours_after_receipt(48));
    // Asked again before it is applied: still due (the command id makes the append idempotent).
    assert_eq!(due_escalations(&h.events, hours_after_receipt(48)), due);
    apply(&mut h, &due, hours_after_receipt(48));
    assert!(due_escalations(&h.events, hours_after_receipt(49)).is_empty());
    let due = due_escalations(&h.events, hours_after_receipt(72));
    assert_eq!(ids(&due), ["ladder.department_head"]);
    assert_eq!(due[0].level, EscalationLevel::DepartmentHead);
    apply(&mut h, &due, hours_after_receipt(72));
    assert!(due_escalations(&h.events, hours_after_receipt(500)).is_empty());
}

#[test]
fn section_7_watchdog_run_every_hour_for_a_week_escalates_each_rule_exactly_once() {
    let mut h = ticket(Severity::Ordinary, Flags::default());
    for hour in 0..=168 {
        let now = hours_after_receipt(hour);
        // Ask three times per run, as overlapping watchdog runs would.
        let first = due_escalations(&h.events, now);
        assert_eq!(due_escalations(&h.events, now), first);
        apply(&mut h, &first, now);
        assert!(due_escalations(&h.events, now).is_empty(), "hour {hour}");
    }
    let applied: Vec<(String, Timestamp)> = h
        .events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Escalated(Escalated {
                trigger: EscalationTrigger::Watchdog { rule_id, .. },
                ..
            }) => Some((rule_id.clone(), e.meta.occurred_at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        applied,
        [
            ("ladder.supervisor".to_owned(), hours_after_receipt(48)),
            ("ladder.department_head".to_owned(), hours_after_receipt(72)),
        ]
    );
}

#[test]
fn section_7_a_resolved_or_closed_ticket_is_not_escalated_by_the_ladder() {
    let mut h = ticket(Severity::Ordinary, Flags::default());
    h.responded(ResponseKind::Final, hours_after_receipt(30));
    assert!(due_escalations(&h.events, hours_after_receipt(80)).is_empty());
    // Reopened after the revisit: unresolved again, the ladder applies (docs/domain.md §2 Reopened).
    h.revisited(false, hours_after_receipt(40))
        .reopened(hours_after_receipt(41));
    assert_eq!(
        ids(&due_escalations(&h.events, hours_after_receipt(80))),
        ["ladder.supervisor", "ladder.department_head"]
    );
    h.closed(hours_after_receipt(81));
    assert!(due_escalations(&h.events, hours_after_receipt(90)).is_empty());
}

#[test]
fn section_7_time_on_hold_postpones_the_ladder() {
    let mut h = ticket(Severity::Ordinary, Flags::default());
    h.on_hold(hours_after_receipt(10)).resumed(hours_after_receipt(20));
    assert!(due_escalations(&h.events, hours_after_receipt(48)).is_empty());
    assert!(due_escalations(&h.events, hours_after_receipt(57)).is_empty());
    assert_eq!(
        ids(&due_escalations(&h.events, hours_after_receipt(58))),
        ["ladder.supervisor"]
    );
}

#[test]
fn section_7_urgent_tickets_escalate_at_breach_of_their_clocks() {
    let h = ticket(Severity::Urgent, Flags::default());
    // Urgent: first response 3 h, resolution 24 h; no ladder.
    assert!(due_escalations(&h.events, hours_after_receipt(2)).is_empty());
    let due = due_escalations(&h.events, hours_after_receipt(3));
    assert_eq!(ids(&due), ["breach.first_response"]);
    assert_eq!(due[0].level, EscalationLevel::Supervisor);
    let due = due_escalations(&h.events, hours_after_receipt(24));
    assert_eq!(ids(&due), ["breach.first_response", "breach.resolution"]);
    assert_eq!(due[1].level, EscalationLevel::DepartmentHead);

    // Acknowledged in time: no first-response escalation, ever.
    let mut h = ticket(Severity::Urgent, Flags::default());
    h.responded(ResponseKind::Acknowledgement, hours_after_receipt(1));
    assert!(due_escalations(&h.events, hours_after_receipt(5)).is_empty());
    assert_eq!(
        ids(&due_escalations(&h.events, hours_after_receipt(25))),
        ["breach.resolution"]
    );
}

#[test]
fn section_7_major_tickets_escalate_at_breach_of_first_response_and_preliminary_plan() {
    let h = ticket(Severity::Major, Flags::default());
    let due = due_escalations(&h.events, hours_after_receipt(24));
    assert_eq!(ids(&due), ["breach.first_response", "breach.preliminary_plan"]);
    assert_eq!(due[0].level, EscalationLevel::DepartmentHead);
    assert_eq!(due[1].level, EscalationLevel::CenterDirector);
}

/// 000: 绿色通道 由中心负责人督办，4 小时内介入 (docs/domain.md R-SLA-9): the green channel
/// escalates to the policy's level (default the centre head) unless someone of that level
/// stepped in; a supervisor stepping in is not enough.
#[test]
fn seed000_green_channel_escalates_to_the_centre_head_after_4_hours_unless_one_stepped_in() {
    let media = Flags {
        media: true,
        ..Flags::default()
    };
    let h = ticket(Severity::Ordinary, media);
    assert!(due_escalations(&h.events, hours_after_receipt(3)).is_empty());
    let due = due_escalations(&h.events, hours_after_receipt(4));
    assert_eq!(ids(&due), ["green_channel"]);
    assert_eq!(due[0].level, EscalationLevel::CenterDirector);

    let mut h = ticket(Severity::Ordinary, media);
    h.escalated(
        EscalationLevel::Supervisor,
        EscalationTrigger::Person,
        hours_after_receipt(1),
    );
    assert_eq!(
        ids(&due_escalations(&h.events, hours_after_receipt(5))),
        ["green_channel"]
    );

    let mut h = ticket(Severity::Ordinary, media);
    h.escalated(
        EscalationLevel::CenterDirector,
        EscalationTrigger::Person,
        hours_after_receipt(1),
    );
    assert!(due_escalations(&h.events, hours_after_receipt(5)).is_empty());
}

#[test]
fn section_7_rule_ids_name_the_clock_they_watch() {
    assert_eq!(rule_clock("ladder.supervisor"), Some(Clock::Resolution));
    assert_eq!(rule_clock("breach.first_response"), Some(Clock::FirstResponse));
    assert_eq!(rule_clock("green_channel"), Some(Clock::GreenChannel));
    assert_eq!(rule_clock("breach.no_such_clock"), None);
    assert_eq!(hours_after_receipt(1).millis_since(at(MON_10)), MS_PER_HOUR);
}

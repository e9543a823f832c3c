//! docs/domain.md §7 "Service levels": verdicts per clock from hand-built histories.
//! The week of Mon 17 Nov 2025 has no public holiday (times in +08:00).

mod sla_common;

use plaint_domain::policy::{Policy, PolicyDuration};
use plaint_domain::sla::{evaluate, AppealEligibility, AppealReason, Verdict};
use plaint_domain::time::{MS_PER_HOUR, MS_PER_MINUTE};
use plaint_domain::*;
use sla_common::{at, History};

const MON_10: &str = "2025-11-17T10:00:00+08:00";

fn ordinary() -> History {
    let mut h = History::new();
    h.received(Channel::Hotline, at("2025-11-17T09:00:00+08:00"), at(MON_10))
        .classified(Severity::Ordinary, Flags::default(), at("2025-11-17T10:05:00+08:00"))
        .dispatched(Severity::Ordinary, at("2025-11-17T11:00:00+08:00"));
    h
}

#[test]
fn section_7_registration_within_one_working_day_of_contact_is_met() {
    let h = ordinary();
    let sla = evaluate(&h.events, at("2025-11-17T12:00:00+08:00"), &h.policy);
    let c = sla.clock(Clock::Registration);
    // Contact Mon 09:00 + 1 working day = Tue 09:00; registered Mon 10:00.
    assert_eq!(c.recorded_due_at, Some(at("2025-11-18T09:00:00+08:00")));
    assert_eq!(
        c.verdict,
        Verdict::Met {
            at: at(MON_10),
            margin_ms: 23 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_3_counter_registration_after_more_than_one_hour_is_breached() {
    let mut h = History::new();
    h.received(
        Channel::Counter,
        at("2025-11-17T09:00:00+08:00"),
        at("2025-11-17T10:30:00+08:00"),
    )
    .classified(Severity::Ordinary, Flags::default(), at("2025-11-17T10:31:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-17T12:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::Registration).verdict,
        Verdict::Breached {
            at: at("2025-11-17T10:30:00+08:00"),
            late_ms: 30 * MS_PER_MINUTE
        }
    );
}

#[test]
fn section_7_first_response_met_with_margin() {
    let mut h = ordinary();
    h.responded(ResponseKind::Acknowledgement, at("2025-11-17T12:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-17T13:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::FirstResponse).verdict,
        Verdict::Met {
            at: at("2025-11-17T12:00:00+08:00"),
            margin_ms: 22 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_resolution_pending_then_at_risk_then_pending_overdue() {
    let h = ordinary();
    // Ordinary resolution: 3 working days from Mon 10:00 = Thu 10:00 (72 h).
    let early = evaluate(&h.events, at("2025-11-19T09:00:00+08:00"), &h.policy); // 47 h used (65 %)
    let c = early.clock(Clock::Resolution);
    assert_eq!(c.recorded_due_at, Some(at("2025-11-20T10:00:00+08:00")));
    assert_eq!(c.verdict, Verdict::Pending);
    assert!(!c.at_risk);
    let late = evaluate(&h.events, at("2025-11-19T16:00:00+08:00"), &h.policy); // 54 h used (75 %)
    assert_eq!(late.clock(Clock::Resolution).verdict, Verdict::Pending);
    assert!(late.clock(Clock::Resolution).at_risk, "75 % of the allowance used");
    let over = evaluate(&h.events, at("2025-11-20T12:00:00+08:00"), &h.policy);
    assert_eq!(
        over.clock(Clock::Resolution).verdict,
        Verdict::PendingOverdue {
            overdue_ms: 2 * MS_PER_HOUR
        }
    );
    assert!(!over.clock(Clock::Resolution).at_risk);
    assert!(over.any_breach());
}

#[test]
fn section_7_resolution_breached_with_lateness() {
    let mut h = ordinary();
    h.responded(ResponseKind::Final, at("2025-11-20T11:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-21T09:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::Resolution).verdict,
        Verdict::Breached {
            at: at("2025-11-20T11:00:00+08:00"),
            late_ms: MS_PER_HOUR
        }
    );
    // The final response also satisfies the 7-day regulatory clock, on time.
    assert!(matches!(
        sla.clock(Clock::RegulatoryResult).verdict,
        Verdict::Met { .. }
    ));
}

#[test]
fn section_7_on_hold_pauses_resolution_but_never_first_response() {
    let mut h = ordinary();
    h.on_hold(at("2025-11-17T12:00:00+08:00"))
        .resumed(at("2025-11-18T12:00:00+08:00"))
        .responded(ResponseKind::Acknowledgement, at("2025-11-18T13:00:00+08:00"))
        .responded(ResponseKind::Final, at("2025-11-21T09:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-21T10:00:00+08:00"), &h.policy);
    assert_eq!(sla.paused_ms, 24 * MS_PER_HOUR);
    let res = sla.clock(Clock::Resolution);
    assert!(res.pausable);
    assert_eq!(res.paused_ms, 24 * MS_PER_HOUR);
    assert_eq!(res.effective_due_at, Some(at("2025-11-21T10:00:00+08:00")));
    assert_eq!(
        res.verdict,
        Verdict::Met {
            at: at("2025-11-21T09:00:00+08:00"),
            margin_ms: MS_PER_HOUR
        }
    );
    // First response: due Tue 10:00, answered Tue 13:00, the hold does not help.
    let fr = sla.clock(Clock::FirstResponse);
    assert!(!fr.pausable);
    assert_eq!(fr.paused_ms, 0);
    assert_eq!(
        fr.verdict,
        Verdict::Breached {
            at: at("2025-11-18T13:00:00+08:00"),
            late_ms: 3 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_a_ticket_still_on_hold_is_pending_past_its_recorded_due_time() {
    let mut h = ordinary();
    h.on_hold(at("2025-11-19T10:00:00+08:00"));
    // Recorded due Thu 10:00; on hold since Wed 10:00, so at Fri 10:00 48 h of pause count.
    let sla = evaluate(&h.events, at("2025-11-21T10:00:00+08:00"), &h.policy);
    assert!(sla.on_hold);
    let res = sla.clock(Clock::Resolution);
    assert_eq!(res.verdict, Verdict::Pending);
    assert_eq!(res.effective_due_at, Some(at("2025-11-22T10:00:00+08:00")));
}

#[test]
fn section_7_clocks_that_do_not_run_are_not_applicable() {
    let mut h = History::new();
    h.received(Channel::Hotline, at(MON_10), at(MON_10))
        .classified(Severity::Major, Flags::default(), at(MON_10));
    let sla = evaluate(&h.events, at("2025-11-17T10:30:00+08:00"), &h.policy);
    // Major tickets have no fixed resolution deadline; no flags, no green channel; not a
    // regulator referral; not dispatched yet; no final response yet.
    for clock in [
        Clock::Resolution,
        Clock::GreenChannel,
        Clock::RegulatorReply,
        Clock::Investigation,
        Clock::Revisit,
    ] {
        assert_eq!(sla.clock(clock).verdict, Verdict::NotApplicable, "{clock:?}");
    }
    assert_eq!(sla.clock(Clock::PreliminaryPlan).verdict, Verdict::Pending);
}

#[test]
fn section_7_closing_before_a_due_time_makes_an_unsatisfied_clock_moot_and_after_it_a_breach() {
    let mut h = ordinary();
    h.responded(ResponseKind::Final, at("2025-11-18T10:00:00+08:00"))
        .closed(at("2025-11-18T11:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-25T10:00:00+08:00"), &h.policy);
    assert!(sla.closed);
    // Revisit due Fri 21 Nov 10:00; closed Tue without one → moot.
    assert_eq!(sla.clock(Clock::Revisit).verdict, Verdict::NotApplicable);

    let mut h = ordinary();
    h.responded(ResponseKind::Final, at("2025-11-18T10:00:00+08:00"))
        .closed(at("2025-11-22T10:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-25T10:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::Revisit).verdict,
        Verdict::Breached {
            at: at("2025-11-22T10:00:00+08:00"),
            late_ms: 24 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_revisit_after_the_final_response_is_met() {
    let mut h = ordinary();
    h.responded(ResponseKind::Final, at("2025-11-18T10:00:00+08:00"))
        .revisited(true, at("2025-11-19T10:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-25T10:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::Revisit).verdict,
        Verdict::Met {
            at: at("2025-11-19T10:00:00+08:00"),
            margin_ms: 48 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_investigation_is_started_by_a_redispatch_or_a_response_after_dispatch() {
    let mut h = ordinary();
    h.push(
        at("2025-11-17T15:00:00+08:00"),
        EventData::Redispatched(Redispatched {
            from: Department("sorting".into()),
            to: Department("hub".into()),
            handler: None,
            routing: RoutingDecision::Manual,
            reason: String::new(),
        }),
    );
    let sla = evaluate(&h.events, at("2025-11-18T15:00:00+08:00"), &h.policy);
    // Dispatched Mon 11:00 + 24 h.
    assert_eq!(
        sla.clock(Clock::Investigation).verdict,
        Verdict::Met {
            at: at("2025-11-17T15:00:00+08:00"),
            margin_ms: 20 * MS_PER_HOUR
        }
    );
    // Preliminary solution (48 h after dispatch) is still pending.
    assert_eq!(sla.clock(Clock::PreliminarySolution).verdict, Verdict::Pending);
}

#[test]
fn section_4_green_channel_is_met_by_the_centre_head_stepping_in_not_by_the_watchdog() {
    let flags = Flags {
        repeat: true,
        ..Flags::default()
    };
    let mut h = History::new();
    h.received(Channel::Wechat, at(MON_10), at(MON_10))
        .classified(Severity::Ordinary, flags, at(MON_10))
        .escalated(
            EscalationLevel::Supervisor,
            EscalationTrigger::Watchdog {
                rule_id: "green_channel".into(),
                due_at: at("2025-11-17T14:00:00+08:00"),
            },
            at("2025-11-17T14:00:00+08:00"),
        );
    let sla = evaluate(&h.events, at("2025-11-17T15:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::GreenChannel).verdict,
        Verdict::PendingOverdue {
            overdue_ms: MS_PER_HOUR
        }
    );
    // seed 000 (R-SLA-9): 中心负责人督办 — a supervisor stepping in is not the centre head.
    h.escalated(
        EscalationLevel::Supervisor,
        EscalationTrigger::Person,
        at("2025-11-17T15:10:00+08:00"),
    );
    let sla = evaluate(&h.events, at("2025-11-17T15:20:00+08:00"), &h.policy);
    assert!(matches!(
        sla.clock(Clock::GreenChannel).verdict,
        Verdict::PendingOverdue { .. }
    ));
    h.escalated(
        EscalationLevel::CenterDirector,
        EscalationTrigger::Person,
        at("2025-11-17T15:30:00+08:00"),
    );
    let sla = evaluate(&h.events, at("2025-11-17T16:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::GreenChannel).verdict,
        Verdict::Breached {
            at: at("2025-11-17T15:30:00+08:00"),
            late_ms: 90 * MS_PER_MINUTE
        }
    );
}

fn major() -> History {
    let mut h = History::new();
    h.received(Channel::MediaLead, at(MON_10), at(MON_10))
        .classified(Severity::Major, Flags::default(), at(MON_10))
        .responded(ResponseKind::PreliminaryPlan, at("2025-11-18T09:00:00+08:00"));
    h
}

#[test]
fn section_7_major_progress_updates_every_24_hours_pending_and_overdue() {
    let mut h = major();
    // Plan due Tue 10:00, first update due Wed 10:00, every 24 h after each update.
    h.responded(ResponseKind::Progress, at("2025-11-19T09:00:00+08:00"))
        .responded(ResponseKind::Progress, at("2025-11-20T08:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-21T07:00:00+08:00"), &h.policy);
    let p = sla.clock(Clock::ProgressUpdate);
    assert_eq!(p.recorded_due_at, Some(at("2025-11-19T10:00:00+08:00")));
    assert_eq!(p.effective_due_at, Some(at("2025-11-21T08:00:00+08:00")));
    assert_eq!(p.verdict, Verdict::Pending);
    assert!(p.at_risk, "23 of 24 hours used");
    assert!(matches!(sla.clock(Clock::PreliminaryPlan).verdict, Verdict::Met { .. }));
    let sla = evaluate(&h.events, at("2025-11-21T09:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::ProgressUpdate).verdict,
        Verdict::PendingOverdue {
            overdue_ms: MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_major_progress_update_late_is_a_breach_that_stays() {
    let mut h = major();
    h.responded(ResponseKind::Progress, at("2025-11-19T12:00:00+08:00"))
        .responded(ResponseKind::Progress, at("2025-11-20T11:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-20T12:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::ProgressUpdate).verdict,
        Verdict::Breached {
            at: at("2025-11-19T12:00:00+08:00"),
            late_ms: 2 * MS_PER_HOUR
        }
    );
}

#[test]
fn section_7_major_progress_updates_met_once_the_final_response_ends_the_series() {
    let mut h = major();
    h.responded(ResponseKind::Progress, at("2025-11-19T09:00:00+08:00"))
        .responded(ResponseKind::Final, at("2025-11-19T12:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-25T12:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.clock(Clock::ProgressUpdate).verdict,
        Verdict::Met {
            at: at("2025-11-19T09:00:00+08:00"),
            margin_ms: MS_PER_HOUR
        }
    );
    // Resolved before the first update was due: no cycle ran.
    let mut h = major();
    h.responded(ResponseKind::Final, at("2025-11-18T12:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-25T12:00:00+08:00"), &h.policy);
    assert_eq!(sla.clock(Clock::ProgressUpdate).verdict, Verdict::NotApplicable);
}

#[test]
fn section_7_audit_rule_a_later_policy_change_never_changes_a_past_verdict() {
    let mut h = ordinary();
    h.responded(ResponseKind::Acknowledgement, at("2025-11-18T09:00:00+08:00"));
    let now = at("2025-11-25T10:00:00+08:00");
    let before = evaluate(&h.events, now, &h.policy);
    let mut stricter = Policy {
        version: "stricter-2".into(),
        ..Policy::default()
    };
    stricter.sla.ordinary.first_response = PolicyDuration::Hours(1);
    stricter.sla.ordinary.resolution = Some(PolicyDuration::Hours(2));
    let after = evaluate(&h.events, now, &stricter);
    assert_eq!(before.clocks, after.clocks);
    assert_eq!(after.policy_version.as_deref(), Some(h.policy.version.as_str()));
    assert!(matches!(after.clock(Clock::FirstResponse).verdict, Verdict::Met { .. }));
}

#[test]
fn section_7_events_after_now_are_ignored() {
    let mut h = ordinary();
    h.responded(ResponseKind::Acknowledgement, at("2025-11-18T09:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-17T20:00:00+08:00"), &h.policy);
    assert_eq!(sla.clock(Clock::FirstResponse).verdict, Verdict::Pending);
}

#[test]
fn section_7_regulator_referral_runs_the_15_day_reply_clock() {
    let mut h = History::new();
    h.received(Channel::RegulatorReferral, at(MON_10), at(MON_10))
        .classified(Severity::Urgent, Flags::default(), at(MON_10));
    let sla = evaluate(&h.events, at("2025-11-18T10:00:00+08:00"), &h.policy);
    let c = sla.clock(Clock::RegulatorReply);
    assert_eq!(c.recorded_due_at, Some(at("2025-12-02T10:00:00+08:00")));
    assert_eq!(c.verdict, Verdict::Pending);
    assert_eq!(sla.appeal, AppealEligibility::AlreadyReferred);
}

#[test]
fn section_7_appeal_eligibility_no_answer_in_7_days_or_dissatisfied_within_a_year() {
    let h = ordinary();
    let sla = evaluate(&h.events, at("2025-11-20T10:00:00+08:00"), &h.policy);
    assert_eq!(sla.appeal, AppealEligibility::NotEligible);
    let sla = evaluate(&h.events, at("2025-11-25T10:00:00+08:00"), &h.policy);
    assert_eq!(
        sla.appeal,
        AppealEligibility::Eligible {
            reason: AppealReason::NoAnswer,
            since: at("2025-11-24T10:00:00+08:00"),
            until: at("2026-11-17T10:00:00+08:00"),
        }
    );
    let sla = evaluate(&h.events, at("2026-12-01T10:00:00+08:00"), &h.policy);
    assert!(matches!(
        sla.appeal,
        AppealEligibility::Expired {
            reason: AppealReason::NoAnswer,
            ..
        }
    ));

    let mut h = ordinary();
    h.responded(ResponseKind::Final, at("2025-11-18T10:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-30T10:00:00+08:00"), &h.policy);
    assert_eq!(sla.appeal, AppealEligibility::NotEligible);
    h.revisited(false, at("2025-11-19T10:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-30T10:00:00+08:00"), &h.policy);
    assert!(matches!(
        sla.appeal,
        AppealEligibility::Eligible {
            reason: AppealReason::Dissatisfied,
            ..
        }
    ));
}

#[test]
fn section_7_verdicts_serialise_as_json_for_reports() {
    let mut h = ordinary();
    h.responded(ResponseKind::Acknowledgement, at("2025-11-17T12:00:00+08:00"));
    let sla = evaluate(&h.events, at("2025-11-17T13:00:00+08:00"), &h.policy);
    let json = serde_json::to_value(&sla).unwrap();
    let fr = &json["clocks"][1];
    assert_eq!(fr["clock"], "first_response");
    assert_eq!(fr["verdict"]["verdict"], "met");
    assert_eq!(fr["verdict"]["margin_ms"], 22 * MS_PER_HOUR);
    assert_eq!(json["appeal"]["appeal"], "not_eligible");
}

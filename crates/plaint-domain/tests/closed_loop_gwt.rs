//! Given/when/then tests of issue 17 part 1 (docs/domain.md R-LOOP, R-SLA-8, R-SLA-9, R-SEV,
//! R-RTE-4, R-SUP, R-OWN): the closed loop, every revisit counted, channel first-response
//! clocks, the green channel's level, severity suggestions, keyword negation, supervision and
//! first-contact ownership. Each test is named after the seed document and rule it checks.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::policy::{keyword_hit, UnsatisfiedRevisit};
use plaint_domain::sla::{evaluate, Verdict};
use plaint_domain::state::{Rejection, Status};
use plaint_domain::watchdog::due_escalations;
use plaint_domain::*;

fn loop_not_closed(r: Result<Vec<Event>, Rejection>) -> String {
    match r {
        Err(Rejection::LoopNotClosed { complaint, detail }) => {
            assert_eq!(complaint.as_str(), COMPLAINT);
            detail
        }
        other => panic!("expected loop_not_closed, got {other:?}"),
    }
}

fn receive_via(channel: Channel, description: &str) -> CommandBody {
    let CommandBody::Receive(mut r) = receive() else {
        unreachable!()
    };
    r.channel = channel;
    r.description = description.to_owned();
    CommandBody::Receive(r)
}

fn classify_as(category: Category, severity: Severity, flags: Flags, reason: Option<&str>) -> CommandBody {
    let CommandBody::Classify(mut c) = classify(severity) else {
        unreachable!()
    };
    c.category = category;
    c.flags = flags;
    c.severity_reason = reason.map(str::to_owned);
    CommandBody::Classify(c)
}

// ---------------------------------------------------------------------------------------------
// 002 closed loop: 受理-处理-反馈-回访-改进 缺一不可
// ---------------------------------------------------------------------------------------------

/// Given a final response and no revisit, when the ticket is closed without a reason, then it
/// is refused (the "closed one hour after its final response with no revisit").
#[test]
fn seed002_close_requires_revisit() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    w.advance_hours(1);
    let before = w.events.len();
    let detail = loop_not_closed(w.when(close()));
    assert!(detail.contains("no revisit since the final response"), "{detail}");
    assert!(detail.contains("customer_unreachable, customer_declined"), "{detail}");
    assert_eq!(w.events.len(), before, "nothing written");
    // After a satisfied revisit it closes, and records no reason.
    w.given(revisit(true, true));
    let e = w.given(close());
    let EventData::Closed(c) = &e[0].data else { panic!() };
    assert_eq!(c.without_revisit, None);
    // A reason is refused once the customer was revisited (nothing to stand in for).
    let mut w2 = World::new();
    w2.given_final_response(Severity::Ordinary);
    w2.given(revisit(true, true));
    assert!(matches!(
        w2.when(close_without_revisit(CloseReason::CustomerDeclined)),
        Err(Rejection::Invalid {
            field: "without_revisit",
            ..
        })
    ));
}

/// Given a final response, when the customer declines the revisit, then the ticket closes with
/// that reason recorded.
#[test]
fn seed002_close_with_customer_declined_records_the_reason() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    let e = w.given(close_without_revisit(CloseReason::CustomerDeclined));
    let EventData::Closed(c) = &e[0].data else { panic!() };
    assert_eq!(c.without_revisit, Some(CloseReason::CustomerDeclined));
    assert_eq!(w.state().closed_without_revisit, Some(CloseReason::CustomerDeclined));
}

/// Given a final response, when the ticket closes as "customer unreachable", then it needs the
/// policy's number of failed attempts (3) recorded as events within the revisit window.
#[test]
fn seed002_unreachable_needs_attempts_within_the_revisit_window() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    for n in 1..=2 {
        w.advance_hours(5);
        let e = w.given(revisit_attempt());
        let EventData::RevisitAttempted(a) = &e[0].data else {
            panic!()
        };
        assert_eq!(a.attempt, n);
    }
    let detail = loop_not_closed(w.when(close_without_revisit(CloseReason::CustomerUnreachable)));
    assert!(detail.contains("needs 3 failed revisit attempts"), "{detail}");
    assert!(detail.contains("2 recorded"), "{detail}");
    // The third attempt after the 3-day window does not count.
    w.advance_hours(80);
    w.given(revisit_attempt());
    let detail = loop_not_closed(w.when(close_without_revisit(CloseReason::CustomerUnreachable)));
    assert!(detail.contains("within the revisit window"), "{detail}");

    // Three attempts inside the window close it.
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    for _ in 0..3 {
        w.advance_hours(10);
        w.given(revisit_attempt());
    }
    let e = w.given(close_without_revisit(CloseReason::CustomerUnreachable));
    let EventData::Closed(c) = &e[0].data else { panic!() };
    assert_eq!(c.without_revisit, Some(CloseReason::CustomerUnreachable));
}

/// Given a policy that lists no reason, when a ticket closes without a revisit, then it is
/// refused whatever the reason; attempts recorded before a reopen do not count after it.
#[test]
fn seed002_reasons_come_from_the_policy_and_attempts_restart_after_a_reopen() {
    let mut w = World::new();
    w.policy.closed_loop.close_without_revisit = vec![CloseReason::CustomerUnreachable];
    w.given_final_response(Severity::Ordinary);
    let detail = loop_not_closed(w.when(close_without_revisit(CloseReason::CustomerDeclined)));
    assert!(
        detail.contains("customer_declined is not a reason the policy accepts"),
        "{detail}"
    );
    for _ in 0..3 {
        w.advance_hours(1);
        w.given(revisit_attempt());
    }
    // The customer calls back unhappy: reopened, answered again; the old attempts are moot.
    w.given(CommandBody::Reopen(Reopen {
        reason: "客户来电不认可答复".to_owned(),
    }));
    w.given(respond(ResponseKind::Final));
    assert!(w.state().revisit_attempts.is_empty());
    loop_not_closed(w.when(close_without_revisit(CloseReason::CustomerUnreachable)));
}

/// Given an unsatisfied revisit, then the ticket reopens; from the policy's second unsatisfied
/// revisit on it also escalates (to the department head, then a level higher).
#[test]
fn seed002_unsatisfied_revisits_reopen_then_escalate_as_the_policy_says() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    let e = w.given(revisit(false, false));
    assert_eq!(e.len(), 2, "revisited and reopened, no escalation the first time");
    w.given(respond(ResponseKind::Final));
    let e = w.given(revisit(true, false));
    assert_eq!(e.len(), 3);
    let EventData::Escalated(x) = &e[2].data else {
        panic!("{:?}", e[2].data)
    };
    assert_eq!(x.level, EscalationLevel::DepartmentHead);
    assert_eq!(x.trigger, EscalationTrigger::Person);
    w.given(respond(ResponseKind::Final));
    let e = w.given(revisit(false, false));
    let EventData::Escalated(x) = &e[2].data else { panic!() };
    assert_eq!(
        x.level,
        EscalationLevel::CenterDirector,
        "already at the level: one higher"
    );
    assert_eq!(w.state().status, Status::Dispatched);

    // "reopen" only: never escalates.
    let mut w = World::new();
    w.policy.closed_loop.unsatisfied_revisit = UnsatisfiedRevisit::Reopen;
    w.given_final_response(Severity::Ordinary);
    for _ in 0..3 {
        assert_eq!(w.given(revisit(false, false)).len(), 2);
        w.given(respond(ResponseKind::Final));
    }
}

/// Given a ticket revisited unsatisfied then satisfied, then both revisits are counted, with
/// the first and the latest outcome (the issue: "counts only the last revisit").
#[test]
fn seed002_every_revisit_is_counted_first_and_latest() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    w.given(revisit(false, false));
    w.given(respond(ResponseKind::Final));
    w.given(revisit(true, true));
    let s = w.state();
    assert_eq!(s.revisits.count, 2);
    assert_eq!(s.revisits.satisfied, 1);
    assert_eq!(s.revisits.unsatisfied, 1);
    assert_eq!(s.revisits.scored, 2);
    assert_eq!(s.revisits.score_sum, 2 + 5);
    assert!(!s.revisits.first.unwrap().satisfied);
    assert!(s.revisits.latest.unwrap().satisfied);
}

// ---------------------------------------------------------------------------------------------
// 000 channel clocks and the green channel
// ---------------------------------------------------------------------------------------------

/// Given a mini-program complaint, then its first response is due within 2 hours (000: 小程序
/// 2小时内反馈受理结果); an acknowledgement after 11 hours is a miss, not "met".
#[test]
fn seed000_mini_program_first_response_within_2_hours() {
    let mut w = World::new();
    w.given(receive_via(Channel::MiniProgram, "包裹延误"));
    w.given(verify());
    w.given(classify(Severity::Ordinary));
    let due = w.state().deadline(Clock::FirstResponse).unwrap().due_at;
    assert_eq!(due, t0().plus_hours(2));
    w.advance_hours(11);
    w.given(respond(ResponseKind::Acknowledgement));
    let sla = evaluate(&w.events, w.now, &w.policy);
    assert!(
        matches!(sla.clock(Clock::FirstResponse).verdict, Verdict::Breached { late_ms, .. } if late_ms == 9 * MS_PER_HOUR),
        "{:?}",
        sla.clock(Clock::FirstResponse).verdict
    );
    // A stricter tier keeps its own allowance (major: 1 h).
    let mut w = World::new();
    w.given(receive_via(Channel::MiniProgram, "包裹延误"));
    w.given(verify());
    w.given(classify(Severity::Major));
    assert_eq!(
        w.state().deadline(Clock::FirstResponse).unwrap().due_at,
        t0().plus_hours(1)
    );
}

/// 000: 绿色通道 由中心负责人督办: the green channel escalates to the centre head by default.
#[test]
fn seed000_green_channel_level_is_the_centre_head() {
    let mut w = World::new();
    w.given(receive_via(Channel::MediaLead, "记者来电询问包裹延误"));
    w.given(verify());
    w.given(classify(Severity::Major));
    let green = w
        .state()
        .escalations_planned
        .into_iter()
        .find(|d| d.rule_id == "green_channel")
        .unwrap();
    assert_eq!(green.level, EscalationLevel::CenterDirector);
    assert_eq!(green.due_at, t0().plus_hours(4));
}

// ---------------------------------------------------------------------------------------------
// 000 / 002 分级响应: severity suggestions
// ---------------------------------------------------------------------------------------------

/// Given a loss complaint, when it is classified ordinary without a reason, then it is refused
/// (000: 郵件丟失、保價糾紛 are urgent); with a reason, the override is recorded.
#[test]
fn seed000_loss_suggests_urgent_and_below_needs_a_reason() {
    let mut w = World::new();
    w.given_verified();
    let r = w.when(classify_as(Category::Loss, Severity::Ordinary, Flags::default(), None));
    match r {
        Err(Rejection::SeverityBelowSuggestion {
            suggested,
            classified,
            rules,
            ..
        }) => {
            assert_eq!((suggested, classified), ("urgent", "ordinary"));
            assert_eq!(rules, "sev.item_loss");
        }
        other => panic!("{other:?}"),
    }
    let e = w.given(classify_as(
        Category::Loss,
        Severity::Ordinary,
        Flags::default(),
        Some("客户来电确认包裹已找到"),
    ));
    assert_eq!(e.len(), 2);
    let EventData::SeverityOverridden(o) = &e[1].data else {
        panic!()
    };
    assert_eq!((o.suggested, o.classified), (Severity::Urgent, Severity::Ordinary));
    assert_eq!(o.reason, "客户来电确认包裹已找到");
    assert_eq!(w.state().severity_overridden, Some(Severity::Urgent));
}

/// Given media, group, regulator flags or a safety keyword, then major is suggested (000: 群體性
/// 投訴、媒體關注; 002: 安全隱患); at or above the suggestion nothing extra is recorded.
#[test]
fn seed002_media_group_regulator_safety_suggest_major() {
    let policy = plaint_domain::policy::Policy::default();
    for flags in [
        Flags {
            media: true,
            ..Flags::default()
        },
        Flags {
            group: true,
            ..Flags::default()
        },
        Flags {
            regulator: true,
            ..Flags::default()
        },
    ] {
        let s = policy.suggest_severity(Category::Delay, flags, "包裹延误").unwrap();
        assert_eq!(s.severity, Severity::Major, "{flags:?}");
        assert_eq!(s.rules, ["sev.exposure"]);
    }
    let s = policy
        .suggest_severity(Category::Damage, Flags::default(), "快件内锂电池起火，存在安全隐患")
        .unwrap();
    assert_eq!((s.severity, s.rules), (Severity::Major, vec!["sev.safety".to_owned()]));
    assert_eq!(
        policy.suggest_severity(Category::Delay, Flags::default(), "包裹延误"),
        None
    );

    let mut w = World::new();
    w.given_verified();
    let e = w.given(classify_as(Category::Loss, Severity::Major, Flags::default(), None));
    assert_eq!(e.len(), 1, "above the suggestion: no override");
}

// ---------------------------------------------------------------------------------------------
// 000 智能派单: keyword negation
// ---------------------------------------------------------------------------------------------

/// "未保价" (not insured) and "没有保价" must not route to legal because they contain "保价".
#[test]
fn seed000_negated_keyword_does_not_route() {
    let policy = plaint_domain::policy::Policy::default();
    let (dept, why) = policy.route(Category::Other, "包裹未保价，寄出后疑似丢失");
    assert_eq!(dept.0, "hub");
    assert_eq!(
        why,
        RoutingDecision::Rule {
            rule_id: "kw.loss".into(),
            matched: "丢失".into()
        }
    );
    let (dept, _) = policy.route(Category::Other, "我没有保价，但包裹损坏");
    assert_eq!(dept.0, "sorting");
    let (dept, _) = policy.route(Category::Other, "已保价的快件理赔有异议");
    assert_eq!(dept.0, "legal");
    // The prefixes are the policy's.
    assert!(keyword_hit("未保价", "保价", &[]));
    assert!(!keyword_hit("uninsured parcel", "insured", &["un".to_owned()]));
    // Negation in the severity rules too: "未起火" is no fire.
    assert_eq!(
        policy.suggest_severity(Category::Damage, Flags::default(), "快件未起火，仅外包装破损"),
        None
    );
}

// ---------------------------------------------------------------------------------------------
// 000 督办: supervision
// ---------------------------------------------------------------------------------------------

/// Given a supervision with a deadline, then it is a clock: pending, overdue past the deadline
/// and escalated by the watchdog to the policy's level once; closing ends it.
#[test]
fn seed000_supervision_is_a_clock_that_escalates_when_overdue() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    w.actor = Actor::person("dir-01").unwrap();
    let due = w.now.plus_hours(48);
    let e = w.given(CommandBody::OpenSupervision(OpenSupervision {
        due_at: due,
        note: "客户多次催办，限期两日办结".to_owned(),
    }));
    let EventData::SupervisionOpened(o) = &e[0].data else {
        panic!()
    };
    assert_eq!(o.number, 1);
    assert_eq!(o.escalate_to, EscalationLevel::CenterDirector);
    let s = w.state();
    assert_eq!(s.supervisions[0].opened_by, "dir-01");
    assert_eq!(s.deadline(Clock::Supervision).unwrap().due_at, due);
    let sla = evaluate(&w.events, w.now.plus_hours(1), &w.policy);
    assert_eq!(sla.clock(Clock::Supervision).verdict, Verdict::Pending);
    assert!(due_escalations(&w.events, w.now.plus_hours(47))
        .iter()
        .all(|d| d.rule_id != "supervision.1"));
    w.advance_hours(49);
    let sla = evaluate(&w.events, w.now, &w.policy);
    assert!(matches!(
        sla.clock(Clock::Supervision).verdict,
        Verdict::PendingOverdue { .. }
    ));
    let due_now = due_escalations(&w.events, w.now);
    let sup = due_now.iter().find(|d| d.rule_id == "supervision.1").unwrap();
    assert_eq!(sup.level, EscalationLevel::CenterDirector);
    w.given(escalate_watchdog("supervision.1", EscalationLevel::CenterDirector));
    assert!(due_escalations(&w.events, w.now)
        .iter()
        .all(|d| d.rule_id != "supervision.1"));
    // Closed late: breached at the closing.
    w.given(respond(ResponseKind::Final));
    w.given(close_without_revisit(CloseReason::CustomerDeclined));
    let sla = evaluate(&w.events, w.now, &w.policy);
    assert!(matches!(
        sla.clock(Clock::Supervision).verdict,
        Verdict::Breached { .. }
    ));
}

/// A supervision needs a note and a deadline after now, within the policy's maximum.
#[test]
fn seed000_supervision_needs_a_note_and_a_plausible_deadline() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    let ask = |due_at: Timestamp, note: &str| {
        CommandBody::OpenSupervision(OpenSupervision {
            due_at,
            note: note.to_owned(),
        })
    };
    let field = |r: Result<Vec<Event>, Rejection>| match r {
        Err(Rejection::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let now = w.now;
    assert_eq!(field(w.when(ask(now.plus_hours(24), " "))), "note");
    assert_eq!(field(w.when(ask(now, "督办"))), "due_at");
    assert_eq!(field(w.when(ask(now.plus_hours(31 * 24), "督办"))), "due_at");
    // Met when the ticket closes in time.
    w.given(ask(now.plus_hours(72), "督办"));
    w.given(respond(ResponseKind::Final));
    w.given(revisit(true, true));
    w.given(close());
    let sla = evaluate(&w.events, w.now, &w.policy);
    assert!(matches!(sla.clock(Clock::Supervision).verdict, Verdict::Met { .. }));
}

// ---------------------------------------------------------------------------------------------
// 004 / 002 首问负责制: first-contact ownership
// ---------------------------------------------------------------------------------------------

/// The first person who acts on the ticket owns it until closed; a transfer names the new owner
/// with a reason; others acting on it do not take it over.
#[test]
fn seed004_first_contact_owns_the_ticket_until_transferred() {
    let mut w = World::new();
    w.actor = Actor::System;
    w.given_received();
    assert_eq!(w.state().owner, None, "the system owns nothing");
    w.actor = Actor::person("agent-7").unwrap();
    w.given(verify());
    assert_eq!(w.state().owner.as_deref(), Some("agent-7"));
    w.actor = Actor::person("handler-1").unwrap();
    w.given(classify(Severity::Ordinary));
    w.given(dispatch(None));
    assert_eq!(w.state().owner.as_deref(), Some("agent-7"), "handling is not ownership");
    let transfer = |to: &str, reason: &str| {
        CommandBody::TransferOwnership(TransferOwnership {
            to: to.to_owned(),
            reason: reason.to_owned(),
        })
    };
    assert!(matches!(
        w.when(transfer("agent-9", "")),
        Err(Rejection::Invalid { field: "reason", .. })
    ));
    assert!(matches!(
        w.when(transfer("agent-7", "交接")),
        Err(Rejection::Invalid { field: "to", .. })
    ));
    let e = w.given(transfer("agent-9", "首问人休假，转交"));
    let EventData::OwnershipTransferred(t) = &e[0].data else {
        panic!()
    };
    assert_eq!((t.from.as_deref(), t.to.as_str()), (Some("agent-7"), "agent-9"));
    assert_eq!(w.state().owner.as_deref(), Some("agent-9"));
    assert_eq!(w.state().ownership_transfers, 1);
    w.given(respond(ResponseKind::Final));
    w.given(revisit(true, true));
    w.given(close());
    assert_eq!(w.state().owner.as_deref(), Some("agent-9"), "owned until closed");
    assert!(matches!(
        w.when(transfer("agent-1", "结案后转交")),
        Err(Rejection::IllegalTransition { .. })
    ));
}

//! Issue 17, given/when/then, named after the seed rules (docs/domain.md R-COMP-5 … R-COMP-8,
//! R-INC-1 … R-INC-3, R-IMP-1): the compensation lifecycle (seeds/001 明确赔偿标准和支付时限),
//! major-incident groups (seeds/000 重大投诉 成立专项小组 每日向客户通报进展) and improvement
//! actions (seeds/002 改进).

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::sla::{self, Verdict};
use plaint_domain::state::{Rejection, Status};
use plaint_domain::*;

/// Insured and lost: the ceiling is the insured amount (10 000 yuan).
fn insured(amount: i64) -> CompensationRequest {
    CompensationRequest {
        remedy: Remedy::Payment,
        amount: Money(amount),
        insured: true,
        insured_amount: Some(Money(1_000_000)),
        full_value: None,
        actual_loss: Some(Money(1_200_000)),
        postage: Some(Money(2_000)),
        total_loss: true,
        registered_letter: false,
        gross_negligence: false,
    }
}

fn propose(id: &str, amount: i64) -> CommandBody {
    CommandBody::ProposeCompensation(ProposeCompensation {
        compensation_id: id.to_owned(),
        compensation: insured(amount),
        note: String::new(),
    })
}

fn approve(id: &str, role: ApproverRole) -> CommandBody {
    CommandBody::ApproveCompensation(ApproveCompensation {
        compensation_id: id.to_owned(),
        role,
    })
}

fn pay(id: &str) -> CommandBody {
    CommandBody::PayCompensation(PayCompensation {
        compensation_id: id.to_owned(),
        reference: format!("FIN-{id}"),
    })
}

fn refuse(id: &str, reason: &str) -> CommandBody {
    CommandBody::RefuseCompensation(RefuseCompensation {
        compensation_id: id.to_owned(),
        reason: reason.to_owned(),
    })
}

fn invalid_field(r: Result<Vec<Event>, Rejection>) -> (&'static str, String) {
    match r {
        Err(Rejection::Invalid { field, reason, .. }) => (field, reason),
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

fn verdict(w: &World, clock: Clock) -> Verdict {
    sla::evaluate(&w.events, w.now, &w.policy).clock(clock).verdict
}

fn dispatched(severity: Severity) -> World {
    let mut w = World::new();
    w.given_dispatched(severity);
    w
}

#[test]
fn seed001_approved_compensation_states_standard_amount_and_payment_deadline() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 30_000));
    let events = w.given(approve("c1", ApproverRole::Supervisor));
    let EventData::CompensationApproved(a) = &events[0].data else {
        panic!("{:?}", events[0].data)
    };
    assert_eq!(a.required_role, ApproverRole::Supervisor);
    assert_eq!(a.amount, Money(30_000));
    // Default policy: paid within 7 days; stated in the office's time zone (UTC+8).
    assert_eq!(a.payment_due_at, w.now.plus_hours(7 * 24));
    assert!(
        a.customer_notice.contains("Postal Law art. 47"),
        "{}",
        a.customer_notice
    );
    assert!(a.customer_notice.contains("300.00 元"), "{}", a.customer_notice);
    assert!(a.customer_notice.contains("2026-12-02 09:00"), "{}", a.customer_notice);
    assert_eq!(w.state().compensated, Money(30_000));
    assert_eq!(verdict(&w, Clock::Payment), Verdict::Pending);
    w.advance_hours(24);
    let paid = w.given(pay("c1"));
    let EventData::CompensationPaid(p) = &paid[0].data else {
        panic!()
    };
    assert_eq!((p.late_ms, p.settled), (0, true));
    assert!(matches!(verdict(&w, Clock::Payment), Verdict::Met { .. }));
}

#[test]
fn seed001_approver_role_follows_the_policy_amount_bands() {
    let mut w = dispatched(Severity::Urgent);
    // 2 000 yuan: above the supervisor's 500 yuan band, within the department head's.
    w.given(propose("c1", 200_000));
    let (field, reason) = invalid_field(w.when(approve("c1", ApproverRole::Supervisor)));
    assert_eq!(field, "role");
    assert!(reason.contains("department_head or above"), "{reason}");
    // A higher role may always approve.
    w.given(approve("c1", ApproverRole::CenterDirector));
    // Above 5 000 yuan only the centre director.
    w.given(propose("c2", 600_000));
    let (_, reason) = invalid_field(w.when(approve("c2", ApproverRole::DepartmentHead)));
    assert!(reason.contains("center_director"), "{reason}");
}

#[test]
fn seed001_unpaid_approved_compensation_past_its_deadline_is_overdue() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 30_000));
    w.given(approve("c1", ApproverRole::Supervisor));
    w.advance_hours(8 * 24);
    assert!(matches!(
        verdict(&w, Clock::Payment),
        Verdict::PendingOverdue { overdue_ms } if overdue_ms == 24 * 3_600_000
    ));
    let paid = w.given(pay("c1"));
    let EventData::CompensationPaid(p) = &paid[0].data else {
        panic!()
    };
    assert_eq!(p.late_ms, 24 * 3_600_000);
    assert!(matches!(verdict(&w, Clock::Payment), Verdict::Breached { late_ms, .. } if late_ms == 24 * 3_600_000));
}

#[test]
fn seed001_payment_clock_runs_to_the_earliest_unpaid_deadline() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 10_000));
    w.given(approve("c1", ApproverRole::Supervisor));
    w.advance_hours(48);
    w.given(propose("c2", 10_000));
    w.given(approve("c2", ApproverRole::Supervisor));
    // The second approval leaves the clock at the first one's deadline.
    let due = sla::evaluate(&w.events, w.now, &w.policy)
        .clock(Clock::Payment)
        .recorded_due_at;
    assert_eq!(due, Some(t0().plus_hours(7 * 24)));
    // Paying the second leaves the first outstanding: not settled.
    let paid = w.given(pay("c2"));
    let EventData::CompensationPaid(p) = &paid[0].data else {
        panic!()
    };
    assert!(!p.settled);
    assert_eq!(verdict(&w, Clock::Payment), Verdict::Pending);
    w.given(pay("c1"));
    assert!(matches!(verdict(&w, Clock::Payment), Verdict::Met { .. }));
}

#[test]
fn dom6_ceiling_bounds_the_sum_of_proposals_and_a_refusal_releases_its_share() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 800_000));
    let r = w.when(propose("c2", 300_000));
    assert!(
        matches!(
            r,
            Err(Rejection::CompensationAboveCeiling {
                already_granted_fen: 800_000,
                headroom_fen: 200_000,
                ..
            })
        ),
        "{r:?}"
    );
    w.given(refuse("c1", "客户未能提供价值证明"));
    // The refused proposal no longer counts.
    w.given(propose("c2", 300_000));
    assert_eq!(w.state().granted.payment, 300_000);
}

#[test]
fn dom6_refusal_needs_a_reason_and_only_a_proposal_is_refused() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 10_000));
    assert_eq!(invalid_field(w.when(refuse("c1", "  "))).0, "reason");
    w.given(approve("c1", ApproverRole::Supervisor));
    let (field, reason) = invalid_field(w.when(refuse("c1", "too late")));
    assert_eq!(field, "compensation_id");
    assert!(reason.contains("is approved, not proposed"), "{reason}");
    let (_, reason) = invalid_field(w.when(pay("c9")));
    assert!(reason.contains("no compensation \"c9\""), "{reason}");
    // Paying twice is refused.
    w.given(pay("c1"));
    assert!(invalid_field(w.when(pay("c1"))).1.contains("is paid, not approved"));
    // A proposal id is unique per ticket.
    assert!(invalid_field(w.when(propose("c1", 100))).1.contains("already proposed"));
}

#[test]
fn seed002_closed_loop_no_close_while_a_payment_is_outstanding() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 10_000));
    w.given(respond(ResponseKind::Final));
    w.given(revisit(true, true));
    let (field, reason) = invalid_field(w.when(close()));
    assert_eq!(field, "compensation");
    assert!(reason.contains("waiting for approval"), "{reason}");
    w.given(approve("c1", ApproverRole::Supervisor));
    assert!(invalid_field(w.when(close())).1.contains("approved and unpaid"));
    w.given(pay("c1"));
    w.given(close());
    assert_eq!(w.state().status, Status::Closed);
}

#[test]
fn seed001_proposal_before_dispatch_is_an_illegal_transition() {
    let mut w = World::new();
    w.given_classified(Severity::Urgent);
    assert!(matches!(
        w.when(propose("c1", 100)),
        Err(Rejection::IllegalTransition {
            command: "propose_compensation",
            ..
        })
    ));
}

fn member(name: &str, role: &str) -> IncidentMember {
    IncidentMember {
        name: name.to_owned(),
        role: role.to_owned(),
    }
}

fn open_incident(members: Vec<IncidentMember>) -> CommandBody {
    CommandBody::OpenIncident(OpenIncident {
        incident_id: "INC-2026-11-01".to_owned(),
        title: "华北转运中心积压".to_owned(),
        cause: "转运中心设备故障".to_owned(),
        members,
    })
}

fn group() -> Vec<IncidentMember> {
    vec![
        member("王副总", "leader"),
        member("李律师", "legal"),
        member("赵经理", "pr"),
    ]
}

fn report(text: &str) -> CommandBody {
    CommandBody::ReportIncidentProgress(ReportIncidentProgress { text: text.to_owned() })
}

#[test]
fn seed000_major_complaint_forms_a_group_with_named_members_and_one_leader() {
    let mut w = dispatched(Severity::Ordinary);
    let (_, reason) = invalid_field(w.when(open_incident(group())));
    assert!(reason.contains("major, media or group"), "{reason}");

    let mut w = dispatched(Severity::Major);
    let (field, reason) = invalid_field(w.when(open_incident(vec![member("李律师", "legal")])));
    assert_eq!(field, "members");
    assert!(reason.contains("exactly one leader"), "{reason}");
    let (_, reason) = invalid_field(w.when(open_incident(vec![member("王副总", "leader"), member("某人", "chef")])));
    assert!(reason.contains("role \"chef\""), "{reason}");
    let events = w.given(open_incident(group()));
    let EventData::IncidentOpened(o) = &events[0].data else {
        panic!()
    };
    assert_eq!(o.members.len(), 3);
    assert_eq!(o.deadlines[0].clock, Clock::IncidentReport);
    assert_eq!(o.deadlines[0].due_at, w.now.plus_hours(24));
    assert!(invalid_field(w.when(open_incident(group())))
        .1
        .contains("already holds"));
}

#[test]
fn seed000_incident_daily_report_missed_is_visible() {
    let mut w = dispatched(Severity::Major);
    w.given(open_incident(group()));
    w.advance_hours(20);
    let on_time = w.given(report("已联系客户，正在排查"));
    let EventData::IncidentProgressReported(r) = &on_time[0].data else {
        panic!()
    };
    assert_eq!((r.late_ms, r.missed), (0, 0));
    // The next is due 24 h after that report (44 h); 50 h pass (70 h): the 44 h report was
    // missed entirely, and this one comes 2 h after the 68 h one was due.
    w.advance_hours(50);
    assert!(matches!(
        verdict(&w, Clock::IncidentReport),
        Verdict::PendingOverdue { overdue_ms } if overdue_ms == 26 * 3_600_000
    ));
    let late = w.given(report("设备已修复"));
    let EventData::IncidentProgressReported(r) = &late[0].data else {
        panic!()
    };
    assert_eq!(r.missed, 1);
    assert_eq!(r.late_ms, 2 * 3_600_000);
    assert_eq!(verdict(&w, Clock::IncidentReport), Verdict::Pending);
}

#[test]
fn seed000_tickets_of_one_incident_link_to_its_group() {
    let mut w = World::new();
    w.given_verified();
    let link = |lead: &str| {
        CommandBody::LinkIncident(LinkIncident {
            incident_id: "INC-2026-11-01".to_owned(),
            lead: ComplaintId::new(lead).unwrap(),
            note: "同一转运中心积压".to_owned(),
        })
    };
    assert_eq!(invalid_field(w.when(link(COMPLAINT))).0, "lead");
    w.given(link("CMP-2026-000001"));
    let s = w.state();
    assert_eq!(
        s.casework.linked_incident,
        Some((
            "INC-2026-11-01".to_owned(),
            ComplaintId::new("CMP-2026-000001").unwrap()
        ))
    );
    assert!(invalid_field(w.when(link("CMP-2026-000002")))
        .1
        .contains("already linked"));
}

#[test]
fn seed002_improvement_action_is_recorded_against_the_root_cause() {
    let mut w = dispatched(Severity::Ordinary);
    w.given(respond(ResponseKind::Final));
    let improve = |dept: &str| {
        CommandBody::RecordImprovement(RecordImprovement {
            action_id: "A-1".to_owned(),
            root_cause: None,
            department: Department(dept.to_owned()),
            action: "增开夜班班次".to_owned(),
        })
    };
    assert!(matches!(
        w.when(improve("kitchen")),
        Err(Rejection::UnknownDepartment { .. })
    ));
    let events = w.given(improve("sorting"));
    let EventData::ImprovementRecorded(i) = &events[0].data else {
        panic!()
    };
    assert_eq!(i.category, Category::Delay);
    // The final response's root cause.
    assert_eq!(i.root_cause, Some(Stage::Sorting));
    assert!(invalid_field(w.when(improve("sorting"))).1.contains("already recorded"));
}

#[test]
fn policy_names_the_approval_bands_and_refuses_a_bad_one() {
    let p = policy::Policy::default();
    assert_eq!(p.compensation_lifecycle.required_role(50_000), ApproverRole::Supervisor);
    assert_eq!(
        p.compensation_lifecycle.required_role(50_001),
        ApproverRole::DepartmentHead
    );
    assert_eq!(
        p.compensation_lifecycle.required_role(10_000_000),
        ApproverRole::CenterDirector
    );
    let src = p
        .to_toml_string()
        .replace("leader_role = \"leader\"", "leader_role = \"boss\"");
    let err = policy::Policy::from_toml_str(&src).unwrap_err();
    assert!(err.to_string().contains("incident.leader_role"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Issue 17's leftovers: overdue payments and missed reports escalate (R-COMP-9, R-INC-4); the
// dispute escalations of the assessment (R-DSP-1).
// ---------------------------------------------------------------------------------------------

fn watchdog(rule: &EscalationDue) -> CommandBody {
    CommandBody::Escalate(Escalate {
        level: rule.level,
        reason: format!("SLA watchdog: {}", rule.rule_id),
        rule_id: Some(rule.rule_id.clone()),
    })
}

fn due_ids(w: &World) -> Vec<String> {
    plaint_domain::watchdog::due_escalations(&w.events, w.now)
        .into_iter()
        .map(|d| d.rule_id)
        .collect()
}

#[test]
fn seed001_unpaid_compensation_past_its_payment_deadline_escalates_once() {
    // Given an approved compensation (7 days to pay) and a second one paid on time.
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 30_000));
    w.given(propose("c2", 20_000));
    let approved = w.given(approve("c1", ApproverRole::Supervisor));
    let EventData::CompensationApproved(a) = &approved[0].data else {
        panic!()
    };
    assert_eq!(a.overdue_level, Some(w.policy.compensation_lifecycle.overdue_level));
    w.given(approve("c2", ApproverRole::Supervisor));
    w.advance_hours(24);
    w.given(pay("c2"));
    // When the watchdog looks before the deadline: nothing; after it: c1's rung, at the
    // policy's level, due at its payment deadline.
    w.advance_hours(5 * 24);
    assert!(
        due_ids(&w).iter().all(|r| !r.starts_with("payment.")),
        "{:?}",
        due_ids(&w)
    );
    w.advance_hours(2 * 24);
    let due = plaint_domain::watchdog::due_escalations(&w.events, w.now);
    let rung = due.iter().find(|d| d.rule_id == "payment.c1").expect("payment.c1 due");
    assert_eq!(rung.level, EscalationLevel::DepartmentHead);
    assert_eq!(rung.due_at, a.payment_due_at);
    assert!(
        !due.iter().any(|d| d.rule_id == "payment.c2"),
        "a paid compensation never escalates"
    );
    // Then the escalation is recorded once, however often the watchdog asks.
    let rung = rung.clone();
    let events = w.given(watchdog(&rung));
    let EventData::Escalated(x) = &events[0].data else {
        panic!()
    };
    assert_eq!(x.level, EscalationLevel::DepartmentHead);
    assert!(matches!(&x.trigger, EscalationTrigger::Watchdog { rule_id, .. } if rule_id == "payment.c1"));
    assert!(w.when(watchdog(&rung)).unwrap().is_empty());
    assert!(!due_ids(&w).contains(&"payment.c1".to_owned()));
}

#[test]
fn seed001_compensation_paid_before_its_deadline_never_escalates() {
    let mut w = dispatched(Severity::Urgent);
    w.given(propose("c1", 30_000));
    w.given(approve("c1", ApproverRole::Supervisor));
    w.advance_hours(6 * 24);
    w.given(pay("c1"));
    w.advance_hours(30 * 24);
    assert!(due_ids(&w).iter().all(|r| !r.starts_with("payment.")));
    // The decider refuses the rung as well, should a stale watchdog ask.
    let stale = EscalationDue {
        rule_id: "payment.c1".to_owned(),
        level: EscalationLevel::DepartmentHead,
        due_at: w.now,
    };
    assert!(w.when(watchdog(&stale)).unwrap().is_empty());
}

#[test]
fn seed000_missed_daily_incident_report_escalates_per_missed_deadline() {
    // Given an incident group formed (first report due in 24 h).
    let mut w = dispatched(Severity::Major);
    let opened = w.given(open_incident(group()));
    let EventData::IncidentOpened(o) = &opened[0].data else {
        panic!()
    };
    assert_eq!(o.overdue_level, Some(EscalationLevel::CenterDirector));
    let rule0 = "incident_report.INC-2026-11-01.0".to_owned();
    w.advance_hours(23);
    assert!(!due_ids(&w).contains(&rule0));
    // When the first report is missed: the rung for deadline 0 falls due, to the centre head.
    w.advance_hours(2);
    let due = plaint_domain::watchdog::due_escalations(&w.events, w.now);
    let rung = due
        .iter()
        .find(|d| d.rule_id == rule0)
        .expect("deadline 0 missed")
        .clone();
    assert_eq!(rung.level, EscalationLevel::CenterDirector);
    w.given(watchdog(&rung));
    assert!(!due_ids(&w).contains(&rule0), "exactly once");
    // A late report starts the next deadline; it is met, so nothing is due.
    w.given(report("已联系客户，正在排查"));
    w.advance_hours(23);
    assert!(due_ids(&w).iter().all(|r| !r.starts_with("incident_report.")));
    // The next one missed escalates again, under its own rule.
    w.advance_hours(2);
    assert!(
        due_ids(&w).contains(&"incident_report.INC-2026-11-01.1".to_owned()),
        "{:?}",
        due_ids(&w)
    );
}

fn dispute(kind: DisputeKind, note: &str) -> CommandBody {
    CommandBody::RecordDisputeEscalation(RecordDisputeEscalation {
        kind,
        note: note.to_owned(),
    })
}

#[test]
fn seed002_litigation_is_a_dispute_escalation() {
    // Given a dispatched ticket, when the customer sues: the event records kind and note.
    let mut w = dispatched(Severity::Urgent);
    let events = w.given(dispute(
        DisputeKind::Litigation,
        "西湖区人民法院 (2026) 浙0106民初1234号",
    ));
    let EventData::DisputeEscalated(d) = &events[0].data else {
        panic!()
    };
    assert_eq!(d.kind, DisputeKind::Litigation);
    assert_eq!(w.state().disputes, vec![DisputeKind::Litigation]);
    // The same kind twice is refused; another kind is recorded; a note is required.
    let (field, reason) = invalid_field(w.when(dispute(DisputeKind::Litigation, "again")));
    assert_eq!(field, "kind");
    assert!(reason.contains("already recorded"), "{reason}");
    let (field, _) = invalid_field(w.when(dispute(DisputeKind::Media, "  ")));
    assert_eq!(field, "note");
    w.given(dispute(DisputeKind::Media, "本地晚报曝光"));
    assert_eq!(w.state().disputes, vec![DisputeKind::Litigation, DisputeKind::Media]);
    // It changes no status.
    assert_eq!(w.state().status, Status::Dispatched);
}

#[test]
fn seed002_dispute_escalation_on_a_new_ticket_is_an_illegal_transition() {
    let mut w = World::new();
    assert!(matches!(
        w.when(dispute(DisputeKind::Regulator, "邮政管理局转办")),
        Err(Rejection::IllegalTransition { .. })
    ));
}

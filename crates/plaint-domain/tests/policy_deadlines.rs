//! docs/domain.md §5 routing and §7 deadlines computed from the policy and the calendar when a ticket
//! is classified, dispatched and answered (the audit rule records them in the events).

use plaint_domain::calendar::Calendar;
use plaint_domain::policy::{LadderMeasure, Policy};
use plaint_domain::time::MS_PER_HOUR;
use plaint_domain::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn due(list: &[ClockDeadline], clock: Clock) -> Option<Timestamp> {
    list.iter().find(|d| d.clock == clock).map(|d| d.due_at)
}

#[test]
fn section_7_ordinary_ticket_before_national_day_gets_resolution_after_the_break() {
    let p = Policy::default();
    let cal = Calendar::china_mainland();
    let received = at("2025-09-30T16:00:00+08:00");
    let (d, esc) = p.classify_deadlines(
        &cal,
        Severity::Ordinary,
        Flags::default(),
        Channel::Hotline,
        received,
        received,
    );
    assert_eq!(due(&d, Clock::Resolution), Some(at("2025-10-11T16:00:00+08:00")));
    assert_eq!(due(&d, Clock::FirstResponse), Some(received.plus_hours(24)));
    // Registration: 1 working day after contact = Thu 9 Oct 16:00.
    assert_eq!(due(&d, Clock::Registration), Some(at("2025-10-09T16:00:00+08:00")));
    // The regulatory 7 days are calendar days.
    assert_eq!(due(&d, Clock::RegulatoryResult), Some(received.plus_hours(7 * 24)));
    assert_eq!(due(&d, Clock::PreliminaryPlan), None);
    assert_eq!(due(&d, Clock::GreenChannel), None);
    assert_eq!(due(&d, Clock::RegulatorReply), None);
    // Only resolution pauses.
    assert!(d.iter().all(|x| x.pausable == (x.clock == Clock::Resolution)));
    // Ladder since receipt: 48 h and 72 h.
    let ladder: Vec<(&str, Timestamp)> = esc.iter().map(|e| (e.rule_id.as_str(), e.due_at)).collect();
    assert_eq!(
        ladder,
        [
            ("ladder.supervisor", received.plus_hours(48)),
            ("ladder.department_head", received.plus_hours(72))
        ]
    );
}

#[test]
fn section_7_ladder_measured_past_due_when_the_policy_says_so() {
    let mut p = Policy::default();
    p.escalation.ladder_measure = LadderMeasure::PastDue;
    let cal = Calendar::china_mainland();
    let received = at("2025-11-17T10:00:00+08:00");
    let (d, esc) = p.classify_deadlines(
        &cal,
        Severity::Ordinary,
        Flags::default(),
        Channel::Hotline,
        received,
        received,
    );
    let res = due(&d, Clock::Resolution).unwrap();
    assert_eq!(res, at("2025-11-20T10:00:00+08:00"));
    assert_eq!(esc[0].due_at, res.plus_hours(48));
    assert_eq!(esc[1].due_at, res.plus_hours(72));
}

#[test]
fn section_7_major_ticket_with_media_flag_gets_plan_progress_and_green_channel() {
    let p = Policy::default();
    let cal = Calendar::china_mainland();
    let received = at("2025-11-17T10:00:00+08:00");
    let flags = Flags {
        media: true,
        group: true,
        ..Flags::default()
    };
    let (d, esc) = p.classify_deadlines(&cal, Severity::Major, flags, Channel::MediaLead, received, received);
    assert_eq!(due(&d, Clock::FirstResponse), Some(received.plus_hours(1)));
    assert_eq!(due(&d, Clock::PreliminaryPlan), Some(received.plus_hours(24)));
    assert_eq!(due(&d, Clock::ProgressUpdate), Some(received.plus_hours(48)));
    assert_eq!(due(&d, Clock::GreenChannel), Some(received.plus_hours(4)));
    assert_eq!(due(&d, Clock::Resolution), None);
    let ids: Vec<&str> = esc.iter().map(|e| e.rule_id.as_str()).collect();
    assert_eq!(
        ids,
        ["breach.first_response", "breach.preliminary_plan", "green_channel"]
    );
    assert_eq!(esc[0].due_at, received.plus_hours(1));
}

#[test]
fn section_3_counter_registration_is_one_hour_and_regulator_referral_runs_15_days() {
    let p = Policy::default();
    let cal = Calendar::china_mainland();
    let contact = at("2025-11-17T10:00:00+08:00");
    let (d, _) = p.classify_deadlines(
        &cal,
        Severity::Urgent,
        Flags::default(),
        Channel::Counter,
        contact,
        contact,
    );
    assert_eq!(due(&d, Clock::Registration), Some(contact.plus_hours(1)));
    assert_eq!(due(&d, Clock::FirstResponse), Some(contact.plus_hours(3)));
    assert_eq!(due(&d, Clock::Resolution), Some(contact.plus_hours(24)));
    let (d, _) = p.classify_deadlines(
        &cal,
        Severity::Urgent,
        Flags::default(),
        Channel::RegulatorReferral,
        contact,
        contact,
    );
    assert_eq!(due(&d, Clock::RegulatorReply), Some(contact.plus_hours(15 * 24)));
}

#[test]
fn section_7_dispatch_and_final_response_clocks() {
    let p = Policy::default();
    let cal = Calendar::china_mainland();
    let t = at("2025-11-17T10:00:00+08:00");
    let d = p.dispatch_deadlines(&cal, Severity::Ordinary, t);
    assert_eq!(due(&d, Clock::Investigation), Some(t.plus_hours(24)));
    assert_eq!(due(&d, Clock::PreliminarySolution), Some(t.plus_hours(48)));
    let d = p.final_response_deadlines(&cal, Severity::Ordinary, t);
    assert_eq!(d.len(), 1);
    assert_eq!(due(&d, Clock::Revisit), Some(t.plus_millis(3 * 24 * MS_PER_HOUR)));
}

#[test]
fn section_5_routing_by_chinese_keyword_records_the_rule() {
    let p = Policy::default();
    let cases = [
        ("快递延误三天", "sorting", "kw.delay", "延误"),
        ("包裹丢失了", "hub", "kw.loss", "丢失"),
        ("外包装破损，内件损坏", "sorting", "kw.damage", "破损"),
        ("保价赔偿金额有争议", "legal", "kw.insured_value", "保价"),
        ("快递员态度恶劣", "outlet", "kw.attitude", "态度"),
        ("未经同意放快递柜", "delivery", "kw.locker", "快递柜"),
        ("被放到驿站不通知", "delivery", "kw.locker", "驿站"),
        ("个人隐私被泄露", "legal", "kw.privacy", "隐私"),
        ("重量收费不清楚", "finance", "kw.fees", "收费"),
    ];
    for (text, dept, rule, kw) in cases {
        let (d, why) = p.route(Category::Other, text);
        assert_eq!(d, Department(dept.into()), "{text}");
        assert_eq!(
            why,
            RoutingDecision::Rule {
                rule_id: rule.into(),
                matched: kw.into()
            },
            "{text}"
        );
        assert!(p.is_department(&d));
    }
}

#[test]
fn section_5_routing_by_category_then_fallback() {
    let p = Policy::default();
    let (d, why) = p.route(Category::Information, "查询信息一直不更新");
    assert_eq!(d, Department("operations".into()));
    assert_eq!(
        why,
        RoutingDecision::Rule {
            rule_id: "cat.information".into(),
            matched: "category:information".into()
        }
    );
    let (d, why) = p.route(Category::Other, "其他问题");
    assert_eq!(d, Department("customer_service".into()));
    assert_eq!(why, RoutingDecision::Fallback);
    // Keywords match case-insensitively.
    let (d, _) = p.route(Category::Other, "My parcel is DELAYED");
    assert_eq!(d, Department("sorting".into()));
    assert!(!p.is_department(&Department("accounts".into())));
}

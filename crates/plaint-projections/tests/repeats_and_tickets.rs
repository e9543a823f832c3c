//! Repeat detection across channels (docs/domain.md §8) and the ticket view (§2–§6).

mod common;
use common::*;
use plaint_domain::event::*;
use plaint_domain::personal::match_key;
use plaint_domain::policy::Policy;
use plaint_domain::repeat::{judge_with, Candidate, CustomerRef, PriorComplaint, PriorComplaints, RepeatVerdict};
use plaint_domain::time::MS_PER_DAY;
use plaint_projections::repeats::Repeats;
use plaint_projections::tickets::{TicketStatus, Tickets};
use plaint_projections::Projection;

static MS: plaint_domain::personal::MatchSecret = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);

fn apply_all<P: Projection>(log: &Log) -> P {
    let mut p = P::default();
    for e in &log.events {
        p.apply(e);
    }
    p
}

#[test]
fn same_waybill_via_hotline_then_wechat_is_a_duplicate_and_same_category_within_window_a_repeat() {
    // The customer phones the hotline as "+86 138-0013-8000" and writes on WeChat as
    // "13800138000": one match key. First complaint: waybill EMS123 (delay), still open.
    let key = match_key(&MS, None, Some("+86 138-0013-8000")).unwrap();
    assert_eq!(Some(key.clone()), match_key(&MS, None, Some("13800138000")));
    let day0 = ts("2026-11-02T10:00:00+08:00");
    let mut log = Log::default();
    let mut first = Ticket::new("C-1");
    log.push(first.event(
        day0,
        received(Channel::Hotline, day0, Some(&key), Some("EMS123"), "north"),
    ));
    log.push(first.event(
        day0,
        classified(Category::Delay, Severity::Ordinary, CustomerTier::Standard, vec![]),
    ));
    let repeats: Repeats = apply_all(&log);
    let policy = Policy::default();

    // 1. Same waybill (written differently) via WeChat two hours later, first ticket open: duplicate.
    let wechat = Candidate {
        id: cid("C-2"),
        customer: CustomerRef::new(Some(&key), None),
        waybill: Some("ems-123".into()),
        category: None,
        received_at: hours(day0, 2),
    };
    assert_eq!(
        judge_with(&wechat, &repeats, &policy),
        RepeatVerdict::Duplicate { of: cid("C-1") }
    );
    assert_eq!(repeats.by_waybill("EMS 123").len(), 1);

    // 2. Once C-1 is closed, a new complaint about another waybill, same category (delay),
    // 20 days later: a repeat of C-1.
    let mut log2 = Log {
        events: log.events.clone(),
    };
    log2.push(first.event(
        hours(day0, 30),
        closed(Resolution::Resolved, true, Some(Stage::Transport)),
    ));
    let repeats: Repeats = apply_all(&log2);
    let later = Candidate {
        id: cid("C-3"),
        customer: CustomerRef::new(Some(&key), None),
        waybill: Some("EMS999".into()),
        category: Some(Category::Delay),
        received_at: day0.plus_millis(20 * MS_PER_DAY),
    };
    assert_eq!(
        judge_with(&later, &repeats, &policy),
        RepeatVerdict::Repeat { of: cid("C-1") }
    );

    // 3. The same 31 days later: outside the 30-day window → new. Another customer → new.
    let outside = Candidate {
        received_at: day0.plus_millis(31 * MS_PER_DAY),
        ..later.clone()
    };
    assert_eq!(judge_with(&outside, &repeats, &policy), RepeatVerdict::New);
    let stranger = Candidate {
        customer: CustomerRef::new(match_key(&MS, None, Some("13900000000")).as_deref(), None),
        ..later
    };
    assert_eq!(judge_with(&stranger, &repeats, &policy), RepeatVerdict::New);
}

/// Issue 11 item 2: the projection folds the verdicts the domain recorded (a repeat found at
/// classification, a duplicate flagged at verification); it never judges again.
#[test]
fn repeat_found_at_classification_and_flagged_duplicate_are_folded_from_the_log() {
    let t0 = ts("2026-11-02T10:00:00+08:00");
    let mut log = Log::default();
    let mut c1 = Ticket::new("C-1");
    let mut c2 = Ticket::new("C-2");
    let mut c3 = Ticket::new("C-3");
    log.push(c1.event(t0, received(Channel::Hotline, t0, Some("k1"), Some("W1"), "north")));
    log.push(c2.event(
        hours(t0, 5),
        received(Channel::Wechat, t0, Some("k1"), Some("W2"), "north"),
    ));
    log.push(c2.event(hours(t0, 5), verified(None)));
    let mut c = classified(Category::Delay, Severity::Ordinary, CustomerTier::Standard, vec![]);
    if let EventData::Classified(c) = &mut c {
        c.repeat_of = Some(cid("C-1"));
        c.flags.repeat = true;
    }
    log.push(c2.event(hours(t0, 6), c));
    log.push(c3.event(
        hours(t0, 7),
        received(Channel::Email, t0, Some("k1"), Some("W1"), "north"),
    ));
    let mut v = verified(None);
    if let EventData::Verified(v) = &mut v {
        v.duplicate_of = Some(cid("C-1"));
    }
    log.push(c3.event(hours(t0, 7), v));
    let repeats: Repeats = apply_all(&log);
    let r = repeats.report(t0, hours(t0, 24));
    assert_eq!(
        (r.received, r.repeats, r.flagged_duplicates, r.duplicates),
        (3, 1, 1, 0)
    );
    assert_eq!(
        (r.repeat_links[0].id.clone(), r.repeat_links[0].of.clone()),
        (cid("C-2"), cid("C-1"))
    );
    assert_eq!(r.flagged_duplicate_links[0].of, cid("C-1"));
    assert_eq!(repeats.chain(&cid("C-2")), vec![cid("C-2"), cid("C-1")]);

    // What the port answers equals the domain's reference fold of each complaint's events.
    let mut reference: Vec<Option<PriorComplaint>> = vec![None; 3];
    for e in &log.events {
        let i = ["C-1", "C-2", "C-3"]
            .iter()
            .position(|c| *c == e.meta.complaint_id.as_str())
            .unwrap();
        PriorComplaint::fold(&mut reference[i], e);
    }
    let reference: Vec<PriorComplaint> = reference.into_iter().flatten().collect();
    let customer = CustomerRef::new(Some("k1"), None);
    assert_eq!(repeats.of_customer(&customer), reference);
    assert!(repeats.of_customer(&CustomerRef::new(Some("k2"), None)).is_empty());
}

#[test]
fn links_chain_and_repeat_rate() {
    // C-1 received; C-2 repeats it; C-3 merged into C-2 as a duplicate; C-4 is reopened once.
    // Received 4, repeats 1, reopened 1 → repeat rate (1 + 1) / 4 = 0.5.
    let t0 = ts("2026-11-02T10:00:00+08:00");
    let mut log = Log::default();
    let mut c1 = Ticket::new("C-1");
    let mut c2 = Ticket::new("C-2");
    let mut c3 = Ticket::new("C-3");
    let mut c4 = Ticket::new("C-4");
    log.push(c1.event(t0, received(Channel::Hotline, t0, Some("k1"), Some("W1"), "north")));
    log.push(c2.event(
        hours(t0, 5),
        received(Channel::Wechat, t0, Some("k1"), Some("W2"), "north"),
    ));
    log.push(c2.event(hours(t0, 5), verified(Some("C-1"))));
    log.push(c3.event(
        hours(t0, 6),
        received(Channel::Email, t0, Some("k1"), Some("W2"), "north"),
    ));
    log.push(c3.event(hours(t0, 6), merged("C-2")));
    log.push(c4.event(hours(t0, 7), received(Channel::Counter, t0, Some("k9"), None, "south")));
    log.push(c4.event(hours(t0, 8), reopened(1)));
    let repeats: Repeats = apply_all(&log);
    assert_eq!(repeats.chain(&cid("C-2")), vec![cid("C-2"), cid("C-1")]);
    let r = repeats.report(t0, hours(t0, 24));
    assert_eq!((r.received, r.repeats, r.duplicates, r.reopened), (4, 1, 1, 1));
    assert_eq!(r.repeat_rate, Some(0.5));
    assert_eq!(r.duplicate_links[0].of, cid("C-2"));
    assert_eq!(repeats.by_customer(Some("k1"), None).len(), 3);

    let tickets: Tickets = apply_all(&log);
    let v1 = tickets.view(&cid("C-1")).unwrap();
    assert_eq!(v1.repeated_by, vec![cid("C-2")]);
    let v2 = tickets.view(&cid("C-2")).unwrap();
    assert_eq!(v2.repeat_of, Some(cid("C-1")));
    assert!(v2.flags.repeat);
    assert_eq!(v2.duplicates, vec![cid("C-3")]);
    assert_eq!(tickets.view(&cid("C-3")).unwrap().status, TicketStatus::Merged);
}

#[test]
fn ticket_view_keeps_department_history_responses_and_counts() {
    let t0 = ts("2026-11-02T10:00:00+08:00");
    let mut log = Log::default();
    let mut t = Ticket::new("C-10");
    log.push(t.event(t0, received(Channel::Hotline, t0, Some("k1"), Some("W1"), "north")));
    log.push(t.event(hours(t0, 1), verified(None)));
    log.push(t.event(
        hours(t0, 1),
        classified(Category::Loss, Severity::Urgent, CustomerTier::Vip, vec![]),
    ));
    log.push(t.event(hours(t0, 2), dispatched("sorting", vec![])));
    log.push(t.event(hours(t0, 3), redispatched("sorting", "legal")));
    log.push(t.event(hours(t0, 4), on_hold()));
    log.push(t.event(hours(t0, 6), resumed()));
    log.push(t.event(hours(t0, 7), escalated(EscalationLevel::Supervisor)));
    log.push(t.event(
        hours(t0, 8),
        responded(ResponseKind::Final, Some(true), Some(Stage::Hub), vec![]),
    ));
    log.push(t.event(hours(t0, 30), revisited(false, false, Some(2))));
    log.push(t.event(hours(t0, 30), reopened(1)));
    log.push(t.event(
        hours(t0, 40),
        responded(ResponseKind::Final, Some(true), Some(Stage::Hub), vec![]),
    ));
    log.push(t.event(hours(t0, 50), closed(Resolution::Resolved, true, Some(Stage::Hub))));
    let tickets: Tickets = apply_all(&log);
    let v = tickets.view(&cid("C-10")).unwrap();
    assert_eq!(v.status, TicketStatus::Closed);
    assert_eq!(v.stream_version, 13);
    assert_eq!(v.last_position, 13);
    assert_eq!(v.category, Some(Category::Loss));
    assert_eq!(v.customer_tier, Some(CustomerTier::Vip));
    let depts: Vec<&str> = v.assignments.iter().map(|a| a.department.as_str()).collect();
    assert_eq!(depts, ["sorting", "legal"]);
    assert_eq!(v.department(), Some("legal"));
    assert_eq!(v.assignments[1].reason.as_deref(), Some("wrong department"));
    assert_eq!(v.holds.len(), 1);
    assert_eq!(v.holds[0].until, Some(hours(t0, 6)));
    assert_eq!(v.responses.len(), 2);
    assert_eq!(v.escalations[0].level, EscalationLevel::Supervisor);
    assert_eq!(v.reopen_count, 1);
    assert_eq!(v.revisit.unwrap().satisfaction_score, Some(2));
    assert!(v.closed.unwrap().liable);
    assert_eq!(v.match_key.as_deref(), Some("k1"));
    assert!(!v.has_personal);
    // Events for an unknown complaint are counted, not fatal.
    let mut orphan = Ticket::new("C-NONE");
    let mut tickets = tickets;
    tickets.apply(&orphan.event(t0, verified(None)));
    assert_eq!(tickets.orphan_events(), 1);
    assert_eq!(tickets.len(), 1);
}

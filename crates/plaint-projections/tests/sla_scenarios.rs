//! Hand-computed SLA scenarios (docs/domain.md §7): every verdict kind, a deadline across a holiday
//! and a make-up working day, a pause on hold, a reopen; and the aggregates.

mod common;
use common::*;
use plaint_domain::calendar::Calendar;
use plaint_domain::event::*;
use plaint_domain::policy::Policy;
use plaint_domain::sla::Verdict;
use plaint_domain::time::{Timestamp, MS_PER_HOUR};
use plaint_projections::sla::{GroupBy, SlaProjection};
use plaint_projections::Projection;

fn classify(t: &mut Ticket, log: &mut Log, severity: Severity, received_at: Timestamp, at: Timestamp) {
    let policy = Policy::default();
    let cal = Calendar::china_mainland();
    let (deadlines, escalations) = policy.classify_deadlines(
        &cal,
        severity,
        Flags::default(),
        Channel::Hotline,
        received_at,
        received_at,
    );
    let mut data = classified(Category::Delay, severity, CustomerTier::Standard, deadlines);
    if let EventData::Classified(c) = &mut data {
        c.escalations = escalations;
        c.policy_version = policy.version.clone();
    }
    log.push(t.event(at, data));
}

fn final_response(at: Timestamp, severity: Severity) -> EventData {
    let policy = Policy::default();
    let cal = Calendar::china_mainland();
    responded(
        ResponseKind::Final,
        Some(true),
        Some(Stage::Transport),
        policy.final_response_deadlines(&cal, severity, at),
    )
}

fn project(log: &Log) -> SlaProjection {
    let mut p = SlaProjection::default();
    for e in &log.events {
        p.apply(e);
    }
    p
}

fn verdict(p: &SlaProjection, id: &str, clock: Clock, now: Timestamp) -> Verdict {
    p.ticket(&cid(id), now, &Policy::default())
        .unwrap()
        .clock(clock)
        .verdict
}

#[test]
fn deadline_across_national_day_and_a_makeup_working_day() {
    // Received Wed 30 Sep 2026 10:00 (UTC+8), ordinary: resolution is 3 working days. Sep 30
    // has 14 h left; 1–7 Oct are the National Day holiday; Thu 8 and Fri 9 Oct give 48 h; the
    // last 10 h fall on Sat 10 Oct, a make-up working day (调休): due 2026-10-10T10:00+08:00.
    let recv = ts("2026-09-30T10:00:00+08:00");
    let due = ts("2026-10-10T10:00:00+08:00");
    let mut log = Log::default();
    let mut on_time = Ticket::new("T-ON-TIME");
    let mut late = Ticket::new("T-LATE");
    for t in [&mut on_time, &mut late] {
        log.push(t.event(recv, received(Channel::Hotline, recv, None, None, "north")));
        classify(t, &mut log, Severity::Ordinary, recv, recv.plus_millis(60_000));
        log.push(t.event(hours(recv, 1), dispatched("transport", vec![])));
    }
    log.push(on_time.event(
        ts("2026-10-10T09:00:00+08:00"),
        final_response(ts("2026-10-10T09:00:00+08:00"), Severity::Ordinary),
    ));
    log.push(late.event(
        ts("2026-10-10T11:30:00+08:00"),
        final_response(ts("2026-10-10T11:30:00+08:00"), Severity::Ordinary),
    ));
    let p = project(&log);
    let now = ts("2026-10-20T00:00:00+08:00");
    let sla = p.ticket(&cid("T-ON-TIME"), now, &Policy::default()).unwrap();
    assert_eq!(sla.clock(Clock::Resolution).recorded_due_at, Some(due));
    assert_eq!(
        sla.clock(Clock::Resolution).verdict,
        Verdict::Met {
            at: ts("2026-10-10T09:00:00+08:00"),
            margin_ms: MS_PER_HOUR
        }
    );
    assert_eq!(
        verdict(&p, "T-LATE", Clock::Resolution, now),
        Verdict::Breached {
            at: ts("2026-10-10T11:30:00+08:00"),
            late_ms: 90 * 60_000
        }
    );
    // Before the due time and before any final response: pending; after: pending_overdue.
    assert_eq!(
        verdict(&p, "T-LATE", Clock::Resolution, ts("2026-10-09T12:00:00+08:00")),
        Verdict::Pending
    );
    assert_eq!(
        verdict(&p, "T-LATE", Clock::Resolution, ts("2026-10-10T11:00:00+08:00")),
        Verdict::PendingOverdue {
            overdue_ms: MS_PER_HOUR
        }
    );
    // No green channel for an unflagged ticket: not applicable.
    assert_eq!(verdict(&p, "T-LATE", Clock::GreenChannel, now), Verdict::NotApplicable);
}

#[test]
fn hold_pauses_the_resolution_clock_but_not_the_first_response() {
    // Urgent: first response 3 h, resolution 24 h (pausable). On hold from +2 h to +12 h
    // (10 h), final response at +30 h: effective due +34 h → met with 4 h margin. The first
    // response came at +4 h: 1 h late, the hold does not help it.
    let recv = ts("2026-11-02T09:00:00+08:00");
    let mut log = Log::default();
    let mut t = Ticket::new("T-HOLD");
    log.push(t.event(recv, received(Channel::Wechat, recv, None, None, "south")));
    classify(&mut t, &mut log, Severity::Urgent, recv, recv.plus_millis(60_000));
    log.push(t.event(hours(recv, 1), dispatched("hub", vec![])));
    log.push(t.event(hours(recv, 2), on_hold()));
    log.push(t.event(
        hours(recv, 4),
        responded(ResponseKind::Acknowledgement, None, None, vec![]),
    ));
    log.push(t.event(hours(recv, 12), resumed()));
    log.push(t.event(hours(recv, 30), final_response(hours(recv, 30), Severity::Urgent)));
    let p = project(&log);
    let now = hours(recv, 48);
    let sla = p.ticket(&cid("T-HOLD"), now, &Policy::default()).unwrap();
    let res = sla.clock(Clock::Resolution);
    assert_eq!(res.paused_ms, 10 * MS_PER_HOUR);
    assert_eq!(res.effective_due_at, Some(hours(recv, 34)));
    assert_eq!(
        res.verdict,
        Verdict::Met {
            at: hours(recv, 30),
            margin_ms: 4 * MS_PER_HOUR
        }
    );
    assert_eq!(
        sla.clock(Clock::FirstResponse).verdict,
        Verdict::Breached {
            at: hours(recv, 4),
            late_ms: MS_PER_HOUR
        }
    );
    assert_eq!(sla.paused_ms, 10 * MS_PER_HOUR);
}

#[test]
fn reopen_keeps_the_first_resolution_and_restarts_the_revisit_clock() {
    // Urgent, final at +10 h (resolution met, 14 h margin); revisit 3 days after each final
    // response. Unsatisfied revisit at +20 h → reopened; second final at +40 h records a new
    // revisit deadline (+40 h + 72 h = +112 h). At +120 h without a second revisit, the revisit
    // clock is pending_overdue by 8 h.
    let recv = ts("2026-11-03T09:00:00+08:00");
    let mut log = Log::default();
    let mut t = Ticket::new("T-REOPEN");
    log.push(t.event(recv, received(Channel::Hotline, recv, None, None, "east")));
    classify(&mut t, &mut log, Severity::Urgent, recv, recv.plus_millis(60_000));
    log.push(t.event(hours(recv, 1), dispatched("delivery", vec![])));
    log.push(t.event(hours(recv, 10), final_response(hours(recv, 10), Severity::Urgent)));
    log.push(t.event(hours(recv, 20), revisited(false, false, Some(1))));
    log.push(t.event(hours(recv, 20), reopened(1)));
    log.push(t.event(hours(recv, 40), final_response(hours(recv, 40), Severity::Urgent)));
    let p = project(&log);
    let sla = p
        .ticket(&cid("T-REOPEN"), hours(recv, 120), &Policy::default())
        .unwrap();
    assert_eq!(
        sla.clock(Clock::Resolution).verdict,
        Verdict::Met {
            at: hours(recv, 10),
            margin_ms: 14 * MS_PER_HOUR
        }
    );
    let revisit = sla.clock(Clock::Revisit);
    assert_eq!(revisit.recorded_due_at, Some(hours(recv, 112)));
    assert_eq!(
        revisit.verdict,
        Verdict::PendingOverdue {
            overdue_ms: 8 * MS_PER_HOUR
        }
    );
}

#[test]
fn aggregates_by_group_and_attribute_with_on_time_rates() {
    // Three urgent tickets (first response due +3 h): A met (response at +1 h), B breached
    // (+5 h, 2 h late), C no response → pending_overdue at now = +6 h. First-response on-time
    // rate = 1 / 3. Grouped by region, by the imported `agency` attribute, and by week.
    let recv = ts("2026-11-04T09:00:00+08:00");
    let mut log = Log::default();
    let specs = [
        ("A", "north", "post", Some(1)),
        ("B", "north", "courier", Some(5)),
        ("C", "south", "post", None),
    ];
    for (id, region, agency, resp) in specs {
        let mut t = Ticket::new(id);
        log.push(t.event(
            recv,
            received_with_attrs(Channel::Hotline, recv, region, &[("agency", agency)]),
        ));
        classify(&mut t, &mut log, Severity::Urgent, recv, recv.plus_millis(60_000));
        if let Some(h) = resp {
            log.push(t.event(
                hours(recv, h),
                responded(ResponseKind::Acknowledgement, None, None, vec![]),
            ));
        }
    }
    let p = project(&log);
    let now = hours(recv, 6);
    let policy = Policy::default();
    let r = p.report(now, &policy, Some(&GroupBy::Region), None);
    assert_eq!(r.schema_version, 1);
    assert_eq!(r.overall.tickets, 3);
    let fr = &r.overall.clocks["first_response"];
    assert_eq!((fr.met, fr.breached, fr.pending_overdue, fr.pending), (1, 1, 1, 0));
    assert_eq!(fr.on_time_rate, Some(1.0 / 3.0));
    assert_eq!(fr.lateness.p50_ms, Some(2 * MS_PER_HOUR));
    assert_eq!(r.overall.time_to_respond.count, 2);
    assert_eq!(r.overall.time_to_respond.mean_ms, Some(3 * MS_PER_HOUR));
    assert_eq!(r.groups["north"].clocks["first_response"].on_time_rate, Some(0.5));
    assert_eq!(r.groups["south"].clocks["first_response"].pending_overdue, 1);
    let by_agency = p.report(now, &policy, Some(&GroupBy::parse("attribute:agency").unwrap()), None);
    assert_eq!(by_agency.groups["post"].tickets, 2);
    assert_eq!(by_agency.groups["post"].clocks["first_response"].met, 1);
    assert_eq!(by_agency.groups["courier"].clocks["first_response"].breached, 1);
    let by_week = p.report(now, &policy, Some(&GroupBy::Week), None);
    assert_eq!(by_week.groups["2026-W45"].tickets, 3);
    // At now = +2.5 h, C's first response (3 h allowance) has used 83 % ≥ 75 %: at risk.
    let risk = p.at_risk(hours(recv, 2).plus_millis(30 * 60_000), &policy);
    assert!(risk
        .at_risk
        .iter()
        .any(|e| e.id == cid("C") && e.clock == Clock::FirstResponse));
    assert!(risk.overdue.is_empty() || risk.overdue.iter().all(|e| e.id != cid("A")));
    // JSON shape carries the schema version and RFC 3339 times.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["now"], "2026-11-04T07:00:00Z");
}

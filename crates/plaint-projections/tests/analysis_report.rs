//! Hand-computed weekly report, heat map and alerts (docs/domain.md §8).

mod common;
use common::*;
use plaint_domain::calendar::Calendar;
use plaint_domain::event::*;
use plaint_domain::policy::Policy;
use plaint_domain::time::{Timestamp, MS_PER_DAY, MS_PER_HOUR};
use plaint_projections::analysis::Analysis;
use plaint_projections::sla::SlaProjection;
use plaint_projections::util::{IsoWeek, Month};
use plaint_projections::Projection;

fn classify_real(category: Category, severity: Severity, tier: CustomerTier, at: Timestamp) -> EventData {
    let policy = Policy::default();
    let (deadlines, escalations) = policy.classify_deadlines(
        &Calendar::china_mainland(),
        severity,
        Flags::default(),
        Channel::Hotline,
        at,
        at,
    );
    let mut d = classified(category, severity, tier, deadlines);
    if let EventData::Classified(c) = &mut d {
        c.escalations = escalations;
    }
    d
}

/// Week 2026-W45 (Mon 2 – Sun 8 Nov, UTC+8) and one ticket just after it.
fn week_log() -> Log {
    let mut log = Log::default();
    // W1: hotline, north, delay; ack +2 h, final +20 h (liable, transport), satisfied (5), closed.
    let t1 = ts("2026-11-02T10:00:00+08:00");
    let mut w1 = Ticket::new("W1");
    log.push(w1.event(t1, received(Channel::Hotline, t1, Some("k1"), Some("A1"), "north")));
    log.push(w1.event(
        t1,
        classify_real(Category::Delay, Severity::Ordinary, CustomerTier::Standard, t1),
    ));
    log.push(w1.event(hours(t1, 1), dispatched("sorting", vec![])));
    log.push(w1.event(
        hours(t1, 2),
        responded(ResponseKind::Acknowledgement, None, None, vec![]),
    ));
    log.push(w1.event(
        hours(t1, 20),
        responded(ResponseKind::Final, Some(true), Some(Stage::Transport), vec![]),
    ));
    log.push(w1.event(hours(t1, 30), revisited(true, true, Some(5))));
    log.push(w1.event(
        hours(t1, 31),
        closed(Resolution::Resolved, true, Some(Stage::Transport)),
    ));
    // W2: WeChat, north, delay, urgent VIP; redispatched; ack +1 h; final +10 h (not liable,
    // sorting); unsatisfied (2) → reopened; second final +30 h; escalated by a person.
    let t2 = ts("2026-11-03T10:00:00+08:00");
    let mut w2 = Ticket::new("W2");
    log.push(w2.event(t2, received(Channel::Wechat, t2, Some("k2"), Some("A2"), "north")));
    log.push(w2.event(
        t2,
        classify_real(Category::Delay, Severity::Urgent, CustomerTier::Vip, t2),
    ));
    log.push(w2.event(hours(t2, 1), dispatched("sorting", vec![])));
    log.push(w2.event(
        hours(t2, 1),
        responded(ResponseKind::Acknowledgement, None, None, vec![]),
    ));
    log.push(w2.event(hours(t2, 2), redispatched("sorting", "transport")));
    log.push(w2.event(hours(t2, 5), escalated(EscalationLevel::Supervisor)));
    log.push(w2.event(
        hours(t2, 10),
        responded(ResponseKind::Final, Some(false), Some(Stage::Sorting), vec![]),
    ));
    log.push(w2.event(hours(t2, 20), revisited(false, false, Some(2))));
    log.push(w2.event(hours(t2, 20), reopened(1)));
    log.push(w2.event(
        hours(t2, 30),
        responded(ResponseKind::Final, Some(false), Some(Stage::Sorting), vec![]),
    ));
    // W3: email, south, loss, major, at-risk customer; repeats W1; ack +4 h (1 h allowed:
    // breached); escalated; no final yet.
    let t3 = ts("2026-11-04T10:00:00+08:00");
    let mut w3 = Ticket::new("W3");
    log.push(w3.event(t3, received(Channel::Email, t3, Some("k1"), Some("A3"), "south")));
    log.push(w3.event(t3, verified(Some("W1"))));
    log.push(w3.event(
        t3,
        classify_real(Category::Loss, Severity::Major, CustomerTier::AtRisk, t3),
    ));
    log.push(w3.event(hours(t3, 1), dispatched("legal", vec![])));
    log.push(w3.event(
        hours(t3, 4),
        responded(ResponseKind::Acknowledgement, None, None, vec![]),
    ));
    log.push(w3.event(hours(t3, 5), escalated(EscalationLevel::DepartmentHead)));
    // W4: counter, south; rejected at verification.
    let t4 = ts("2026-11-05T10:00:00+08:00");
    let mut w4 = Ticket::new("W4");
    log.push(w4.event(t4, received(Channel::Counter, t4, Some("k4"), None, "south")));
    log.push(w4.event(t4, rejected()));
    // W5: hotline, north, Sunday 23:00 local (still W45); merged into W1.
    let t5 = ts("2026-11-08T23:00:00+08:00");
    let mut w5 = Ticket::new("W5");
    log.push(w5.event(t5, received(Channel::Hotline, t5, Some("k1"), Some("A1"), "north")));
    log.push(w5.event(t5, merged("W1")));
    // W6: Monday 00:30 local = Sunday 16:30 UTC: week 46 locally, so not in the report.
    let t6 = ts("2026-11-09T00:30:00+08:00");
    let mut w6 = Ticket::new("W6");
    log.push(w6.event(t6, received(Channel::Hotline, t6, Some("k6"), None, "north")));
    log.push(w6.event(
        t6,
        classify_real(Category::Other, Severity::Ordinary, CustomerTier::Standard, t6),
    ));
    log
}

fn fold<P: Projection>(log: &Log) -> P {
    let mut p = P::default();
    for e in &log.events {
        p.apply(e);
    }
    p
}

#[test]
fn weekly_report_every_figure() {
    let log = week_log();
    let analysis: Analysis = fold(&log);
    let sla: SlaProjection = fold(&log);
    let now = ts("2026-11-10T12:00:00+08:00");
    let r = analysis.weekly_report(IsoWeek { year: 2026, week: 45 }, &sla, now, &Policy::default());
    assert_eq!(r.schema_version, 1);
    assert_eq!(r.week, "2026-W45");
    assert_eq!(r.from, ts("2026-11-02T00:00:00+08:00"));
    assert_eq!(r.to, ts("2026-11-09T00:00:00+08:00"));
    assert_eq!(r.received, 5);
    let m = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(r.by_category, m(&[("delay", 2), ("loss", 1)]));
    assert_eq!(
        r.by_channel,
        m(&[("counter", 1), ("email", 1), ("hotline", 2), ("wechat", 1)])
    );
    assert_eq!(r.by_region, m(&[("north", 3), ("south", 2)]));
    assert_eq!(
        r.by_department,
        m(&[("legal", 1), ("sorting", 1), ("transport", 1), ("unassigned", 2)])
    );
    // Repeat rate: W3 repeats, W2 was reopened: 2 / 5.
    assert_eq!((r.repeats, r.reopened), (1, 1));
    assert_eq!(r.repeat_rate, Some(0.4));
    // Satisfaction: W1 satisfied (5), W2 not (2).
    assert_eq!(
        (
            r.satisfaction.revisited,
            r.satisfaction.satisfied,
            r.satisfaction.solved
        ),
        (2, 1, 1)
    );
    assert_eq!(r.satisfaction.satisfied_rate, Some(0.5));
    assert_eq!(r.satisfaction.mean_score, Some(3.5));
    // First-contact resolution: W1 yes; W2 no (reopened, redispatched, two finals).
    assert_eq!((r.resolved, r.first_contact_resolved), (2, 1));
    assert_eq!(r.first_contact_resolution_rate, Some(0.5));
    // Escalation: W2, W3 → 2 / 5. Effective (liable): W1 → 1 / 5.
    assert_eq!(r.escalated, 2);
    assert_eq!(r.escalation_rate, Some(0.4));
    assert_eq!(r.effective, 1);
    assert_eq!(r.effective_rate, Some(0.2));
    assert_eq!((r.rejected, r.duplicates), (1, 1));
    // Time to respond: 1 h, 2 h, 4 h → mean 7/3 h, p50 2 h, p90 4 h (nearest rank).
    assert_eq!(r.time_to_respond.count, 3);
    assert_eq!(r.time_to_respond.mean_ms, Some(7 * MS_PER_HOUR / 3));
    assert_eq!(r.time_to_respond.p50_ms, Some(2 * MS_PER_HOUR));
    assert_eq!(r.time_to_respond.p90_ms, Some(4 * MS_PER_HOUR));
    // Time to resolve (first final): 10 h, 20 h → mean 15 h, p50 10 h, p90 20 h.
    assert_eq!(r.time_to_resolve.mean_ms, Some(15 * MS_PER_HOUR));
    assert_eq!(r.time_to_resolve.p50_ms, Some(10 * MS_PER_HOUR));
    assert_eq!(r.time_to_resolve.p90_ms, Some(20 * MS_PER_HOUR));
    // On time, first response: W1 (24 h allowed, 2 h) and W2 (3 h, 1 h) met, W3 (1 h, 4 h)
    // breached by 3 h; W4 and W5 were never classified: no deadline, not applicable.
    let fr = &r.on_time["first_response"];
    assert_eq!((fr.met, fr.breached, fr.not_applicable), (2, 1, 2));
    assert_eq!(fr.on_time_rate, Some(2.0 / 3.0));
    assert_eq!(fr.lateness.p90_ms, Some(3 * MS_PER_HOUR));
    // Resolution: W1 ordinary 3 working days → met; W2 urgent 24 h, final at 10 h → met; W3
    // major has no single resolution deadline in the default policy.
    let res = &r.on_time["resolution"];
    assert_eq!(res.met, 2);
    assert_eq!(res.breached + res.pending_overdue, 0);
    // Top issues: (delay, north) 2, then (loss, south) 1.
    assert_eq!(r.top_issues.len(), 2);
    assert_eq!(
        (
            r.top_issues[0].category,
            r.top_issues[0].region.as_str(),
            r.top_issues[0].count
        ),
        (Category::Delay, "north", 2)
    );
    assert_eq!((r.top_issues[1].category, r.top_issues[1].count), (Category::Loss, 1));
}

#[test]
fn heat_map_counts_category_stage_region_tier() {
    let log = week_log();
    let analysis: Analysis = fold(&log);
    let h = analysis.heat_map(Month { year: 2026, month: 11 });
    assert_eq!(h.month, "2026-11");
    let cells: Vec<_> = h
        .cells
        .iter()
        .map(|c| (c.category, c.stage, c.region.as_str(), c.customer_tier, c.count))
        .collect();
    assert_eq!(
        cells,
        vec![
            (Category::Delay, Some(Stage::Sorting), "north", CustomerTier::Vip, 1),
            (
                Category::Delay,
                Some(Stage::Transport),
                "north",
                CustomerTier::Standard,
                1
            ),
            (Category::Loss, None, "south", CustomerTier::AtRisk, 1),
            (Category::Other, None, "north", CustomerTier::Standard, 1),
        ]
    );
    assert!(analysis.heat_map(Month { year: 2026, month: 10 }).cells.is_empty());
}

#[test]
fn alerts_surge_and_region_delay_two_months_running() {
    let mut policy = Policy::default();
    policy.alerts.category_surge_share = 0.30;
    policy.alerts.category_surge_baseline_days = 7;
    policy.alerts.category_surge_count_min = 3;
    policy.alerts.region_delay_share = 0.40;
    policy.alerts.region_delay_months = 2;
    let mut log = Log::default();
    let mut n = 0;
    let mut add = |log: &mut Log, at: Timestamp, category: Category, region: &str| {
        n += 1;
        let mut t = Ticket::new(&format!("A-{n}"));
        log.push(t.event(at, received(Channel::Hotline, at, None, None, region)));
        log.push(t.event(
            at,
            classified(category, Severity::Ordinary, CustomerTier::Standard, vec![]),
        ));
    };
    // Surge: `damage` 2 a day on each of the 7 days before 20 Nov (baseline 2.0), 3 on 20 Nov:
    // 3 > 2.0 × 1.3 → alert (+50 %). `fees` 2 a day and 2 on the day → none.
    let day = ts("2026-11-20T09:00:00+08:00");
    for d in 1..=7 {
        for _ in 0..2 {
            add(&mut log, day.plus_millis(-d * MS_PER_DAY), Category::Damage, "centre");
            add(&mut log, day.plus_millis(-d * MS_PER_DAY), Category::Fees, "centre");
        }
    }
    for _ in 0..3 {
        add(&mut log, day, Category::Damage, "centre");
    }
    for _ in 0..2 {
        add(&mut log, day, Category::Fees, "centre");
    }
    // Region delay: west 3/5 delays in October (60 %) and 1/2 in November (50 %) → alert.
    // East 3/5 in October but 0/1 in November → none.
    let oct = ts("2026-10-15T09:00:00+08:00");
    let nov = ts("2026-11-05T09:00:00+08:00");
    for (region, at, delays, others) in [
        ("west", oct, 3, 2),
        ("west", nov, 1, 1),
        ("east", oct, 3, 2),
        ("east", nov, 0, 1),
    ] {
        for _ in 0..delays {
            add(&mut log, at, Category::Delay, region);
        }
        for _ in 0..others {
            add(&mut log, at, Category::Other, region);
        }
    }
    let analysis: Analysis = fold(&log);
    let a = analysis.alerts(ts("2026-11-20T18:00:00+08:00"), &policy);
    assert_eq!(a.surges.len(), 1, "{:?}", a.surges);
    let s = &a.surges[0];
    assert_eq!(
        (s.category, s.count, s.day.as_str()),
        (Category::Damage, 3, "2026-11-20")
    );
    assert_eq!(s.baseline, 2.0);
    assert_eq!(s.rise, Some(0.5));
    assert_eq!(a.region_delays.len(), 1, "{:?}", a.region_delays);
    assert_eq!(a.region_delays[0].region, "west");
    assert_eq!(
        a.region_delays[0].months,
        vec![("2026-10".to_string(), 0.6), ("2026-11".to_string(), 0.5)]
    );
    // With the default minimum of 5 complaints on the day, 3 is no surge.
    assert!(analysis
        .alerts(ts("2026-11-20T18:00:00+08:00"), &Policy::default())
        .surges
        .is_empty());
}

#[test]
fn the_same_figures_come_out_of_a_rebuild_from_the_file_log() {
    use plaint_projections::runner::{ProjectionSet, RebuildTarget, Runner};
    let log = week_log();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let set = rt.block_on(async {
        let store = file_log(dir.path());
        append_events(&store, &log.events).await;
        let mut runner = Runner::in_memory(ProjectionSet::default());
        runner.rebuild(&store, RebuildTarget::Head, &mut |_| {}).await.unwrap();
        runner.into_projections()
    });
    let now = ts("2026-11-10T12:00:00+08:00");
    let week = IsoWeek { year: 2026, week: 45 };
    let policy = Policy::default();
    let direct_analysis: Analysis = fold(&log);
    let direct_sla: SlaProjection = fold(&log);
    let from_log = set.analysis.state.weekly_report(week, &set.sla.state, now, &policy);
    assert_eq!(from_log, direct_analysis.weekly_report(week, &direct_sla, now, &policy));
    assert_eq!(from_log.received, 5);
    assert_eq!(
        serde_json::to_string(&set.analysis.state.heat_map(Month { year: 2026, month: 11 })).unwrap(),
        serde_json::to_string(&direct_analysis.heat_map(Month { year: 2026, month: 11 })).unwrap()
    );
}

//! docs/domain.md §7: properties of SLA evaluation and the watchdog over arbitrary histories.
//! Verdicts are well-formed, a final verdict never changes as `now` moves on, pending-overdue
//! never turns back into pending, and the watchdog appends each planned escalation at most once.

mod sla_common;

use plaint_domain::sla::{evaluate, Verdict};
use plaint_domain::time::MS_PER_HOUR;
use plaint_domain::watchdog::{due_escalations, next_due};
use plaint_domain::*;
use proptest::prelude::*;
use sla_common::{at, History};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Respond(ResponseKind),
    Hold,
    Resume,
    Redispatch,
    EscalateByPerson,
    Revisit(bool),
    Reopen,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop_oneof![
            Just(ResponseKind::Acknowledgement),
            Just(ResponseKind::Progress),
            Just(ResponseKind::PreliminaryPlan),
            Just(ResponseKind::Final)
        ]
        .prop_map(Op::Respond),
        Just(Op::Hold),
        Just(Op::Resume),
        Just(Op::Redispatch),
        Just(Op::EscalateByPerson),
        any::<bool>().prop_map(Op::Revisit),
        Just(Op::Reopen),
        Just(Op::Close),
    ]
}

fn severity() -> impl Strategy<Value = Severity> {
    prop_oneof![Just(Severity::Ordinary), Just(Severity::Urgent), Just(Severity::Major)]
}

fn build(sev: Severity, repeat: bool, ops: &[(Op, i64)]) -> (History, Timestamp) {
    let start = at("2025-09-26T16:00:00+08:00"); // a Friday before the National Day break
    let mut h = History::new();
    let flags = Flags {
        repeat,
        ..Flags::default()
    };
    h.received(Channel::Hotline, start, start)
        .classified(sev, flags, start)
        .dispatched(sev, start.plus_hours(1));
    let mut t = start.plus_hours(1);
    for (op, gap_min) in ops {
        t = t.plus_millis(gap_min * 60_000);
        match op {
            Op::Respond(k) => {
                h.responded(*k, t);
            }
            Op::Hold => {
                h.on_hold(t);
            }
            Op::Resume => {
                h.resumed(t);
            }
            Op::Redispatch => {
                h.push(
                    t,
                    EventData::Redispatched(Redispatched {
                        from: Department("sorting".into()),
                        to: Department("hub".into()),
                        handler: None,
                        routing: RoutingDecision::Manual,
                        reason: String::new(),
                    }),
                );
            }
            Op::EscalateByPerson => {
                h.escalated(EscalationLevel::Supervisor, EscalationTrigger::Person, t);
            }
            Op::Revisit(s) => {
                h.revisited(*s, t);
            }
            Op::Reopen => {
                h.reopened(t);
            }
            Op::Close => {
                h.closed(t);
                break;
            }
        }
    }
    (h, t)
}

proptest! {
    #[test]
    fn section_7_verdicts_are_well_formed_and_final_ones_never_change(
        sev in severity(),
        repeat in any::<bool>(),
        ops in proptest::collection::vec((op(), 0i64..3000), 0..25),
        later_h in 0i64..400,
    ) {
        let (h, last) = build(sev, repeat, &ops);
        let now1 = last;
        let now2 = last.plus_hours(later_h);
        let a = evaluate(&h.events, now1, &h.policy);
        let b = evaluate(&h.events, now2, &h.policy);
        for (x, y) in a.clocks.iter().zip(&b.clocks) {
            prop_assert_eq!(x.clock, y.clock);
            for c in [x, y] {
                match c.verdict {
                    Verdict::Met { margin_ms, .. } => prop_assert!(margin_ms >= 0),
                    Verdict::Breached { late_ms, .. } => prop_assert!(late_ms > 0),
                    Verdict::PendingOverdue { overdue_ms } => prop_assert!(overdue_ms > 0),
                    Verdict::Pending | Verdict::NotApplicable => {}
                }
                prop_assert!(c.paused_ms >= 0);
                if !c.pausable {
                    prop_assert_eq!(c.paused_ms, 0);
                }
                if let (Some(r), Some(e)) = (c.recorded_due_at, c.effective_due_at) {
                    if c.clock != Clock::ProgressUpdate {
                        prop_assert_eq!(e, r.plus_millis(c.paused_ms));
                    }
                }
            }
            match x.verdict {
                Verdict::Met { .. } | Verdict::Breached { .. } => prop_assert_eq!(x.verdict, y.verdict),
                Verdict::NotApplicable => prop_assert_eq!(y.verdict, Verdict::NotApplicable),
                Verdict::PendingOverdue { .. } => prop_assert!(
                    !matches!(y.verdict, Verdict::Pending),
                    "{:?} went from overdue back to pending", x.clock
                ),
                Verdict::Pending => {}
            }
        }
        // First response never pauses.
        prop_assert_eq!(b.clock(Clock::FirstResponse).paused_ms, 0);
    }

    #[test]
    fn section_7_watchdog_appends_each_planned_escalation_at_most_once(
        sev in severity(),
        repeat in any::<bool>(),
        ops in proptest::collection::vec((op(), 0i64..3000), 0..15),
        step_h in 1i64..12,
    ) {
        let (mut h, last) = build(sev, repeat, &ops);
        let start = h.events[0].meta.occurred_at;
        let planned: Vec<String> = h.events.iter().find_map(|e| match &e.data {
            EventData::Classified(c) => Some(c.escalations.iter().map(|x| x.rule_id.clone()).collect()),
            _ => None,
        }).unwrap();
        let mut now = start;
        let end = last.plus_hours(200);
        while now <= end {
            let due = due_escalations(&h.events, now);
            for d in &due {
                prop_assert!(planned.contains(&d.rule_id));
                prop_assert!(d.due_at <= now);
                h.escalated(d.level, EscalationTrigger::Watchdog { rule_id: d.rule_id.clone(), due_at: d.due_at }, now.max(last));
            }
            now = now.plus_millis(step_h * MS_PER_HOUR);
        }
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for e in &h.events {
            if let EventData::Escalated(Escalated { trigger: EscalationTrigger::Watchdog { rule_id, .. }, .. }) = &e.data {
                *count.entry(rule_id.clone()).or_default() += 1;
            }
        }
        prop_assert!(count.values().all(|n| *n == 1), "{:?}", count);
    }
}

/// The planned escalations of a history's (first) classification.
fn planned(h: &History) -> Vec<EscalationDue> {
    h.events
        .iter()
        .find_map(|e| match &e.data {
            EventData::Classified(c) => Some(c.escalations.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Instants around which `due_escalations` may change its answer: the events' business times,
/// the planned due instants and those moved by each hold's length and by all of them, each
/// with its neighbours one millisecond either side; and an hourly grid over the history.
fn probes(h: &History, from: Timestamp, until: Timestamp) -> Vec<Timestamp> {
    let events: Vec<Timestamp> = h.events.iter().map(|e| e.meta.occurred_at).collect();
    let mut holds = Vec::new();
    let mut held_since = None;
    for e in &h.events {
        match e.data {
            EventData::OnHold(_) => held_since = held_since.or(Some(e.meta.occurred_at)),
            EventData::Resumed(_) => {
                if let Some(s) = held_since.take() {
                    holds.push(e.meta.occurred_at.millis_since(s));
                }
            }
            _ => {}
        }
    }
    let all_holds: i64 = holds.iter().sum();
    let mut marks = events;
    for p in planned(h) {
        marks.push(p.due_at);
        marks.push(p.due_at.plus_millis(all_holds));
        marks.extend(holds.iter().map(|d| p.due_at.plus_millis(*d)));
    }
    let mut out: Vec<Timestamp> = marks
        .into_iter()
        .flat_map(|m| [m.plus_millis(-1), m, m.plus_millis(1)])
        .collect();
    let mut t = from;
    while t <= until {
        out.push(t);
        t = t.plus_millis(MS_PER_HOUR);
    }
    out.retain(|t| *t >= from);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Issue 13: the watchdog's next due instant is exact: nothing is due at any instant from
    /// `from` until it, something is due at it, and `None` means nothing is ever due again.
    #[test]
    fn section_7_next_due_is_the_first_instant_anything_is_due(
        sev in severity(),
        repeat in any::<bool>(),
        ops in proptest::collection::vec((op(), 0i64..3000), 0..20),
        applied in proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        from_h in -10i64..300,
    ) {
        let (mut h, last) = build(sev, repeat, &ops);
        let planned = planned(&h);
        for i in &applied {
            if planned.is_empty() {
                break;
            }
            let d = i.get(&planned);
            let trigger = EscalationTrigger::Watchdog { rule_id: d.rule_id.clone(), due_at: d.due_at };
            h.escalated(d.level, trigger, last);
        }
        let from = h.events[0].meta.occurred_at.plus_hours(from_h);
        let next = next_due(&h.events, from);
        if let Some(n) = next {
            prop_assert!(n >= from);
            prop_assert!(!due_escalations(&h.events, n).is_empty(), "nothing due at next_due {n}");
            if n > from {
                prop_assert!(due_escalations(&h.events, n.plus_millis(-1)).is_empty(), "due before next_due {n}");
            }
        }
        for t in probes(&h, from, last.plus_hours(400)) {
            if next.is_none_or(|n| t < n) {
                prop_assert!(
                    due_escalations(&h.events, t).is_empty(),
                    "due at {t}, before next_due {next:?} (from {from})"
                );
            }
        }
    }
}

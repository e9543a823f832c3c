//! Issue 11 item 2 (docs/domain.md §8): one repeat/duplicate rule, in the domain, judged at
//! verification and again at classification, reading earlier complaints through the
//! `PriorComplaints` port. The engine (over its repeat projection) and the cqrs-es adapter (over
//! its `PriorIndex` query) record the same verdicts; the views fold what was recorded.

use cqrs_es::mem_store::MemStore;
use cqrs_es::{CqrsFramework, EventStore};
use plaint::domain::repeat::RepeatVerdict;
use plaint::domain::{Command, ComplaintId, Event, EventData, Timestamp};
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use plaint_cqrs::{ComplaintAggregate, ComplaintServices};
use serde_json::json;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

/// Every command is decided at this instant (the business times are earlier).
const NOW: &str = "2026-11-20T00:00:00Z";

fn command(complaint: &str, step: &str, when: &str, body: serde_json::Value) -> Command {
    let mut v = json!({
        "command_id": format!("{complaint}-{step}"), "complaint_id": complaint, "actor": "cs-001",
        "occurred_at": when,
    });
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).unwrap()
}

fn receive(complaint: &str, when: &str, customer: &str, channel: &str, waybill: &str) -> Command {
    command(
        complaint,
        "receive",
        when,
        json!({"command": "receive", "channel": channel, "region": "上海", "waybill": waybill,
               "description": "快件延误", "customer": {"customer_id": customer}}),
    )
}

fn verify(complaint: &str, when: &str) -> Command {
    command(
        complaint,
        "verify",
        when,
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    )
}

fn classify(complaint: &str, when: &str, category: &str) -> Command {
    command(
        complaint,
        "classify",
        when,
        // The tier the policy's severity rules suggest (docs/domain.md R-SEV-1: a loss is urgent).
        json!({"command": "classify", "category": category,
               "severity": if category == "loss" { "urgent" } else { "ordinary" }}),
    )
}

/// C-88 complains about parcel SF1 by phone (A), about another parcel SF2 on WeChat four days
/// later (B: same category → a repeat, found only at classification), about SF1 again by email
/// while A is open (C: a duplicate), and about SF9 two months later (E: outside the window).
/// Another customer (D) is never linked.
fn scenario() -> Vec<Command> {
    vec![
        receive("CMP-A", "2026-09-01T10:00:00+08:00", "C-88", "hotline", "SF1"),
        verify("CMP-A", "2026-09-01T10:05:00+08:00"),
        classify("CMP-A", "2026-09-01T10:10:00+08:00", "delay"),
        receive("CMP-B", "2026-09-05T10:00:00+08:00", "C-88", "wechat", "SF2"),
        verify("CMP-B", "2026-09-05T10:05:00+08:00"),
        classify("CMP-B", "2026-09-05T10:10:00+08:00", "delay"),
        receive("CMP-C", "2026-09-06T10:00:00+08:00", "C-88", "email", "SF 1"),
        verify("CMP-C", "2026-09-06T10:05:00+08:00"),
        receive("CMP-D", "2026-09-06T11:00:00+08:00", "C-99", "hotline", "SF1"),
        verify("CMP-D", "2026-09-06T11:05:00+08:00"),
        classify("CMP-D", "2026-09-06T11:10:00+08:00", "delay"),
        receive("CMP-E", "2026-11-10T10:00:00+08:00", "C-88", "hotline", "SF9"),
        verify("CMP-E", "2026-11-10T10:05:00+08:00"),
        classify("CMP-E", "2026-11-10T10:10:00+08:00", "delay"),
    ]
}

const COMPLAINTS: [&str; 5] = ["CMP-A", "CMP-B", "CMP-C", "CMP-D", "CMP-E"];

async fn engine_with_scenario(dir: &std::path::Path) -> Engine {
    let engine = Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(at(NOW))))
        .await
        .unwrap();
    for cmd in scenario() {
        engine.execute(cmd).await.unwrap();
    }
    engine
}

/// The event data of each complaint, in stream order (positions and other metadata aside).
/// Match keys are keyed hashes under each store's own match secret, so two stores spell the
/// same customer differently: each key is replaced by the order in which `seen` first met it,
/// which two adapters agree on exactly when they group customers the same way.
fn data(events: &[Event], seen: &mut std::collections::HashMap<String, usize>) -> Vec<EventData> {
    events
        .iter()
        .map(|e| {
            let mut d = e.data.clone();
            if let EventData::Received(r) = &mut d {
                if let Some(k) = r.customer.match_key.take() {
                    let n = seen.len();
                    let label = *seen.entry(k).or_insert(n);
                    r.customer.match_key = Some(format!("customer-{label}"));
                }
            }
            d
        })
        .collect()
}

fn links(events: &[Event]) -> (Option<ComplaintId>, Option<ComplaintId>, bool) {
    let (mut repeat_of, mut duplicate_of, mut flag) = (None, None, false);
    for e in events {
        let (r, d) = plaint::domain::repeat::recorded_links(&e.data);
        repeat_of = repeat_of.or(r.cloned());
        duplicate_of = duplicate_of.or(d.cloned());
        if let EventData::Classified(c) = &e.data {
            flag |= c.flags.repeat;
        }
    }
    (repeat_of, duplicate_of, flag)
}

#[tokio::test]
async fn repeat_on_other_waybill_same_category_is_detected_at_classification() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_scenario(dir.path()).await;
    let b = engine.history(&cid("CMP-B")).await.unwrap();
    let EventData::Verified(v) = &b[1].data else {
        panic!("{b:?}")
    };
    assert_eq!(
        (v.repeat_of.clone(), v.duplicate_of.clone()),
        (None, None),
        "no category yet"
    );
    let EventData::Classified(c) = &b[2].data else {
        panic!("{b:?}")
    };
    assert_eq!(c.repeat_of, Some(cid("CMP-A")), "recorded as an event fact");
    assert!(c.flags.repeat && c.flags.green_channel());
    assert!(
        c.escalations.iter().any(|e| e.rule_id == "green_channel"),
        "the green channel is planned: {:?}",
        c.escalations
    );
    // In `plaint repeats` (the projection folds the recorded link) and in the weekly report.
    let report = engine
        .repeats_report(at("2026-09-01T00:00:00Z"), at("2026-09-30T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(report.repeats, 1);
    assert_eq!(
        (report.repeat_links[0].id.clone(), report.repeat_links[0].of.clone()),
        (cid("CMP-B"), cid("CMP-A"))
    );
    let week = engine.week_of(at("2026-09-05T10:00:00+08:00")).await.unwrap();
    let weekly = engine.weekly_report(week, at(NOW)).await.unwrap();
    assert_eq!(weekly.repeats, 1);
    // The ticket's state (the domain fold) names it too, and the engine's ad-hoc judgement agrees.
    assert_eq!(
        engine.judge_intake(&cid("CMP-B")).await.unwrap(),
        RepeatVerdict::Repeat { of: cid("CMP-A") }
    );
    // Two months later, outside the 30-day window: new. Another customer: never linked.
    assert_eq!(
        links(&engine.history(&cid("CMP-E")).await.unwrap()),
        (None, None, false)
    );
    assert_eq!(
        links(&engine.history(&cid("CMP-D")).await.unwrap()),
        (None, None, false)
    );
}

#[tokio::test]
async fn open_ticket_same_customer_same_waybill_is_flagged_as_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_scenario(dir.path()).await;
    let c = engine.history(&cid("CMP-C")).await.unwrap();
    assert_eq!(links(&c), (None, Some(cid("CMP-A")), false));
    let report = engine
        .repeats_report(at("2026-09-01T00:00:00Z"), at("2026-09-30T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(report.flagged_duplicates, 1);
    assert_eq!(report.flagged_duplicate_links[0].id, cid("CMP-C"));
    assert_eq!(report.flagged_duplicate_links[0].of, cid("CMP-A"));
    assert_eq!(
        engine.judge_intake(&cid("CMP-C")).await.unwrap(),
        RepeatVerdict::Duplicate { of: cid("CMP-A") }
    );
}

#[tokio::test]
async fn engine_and_cqrs_adapter_record_the_same_repeat_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_scenario(dir.path()).await;

    let services = ComplaintServices::new(ComplaintServices::fixed_clock(at(NOW)), [3u8; 32]);
    let store = MemStore::<ComplaintAggregate>::default();
    let cqrs = CqrsFramework::new(store.clone(), services.queries(), services);
    for cmd in scenario() {
        let id = cmd.complaint_id.as_str().to_owned();
        cqrs.execute(&id, cmd).await.unwrap();
    }
    let (mut ours_seen, mut theirs_seen) = Default::default();
    for id in COMPLAINTS {
        let ours = engine.history(&cid(id)).await.unwrap();
        let theirs: Vec<Event> = store
            .load_events(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.payload.0)
            .collect();
        assert_eq!(
            data(&ours, &mut ours_seen),
            data(&theirs, &mut theirs_seen),
            "{id}: the same events through both adapters"
        );
    }
    // The verdicts themselves, spelled out.
    let expected = [
        ("CMP-A", (None, None, false)),
        ("CMP-B", (Some(cid("CMP-A")), None, true)),
        ("CMP-C", (None, Some(cid("CMP-A")), false)),
        ("CMP-D", (None, None, false)),
        ("CMP-E", (None, None, false)),
    ];
    for (id, want) in expected {
        assert_eq!(links(&engine.history(&cid(id)).await.unwrap()), want, "{id}");
    }
}

/// The batch path (imports) sees complaints received earlier in the same batch.
#[tokio::test]
async fn batch_execution_records_the_same_verdicts_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let one_by_one = engine_with_scenario(dir.path()).await;
    let dir2 = tempfile::tempdir().unwrap();
    let batch = Engine::open(EngineConfig::file(dir2.path()).with_clock(fixed_clock(at(NOW))))
        .await
        .unwrap();
    assert_eq!(batch.execute_batch(scenario()).await.unwrap().rejected, 0);
    let (mut one_seen, mut batch_seen) = Default::default();
    for id in COMPLAINTS {
        assert_eq!(
            data(&one_by_one.history(&cid(id)).await.unwrap(), &mut one_seen),
            data(&batch.history(&cid(id)).await.unwrap(), &mut batch_seen),
            "{id}"
        );
    }
}

/// Reject then close (the complaint is no longer open for the duplicate rule).
fn reject_and_close(complaint: &str, when: &str) -> Vec<Command> {
    vec![
        command(
            complaint,
            "reject",
            when,
            json!({"command": "reject", "reason": "no_claim"}),
        ),
        command(complaint, "close", when, json!({"command": "close"})),
    ]
}

/// A random scenario: complaints from two customers about three parcels in two categories,
/// days apart, each verified and then classified or rejected and closed.
fn random_scenario(specs: &[(u8, u8, u8, u8, bool)]) -> (Vec<Command>, Vec<String>) {
    let (mut cmds, mut ids) = (Vec::new(), Vec::new());
    let mut day = at("2026-07-01T09:00:00+08:00");
    for (i, &(customer, waybill, category, gap_days, classify_it)) in specs.iter().enumerate() {
        day = day.plus_millis(i64::from(gap_days) * plaint::domain::time::MS_PER_DAY);
        let id = format!("CMP-R{i:02}");
        let t = |min: i64| day.plus_millis(min * 60_000).to_string();
        cmds.push(receive(
            &id,
            &t(0),
            ["C-1", "C-2"][customer as usize % 2],
            ["hotline", "wechat", "email"][i % 3],
            ["SF1", "SF2", "SF3"][waybill as usize % 3],
        ));
        cmds.push(verify(&id, &t(1)));
        if classify_it {
            cmds.push(classify(&id, &t(2), ["delay", "loss"][category as usize % 2]));
        } else {
            cmds.extend(reject_and_close(&id, &t(2)));
        }
        ids.push(id);
    }
    (cmds, ids)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Every adapter of the port gives the same verdicts: the engine (one by one) and the
    /// cqrs-es adapter record the same events for random histories.
    #[test]
    fn engine_and_cqrs_adapter_agree_on_random_histories(
        specs in proptest::collection::vec((0u8..2, 0u8..3, 0u8..2, 0u8..20, proptest::bool::weighted(0.8)), 1..8)
    ) {
        let (cmds, ids) = random_scenario(&specs);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at(NOW))))
                .await
                .unwrap();
            let services = ComplaintServices::new(ComplaintServices::fixed_clock(at(NOW)), [3u8; 32]);
            let store = MemStore::<ComplaintAggregate>::default();
            let cqrs = CqrsFramework::new(store.clone(), services.queries(), services);
            for cmd in cmds {
                let id = cmd.complaint_id.as_str().to_owned();
                engine.execute(cmd.clone()).await.unwrap();
                cqrs.execute(&id, cmd).await.unwrap();
            }
            let (mut ours_seen, mut theirs_seen) = Default::default();
            for id in &ids {
                let ours = engine.history(&cid(id)).await.unwrap();
                let theirs: Vec<Event> = store
                    .load_events(id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.payload.0)
                    .collect();
                assert_eq!(data(&ours, &mut ours_seen), data(&theirs, &mut theirs_seen), "{id}");
            }
        });
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// The batch path judges with the repeat projection plus what the batch itself decided so
    /// far (complaints it received, and complaints received in an earlier batch that it
    /// classified, rejected or closed): cut into batches anywhere, a random history records the
    /// same events as one command at a time.
    #[test]
    fn batches_cut_anywhere_record_what_one_by_one_records(
        specs in proptest::collection::vec((0u8..2, 0u8..3, 0u8..2, 0u8..20, proptest::bool::weighted(0.7)), 1..10),
        cuts in proptest::collection::vec(1usize..7, 1..12),
    ) {
        let (cmds, ids) = random_scenario(&specs);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let one = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at(NOW))))
                .await
                .unwrap();
            for cmd in cmds.clone() {
                one.execute(cmd).await.unwrap();
            }
            let dir2 = tempfile::tempdir().unwrap();
            let batched = Engine::open(EngineConfig::file(dir2.path()).with_clock(fixed_clock(at(NOW))))
                .await
                .unwrap();
            let mut rest = cmds.as_slice();
            let mut cut = cuts.iter().cycle();
            while !rest.is_empty() {
                let n = (*cut.next().unwrap()).min(rest.len());
                let out = batched.execute_batch(rest[..n].to_vec()).await.unwrap();
                assert_eq!(out.rejected, 0, "{:?}", out.rejections().collect::<Vec<_>>());
                rest = &rest[n..];
            }
            let (mut one_seen, mut batch_seen) = Default::default();
            for id in &ids {
                assert_eq!(
                    data(&one.history(&cid(id)).await.unwrap(), &mut one_seen),
                    data(&batched.history(&cid(id)).await.unwrap(), &mut batch_seen),
                    "{id}"
                );
            }
        });
    }
}

/// What a rebuild from empty over the engine's log holds now: the fold of every committed event.
async fn rebuilt(engine: &Engine) -> Vec<(&'static str, Vec<u8>)> {
    use plaint::projections::runner::{ProjectionSet, Runner};
    let mut runner = Runner::in_memory(ProjectionSet::default());
    runner
        .rebuild(engine.store().as_ref(), plaint::RebuildTarget::Head, &mut |_| {})
        .await
        .unwrap();
    runner.projections().serialised()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Issue 13: the command path keeps only the repeat projection current (from the events the
    /// engine commits, the rest read from the log); the others catch up on read. Whatever the
    /// mix of single commands, batches, judgements (repeat projection only) and reads, a read
    /// sees every committed event: every projection equals a rebuild from empty, byte for byte.
    #[test]
    fn reads_after_any_commands_see_every_committed_event(
        specs in proptest::collection::vec((0u8..2, 0u8..3, 0u8..2, 0u8..20, proptest::bool::weighted(0.7)), 1..10),
        steps in proptest::collection::vec((1usize..6, 0u8..4), 1..12),
    ) {
        let (cmds, ids) = random_scenario(&specs);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at(NOW))))
                .await
                .unwrap();
            let mut rest = cmds.as_slice();
            let mut step = steps.iter().cycle();
            while !rest.is_empty() {
                let &(n, how) = step.next().unwrap();
                let n = n.min(rest.len());
                if how % 2 == 0 {
                    let out = engine.execute_batch(rest[..n].to_vec()).await.unwrap();
                    assert_eq!(out.rejected, 0, "{:?}", out.rejections().collect::<Vec<_>>());
                } else {
                    for cmd in &rest[..n] {
                        engine.execute(cmd.clone()).await.unwrap();
                    }
                }
                rest = &rest[n..];
                match how {
                    // A judgement: the repeat projection alone catches up.
                    2 => {
                        engine.judge_intake(&cid(&ids[0])).await.unwrap();
                    }
                    // A read: every projection, as a rebuild would hold them.
                    3 => {
                        let now = engine.with_projections(|p| p.serialised()).await.unwrap();
                        assert_eq!(now, rebuilt(&engine).await);
                    }
                    _ => {}
                }
            }
            let head = engine.head_position().await.unwrap();
            let at_read = engine.with_projections(|p| (p.low_position(), p.serialised())).await.unwrap();
            assert_eq!(at_read.0, head, "every projection folded up to the head");
            assert_eq!(at_read.1, rebuilt(&engine).await);
        });
    }
}

/// Issue 13: commits of concurrent callers finish out of position order, so the engine parks
/// the events it hands to the repeat projection until the ones before them arrive
/// (`src/engine_repeat_index.rs`). Eight tasks work disjoint complaints of two shared
/// customers at once, each judging its complaints as it goes; afterwards every projection,
/// the repeat projection included, equals a rebuild of the same log from empty, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_leave_the_repeat_projection_equal_to_a_rebuild() {
    const TASKS: usize = 8;
    let specs: Vec<(u8, u8, u8, u8, bool)> = (0..48u8).map(|i| (i % 2, i % 3, i % 2, 0, i % 5 != 0)).collect();
    let (cmds, ids) = random_scenario(&specs);
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let engine = std::sync::Arc::new(
            Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at(NOW))))
                .await
                .unwrap(),
        );
        let mut tasks = Vec::new();
        for k in 0..TASKS {
            // The commands of complaint i stay in order, in task i % TASKS.
            let mine: Vec<Command> = cmds
                .iter()
                .filter(|c| {
                    let id = c.complaint_id.as_str();
                    ids.iter().position(|x| x == id).unwrap() % TASKS == k
                })
                .cloned()
                .collect();
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                for cmd in mine {
                    let id = cmd.complaint_id.clone();
                    engine.execute(cmd).await.unwrap();
                    engine.judge_intake(&id).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let head = engine.head_position().await.unwrap();
        assert_eq!(head as usize, cmds.len(), "round {round}: one event per command");
        let at_read = engine
            .with_projections(|p| (p.low_position(), p.serialised()))
            .await
            .unwrap();
        assert_eq!(at_read.0, head, "round {round}: every projection folded up to the head");
        assert_eq!(at_read.1, rebuilt(&engine).await, "round {round}");
    }
}

/// Issue 13, wave 6: a judgement waits a turn or two for the events other callers of the same
/// engine have committed but not yet handed to the repeat projection, and reads the rest back
/// from the log (`src/engine_repeat_index.rs`). The story this guards: an engine that trusted
/// its hand-overs alone would miss a complaint the log acknowledged through another path. Two
/// engines share one file log here, so engine B's repeat projection never receives engine A's
/// events from A: B's verification of C (same customer, same waybill as A's open complaint)
/// must still find A and record the duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judgement_sees_complaints_no_caller_handed_over() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(plaint::store::file::FileLog::open(dir.path(), Default::default()).unwrap());
    let config = |local: &str| {
        let mut cfg = EngineConfig::file(dir.path().join(local)).with_clock(fixed_clock(at(NOW)));
        cfg.checkpoints = false;
        cfg
    };
    let a = Engine::with_store(log.clone(), config("a"), None).await.unwrap();
    let b = Engine::with_store(log.clone(), config("b"), None).await.unwrap();
    for cmd in [
        receive("CMP-A", "2026-09-01T10:00:00+08:00", "C-88", "hotline", "SF1"),
        verify("CMP-A", "2026-09-01T10:05:00+08:00"),
    ] {
        a.execute(cmd).await.unwrap();
    }
    for cmd in [
        receive("CMP-C", "2026-09-06T10:00:00+08:00", "C-88", "email", "SF 1"),
        verify("CMP-C", "2026-09-06T10:05:00+08:00"),
    ] {
        b.execute(cmd).await.unwrap();
    }
    assert_eq!(
        links(&b.history(&cid("CMP-C")).await.unwrap()),
        (None, Some(cid("CMP-A")), false),
        "B's verification saw A's complaint"
    );
    assert_eq!(
        b.judge_intake(&cid("CMP-C")).await.unwrap(),
        RepeatVerdict::Duplicate { of: cid("CMP-A") }
    );
}

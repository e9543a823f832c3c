//! The generated workload runs through the engine on the real file log with zero rejections,
//! one command at a time and in durable batches alike, and both ways yield the same tickets.

use plaint::domain::{ComplaintId, Timestamp};
use plaint::engine::fixed_clock;
use plaint::workload::{generate, generate_with_summary, WorkloadConfig};
use plaint::{Engine, EngineConfig, Reveal};

fn clock_after_workload() -> plaint::Clock {
    // Well after the default workload's period (September–October 2026).
    fixed_clock(Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap())
}

async fn open(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(clock_after_workload()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_complaints_in_batches_with_zero_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let (cmds, summary) = generate_with_summary(&WorkloadConfig {
        complaints: 2_000,
        seed: 11,
        ..WorkloadConfig::default()
    });
    assert_eq!(summary.intended_rejections, 0);
    let mut committed = 0;
    let mut events = 0;
    for chunk in cmds.chunks(1_000) {
        let out = engine.execute_batch(chunk.to_vec()).await.unwrap();
        let rejected: Vec<String> = out
            .rejections()
            .map(|(i, r)| format!("{}: {r}", chunk[i].command_id))
            .collect();
        assert!(rejected.is_empty(), "rejected: {rejected:#?}");
        committed += out.committed;
        events += out.events;
    }
    assert_eq!(committed, cmds.len(), "every command committed");
    let stats = engine.stats().await.unwrap();
    assert_eq!(stats.streams, 2_000);
    assert_eq!(stats.events, events as u64);
    assert_eq!(stats.head_position, stats.events);
    assert!(stats.bytes.unwrap() > 0);

    // Re-running the whole workload adds nothing: every command id is recognised.
    for chunk in cmds.chunks(1_000) {
        let out = engine.execute_batch(chunk.to_vec()).await.unwrap();
        assert_eq!((out.committed, out.rejected, out.deduplicated), (0, 0, chunk.len()));
    }
    assert_eq!(engine.stats().await.unwrap().head_position, stats.head_position);
    let report = engine.verify().await.unwrap();
    assert_eq!(report.events, stats.events);
    engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_by_one_and_batched_execution_agree() {
    let cfg = WorkloadConfig {
        complaints: 150,
        seed: 5,
        ..WorkloadConfig::default()
    };
    let cmds = generate(&cfg);
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open(a_dir.path()).await;
    for cmd in cmds.clone() {
        let id = cmd.command_id.clone();
        let done = a.execute(cmd).await.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(!done.deduplicated);
    }
    let b = open(b_dir.path()).await;
    for chunk in cmds.chunks(97) {
        let out = b.execute_batch(chunk.to_vec()).await.unwrap();
        assert_eq!(out.rejected, 0);
    }
    assert_eq!(
        a.stats().await.unwrap().events,
        b.stats().await.unwrap().events,
        "same events committed"
    );
    for n in [1, 42, 150] {
        let id = ComplaintId::new(format!("CMP-2026-{n:06}")).unwrap();
        let ta = a.ticket(&id, Reveal::Masked).await.unwrap();
        let tb = b.ticket(&id, Reveal::Masked).await.unwrap();
        // Positions differ with the interleaving; the ticket's content does not. Match keys
        // are keyed by each store's own match secret (docs/security.md): both have one.
        assert_eq!(ta.view.match_key.is_some(), tb.view.match_key.is_some(), "{id}");
        let strip = |mut v: plaint::projections::TicketView| {
            v.last_position = 0;
            v.match_key = None;
            v
        };
        assert_eq!(strip(ta.view), strip(tb.view), "{id}");
        assert_eq!(ta.personal, tb.personal, "{id}");
    }
}

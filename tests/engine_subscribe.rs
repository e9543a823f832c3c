//! `subscribe(from)`: the catch-up from a position, then live events, in order, no gap.

use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_catches_up_then_follows_live() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        EngineConfig::file(dir.path())
            .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap())),
    )
    .await
    .unwrap();
    let cmds = generate(&WorkloadConfig {
        complaints: 30,
        ..WorkloadConfig::default()
    });
    let (before, after) = cmds.split_at(cmds.len() / 2);
    engine.execute_batch(before.to_vec()).await.unwrap();
    let head = engine.stats().await.unwrap().head_position;
    assert!(head > 10);

    let mut sub = engine.subscribe(5).await.unwrap();
    let engine = std::sync::Arc::new(engine);
    let writer = {
        let engine = engine.clone();
        let after = after.to_vec();
        tokio::spawn(async move {
            for cmd in after {
                engine.execute(cmd).await.unwrap();
            }
        })
    };
    writer.await.unwrap();
    let total = engine.stats().await.unwrap().head_position;
    let mut expected = 5;
    while expected <= total {
        // A guard against a hang, not a speed check.
        let e = tokio::time::timeout(Duration::from_secs(60), sub.next())
            .await
            .expect("subscription delivers")
            .expect("store open")
            .unwrap();
        assert_eq!(e.meta.position, expected, "in order, no gap, no duplicate");
        expected += 1;
    }
    let history = engine
        .history(&engine.audit(&Default::default()).await.unwrap()[0].meta.complaint_id)
        .await
        .unwrap();
    assert!(!history.is_empty());
}

//! Concurrent writers on one complaint: each command is re-decided after a concurrency conflict
//! and lands exactly once, with a gapless stream.

use plaint::domain::{Command, ComplaintId, EventData, Timestamp};
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use serde_json::json;
use std::sync::Arc;

fn cmd(id: &str, body: serde_json::Value) -> Command {
    let mut v = json!({"command_id": id, "complaint_id": "CMP-C", "actor": "sup-01",
                       "occurred_at": "2026-11-24T10:00:00+08:00"});
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_on_one_complaint_all_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        Engine::open(
            EngineConfig::file(dir.path())
                .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-25T00:00:00Z").unwrap())),
        )
        .await
        .unwrap(),
    );
    engine
        .execute(cmd(
            "c0",
            json!({"command": "receive", "channel": "hotline", "region": "成都", "description": "包裹丢失"}),
        ))
        .await
        .unwrap();
    const WRITERS: usize = 8;
    const EACH: usize = 5;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let c = cmd(
                    &format!("esc-{w}-{i}"),
                    json!({"command": "escalate", "level": "supervisor", "reason": "客户多次来电"}),
                );
                let done = engine.execute(c.clone()).await.unwrap();
                assert_eq!(done.events.len(), 1);
                // A retry of the same command, racing or not, adds nothing.
                assert!(engine.execute(c).await.unwrap().deduplicated);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let history = engine.history(&ComplaintId::new("CMP-C").unwrap()).await.unwrap();
    assert_eq!(history.len(), 1 + WRITERS * EACH);
    let versions: Vec<u64> = history.iter().map(|e| e.meta.stream_version).collect();
    assert_eq!(
        versions,
        (1..=history.len() as u64).collect::<Vec<_>>(),
        "gapless stream"
    );
    let escalations = history
        .iter()
        .filter(|e| matches!(e.data, EventData::Escalated(_)))
        .count();
    assert_eq!(escalations, WRITERS * EACH);
}

//! The JSON variant end to end: the 50 Chicago Open311 requests, whose notes become events,
//! imported into a real file store with the default policy; the domain accepts every history
//! and a second import adds nothing.

use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use plaint_domain::{EventData, ResponseKind, Timestamp};
use plaint_import::open311::{plan_open311_json, Open311Mapping};
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chicago_notes_become_events() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mapping = Open311Mapping::from_toml_str(
        &std::fs::read_to_string(repo.join("examples/mappings/chicago_open311.toml")).unwrap(),
    )
    .expect("mapping parses");
    let dir = tempfile::tempdir().unwrap();
    let cfg = EngineConfig::file(dir.path())
        .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-25T08:00:00Z").unwrap()));
    let engine = Engine::open(cfg).await.unwrap();
    let file = std::fs::File::open(repo.join("../shared/data/chicago_open311_with_notes.json")).unwrap();
    let plan = plan_open311_json(&mapping, file, Some(engine.policy())).expect("file reads");
    assert_eq!((plan.rows_read, plan.rows_rejected), (50, 0), "{}", plan.summary());

    let out = engine.execute_batch(plan.batches(5_000).concat()).await.unwrap();
    let refused: Vec<String> = out.rejections().map(|(i, r)| format!("#{i}: {r}")).take(5).collect();
    assert_eq!(out.rejected, 0, "{refused:?}");
    assert_eq!(out.events, plan.command_count());

    // The first request: its notes in order, with their own times.
    let first = &plan.tickets[0];
    let history = engine.history(&first.complaint_id).await.unwrap();
    let progress: Vec<&str> = history
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Responded(r) if r.kind == ResponseKind::Progress => Some(r.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress.len(),
        5,
        "one activity, two follow-ons created and closed: {progress:?}"
    );
    assert!(progress[0].starts_with("Final Outcome"));
    assert_eq!(history.last().unwrap().data.type_name(), "Closed");
    assert_eq!(
        history.last().unwrap().meta.occurred_at,
        Timestamp::parse_rfc3339("2015-10-10T10:15:40-05:00").unwrap()
    );

    // The format has no due date: the imported history records no deadline at all, and plans
    // no watchdog escalation (issue 8: nothing is guessed silently).
    for e in &history {
        let (deadlines, escalations) = match &e.data {
            EventData::Classified(c) => (c.deadlines.len(), c.escalations.len()),
            EventData::Dispatched(d) => (d.deadlines.len(), 0),
            EventData::Responded(r) => (r.deadlines.len(), 0),
            _ => (0, 0),
        };
        assert_eq!((deadlines, escalations), (0, 0), "{}", e.data.type_name());
    }

    let again = engine.execute_batch(plan.batches(5_000).concat()).await.unwrap();
    assert_eq!(again.events, 0);
    assert_eq!(again.deduplicated, plan.command_count());
}

//! Issue 11, "guards", through the facade: a command id reused with another body (problem 4) on
//! the file log and PostgreSQL, single and batch; implausible input (problem 6: `--now`, a merge
//! into a complaint that does not exist); the `withdraw` command from its JSON form.

#[path = "support/pg.rs"]
mod pg_support;

use plaint::domain::state::Rejection;
use plaint::domain::{Command, ComplaintId, Resolution, Timestamp};
use plaint::engine::fixed_clock;
use plaint::projections::tickets::TicketStatus;
use plaint::store::pg::{PgOptions, PgStore};
use plaint::{CommandOutcome, Engine, EngineConfig, EngineError, ErrorKind, Reveal, StoreConfig};

const NOW: &str = "2026-11-25T08:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse_rfc3339(NOW).unwrap()
}

fn line(json: &str) -> Command {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn receive(id: &str, complaint: &str) -> Command {
    receive_saying(id, complaint, "包裹延误")
}

fn receive_saying(id: &str, complaint: &str, description: &str) -> Command {
    line(&format!(
        r#"{{"command_id":"{id}","complaint_id":"{complaint}","actor":"cs-1","occurred_at":"2026-11-24T09:00:00+08:00","command":"receive","channel":"hotline","description":"{description}","region":"北京"}}"#
    ))
}

/// A `receive` the engine does not hold (just opened, its cache empty): `execute` decides it on
/// an empty state and lets the store's version check arbitrate, a batch reads the stream. Either
/// way the same body is a retry that writes nothing, another body `command_id_reused`, and a
/// batch that stops at a rejection writes nothing of the commands after it.
async fn receive_reuse_after_restart(engine: &Engine) {
    let head = engine.head_position().await.unwrap();
    let out = engine
        .execute_batch_until_rejection(vec![
            receive_saying("g-1", "CMP-G-1", "另一个投诉"),
            receive("g-9", "CMP-G-9"),
        ])
        .await
        .unwrap();
    assert_eq!(out.outcomes.len(), 1, "stopped at the reuse: {:?}", out.outcomes);
    assert!(
        matches!(&out.outcomes[0], CommandOutcome::Rejected { rejection: Rejection::CommandIdReused { command_id, .. }, .. } if command_id.as_str() == "g-1"),
        "{:?}",
        out.outcomes
    );
    assert_eq!((out.committed, out.events), (0, 0));
    assert_eq!(engine.head_position().await.unwrap(), head, "nothing written");
    let out = engine.execute_batch(vec![receive("g-1", "CMP-G-1")]).await.unwrap();
    assert_eq!(out.outcomes, vec![CommandOutcome::Deduplicated]);
    assert_eq!((out.deduplicated, out.events), (1, 0), "a retry appends no event");
    let err = engine
        .execute(receive_saying("g-1", "CMP-G-1", "另一个投诉"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::Rejected(Rejection::CommandIdReused { command_id, .. }) if command_id.as_str() == "g-1"),
        "{err}"
    );
    assert!(engine.execute(receive("g-1", "CMP-G-1")).await.unwrap().deduplicated);
    assert_eq!(engine.head_position().await.unwrap(), head, "nothing written");
}

fn verify(id: &str, complaint: &str, note: &str) -> Command {
    line(&format!(
        r#"{{"command_id":"{id}","complaint_id":"{complaint}","actor":"cs-1","occurred_at":"2026-11-24T09:30:00+08:00","command":"verify","claim":"passed","evidence":"passed","history":"passed","note":"{note}"}}"#
    ))
}

async fn open_file(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(now())))
        .await
        .unwrap()
}

fn assert_reused(err: EngineError, command_id: &str) {
    assert_eq!(err.kind(), ErrorKind::Rejected, "exit code 1: {err}");
    let text = err.to_string();
    match err {
        EngineError::Rejected(Rejection::CommandIdReused {
            complaint,
            command_id: id,
            command,
            original_event,
            original_stream_version,
            ..
        }) => {
            assert_eq!(complaint.as_str(), "CMP-G-1");
            assert_eq!(id.as_str(), command_id);
            assert_eq!(command, "verify");
            assert_eq!((original_event, original_stream_version), ("Verified", 2));
        }
        other => panic!("expected command_id_reused, got {other:?}"),
    }
    assert!(
        text.contains("command_id_reused") && text.contains("CMP-G-1") && text.contains(command_id),
        "{text}"
    );
}

/// Problem 4 on any engine: same id + same body is a retry returning the original events; same
/// id + another body is `command_id_reused`, through `execute` and through a batch, also after
/// a restart (the digest is read back from the log, not from memory).
async fn command_id_reuse(open: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Engine>>>) {
    let engine = open().await;
    engine.execute(receive("g-1", "CMP-G-1")).await.unwrap();
    let first = engine.execute(verify("g-2", "CMP-G-1", "原始")).await.unwrap();
    let retry = engine.execute(verify("g-2", "CMP-G-1", "原始")).await.unwrap();
    assert!(retry.deduplicated);
    assert_eq!(
        retry.events, first.events,
        "a retry returns the original events and positions"
    );
    let err = engine
        .execute(verify("g-2", "CMP-G-1", "另一个请求"))
        .await
        .unwrap_err();
    assert_reused(err, "g-2");
    // Batch path: the retry is deduplicated, the reuse rejected, nothing written for it.
    let out = engine
        .execute_batch(vec![
            verify("g-2", "CMP-G-1", "原始"),
            verify("g-2", "CMP-G-1", "另一个请求"),
        ])
        .await
        .unwrap();
    assert_eq!(out.outcomes[0], CommandOutcome::Deduplicated);
    match &out.outcomes[1] {
        CommandOutcome::Rejected {
            rejection: Rejection::CommandIdReused { command_id, .. },
            ..
        } => assert_eq!(command_id.as_str(), "g-2"),
        other => panic!("expected the reuse rejected, got {other:?}"),
    }
    assert_eq!(out.events, 0);
    engine.close().await.unwrap();

    let engine = open().await;
    let err = engine
        .execute(verify("g-2", "CMP-G-1", "另一个请求"))
        .await
        .unwrap_err();
    assert_reused(err, "g-2");
    assert!(
        engine
            .execute(verify("g-2", "CMP-G-1", "原始"))
            .await
            .unwrap()
            .deduplicated
    );
    let history = engine.history(&ComplaintId::new("CMP-G-1").unwrap()).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history.iter().all(|e| e.meta.command_digest.is_some()),
        "read back from the log"
    );
    engine.close().await.unwrap();

    let engine = open().await;
    receive_reuse_after_restart(&engine).await;
    engine.close().await.unwrap();
}

#[tokio::test]
async fn problem_4_command_id_reused_with_another_body_is_rejected_on_the_file_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    command_id_reuse(move || {
        let path = path.clone();
        Box::pin(async move { open_file(&path).await })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_4_command_id_reused_with_another_body_is_rejected_on_postgres() {
    let Some(url) = pg_support::database_url() else { return };
    let schema = format!("guards_reuse_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().to_owned();
    let (u, s) = (url.clone(), schema.clone());
    command_id_reuse(move || {
        let mut cfg = EngineConfig::postgres(&u, &local).with_clock(fixed_clock(now()));
        cfg.store = StoreConfig::Postgres {
            url: u.clone(),
            schema: s.clone(),
            local_dir: local.clone(),
        };
        Box::pin(async move { Engine::open(cfg).await.unwrap() })
    })
    .await;
    PgStore::drop_schema(&url, &PgOptions::with_schema(&schema))
        .await
        .unwrap();
}

/// Problem 6: a merge into a complaint that does not exist is refused naming command and field,
/// through `execute` and a batch; a target received earlier in the same batch is fine.
#[tokio::test]
async fn problem_6_merge_into_a_complaint_that_does_not_exist_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_file(dir.path()).await;
    engine.execute(receive("m-1", "CMP-M-1")).await.unwrap();
    let merge = |id: &str, into: &str| {
        line(&format!(
            r#"{{"command_id":"{id}","complaint_id":"CMP-M-1","actor":"cs-1","command":"merge_as_duplicate","into":"{into}"}}"#
        ))
    };
    let err = engine.execute(merge("m-2", "CMP-NOWHERE")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(
        matches!(&err, EngineError::Rejected(Rejection::Invalid { command: "merge_as_duplicate", field: "into", reason, .. }) if reason.contains("CMP-NOWHERE")),
        "{err:?}"
    );
    let out = engine
        .execute_batch(vec![
            merge("m-3", "CMP-NOWHERE"),
            receive("m-4", "CMP-M-2"),
            merge("m-5", "CMP-M-2"),
        ])
        .await
        .unwrap();
    assert!(
        matches!(out.outcomes[0], CommandOutcome::Rejected { .. }),
        "{:?}",
        out.outcomes
    );
    assert_eq!(out.committed, 2, "{:?}", out.outcomes);
    let t = engine
        .ticket(&ComplaintId::new("CMP-M-1").unwrap(), Reveal::Masked)
        .await
        .unwrap();
    assert_eq!(t.view.status, TicketStatus::Merged);
}

/// Problem 6: an engine whose clock reads 9999-12-31 (the CLI's `--now 9999-12-31`) does not
/// open: bad input naming `now` and the policy bound.
#[tokio::test]
async fn problem_6_implausible_now_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let far = Timestamp::parse_rfc3339("9999-12-31T00:00:00Z").unwrap();
    let Err(err) = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(far))).await else {
        panic!("an engine at 9999-12-31 opened")
    };
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let text = err.to_string();
    assert!(text.contains("now") && text.contains("input_bounds.latest"), "{text}");
}

/// Withdraw: the JSON form `plaint submit` reads closes the ticket as withdrawn.
#[tokio::test]
async fn withdraw_from_its_json_form_closes_the_ticket_as_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_file(dir.path()).await;
    engine.execute(receive("w-1", "CMP-W-1")).await.unwrap();
    let done = engine
        .execute(line(
            r#"{"command_id":"w-2","complaint_id":"CMP-W-1","actor":"cs-1","command":"withdraw","note":"客户撤回"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(done.events[0].data.type_name(), "Closed");
    let t = engine
        .ticket(&ComplaintId::new("CMP-W-1").unwrap(), Reveal::Masked)
        .await
        .unwrap();
    assert_eq!(t.view.status, TicketStatus::Closed);
    assert_eq!(t.view.closed.map(|c| c.resolution), Some(Resolution::Withdrawn));
}

/// Problem 5: `plaint stats` and `plaint verify` show a warning from 60 days (the policy's
/// `calendar.expiry_warning`) before the calendar data runs out, naming the last covered date.
#[tokio::test]
async fn problem_5_calendar_expiry_warning_names_the_last_covered_date() {
    let open_at = |at: &str| {
        let at = Timestamp::parse_rfc3339(at).unwrap();
        async move {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at)))
                .await
                .unwrap();
            let coverage = engine.calendar_coverage();
            engine.close().await.unwrap();
            coverage
        }
    };
    let early = open_at("2026-10-01T00:00:00+08:00").await;
    assert_eq!(early.last_covered.as_deref(), Some("2026-12-31"));
    assert_eq!(early.years, vec![2025, 2026]);
    assert_eq!(early.warning, None, "92 days left: no warning yet");
    let late = open_at("2026-11-05T00:00:00+08:00").await;
    let w = late.warning.expect("57 days left: warned");
    assert!(
        w.contains("2026-12-31") && w.contains("57 days") && w.contains("cn-2027.toml"),
        "{w}"
    );
    let after = open_at("2027-01-02T00:00:00+08:00").await;
    assert!(after.warning.unwrap().contains("ended on 2026-12-31"));
}

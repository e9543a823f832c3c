//! `Engine::verify_store` and `Engine::repair` through the facade (issue 16), on the file log
//! and on PostgreSQL: a recorded head is checked against the log, projection checkpoints ahead
//! of the log are damage until the loss is accepted.

#[path = "support/pg.rs"]
mod pg_support;

use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::store::pg::{PgOptions, PgStore};
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig, EngineError, ErrorKind, HeadMark, RebuildTarget, Recovery, Reveal, StoreConfig};

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap()
}

/// Fills the store, saves projection checkpoints at the head, and returns the head.
async fn fill(config: EngineConfig, complaints: usize) -> HeadMark {
    let engine = Engine::open(config.clone()).await.unwrap();
    let cmds = generate(&WorkloadConfig {
        complaints,
        seed: 4,
        ..WorkloadConfig::default()
    });
    engine.execute_batch(cmds).await.unwrap();
    engine.rebuild(RebuildTarget::Head, &mut |_| {}).await.unwrap();
    engine.close().await.unwrap();
    Engine::verify_store(&config, None).await.unwrap().head
}

/// The checks every backend passes.
async fn check(config: EngineConfig) {
    let head = fill(config.clone(), 30).await;
    assert!(head.position > 10);
    let check = Engine::verify_store(&config, Some(head)).await.unwrap();
    assert_eq!(check.expected_head, Some(head));
    assert!(
        check.checkpoints.iter().all(|(_, p)| *p == head.position),
        "{:?}",
        check.checkpoints
    );

    // A head recorded earlier, mid-log: the chain is recomputed up to it.
    let earlier = HeadMark {
        position: head.position / 2,
        ..head
    };
    match Engine::verify_store(&config, Some(earlier)).await {
        Err(e @ EngineError::HeadMismatch { missing: None, .. }) => {
            assert_eq!(e.kind(), ErrorKind::Damaged);
            assert!(!e.is_lost_tail(), "a differing history is not a lost tail: {e}");
            assert!(e.to_string().contains("differs"), "{e}");
        }
        other => panic!("expected HeadMismatch, got {other:?}"),
    }
    let beyond = HeadMark {
        position: head.position + 1,
        ..head
    };
    match Engine::verify_store(&config, Some(beyond)).await {
        Err(
            e @ EngineError::HeadMismatch {
                missing: Some(missing), ..
            },
        ) => {
            assert_eq!(missing, (head.position + 1, head.position + 1));
            assert!(e.is_lost_tail(), "{e}");
        }
        other => panic!("expected HeadMismatch with missing events, got {other:?}"),
    }

    // Checkpoints of a longer log: damage for verify, for opening, and for a strict repair.
    let local = match &config.store {
        StoreConfig::File { dir, .. } => dir.clone(),
        StoreConfig::Postgres { local_dir, .. } => local_dir.clone(),
        _ => unreachable!("two backends"),
    };
    let tickets = local.join("projections/tickets.checkpoint");
    let bytes = std::fs::read(&tickets).unwrap();
    let mut ahead = bytes.clone();
    // The position follows magic, format, name length and name ("tickets"); the checksum at
    // the end covers it, so recompute it like the writer does.
    let at = 8 + 2 + 2 + "tickets".len();
    ahead[at..at + 8].copy_from_slice(&(head.position + 5).to_le_bytes());
    let body = ahead.len() - 32;
    let hash = *blake3::hash(&ahead[..body]).as_bytes();
    ahead[body..].copy_from_slice(&hash);
    std::fs::write(&tickets, &ahead).unwrap();
    for result in [
        Engine::verify_store(&config, None).await.map(|_| ()),
        Engine::open(config.clone()).await.map(|_| ()),
        Engine::repair(&config, Recovery::Strict).await.map(|_| ()),
    ] {
        match result {
            Err(EngineError::CheckpointAhead { position, head: h, .. }) => {
                assert_eq!((position, h), (head.position + 5, head.position))
            }
            other => panic!("expected CheckpointAhead, got {other:?}"),
        }
    }
    assert_eq!(std::fs::read(&tickets).unwrap(), ahead, "the evidence is kept");
    let repaired = Engine::repair(&config, Recovery::AcceptLostTail).await.unwrap();
    assert_eq!(
        repaired.discarded_checkpoints,
        vec![("tickets".to_owned(), head.position + 5)]
    );
    assert_eq!(repaired.head, head);
    Engine::verify_store(&config, Some(head)).await.unwrap();
    let engine = Engine::open(config).await.unwrap();
    assert_eq!(engine.stats().await.unwrap().streams, 30);
    engine.close().await.unwrap();
}

/// Copies the files of directory `from` (and its subdirectories) into `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `config` opened without the writer lock (the read-only engine's checkpoint path).
fn read_only(config: &EngineConfig) -> EngineConfig {
    let mut config = config.clone();
    if let StoreConfig::File { read_only, .. } = &mut config.store {
        *read_only = true;
    }
    config
}

/// The commands of one new complaint, ids starting with `prefix`, received on `day`.
fn one_complaint(prefix: &str, seed: u64, day: &str) -> Vec<plaint::domain::command::Command> {
    generate(&WorkloadConfig {
        complaints: 1,
        seed,
        id_prefix: prefix.to_owned(),
        start: Timestamp::parse_rfc3339(day).unwrap(),
        ..WorkloadConfig::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_record_ahead_of_the_log_is_damage_and_accepting_the_loss_drops_the_whole_set() {
    // Review of wave 11, finding 1: the shared record (receipts.checkpoint) is saved first, so a
    // crash between it and the projections' files, with the log then restored to an older head,
    // leaves it alone ahead of the log, numbering a complaint the log no longer has.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config_a = EngineConfig::file(a.path()).with_clock(fixed_clock(now()));
    let config_b = EngineConfig::file(b.path()).with_clock(fixed_clock(now()));
    let head = fill(config_a.clone(), 12).await;
    copy_dir(a.path(), b.path());
    // Store a goes on with a complaint store b will never have (the phantom).
    let engine = Engine::open(config_a).await.unwrap();
    engine
        .execute_batch(one_complaint("PHANTOM-", 5, "2026-09-01T00:00:00Z"))
        .await
        .unwrap();
    engine.rebuild(RebuildTarget::Head, &mut |_| {}).await.unwrap();
    engine.close().await.unwrap();
    let record = "projections/receipts.checkpoint";
    std::fs::copy(a.path().join(record), b.path().join(record)).unwrap();

    for result in [
        Engine::verify_store(&config_b, None).await.map(|_| ()),
        Engine::open(config_b.clone()).await.map(|_| ()),
        Engine::open(read_only(&config_b)).await.map(|_| ()),
        Engine::repair(&config_b, Recovery::Strict).await.map(|_| ()),
    ] {
        match result {
            Err(EngineError::CheckpointAhead {
                path,
                position,
                head: h,
            }) => {
                assert!(path.ends_with(record), "{path:?}");
                assert!(position > head.position, "{position}");
                assert_eq!(h, head.position);
            }
            other => panic!("expected CheckpointAhead, got {other:?}"),
        }
    }
    let repaired = Engine::repair(&config_b, Recovery::AcceptLostTail).await.unwrap();
    let mut names: Vec<&str> = repaired.discarded_checkpoints.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["analysis", "casework", "receipts", "repeats", "sla", "tickets"]);
    Engine::verify_store(&config_b, Some(head)).await.unwrap();

    // A new complaint shows its own receipt, not the phantom's.
    let engine = Engine::open(config_b).await.unwrap();
    let cmds = one_complaint("NEW-", 6, "2026-10-01T00:00:00Z");
    let id = cmds[0].complaint_id.clone();
    engine.execute_batch(cmds).await.unwrap();
    let view = engine.ticket(&id, Reveal::Masked).await.unwrap().view;
    let own = engine
        .ticket_as_of(
            &id,
            Timestamp::parse_rfc3339("2100-01-01T00:00:00Z").unwrap(),
            Reveal::Masked,
        )
        .await
        .unwrap()
        .view;
    assert_eq!(
        (view.received_at, view.contact_at, view.channel),
        (own.received_at, own.contact_at, own.channel)
    );
    assert_eq!(engine.stats().await.unwrap().streams, 13);
    engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_repair_on_the_file_log() {
    let dir = tempfile::tempdir().unwrap();
    check(EngineConfig::file(dir.path()).with_clock(fixed_clock(now()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_repair_on_postgres() {
    let Some(url) = pg_support::database_url() else { return };
    let schema = format!("facade_maintenance_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::postgres(&url, dir.path()).with_clock(fixed_clock(now()));
    config.store = StoreConfig::Postgres {
        url: url.clone(),
        schema: schema.clone(),
        local_dir: dir.path().to_owned(),
    };
    check(config).await;
    PgStore::drop_schema(&url, &PgOptions::with_schema(&schema))
        .await
        .unwrap();
}

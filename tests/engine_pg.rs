//! The facade on PostgreSQL: the same workload, idempotency and restart as on the file log.
//! Needs `PLAINT_TEST_DATABASE_URL` (see README); skipped with one line without it unless
//! `CI=true`.

use plaint::domain::{ComplaintId, Timestamp};
use plaint::engine::fixed_clock;
use plaint::store::pg::{PgOptions, PgStore};
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig, Reveal, StoreConfig};

fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PLAINT_TEST_DATABASE_URL must be set under CI=true"
            );
            println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_idempotency_and_restart_on_postgres() {
    let Some(url) = database_url() else { return };
    let schema = format!("facade_test_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut cfg = EngineConfig::postgres(&url, dir.path())
            .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap()));
        cfg.store = StoreConfig::Postgres {
            url: url.clone(),
            schema: schema.clone(),
            local_dir: dir.path().to_owned(),
        };
        cfg
    };
    let engine = Engine::open(config()).await.unwrap();
    let cmds = generate(&WorkloadConfig {
        complaints: 120,
        seed: 8,
        ..WorkloadConfig::default()
    });
    let out = engine.execute_batch(cmds.clone()).await.unwrap();
    assert_eq!((out.rejected, out.committed), (0, cmds.len()));
    let id = ComplaintId::new("CMP-2026-000007").unwrap();
    let before = engine.ticket(&id, Reveal::Clear).await.unwrap();
    let stats = engine.stats().await.unwrap();
    assert_eq!(stats.streams, 120);
    assert_eq!(stats.bytes, None);
    engine.close().await.unwrap();

    let engine = Engine::open(config()).await.unwrap();
    assert_eq!(engine.ticket(&id, Reveal::Clear).await.unwrap(), before);
    let again = engine.execute_batch(cmds.clone()).await.unwrap();
    assert_eq!((again.committed, again.deduplicated), (0, cmds.len()));
    assert_eq!(engine.verify().await.unwrap().events, stats.events);
    engine.close().await.unwrap();
    PgStore::drop_schema(&url, &PgOptions::with_schema(&schema))
        .await
        .unwrap();
}

/// Two engines (two back-office processes) on one PostgreSQL log, taking turns on the same
/// complaint. Each engine caches the state it last wrote; the story this guards against: a
/// cached state trusted without the store's expected-version check would let engine A decide
/// against a version engine B has already moved past. A's append must conflict, re-read and
/// succeed on the fresh state, and B's retried command must be recognised, not doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_complaint_never_act_on_a_stale_state() {
    let Some(url) = database_url() else { return };
    let schema = format!("facade_test_stale_{}", std::process::id());
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let open = |dir: std::path::PathBuf| {
        let mut cfg = EngineConfig::postgres(&url, &dir)
            .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap()));
        cfg.store = StoreConfig::Postgres {
            url: url.clone(),
            schema: schema.clone(),
            local_dir: dir,
        };
        Engine::open(cfg)
    };
    let a = open(dir_a.path().to_owned()).await.unwrap();
    let b = open(dir_b.path().to_owned()).await.unwrap();
    let line = |json: &str| -> plaint::domain::Command { serde_json::from_str(json).unwrap() };
    let head = r#""complaint_id":"CMP-STALE-1","actor":"agent-1""#;

    a.execute(line(&format!(
        r#"{{"command_id":"c1",{head},"command":"receive","channel":"hotline","description":"包裹延误","region":"北京"}}"#
    )))
    .await
    .unwrap();
    // B moves the complaint on while A's cached state still says version 1.
    let verify = line(&format!(
        r#"{{"command_id":"c2",{head},"command":"verify","claim":"passed","evidence":"passed","history":"passed"}}"#
    ));
    b.execute(verify.clone()).await.unwrap();
    // A classifies: its cached state is stale (version 1, not verified). Acting on it would be
    // rejected as an illegal transition; the engine must find out from the store instead.
    let classified = a
        .execute(line(&format!(
            r#"{{"command_id":"c3",{head},"command":"classify","category":"delay","severity":"ordinary"}}"#
        )))
        .await
        .unwrap();
    assert_eq!(classified.stream_version, 3, "classified on top of B's verification");
    // A retry of B's command through A is recognised as already applied.
    let again = a.execute(verify).await.unwrap();
    assert!(again.deduplicated);
    let history = a.history(&ComplaintId::new("CMP-STALE-1").unwrap()).await.unwrap();
    let types: Vec<&str> = history.iter().map(|e| e.data.type_name()).collect();
    assert_eq!(types, ["Received", "Verified", "Classified"]);
    a.close().await.unwrap();
    b.close().await.unwrap();
    PgStore::drop_schema(&url, &PgOptions::with_schema(&schema))
        .await
        .unwrap();
}

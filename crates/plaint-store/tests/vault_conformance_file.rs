//! The file log runs the vault conformance suite; its vault file is private to its owner.

use plaint_store::file::{FileLog, FileLogOptions};
use std::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_vault_passes_vault_conformance() {
    let dirs = Mutex::new(Vec::new());
    plaint_store::vault_conformance::run_all_vault(|| {
        let dir = tempfile::tempdir().unwrap();
        let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
        dirs.lock().unwrap().push(dir);
        std::future::ready(log)
    })
    .await;
}

#[tokio::test]
async fn the_vault_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    let mode = std::fs::metadata(dir.path().join("vault.pvlt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "vault.pvlt mode {mode:o}");
    log.close().await.unwrap();
}

/// Many appenders with keys at once: the writer commits them in groups and writes a group's
/// keys to the vault in one write. A refused append in the same group still creates no key,
/// and every committed key is there after the log is reopened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_vault_writes_keep_refused_appends_out_and_survive_reopen() {
    use plaint_store::vault::{random_secret, KeyState, NewKey, Vault, VaultWrite};
    use plaint_store::{AppendRequest, ExpectedVersion, NewEvent};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(FileLog::open(dir.path(), FileLogOptions::default()).unwrap());
    let event = |command_id: &str| NewEvent {
        event_type: "Received".into(),
        schema_version: 1,
        occurred_at_ms: 1_767_225_600_000,
        recorded_at_ms: 1_767_225_600_000,
        actor: "agent-1".into(),
        command_id: command_id.into(),
        payload: b"payload".to_vec(),
    };
    let mut tasks = Vec::new();
    for t in 0..64u32 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..4u32 {
                // Every third append expects a version its fresh stream does not have: refused.
                let refused = (t + i) % 3 == 0;
                let key = NewKey {
                    id: format!("t{t}x{i}.k"),
                    secret: random_secret().unwrap(),
                };
                let request = AppendRequest {
                    stream: format!("s-{t}-{i}"),
                    expected: ExpectedVersion::Exact(if refused { 5 } else { 0 }),
                    events: vec![event(&format!("c-{t}-{i}"))],
                };
                let write = VaultWrite {
                    keys: vec![key.clone()],
                    links: vec![(format!("t{t}x{i}"), format!("t{t}y{i}"))],
                    sealed: Vec::new(),
                };
                let r = log.append_with_vault(vec![request], write).await;
                assert_eq!(r.is_err(), refused, "append {t}/{i}: {r:?}");
                outcomes.push((key, refused));
            }
            outcomes
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let check = |log: Arc<FileLog>, all: Vec<(NewKey, bool)>| async move {
        let mut live = 0;
        for (key, refused) in &all {
            let state = log.key(&key.id).await.unwrap();
            if *refused {
                assert_eq!(state, KeyState::Missing, "{}: refused append, no key", key.id);
            } else {
                assert_eq!(state, KeyState::Live(key.secret.clone()), "{}: committed key", key.id);
                live += 1;
            }
        }
        let report = log.verify_vault().await.unwrap();
        assert_eq!(
            (report.live, report.links),
            (live, live),
            "one key and one link per committed append"
        );
        log
    };
    let log = check(log, all.clone()).await;
    Arc::into_inner(log).unwrap().close().await.unwrap();
    let log = Arc::new(FileLog::open(dir.path(), FileLogOptions::default()).unwrap());
    let log = check(log, all).await;
    Arc::into_inner(log).unwrap().close().await.unwrap();
}

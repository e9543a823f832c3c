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

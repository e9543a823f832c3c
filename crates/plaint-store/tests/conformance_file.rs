//! The file log runs the shared conformance suite, once durable and once in bulk mode with
//! small segments (so that reads, subscriptions and idempotency cross segment boundaries).

use plaint_store::file::{Durability, FileLog, FileLogOptions};
use std::num::NonZeroU32;
use std::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_log_passes_conformance() {
    let dirs = Mutex::new(Vec::new());
    plaint_store::conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
        dirs.lock().unwrap().push(dir);
        std::future::ready(log)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_log_passes_conformance_with_small_segments_in_bulk_mode() {
    let dirs = Mutex::new(Vec::new());
    plaint_store::conformance::run_all(|| {
        let dir = tempfile::tempdir().unwrap();
        let options = FileLogOptions {
            durability: Durability::Bulk {
                sync_every_batches: NonZeroU32::new(3).unwrap(),
            },
            segment_size_max: plaint_store::file::SEGMENT_SIZE_MIN,
            checkpoint_every_events: 50,
            ..FileLogOptions::default()
        };
        let log = FileLog::open(dir.path(), options).unwrap();
        dirs.lock().unwrap().push(dir);
        std::future::ready(log)
    })
    .await;
}

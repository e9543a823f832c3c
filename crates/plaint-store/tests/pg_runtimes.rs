//! One `PgStore` used from two tokio runtimes: a session the pool opened for a task of a
//! runtime that then sits idle (a current-thread runtime outside `block_on`) must still answer
//! the store's own runtime. Before the store opened every session on its own runtime, the idle
//! runtime owned those sessions' drivers and the next read on one of them waited for ever
//! (`plaint demo`'s first follower thread hung this way, docs/PERFORMANCE.md wave 8).

mod pg_common;

use pg_common::{database_url, TestSchema};
use plaint_store::EventStore;
use std::sync::Arc;
use std::time::Duration;

/// Concurrent reads from the second runtime: enough to make the pool open new sessions there.
const READS_ON_THE_OTHER_RUNTIME: usize = 6;

#[test]
fn sessions_opened_for_an_idle_runtime_still_answer_the_store_runtime() {
    let Some(url) = database_url() else { return };
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (schema, store) = main.block_on(async {
        let schema = TestSchema::create(&url, "rt").await;
        let store = Arc::new(schema.connect().await);
        (schema, store)
    });

    // A second runtime reads concurrently (the pool opens sessions for it), then sits idle.
    let other = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    other.block_on(async {
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..READS_ON_THE_OTHER_RUNTIME {
            let store = store.clone();
            reads.spawn(async move { store.read_stream(&format!("other-{i}"), 1, 1).await });
        }
        while let Some(read) = reads.join_next().await {
            assert!(read.unwrap().unwrap().is_empty());
        }
    });

    // The store's runtime takes those sessions back from the pool (last in, first out) and
    // must get answers on every one of them.
    main.block_on(async {
        let mut reads = tokio::task::JoinSet::new();
        for i in 0..2 * READS_ON_THE_OTHER_RUNTIME {
            let store = store.clone();
            reads.spawn(async move { store.read_stream(&format!("main-{i}"), 1, 1).await });
        }
        let all = async {
            while let Some(read) = reads.join_next().await {
                assert!(read.unwrap().unwrap().is_empty());
            }
        };
        tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .expect("every read on the store's runtime answered (a session owned by the idle runtime never answers)");
        assert_eq!(store.head_position().await.unwrap(), 0);
    });
    drop(other);
    main.block_on(async move {
        drop(store);
        schema.drop().await;
    });
}

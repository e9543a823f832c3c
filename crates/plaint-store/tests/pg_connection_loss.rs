//! Connection loss mid-append: the server end of the store's sessions is terminated with
//! `pg_terminate_backend` (what a server restart does to every session, without disturbing other
//! users of the shared test server). The caller gets a clear error or a transparent retry, and no
//! acknowledged event is ever missing or duplicated.

mod pg_common;

use pg_common::{database_url, event, TestSchema};
use plaint_store::pg::PgStore;
use plaint_store::{EventStore, ExpectedVersion, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Guards against a hang; not a speed check.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Terminates every session of `application_name` except the caller's; returns how many.
async fn terminate(raw: &tokio_postgres::Client, application_name: &str) -> i64 {
    raw.query_one(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
        &[&application_name],
    )
    .await
    .unwrap()
    .get(0)
}

/// Waits until a session of `application_name` is blocked on a lock (our held head row).
/// `raw` may be inside a transaction, where PostgreSQL keeps the first `pg_stat_activity` it read
/// for the rest of the transaction: each poll clears that snapshot first.
async fn wait_until_blocked(raw: &tokio_postgres::Client, application_name: &str) {
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            raw.execute("SELECT pg_stat_clear_snapshot()", &[]).await.unwrap();
            let waiting: i64 = raw
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    &[&application_name],
                )
                .await
                .unwrap()
                .get(0);
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the append never reached the head lock");
}

/// Deterministic: the append is inside its transaction, waiting for the head lock that this test
/// holds, when its session is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_interrupted_inside_its_transaction() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "cut").await;
    let app = schema.options.application_name.clone();
    let s = schema.options.schema.clone();

    // Without retries: a clear error, nothing written, and the caller's retry succeeds.
    let mut no_retry = schema.options.clone();
    no_retry.write_attempts_max = 1;
    let store = Arc::new(PgStore::connect(&url, no_retry).await.unwrap());
    let holder = schema.raw().await;
    holder
        .batch_execute(&format!("BEGIN; SELECT * FROM {s}.head FOR UPDATE"))
        .await
        .unwrap();
    let pending = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append("t-1", ExpectedVersion::Exact(0), vec![event("cmd-a", 1)])
                .await
        })
    };
    wait_until_blocked(&holder, &app).await;
    assert!(terminate(&holder, &app).await >= 1);
    holder.batch_execute("COMMIT").await.unwrap();
    match tokio::time::timeout(HANG_GUARD, pending).await.unwrap().unwrap() {
        Err(StoreError::Database(message)) => {
            assert!(message.contains("connection to the server was lost"), "{message}");
            assert!(message.contains("same command id is safe"), "{message}");
        }
        other => panic!("expected a database error naming the lost connection, got {other:?}"),
    }
    assert_eq!(
        store.head_position().await.unwrap(),
        0,
        "the interrupted append did not commit"
    );
    let retried = store
        .append("t-1", ExpectedVersion::Exact(0), vec![event("cmd-a", 1)])
        .await
        .unwrap();
    assert_eq!((retried.first_position, retried.deduplicated), (1, false));
    drop(store);

    // With retries (the default): the store retries the batch on a new connection by itself.
    let store = Arc::new(schema.connect().await);
    holder
        .batch_execute(&format!("BEGIN; SELECT * FROM {s}.head FOR UPDATE"))
        .await
        .unwrap();
    let pending = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append("t-1", ExpectedVersion::Exact(1), vec![event("cmd-b", 2)])
                .await
        })
    };
    wait_until_blocked(&holder, &app).await;
    assert!(terminate(&holder, &app).await >= 1);
    holder.batch_execute("COMMIT").await.unwrap();
    let result = tokio::time::timeout(HANG_GUARD, pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (result.first_position, result.stream_version, result.deduplicated),
        (2, 2, false)
    );
    let events = store.read_all(1, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.command_id.as_str()).collect::<Vec<_>>(),
        ["cmd-a", "cmd-b"]
    );
    assert_eq!(store.verify().await.unwrap().events, 2);
    drop(store);
    schema.drop().await;
}

/// Random: appenders and a subscriber run while every session of the store is terminated again
/// and again. Callers retry an unacknowledged command with the same command id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_killed_repeatedly_under_load() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "kill").await;
    let app = schema.options.application_name.clone();
    let store = Arc::new(schema.connect().await);
    const TASKS: u64 = 8;
    const APPENDS: u64 = 60;
    let total = TASKS * APPENDS;

    let mut subscription = store.subscribe(1).await.unwrap();
    let follower = tokio::spawn(async move {
        let mut seen = Vec::new();
        while (seen.len() as u64) < total {
            match subscription.next().await {
                Some(Ok(e)) => seen.push(e),
                other => panic!("subscription ended after {} events: {other:?}", seen.len()),
            }
        }
        seen
    });

    // Kill every session of the store each time 15 more appends were acknowledged: kills land
    // all through the run, and progress between them is guaranteed however slow the machine.
    let done = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let killer = {
        let done = done.clone();
        let progress = progress.clone();
        let raw = schema.raw().await;
        tokio::spawn(async move {
            let (mut killed, mut rounds, mut last) = (0, 0, 0);
            while !done.load(Ordering::Relaxed) {
                let now = progress.load(Ordering::Relaxed);
                if now >= last + 15 {
                    last = now;
                    killed += terminate(&raw, &app).await;
                    rounds += 1;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (killed, rounds)
        })
    };

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let stream = format!("k-{t}");
            let mut version = 0;
            let mut acked = Vec::new();
            let mut errors = 0u64;
            for i in 0..APPENDS {
                let command = format!("k{t}-{i}");
                loop {
                    match store
                        .append(&stream, ExpectedVersion::Exact(version), vec![event(&command, i)])
                        .await
                    {
                        Ok(r) => {
                            version = r.stream_version;
                            acked.push((command.clone(), r));
                            progress.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Err(StoreError::Database(message)) => {
                            assert!(message.contains("connection"), "unexpected database error: {message}");
                            errors += 1;
                            assert!(errors < 1000, "no progress: {message}");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err(other) => panic!("unexpected error for {command}: {other}"),
                    }
                }
            }
            (acked, errors)
        }));
    }
    let mut acked = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (a, e) = tokio::time::timeout(HANG_GUARD, task)
            .await
            .expect("appender hung")
            .unwrap();
        acked.extend(a);
        errors += e;
    }
    done.store(true, Ordering::Relaxed);
    let (killed, rounds) = killer.await.unwrap();
    assert!(killed > 0, "the test terminated no session");
    println!(
        "{killed} sessions terminated in {rounds} rounds; {errors} appends reported an error to the caller and were retried"
    );

    // Every acknowledged append is there, at the acknowledged position, exactly once.
    assert_eq!(acked.len() as u64, total);
    let all = store.read_all(1, 10_000).await.unwrap();
    assert_eq!(
        all.len() as u64,
        total,
        "one event per command, none lost, none duplicated"
    );
    let by_position: HashMap<u64, &str> = all.iter().map(|e| (e.position, e.command_id.as_str())).collect();
    for (command, r) in &acked {
        assert_eq!(
            by_position.get(&r.first_position).copied(),
            Some(command.as_str()),
            "acknowledged {command}"
        );
    }
    let seen = tokio::time::timeout(HANG_GUARD, follower)
        .await
        .expect("subscriber hung")
        .unwrap();
    assert_eq!(
        seen, all,
        "the subscriber saw every event once, in order, across the reconnects"
    );
    assert_eq!(store.verify().await.unwrap().events, total);
    drop(store);
    schema.drop().await;
}

//! Several engine processes append to one database while a subscriber in another process follows
//! live: the subscriber must see every committed event exactly once, in position order, and every
//! stream's versions must be contiguous. This is the "sequence trap" test: with sequence-assigned
//! positions, a transaction that takes position 10 can commit after one that took 11, and a
//! subscriber that already read 11 skips 10 for ever.
//!
//! The child processes are this test binary itself, re-executed with `PLAINT_PG_MP_CHILD` set.

mod pg_common;

use pg_common::{database_url, event, TestSchema};
use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::{EventStore, ExpectedVersion, RecordedEvent};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const CHILD_ENV: &str = "PLAINT_PG_MP_CHILD";
const SCHEMA_ENV: &str = "PLAINT_PG_MP_SCHEMA";
const TEST_NAME: &str = "multi_process_appenders_and_live_subscriber";
const CHILDREN: u64 = 4;
/// Concurrent appending tasks inside each child (so group commit batches form too).
const TASKS_PER_CHILD: u64 = 4;
const APPENDS_PER_TASK: u64 = 60;
/// Streams every child appends to (with `Any`): versions are contended across processes.
const SHARED_STREAMS: u64 = 3;
/// Guards against a hang; not a speed check.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// Events one task appends: appends alternate between a shared stream (1 event) and the task's
/// own stream (2 events, with an exact expected version).
fn events_per_task() -> u64 {
    (0..APPENDS_PER_TASK).map(|i| if i % 2 == 0 { 1 } else { 2 }).sum()
}

#[test]
fn multi_process_appenders_and_live_subscriber() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(child) = std::env::var(CHILD_ENV) {
        runtime.block_on(run_child(child.parse().expect("child index")));
        return;
    }
    runtime.block_on(run_parent());
}

async fn run_child(child: u64) {
    let url = std::env::var("PLAINT_TEST_DATABASE_URL").expect("child needs the URL");
    let schema = std::env::var(SCHEMA_ENV).expect("child needs the schema");
    let mut options = PgOptions::with_schema(schema.clone());
    options.application_name = format!("{schema}-child-{child}");
    options.pool_size_max = 4;
    let store = Arc::new(PgStore::connect(&url, options).await.expect("child connect"));
    let mut tasks = Vec::new();
    for task in 0..TASKS_PER_CHILD {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let own = format!("own-{child}-{task}");
            let mut own_version = 0;
            let mut acked = 0u64;
            for i in 0..APPENDS_PER_TASK {
                let command = format!("c{child}-t{task}-{i}");
                if i % 2 == 0 {
                    let shared = format!("shared-{}", i % SHARED_STREAMS);
                    store
                        .append(&shared, ExpectedVersion::Any, vec![event(&command, i)])
                        .await
                        .expect("append shared");
                    acked += 1;
                } else {
                    let r = store
                        .append(
                            &own,
                            ExpectedVersion::Exact(own_version),
                            vec![event(&command, i), event(&command, i + 1)],
                        )
                        .await
                        .expect("append own");
                    assert_eq!(r.stream_version, own_version + 2);
                    own_version = r.stream_version;
                    acked += 2;
                }
            }
            acked
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    // On its own line: the harness prints "test … ..." without a newline before the test output.
    println!("\nacked {acked}");
}

async fn run_parent() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "mp").await;
    let store = schema.connect().await;
    let expected_total = CHILDREN * TASKS_PER_CHILD * events_per_task();

    // Subscribe before anything is written: everything arrives live.
    let mut subscription = store.subscribe(1).await.unwrap();
    let follower = tokio::spawn(async move {
        let mut seen: Vec<RecordedEvent> = Vec::new();
        while (seen.len() as u64) < expected_total {
            match subscription.next().await {
                Some(Ok(e)) => seen.push(e),
                Some(Err(e)) => panic!("subscription failed after {} events: {e}", seen.len()),
                None => panic!("subscription ended after {} events", seen.len()),
            }
        }
        seen
    });

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..CHILDREN)
        .map(|c| {
            Command::new(&exe)
                .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, c.to_string())
                .env(SCHEMA_ENV, &schema.options.schema)
                .env("PLAINT_TEST_DATABASE_URL", &url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait child"))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut acked_total = 0;
    for (c, out) in outputs.iter().enumerate() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child {c} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let acked: u64 = stdout
            .lines()
            .find_map(|l| l.split_once("acked ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("child {c} printed no ack count:\n{stdout}"))
            .split_whitespace()
            .next()
            .unwrap_or("")
            .parse()
            .unwrap();
        acked_total += acked;
    }
    assert_eq!(acked_total, expected_total, "children acknowledged every append");

    let seen = tokio::time::timeout(HANG_GUARD, follower)
        .await
        .expect("subscriber hung")
        .unwrap();
    // Exactly once, in order: positions are 1..=N with nothing missing or repeated.
    for (i, e) in seen.iter().enumerate() {
        assert_eq!(
            e.position,
            i as u64 + 1,
            "subscriber saw position {} at index {i}",
            e.position
        );
    }
    // Nothing after the last acknowledged event.
    assert_eq!(store.head_position().await.unwrap(), expected_total);
    // Stream versions contiguous, and the subscriber's copy equals what the database holds.
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for e in &seen {
        let v = versions.entry(e.stream.as_str()).or_insert(0);
        assert_eq!(
            e.stream_version,
            *v + 1,
            "stream {} version jump at position {}",
            e.stream,
            e.position
        );
        *v = e.stream_version;
    }
    assert_eq!(versions.len() as u64, SHARED_STREAMS + CHILDREN * TASKS_PER_CHILD);
    let own_events = APPENDS_PER_TASK / 2 * 2;
    for c in 0..CHILDREN {
        for t in 0..TASKS_PER_CHILD {
            assert_eq!(
                versions[format!("own-{c}-{t}").as_str()],
                own_events,
                "own stream of child {c} task {t}"
            );
        }
    }
    let all = store.read_all(1, seen.len() + 10).await.unwrap();
    assert_eq!(all, seen, "the subscriber's events equal read_all's");
    // Each command id appears in exactly one append (no duplicate writes).
    let mut per_command: HashMap<&str, u64> = HashMap::new();
    for e in &seen {
        *per_command.entry(e.command_id.as_str()).or_insert(0) += 1;
    }
    assert_eq!(per_command.len() as u64, CHILDREN * TASKS_PER_CHILD * APPENDS_PER_TASK);
    // How much the processes interleaved (informative: the OS decides the schedule).
    let child_of = |e: &RecordedEvent| e.command_id.split('-').next().unwrap_or("").to_string();
    let switches = seen.windows(2).filter(|w| child_of(&w[0]) != child_of(&w[1])).count();
    println!(
        "{} events from {CHILDREN} processes; the committing process changed {switches} times",
        seen.len()
    );
    let report = store.verify().await.unwrap();
    assert_eq!(report.events, expected_total);
    drop(store);
    schema.drop().await;
}

/// The trap, staged deterministically: a slow writer (a raw session standing in for another
/// process) holds the head lock and has inserted position 1 but not committed. A second writer
/// must not be able to commit position 2 before it, or a subscriber would read 2 and never see 1.
/// With the head lock the second writer waits; the subscriber sees 1 then 2.
#[test]
fn a_slow_writer_cannot_be_overtaken() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let Some(url) = database_url() else { return };
        let schema = TestSchema::create(&url, "trap").await;
        let s = schema.options.schema.clone();
        let app = schema.options.application_name.clone();
        let store = Arc::new(schema.connect().await);
        let mut subscription = store.subscribe(1).await.unwrap();

        // The slow writer: locks the head and writes position 1 with a correct chain value.
        let slow = schema.raw().await;
        slow.batch_execute(&format!("BEGIN; SELECT * FROM {s}.head FOR UPDATE")).await.unwrap();
        let first = RecordedEvent {
            position: 1,
            stream: "slow".to_string(),
            stream_version: 1,
            event_type: "Received".to_string(),
            schema_version: 1,
            occurred_at_ms: 1,
            recorded_at_ms: 2,
            actor: "slow".to_string(),
            command_id: "slow-1".to_string(),
            payload: b"first".to_vec(),
        };
        let chain = plaint_store::chain::chain_next(&plaint_store::chain::CHAIN_GENESIS, &first);
        slow.batch_execute(&format!(
            "INSERT INTO {s}.streams (name) VALUES ('slow'); INSERT INTO {s}.names (name) VALUES ('slow'), ('Received')"
        ))
        .await
        .unwrap();
        slow.execute(
            &format!(
                "INSERT INTO {s}.events (position, occurred_at_ms, recorded_at_ms, stream_id, stream_version, actor_id, \
                 event_type_id, schema_version, command_tail, command_id, payload, chain_tag) \
                 VALUES (1, 1, 2, (SELECT id FROM {s}.streams WHERE name = 'slow'), 1, \
                 (SELECT id FROM {s}.names WHERE name = 'slow'), (SELECT id FROM {s}.names WHERE name = 'Received'), \
                 1, false, 'slow-1', 'first', $1)"
            ),
            // The row's chain tag: the first 8 bytes of the chain value, big-endian.
            &[&i64::from_be_bytes(chain[..8].try_into().unwrap())],
        )
        .await
        .unwrap();
        slow.execute(&format!("UPDATE {s}.head SET position = 1, chain_hash = $1"), &[&chain.as_slice()])
            .await
            .unwrap();

        // The fast writer starts now and must wait for the slow one.
        let fast = {
            let store = store.clone();
            tokio::spawn(async move { store.append("fast", ExpectedVersion::Exact(0), vec![event("fast-1", 1)]).await })
        };
        let observer = schema.raw().await;
        tokio::time::timeout(HANG_GUARD, async {
            loop {
                let waiting: i64 = observer
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                        &[&app],
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
        .expect("the second writer never waited for the head lock");
        assert!(!fast.is_finished(), "the second writer committed while the first held the head");
        // Nothing is visible yet to readers: the log is still empty.
        assert!(store.read_all(1, 10).await.unwrap().is_empty());

        slow.batch_execute("COMMIT").await.unwrap();
        let appended = tokio::time::timeout(HANG_GUARD, fast).await.unwrap().unwrap().unwrap();
        assert_eq!(appended.first_position, 2, "the second writer takes the next position");
        let seen: Vec<(u64, String)> = {
            let mut v = Vec::new();
            for _ in 0..2 {
                let e = tokio::time::timeout(HANG_GUARD, subscription.next()).await.unwrap().unwrap().unwrap();
                v.push((e.position, e.command_id));
            }
            v
        };
        assert_eq!(seen, vec![(1, "slow-1".to_string()), (2, "fast-1".to_string())]);
        assert_eq!(store.verify().await.unwrap().events, 2);
        drop(subscription);
        drop(store);
        schema.drop().await;
    });
}

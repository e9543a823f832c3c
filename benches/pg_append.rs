//! PostgreSQL store: 64 concurrent single-command appenders (each `append` of one event to its
//! own stream with an exact expected version), group-committed by the store's writer.
//!
//! `PLAINT_BENCH_DATABASE_URL` (or `PLAINT_TEST_DATABASE_URL`) selects the server; without one
//! the bench prints a skip line. `PLAINT_BENCH_SECONDS` (default 10) and
//! `PLAINT_BENCH_APPENDERS` (default 64) shape the run. Runs in a throw-away schema.
//!
//! ```text
//! PLAINT_TEST_DATABASE_URL=postgres://plaint:plaint@127.0.0.1:5432/plaint_test \
//!     cargo bench -p plaint --bench pg_append
//! ```

use hdrhistogram::Histogram;
use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::{EventStore, ExpectedVersion, NewEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn database_url() -> Option<String> {
    ["PLAINT_BENCH_DATABASE_URL", "PLAINT_TEST_DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .filter(|u| !u.is_empty())
}

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(task: u64, i: u64) -> NewEvent {
    NewEvent {
        event_type: "ProgressNoted".to_string(),
        schema_version: 1,
        occurred_at_ms: 1_767_225_600_000 + i as i64,
        recorded_at_ms: 1_767_225_600_000 + i as i64,
        actor: format!("agent-{}", task % 40),
        command_id: format!("cmd-{task}-{i}"),
        // About 150 bytes, like a progress note.
        payload: format!("{task:08}/{i:010} customer was called back; parcel located at the outlet, redelivery scheduled for tomorrow morning between 9 and 12 ok").into_bytes(),
    }
}

fn main() {
    let Some(url) = database_url() else {
        println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL benchmarks");
        return;
    };
    let seconds = env_or("PLAINT_BENCH_SECONDS", 10);
    let appenders = env_or("PLAINT_BENCH_APPENDERS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let options = PgOptions::with_schema(format!("plaint_bench_append_{:08x}", rand::random::<u32>()));
        PgStore::migrate(&url, &options).await.expect("migrate");
        let store = Arc::new(PgStore::connect(&url, options.clone()).await.expect("connect"));
        // Warm up: connections, prepared statements.
        for t in 0..appenders {
            store
                .append(&format!("warm-{t}"), ExpectedVersion::Exact(0), vec![event(t, 0)])
                .await
                .unwrap();
        }
        let before = store.stats();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..appenders)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut latency = Histogram::<u64>::new(3).unwrap();
                    let stream = format!("complaint-{t:05}");
                    let mut version = 0;
                    while Instant::now() < deadline {
                        let at = Instant::now();
                        let r = store
                            .append(&stream, ExpectedVersion::Exact(version), vec![event(t, version)])
                            .await
                            .unwrap();
                        latency.record(at.elapsed().as_micros() as u64).unwrap();
                        version = r.stream_version;
                    }
                    latency
                })
            })
            .collect();
        let mut latency = Histogram::<u64>::new(3).unwrap();
        for task in tasks {
            latency.add(task.await.unwrap()).unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let after = store.stats();
        let commits = latency.len();
        let transactions = after.transactions - before.transactions;
        println!("pg_append: {appenders} concurrent appenders, one event per append, {seconds} s");
        println!(
            "  {commits} commits, {:.0} commits/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            commits as f64 / elapsed,
            latency.value_at_quantile(0.50) as f64 / 1000.0,
            latency.value_at_quantile(0.99) as f64 / 1000.0,
            latency.max() as f64 / 1000.0
        );
        println!(
            "  {transactions} transactions ({:.0}/s), {:.1} appends per transaction on average",
            transactions as f64 / elapsed,
            (after.calls - before.calls) as f64 / transactions.max(1) as f64
        );
        println!(
            "  {} of them through the one-round-trip path, {} fast-path misses",
            after.fast_transactions - before.fast_transactions,
            after.fast_misses - before.fast_misses
        );
        let report = store.verify().await.unwrap();
        assert_eq!(report.events, commits + appenders);
        drop(store);
        PgStore::drop_schema(&url, &options).await.expect("drop schema");
    });
}

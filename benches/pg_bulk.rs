//! PostgreSQL store: bulk load through `append_many` (the COPY path), then read-all and verify.
//!
//! `PLAINT_BENCH_DATABASE_URL` (or `PLAINT_TEST_DATABASE_URL`) selects the server; without one
//! the bench prints a skip line. `PLAINT_BENCH_EVENTS` sets the event count (default 300,000).
//! Runs in a throw-away schema that it drops at the end.
//!
//! ```text
//! PLAINT_TEST_DATABASE_URL=postgres://plaint:plaint@127.0.0.1:5432/plaint_test \
//!     cargo bench -p plaint --bench pg_bulk
//! ```

use hdrhistogram::Histogram;
use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Events per `append_many` call (the store's per-call maximum).
const CALL_EVENTS: usize = plaint_store::APPEND_EVENTS_MAX;
/// Events per stream (one request per stream, as an import writes a complaint's history).
const EVENTS_PER_STREAM: usize = 5;
const EVENT_TYPES: [&str; 8] = [
    "Received",
    "Classified",
    "Dispatched",
    "Acknowledged",
    "ProgressNoted",
    "Responded",
    "Revisited",
    "Closed",
];

fn database_url() -> Option<String> {
    ["PLAINT_BENCH_DATABASE_URL", "PLAINT_TEST_DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .filter(|u| !u.is_empty())
}

/// A complaint's event: realistic metadata, a payload of 60..240 bytes (150 on average).
fn event(rng: &mut ChaCha8Rng, stream: usize, i: usize) -> NewEvent {
    let len = rng.random_range(60..=240);
    let mut payload = vec![0u8; len];
    rng.fill(payload.as_mut_slice());
    NewEvent {
        event_type: EVENT_TYPES[i % EVENT_TYPES.len()].to_string(),
        schema_version: 1,
        occurred_at_ms: 1_767_225_600_000 + (stream * 60_000 + i * 3_600_000) as i64,
        recorded_at_ms: 1_767_225_600_000 + (stream * 60_000 + i * 3_600_000 + 250) as i64,
        actor: format!("agent-{}", stream % 40),
        command_id: format!("import-{stream}"),
        payload,
    }
}

fn main() {
    let Some(url) = database_url() else {
        println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL benchmarks");
        return;
    };
    let total: usize = std::env::var("PLAINT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let options = PgOptions::with_schema(format!("plaint_bench_bulk_{:08x}", rand::random::<u32>()));
        PgStore::migrate(&url, &options).await.expect("migrate");
        let store = PgStore::connect(&url, options.clone()).await.expect("connect");

        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let streams = total / EVENTS_PER_STREAM;
        let streams_per_call = CALL_EVENTS / EVENTS_PER_STREAM;
        let mut calls: Vec<Vec<AppendRequest>> = Vec::new();
        let mut payload_bytes = 0usize;
        for first in (0..streams).step_by(streams_per_call) {
            let call = (first..(first + streams_per_call).min(streams))
                .map(|s| {
                    let events: Vec<NewEvent> = (0..EVENTS_PER_STREAM).map(|i| event(&mut rng, s, i)).collect();
                    payload_bytes += events.iter().map(|e| e.payload.len()).sum::<usize>();
                    AppendRequest {
                        stream: format!("complaint-{s:07}"),
                        expected: ExpectedVersion::Exact(0),
                        events,
                    }
                })
                .collect();
            calls.push(call);
        }
        let events = streams * EVENTS_PER_STREAM;

        let mut latency = Histogram::<u64>::new(3).unwrap();
        let started = Instant::now();
        for call in calls {
            let t = Instant::now();
            store.append_many(call).await.expect("append_many");
            latency.record(t.elapsed().as_micros() as u64).unwrap();
        }
        let load = started.elapsed();
        assert_eq!(store.head_position().await.unwrap(), events as u64);

        let started = Instant::now();
        let mut next = 1;
        loop {
            let batch = store.read_all(next, 50_000).await.unwrap();
            if batch.is_empty() {
                break;
            }
            next = batch.last().unwrap().position + 1;
        }
        let read = started.elapsed();
        assert_eq!(next, events as u64 + 1);

        let started = Instant::now();
        let report = store.verify().await.unwrap();
        let verify = started.elapsed();
        assert_eq!(report.events, events as u64);

        let secs = load.as_secs_f64();
        println!(
            "pg_bulk: {events} events in {} append_many calls of {CALL_EVENTS} events ({EVENTS_PER_STREAM} per stream)",
            latency.len()
        );
        println!(
            "  bulk load : {:.2} s, {:.0} events/s, {:.1} MB/s of payload; per call p50 {:.1} ms, p99 {:.1} ms",
            secs,
            events as f64 / secs,
            payload_bytes as f64 / secs / 1e6,
            latency.value_at_quantile(0.50) as f64 / 1000.0,
            latency.value_at_quantile(0.99) as f64 / 1000.0
        );
        println!(
            "  read_all  : {:.2} s, {:.0} events/s (batches of 50,000)",
            read.as_secs_f64(),
            events as f64 / read.as_secs_f64()
        );
        println!(
            "  verify    : {:.2} s, {:.0} events/s",
            verify.as_secs_f64(),
            events as f64 / verify.as_secs_f64()
        );
        drop(store);
        PgStore::drop_schema(&url, &options).await.expect("drop schema");
    });
}

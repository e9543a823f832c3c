//! File log reads and opening: read-all throughput (borrowed visitor and owned `read_all`) and
//! the time to open a large log from its checkpoint.
//!
//! ```text
//! cargo bench -p plaint --bench log_read
//! ```
//! Environment: `PLAINT_BENCH_EVENTS` (default 10,000,000; 10 events per stream),
//! `PLAINT_BENCH_DIR` (default `./target/bench-log`).

use plaint_store::file::{Durability, FileLog, FileLogOptions};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[path = "support/summary.rs"]
mod summary;

const DISK_BYTES_PER_S: f64 = 280e6;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(stream_no: u64, version: u64, command_id: String) -> NewEvent {
    NewEvent {
        event_type: "ProgressNoted".to_string(),
        schema_version: 1,
        occurred_at_ms: 1_767_225_600_000 + version as i64 * 1000,
        recorded_at_ms: 1_767_225_600_000 + version as i64 * 1000 + 40,
        actor: format!("agent-{}", stream_no % 40),
        command_id,
        payload: format!(
            "{stream_no:08}/{version:04} called back; parcel found at outlet 0571-{:03}, redelivery set",
            stream_no % 997
        )
        .into_bytes(),
    }
}

async fn build(dir: &PathBuf, events: u64) {
    let every = NonZeroU32::new(16).unwrap();
    let options = FileLogOptions {
        durability: Durability::Bulk {
            sync_every_batches: every,
        },
        ..FileLogOptions::default()
    };
    let log = Arc::new(FileLog::open(dir, options).unwrap());
    let calls = events / 1000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..2u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut call = s;
            while call < calls {
                let requests = (0..100u64)
                    .map(|k| {
                        let n = call * 100 + k;
                        AppendRequest {
                            stream: format!("complaint-{n:09}"),
                            expected: ExpectedVersion::Exact(0),
                            events: (1..=10).map(|v| event(n, v, format!("import-{n}"))).collect(),
                        }
                    })
                    .collect();
                log.append_many(requests).await.unwrap();
                call += 2;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let closing = Instant::now();
    Arc::try_unwrap(log).ok().unwrap().close().await.unwrap();
    println!(
        "built {events} events in {:.1} s (close with checkpoint {:.2} s)",
        started.elapsed().as_secs_f64(),
        closing.elapsed().as_secs_f64()
    );
}

fn segment_bytes(dir: &PathBuf) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".plog"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

fn main() {
    let events = env_or("PLAINT_BENCH_EVENTS", 10_000_000) / 1000 * 1000;
    let base = std::env::var("PLAINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/bench-log"));
    let dir = base.join("read");
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(build(&dir, events));
    let bytes = segment_bytes(&dir);
    let index_bytes = std::fs::metadata(dir.join("index.pidx")).map(|m| m.len()).unwrap_or(0);
    println!(
        "log: {bytes} segment bytes ({:.0} B/event), checkpoint {index_bytes} bytes",
        bytes as f64 / events as f64
    );

    // Open, five times (the files are in the page cache after the first). `open` returns once
    // the log tail is verified and reads can start; the stream index (needed by appends and
    // read_stream) completes in the background: both times are reported.
    let mut first_appends_ms = Vec::new();
    for round in 0..5u64 {
        let t0 = Instant::now();
        let log = FileLog::open(&dir, FileLogOptions::default()).unwrap();
        let open_s = t0.elapsed().as_secs_f64();
        let head = rt.block_on(log.head_position()).unwrap();
        let last = rt.block_on(log.read_all(head, 1)).unwrap();
        let first_read_s = t0.elapsed().as_secs_f64();
        assert_eq!((head, last[0].position), (events + round, events + round));
        log.wait_index_ready().unwrap();
        let ready_s = t0.elapsed().as_secs_f64();
        let ev = event(7, 11 + round, format!("open-{round}"));
        rt.block_on(log.append("complaint-000000007", ExpectedVersion::Exact(10 + round), vec![ev]))
            .unwrap();
        let append_s = t0.elapsed().as_secs_f64();
        first_appends_ms.push(append_s * 1e3);
        println!(
            "open #{round}: open {:.1} ms; + read of the head event {:.1} ms; stream index ready {:.1} ms; first durable append {:.1} ms ({:?})",
            open_s * 1e3,
            first_read_s * 1e3,
            ready_s * 1e3,
            append_s * 1e3,
            log.open_report().index
        );
        drop(log);
    }
    first_appends_ms.sort_by(f64::total_cmp);
    summary::record("open.first_append_ms", first_appends_ms[first_appends_ms.len() / 2]);
    summary::record("open.events", events as f64);
    let events = events + 5; // one append per open round

    let log = FileLog::open(
        &dir,
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    for round in 0..3 {
        let t0 = Instant::now();
        let mut payload_bytes = 0u64;
        let n = log
            .visit_all(1, usize::MAX, |e| payload_bytes += e.payload.len() as u64)
            .unwrap();
        let s = t0.elapsed().as_secs_f64();
        assert_eq!(n, events);
        println!(
            "read-all visitor #{round}: {n} events in {s:.2} s = {:.0} events/s, {:.0} MB/s of log ({:.0}% of the disk's sequential rate; warm page cache); payload {payload_bytes} B",
            n as f64 / s,
            bytes as f64 / s / 1e6,
            100.0 * bytes as f64 / s / DISK_BYTES_PER_S
        );
    }
    let t0 = Instant::now();
    let mut next = 1u64;
    let mut n = 0u64;
    while next <= events {
        let page = rt.block_on(log.read_all(next, 100_000)).unwrap();
        n += page.len() as u64;
        next = page.last().unwrap().position + 1;
    }
    let s = t0.elapsed().as_secs_f64();
    println!(
        "read_all (owned RecordedEvent, pages of 100k): {n} events in {s:.2} s = {:.0} events/s",
        n as f64 / s
    );
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}

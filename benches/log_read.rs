//! File log reads and opening: read-all throughput (borrowed visitor and owned `read_all`) and
//! the time to open a large log from its checkpoint.
//!
//! ```text
//! cargo bench -p plaint --bench log_read
//! ```
//! Environment: `PLAINT_BENCH_EVENTS` (default 10,000,000; 10 events per stream),
//! `PLAINT_BENCH_DIR` (default `./target/bench-log`), `PLAINT_BENCH_OPEN_ONLY` (stop after the
//! open rounds).
//!
//! Prints `ROW open_until_appends_ms <ms> ms` (the median over the four warm open rounds of the
//! time from `FileLog::open` until the stream index is ready, i.e. until appends are possible)
//! and `ROW open_until_appends_cpu_ms <ms> ms` (the process CPU time over the same span), for
//! the bench summary.

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

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Rewrites `index.pidx` in checkpoint layout 2 (no persisted lookup table, part C): opening it
/// then builds the table in one pass over the stream names, as every open did before layout 3.
fn to_layout_2(dir: &std::path::Path) {
    let path = dir.join("index.pidx");
    let good = std::fs::read(&path).unwrap();
    assert_eq!(u32::from_le_bytes(good[8..12].try_into().unwrap()), 3);
    let a_len = u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    let c_start = a_len + 4;
    let slots = u64::from_le_bytes(good[c_start + 16..c_start + 24].try_into().unwrap()) as usize;
    let c_end = c_start + 24 + slots * 8 + 4;
    let mut old = good[..a_len].to_vec();
    old[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32c::crc32c(&old);
    old.extend_from_slice(&crc.to_le_bytes());
    old.extend_from_slice(&good[c_end..]);
    std::fs::write(&path, old).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    // Rounds 5..8 open the same log from a layout-2 checkpoint (the table built at load): the
    // before-and-after of the persisted table in one run.
    let (mut ready_ms, mut ready_cpu_ms, mut old_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut first_appends_ms = Vec::new();
    for round in 0..8u64 {
        if round >= 5 {
            to_layout_2(&dir);
        }
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let log = FileLog::open(&dir, FileLogOptions::default()).unwrap();
        let open_s = t0.elapsed().as_secs_f64();
        let head = rt.block_on(log.head_position()).unwrap();
        let last = rt.block_on(log.read_all(head, 1)).unwrap();
        let first_read_s = t0.elapsed().as_secs_f64();
        assert_eq!((head, last[0].position), (events + round, events + round));
        log.wait_index_ready().unwrap();
        let ready_s = t0.elapsed().as_secs_f64();
        let ready_cpu_s = cpu_seconds() - cpu0;
        if round >= 5 {
            old_ms.push(ready_s * 1e3);
        } else if round > 0 {
            ready_ms.push(ready_s * 1e3);
            ready_cpu_ms.push(ready_cpu_s * 1e3);
        }
        let ev = event(7, 11 + round, format!("open-{round}"));
        rt.block_on(log.append("complaint-000000007", ExpectedVersion::Exact(10 + round), vec![ev]))
            .unwrap();
        let append_s = t0.elapsed().as_secs_f64();
        first_appends_ms.push(append_s * 1e3);
        println!(
            "open #{round}: open {:.1} ms; + read of the head event {:.1} ms; stream index ready {:.1} ms (CPU {:.1} ms); first durable append {:.1} ms ({:?})",
            open_s * 1e3,
            first_read_s * 1e3,
            ready_s * 1e3,
            ready_cpu_s * 1e3,
            append_s * 1e3,
            log.open_report().index
        );
        drop(log);
    }
    println!("ROW open_until_appends_ms {:.1} ms", median(ready_ms.clone()));
    println!("ROW open_until_appends_cpu_ms {:.1} ms", median(ready_cpu_ms));
    println!(
        "open until appends, median: {:.1} ms from a layout-3 checkpoint; {:.1} ms from layout 2 (table built at load)",
        median(ready_ms.clone()),
        median(old_ms)
    );
    if std::env::var_os("PLAINT_BENCH_OPEN_ONLY").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    // The summary's row: the first durable append after opening from the current layout.
    first_appends_ms.truncate(5);
    first_appends_ms.sort_by(f64::total_cmp);
    summary::record("open.first_append_ms", first_appends_ms[first_appends_ms.len() / 2]);
    summary::record("open.events", events as f64);
    let events = events + 8; // one append per open round

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

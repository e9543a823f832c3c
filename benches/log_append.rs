//! File log appends: bulk import throughput and 64 concurrent single-command appenders.
//!
//! ```text
//! cargo bench -p plaint --bench log_append
//! ```
//! Environment: `PLAINT_BENCH_BULK_EVENTS` (default 2,000,000), `PLAINT_BENCH_SECONDS` (default 10,
//! concurrent phase), `PLAINT_BENCH_APPENDERS` (default 64), `PLAINT_BENCH_DIR` (default: a
//! temporary directory on the same disk as the target dir, `./target/bench-log`),
//! `PLAINT_BENCH_PHASES` (default `bulk,concurrent`), `PLAINT_BENCH_PREWRITE_BYTES` (the log's
//! `FileLogOptions::prewrite_bytes`, default the log's: 0 measures without a pre-written tail,
//! for A/B runs of one build), `PLAINT_BENCH_IDLE_SPIN_MICROS` (the log's
//! `FileLogOptions::idle_spin_micros`, default the log's: 0 parks the log threads at once),
//! `PLAINT_BENCH_BUILD_CALLS` (`both`, the default: each bulk label runs twice, first with all
//! its calls built before the clock and the CPU count start, so that its figures measure the
//! store alone (keys `store.bulk.<label>.prebuilt.*`), then with the submitting tasks building
//! each call while the log writes, as every wave up to 8 measured it (keys
//! `store.bulk.<label>.timed_build.*`; building the calls — `format!`, allocations — took about
//! a third of the process's CPU in wave 8); `before` or `timed` runs only one of the two),
//! `PLAINT_BENCH_BULK_IN_FLIGHT` (bulk calls in flight: submitting tasks with one call each).
//! A setting that is not its default names itself at the end of the summary keys it changes
//! (`.in_flight<N>`, `.prewrite<B>`, `.spin<µs>`), so that a figure never changes meaning
//! under one key (bench_summary reads the default keys).
//! Every phase prints the log threads' time by role (writer, sync, of which `fdatasync`,
//! waiting for work) and the acknowledged commits' latency by part (`CommitParts`: queued,
//! writing, behind a sync, the sync, answering, the caller's wake-up); the concurrent phase
//! also each part's whole histogram.

use hdrhistogram::Histogram;
use plaint_store::file::{Durability, FileLog, FileLogOptions, COMMIT_PART_BOUNDS_MICROS, SYNC_BUCKET_BOUNDS_MICROS};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/summary.rs"]
mod summary;

/// Disk figures of the CI-class machine, for the "share of the limit" column.
const DISK_BYTES_PER_S: f64 = 280e6;
const DISK_FSYNC_S: f64 = 0.2e-3;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The log's options for `durability`, with `PLAINT_BENCH_PREWRITE_BYTES` applied.
fn log_options(durability: Durability) -> FileLogOptions {
    let defaults = FileLogOptions::default();
    FileLogOptions {
        durability,
        prewrite_bytes: env_or("PLAINT_BENCH_PREWRITE_BYTES", defaults.prewrite_bytes),
        idle_spin_micros: env_or("PLAINT_BENCH_IDLE_SPIN_MICROS", defaults.idle_spin_micros),
        ..defaults
    }
}

/// The summary keys' suffix naming the log options that are not their defaults (empty when
/// all are).
fn options_suffix() -> String {
    let defaults = FileLogOptions::default();
    let mut suffix = String::new();
    let prewrite = env_or("PLAINT_BENCH_PREWRITE_BYTES", defaults.prewrite_bytes);
    if prewrite != defaults.prewrite_bytes {
        suffix.push_str(&format!(".prewrite{prewrite}"));
    }
    let spin = env_or("PLAINT_BENCH_IDLE_SPIN_MICROS", defaults.idle_spin_micros);
    if spin != defaults.idle_spin_micros {
        suffix.push_str(&format!(".spin{spin}"));
    }
    suffix
}

/// [`options_suffix`], and the bulk calls in flight when not the default.
fn bulk_suffix(submitters: u64) -> String {
    let in_flight = if submitters == BULK_IN_FLIGHT_DEFAULT {
        String::new()
    } else {
        format!(".in_flight{submitters}")
    };
    in_flight + &options_suffix()
}

fn bench_dir(name: &str) -> PathBuf {
    let base = std::env::var("PLAINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/bench-log"));
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A realistic complaint event of about 150 bytes (metadata + payload).
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

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// When a bulk run builds its calls (`PLAINT_BENCH_BUILD_CALLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallBuilding {
    /// All calls built before the clock starts: the figures are the store's.
    Before,
    /// Each call built by its submitting task during the run (the method of waves up to 8).
    Timed,
}

impl CallBuilding {
    /// The summary key's part that names the method: a figure never changes meaning under
    /// one key.
    fn key(self) -> &'static str {
        match self {
            CallBuilding::Before => "prebuilt",
            CallBuilding::Timed => "timed_build",
        }
    }
}

/// The methods to run, in order: both by default, so that one run shows both figures.
fn call_buildings() -> Vec<CallBuilding> {
    match std::env::var("PLAINT_BENCH_BUILD_CALLS").as_deref() {
        Ok("before") => vec![CallBuilding::Before],
        Ok("timed") => vec![CallBuilding::Timed],
        Ok("both") | Err(_) => vec![CallBuilding::Before, CallBuilding::Timed],
        Ok(other) => panic!("PLAINT_BENCH_BUILD_CALLS={other}: want `both`, `before` or `timed`"),
    }
}

/// Events per bulk call: 1000 streams × 10 events (the most one call may carry).
const BULK_CALL_EVENTS: u64 = 10_000;

/// Bulk call number `call`: 1000 new streams of 10 events each.
fn bulk_call(call: u64) -> Vec<AppendRequest> {
    (0..1000u64)
        .map(|k| {
            let stream_no = call * 1000 + k;
            AppendRequest {
                stream: format!("complaint-{stream_no:09}"),
                expected: ExpectedVersion::Exact(0),
                events: (1..=10)
                    .map(|v| event(stream_no, v, format!("import-{stream_no}")))
                    .collect(),
            }
        })
        .collect()
}

/// Calls in flight in the bulk phase: `PLAINT_BENCH_BULK_IN_FLIGHT` submitting tasks, each
/// with one call at a time (4 in every wave up to 9).
fn bulk_submitters() -> u64 {
    env_or("PLAINT_BENCH_BULK_IN_FLIGHT", BULK_IN_FLIGHT_DEFAULT).max(1)
}

const BULK_IN_FLIGHT_DEFAULT: u64 = 4;

/// Bulk: `append_many` calls of 1000 streams × 10 events, from `bulk_submitters()` submitting
/// tasks (call `s`, `s + n`, … for task `s`), so that calls are handed over while the writer
/// writes and syncs. `building` says whether the calls are built before the clock starts; the figures are
/// recorded under `store.bulk.<label>.<building.key()>.*`.
async fn bulk(label: &str, durability: Durability, total_events: u64, building: CallBuilding) {
    let dir = bench_dir(label);
    let log = Arc::new(FileLog::open(&dir, log_options(durability)).unwrap());
    let calls = total_events / BULK_CALL_EVENTS;
    let submitters = bulk_submitters();
    let build_cpu0 = cpu_seconds();
    let mut prebuilt: Vec<Vec<Vec<AppendRequest>>> = (0..submitters)
        .map(|s| match building {
            CallBuilding::Before => (s..calls).step_by(submitters as usize).map(bulk_call).collect(),
            CallBuilding::Timed => Vec::new(),
        })
        .collect();
    let build_cpu = cpu_seconds() - build_cpu0;
    let at_start = log.writer_stats();
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..submitters {
        let log = log.clone();
        let mut prebuilt = std::mem::take(&mut prebuilt[s as usize]).into_iter();
        tasks.push(tokio::spawn(async move {
            for call in (s..calls).step_by(submitters as usize) {
                let requests = match building {
                    CallBuilding::Before => prebuilt.next().expect("one prebuilt call per call number"),
                    CallBuilding::Timed => bulk_call(call),
                };
                log.append_many(requests).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let events = calls * BULK_CALL_EVENTS;
    assert_eq!(log.head_position().await.unwrap(), events);
    let bytes = log.segment_bytes();
    let rate = events as f64 / elapsed;
    let mb_s = bytes as f64 / elapsed / 1e6;
    println!(
        "bulk {label}, {}, {submitters} calls in flight: {events} events in {elapsed:.2} s = {rate:.0} events/s; {:.0} B/event on disk; {mb_s:.0} MB/s = {:.0}% of the disk's {:.0} MB/s",
        building.key(),
        bytes as f64 / events as f64,
        100.0 * mb_s * 1e6 / DISK_BYTES_PER_S,
        DISK_BYTES_PER_S / 1e6
    );
    print_stats(&log, events, elapsed, &at_start);
    let built = match building {
        CallBuilding::Before => format!(
            "the calls built before the clock ({:.2} µs per event to build them, not counted)",
            build_cpu * 1e6 / events as f64
        ),
        CallBuilding::Timed => "building the calls included, the method of waves up to 8".to_string(),
    };
    println!(
        "    CPU: {:.2} µs per event (process user + system, {built})",
        cpu * 1e6 / events as f64
    );
    let key = format!("store.bulk.{label}.{}{}", building.key(), bulk_suffix(submitters));
    summary::record(&format!("{key}.ev_s"), rate);
    summary::record(&format!("{key}.mb_s"), mb_s);
    summary::record(&format!("{key}.bytes_per_event"), bytes as f64 / events as f64);
    Arc::try_unwrap(log).ok().unwrap().close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The writer's figures of the timed part; `at_start` the stats when the clock started (the log
/// threads' role times count from there: the calls built before the clock are not waited for).
fn print_stats(log: &FileLog, events: u64, elapsed: f64, at_start: &plaint_store::file::WriterStats) {
    let st = log.writer_stats();
    let sync_ms = st.sync_nanos as f64 / 1e6 / st.syncs.max(1) as f64;
    println!(
        "    writer: {} batches ({:.0} events/batch), {} fdatasync ({:.0}/s, {:.1} events per sync), mean {sync_ms:.2} ms each, {:.0}% of the run spent in fdatasync",
        st.batches,
        events as f64 / st.batches.max(1) as f64,
        st.syncs,
        st.syncs as f64 / elapsed,
        events as f64 / st.syncs.max(1) as f64,
        100.0 * st.sync_nanos as f64 / 1e9 / elapsed
    );
    // The median and the 99th percentile sync's latency buckets (`SYNC_BUCKET_BOUNDS_MICROS`).
    let bucket_at = |q: f64| {
        let mut seen = 0;
        st.sync_buckets.iter().position(|&n| {
            seen += n;
            seen as f64 >= q * st.syncs as f64
        })
    };
    let bound = |i: usize| {
        SYNC_BUCKET_BOUNDS_MICROS
            .get(i)
            .map_or("more".to_string(), |b| format!("{b} µs"))
    };
    let median = bucket_at(0.5);
    println!(
        "    fdatasync p99 in the bucket up to {}; buckets (µs bound: calls): {}",
        bucket_at(0.99).map_or("-".to_string(), bound),
        st.sync_buckets
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(i, n)| format!("{}: {n}", bound(i)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "    fdatasync median in the bucket up to {}; tail pre-written (prewrite_bytes {}): {} extensions, {:.1} MiB of zeros, {:.1} ms in them ({:.2} µs per event)",
        median.map_or("-".to_string(), bound),
        env_or("PLAINT_BENCH_PREWRITE_BYTES", FileLogOptions::default().prewrite_bytes),
        st.prewrites,
        st.prewrite_bytes as f64 / (1 << 20) as f64,
        st.prewrite_nanos as f64 / 1e6,
        st.prewrite_nanos as f64 / 1e3 / events.max(1) as f64
    );
    println!(
        "    log threads (idle_spin_micros {}): {} woken ({:.2} per batch), {} spins of which {} took work without parking",
        env_or("PLAINT_BENCH_IDLE_SPIN_MICROS", FileLogOptions::default().idle_spin_micros),
        st.thread_wakes,
        st.thread_wakes as f64 / st.batches.max(1) as f64,
        st.idle_spins,
        st.idle_spins_caught
    );
    let (r, r0) = (st.role_times, at_start.role_times);
    let share = |nanos: u64| 100.0 * nanos as f64 / 1e9 / (2.0 * elapsed);
    println!(
        "    log threads' time (two threads × the run): writer role {:.0}%, sync role {:.0}% (of which fdatasync {:.0}%), the rest waiting for work {:.0}% ({} waits, {:.2} per batch)",
        share(r.writing_nanos - r0.writing_nanos),
        share(r.syncing_nanos - r0.syncing_nanos),
        share(st.sync_nanos - at_start.sync_nanos),
        // A wait that began before the clock (while the calls were built) ends inside it, so
        // the waiting counter would count it whole: the rest of the two threads' time instead.
        100.0 - share(r.writing_nanos - r0.writing_nanos + r.syncing_nanos - r0.syncing_nanos),
        r.waits - r0.waits,
        (r.waits - r0.waits) as f64 / (st.batches - at_start.batches).max(1) as f64
    );
    println!("    {}", commit_parts_line(&st.commit_parts));
}

/// The p50 / p99 bucket bound of each part of the acknowledged commits' latency.
fn commit_parts_line(parts: &plaint_store::file::CommitParts) -> String {
    let bound = |i: Option<usize>| match i.and_then(|i| COMMIT_PART_BOUNDS_MICROS.get(i)) {
        Some(b) => format!("≤{b}"),
        None => "more".to_string(),
    };
    let at = |buckets: &[u64], q: f64| {
        let total: u64 = buckets.iter().sum();
        let mut seen = 0;
        buckets.iter().position(|&n| {
            seen += n;
            total > 0 && seen as f64 >= q * total as f64
        })
    };
    let named = parts.named();
    let list: Vec<String> = named
        .iter()
        .map(|(name, b)| format!("{name} {} / {}", bound(at(&b[..], 0.5)), bound(at(&b[..], 0.99))))
        .collect();
    format!("commit parts, p50 / p99 bucket (µs): {}", list.join(", "))
}

/// The whole histogram of each commit part (bucket bound µs: commits), for the tail's analysis.
fn print_commit_parts(parts: &plaint_store::file::CommitParts) {
    for (name, buckets) in parts.named() {
        let cells: Vec<String> = buckets
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(i, n)| {
                let b = COMMIT_PART_BOUNDS_MICROS
                    .get(i)
                    .map_or("more".to_string(), |b| b.to_string());
                format!("{b}: {n}")
            })
            .collect();
        println!("      {name:>11}: {}", cells.join(", "));
    }
}

/// 64 tasks, each appending one event per command to its own stream with an exact version.
async fn concurrent(appenders: u64, seconds: u64) {
    let dir = bench_dir("concurrent");
    let log = Arc::new(FileLog::open(&dir, log_options(Durability::Always)).unwrap());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..appenders {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
            let stream = format!("complaint-{t:09}");
            let mut version = 0u64;
            while Instant::now() < deadline {
                let ev = event(t, version + 1, format!("c{t}-{}", version + 1));
                let t0 = Instant::now();
                log.append(&stream, ExpectedVersion::Exact(version), vec![ev])
                    .await
                    .unwrap();
                hist.record(t0.elapsed().as_micros() as u64).unwrap();
                version += 1;
            }
            hist
        }));
    }
    let at_start = log.writer_stats();
    let started = Instant::now();
    let cpu0 = cpu_seconds();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    for t in tasks {
        hist.add(t.await.unwrap()).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let commits = hist.len();
    let head = log.head_position().await.unwrap();
    assert_eq!(head, commits);
    let bytes = log.segment_bytes();
    println!(
        "concurrent: {appenders} appenders, {commits} commits in {elapsed:.2} s = {:.0} commits/s; latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.2} ms, max {:.2} ms; {:.1} MB/s = {:.1}% of disk bandwidth; at the disk's nominal {:.1} ms per fdatasync this batching would allow {:.0} commits/s",
        commits as f64 / elapsed,
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.value_at_quantile(0.999) as f64 / 1000.0,
        hist.max() as f64 / 1000.0,
        bytes as f64 / elapsed / 1e6,
        100.0 * bytes as f64 / elapsed / DISK_BYTES_PER_S,
        DISK_FSYNC_S * 1e3,
        commits as f64 / log.writer_stats().batches.max(1) as f64 / DISK_FSYNC_S,
    );
    print_stats(&log, commits, elapsed, &at_start);
    print_commit_parts(&log.writer_stats().commit_parts);
    println!(
        "    CPU: {:.1} µs per commit (process user + system, the appenders included)",
        cpu * 1e6 / commits as f64
    );
    let suffix = options_suffix();
    summary::record(&format!("store.concurrent.commits_s{suffix}"), commits as f64 / elapsed);
    summary::record(
        &format!("store.concurrent.p99_ms{suffix}"),
        hist.value_at_quantile(0.99) as f64 / 1000.0,
    );
    summary::record(&format!("store.concurrent.appenders{suffix}"), appenders as f64);
    Arc::try_unwrap(log).ok().unwrap().close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let bulk_events = env_or("PLAINT_BENCH_BULK_EVENTS", 2_000_000);
    let seconds = env_or("PLAINT_BENCH_SECONDS", 10);
    let appenders = env_or("PLAINT_BENCH_APPENDERS", 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let phases = std::env::var("PLAINT_BENCH_PHASES").unwrap_or_else(|_| "bulk,concurrent".into());
    let phase = |name: &str| phases.split(',').any(|p| p == name);
    rt.block_on(async {
        if phase("bulk") {
            let buildings = call_buildings();
            for &building in &buildings {
                bulk("durable", Durability::Always, bulk_events, building).await;
            }
            let every = NonZeroU32::new(16).unwrap();
            for &building in &buildings {
                let durability = Durability::Bulk {
                    sync_every_batches: every,
                };
                bulk("bulk-sync-every-16", durability, bulk_events, building).await;
            }
        }
        if phase("concurrent") {
            concurrent(appenders, seconds).await;
        }
    });
}

//! Rebuild of every projection from the embedded file log (issue 4): events/s on one core and
//! peak resident memory.
//!
//! ```text
//! PLAINT_BENCH_COMPLAINTS=1000000 cargo bench --bench projections_rebuild
//! ```
//!
//! The workload is the projections crate's synthetic log (`plaint_projections::synth`): about
//! ten events per complaint, realistic mix, deadlines from the default policy. It is written once
//! per size and seed into `target/bench-data/` (in a child process, so the generator's memory
//! does not count against the rebuild), then read back three ways:
//! 1. `visit`: the file log's allocation-free scan alone (the floor set by the store);
//! 2. `decode`: scan + envelope → domain event (codec, ids);
//! 3. `rebuild`: scan + decode + all four projections, single-threaded — the figure of record.
//!
//! Env: `PLAINT_BENCH_COMPLAINTS` (default 100 000 ≈ 1 M events), `PLAINT_BENCH_SEED`
//! (default 42), `PLAINT_BENCH_DATA` (directory of generated logs), `PLAINT_BENCH_ONLY`
//! (comma-separated projection names to rebuild, default all), `PLAINT_BENCH_SKIP_SCAN` and
//! `PLAINT_BENCH_SKIP_PARALLEL` (leave out those phases).
//!
//! For the bench summary it prints `ROW rebuild_events_per_s <n> ev/s` (the one-thread rebuild,
//! events per second of wall time), `ROW rebuild_events_per_cpu_s <n> ev/s` (per second of this
//! process's CPU time, getrusage: the figure that holds on a shared machine),
//! `ROW decode_events_per_cpu_s <n> ev/s`, `ROW scan_events_per_cpu_s <n> ev/s` and
//! `ROW projection_heap_mib_per_100k <n> MiB` (the projections' heap after the rebuild, per
//! 100,000 complaints) and `ROW projection_heap_after_load_mib_per_100k <n> MiB` (the same state
//! loaded from its checkpoints, as a restart does). It also prints how long each projection's state takes to load back as a
//! checkpoint load does (decode, the checks of `after_load`, the lookup indexes).

use plaint_projections::envelope::{from_event_ref, to_new_event};
use plaint_projections::runner::{ProjectionKind, ProjectionSet, RebuildTarget, Runner};
use plaint_projections::synth::{SynthConfig, SynthLog};
use plaint_store::file::{Durability, FileLog, FileLogOptions};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion};
use std::alloc::{GlobalAlloc, Layout, System};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[path = "support/summary.rs"]
mod summary;

/// Counts live heap bytes, so the projections' own memory can be told apart from the store's
/// (page cache, segment buffers, its stream index) in the process's resident set.
struct CountingAlloc;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK_LIVE_BYTES.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let now = if new_size >= layout.size() {
                LIVE_BYTES.fetch_add(new_size - layout.size(), Ordering::Relaxed) + (new_size - layout.size())
            } else {
                LIVE_BYTES.fetch_sub(layout.size() - new_size, Ordering::Relaxed) - (layout.size() - new_size)
            };
            PEAK_LIVE_BYTES.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn generate(dir: &Path, complaints: u64, seed: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = FileLogOptions {
            durability: Durability::Bulk {
                sync_every_batches: NonZeroU32::new(256).unwrap(),
            },
            ..FileLogOptions::default()
        };
        let log = FileLog::open(dir, opts).expect("open bench log");
        assert_eq!(
            log.head_position().await.unwrap(),
            0,
            "bench log directory must be empty"
        );
        let cfg = SynthConfig {
            complaints,
            seed,
            span_days: 180,
            ..SynthConfig::default()
        };
        let started = Instant::now();
        let mut batch = Vec::with_capacity(4096);
        let mut n = 0u64;
        for e in SynthLog::new(cfg) {
            batch.push(AppendRequest {
                stream: e.meta.complaint_id.as_str().to_owned(),
                expected: ExpectedVersion::Exact(e.meta.stream_version - 1),
                events: vec![to_new_event(&e)],
            });
            n += 1;
            if batch.len() == 4096 {
                log.append_many(std::mem::take(&mut batch)).await.expect("append");
            }
            if n % 1_000_000 == 0 {
                eprintln!("  generated {n} events ({:.0?})", started.elapsed());
            }
        }
        if !batch.is_empty() {
            log.append_many(batch).await.expect("append");
        }
        log.close().await.expect("close");
        eprintln!("generated {n} events in {:.1?}", started.elapsed());
    });
}

/// Seconds to load projection `name`'s serialised state as a checkpoint load does
/// (`checkpoint::decode_state`: decode, `after_load`'s checks and lookup indexes).
fn load_state(name: &str, bytes: &[u8]) -> f64 {
    use plaint_projections::checkpoint::test_support::decode_state;
    fn timed<P: plaint_projections::Projection>(bytes: &[u8]) -> f64 {
        let started = Instant::now();
        let state = decode_state::<P>(Path::new("bench"), bytes).expect("a rebuilt state reloads");
        let took = started.elapsed().as_secs_f64();
        drop(state);
        took
    }
    if name == plaint_projections::shared::SHARED_NAME {
        let started = Instant::now();
        let state = plaint_projections::shared::decode_state(Path::new("bench"), bytes).expect("the record reloads");
        let took = started.elapsed().as_secs_f64();
        drop(state);
        return took;
    }
    match ProjectionKind::from_name(name).expect("a projection name") {
        ProjectionKind::Tickets => timed::<plaint_projections::Tickets>(bytes),
        ProjectionKind::Sla => timed::<plaint_projections::SlaProjection>(bytes),
        ProjectionKind::Repeats => timed::<plaint_projections::Repeats>(bytes),
        ProjectionKind::Analysis => timed::<plaint_projections::Analysis>(bytes),
        ProjectionKind::Casework => timed::<plaint_projections::casework::Casework>(bytes),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours means "not this bench".
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"projections_rebuild".contains(a.as_str()))
    {
        return;
    }
    let complaints = env_u64("PLAINT_BENCH_COMPLAINTS", 100_000);
    let seed = env_u64("PLAINT_BENCH_SEED", 42);
    let root = std::env::var("PLAINT_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"));
    let dir = root.join(format!("projections-{complaints}-{seed}"));
    let done = dir.join("GENERATED");

    if std::env::var_os("PLAINT_BENCH_GENERATE_ONLY").is_some() {
        generate(&dir, complaints, seed);
        std::fs::write(&done, b"ok").unwrap();
        return;
    }
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "generating {complaints} complaints into {} (child process)",
            dir.display()
        );
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env("PLAINT_BENCH_GENERATE_ONLY", "1")
            .env("PLAINT_BENCH_COMPLAINTS", complaints.to_string())
            .env("PLAINT_BENCH_SEED", seed.to_string())
            .env("PLAINT_BENCH_DATA", &root)
            .status()
            .unwrap();
        assert!(status.success(), "generator failed");
    }

    let opts = FileLogOptions {
        read_only: true,
        ..FileLogOptions::default()
    };
    let log = FileLog::open(&dir, opts).expect("open bench log read-only");
    let head = log.open_report().head_position;
    let bytes: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".plog"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    println!(
        "projections_rebuild: {head} events, {complaints} complaints, {:.0} MiB of segments ({:.0} B/event)",
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / head.max(1) as f64
    );

    // 1. The scan alone; 2. scan + decode. Left out (and nothing printed but that) with
    // `PLAINT_BENCH_SKIP_SCAN`: a rate of what was not measured would read as a measurement.
    if std::env::var_os("PLAINT_BENCH_SKIP_SCAN").is_some() {
        println!("  visit, decode: skipped (PLAINT_BENCH_SKIP_SCAN)");
    } else {
        bench_scan(&log, head);
        bench_decode(&log, head);
    }

    // 3. Full rebuild of every projection, one thread.
    let rss_before = status_kib("VmRSS:");
    let live_before = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_LIVE_BYTES.store(live_before, Ordering::Relaxed);
    let only: Vec<ProjectionKind> = std::env::var("PLAINT_BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').filter_map(ProjectionKind::from_name).collect())
        .unwrap_or_else(|| ProjectionKind::ALL.to_vec());
    let mut runner = Runner::in_memory(ProjectionSet::only(&only));
    runner.read_batch = 100_000;
    let mut last_report = Instant::now();
    let cpu0 = cpu_seconds();
    let stats = runner
        .rebuild_file_log(&log, RebuildTarget::Head, &mut |p| {
            if last_report.elapsed().as_secs() >= 5 {
                eprintln!("  … {} / {}", p.position, p.head);
                last_report = Instant::now();
            }
        })
        .expect("rebuild");
    let rebuild_cpu = cpu_seconds() - cpu0;
    let peak = status_kib("VmHWM:");
    let live_after = LIVE_BYTES.load(Ordering::Relaxed);
    let live_peak = PEAK_LIVE_BYTES.load(Ordering::Relaxed);
    let set = runner.projections();
    println!(
        "  rebuild: {:>8.3} s  {:>12.0} events/s  ({:.0} events per CPU second; {} tickets)",
        stats.elapsed.as_secs_f64(),
        stats.events_per_sec(),
        stats.events as f64 / rebuild_cpu,
        set.tickets.state.len()
    );
    println!("ROW rebuild_events_per_s {:.0} ev/s", stats.events_per_sec());
    println!(
        "ROW rebuild_events_per_cpu_s {:.0} ev/s",
        stats.events as f64 / rebuild_cpu
    );
    println!(
        "  memory:  projections hold {:.0} MiB of heap after the rebuild (peak {:.0} MiB during it); process peak RSS {:.0} MiB, of which {:.0} MiB before the rebuild (the open file log); {} out-of-range instants in the packed timestamps' escape table",
        mib(live_after.saturating_sub(live_before)),
        mib(live_peak.saturating_sub(live_before)),
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        plaint_domain::time::escaped_instants()
    );
    println!(
        "ROW projection_heap_mib_per_100k {:.1} MiB",
        mib(live_after.saturating_sub(live_before)) * 100_000.0 / complaints.max(1) as f64
    );
    summary::record("rebuild.one_thread.ev_s", stats.events_per_sec());
    summary::record("rebuild.events", head as f64);
    summary::record("rebuild.complaints", complaints as f64);
    summary::record("rebuild.projections_mib", mib(live_after.saturating_sub(live_before)));
    let started = Instant::now();
    let mut serialised = set.serialised();
    // The set's shared per-complaint record (issue 13, wave 11): a checkpoint of its own.
    let shared = set.shared_serialised();
    serialised.push((plaint_projections::shared::SHARED_NAME, shared));
    let sizes: Vec<String> = serialised
        .iter()
        .map(|(name, b)| format!("{name} {:.0} MiB", b.len() as f64 / (1 << 20) as f64))
        .collect();
    println!(
        "  checkpoint state: {} (serialised in {:.2?})",
        sizes.join(", "),
        started.elapsed()
    );
    let loads: Vec<String> = serialised
        .iter()
        .map(|(name, b)| format!("{name} {:.1} ms", load_state(name, b) * 1e3))
        .collect();
    println!(
        "  checkpoint load (decode, checks, lookup indexes): {}",
        loads.join(", ")
    );
    // The heap of the same state loaded from its checkpoints, as `plaint serve` starts (review
    // of wave 12: a load must hold no more than a rebuild).
    let ckdir = dir.join("heap-after-load");
    let _ = std::fs::remove_dir_all(&ckdir);
    std::fs::create_dir_all(&ckdir).unwrap();
    set.save(&ckdir).expect("save the checkpoints");
    let live_before_load = LIVE_BYTES.load(Ordering::Relaxed);
    let loaded = Runner::open(&ckdir, ProjectionSet::only(&only)).expect("the checkpoints load");
    let loaded_heap = mib(LIVE_BYTES.load(Ordering::Relaxed).saturating_sub(live_before_load));
    assert_eq!(
        loaded.projections().serialised(),
        serialised[..serialised.len() - 1],
        "a loaded state is the rebuilt one"
    );
    drop(loaded);
    let _ = std::fs::remove_dir_all(&ckdir);
    println!(
        "  memory after a checkpoint load: projections hold {loaded_heap:.0} MiB of heap; {} out-of-range instants in the escape table",
        plaint_domain::time::escaped_instants()
    );
    println!(
        "ROW projection_heap_after_load_mib_per_100k {:.1} MiB",
        loaded_heap * 100_000.0 / complaints.max(1) as f64
    );
    summary::record("rebuild.projections_loaded_mib", loaded_heap);
    let digest = |s: &[(&str, Vec<u8>)]| -> Vec<blake3::Hash> { s.iter().map(|(_, b)| blake3::hash(b)).collect() };
    let single = digest(&serialised);
    drop(serialised);
    drop(runner);

    // 4. The same on two threads (scan + decode + tickets | SLA + repeats + analysis).
    if std::env::var_os("PLAINT_BENCH_SKIP_PARALLEL").is_some() {
        return;
    }
    let mut par = Runner::in_memory(ProjectionSet::only(&only));
    par.read_batch = 100_000;
    par.parallel = true;
    let pstats = par
        .rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {})
        .expect("parallel rebuild");
    let mut par_serialised = par.projections().serialised();
    let shared = par.projections().shared_serialised();
    par_serialised.push((plaint_projections::shared::SHARED_NAME, shared));
    assert!(
        digest(&par_serialised) == single,
        "parallel rebuild must be byte-identical (the shared record too)"
    );
    drop(par_serialised);
    summary::record("rebuild.two_threads.ev_s", pstats.events_per_sec());
    println!(
        "  rebuild, 2 threads: {:>8.3} s  {:>12.0} events/s  (byte-identical state)",
        pstats.elapsed.as_secs_f64(),
        pstats.events_per_sec()
    );
    assert_eq!(stats.events, head);
}

/// Visits events 1..=`head` of the log in batches, handing each record to `f`.
fn visit_every(log: &FileLog, head: u64, mut f: impl FnMut(&plaint_store::file::EventRef<'_>)) {
    let mut from = 1;
    while from <= head {
        let n = log.visit_all(from, 100_000, &mut f).unwrap();
        if n == 0 {
            break;
        }
        from += n;
    }
}

/// A timed pass over the log (phases 1 and 2): its printed label, its `ROW` and summary key.
struct Pass {
    label: &'static str,
    row: &'static str,
    summary_key: &'static str,
}

const SCAN: Pass = Pass {
    label: "visit",
    row: "scan_events_per_cpu_s",
    summary_key: "rebuild.scan.ev_s",
};
const DECODE: Pass = Pass {
    label: "decode",
    row: "decode_events_per_cpu_s",
    summary_key: "rebuild.decode.ev_s",
};

/// Times one pass over events 1..=`head` calling `f` on each, and prints its rates.
fn timed_pass(log: &FileLog, head: u64, pass: Pass, f: impl FnMut(&plaint_store::file::EventRef<'_>)) {
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    visit_every(log, head, f);
    let t = started.elapsed();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "  {:<8} {:>8.3} s  {:>12.0} events/s  ({:.0} events per CPU second)",
        format!("{}:", pass.label),
        t.as_secs_f64(),
        head as f64 / t.as_secs_f64(),
        head as f64 / cpu
    );
    println!("ROW {} {:.0} ev/s", pass.row, head as f64 / cpu);
    summary::record(pass.summary_key, head as f64 / t.as_secs_f64());
}

/// Phase 1: the file log's allocation-free scan alone, `head` events.
fn bench_scan(log: &FileLog, head: u64) {
    let mut sum = 0u64;
    timed_pass(log, head, SCAN, |r| sum = sum.wrapping_add(r.payload.len() as u64));
    println!("  (payload bytes {sum})");
}

/// Phase 2: the scan and the decoding of every envelope into a domain event, `head` events.
fn bench_decode(log: &FileLog, head: u64) {
    let mut kinds = 0u64;
    timed_pass(log, head, DECODE, |r| {
        let e = from_event_ref(r).expect("decodes");
        kinds = kinds.wrapping_add(e.meta.stream_version);
    });
    std::hint::black_box(kinds);
}

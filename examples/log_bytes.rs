//! Where the bytes of the file log go on the engine workload, and how fast the log decodes.
//!
//! ```text
//! cargo run --release --example log_bytes -- 2000            # run the workload, then measure
//! cargo run --release --example log_bytes -- 2000 OUTDIR     # the same, keeping the log in OUTDIR
//! cargo run --release --example log_bytes -- --dir LOGDIR    # measure an existing log
//! ```
//!
//! Runs `plaint::workload::generate` (seed 1) through `Engine::execute`, one command at a time
//! (the vs_cqrs bench's one-caller run), into a fresh file log; then reads it back and prints
//! the segment bytes per event, split into the fields' own bytes as written (stream name when
//! it is written out, event type, actor, command id, payload) and the format's framing
//! (everything else: batch headers and trailers, lengths, versions, timestamps, CRCs, chain
//! values), and
//! the CPU time of decoding every event with `FileLog::visit_all` (best of five passes). A
//! quick measurement, not a benchmark: docs/PERFORMANCE.md has the figures and docs/log-format.md
//! the layout.

use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig};
use plaint_store::file::{FileLog, FileLogOptions};
use std::path::{Path, PathBuf};

fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid pointer to a timespec; CLOCK_THREAD_CPUTIME_ID is always available on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

fn segment_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read the log directory")
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.file_name().to_string_lossy().ends_with(".plog"))
        .map(|e| e.metadata().expect("segment metadata").len())
        .sum()
}

/// The format version of the log's first segment.
fn segment_version(dir: &Path) -> u32 {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the log directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "plog"))
        .collect();
    names.sort();
    let bytes = std::fs::read(names.first().expect("a segment")).expect("read a segment");
    plaint_store::file::format::parse_segment_header(&bytes)
        .expect("a segment header")
        .version
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, _keep): (PathBuf, Option<tempfile::TempDir>) = if args.first().map(String::as_str) == Some("--dir") {
        (PathBuf::from(args.get(1).expect("--dir LOGDIR")), None)
    } else {
        let complaints: usize = args.first().map_or(2_000, |a| a.parse().expect("complaints: a number"));
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = args.get(1).map_or_else(|| tmp.path().join("log"), PathBuf::from);
        let commands = generate(&WorkloadConfig {
            complaints,
            seed: 1,
            ..WorkloadConfig::default()
        });
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        runtime.block_on(async {
            let engine = Engine::open(EngineConfig::file(&dir)).await.expect("open the engine");
            for cmd in commands {
                // Refusals are part of the workload (they write nothing); only the log matters.
                let _ = engine.execute(cmd).await;
            }
            engine.close().await.expect("close the engine");
        });
        eprintln!("workload: {complaints} complaints, seed 1, one caller");
        (dir, Some(tmp))
    };

    let options = FileLogOptions {
        read_only: true,
        ..FileLogOptions::default()
    };
    let log = FileLog::open(&dir, options).expect("open the log read-only");
    // Format 3 writes a stream name that starts the command id as a reference to it.
    let compact = segment_version(&dir) >= plaint_store::file::format::FORMAT_VERSION_COMPACT;
    let mut fields = [0u64; 5];
    let mut events = 0u64;
    let mut shared = 0u64;
    let mut commands = std::collections::HashSet::new();
    log.visit_all(1, usize::MAX, |e| {
        events += 1;
        if compact && e.command_id.starts_with(e.stream) {
            shared += 1;
        } else {
            fields[0] += e.stream.len() as u64;
        }
        fields[1] += e.event_type.len() as u64;
        fields[2] += e.actor.len() as u64;
        fields[3] += e.command_id.len() as u64;
        fields[4] += e.payload.len() as u64;
        commands.insert(e.command_id.to_string());
    })
    .expect("read every event");
    let total = segment_bytes(&dir);
    let per = |b: u64| b as f64 / events as f64;
    println!(
        "events {events}, commands {}, segment bytes {total} (first segment of format version {})",
        commands.len(),
        segment_version(&dir)
    );
    println!("stream names written as a reference to the command id: {shared} of {events}");
    println!("bytes per event: {:.1}", per(total));
    for (name, b) in ["stream name", "event type", "actor", "command id", "payload"]
        .iter()
        .zip(fields)
    {
        println!("  {name:<12} {:>7.1}", per(b));
    }
    println!("  {:<12} {:>7.1}", "framing", per(total - fields.iter().sum::<u64>()));

    let mut best = u128::MAX;
    for _ in 0..5 {
        let mut sum = 0u64;
        let t0 = thread_cpu_ns();
        log.visit_all(1, usize::MAX, |e| {
            sum = sum.wrapping_add(e.payload.len() as u64 + e.position)
        })
        .expect("read every event");
        best = best.min(thread_cpu_ns() - t0);
        std::hint::black_box(sum);
    }
    println!(
        "decode (visit_all, best of 5): {:.0} ns CPU per event = {:.2} M events/s of CPU",
        best as f64 / events as f64,
        events as f64 / best as f64 * 1e3
    );
}

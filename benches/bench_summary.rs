//! One table of every performance target of issue 13: measured value, target, ratio, with the
//! disk's durable bandwidth and `fdatasync` latency measured in the same run, and the
//! plaint-versus-cqrs-es ratios of the same run.
//!
//! ```text
//! just bench-summary        # = cargo bench -p plaint --no-run && cargo build --release -p plaint-cli
//!                           #   && cargo bench -p plaint --bench bench_summary
//! ```
//!
//! How it works: the summary runs the other bench binaries (`vs_cqrs`, `log_append`, `log_read`,
//! `projections_rebuild`, built beside it by `cargo bench --no-run`) and the `plaint demo`
//! command as child processes. Each bench appends its figures to the file named by
//! `PLAINT_BENCH_SUMMARY_OUT` through `benches/support/summary.rs` (`key<TAB>value` lines); the
//! rows below only name those keys and the targets. So a row's measurement is improved in its
//! own bench, without touching this file. The children's own reports go to stderr; the table
//! goes to stdout at the end, followed by what the machine allowed in the same run (the
//! ceilings an unmet row is bounded by: one `fdatasync` per lone command, the disk's durable
//! bandwidth, reading the log without folding it, cqrs-es's in-memory command path).
//!
//! Environment:
//! * `PLAINT_SUMMARY_PARTS`: which parts to run, a comma list of `disk`, `vs_cqrs`, `log_append`,
//!   `log_read`, `projections_rebuild`, `demo` (default: all). Rows whose figures were not
//!   measured print "not run".
//! * `PLAINT_BENCH_DIR`: where the disk probe and the logs go (default `target/bench-log`, the
//!   same disk as the build).
//! * `PLAINT_TEST_DATABASE_URL` / `PLAINT_BENCH_DATABASE_URL`: PostgreSQL for the PostgreSQL and
//!   cqrs-es rows (without one they print "not run").
//! * Every bench's own variables are passed through; the summary only sets defaults sized to
//!   finish in a few minutes (listed in [`PARTS`]).

#[path = "support/summary.rs"]
mod summary;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The figures of one run: key → value, as the benches recorded them.
type Figures = BTreeMap<String, f64>;

/// A child bench: its binary name and the environment defaults the summary gives it (a value
/// already in the environment wins).
struct Part {
    name: &'static str,
    defaults: &'static [(&'static str, &'static str)],
}

const PARTS: &[Part] = &[
    Part {
        name: "vs_cqrs",
        defaults: &[("PLAINT_BENCH_COMPLAINTS", "2000"), ("PLAINT_BENCH_CALLERS", "64")],
    },
    Part {
        name: "log_append",
        defaults: &[
            ("PLAINT_BENCH_BULK_EVENTS", "2000000"),
            ("PLAINT_BENCH_SECONDS", "5"),
            ("PLAINT_BENCH_APPENDERS", "64"),
        ],
    },
    Part {
        name: "log_read",
        defaults: &[("PLAINT_BENCH_EVENTS", "10000000")],
    },
    Part {
        name: "projections_rebuild",
        defaults: &[("PLAINT_BENCH_COMPLAINTS", "100000")],
    },
];

/// Complaints of the `plaint demo` row.
const DEMO_COMPLAINTS: &str = "10000";

/// Which way a figure is good.
#[derive(Clone, Copy)]
enum Goal {
    AtLeast,
    AtMost,
    /// Reported for reference, no target.
    Info,
}

/// One row of the table: a label, a function computing the figure from the run's figures
/// (`None`: not measured in this run), the target and its unit.
struct Row {
    label: &'static str,
    measure: fn(&Figures) -> Option<f64>,
    goal: Goal,
    target: f64,
    unit: &'static str,
}

fn get(f: &Figures, key: &str) -> Option<f64> {
    f.get(key).copied()
}

fn ratio_of(f: &Figures, num: &str, den: &str) -> Option<f64> {
    Some(get(f, num)? / get(f, den)?)
}

/// The rows of issue 13's table, in its order.
fn rows() -> Vec<Row> {
    vec![
        Row {
            label: "`Engine::execute`, durable, 64 callers: throughput",
            measure: |f| get(f, "vs.file.many.cmd_s"),
            goal: Goal::AtLeast,
            target: 150_000.0,
            unit: "cmd/s",
        },
        Row {
            label: "`Engine::execute`, durable, 64 callers: p99 latency",
            measure: |f| get(f, "vs.file.many.p99_ms"),
            goal: Goal::AtMost,
            target: 2.0,
            unit: "ms",
        },
        Row {
            label: "`Engine::execute`, durable, 64 callers: CPU per command",
            measure: |f| get(f, "vs.file.many.cpu_us"),
            goal: Goal::AtMost,
            target: 5.0,
            unit: "µs",
        },
        Row {
            label: "`Engine::execute`, durable, 1 caller: throughput",
            measure: |f| get(f, "vs.file.one.cmd_s"),
            goal: Goal::AtLeast,
            target: 9_000.0,
            unit: "cmd/s",
        },
        Row {
            label: "`Engine::execute`, durable, 1 caller: p99 latency",
            measure: |f| get(f, "vs.file.one.p99_ms"),
            goal: Goal::Info,
            target: 0.0,
            unit: "ms",
        },
        Row {
            label: "`Engine::execute`, durable, 1 caller: CPU per command",
            measure: |f| get(f, "vs.file.one.cpu_us"),
            goal: Goal::Info,
            target: 0.0,
            unit: "µs",
        },
        Row {
            label: "store, 64 appenders, one event each: commits",
            measure: |f| get(f, "store.concurrent.commits_s"),
            goal: Goal::AtLeast,
            target: 150_000.0,
            unit: "commits/s",
        },
        Row {
            label: "store, 64 appenders, one event each: p99 latency",
            measure: |f| get(f, "store.concurrent.p99_ms"),
            goal: Goal::AtMost,
            target: 1.0,
            unit: "ms",
        },
        Row {
            label: "store, bulk durable: events (calls built before the clock)",
            measure: |f| get(f, "store.bulk.durable.prebuilt.ev_s"),
            goal: Goal::AtLeast,
            target: 1_500_000.0,
            unit: "ev/s",
        },
        Row {
            label: "store, bulk durable: events (calls built in the timed part, the method up to wave 8; for reference)",
            measure: |f| get(f, "store.bulk.durable.timed_build.ev_s"),
            goal: Goal::Info,
            target: 0.0,
            unit: "ev/s",
        },
        Row {
            label: "store, bulk durable: share of the disk's durable bandwidth (this run's probe; calls built before the clock)",
            measure: |f| Some(100.0 * get(f, "store.bulk.durable.prebuilt.mb_s")? / get(f, "disk.bandwidth_mb_s")?),
            goal: Goal::AtLeast,
            target: 50.0,
            unit: "%",
        },
        Row {
            label: "rebuild all projections, one core",
            measure: |f| get(f, "rebuild.one_thread.ev_s"),
            goal: Goal::AtLeast,
            target: 5_000_000.0,
            unit: "ev/s",
        },
        Row {
            label: "projection memory, scaled to 1 M complaints (measured at `rebuild.complaints`)",
            measure: |f| Some(get(f, "rebuild.projections_mib")? * 1e6 / get(f, "rebuild.complaints")?),
            goal: Goal::AtMost,
            target: 1024.0,
            unit: "MiB",
        },
        Row {
            label: "projection memory after a checkpoint load (a restart), scaled to 1 M complaints",
            measure: |f| Some(get(f, "rebuild.projections_loaded_mib")? * 1e6 / get(f, "rebuild.complaints")?),
            goal: Goal::AtMost,
            target: 1024.0,
            unit: "MiB",
        },
        Row {
            label: "open a 10 M-event log until appends are possible (median of 5)",
            measure: |f| get(f, "open.first_append_ms"),
            goal: Goal::AtMost,
            target: 100.0,
            unit: "ms",
        },
        Row {
            label: "PostgreSQL, 1 caller, plaint vs cqrs-es + postgres-es",
            measure: |f| ratio_of(f, "vs.pg.one.cmd_s", "vs.cqrs_pg.one.cmd_s"),
            goal: Goal::AtLeast,
            target: 2.0,
            unit: "×",
        },
        Row {
            label: "PostgreSQL, 64 callers, plaint vs cqrs-es + postgres-es",
            measure: |f| ratio_of(f, "vs.pg.many.cmd_s", "vs.cqrs_pg.many.cmd_s"),
            goal: Goal::AtLeast,
            target: 10.0,
            unit: "×",
        },
        Row {
            label: "bytes per event on disk, engine workload, file log",
            measure: |f| get(f, "vs.file.bytes_per_event"),
            goal: Goal::AtMost,
            target: 120.0,
            unit: "B",
        },
        Row {
            label: "bytes per event on disk, engine workload, PostgreSQL",
            measure: |f| get(f, "vs.pg.bytes_per_event"),
            goal: Goal::AtMost,
            target: 200.0,
            unit: "B",
        },
        Row {
            label: "`plaint demo --complaints 10000` end to end",
            measure: |f| get(f, "demo.seconds"),
            goal: Goal::AtMost,
            target: 2.0,
            unit: "s",
        },
    ]
}

/// The plaint-versus-cqrs-es ratios of the same `vs_cqrs` run (higher is better for plaint).
fn vs_lines(f: &Figures) -> Vec<String> {
    let lines: [(&str, Option<f64>); 6] = [
        (
            "file log vs cqrs-es + postgres-es, throughput, 1 caller",
            ratio_of(f, "vs.file.one.cmd_s", "vs.cqrs_pg.one.cmd_s"),
        ),
        (
            "file log vs cqrs-es + postgres-es, throughput, 64 callers",
            ratio_of(f, "vs.file.many.cmd_s", "vs.cqrs_pg.many.cmd_s"),
        ),
        (
            "PostgreSQL vs cqrs-es + postgres-es, bytes per event (theirs / ours)",
            ratio_of(f, "vs.cqrs_pg.bytes_per_event", "vs.pg.bytes_per_event"),
        ),
        (
            "file log vs cqrs-es + postgres-es, bytes per event (theirs / ours)",
            ratio_of(f, "vs.cqrs_pg.bytes_per_event", "vs.file.bytes_per_event"),
        ),
        (
            "CPU per command, cqrs-es MemStore (not durable) / plaint file log, 1 caller",
            ratio_of(f, "vs.cqrs_mem.one.cpu_us", "vs.file.one.cpu_us"),
        ),
        (
            "CPU per command, cqrs-es MemStore (not durable) / plaint file log, 64 callers",
            ratio_of(f, "vs.cqrs_mem.many.cpu_us", "vs.file.many.cpu_us"),
        ),
    ];
    lines
        .iter()
        .map(|(what, r)| match r {
            Some(r) => format!("- {what}: {r:.2}×"),
            None => format!("- {what}: not run"),
        })
        .collect()
}

/// What this machine allowed in the same run, beside the rows it bounds: the ceilings the
/// closing note of an unmet target cites (one `fdatasync` per lone command, the disk's durable
/// bandwidth, reading the log without folding it, cqrs-es's in-memory command path).
fn limit_lines(f: &Figures, fsync_p50_ms: Option<f64>) -> Vec<String> {
    let mut lines = Vec::new();
    if let (Some(p50), Some(one)) = (fsync_p50_ms, get(f, "vs.file.one.cmd_s")) {
        let ceiling = 1e3 / p50;
        let budget_us = 1e6 / 9_000.0 - p50 * 1e3;
        lines.push(format!(
            "- 1 caller: one `fdatasync` per command at this run's p50 ({p50:.3} ms) allows at most {} cmd/s; \
             measured {} cmd/s = {:.0} % of that ceiling; 9,000 cmd/s leaves {budget_us:.0} µs per command beside the sync",
            format_value(ceiling, ""),
            format_value(one, ""),
            100.0 * one / ceiling
        ));
    }
    if let (Some(bw), Some(bytes), Some(rate)) = (
        get(f, "disk.bandwidth_mb_s"),
        get(f, "store.bulk.durable.prebuilt.bytes_per_event"),
        get(f, "store.bulk.durable.prebuilt.ev_s"),
    ) {
        lines.push(format!(
            "- bulk (calls built before the clock): the disk's {bw:.0} MB/s durable at {bytes:.0} B an event allows {} ev/s; measured {} ev/s = {:.0} % of it",
            format_value(bw * 1e6 / bytes, ""),
            format_value(rate, ""),
            100.0 * rate * bytes / (bw * 1e6)
        ));
    }
    if let (Some(scan), Some(rebuild)) = (get(f, "rebuild.scan.ev_s"), get(f, "rebuild.one_thread.ev_s")) {
        let decode = get(f, "rebuild.decode.ev_s").map_or(String::new(), |d| {
            format!(", scan + decode {} ev/s", format_value(d, ""))
        });
        lines.push(format!(
            "- rebuild: reading the log alone (records CRC-checked, nothing decoded) {} ev/s{decode}; \
             the rebuild {} ev/s; the 5,000,000 ev/s target is {:.2}× the scan alone",
            format_value(scan, ""),
            format_value(rebuild, ""),
            5e6 / scan
        ));
    }
    for (which, callers) in [("one", "1 caller"), ("many", "64 callers")] {
        let mem = get(f, &format!("vs.cqrs_mem.{which}.cpu_us"));
        let ours = get(f, &format!("vs.file.{which}.cpu_us"));
        if let (Some(mem), Some(ours)) = (mem, ours) {
            lines.push(format!(
                "- CPU per command, {callers}: cqrs-es with its in-memory store (no log, no sync) {mem:.1} µs; plaint durable {ours:.1} µs"
            ));
        }
    }
    lines
}

fn format_value(v: f64, unit: &str) -> String {
    let n = if v >= 1000.0 {
        let s = format!("{v:.0}");
        // Thousands separators.
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    match unit {
        "×" => format!("{n}×"),
        "%" => format!("{n} %"),
        "" => n,
        _ => format!("{n} {unit}"),
    }
}

/// The bench binaries live beside this one (`target/release/deps/<name>-<hash>`); the newest
/// executable of that name is the one `cargo bench --no-run` just built.
fn bench_binary(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("the summary's own path");
    let deps = me.parent().expect("the summary's directory");
    let prefix = format!("{name}-");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(deps).unwrap_or_else(|e| panic!("{}: {e}", deps.display())) {
        let entry = entry.expect("directory entry");
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(hash) = file.strip_prefix(&prefix) else {
            continue;
        };
        if hash.contains('.') || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let meta = entry.metadata().expect("metadata");
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            continue;
        }
        let modified = meta.modified().expect("mtime");
        if best.as_ref().is_none_or(|(t, _)| modified > *t) {
            best = Some((modified, entry.path()));
        }
    }
    best.map(|(_, p)| p).unwrap_or_else(|| {
        panic!(
            "bench binary {name} not found in {}: run `cargo bench -p plaint --no-run` first (`just bench-summary` does)",
            deps.display()
        )
    })
}

/// The child's stdout goes to our stderr, so that our stdout holds only the table.
fn stderr_stdio() -> Stdio {
    Stdio::from(
        std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .expect("duplicate stderr"),
    )
}

fn run_part(part: &Part, out: &Path) -> Duration {
    let binary = bench_binary(part.name);
    eprintln!("\n=== {} ({}) ===", part.name, binary.display());
    let mut cmd = Command::new(&binary);
    cmd.arg("--bench").env(summary::OUT_VAR, out).stdout(stderr_stdio());
    for (k, v) in part.defaults {
        if std::env::var_os(k).is_none() {
            cmd.env(k, v);
        }
    }
    let started = Instant::now();
    let status = cmd.status().unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    assert!(status.success(), "bench {} failed: {status}", part.name);
    started.elapsed()
}

/// `plaint demo --complaints 10000` from start to exit, on a fresh store directory.
fn run_demo(base: &Path, out: &Path) -> Duration {
    let me = std::env::current_exe().expect("the summary's own path");
    let plaint = me
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("plaint"))
        .expect("target/release");
    assert!(
        plaint.exists(),
        "{} not found: run `cargo build --release -p plaint-cli` first (`just bench-summary` does)",
        plaint.display()
    );
    let store = base.join("summary-demo");
    let _ = std::fs::remove_dir_all(&store);
    eprintln!("\n=== plaint demo --complaints {DEMO_COMPLAINTS} ===");
    let started = Instant::now();
    let status = Command::new(&plaint)
        .args(["demo", "--complaints", DEMO_COMPLAINTS, "--seed", "42", "--store"])
        .arg(&store)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", plaint.display()));
    let elapsed = started.elapsed();
    assert!(status.success(), "plaint demo failed: {status}");
    let _ = std::fs::remove_dir_all(&store);
    // Recorded through the same file as the benches' figures.
    summary::record_to(out, "demo.seconds", elapsed.as_secs_f64());
    elapsed
}

/// What the disk did in this run: sequential durable bandwidth (16 MiB writes, `fdatasync`
/// after each, 256 MiB) and the latency of a 4 KiB append + `fdatasync` (200 times).
struct Disk {
    bandwidth_mb_s: f64,
    fsync_p50_ms: f64,
    fsync_p99_ms: f64,
}

fn probe_disk(base: &Path) -> Disk {
    std::fs::create_dir_all(base).unwrap_or_else(|e| panic!("{}: {e}", base.display()));
    let path = base.join("summary-disk-probe");
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Incompressible bytes (xorshift), so that no layer can shortcut the writes.
    let mut chunk = vec![0u8; 16 << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for b in chunk.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
    }
    let chunks = 16;
    let started = Instant::now();
    for _ in 0..chunks {
        file.write_all(&chunk).expect("probe write");
        file.sync_data().expect("probe fdatasync");
    }
    let bandwidth_mb_s = (chunks * chunk.len()) as f64 / started.elapsed().as_secs_f64() / 1e6;
    drop(file);
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut syncs: Vec<f64> = (0..200)
        .map(|i| {
            let t = Instant::now();
            file.write_all(&chunk[i * 4096..(i + 1) * 4096]).expect("probe write");
            file.sync_data().expect("probe fdatasync");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    drop(file);
    let _ = std::fs::remove_file(&path);
    syncs.sort_by(f64::total_cmp);
    Disk {
        bandwidth_mb_s,
        fsync_p50_ms: syncs[syncs.len() / 2],
        fsync_p99_ms: syncs[syncs.len() * 99 / 100],
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

fn read_figures(path: &Path) -> Figures {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut figures = Figures::new();
    for (n, line) in text.lines().enumerate() {
        let (k, v) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("{}:{}: not `key<TAB>value`: {line:?}", path.display(), n + 1));
        let v: f64 = v
            .parse()
            .unwrap_or_else(|e| panic!("{}:{}: value of {k}: {e}", path.display(), n + 1));
        figures.insert(k.to_owned(), v);
    }
    figures
}

fn main() {
    // `cargo bench` passes `--bench` and maybe a filter; a filter that is not ours: not this bench.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"bench_summary".contains(a.as_str()))
    {
        return;
    }
    // A bench run by another summary must not recurse.
    if summary::active() {
        return;
    }
    let parts = std::env::var("PLAINT_SUMMARY_PARTS")
        .unwrap_or_else(|_| "disk,vs_cqrs,log_append,log_read,projections_rebuild,demo".to_owned());
    let wanted = |name: &str| parts.split(',').any(|p| p.trim() == name);
    let base = std::env::var("PLAINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/bench-log"));
    std::fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{}: {e}", base.display()));
    let out = std::fs::canonicalize(&base)
        .expect("bench directory")
        .join("summary-figures.tsv");
    let _ = std::fs::remove_file(&out);
    let load_start = load_average();
    let started = Instant::now();

    let mut disks = Vec::new();
    if wanted("disk") {
        disks.push(("start", probe_disk(&base)));
    }
    let mut timings = Vec::new();
    for part in PARTS.iter().filter(|p| wanted(p.name)) {
        timings.push((part.name, run_part(part, &out)));
    }
    if wanted("demo") {
        timings.push(("demo", run_demo(&base, &out)));
    }
    if wanted("disk") {
        disks.push(("end", probe_disk(&base)));
    }
    let mut figures = read_figures(&out);
    if !disks.is_empty() {
        let mean = disks.iter().map(|(_, d)| d.bandwidth_mb_s).sum::<f64>() / disks.len() as f64;
        figures.insert("disk.bandwidth_mb_s".to_owned(), mean);
    }

    println!();
    println!(
        "## bench-summary ({} cores, load average {load_start} at the start, {} at the end; {:.0} s in all)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        started.elapsed().as_secs_f64()
    );
    println!();
    for (when, d) in &disks {
        println!(
            "- disk at the {when}: {:.0} MB/s durable sequential (16 MiB writes + fdatasync), \
             fdatasync after a 4 KiB append p50 {:.3} ms, p99 {:.3} ms",
            d.bandwidth_mb_s, d.fsync_p50_ms, d.fsync_p99_ms
        );
    }
    if disks.is_empty() {
        println!("- disk: not probed (PLAINT_SUMMARY_PARTS without `disk`)");
    }
    let parts_line: Vec<String> = timings
        .iter()
        .map(|(n, t)| format!("{n} {:.0} s", t.as_secs_f64()))
        .collect();
    println!("- parts: {}", parts_line.join(", "));
    let sizes: Vec<String> = [
        ("vs_cqrs callers", "vs.file.many.callers"),
        ("open: events in the log", "open.events"),
        ("rebuild: events", "rebuild.events"),
        ("rebuild: complaints", "rebuild.complaints"),
        ("store: concurrent appenders", "store.concurrent.appenders"),
    ]
    .iter()
    .filter_map(|(what, key)| get(&figures, key).map(|v| format!("{what} {v:.0}")))
    .collect();
    if !sizes.is_empty() {
        println!("- sizes measured: {}", sizes.join(", "));
    }
    println!();
    println!("| row | measured | target | ratio (≥ 1: met) |");
    println!("|---|---:|---:|---:|");
    let mut met = 0;
    let mut judged = 0;
    for row in rows() {
        let measured = (row.measure)(&figures);
        let (target, ratio) = match row.goal {
            Goal::AtLeast => (
                format!("≥ {}", format_value(row.target, row.unit)),
                measured.map(|m| m / row.target),
            ),
            Goal::AtMost => (
                format!("≤ {}", format_value(row.target, row.unit)),
                measured.map(|m| if m > 0.0 { row.target / m } else { f64::INFINITY }),
            ),
            Goal::Info => ("–".to_owned(), None),
        };
        if let Some(r) = ratio {
            judged += 1;
            if r >= 1.0 {
                met += 1;
            }
        }
        println!(
            "| {} | {} | {target} | {} |",
            row.label,
            measured.map_or("not run".to_owned(), |m| format_value(m, row.unit)),
            ratio.map_or("–".to_owned(), |r| format!("{r:.2}"))
        );
    }
    println!();
    println!("{met} of {judged} measured targets met.");
    println!();
    println!("plaint vs cqrs-es, same `vs_cqrs` run:");
    println!();
    for line in vs_lines(&figures) {
        println!("{line}");
    }
    let fsync_p50_ms =
        (!disks.is_empty()).then(|| disks.iter().map(|(_, d)| d.fsync_p50_ms).sum::<f64>() / disks.len() as f64);
    let limits = limit_lines(&figures, fsync_p50_ms);
    if !limits.is_empty() {
        println!();
        println!("What the machine allowed in this run (the ceilings beside the rows they bound):");
        println!();
        for line in limits {
            println!("{line}");
        }
    }
}

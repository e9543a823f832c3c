//! plaint versus cqrs-es, side by side on one generated workload.
//!
//! The same commands (`plaint::workload::generate`, one seed) go through:
//!
//! 1. plaint's [`Engine`] on the embedded file log (fsync on every append: `Durability::Always`);
//! 2. plaint's [`Engine`] on PostgreSQL (`PgStore`, a fresh schema);
//! 3. cqrs-es's `CqrsFramework` with postgres-es on the same server (fresh prefixed tables), the
//!    aggregate being `plaint_cqrs::ComplaintAggregate` (the very same `decide`/`evolve`);
//! 4. cqrs-es with its in-memory `MemStore` (not durable; for reference).
//!
//! For each: commands/s and per-command latency (p50/p99, hdrhistogram) with 1 caller and with
//! `PLAINT_BENCH_CALLERS` (default 64) concurrent callers (complaints split across that many tokio
//! tasks, each complaint's commands in order within its task; every run on a fresh store), bytes
//! stored per event, and the time to rebuild the ticket projection from scratch (every event read
//! from the store and folded into `plaint_projections::Tickets`: plaint reads its store's
//! `read_all`; cqrs-es + postgres-es replays through cqrs-es's `QueryReplay::replay_all` into a
//! `Query` holding the same projection; `MemStore` loads every aggregate's events). After the
//! run every system must have ended with one ticket per complaint and the same ticket statuses
//! as plaint (asserted). Also printed: latency per command kind, CPU time of this process per
//! command, and, for reference, plaint's bulk path (`Engine::execute_batch`, one caller).
//!
//! Environment:
//! * `PLAINT_BENCH_DATABASE_URL` or `PLAINT_TEST_DATABASE_URL`: PostgreSQL; without one only the
//!   file-log and MemStore rows run and the skipped rows are named.
//! * `PLAINT_BENCH_SYSTEMS`: which rows to run, a comma list of `file`, `pg`, `cqrs-pg`,
//!   `cqrs-mem` (default: all four).
//! * `PLAINT_BENCH_COMPLAINTS` (default 2,000, about 18k commands), `PLAINT_BENCH_SEED` (1),
//!   `PLAINT_BENCH_CALLERS` (64), `PLAINT_BENCH_PG_POOL` (32 connections, both PG systems),
//!   `PLAINT_BENCH_BATCH` (1,000 commands per `execute_batch` call in the reference line).
//! * `PLAINT_BENCH_PROFILE`: `one` or `many` runs only plaint's file-log `Engine::execute` with
//!   1 caller or `PLAINT_BENCH_CALLERS` callers on a fresh store, prints its line (with the heap
//!   allocations per command) and stops: the run to put under `perf record` / `perf stat`.
//!
//! Heap allocations are counted (a counting global allocator: one relaxed atomic add per
//! allocation, for every system alike) and printed per command beside the CPU.
//!
//! ```text
//! PLAINT_TEST_DATABASE_URL=postgres://plaint:plaint@127.0.0.1:5432/plaint_test \
//!     cargo bench --bench vs_cqrs
//! ```
//!
//! Progress goes to stderr, the markdown table to stdout at the end.

use cqrs_es::mem_store::MemStore;
use cqrs_es::persist::QueryReplay;
use cqrs_es::{CqrsFramework, EventEnvelope, EventStore as _, Query};
use hdrhistogram::Histogram;
use plaint::domain::{Command, ComplaintId};
use plaint::projections::{from_recorded_owned, Projection, Tickets};
use plaint::store::pg::{PgOptions, PgStore};
use plaint::store::EventStore;
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig, RebuildTarget, StoreConfig};
use plaint_cqrs::{ComplaintAggregate, ComplaintServices};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/summary.rs"]
mod summary;

/// Events per `read_all` call when rebuilding from a plaint store.
const READ_BATCH: usize = 16_384;
/// Customer-key master secret of the cqrs-es runs (derived keys; plaint keeps a key file each).
const MASTER_KEY: [u8; 32] = [7u8; 32];
/// Rejection messages kept per run for the report.
const ERRORS_SHOWN_MAX: usize = 3;

/// Counts heap allocations (issue 13: "no per-command allocation storm").
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn database_url() -> Option<String> {
    ["PLAINT_BENCH_DATABASE_URL", "PLAINT_TEST_DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .filter(|u| !u.is_empty())
}

/// What one execution of the workload measured.
struct RunFigures {
    callers: usize,
    commands: usize,
    elapsed: Duration,
    /// Microseconds per command.
    latency: Histogram<u64>,
    /// Microseconds per command, per command kind (`receive`, `verify`, …).
    by_kind: BTreeMap<&'static str, Histogram<u64>>,
    errors: usize,
    first_errors: Vec<String>,
    /// CPU time (user + system) of this process during the run; the database server's is not
    /// included.
    cpu: Duration,
    /// Heap allocations (and reallocations) of this process during the run, every thread.
    allocations: u64,
}

impl RunFigures {
    fn per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_per_command_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.commands as f64
    }

    fn allocations_per_command(&self) -> f64 {
        self.allocations as f64 / self.commands as f64
    }

    fn cell_rate(&self) -> String {
        format!("{:.0}", self.per_second())
    }

    fn cell_latency(&self) -> String {
        format!(
            "{} / {}",
            micros(self.latency.value_at_quantile(0.50)),
            micros(self.latency.value_at_quantile(0.99))
        )
    }
}

fn micros(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.0} ms", us as f64 / 1000.0)
    } else if us >= 1_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}

/// The rebuild of the ticket projection from a store.
struct RebuildFigures {
    elapsed: Duration,
    events: u64,
    /// Tickets per status (a cross-check: every system must end with the same tickets).
    statuses: BTreeMap<&'static str, usize>,
}

/// One row of the table.
struct Row {
    system: &'static str,
    durable: &'static str,
    one: RunFigures,
    many: RunFigures,
    events: u64,
    bytes_per_event: String,
    rebuild: RebuildFigures,
    notes: Vec<String>,
}

/// The workload split for `callers` tasks: complaint `k` (in order of first appearance) goes to
/// task `k % callers`; each task keeps the global order of its commands.
fn split(commands: &[Command], callers: usize) -> Vec<Vec<Command>> {
    assert!(callers >= 1, "at least one caller");
    let mut task_of: HashMap<&ComplaintId, usize> = HashMap::new();
    let mut parts: Vec<Vec<Command>> = vec![Vec::new(); callers];
    for c in commands {
        let next = task_of.len() % callers;
        let t = *task_of.entry(&c.complaint_id).or_insert(next);
        parts[t].push(c.clone());
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// User + system CPU time of this process so far (zero where unsupported).
fn process_cpu() -> Duration {
    #[cfg(unix)]
    {
        // SAFETY: getrusage fills the zeroed struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        assert_eq!(r, 0, "getrusage failed");
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }
    #[cfg(not(unix))]
    Duration::ZERO
}

/// The load average line of the machine (Linux), to show how busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

/// Microseconds from 1 µs to 10 minutes, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

/// Runs every part on its own tokio task through `exec`, timing each command.
async fn drive<F, Fut>(parts: Vec<Vec<Command>>, exec: F) -> RunFigures
where
    F: Fn(Command) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let callers = parts.len();
    let commands = parts.iter().map(Vec::len).sum();
    let exec = Arc::new(exec);
    let cpu_before = process_cpu();
    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(callers);
    for part in parts {
        let exec = exec.clone();
        tasks.push(tokio::spawn(async move {
            // Raw samples while the clock runs; the histograms are built after it stops (each
            // is ~170 KiB of zeroed counters: built per task and kind inside the run, they
            // were a quarter of the process's CPU at 64 callers, issue 13 wave 5).
            let mut samples: Vec<(&'static str, u64)> = Vec::with_capacity(part.len());
            let mut errors = Vec::new();
            for cmd in part {
                let kind = cmd.body.name();
                let t = Instant::now();
                let outcome = exec(cmd).await;
                samples.push((kind, t.elapsed().as_micros() as u64));
                if let Err(e) = outcome {
                    errors.push(e);
                }
            }
            (samples, errors)
        }));
    }
    let mut results = Vec::with_capacity(callers);
    for task in tasks {
        results.push(task.await.expect("caller task panicked"));
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    let mut latency = histogram();
    let mut by_kind: BTreeMap<&'static str, Histogram<u64>> = BTreeMap::new();
    let mut errors = 0;
    let mut first_errors = Vec::new();
    for (samples, e) in results {
        for (kind, us) in samples {
            latency.saturating_record(us);
            by_kind.entry(kind).or_insert_with(histogram).saturating_record(us);
        }
        errors += e.len();
        first_errors.extend(e.into_iter().take(ERRORS_SHOWN_MAX.saturating_sub(first_errors.len())));
    }
    RunFigures {
        callers,
        commands,
        elapsed,
        cpu,
        allocations,
        latency,
        by_kind,
        errors,
        first_errors,
    }
}

fn progress(system: &str, run: &RunFigures) {
    eprintln!(
        "  {system}: {} callers, {} commands in {:.2} s = {:.0}/s, p50 {} p99 {}, {} errors, \
         {:.0} µs CPU and {:.0} heap allocations per command in this process, load average {}",
        run.callers,
        run.commands,
        run.elapsed.as_secs_f64(),
        run.per_second(),
        micros(run.latency.value_at_quantile(0.5)),
        micros(run.latency.value_at_quantile(0.99)),
        run.errors,
        run.cpu_per_command_us(),
        run.allocations_per_command(),
        load_average()
    );
    let q = |x: f64| run.latency.value_at_quantile(x);
    eprintln!(
        "    latency distribution (µs): p10 {} p25 {} p50 {} p75 {} p90 {} p99 {} max {}, mean {:.0}",
        q(0.10),
        q(0.25),
        q(0.50),
        q(0.75),
        q(0.90),
        q(0.99),
        run.latency.max(),
        run.latency.mean()
    );
    for e in &run.first_errors {
        eprintln!("    error: {e}");
    }
}

/// The server's WAL counters (`pg_stat_wal`, the whole server: other sessions' work included).
/// `wal_sync_time` counts only with `track_wal_io_timing` on for the sessions that flush.
async fn wal_counters(sql: &sqlx::PgPool) -> [f64; 4] {
    let (records, syncs, sync_ms, bytes): (i64, i64, f64, f64) =
        sqlx::query_as("SELECT wal_records, wal_sync, wal_sync_time, wal_bytes::float8 FROM pg_stat_wal")
            .fetch_one(sql)
            .await
            .expect("pg_stat_wal");
    [records as f64, syncs as f64, sync_ms, bytes]
}

/// Prints the WAL counters' growth since `before` per command of `run`.
async fn wal_note(sql: &sqlx::PgPool, system: &str, before: [f64; 4], run: &RunFigures) {
    let after = wal_counters(sql).await;
    let d: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let n = run.commands as f64;
    eprintln!(
        "    {system} WAL: {:.2} records, {:.0} bytes, {:.3} flushes per command; {:.3} ms per flush ({:.0} flushes, {:.0} ms)",
        d[0] / n,
        d[3] / n,
        d[1] / n,
        if d[1] > 0.0 { d[2] / d[1] } else { 0.0 },
        d[1],
        d[2]
    );
}

fn statuses(tickets: &Tickets) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for v in tickets.views() {
        *out.entry(v.status.as_str()).or_default() += 1;
    }
    out
}

/// plaint: every event of the store, read in batches and folded into a fresh ticket projection.
async fn rebuild_plaint_tickets(store: &dyn EventStore) -> RebuildFigures {
    let started = Instant::now();
    let mut tickets = Tickets::default();
    let mut from = 1u64;
    let mut events = 0u64;
    loop {
        let batch = store.read_all(from, READ_BATCH).await.expect("read_all");
        let n = batch.len();
        for r in batch {
            from = r.position + 1;
            tickets.apply(&from_recorded_owned(r).expect("decodable event"));
            events += 1;
        }
        if n < READ_BATCH {
            break;
        }
    }
    let elapsed = started.elapsed();
    RebuildFigures {
        elapsed,
        events,
        statuses: statuses(&tickets),
    }
}

/// The engine's full rebuild (all four projections, checkpoints saved), for the notes.
async fn full_rebuild(engine: &Engine) -> Duration {
    let started = Instant::now();
    engine
        .rebuild(RebuildTarget::Head, &mut |_| {})
        .await
        .expect("projection rebuild");
    started.elapsed()
}

/// plaint's bulk path for reference: the workload in order, `batch` commands per
/// `Engine::execute_batch` call (one durable `append_many` each), one caller.
async fn batch_note(engine: &Engine, commands: &[Command], batch: usize, system: &str) -> String {
    let mut per_call = histogram();
    let mut rejected = 0;
    let started = Instant::now();
    for chunk in commands.chunks(batch) {
        let t = Instant::now();
        let outcome = engine.execute_batch(chunk).await.expect("execute_batch");
        per_call.saturating_record(t.elapsed().as_micros() as u64);
        rejected += outcome.rejected;
    }
    let elapsed = started.elapsed();
    let line = format!(
        "{system}, `execute_batch` of {batch} commands per call, 1 caller (fresh store): {:.0} commands/s, \
         p50 / p99 per call {} / {}, {rejected} rejected",
        commands.len() as f64 / elapsed.as_secs_f64(),
        micros(per_call.value_at_quantile(0.5)),
        micros(per_call.value_at_quantile(0.99)),
    );
    eprintln!("  {line}");
    line
}

fn plaint_exec(
    engine: Arc<Engine>,
) -> impl Fn(Command) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
    move |cmd| {
        let engine = engine.clone();
        Box::pin(async move { engine.execute(cmd).await.map(|_| ()).map_err(|e| e.to_string()) })
    }
}

/// A plaint engine on a fresh file log in `dir` (fsync on every append), to share among callers.
async fn open_file_engine(dir: &tempfile::TempDir) -> Arc<Engine> {
    let cfg = EngineConfig::file(dir.path().join("log"));
    Arc::new(Engine::open(cfg).await.expect("open file log"))
}

/// Closes an engine the callers have let go of.
async fn close_shared(engine: Arc<Engine>) {
    let engine = Arc::into_inner(engine).expect("sole owner");
    engine.close().await.expect("close");
}

/// `PLAINT_BENCH_PROFILE`: only plaint's file-log `execute` run with `callers` callers, on a
/// fresh store (what `perf record` is pointed at).
async fn plaint_file_profile(commands: &[Command], callers: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = open_file_engine(&dir).await;
    let run = drive(split(commands, callers), plaint_exec(engine.clone())).await;
    progress("plaint file", &run);
    close_shared(engine).await;
}

async fn plaint_file_row(commands: &[Command], callers: usize, batch: usize) -> Row {
    eprintln!("plaint, file log (fsync every append)");
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = open_file_engine(&dir).await;
    let one = drive(split(commands, 1), plaint_exec(engine.clone())).await;
    progress("plaint file", &one);
    let stats = engine.stats().await.expect("stats");
    let bytes = stats.bytes.expect("file log size");
    let rebuild = rebuild_plaint_tickets(engine.store().as_ref()).await;
    let full = full_rebuild(&engine).await;
    close_shared(engine).await;

    let dir2 = tempfile::tempdir().expect("temp dir");
    let engine = open_file_engine(&dir2).await;
    let many = drive(split(commands, callers), plaint_exec(engine.clone())).await;
    progress("plaint file", &many);
    close_shared(engine).await;

    let dir3 = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(EngineConfig::file(dir3.path().join("log")))
        .await
        .expect("open file log");
    let batched = batch_note(&engine, commands, batch, "plaint file log").await;
    engine.close().await.expect("close");
    Row {
        system: "plaint, embedded file log",
        durable: "yes (fdatasync per append, group commit)",
        one,
        many,
        events: stats.events,
        bytes_per_event: format!("{:.0}", bytes as f64 / stats.events as f64),
        rebuild,
        notes: vec![
            format!(
                "plaint file log: full `Engine::rebuild` (tickets, SLA, repeats, analysis; checkpoints written) took {:.0} ms",
                full.as_secs_f64() * 1000.0
            ),
            batched,
        ],
    }
}

/// A plaint engine on a fresh PostgreSQL schema with a pool of `pool` connections.
async fn plaint_pg_engine(url: &str, schema: &str, pool: usize, local: &std::path::Path) -> Engine {
    let mut options = PgOptions::with_schema(schema);
    options.pool_size_max = pool;
    PgStore::migrate(url, &options).await.expect("migrate");
    let store = PgStore::connect(url, options).await.expect("connect");
    let mut cfg = EngineConfig::postgres(url, local);
    if let StoreConfig::Postgres { schema: s, .. } = &mut cfg.store {
        *s = schema.to_owned();
    }
    // Open the pool's connections before the clock starts (cqrs-es's pool gets the same; plaint
    // has its writer's own session besides, opened by `connect`).
    let store = Arc::new(store);
    let mut warm = Vec::new();
    for i in 0..pool {
        let store = store.clone();
        warm.push(tokio::spawn(async move {
            store
                .read_stream(&format!("warm-up-{i}"), 1, 1)
                .await
                .expect("warm-up read")
        }));
    }
    for w in warm {
        assert!(w.await.expect("warm-up task").is_empty(), "warm-up streams are empty");
    }
    Engine::with_store(store, cfg, None).await.expect("engine on PgStore")
}

async fn relation_bytes(pool: &sqlx::PgPool, table: &str) -> i64 {
    let (bytes,): (i64,) = sqlx::query_as("SELECT pg_total_relation_size($1::regclass)")
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("pg_total_relation_size");
    bytes
}

/// Where plaint's PostgreSQL bytes per event go after `VACUUM`: the heap, each index of
/// `events`, and the name dictionaries (`pg_relation_size` ÷ events).
async fn pg_bytes_by_part(pool: &sqlx::PgPool, schema: &str, events: u64) -> String {
    sqlx::query(&format!("VACUUM {schema}.events"))
        .execute(pool)
        .await
        .expect("VACUUM events");
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') \
         AND (c.relname IN ('events', 'streams', 'names') OR c.relname LIKE 'events\\_%' OR c.relname LIKE 'streams\\_%' \
              OR c.relname LIKE 'names\\_%') ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .expect("relation sizes");
    let per = |b: i64| b as f64 / events.max(1) as f64;
    let total: i64 = rows.iter().map(|(_, b)| b).sum();
    let parts: Vec<String> = rows.iter().map(|(name, b)| format!("{name} {:.1}", per(*b))).collect();
    format!(
        "plaint PostgreSQL bytes per event after VACUUM, by relation (pg_relation_size ÷ {events} events): {} = {:.1} B",
        parts.join(" + "),
        per(total)
    )
}

async fn plaint_pg_row(
    commands: &[Command],
    callers: usize,
    batch: usize,
    url: &str,
    pool_size: usize,
    sql: &sqlx::PgPool,
) -> Row {
    eprintln!("plaint, PostgreSQL");
    let tag = format!("{:08x}", rand::random::<u32>());
    let schema1 = format!("plaint_bench_vs_{tag}_1");
    let local = tempfile::tempdir().expect("temp dir");
    let engine = Arc::new(plaint_pg_engine(url, &schema1, pool_size, &local.path().join("one")).await);
    let wal = wal_counters(sql).await;
    let one = drive(split(commands, 1), plaint_exec(engine.clone())).await;
    progress("plaint pg", &one);
    wal_note(sql, "plaint pg", wal, &one).await;
    let events = engine.stats().await.expect("stats").events;
    let bytes = relation_bytes(sql, &format!("{schema1}.events")).await;
    let parts = pg_bytes_by_part(sql, &schema1, events).await;
    let rebuild = rebuild_plaint_tickets(engine.store().as_ref()).await;
    let full = full_rebuild(&engine).await;
    Arc::into_inner(engine)
        .expect("sole owner")
        .close()
        .await
        .expect("close");
    PgStore::drop_schema(url, &PgOptions::with_schema(&schema1))
        .await
        .expect("drop schema");

    let schema2 = format!("plaint_bench_vs_{tag}_n");
    let engine = Arc::new(plaint_pg_engine(url, &schema2, pool_size, &local.path().join("many")).await);
    let many = drive(split(commands, callers), plaint_exec(engine.clone())).await;
    progress("plaint pg", &many);
    Arc::into_inner(engine)
        .expect("sole owner")
        .close()
        .await
        .expect("close");
    PgStore::drop_schema(url, &PgOptions::with_schema(&schema2))
        .await
        .expect("drop schema");

    let schema3 = format!("plaint_bench_vs_{tag}_b");
    let engine = plaint_pg_engine(url, &schema3, pool_size, &local.path().join("batch")).await;
    let batched = batch_note(&engine, commands, batch, "plaint PostgreSQL").await;
    engine.close().await.expect("close");
    PgStore::drop_schema(url, &PgOptions::with_schema(&schema3))
        .await
        .expect("drop schema");
    Row {
        system: "plaint, PostgreSQL (PgStore)",
        durable: "yes (synchronous_commit, group commit)",
        one,
        many,
        events,
        bytes_per_event: format!("{:.0}", bytes as f64 / events as f64),
        rebuild,
        notes: vec![
            parts,
            format!(
                "plaint PostgreSQL: full `Engine::rebuild` (all four projections) took {:.0} ms",
                full.as_secs_f64() * 1000.0
            ),
            batched,
        ],
    }
}

fn cqrs_services() -> ComplaintServices {
    ComplaintServices::new(ComplaintServices::system_clock(), MASTER_KEY)
}

fn cqrs_exec<ES>(
    cqrs: Arc<CqrsFramework<ComplaintAggregate, ES>>,
) -> impl Fn(Command) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
where
    ES: cqrs_es::EventStore<ComplaintAggregate> + Send + Sync + 'static,
    ES::AC: Send,
{
    move |cmd| {
        let cqrs = cqrs.clone();
        Box::pin(async move {
            let id = cmd.complaint_id.as_str().to_owned();
            cqrs.execute(&id, cmd).await.map_err(|e| e.to_string())
        })
    }
}

/// A cqrs-es query folding every dispatched event into plaint's ticket projection.
struct TicketQuery {
    tickets: Arc<Mutex<Tickets>>,
    events: Arc<std::sync::atomic::AtomicU64>,
}

#[async_trait::async_trait]
impl Query<ComplaintAggregate> for TicketQuery {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<ComplaintAggregate>]) {
        let mut tickets = self.tickets.lock().expect("ticket projection lock");
        for e in events {
            tickets.apply(&e.payload.0);
        }
        self.events
            .fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

async fn cqrs_pg_row(commands: &[Command], callers: usize, url: &str, pool_size: usize, sql: &sqlx::PgPool) -> Row {
    use plaint_cqrs::postgres::{create_tables, framework, repository, table_names};
    eprintln!("cqrs-es + postgres-es");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(pool_size as u32)
        .connect(url)
        .await
        .expect("connect");
    // Open the pool's connections before the clock starts (plaint's pool gets the same).
    let mut held = Vec::new();
    for _ in 0..pool_size {
        held.push(pool.acquire().await.expect("warm-up connection"));
    }
    drop(held);
    let tag = format!("{:08x}", rand::random::<u32>());
    let prefix1 = format!("plaint_bench_cqrs_{tag}_1");
    create_tables(&pool, &prefix1).await.expect("create tables");
    let cqrs = Arc::new(framework(pool.clone(), &prefix1, cqrs_services()));
    let wal = wal_counters(sql).await;
    let one = drive(split(commands, 1), cqrs_exec(cqrs)).await;
    progress("cqrs-es pg", &one);
    wal_note(sql, "cqrs-es pg", wal, &one).await;
    let (events_table, snapshots_table) = table_names(&prefix1);
    let (events,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {events_table}"))
        .fetch_one(sql)
        .await
        .expect("count events");
    let bytes = relation_bytes(sql, &events_table).await;

    let tickets = Arc::new(Mutex::new(Tickets::default()));
    let replayed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let query = TicketQuery {
        tickets: tickets.clone(),
        events: replayed.clone(),
    };
    let started = Instant::now();
    QueryReplay::<_, _, ComplaintAggregate>::new(repository(pool.clone(), &prefix1), query)
        .replay_all()
        .await
        .expect("replay_all");
    let elapsed = started.elapsed();
    let rebuild = RebuildFigures {
        elapsed,
        events: replayed.load(std::sync::atomic::Ordering::Relaxed),
        statuses: statuses(&tickets.lock().expect("lock")),
    };
    sqlx::query(&format!("DROP TABLE {events_table}, {snapshots_table}"))
        .execute(sql)
        .await
        .expect("drop tables");

    let prefix2 = format!("plaint_bench_cqrs_{tag}_n");
    create_tables(&pool, &prefix2).await.expect("create tables");
    let cqrs = Arc::new(framework(pool.clone(), &prefix2, cqrs_services()));
    let many = drive(split(commands, callers), cqrs_exec(cqrs)).await;
    progress("cqrs-es pg", &many);
    let (events_table, snapshots_table) = table_names(&prefix2);
    sqlx::query(&format!("DROP TABLE {events_table}, {snapshots_table}"))
        .execute(sql)
        .await
        .expect("drop tables");
    pool.close().await;
    Row {
        system: "cqrs-es 0.5 + postgres-es 0.5",
        durable: "yes (synchronous_commit, one transaction per command)",
        one,
        many,
        events: events as u64,
        bytes_per_event: format!("{:.0}", bytes as f64 / events as f64),
        rebuild,
        notes: Vec::new(),
    }
}

/// Sends the process's stdout to /dev/null while alive: `MemStore` prints two lines per command
/// (`loading: …`, `storing: …`), which would bury the table.
struct StdoutSilenced {
    #[cfg(unix)]
    saved: libc::c_int,
}

impl StdoutSilenced {
    fn new() -> StdoutSilenced {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd as _;
            let null = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .expect("open /dev/null");
            // SAFETY: plain descriptor calls on fd 1 and descriptors this function owns.
            let saved = unsafe { libc::dup(1) };
            assert!(saved >= 0, "dup(1) failed");
            let r = unsafe { libc::dup2(null.as_raw_fd(), 1) };
            assert!(r >= 0, "dup2 to stdout failed");
            StdoutSilenced { saved }
        }
        #[cfg(not(unix))]
        StdoutSilenced {}
    }
}

impl Drop for StdoutSilenced {
    fn drop(&mut self) {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        // SAFETY: restores the descriptor saved in `new` and closes the copy.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}

async fn cqrs_mem_row(commands: &[Command], callers: usize) -> Row {
    eprintln!("cqrs-es + MemStore (its println! output sent to /dev/null)");
    let mut ids: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in commands {
        if seen.insert(c.complaint_id.as_str()) {
            ids.push(c.complaint_id.as_str().to_owned());
        }
    }
    let silenced = StdoutSilenced::new();
    let store = MemStore::<ComplaintAggregate>::default();
    let cqrs = Arc::new(CqrsFramework::new(store.clone(), vec![], cqrs_services()));
    let one = drive(split(commands, 1), cqrs_exec(cqrs)).await;

    // Rebuild: load every aggregate's events from the store and fold them into the projection.
    let started = Instant::now();
    let mut tickets = Tickets::default();
    let mut events = 0u64;
    let mut json_bytes = 0usize;
    let mut loaded = Vec::new();
    for id in &ids {
        let envelopes = store.load_events(id).await.expect("load_events");
        for e in &envelopes {
            tickets.apply(&e.payload.0);
            events += 1;
        }
        loaded.push(envelopes);
    }
    let elapsed = started.elapsed();
    for e in loaded.iter().flatten() {
        json_bytes += serde_json::to_vec(&e.payload).expect("json").len();
    }
    let rebuild = RebuildFigures {
        elapsed,
        events,
        statuses: statuses(&tickets),
    };

    let store = MemStore::<ComplaintAggregate>::default();
    let cqrs = Arc::new(CqrsFramework::new(store, vec![], cqrs_services()));
    let many = drive(split(commands, callers), cqrs_exec(cqrs)).await;
    drop(silenced);
    progress("cqrs-es mem", &one);
    progress("cqrs-es mem", &many);
    Row {
        system: "cqrs-es 0.5 + MemStore",
        durable: "no (process memory)",
        one,
        many,
        events,
        bytes_per_event: format!("({:.0} JSON, not stored)", json_bytes as f64 / events as f64),
        rebuild,
        notes: Vec::new(),
    }
}

fn main() {
    let complaints = env_usize("PLAINT_BENCH_COMPLAINTS", 2_000);
    let seed = env_usize("PLAINT_BENCH_SEED", 1) as u64;
    let callers = env_usize("PLAINT_BENCH_CALLERS", 64).max(1);
    let pool_size = env_usize("PLAINT_BENCH_PG_POOL", 32).max(1);
    let batch = env_usize("PLAINT_BENCH_BATCH", 1_000).clamp(1, plaint::engine::BATCH_COMMANDS_MAX);
    let url = database_url();
    let systems = std::env::var("PLAINT_BENCH_SYSTEMS").unwrap_or_else(|_| "file,pg,cqrs-pg,cqrs-mem".to_owned());
    let wanted = |name: &str| systems.split(',').any(|s| s.trim() == name);

    let commands = generate(&WorkloadConfig {
        complaints,
        seed,
        ..WorkloadConfig::default()
    });
    eprintln!("load average at start: {}", load_average());
    eprintln!(
        "workload: {complaints} complaints, {} commands (seed {seed}); {callers} concurrent callers",
        commands.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Ok(profile) = std::env::var("PLAINT_BENCH_PROFILE") {
        let profile_callers = match profile.as_str() {
            "one" => 1,
            "many" => callers,
            other => panic!("PLAINT_BENCH_PROFILE={other}: `one` or `many`"),
        };
        runtime.block_on(plaint_file_profile(&commands, profile_callers));
        return;
    }
    let (rows, pg_settings) = runtime.block_on(async {
        let mut rows = Vec::new();
        if wanted("file") {
            rows.push(plaint_file_row(&commands, callers, batch).await);
        }
        let mut pg_settings = None;
        if let Some(url) = &url {
            let sql = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .expect("connect to PostgreSQL");
            let show = |name: &'static str| {
                let sql = sql.clone();
                async move {
                    let (v,): (String,) = sqlx::query_as(&format!("SHOW {name}"))
                        .fetch_one(&sql)
                        .await
                        .expect("SHOW");
                    v
                }
            };
            let (version,): (String,) = sqlx::query_as("SHOW server_version")
                .fetch_one(&sql)
                .await
                .expect("server_version");
            pg_settings = Some(format!(
                "PostgreSQL {version}, local TCP, fsync={}, synchronous_commit={}, wal_sync_method={}",
                show("fsync").await,
                show("synchronous_commit").await,
                show("wal_sync_method").await
            ));
            if wanted("pg") {
                rows.push(plaint_pg_row(&commands, callers, batch, url, pool_size, &sql).await);
            }
            if wanted("cqrs-pg") {
                rows.push(cqrs_pg_row(&commands, callers, url, pool_size, &sql).await);
            }
        }
        if wanted("cqrs-mem") {
            rows.push(cqrs_mem_row(&commands, callers).await);
        }
        (rows, pg_settings)
    });

    // Every system must have ended with the same tickets.
    assert!(!rows.is_empty(), "PLAINT_BENCH_SYSTEMS selected no system");
    let reference = &rows[0].rebuild.statuses;
    for r in &rows {
        assert_eq!(r.rebuild.events, r.events, "{}: rebuild read every event", r.system);
        assert_eq!(
            r.rebuild.statuses.values().sum::<usize>(),
            complaints,
            "{}: one ticket per complaint",
            r.system
        );
        assert_eq!(
            &r.rebuild.statuses, reference,
            "{}: same ticket statuses as plaint",
            r.system
        );
    }

    record_summary(&rows);

    println!();
    println!(
        "{complaints} complaints, {} commands, {} events (seed {seed}); {} cores; file log Durability::Always; \
         PG pool {pool_size} connections each",
        commands.len(),
        rows[0].events,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("load average (1, 5, 15 min) at the end: {}", load_average());
    match &pg_settings {
        Some(s) => println!("{s}"),
        None => println!(
            "skipped (no PLAINT_BENCH_DATABASE_URL / PLAINT_TEST_DATABASE_URL): plaint on PostgreSQL, \
             cqrs-es + postgres-es"
        ),
    }
    println!();
    // The concurrent runs had as many tasks as there were complaints, at most `callers`.
    let callers = rows[0].many.callers;
    println!(
        "| system | durable | cmd/s, 1 caller | p50 / p99, 1 caller | cmd/s, {callers} callers | p50 / p99, {callers} callers \
         | bytes/event | ticket rebuild |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} ms |",
            r.system,
            r.durable,
            r.one.cell_rate(),
            r.one.cell_latency(),
            r.many.cell_rate(),
            r.many.cell_latency(),
            r.bytes_per_event,
            r.rebuild.elapsed.as_secs_f64() * 1000.0
        );
    }
    println!();
    let find = |prefix: &str| rows.iter().find(|r| r.system.starts_with(prefix));
    if let Some(base) = find("cqrs-es 0.5 + postgres-es") {
        for r in rows.iter().filter(|r| r.system.starts_with("plaint")) {
            println!(
                "- {} vs cqrs-es + postgres-es: {:.1}× at 1 caller, {:.1}× at {callers} callers, rebuild {:.1}× faster",
                r.system,
                r.one.per_second() / base.one.per_second(),
                r.many.per_second() / base.many.per_second(),
                base.rebuild.elapsed.as_secs_f64() / r.rebuild.elapsed.as_secs_f64()
            );
        }
    }
    // Machine-readable rows for the `bench-summary` table (`ROW <name> <value> <unit>`).
    if let Some(pg) = find("plaint, PostgreSQL") {
        println!("ROW pg_cmd_per_s_1_caller {:.0} cmd/s", pg.one.per_second());
        println!("ROW pg_cmd_per_s_{callers}_callers {:.0} cmd/s", pg.many.per_second());
        println!("ROW pg_bytes_per_event {} B", pg.bytes_per_event);
        if let Some(base) = find("cqrs-es 0.5 + postgres-es") {
            println!("ROW cqrs_pg_cmd_per_s_1_caller {:.0} cmd/s", base.one.per_second());
            println!(
                "ROW cqrs_pg_cmd_per_s_{callers}_callers {:.0} cmd/s",
                base.many.per_second()
            );
            println!("ROW cqrs_pg_bytes_per_event {} B", base.bytes_per_event);
            println!(
                "ROW pg_vs_cqrs_pg_1_caller {:.2} x",
                pg.one.per_second() / base.one.per_second()
            );
            println!(
                "ROW pg_vs_cqrs_pg_{callers}_callers {:.2} x",
                pg.many.per_second() / base.many.per_second()
            );
        }
    }
    println!();
    println!("Latency per command kind, p50 / p99 (1 caller | {callers} callers):");
    println!();
    let mut header = String::from("| command | count |");
    let mut rule = String::from("|---|---:|");
    for r in &rows {
        header.push_str(&format!(" {} |", r.system));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mut kinds: Vec<(&'static str, u64)> = rows[0].one.by_kind.iter().map(|(k, h)| (*k, h.len())).collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (kind, count) in kinds {
        let mut line = format!("| {kind} | {count} |");
        for r in &rows {
            let cell = |run: &RunFigures| {
                run.by_kind.get(kind).map_or("–".to_owned(), |h| {
                    format!(
                        "{} / {}",
                        micros(h.value_at_quantile(0.5)),
                        micros(h.value_at_quantile(0.99))
                    )
                })
            };
            line.push_str(&format!(" {} \\| {} |", cell(&r.one), cell(&r.many)));
        }
        println!("{line}");
    }
    println!();
    for r in &rows {
        println!(
            "- {}: CPU of the bench process per command {:.0} µs (1 caller), {:.0} µs ({} callers); \
             heap allocations per command {:.0} / {:.0}{}",
            r.system,
            r.one.cpu_per_command_us(),
            r.many.cpu_per_command_us(),
            r.many.callers,
            r.one.allocations_per_command(),
            r.many.allocations_per_command(),
            if r.system.contains("PostgreSQL") || r.system.contains("postgres-es") {
                "; the PostgreSQL server's CPU is not included"
            } else {
                ""
            }
        );
        for n in &r.notes {
            println!("- {n}");
        }
        let errors = r.one.errors + r.many.errors;
        if errors > 0 {
            println!("- {}: {errors} commands failed (see stderr)", r.system);
        }
    }
}

/// The figures `bench_summary` reads (see benches/support/summary.rs): per system
/// `vs.<system>.{one,many}.{cmd_s,p99_ms,cpu_us}` and `vs.<system>.bytes_per_event`, with
/// `<system>` one of `file`, `pg`, `cqrs_pg`, `cqrs_mem`.
fn record_summary(rows: &[Row]) {
    for r in rows {
        let key = if r.system.starts_with("plaint, embedded file log") {
            "file"
        } else if r.system.starts_with("plaint") {
            "pg"
        } else if r.system.contains("postgres-es") {
            "cqrs_pg"
        } else {
            "cqrs_mem"
        };
        for (run, which) in [(&r.one, "one"), (&r.many, "many")] {
            summary::record(&format!("vs.{key}.{which}.cmd_s"), run.per_second());
            summary::record(
                &format!("vs.{key}.{which}.p99_ms"),
                run.latency.value_at_quantile(0.99) as f64 / 1000.0,
            );
            summary::record(&format!("vs.{key}.{which}.cpu_us"), run.cpu_per_command_us());
            summary::record(&format!("vs.{key}.{which}.callers"), run.callers as f64);
        }
        if let Ok(b) = r.bytes_per_event.parse::<f64>() {
            summary::record(&format!("vs.{key}.bytes_per_event"), b);
        }
    }
}

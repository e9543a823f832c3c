//! `plaint demo`: a realistic postal workload (`plaint::workload`) executed into a fresh store in
//! durable batches, and every report shown: the weekly report, the
//! assessment (考核) of the generated period and the monthly complaint analysis (投诉分析报告) of
//! the reported week's month; `--reports DIR` also writes them (weekly and monthly HTML pages,
//! assessment and analysis as text and CSV) and lists the files. Deterministic for a seed: the
//! engine's clock is stopped at the end of the generated period, so even the recording times are
//! the same on every run.
//!
//! Issue 13 (the demo end to end in under 2 s): the workload is generated on its own thread
//! ([`WorkloadStream`], chunk by chunk, in the order of the whole sorted list); the batches and
//! the watchdog run on the command's task. The engine's projections are folded from the log on a
//! third thread after every batch (file log and PostgreSQL alike), so that after the last batch
//! only its events remain to fold before the reports (no rebuild from the first event); the
//! checkpoints are saved as the rebuild saved them.

use crate::cmd::report::{parse_week, print_weekly, weekly_report};
use crate::context::{open_engine_at, parse_instant, Access, Context, StoreLocation};
use crate::error::{user, user_hint, ExitCode};
use crate::output::envelope;
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::Args;
use plaint::report_csv::{CsvTable, BOM};
use plaint::reports::{AssessBy, AssessmentReport, ComplaintAnalysis, IsoWeek, Month, Period};
use plaint::workload::{WorkloadConfig, WorkloadStream, WorkloadSummary, WORKLOAD_COMPLAINTS_MAX};
use plaint::{Command, Timestamp, MS_PER_DAY};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Commands per durable batch: as many as the engine takes (fewer fsyncs, fewer stream reads).
const DEMO_BATCH: usize = plaint::engine::BATCH_COMMANDS_MAX;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many complaints to generate.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=WORKLOAD_COMPLAINTS_MAX as u64))]
    pub complaints: u64,
    /// Seed of the generator: the same seed gives the same workload, log and report.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the generated commands to FILE as JSON Lines (docs/import-format.md).
    #[arg(long, value_name = "FILE")]
    pub emit_commands: Option<PathBuf>,
    /// Which week to report; default: the third week of the generated period.
    #[arg(long, value_name = "WEEK", value_parser = parse_week)]
    pub week: Option<IsoWeek>,
    /// The report's "now"; default: the end of the generated period.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Print the reports as one JSON document (docs/json-format.md, `weekly_report`, with the
    /// `assessment` and `analysis` beside the weekly `report`).
    #[arg(long)]
    pub json: bool,
    /// Also write every report into DIR (created if missing): the weekly and monthly HTML pages,
    /// the assessment and the analysis as text and CSV; the files written are listed.
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let location = ctx.location();
    let cfg = WorkloadConfig {
        complaints: args.complaints as usize,
        seed: args.seed,
        ..WorkloadConfig::default()
    };
    let end = cfg
        .start
        .plus_millis(i64::from(cfg.span_days + cfg.tail_days) * MS_PER_DAY);
    let now = args.now.unwrap_or(end);
    // Before the store is opened: a bad path writes nothing.
    let emit_to = args.emit_commands.as_deref().map(EmitFile::create).transpose()?;

    let engine = Arc::new(open_engine_at(ctx, &location, Some(end), Access::Create).await?);
    let head = engine.head_position().await?;
    if head > 0 {
        let hint = match &location {
            StoreLocation::File(dir) => format!(
                "demo writes into a fresh store: pass --store with a new directory, or remove {}",
                dir.display()
            ),
            StoreLocation::Pg(_) => "demo writes into a fresh store: use an empty database".to_owned(),
        };
        return Err(user_hint(
            format!("the {} already holds {head} events", location.describe()),
            hint,
        ));
    }

    // Issue 13: the workload is generated, and the projections folded, on other threads while
    // the batches execute, instead of before and after them.
    let executing = Instant::now();
    let mut workload = Generation::start(cfg.clone(), emit_to)?;
    let follower = Follower::start(Arc::clone(&engine))?;
    let executed_run = execute(&engine, &mut workload, &follower, end).await;
    let executed = executing.elapsed();
    // Both threads are joined on every path before an error is returned: the first error wins.
    let generation = workload.finish().await;
    let folded = match (&executed_run, &generation) {
        (Ok(_), Ok(_)) => follower.finish().await,
        _ => follower.stop().await,
    };
    let (executed_run, (summary, generated), folded) = first_error(executed_run, generation, folded)?;

    let week = match args.week {
        Some(week) => week,
        None => engine.week_of(cfg.start.plus_millis(14 * MS_PER_DAY)).await?,
    };
    let report = weekly_report(&engine, Some(week), now).await?;
    // Issue 17: the assessment (考核) of the generated period by department, and the monthly
    // complaint analysis (投诉分析报告) of the month the reported week starts in.
    let month = {
        use chrono::Datelike;
        let local = crate::context::office_zone().datetime(report.from);
        Month {
            year: local.year(),
            month: local.month(),
        }
    };
    let period_end = end.min(now);
    let assessment = engine
        .assessment_report(cfg.start, period_end, AssessBy::Department, now)
        .await?;
    let analysis = engine.complaint_analysis(month, now).await?;
    let mut out = Out::new();
    if args.json {
        let mut doc = envelope("weekly_report", serde_json::json!({ "report": &report }));
        doc["assessment"] = serde_json::to_value(&assessment)?;
        doc["analysis"] = serde_json::to_value(&analysis)?;
        out.json_pretty(&doc)?;
    } else {
        print_weekly(&mut out, &report, false)?;
        out.line("")?;
        out.line(plaint::report_casework::assessment_text(&assessment).trim_end_matches('\n'))?;
        out.line("")?;
        out.line(plaint::report_casework::analysis_text(&analysis).trim_end_matches('\n'))?;
    }
    if let Some(dir) = &args.reports {
        let written = write_reports(&engine, dir, week, month, now, &assessment, &analysis).await?;
        if !args.json {
            out.line("")?;
            out.line(format!("reports written to {}:", dir.display()))?;
            for path in &written {
                out.line(format!("  {}", path.display()))?;
            }
        } else {
            for path in &written {
                eprintln!("demo: wrote {}", path.display());
            }
        }
    }
    out.flush()?;
    let Executed {
        events,
        rejected,
        escalated,
    } = executed_run;
    eprintln!(
        "demo: {} complaints, {} commands ({} rejected), {escalated} watchdog escalations, {events} events into \
         the {} in {:.2} s ({:.0} events/s; generated beside in {:.2} s, projections folded beside, caught up and \
         saved {:.2} s after the last batch)",
        summary.complaints,
        summary.commands,
        rejected,
        location.describe(),
        executed.as_secs_f64(),
        events as f64 / executed.as_secs_f64().max(1e-9),
        generated.as_secs_f64(),
        folded.as_secs_f64()
    );
    if rejected > 0 {
        return Err(user(format!("demo: {rejected} generated commands were rejected")));
    }
    Ok(ExitCode::Ok)
}

/// A thread that should have run to the workload's end stopped early; joining it tells why.
#[derive(Debug)]
enum EarlyStop {
    Generator,
    Follower,
}

impl std::fmt::Display for EarlyStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let which = match self {
            EarlyStop::Generator => "the workload generator",
            EarlyStop::Follower => "the projection follower",
        };
        write!(f, "demo: {which} stopped before the end of the workload")
    }
}

impl std::error::Error for EarlyStop {}

/// The three outcomes, or the first error: a thread that stopped the batches early reports
/// its own error, not the early stop it caused.
fn first_error<G, F>(
    executed: anyhow::Result<Executed>,
    generation: anyhow::Result<G>,
    folded: anyhow::Result<F>,
) -> anyhow::Result<(Executed, G, F)> {
    match executed {
        Ok(done) => Ok((done, generation?, folded?)),
        Err(error) => Err(match error.downcast_ref::<EarlyStop>() {
            Some(EarlyStop::Generator) => generation.err().unwrap_or(error),
            Some(EarlyStop::Follower) => folded.err().unwrap_or(error),
            None => error,
        }),
    }
}

/// What executing the workload did.
#[derive(Debug, Default)]
struct Executed {
    events: usize,
    rejected: usize,
    escalated: usize,
}

/// Executes the workload's chunks in durable batches as they arrive, with the SLA watchdog
/// between batches and at `end`; the follower is told after each batch and tick.
async fn execute(
    engine: &plaint::Engine,
    workload: &mut Generation,
    follower: &Follower,
    end: Timestamp,
) -> anyhow::Result<Executed> {
    let bar = progress::bar(None, "commands");
    let mut done = Executed::default();
    loop {
        let chunk = match workload.chunks.recv().await {
            Some(Chunk::Commands(chunk)) => chunk,
            Some(Chunk::Done) => break,
            // The generator ended without its end message: an error or a panic, not the end of
            // the workload (no final tick on a truncated workload).
            None => return Err(EarlyStop::Generator.into()),
        };
        let outcome = engine.execute_batch(&chunk).await?;
        done.events += outcome.events;
        if let Some((index, rejection)) = outcome.rejections().next() {
            done.rejected += outcome.rejected;
            eprintln!("demo: command {} rejected: {rejection}", chunk[index].command_id);
        }
        // The SLA watchdog runs as a back office would run it: between batches, at the business
        // time the workload has reached (commands are sorted by it), so tickets breach and
        // escalate while they are still open, not only at the end.
        if let Some(reached) = chunk.iter().filter_map(|c| c.occurred_at).max() {
            done.tick(engine.tick(reached).await?);
        }
        // After the tick, which takes the projections' lock too: the follower folds while the
        // next batch executes.
        follower.follow()?;
        bar.inc(chunk.len() as u64);
        workload.give_back(chunk);
    }
    done.tick(engine.tick(end).await?);
    bar.finish_and_clear();
    Ok(done)
}

impl Executed {
    fn tick(&mut self, ticked: plaint::engine::TickOutcome) {
        self.escalated += ticked.escalated.len();
        self.events += ticked.escalated.len();
    }
}

/// What the generator thread hands to the batches.
enum Chunk {
    /// The next commands, in order.
    Commands(Vec<Command>),
    /// The workload is complete (and the `--emit-commands` file written).
    Done,
}

/// Chunks of the workload in flight between the generator thread and the batches.
const CHUNKS_AHEAD: usize = 4;

/// The workload generated on its own thread ([`WorkloadStream`]), handed over in chunks of one
/// batch, in order; written to the `--emit-commands` file on that thread too.
struct Generation {
    chunks: mpsc::Receiver<Chunk>,
    /// Executed chunks, back to the generator thread: their commands are freed where they were
    /// allocated (a free from another thread costs the allocator more), their buffers reused.
    spent: std::sync::mpsc::Sender<Vec<Command>>,
    thread: std::thread::JoinHandle<anyhow::Result<(WorkloadSummary, Duration)>>,
}

impl Generation {
    fn start(cfg: WorkloadConfig, mut emit_to: Option<EmitFile>) -> anyhow::Result<Self> {
        let (tx, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let (spent, spent_rx) = std::sync::mpsc::channel::<Vec<Command>>();
        let generate = move || {
            // The generator's own time, without the waits for the batches to take a chunk.
            let mut busy = Duration::ZERO;
            let mut started = Instant::now();
            let mut stream = WorkloadStream::new(&cfg);
            loop {
                let mut chunk = spent_rx.try_recv().unwrap_or_default();
                chunk.clear();
                spent_rx.try_iter().for_each(drop);
                chunk.extend(stream.by_ref().take(DEMO_BATCH));
                if let (Some(file), false) = (&mut emit_to, chunk.is_empty()) {
                    file.write(&chunk)?;
                }
                busy += started.elapsed();
                if chunk.is_empty() {
                    break;
                }
                if tx.blocking_send(Chunk::Commands(chunk)).is_err() {
                    // The batches stopped (an error there is the one reported).
                    return Err(anyhow::anyhow!("demo: the batches stopped early"));
                }
                started = Instant::now();
            }
            if let Some(file) = emit_to {
                file.finish()?;
            }
            let summary = stream.summary().context("the workload stream is drained")?;
            tx.blocking_send(Chunk::Done)
                .map_err(|_| anyhow::anyhow!("demo: the batches stopped early"))?;
            Ok((summary, busy))
        };
        let thread = std::thread::Builder::new()
            .name("plaint-demo-gen".into())
            .spawn(generate)
            .context("demo: cannot start the generator thread")?;
        Ok(Generation { chunks, spent, thread })
    }

    /// Hands an executed chunk back to the generator thread (dropped here once it has ended).
    fn give_back(&self, chunk: Vec<Command>) {
        let _ = self.spent.send(chunk);
    }

    /// The workload's summary and the generator thread's time, once it has ended.
    /// Joins it on every path: the channels are dropped first, so a generator waiting to send
    /// stops.
    async fn finish(self) -> anyhow::Result<(WorkloadSummary, Duration)> {
        let Generation { chunks, spent, thread } = self;
        drop((chunks, spent));
        join(thread, "the workload generator").await
    }
}

/// What the main task tells the follower.
enum Follow {
    /// The log grew: fold the projections up to its head.
    Head,
    /// No more batches: catch up, save the checkpoints and stop.
    Finish,
}

/// Folds the engine's projections up to the log's head on its own thread (with its own
/// runtime), each time the batches have moved it: the projections a rebuild would give, folded
/// from the same log in the same order (docs/ARCHITECTURE.md: incremental and at once are the
/// same), without a rebuild. The same on both stores: a file log's reads run on whichever runtime
/// asks, and a PostgreSQL store drives every pooled session on the runtime that connected it
/// (`plaint-store/tests/pg_runtimes.rs`), so this thread's current-thread runtime, idle between
/// folds, never leaves a session undriven for the command's runtime.
struct Follower {
    tx: std::sync::mpsc::Sender<Follow>,
    thread: std::thread::JoinHandle<anyhow::Result<Duration>>,
}

impl Follower {
    fn start(engine: Arc<plaint::Engine>) -> anyhow::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let follow = move || -> anyhow::Result<Duration> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            while let Ok(mut order) = rx.recv() {
                // Orders that queued up while folding are one catch-up.
                while let Ok(next) = rx.try_recv() {
                    order = next;
                }
                match order {
                    Follow::Head => {
                        runtime.block_on(engine.catch_up())?;
                    }
                    Follow::Finish => {
                        let started = Instant::now();
                        runtime.block_on(engine.save_checkpoints())?;
                        return Ok(started.elapsed());
                    }
                }
            }
            Err(anyhow::anyhow!("demo: the batches stopped early"))
        };
        let thread = std::thread::Builder::new()
            .name("plaint-demo-fold".into())
            .spawn(follow)
            .context("demo: cannot start the projection follower thread")?;
        Ok(Follower { tx, thread })
    }

    /// The log has grown: fold up to its head (coalesced with orders not taken yet). A follower
    /// that has ended already (an error, or a panic that may have left the engine's projections
    /// half-folded) stops the batches: its own error is reported once it is joined.
    fn follow(&self) -> anyhow::Result<()> {
        if self.thread.is_finished() || self.tx.send(Follow::Head).is_err() {
            return Err(EarlyStop::Follower.into());
        }
        Ok(())
    }

    /// After an error elsewhere: stops the follower without saving checkpoints and joins it.
    async fn stop(self) -> anyhow::Result<Duration> {
        drop(self.tx);
        join(self.thread, "the projection follower").await
    }

    /// Catches up with the head, saves the checkpoints (as the rebuild did) and returns how long
    /// that took after the last batch.
    async fn finish(self) -> anyhow::Result<Duration> {
        let _ = self.tx.send(Follow::Finish);
        join(self.thread, "the projection follower").await
    }
}

/// Joins `thread` (named `what` in a panic's error) without blocking the runtime.
async fn join<T: Send + 'static>(thread: std::thread::JoinHandle<anyhow::Result<T>>, what: &str) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(move || thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("demo: {what} panicked"))?
}

/// Writes every report into `dir`: the weekly and monthly pages (HTML), the assessment and the
/// analysis (text and CSV). Returns the paths written, in order.
async fn write_reports(
    engine: &plaint::Engine,
    dir: &Path,
    week: IsoWeek,
    month: Month,
    now: Timestamp,
    assessment: &AssessmentReport,
    analysis: &ComplaintAnalysis,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| {
        user(format!(
            "demo: cannot create the reports directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for period in [Period::Week(week), Period::Month(month)] {
        let page = engine.period_report_in(period, now, crate::context::zone()).await?;
        files.push((
            dir.join(format!("{}.html", page.file_stem())),
            plaint::report_html::render(&page).into_bytes(),
        ));
    }
    let csv = |tables: &[CsvTable]| {
        let mut s = String::from(BOM);
        for (i, t) in tables.iter().enumerate() {
            if i > 0 {
                s.push_str("\r\n");
            }
            s.push_str(&t.to_csv());
        }
        s.into_bytes()
    };
    files.push((
        dir.join("assessment-by-department.txt"),
        plaint::report_casework::assessment_text(assessment).into_bytes(),
    ));
    files.push((
        dir.join("assessment-by-department.csv"),
        csv(&[plaint::report_casework::assessment_csv(assessment)]),
    ));
    files.push((
        dir.join(format!("analysis-{}.txt", analysis.month)),
        plaint::report_casework::analysis_text(analysis).into_bytes(),
    ));
    files.push((
        dir.join(format!("analysis-{}.csv", analysis.month)),
        csv(&plaint::report_casework::analysis_csv(analysis)),
    ));
    let mut written = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        std::fs::write(&path, bytes).map_err(|e| user(format!("demo: cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

/// The `--emit-commands` file: the commands as JSON Lines, written chunk by chunk into
/// `FILE.tmp`, synced and renamed to `FILE` at the end only: an error leaves no partial `FILE`.
struct EmitFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<std::io::BufWriter<std::fs::File>>,
}

impl EmitFile {
    fn create(path: &Path) -> anyhow::Result<Self> {
        if path.is_dir() {
            return Err(user(format!("cannot create {}: it is a directory", path.display())));
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = std::fs::File::create(&tmp).map_err(|e| user(format!("cannot create {}: {e}", tmp.display())))?;
        Ok(EmitFile {
            path: path.to_owned(),
            tmp,
            writer: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn write(&mut self, commands: &[Command]) -> anyhow::Result<()> {
        let writer = self.writer.as_mut().context("the emit file is open until finished")?;
        let written = commands.iter().try_for_each(|c| {
            serde_json::to_writer(&mut *writer, c)?;
            writer.write_all(b"\n")
        });
        written.map_err(|e| user(format!("cannot write {}: {e}", self.tmp.display())))
    }

    /// Flushes, syncs and renames the file: the commands are durable at `FILE` once this returns.
    fn finish(mut self) -> anyhow::Result<()> {
        let writer = self.writer.take().context("the emit file is finished once")?;
        let file = writer
            .into_inner()
            .map_err(|e| user(format!("cannot write {}: {}", self.tmp.display(), e.error())))?;
        file.sync_all()
            .map_err(|e| user(format!("cannot sync {}: {e}", self.tmp.display())))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| {
            user(format!(
                "cannot rename {} to {}: {e}",
                self.tmp.display(),
                self.path.display()
            ))
        })?;
        Ok(())
    }
}

impl Drop for EmitFile {
    /// Unfinished (an error, or the batches stopped): the partial `FILE.tmp` is removed.
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

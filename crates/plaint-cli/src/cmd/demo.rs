//! `plaint demo`: a realistic postal workload (`plaint::workload`) executed into a fresh store in
//! durable batches, the projections rebuilt, and the weekly report printed. Deterministic for a
//! seed: the engine's clock is stopped at the end of the generated period, so even the recording
//! times are the same on every run.

use crate::cmd::report::{parse_week, print_weekly, weekly_report};
use crate::context::{open_engine_at, parse_instant, Access, Context, StoreLocation};
use crate::error::{user, user_hint, ExitCode};
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::Args;
use plaint::reports::IsoWeek;
use plaint::workload::{generate_with_summary, WorkloadConfig, WORKLOAD_COMPLAINTS_MAX};
use plaint::{Command, RebuildTarget, Timestamp, MS_PER_DAY};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

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
    /// Print the report as JSON (docs/json-format.md, `weekly_report`).
    #[arg(long)]
    pub json: bool,
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

    let started = Instant::now();
    let (commands, summary) = generate_with_summary(&cfg);
    if let Some(path) = &args.emit_commands {
        emit(path, &commands)?;
    }

    let engine = open_engine_at(ctx, &location, Some(end), Access::Create).await?;
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
    let generated = started.elapsed();

    let bar = progress::bar(Some(commands.len() as u64), "commands");
    let executing = Instant::now();
    let (mut events, mut rejected, mut escalated) = (0usize, 0usize, 0usize);
    for chunk in commands.chunks(DEMO_BATCH) {
        let outcome = engine.execute_batch(chunk.to_vec()).await?;
        events += outcome.events;
        if let Some((index, rejection)) = outcome.rejections().next() {
            rejected += outcome.rejected;
            eprintln!("demo: command {} rejected: {rejection}", chunk[index].command_id);
        }
        // The SLA watchdog runs as a back office would run it: between batches, at the business
        // time the workload has reached (commands are sorted by it), so tickets breach and
        // escalate while they are still open, not only at the end.
        if let Some(reached) = chunk.iter().filter_map(|c| c.occurred_at).max() {
            let ticked = engine.tick(reached).await?;
            escalated += ticked.escalated.len();
            events += ticked.escalated.len();
        }
        bar.inc(chunk.len() as u64);
    }
    let ticked = engine.tick(end).await?;
    escalated += ticked.escalated.len();
    events += ticked.escalated.len();
    bar.finish_and_clear();
    let executed = executing.elapsed();

    let rebuilt = engine.rebuild(RebuildTarget::Head, &mut |_| {}).await?;
    let week = match args.week {
        Some(week) => week,
        None => engine.week_of(cfg.start.plus_millis(14 * MS_PER_DAY)).await?,
    };
    let report = weekly_report(&engine, Some(week), now).await?;
    let mut out = Out::new();
    print_weekly(&mut out, &report, args.json)?;
    out.flush()?;
    eprintln!(
        "demo: {} complaints, {} commands ({} rejected), {escalated} watchdog escalations, {events} events into \
         the {} in {:.2} s ({:.0} events/s; generated in {:.2} s, projections rebuilt at {:.0} events/s)",
        summary.complaints,
        summary.commands,
        rejected,
        location.describe(),
        executed.as_secs_f64(),
        events as f64 / executed.as_secs_f64().max(1e-9),
        generated.as_secs_f64(),
        rebuilt.events_per_sec()
    );
    if rejected > 0 {
        return Err(user(format!("demo: {rejected} generated commands were rejected")));
    }
    Ok(ExitCode::Ok)
}

/// Writes the commands as JSON Lines, durably.
fn emit(path: &PathBuf, commands: &[Command]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).map_err(|e| user(format!("cannot create {}: {e}", path.display())))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    for c in commands {
        serde_json::to_writer(&mut w, c)?;
        w.write_all(b"\n")?;
    }
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))?;
    Ok(())
}

//! `plaint demo`: a realistic postal workload (`plaint::workload`) executed into a fresh store in
//! durable batches, the projections rebuilt, and every report shown: the weekly report, the
//! assessment (考核) of the generated period and the monthly complaint analysis (投诉分析报告) of
//! the reported week's month; `--reports DIR` also writes them (weekly and monthly HTML pages,
//! assessment and analysis as text and CSV) and lists the files. Deterministic for a seed: the
//! engine's clock is stopped at the end of the generated period, so even the recording times are
//! the same on every run.

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
use plaint::workload::{generate_with_summary, WorkloadConfig, WORKLOAD_COMPLAINTS_MAX};
use plaint::{Command, RebuildTarget, Timestamp, MS_PER_DAY};
use std::io::Write;
use std::path::{Path, PathBuf};
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
        let outcome = engine.execute_batch(chunk).await?;
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

//! `plaint report weekly [--week W] [--now T]`: the weekly complaint report (000 分析组 每周投诉周报).

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::output::{envelope, Out};
use crate::tables;
use clap::{Args, Subcommand};
use plaint::reports::{week_of_date, IsoWeek, WeeklyReport};
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// The weekly report: volumes, on-time rates, repeat rate, satisfaction, first-contact
    /// resolution, escalations, response and resolution times, top issues.
    Weekly(WeeklyArgs),
}

#[derive(Debug, Args)]
pub struct WeeklyArgs {
    /// The week: an ISO week (2026-W38) or any date in it (2026-09-14); default: the week of --now.
    #[arg(long, value_name = "WEEK", value_parser = parse_week)]
    pub week: Option<IsoWeek>,
    /// The instant SLA verdicts are judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `weekly_report`).
    #[arg(long)]
    pub json: bool,
}

/// `2026-W38` or a date `2026-09-14`.
pub fn parse_week(text: &str) -> Result<IsoWeek, String> {
    if let Ok(week) = text.parse::<IsoWeek>() {
        return Ok(week);
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(week_of_date)
        .map_err(|_| format!("{text:?} is not a week; want an ISO week (2026-W38) or a date in it (2026-09-14)"))
}

pub async fn run(ctx: &Context, args: ReportArgs) -> anyhow::Result<ExitCode> {
    match args.kind {
        ReportKind::Weekly(args) => weekly(ctx, args).await,
    }
}

async fn weekly(ctx: &Context, args: WeeklyArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.now);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = weekly_report(&engine, args.week, now).await?;
    let mut out = Out::new();
    print_weekly(&mut out, &report, args.json)?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// The weekly report of `week` (default: the week of `now`) judged at `now`.
pub async fn weekly_report(
    engine: &plaint::Engine,
    week: Option<IsoWeek>,
    now: Timestamp,
) -> anyhow::Result<WeeklyReport> {
    let week = match week {
        Some(week) => week,
        None => engine.week_of(now).await?,
    };
    let report = engine.weekly_report(week, now).await?;
    if report.from > now {
        return Err(user(format!(
            "report weekly: week {} starts at {}, after --now {now}",
            report.week, report.from
        )));
    }
    Ok(report)
}

/// Prints the report as tables, or as the versioned JSON document.
pub fn print_weekly(out: &mut Out, report: &WeeklyReport, json: bool) -> anyhow::Result<()> {
    if json {
        out.json_pretty(&envelope("weekly_report", serde_json::json!({ "report": report })))?;
    } else {
        out.line(tables::weekly_report_text(report))?;
    }
    Ok(())
}

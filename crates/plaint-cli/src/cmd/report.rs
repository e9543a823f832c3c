//! `plaint report weekly|monthly [--week W | --month M] [--now T] [--format table|json|csv|html]
//! [--out PATH]`: the weekly complaint report (000 分析组 每周投诉周报) and the monthly report, as
//! terminal tables, JSON, spreadsheet tables (CSV) or one self-contained HTML page. The figures
//! and their rendering come from the facade (`Engine::period_report`, `plaint::report_html`,
//! `plaint::report_csv`); this file only chooses where they go.

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::{user, user_hint, ExitCode};
use crate::output::{envelope, Out};
use crate::tables;
use clap::{Args, Subcommand, ValueEnum};
use plaint::reports::{week_of_date, IsoWeek, Month, Period, PeriodReport, WeeklyReport};
use plaint::Timestamp;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// The weekly report: volumes, on-time rates, repeat rate, satisfaction, first-contact
    /// resolution, escalations, response and resolution times, top issues; with --format
    /// csv|html also the daily intake, category and channel mix, heat map, repeat customers and
    /// alerts.
    Weekly(WeeklyArgs),
    /// The monthly report: daily intake, category and channel mix, on-time rate per clock, the
    /// region × category heat map, top repeat customers (masked), alerts.
    Monthly(MonthlyArgs),
    /// The performance assessment (考核) per handler or department for a period: on-time rate
    /// per clock, first-contact resolution, satisfaction (every revisit; first and latest),
    /// repeat rate, escalations, reopenings, compensation, dispute escalation, improvement
    /// actions, a weighted score and the policy's flags.
    Assessment(super::report_casework::AssessmentArgs),
    /// The monthly complaint analysis (投诉分析报告): high-frequency, high-cost and high-risk
    /// categories, trend against the month before, finance totals, incident groups, improvement
    /// actions and whether their category fell afterwards.
    Analysis(super::report_casework::AnalysisArgs),
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text tables for a terminal.
    Table,
    /// The versioned JSON document (docs/json-format.md).
    Json,
    /// Spreadsheet tables, one per section, UTF-8 with a byte order mark.
    Csv,
    /// One self-contained HTML page with charts (opens offline, prints on A4).
    Html,
}

/// Options every report shares.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The instant SLA verdicts and alerts are judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Same as --format json (docs/json-format.md).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to this file instead of stdout; with --format csv a directory (one file per
    /// section) unless the name ends in `.csv` (one file, sections one after the other).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, Args)]
pub struct WeeklyArgs {
    /// The week: an ISO week (2026-W38) or any date in it (2026-09-14); default: the week of --now.
    #[arg(long, value_name = "WEEK", value_parser = parse_week)]
    pub week: Option<IsoWeek>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MonthlyArgs {
    /// The month: 2026-09 or any date in it (2026-09-14); default: the month of --now (office
    /// time zone).
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub month: Option<Month>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `2026-09` or a date `2026-09-14`.
pub fn parse_month(text: &str) -> Result<Month, String> {
    let bad = || format!("{text:?} is not a month; want 2026-09 or a date in it (2026-09-14)");
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"))
        .map_err(|_| bad())?;
    use chrono::Datelike;
    Ok(Month {
        year: date.year(),
        month: date.month(),
    })
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
        ReportKind::Monthly(args) => monthly(ctx, args).await,
        ReportKind::Assessment(args) => super::report_casework::assessment(ctx, args).await,
        ReportKind::Analysis(args) => super::report_casework::analysis(ctx, args).await,
    }
}

async fn weekly(ctx: &Context, args: WeeklyArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.output.now);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = weekly_report(&engine, args.week, now).await?;
    let format = args.output.format();
    let week: IsoWeek = report
        .week
        .parse()
        .map_err(|e| user(format!("report weekly: week {}: {e}", report.week)))?;
    let period = engine
        .period_report_in(Period::Week(week), now, crate::context::zone())
        .await?;
    write_report(&period, format, args.output.out.as_deref(), || {
        tables::weekly_report_text(&report)
    })?;
    Ok(ExitCode::Ok)
}

async fn monthly(ctx: &Context, args: MonthlyArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.output.now);
    let month = match args.month {
        Some(month) => month,
        None => {
            use chrono::Datelike;
            let local = crate::context::office_zone().datetime(now);
            Month {
                year: local.year(),
                month: local.month(),
            }
        }
    };
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let period = engine
        .period_report_in(Period::Month(month), now, crate::context::zone())
        .await?;
    if chrono::DateTime::parse_from_rfc3339(&period.from)
        .map(|f| f.timestamp_millis())
        .unwrap_or(i64::MIN)
        > now.as_millis()
    {
        return Err(user(format!(
            "report monthly: month {month} starts at {}, after --now {}",
            period.from,
            crate::context::show(now)
        )));
    }
    write_report(&period, args.output.format(), args.output.out.as_deref(), || {
        period_text(&period)
    })?;
    Ok(ExitCode::Ok)
}

/// The report in `format`, to `out` or stdout.
fn write_report(
    report: &PeriodReport,
    format: Format,
    out: Option<&Path>,
    table: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    let text = match format {
        Format::Table => table(),
        Format::Json => {
            let kind = format!("{}_report", report.kind);
            let mut doc = envelope(&kind, serde_json::json!({ "sections": report }));
            if let Some(weekly) = &report.weekly {
                doc["report"] = serde_json::to_value(weekly)?;
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Html => plaint::report_html::render(report),
        Format::Csv => match out {
            Some(dir) if !is_csv_file(dir) => return write_csv_dir(report, dir),
            _ => plaint::report_csv::single_file(report),
        },
    };
    match out {
        // The same bytes as on stdout: the text and one line end.
        Some(path) => write_file(path, format!("{}\n", text.trim_end_matches('\n')).as_bytes()),
        None => {
            let mut stdout = Out::new();
            stdout.line(text.trim_end_matches('\n'))?;
            stdout.flush()?;
            Ok(())
        }
    }
}

fn is_csv_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// One file per section, `<dir>/<weekly-2026-W38>-<section>.csv`; the names are printed.
fn write_csv_dir(report: &PeriodReport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        user_hint(
            format!("report: cannot create the CSV directory {}: {e}", dir.display()),
            "--out names a directory for --format csv (or a file ending in .csv for one file)",
        )
    })?;
    let mut stdout = Out::new();
    for table in plaint::report_csv::tables(report) {
        let path = dir.join(format!("{}-{}.csv", report.file_stem(), table.name));
        let text = format!("{}{}", plaint::report_csv::BOM, table.to_csv());
        write_file(&path, text.as_bytes())?;
        stdout.line(path.display().to_string())?;
    }
    stdout.flush()?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).map_err(|e| user(format!("report: cannot write {}: {e}", path.display())))
}

/// The monthly report as text for a terminal (times in the office's zone).
fn period_text(r: &PeriodReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} report {} ({} .. {}), judged at {}",
        r.kind, r.period, r.from, r.to, r.now
    );
    let _ = writeln!(s, "received: {}", r.received);
    let _ = writeln!(s, "\ndaily intake");
    for d in &r.daily_intake {
        let _ = writeln!(s, "  {}  {:>6}", d.day, d.count);
    }
    for (title, counts) in [("category mix", &r.by_category), ("channel mix", &r.by_channel)] {
        let _ = writeln!(s, "\n{title}");
        for (k, n) in counts {
            let _ = writeln!(s, "  {k:<24} {n:>6}");
        }
    }
    let _ = writeln!(s, "\non-time rate per clock");
    for (clock, c) in &r.on_time {
        let rate = c
            .on_time_rate
            .map(|x| format!("{:.1} %", x * 100.0))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "  {clock:<24} {rate:>8}  (met {}, breached {}, pending {})",
            c.met, c.breached, c.pending
        );
    }
    let _ = writeln!(s, "\ntop repeat customers (masked)");
    for c in &r.top_repeat_customers {
        let _ = writeln!(s, "  {:<24} {:>6}", c.customer, c.tickets);
    }
    let _ = writeln!(
        s,
        "\nalerts: {} surges, {} regions with a high delay share",
        r.alerts.surges.len(),
        r.alerts.region_delays.len()
    );
    if let Some(a) = &r.analysis {
        s.push('\n');
        s.push_str(&plaint::report_casework::analysis_text(a));
    }
    s
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
            "report weekly: week {} starts at {}, after --now {}",
            report.week,
            crate::context::show(report.from),
            crate::context::show(now)
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

//! `plaint report assessment --period P [--by handler|department]` and `plaint report analysis
//! [--month M]` (issue 17): the performance assessment (考核, docs/domain.md R-ASM-1) and the
//! monthly complaint analysis (投诉分析报告, R-ANA-1), as text tables, JSON or CSV. Figures and
//! rendering come from the facade (`Engine::assessment_report`, `Engine::complaint_analysis`,
//! `plaint::report_casework`).

use super::report::{parse_month, parse_week, Format, OutputArgs};
use crate::context::{business_calendar, now_or_wall_clock, Context};
use crate::error::{user, user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::{Args, ValueEnum};
use plaint::report_csv::{CsvTable, BOM};
use plaint::reports::{AssessBy, Month};
use plaint::Timestamp;
use std::path::Path;

/// Who is assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// The handler the ticket was dispatched to.
    Handler,
    /// The department the ticket was dispatched to.
    Department,
    /// The ticket's owner (首问负责制): the first person who acted on it, or whom it was
    /// transferred to.
    Owner,
}

#[derive(Debug, Args)]
pub struct AssessmentArgs {
    /// The period: a month (2026-11), an ISO week (2026-W47), or FROM..TO dates (2026-11-01..2026-12-01,
    /// TO exclusive), in the office's time zone.
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    /// Assess handlers or departments.
    #[arg(long, value_enum, default_value = "handler")]
    pub by: By,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// The month: 2026-09 or any date in it; default: the month of --now (office time zone).
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub month: Option<Month>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn day_start(date: chrono::NaiveDate) -> Timestamp {
    let cal = business_calendar();
    cal.instant(date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The period `[from, to)` of `--period`.
pub fn parse_period(text: &str) -> Result<(Timestamp, Timestamp), String> {
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("--period {text:?}: {s:?} is not a date like 2026-11-01"))
    };
    if let Some((a, b)) = text.split_once("..") {
        let (from, to) = (date(a)?, date(b)?);
        if from >= to {
            return Err(format!("--period {text:?}: the start is not before the end"));
        }
        return Ok((day_start(from), day_start(to)));
    }
    if text.contains('W') {
        let week = parse_week(text)?;
        let monday = chrono::NaiveDate::from_isoywd_opt(week.year, week.week, chrono::Weekday::Mon)
            .ok_or_else(|| format!("--period {text:?} is not an ISO week"))?;
        return Ok((day_start(monday), day_start(monday + chrono::Duration::days(7))));
    }
    let m = parse_month(text).map_err(|e| format!("--period: {e}; or an ISO week (2026-W47) or FROM..TO dates"))?;
    let first = chrono::NaiveDate::from_ymd_opt(m.year, m.month, 1).ok_or("no such month")?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or("no month after")?;
    Ok((day_start(first), day_start(next)))
}

pub async fn assessment(ctx: &Context, args: AssessmentArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = parse_period(&args.period).map_err(|e| user(format!("report assessment: {e}")))?;
    let now = now_or_wall_clock(args.output.now);
    if from > now {
        return Err(user(format!(
            "report assessment: the period starts at {}, after --now {}",
            plaint::report_casework::local(from),
            plaint::report_casework::local(now)
        )));
    }
    let by = match args.by {
        By::Handler => AssessBy::Handler,
        By::Department => AssessBy::Department,
        By::Owner => AssessBy::Owner,
    };
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.assessment_report(from, to, by, now).await?;
    let text = match format(&args.output)? {
        Format::Json => {
            serde_json::to_string_pretty(&envelope("assessment_report", serde_json::json!({ "report": report })))?
                + "\n"
        }
        Format::Csv => return write_csv(&[plaint::report_casework::assessment_csv(&report)], &args.output),
        _ => plaint::report_casework::assessment_text(&report),
    };
    write_text(&text, &args.output)?;
    Ok(ExitCode::Ok)
}

pub async fn analysis(ctx: &Context, args: AnalysisArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.output.now);
    let month = match args.month {
        Some(month) => month,
        None => {
            use chrono::Datelike;
            let local = now.to_datetime().with_timezone(&business_calendar().utc_offset());
            Month {
                year: local.year(),
                month: local.month(),
            }
        }
    };
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.complaint_analysis(month, now).await?;
    let text = match format(&args.output)? {
        Format::Json => {
            serde_json::to_string_pretty(&envelope("complaint_analysis", serde_json::json!({ "report": report })))?
                + "\n"
        }
        Format::Csv => return write_csv(&plaint::report_casework::analysis_csv(&report), &args.output),
        _ => plaint::report_casework::analysis_text(&report),
    };
    write_text(&text, &args.output)?;
    Ok(ExitCode::Ok)
}

fn format(o: &OutputArgs) -> anyhow::Result<Format> {
    let f = if o.json { Format::Json } else { o.format };
    if f == Format::Html {
        return Err(user_hint(
            "report: --format html is not available for this report",
            "use --format table, json or csv (the monthly report's HTML page is `plaint report monthly --format html`)",
        ));
    }
    Ok(f)
}

fn write_text(text: &str, o: &OutputArgs) -> anyhow::Result<()> {
    match &o.out {
        Some(path) => write_file(path, format!("{}\n", text.trim_end_matches('\n')).as_bytes()),
        None => {
            let mut out = Out::new();
            out.line(text.trim_end_matches('\n'))?;
            out.flush()?;
            Ok(())
        }
    }
}

/// CSV: one file when `--out` ends in `.csv` or is absent (stdout), sections one after the
/// other; otherwise a directory with one file per section.
fn write_csv(tables: &[CsvTable], o: &OutputArgs) -> anyhow::Result<ExitCode> {
    let single = |tables: &[CsvTable]| {
        let mut s = String::from(BOM);
        for (i, t) in tables.iter().enumerate() {
            if i > 0 {
                s.push_str("\r\n");
            }
            s.push_str(&t.to_csv());
        }
        s
    };
    match &o.out {
        None => {
            let mut out = Out::new();
            out.line(single(tables).trim_end_matches(['\r', '\n']))?;
            out.flush()?;
        }
        Some(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) => {
            write_file(p, single(tables).as_bytes())?
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                user(format!(
                    "report: cannot create the CSV directory {}: {e}",
                    dir.display()
                ))
            })?;
            let mut out = Out::new();
            for t in tables {
                let path = dir.join(format!("{}.csv", t.name));
                write_file(&path, format!("{BOM}{}", t.to_csv()).as_bytes())?;
                out.line(path.display().to_string())?;
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::Ok)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).map_err(|e| user(format!("report: cannot write {}: {e}", path.display())))
}

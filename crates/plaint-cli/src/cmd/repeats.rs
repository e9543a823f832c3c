//! `plaint repeats [--from T] [--to T]`: repeat complaints (docs/domain.md R-REP): the repeat rate and
//! the links from each repeat to the earlier complaint it repeats.

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::output::{envelope, Out};
use crate::tables;
use clap::Args;
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct RepeatsArgs {
    /// Only tickets received at or after this instant; default: the beginning.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub from: Option<Timestamp>,
    /// Only tickets received before this instant; default: --now.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub to: Option<Timestamp>,
    /// "Now"; the default end of the period. Default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `repeat_report`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: RepeatsArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.now);
    let from = args.from.unwrap_or(Timestamp::EPOCH);
    let to = args.to.unwrap_or(now.plus_millis(1));
    if from >= to {
        return Err(user(format!("repeats: the period [{from}, {to}) is empty")));
    }
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.repeats_report(from, to).await?;
    let mut out = Out::new();
    if args.json {
        out.json_pretty(&envelope("repeat_report", serde_json::json!({ "report": report })))?;
    } else {
        let show = crate::context::show;
        let (from_text, now_text) = (show(from), show(now));
        let period = match (from == Timestamp::EPOCH, args.to) {
            (true, None) => format!("up to {now_text}"),
            (true, Some(to)) => format!("before {}", show(to)),
            (false, None) => format!("from {from_text} up to {now_text}"),
            (false, Some(to)) => format!("in [{from_text}, {})", show(to)),
        };
        out.line(format!(
            "Repeat complaints received {period}: {} received, {} repeats, {} reopened, repeat rate {}, {} merged duplicates, {} flagged duplicates\n",
            report.received,
            report.repeats,
            report.reopened,
            tables::percent(report.repeat_rate),
            report.duplicates,
            report.flagged_duplicates
        ))?;
        let mut t = tables::table(&["complaint", "repeats", "received at"]);
        for link in &report.repeat_links {
            t.add_row(vec![
                link.id.to_string(),
                link.of.to_string(),
                link.received_at.to_string(),
            ]);
        }
        out.line(t.to_string())?;
        if !report.duplicate_links.is_empty() {
            let mut t = tables::table(&["complaint", "merged into", "received at"]);
            for link in &report.duplicate_links {
                t.add_row(vec![
                    link.id.to_string(),
                    link.of.to_string(),
                    link.received_at.to_string(),
                ]);
            }
            out.line(format!("\n{t}"))?;
        }
        if !report.flagged_duplicate_links.is_empty() {
            let mut t = tables::table(&["complaint", "duplicates open ticket", "received at"]);
            for link in &report.flagged_duplicate_links {
                t.add_row(vec![
                    link.id.to_string(),
                    link.of.to_string(),
                    link.received_at.to_string(),
                ]);
            }
            out.line(format!("\n{t}"))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

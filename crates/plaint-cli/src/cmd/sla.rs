//! `plaint sla [--now T] [--group-by G] [--from T --to T]`: SLA compliance per clock.

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::output::{envelope, Out};
use crate::tables;
use clap::Args;
use plaint::reports::{GroupBy, SlaReport};
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct SlaArgs {
    /// The instant verdicts are judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Also break the figures down by severity, customer_tier, category, channel, department,
    /// region, week or attribute:<key>.
    #[arg(long, value_name = "GROUP")]
    pub group_by: Option<String>,
    /// Only tickets received at or after this instant.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant, requires = "to")]
    pub from: Option<Timestamp>,
    /// Only tickets received before this instant.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant, requires = "from")]
    pub to: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `sla_report`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: SlaArgs) -> anyhow::Result<ExitCode> {
    let group_by = match &args.group_by {
        Some(text) => Some(GroupBy::parse(text).ok_or_else(|| {
            user(format!(
                "sla: unknown --group-by {text:?}; use severity, customer_tier, category, channel, department, region, \
                 week or attribute:<key>"
            ))
        })?),
        None => None,
    };
    let now = now_or_wall_clock(args.now);
    let received = args.from.zip(args.to);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.sla_report(now, group_by.as_ref(), received).await?;
    let mut out = Out::new();
    if args.json {
        out.json_pretty(&envelope("sla_report", serde_json::json!({ "report": report })))?;
    } else {
        out.line(sla_text(&report))?;
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

fn sla_text(r: &SlaReport) -> String {
    let mut s = format!(
        "SLA compliance at {} (policy {}), {} tickets\n\n",
        crate::context::show(r.now),
        r.policy_version,
        r.overall.tickets
    );
    let clocks = serde_json::to_value(&r.overall.clocks).unwrap_or_default();
    let mut clocks_only = serde_json::Map::new();
    if let serde_json::Value::Object(map) = clocks {
        for (clock, mut summary) in map {
            if let serde_json::Value::Object(fields) = &mut summary {
                fields.remove("lateness");
            }
            clocks_only.insert(clock, summary);
        }
    }
    if let Some(t) = tables::object_map_table("clock", &serde_json::Value::Object(clocks_only)) {
        s.push_str(&format!("{t}\n"));
    }
    if !r.groups.is_empty() {
        let mut t = tables::table(&[
            r.group_by.as_deref().unwrap_or("group"),
            "tickets",
            "clock",
            "on time",
            "met",
            "breached",
            "pending",
            "pending overdue",
        ]);
        for (group, g) in &r.groups {
            // A clock that applies to no ticket of the group (imported history records only
            // its resolution deadline, say) would only add rows of dashes; JSON keeps them.
            for (clock, c) in g
                .clocks
                .iter()
                .filter(|(_, c)| c.met + c.breached + c.pending + c.pending_overdue > 0)
            {
                t.add_row(vec![
                    group.clone(),
                    g.tickets.to_string(),
                    clock.clone(),
                    tables::percent(c.on_time_rate),
                    c.met.to_string(),
                    c.breached.to_string(),
                    c.pending.to_string(),
                    c.pending_overdue.to_string(),
                ]);
            }
        }
        s.push_str(&format!("\n{t}\n"));
    }
    s
}

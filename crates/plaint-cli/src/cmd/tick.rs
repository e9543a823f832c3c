//! `plaint tick [--now T]`: run the SLA watchdog at `now`: append the escalations that are due,
//! each exactly once however often it runs.

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::ExitCode;
use crate::events::event_line;
use crate::output::{envelope, Out};
use clap::Args;
use plaint::event::EscalationTrigger;
use plaint::{EventData, Timestamp};

#[derive(Debug, Args)]
pub struct TickArgs {
    /// The instant to judge deadlines at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `tick`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: TickArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.now);
    let engine = ctx.open_engine(Some(now)).await?;
    let outcome = engine.tick(now).await?;
    let mut out = Out::new();
    if args.json {
        let escalations: Vec<_> = outcome
            .escalated
            .iter()
            .map(|e| {
                let (level, rule_id) = match &e.data {
                    EventData::Escalated(x) => (
                        Some(x.level.as_str()),
                        match &x.trigger {
                            EscalationTrigger::Watchdog { rule_id, .. } => Some(rule_id.clone()),
                            EscalationTrigger::Person => None,
                        },
                    ),
                    _ => (None, None),
                };
                serde_json::json!({
                    "complaint_id": e.meta.complaint_id,
                    "level": level,
                    "rule_id": rule_id,
                    "position": e.meta.position,
                    "occurred_at": e.meta.occurred_at,
                })
            })
            .collect();
        let payload = serde_json::json!({
            "now": outcome.now,
            "checked": outcome.checked,
            "appended": outcome.escalated.len(),
            "escalations": escalations,
        });
        out.json_pretty(&envelope("tick", payload))?;
    } else {
        for e in &outcome.escalated {
            out.line(event_line(e))?;
        }
        out.line(format!(
            "tick at {}: {} open tickets checked, {} escalations appended",
            crate::context::show(outcome.now),
            outcome.checked,
            outcome.escalated.len()
        ))?;
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

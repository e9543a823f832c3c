//! `plaint audit [--from T] [--to T] [--actor A]`: who did what, when, across all complaints, in
//! log order. Times are business times (`occurred_at`), `--from` inclusive, `--to` exclusive.

use crate::context::{parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::events::event_line;
use crate::output::Out;
use clap::Args;
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only events that happened at or after this instant (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub from: Option<Timestamp>,
    /// Only events that happened before this instant (exclusive).
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub to: Option<Timestamp>,
    /// Only events by this actor (a staff id, or `system`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Print JSON Lines, one event per line (docs/json-format.md, `event`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: AuditArgs) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(user(format!("audit: --from {from} is after --to {to}")));
        }
    }
    let engine = ctx.open_engine_for_read(None).await?;
    let filter = plaint::AuditFilter {
        from: args.from,
        to: args.to,
        actor: args.actor.clone(),
        ..plaint::AuditFilter::default()
    };
    let mut out = Out::new();
    let mut failed: Option<anyhow::Error> = None;
    engine
        .audit_each(&filter, &mut |event| {
            let written = if args.json {
                engine
                    .sealed_event_record(&event)
                    .map_err(anyhow::Error::from)
                    .and_then(|record| out.json_line(&record))
            } else {
                out.line(event_line(&event)).map_err(anyhow::Error::from)
            };
            match written {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

//! `plaint history ID`: every event of one complaint, in stream order.

use crate::context::{complaint_id, Context};
use crate::error::ExitCode;
use crate::events::event_line;
use crate::output::Out;
use clap::Args;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The complaint id.
    pub complaint: String,
    /// Print JSON Lines, one event per line (docs/json-format.md, `event`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let id = complaint_id(&args.complaint)?;
    let engine = ctx.open_engine_for_read(None).await?;
    let events = engine.history(&id).await?;
    let mut out = Out::new();
    for event in &events {
        if args.json {
            out.json_line(&engine.sealed_event_record(event)?)?;
        } else {
            out.line(event_line(event))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

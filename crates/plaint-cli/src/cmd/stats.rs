//! `plaint stats`: how much is in the log.

use crate::context::Context;
use crate::error::ExitCode;
use crate::output::{envelope, Out};
use clap::Args;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON (docs/json-format.md, `stats`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: StatsArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.open_engine_for_read(None).await?;
    let stats = engine.stats().await?;
    let mut out = Out::new();
    if args.json {
        let payload = serde_json::json!({
            "store": ctx.location().describe(),
            "head_position": stats.head_position,
            "events": stats.events,
            "complaints": stats.streams,
            "bytes": stats.bytes,
            "head": stats.head.map(|h| h.to_string()),
        });
        out.json_pretty(&envelope("stats", payload))?;
    } else {
        out.line(format!("store          {}", ctx.location().describe()))?;
        out.line(format!("head position  {}", stats.head_position))?;
        out.line(format!("events         {}", stats.events))?;
        out.line(format!("complaints     {}", stats.streams))?;
        if let Some(bytes) = stats.bytes {
            out.line(format!("log bytes      {bytes}"))?;
        }
        if let Some(head) = stats.head {
            out.line(format!("head           {head}"))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

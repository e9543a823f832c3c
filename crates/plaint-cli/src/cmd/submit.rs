//! `plaint submit [JSON]`: execute one command (docs/import-format.md), given as an argument or
//! on stdin; prints the events it committed.

use crate::context::{parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::events::event_line;
use crate::lines::parse_command;
use crate::output::{envelope, Out};
use anyhow::Context as _;
use clap::Args;
use plaint::Timestamp;
use std::io::Read;

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The command as one JSON object; read from stdin when absent.
    pub command: Option<String>,
    /// "Now" for the command (its business time when it has no `occurred_at`, and the recording
    /// time); default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `submitted`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let text = match args.command {
        Some(text) => text,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read the command from stdin")?;
            // Bytes that are not UTF-8 are bad input, not an internal error (issue 16).
            String::from_utf8(bytes).map_err(|e| {
                user(format!(
                    "submit: the command on stdin is not UTF-8 (byte {})",
                    e.utf8_error().valid_up_to() + 1
                ))
            })?
        }
    };
    let command = parse_command(1, text.trim()).map_err(|e| {
        let what = e.to_string();
        user(
            what.strip_prefix("line 1: ")
                .map(|s| format!("submit: {s}"))
                .unwrap_or(what),
        )
    })?;
    let engine = ctx.open_engine(args.now).await?;
    let executed = engine.execute(command).await?;
    let mut out = Out::new();
    if args.json {
        let events = executed
            .events
            .iter()
            .map(|e| engine.sealed_event_record(e))
            .collect::<Result<Vec<_>, _>>()?;
        let payload = serde_json::json!({"deduplicated": executed.deduplicated, "events": events});
        out.json_pretty(&envelope("submitted", payload))?;
    } else if executed.deduplicated {
        out.line("already committed (same command id): nothing appended")?;
    } else {
        for event in &executed.events {
            out.line(event_line(event))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

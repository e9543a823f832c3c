//! `plaint repair`: the documented repairs of a file log, done only on request and reported:
//! cut a half-written final batch (never acknowledged), and with `--accept-loss` continue
//! after a loss of acknowledged events that `verify` found (re-anchor the log at its actual
//! head, drop projection checkpoints ahead of it). Takes the writer lock. With `--pg`, only the
//! projection checkpoints are held to the head.

use crate::context::{engine_config_for, Access, Context};
use crate::error::{user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::Args;
use plaint::Recovery;

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Accept that acknowledged events at the end of the log are lost (as `verify` reported):
    /// re-anchor the log where it ends and drop projection checkpoints ahead of it. Keep a copy
    /// of the store directory first.
    #[arg(long)]
    pub accept_loss: bool,
    /// Print JSON (docs/json-format.md, `repair`).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: RepairArgs) -> anyhow::Result<ExitCode> {
    let recovery = if args.accept_loss {
        Recovery::AcceptLostTail
    } else {
        Recovery::Strict
    };
    let config = engine_config_for(ctx, &ctx.location(), None, Access::Write);
    let report = match plaint::Engine::repair(&config, recovery).await {
        Ok(report) => report,
        Err(e) if e.kind() == plaint::ErrorKind::Damaged => {
            return Err(user_hint(
                format!("repair: nothing was changed: {e}"),
                "this is a loss of acknowledged events or other damage, not a torn tail; keep a copy of the \
                 store directory and restore from a backup, or rerun with --accept-loss to continue without them",
            ))
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot repair the {}", ctx.location().describe()))),
    };
    let mut out = Out::new();
    if args.json {
        let payload = serde_json::json!({
            "torn_cut": report.torn_cut.as_ref().map(|t| serde_json::json!({
                "file": t.file.display().to_string(), "offset": t.offset, "bytes": t.bytes,
            })),
            "lost_tail": report.lost_tail,
            "discarded_checkpoints": report.discarded_checkpoints.iter()
                .map(|(name, position)| serde_json::json!({"projection": name, "position": position}))
                .collect::<Vec<_>>(),
            "head": report.head.to_string(),
        });
        out.json_pretty(&envelope("repair", payload))?;
    } else {
        match &report.torn_cut {
            Some(t) => out.line(format!(
                "cut a half-written final batch: {} bytes from {} byte offset {} (never acknowledged)",
                t.bytes,
                t.file.display(),
                t.offset
            ))?,
            None => out.line("no half-written final batch: nothing to cut")?,
        }
        if let Some(lost) = &report.lost_tail {
            out.line(format!(
                "accepted a loss: {lost}; the log is anchored at its head again"
            ))?;
        }
        for (name, position) in &report.discarded_checkpoints {
            out.line(format!(
                "dropped the {name} projection checkpoint at position {position} (ahead of the log; rebuilt on the next read)"
            ))?;
        }
        out.line(format!("head {}", report.head))?;
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

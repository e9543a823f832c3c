//! `plaint verify`: re-read the whole log: checksums, positions, stream versions, hash chain,
//! the head anchor, the projection checkpoints against the head, and the customer vault (every
//! record, every key an event references, every recorded erasure). Read-only: it takes no
//! lock, cuts nothing and creates nothing, so it runs beside a writer and on a damaged store
//! without changing the evidence. Damage exits 1 and names the first damaged position or byte
//! offset.

use crate::context::{engine_config_for, Access, Context};
use crate::error::{user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::Args;
use plaint::HeadMark;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print JSON (docs/json-format.md, `verify`).
    #[arg(long)]
    pub json: bool,
    /// The log must reach this head, recorded earlier (from `verify` or `stats`), with the same
    /// chain value there: POSITION:CHAIN.
    #[arg(long, value_name = "POSITION:CHAIN", value_parser = parse_head)]
    pub expect_head: Option<HeadMark>,
}

fn parse_head(text: &str) -> Result<HeadMark, String> {
    text.parse()
}

const DAMAGE_HINT: &str = "the log was changed or damaged after it was written; keep a copy of the store \
directory, then restore from a backup or `plaint copy` the intact prefix";

const LOSS_HINT: &str = "acknowledged events are missing from the end of the log; keep a copy of the store \
directory and restore from a backup; `plaint repair --accept-loss` continues without them";

pub async fn run(ctx: &Context, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut out = Out::new();
    let config = engine_config_for(ctx, &ctx.location(), None, Access::ReadOnly);
    let coverage = plaint::CalendarCoverage::at(&config.policy, &config.calendar, (config.clock)());
    let check = match plaint::Engine::verify_store(&config, args.expect_head).await {
        Ok(check) => check,
        Err(e) => {
            if e.kind() != plaint::ErrorKind::Damaged {
                return Err(anyhow::Error::new(e).context(format!("cannot verify the {}", ctx.location().describe())));
            }
            let damage = e.to_string();
            if args.json {
                out.json_pretty(&envelope("verify", serde_json::json!({"ok": false, "damage": damage})))?;
                out.flush()?;
            }
            let hint = if e.is_lost_tail() { LOSS_HINT } else { DAMAGE_HINT };
            return Err(user_hint(format!("verify: {damage}"), hint));
        }
    };
    let report = &check.report;
    let torn = check
        .torn
        .as_ref()
        .map(|t| serde_json::json!({"file": t.file.display().to_string(), "offset": t.offset, "bytes": t.bytes}));
    if args.json {
        let payload = serde_json::json!({
            "ok": true,
            "events": report.events,
            "head_position": report.head_position,
            "streams": report.streams,
            "bytes": report.bytes,
            "chain_head": plaint::chain_hex(&report.chain_head),
            "head": check.head.to_string(),
            "anchor_position": check.anchor,
            "expected_head": check.expected_head.map(|h| h.to_string()),
            "torn_tail": torn,
            "vault": check.vault,
            "checkpoints": check.checkpoints.iter().map(|(name, position)| serde_json::json!({"projection": name, "position": position})).collect::<Vec<_>>(),
            "calendar_warning": coverage.warning,
        });
        out.json_pretty(&envelope("verify", payload))?;
    } else {
        out.line(format!(
            "ok: {} events, head position {}, {} streams, {} bytes, chain head {}",
            report.events,
            report.head_position,
            report.streams,
            report.bytes,
            plaint::chain_hex(&report.chain_head)
        ))?;
        out.line(format!(
            "vault: {} live keys, {} erased, {} referenced by events, {} erasures recorded",
            check.vault.live_keys, check.vault.erased_keys, check.vault.referenced_keys, check.vault.erasures
        ))?;
        if let Some(anchor) = check.anchor {
            out.line(format!("the log reaches its head anchor (position {anchor})"))?;
        }
        if let Some(expected) = &check.expected_head {
            out.line(format!("the log reaches the expected head {expected}"))?;
        }
        if let Some(t) = &check.torn {
            out.line(format!(
                "note: a half-written final batch of {} bytes at {} byte offset {} was left in place \
                 (never acknowledged; `plaint repair` cuts it, as does the next writer)",
                t.bytes,
                t.file.display(),
                t.offset
            ))?;
        }
        for (path, why) in &check.unreadable_checkpoints {
            out.line(format!(
                "note: projection checkpoint {} does not load ({why}); the next writer rebuilds it",
                path.display()
            ))?;
        }
        out.line(format!("head {}", check.head))?;
        if let Some(w) = &coverage.warning {
            out.line(format!("warning: {w}"))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

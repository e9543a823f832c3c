//! `plaint verify`: re-read the whole log: checksums, positions, stream versions, hash chain.
//! Damage exits 1 and names the first damaged position or byte offset.

use crate::context::Context;
use crate::error::{user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::Args;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print JSON (docs/json-format.md, `verify`).
    #[arg(long)]
    pub json: bool,
}

const DAMAGE_HINT: &str = "the log was changed or damaged after it was written; keep a copy of the store \
directory, then restore from a backup or `plaint copy` the intact prefix";

pub async fn run(ctx: &Context, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut out = Out::new();
    // Damage can already stop the store from opening; that is a finding, not an internal error.
    let result = match ctx.open_engine_for_read(None).await {
        Ok(engine) => engine
            .verify()
            .await
            .map(|report| (report, engine.calendar_coverage()))
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    let (report, coverage) = match result {
        Ok(found) => found,
        Err(e) => {
            let Some(damage) = damage_of(&e) else { return Err(e) };
            if args.json {
                out.json_pretty(&envelope("verify", serde_json::json!({"ok": false, "damage": damage})))?;
                out.flush()?;
            }
            return Err(user_hint(format!("verify: {damage}"), DAMAGE_HINT));
        }
    };
    if args.json {
        let payload = serde_json::json!({
            "ok": true,
            "events": report.events,
            "head_position": report.head_position,
            "streams": report.streams,
            "bytes": report.bytes,
            "chain_head": plaint_store::chain::to_hex(&report.chain_head),
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
            plaint_store::chain::to_hex(&report.chain_head)
        ))?;
        if let Some(w) = &coverage.warning {
            out.line(format!("warning: {w}"))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// The store's own words on damage (corrupt frame at an offset, broken chain at a position).
fn damage_of(err: &anyhow::Error) -> Option<String> {
    use plaint_store::StoreError;
    err.chain().find_map(|cause| match cause.downcast_ref::<StoreError>() {
        Some(e @ (StoreError::Corrupt { .. } | StoreError::ChainBroken { .. })) => Some(e.to_string()),
        _ => None,
    })
}

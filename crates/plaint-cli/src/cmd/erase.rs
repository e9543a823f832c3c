//! `plaint erase CUSTOMER --by WHO --basis TEXT`: erase a customer's personal information
//! (crypto-shredding, docs/domain.md §9, PIPL art. 47). A `CustomerErased` audit event (who, when,
//! legal basis, which keys) is appended to the log, then the customer's keys are destroyed in
//! the store's vault. Every event still replays and every figure stays the same; the personal
//! fields read as erased from now on.

use crate::context::Context;
use crate::error::{user, user_hint, ExitCode};
use crate::output::Out;
use clap::Args;
use plaint::{Actor, ErasureRequest};

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The customer: a phone number or a customer id as given at intake (or the match key).
    pub customer: String,
    /// Who asks for the erasure (recorded as the audit event's actor), e.g. `dpo-1`.
    #[arg(long, value_name = "ACTOR")]
    pub by: String,
    /// The legal basis of the erasure (recorded in the audit event), e.g.
    /// `"PIPL art. 47 request 2026-118"`.
    #[arg(long, value_name = "TEXT")]
    pub basis: String,
}

pub async fn run(ctx: &Context, args: EraseArgs) -> anyhow::Result<ExitCode> {
    let actor = Actor::person(&args.by).map_err(|e| user(format!("erase: --by {:?}: {e}", args.by)))?;
    let engine = ctx.open_engine(None).await?;
    let request = ErasureRequest {
        actor,
        legal_basis: args.basis.clone(),
    };
    let erasure = engine.erase_customer(&args.customer, &request).await?;
    // Nothing recorded: the customer had no live key. (Once recorded, every key it names is
    // destroyed, here or by another process completing it first.)
    if erasure.position.is_none() {
        return Err(user_hint(
            format!("no key of customer {:?} to destroy", args.customer),
            "give the phone number or customer id as recorded at intake; an erased customer has no key left",
        ));
    }
    let mut out = Out::new();
    out.line(format!(
        "erased customer {:?}: {} key{} destroyed, recorded at position {} (by {}, basis {:?}); their personal fields now read as erased",
        args.customer,
        erasure.keys_destroyed,
        if erasure.keys_destroyed == 1 { "" } else { "s" },
        erasure.position.unwrap_or(0),
        args.by,
        args.basis.trim(),
    ))?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

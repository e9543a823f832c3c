//! `plaint erase CUSTOMER`: erase a customer's personal information by destroying their key
//! (crypto-shredding, DOMAIN.md §9). The log is not touched: every event still replays and every
//! figure stays the same; the personal fields read as erased from now on.

use crate::context::Context;
use crate::error::{user_hint, ExitCode};
use crate::output::Out;
use clap::Args;

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The customer: a phone number or a customer id as given at intake (or the match key).
    pub customer: String,
}

pub async fn run(ctx: &Context, args: EraseArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.open_engine(None).await?;
    let destroyed = engine.erase_customer(&args.customer)?;
    if destroyed == 0 {
        return Err(user_hint(
            format!("no key of customer {:?} to destroy", args.customer),
            "give the phone number or customer id as recorded at intake; an erased customer has no key left",
        ));
    }
    let mut out = Out::new();
    out.line(format!(
        "erased customer {:?}: {destroyed} key{} destroyed; their personal fields now read as erased",
        args.customer,
        if destroyed == 1 { "" } else { "s" }
    ))?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

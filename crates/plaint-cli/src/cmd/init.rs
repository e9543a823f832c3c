//! `plaint init`: create the store: the file-log directory, or with `--pg URL` the PostgreSQL
//! schema (an explicit, idempotent migration). Running it again changes nothing.

use crate::context::{open_engine_at, Access, Context};
use crate::error::ExitCode;
use crate::output::Out;
use clap::Args;

#[derive(Debug, Args)]
pub struct InitArgs {}

pub async fn run(ctx: &Context, _args: InitArgs) -> anyhow::Result<ExitCode> {
    let location = ctx.location();
    // Opening creates the directory, or migrates the schema; both are idempotent.
    let engine = open_engine_at(ctx, &location, None, Access::Create).await?;
    let stats = engine.stats().await?;
    let mut out = Out::new();
    out.line(format!(
        "initialised {} ({} events, head position {})",
        location.describe(),
        stats.events,
        stats.head_position
    ))?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

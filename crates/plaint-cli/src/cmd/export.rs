//! `plaint export`: every event of the log in position order, as JSON Lines, written by the
//! facade (`Engine::export_with`; the `event` shape of docs/json-format.md, the same records as
//! `history --json` and `audit --json`). Personal fields are not printed unless `--reveal`:
//! sealed fields appear as `{"key_id": …, "sealed": true}`.

use crate::context::Context;
use crate::error::ExitCode;
use clap::Args;
use plaint::{ExportOptions, Reveal};
use std::io::Write;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Start at this global position (1 = the beginning).
    #[arg(long, default_value_t = 1, value_name = "POSITION")]
    pub from_position: u64,
    /// Write the customers' personal fields in clear (for a caller allowed to see them) instead
    /// of the sealed marker; erased customers read `{"state": "erased"}`.
    #[arg(long)]
    pub reveal: bool,
}

pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let engine = ctx.open_engine_for_read(None).await?;
    let options = ExportOptions {
        from_position: args.from_position,
        reveal: if args.reveal { Reveal::Clear } else { Reveal::Masked },
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    engine.export_with(&mut out, &options).await?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

//! `plaint export`: every event of the log in position order, as JSON Lines (the `event` shape of
//! docs/json-format.md). Personal fields are not printed unless `--reveal`: sealed fields appear
//! as `{"key_id": …, "sealed": true}`.

use crate::context::Context;
use crate::error::ExitCode;
use crate::events::event_json;
use crate::output::Out;
use clap::Args;

/// Events read per store call while exporting.
const EXPORT_BATCH_MAX: usize = 10_000;

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
    let store = engine.store();
    let mut out = Out::new();
    let mut from = args.from_position.max(1);
    loop {
        let batch = store.read_all(from, EXPORT_BATCH_MAX).await?;
        let n = batch.len();
        for recorded in batch {
            from = recorded.position + 1;
            let event = plaint_projections::from_recorded_owned(recorded)?;
            let mut json = event_json(&event);
            if args.reveal {
                if let Some(personal) = json.pointer_mut("/data/customer/personal") {
                    *personal = serde_json::to_value(engine.personal_fields(&event, plaint::Reveal::Clear).await?)?;
                }
            }
            out.json_line(&json)?;
        }
        if n < EXPORT_BATCH_MAX {
            break;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

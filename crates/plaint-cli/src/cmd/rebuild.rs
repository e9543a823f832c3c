//! `plaint rebuild [--projection NAME]`: rebuild projections from the log, from empty, and save
//! their checkpoints. Progress bar on a terminal; events/s at the end (stderr).

use crate::context::Context;
use crate::error::{user_hint, ExitCode};
use crate::progress;
use clap::Args;
use plaint::engine::Progress;
use plaint::{Engine, RebuildTarget};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Rebuild only this projection: tickets, sla, repeats or analysis. Default: all.
    #[arg(long, value_name = "NAME")]
    pub projection: Option<String>,
}

pub async fn run(ctx: &Context, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.projection {
        // Checked before the store is opened: a typo costs nothing.
        if !Engine::projection_names().contains(&name.as_str()) {
            return Err(user_hint(
                format!("unknown projection {name:?}"),
                format!("projections are: {}", Engine::projection_names().join(", ")),
            ));
        }
    }
    let engine = ctx.open_engine(None).await?;
    let head = engine.head_position().await?;
    let bar = progress::bar(Some(head), "events");
    let mut on_progress = |p: Progress| bar.set_position(p.position);
    let (what, stats) = match &args.projection {
        None => (
            "all projections".to_owned(),
            engine.rebuild(RebuildTarget::Head, &mut on_progress).await?,
        ),
        Some(name) => (name.clone(), engine.rebuild_projection(name, &mut on_progress).await?),
    };
    bar.finish_and_clear();
    eprintln!(
        "rebuilt {what}: {} events up to position {} in {:.2} s ({:.0} events/s)",
        stats.events,
        stats.position,
        stats.elapsed.as_secs_f64(),
        stats.events_per_sec()
    );
    Ok(ExitCode::Ok)
}

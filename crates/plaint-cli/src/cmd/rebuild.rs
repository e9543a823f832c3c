//! `plaint rebuild [--projection NAME]`: rebuild projections from the log, from empty, and save
//! their checkpoints. Progress bar on a terminal; events/s at the end (stderr).

use crate::context::{checkpoint_dir, Context};
use crate::error::{user_hint, ExitCode};
use crate::progress;
use clap::Args;
use plaint::RebuildTarget;
use plaint_projections::runner::{ProjectionKind, ProjectionSet, Runner};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Rebuild only this projection: tickets, sla, repeats or analysis. Default: all.
    #[arg(long, value_name = "NAME")]
    pub projection: Option<String>,
}

pub async fn run(ctx: &Context, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let kind = match &args.projection {
        Some(name) => Some(ProjectionKind::from_name(name).ok_or_else(|| {
            let names: Vec<_> = ProjectionKind::ALL.iter().map(|k| k.name()).collect();
            user_hint(
                format!("unknown projection {name:?}"),
                format!("projections are: {}", names.join(", ")),
            )
        })?),
        None => None,
    };
    let engine = ctx.open_engine(None).await?;
    let head = engine.store().head_position().await?;
    let bar = progress::bar(Some(head), "events");
    let mut on_progress = |p: plaint_projections::runner::Progress| bar.set_position(p.position);
    let (what, stats) = match kind {
        None => (
            "all projections",
            engine.rebuild(RebuildTarget::Head, &mut on_progress).await?,
        ),
        Some(kind) => {
            // One projection: its own runner over the engine's store and checkpoint directory,
            // so the others keep their checkpoints.
            let dir = checkpoint_dir(ctx, &ctx.location());
            std::fs::create_dir_all(&dir)?;
            let mut runner = Runner::open(&dir, ProjectionSet::only(&[kind]))?;
            let stats = runner
                .rebuild(engine.store().as_ref(), RebuildTarget::Head, &mut on_progress)
                .await?;
            (kind.name(), stats)
        }
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

//! `plaint copy --from STORE --to STORE`: migrate a whole store between backends (file log ⇄
//! PostgreSQL, or file to file): every event with its position, stream version, timestamps and
//! payload (so the copy has the same hash chain), and the customer vault (match secret, keys,
//! erasures, links), so personal fields read the same in the copy. The target must be empty.
//! At the end both stores are verified, vaults included, and their counts, head positions and
//! chain heads compared. Runs through the facade ([`plaint::Engine::copy_into`]).

use crate::context::{engine_config_for, Access, Context, StoreLocation};
use crate::error::{internal_hint, user, user_hint, ExitCode};
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::Args;

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The source: a file-log directory or a postgres:// URL.
    #[arg(long, value_name = "STORE")]
    pub from: String,
    /// The target (must be empty): a file-log directory or a postgres:// URL.
    #[arg(long, value_name = "STORE")]
    pub to: String,
}

pub async fn run(ctx: &Context, args: CopyArgs) -> anyhow::Result<ExitCode> {
    let from = StoreLocation::parse(&args.from);
    let to = StoreLocation::parse(&args.to);
    if from == to {
        return Err(user("copy: --from and --to name the same store"));
    }
    if let StoreLocation::File(dir) = &from {
        if !dir.exists() {
            return Err(user_hint(
                format!("no store at {}", dir.display()),
                "--from must name an existing store",
            ));
        }
    }
    let source = plaint::Engine::open(engine_config_for(ctx, &from, None, Access::ReadOnly))
        .await
        .with_context(|| format!("cannot open the source {}", from.describe()))?;
    let target = plaint::Engine::open(engine_config_for(ctx, &to, None, Access::Create))
        .await
        .with_context(|| format!("cannot open the target {}", to.describe()))?;
    let target_head = target.stats().await?.head_position;
    if target_head > 0 {
        return Err(user_hint(
            format!("copy: the target {} already holds {target_head} events", to.describe()),
            "copy into an empty store: a new directory, or an empty database schema",
        ));
    }
    let head = source.stats().await?.head_position;
    let bar = progress::bar(Some(head), "events");
    let report = match source.copy_into(&target, &mut |position| bar.set_position(position)).await {
        Ok(report) => report,
        Err(e) if e.kind() == plaint::ErrorKind::Internal => {
            return Err(internal_hint(
                format!("copy from the {} to the {}: {e}", from.describe(), to.describe()),
                "the target may hold a partial copy: remove it (a new directory, or an empty schema) and run the copy again",
            ))
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "copy from the {} to the {}",
                from.describe(),
                to.describe()
            )))
        }
    };
    bar.finish_and_clear();
    let mut out = Out::new();
    out.line(format!(
        "copied {} events ({} streams, head position {}) and the vault ({} keys, {} links) from the {} to the {}; \
         chain head {} and vault verified on both",
        report.events,
        report.streams,
        report.head_position,
        report.keys,
        report.links,
        from.describe(),
        to.describe(),
        report.chain_head
    ))?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

//! `plaint copy --from STORE --to STORE`: migrate a whole log between stores (file log ⇄
//! PostgreSQL, or file to file), keeping every position, stream version, timestamp and payload,
//! so the copy has the same hash chain. The target must be empty. At the end both logs are
//! verified and their counts, head positions and chain heads compared.
//!
//! Customer keys are not part of the log; they live beside it (`<dir>/keys`). When the two stores
//! have different local directories, the key files are copied too (never overwriting one), so
//! personal fields stay readable in the copy.

use crate::context::{engine_config_for, Access, Context, StoreLocation};
use crate::error::{internal_hint, user, user_hint, ExitCode};
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::Args;
use plaint_store::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, APPEND_EVENTS_MAX};
use std::path::{Path, PathBuf};

/// Events read from the source per call.
const COPY_READ_MAX: usize = APPEND_EVENTS_MAX;

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
    let local_of = |loc: &StoreLocation| -> PathBuf {
        match loc {
            StoreLocation::File(dir) => dir.clone(),
            StoreLocation::Pg(_) => ctx.global.store.clone(),
        }
    };
    let source = plaint::Engine::open(engine_config_for(ctx, &from, None, Access::ReadOnly))
        .await
        .with_context(|| format!("cannot open the source {}", from.describe()))?;
    let target = plaint::Engine::open(engine_config_for(ctx, &to, None, Access::Create))
        .await
        .with_context(|| format!("cannot open the target {}", to.describe()))?;
    let (src, dst) = (source.store(), target.store());
    let target_head = dst.head_position().await?;
    if target_head > 0 {
        return Err(user_hint(
            format!("copy: the target {} already holds {target_head} events", to.describe()),
            "copy into an empty store: a new directory, or an empty database schema",
        ));
    }

    let head = src.head_position().await?;
    let bar = progress::bar(Some(head), "events");
    let mut next = 1u64;
    while next <= head {
        let batch = src.read_all(next, COPY_READ_MAX).await?;
        if batch.is_empty() {
            break;
        }
        let requests = requests_of(&batch);
        let results = dst.append_many(requests.clone()).await?;
        // Positions are assigned by the target; on an empty target in the same order they must
        // be the source's. Anything else is a bug or a concurrent writer: stop at once.
        let mut expected_first = next;
        for (request, result) in requests.iter().zip(&results) {
            let n = request.events.len() as u64;
            if result.first_position != expected_first || result.last_position != expected_first + n - 1 {
                return Err(internal_hint(
                    format!(
                        "copy: the target gave positions {}..={} to events at source positions {}..={}",
                        result.first_position,
                        result.last_position,
                        expected_first,
                        expected_first + n - 1
                    ),
                    "is another process writing to the target? remove the partial copy and start again",
                ));
            }
            expected_first += n;
        }
        next = batch.last().map_or(next, |e| e.position + 1);
        bar.set_position(next - 1);
    }
    bar.finish_and_clear();

    let keys_copied = copy_keys(&local_of(&from), &local_of(&to))?;
    let src_report = src.verify().await.context("verifying the source")?;
    let dst_report = dst.verify().await.context("verifying the copy")?;
    if (src_report.events, src_report.head_position, src_report.chain_head)
        != (dst_report.events, dst_report.head_position, dst_report.chain_head)
    {
        return Err(internal_hint(
            format!(
                "copy: the copy differs from the source: {} events, head {}, chain {} versus {} events, head {}, chain {}",
                dst_report.events,
                dst_report.head_position,
                plaint_store::chain::to_hex(&dst_report.chain_head),
                src_report.events,
                src_report.head_position,
                plaint_store::chain::to_hex(&src_report.chain_head)
            ),
            "the source changed during the copy, or a store is faulty; remove the copy and run it again",
        ));
    }
    let mut out = Out::new();
    out.line(format!(
        "copied {} events ({} streams, head position {}) from the {} to the {}; chain head {} verified on both; {keys_copied} key files copied",
        dst_report.events,
        dst_report.streams,
        dst_report.head_position,
        from.describe(),
        to.describe(),
        plaint_store::chain::to_hex(&dst_report.chain_head)
    ))?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// One append request per run of events sharing stream and command id (one original append),
/// expecting the stream version the source had before it.
fn requests_of(batch: &[RecordedEvent]) -> Vec<AppendRequest> {
    let mut requests: Vec<AppendRequest> = Vec::new();
    let mut last: Option<(&str, &str)> = None;
    for e in batch {
        let event = NewEvent {
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            occurred_at_ms: e.occurred_at_ms,
            recorded_at_ms: e.recorded_at_ms,
            actor: e.actor.clone(),
            command_id: e.command_id.clone(),
            payload: e.payload.clone(),
        };
        match (last, requests.last_mut()) {
            (Some((stream, command)), Some(request)) if stream == e.stream && command == e.command_id => {
                request.events.push(event)
            }
            _ => requests.push(AppendRequest {
                stream: e.stream.clone(),
                expected: ExpectedVersion::Exact(e.stream_version - 1),
                events: vec![event],
            }),
        }
        last = Some((&e.stream, &e.command_id));
    }
    requests
}

/// Copies the key store's files from `from/keys` to `to/keys`, never overwriting; returns how
/// many were copied.
fn copy_keys(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let (src, dst) = (from.join("keys"), to.join("keys"));
    if src == dst || !src.is_dir() {
        return Ok(0);
    }
    std::fs::create_dir_all(&dst).with_context(|| format!("cannot create {}", dst.display()))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(&src).with_context(|| format!("cannot read {}", src.display()))? {
        let entry = entry?;
        let target = dst.join(entry.file_name());
        if entry.file_type()?.is_file() && !target.exists() {
            std::fs::copy(entry.path(), &target).with_context(|| format!("cannot copy {}", entry.path().display()))?;
            std::fs::File::open(&target)?.sync_all()?;
            copied += 1;
        }
    }
    if copied > 0 {
        std::fs::File::open(&dst)?.sync_all()?;
    }
    Ok(copied)
}

//! Store maintenance through the facade: [`Engine::verify_store`] checks a store without
//! changing a byte of it, [`Engine::repair`] does the documented repairs and says what it did,
//! and the projection checkpoints are held to the log's head.
//!
//! A projection checkpoint records the log position it reflects. One that is ahead of the log's
//! head is evidence that the log lost events the projections had already seen (a truncated or
//! deleted segment, a restored older copy): it is reported as damage, never silently rebuilt
//! over, until an operator accepts the loss (`plaint repair --accept-loss`).

use crate::engine::{EngineConfig, StoreConfig};
use crate::VaultCoverage;
use crate::{Engine, EngineError};
use plaint_projections::checkpoint::{self, checkpoint_path};
use plaint_projections::runner::ProjectionKind;
use plaint_projections::shared::SHARED_NAME;
use plaint_store::chain::{chain_next, HeadMark, CHAIN_GENESIS};
use plaint_store::file::{FileLog, FileLogOptions, Recovery, TornTail};
use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::vault::VaultStore;
use plaint_store::{EventStore, StoreError, VerifyReport};
use std::path::{Path, PathBuf};

/// The checkpoints that live in a store's `projections` directory: every projection the runner
/// knows and the set's shared record (issue 13, wave 11), which is saved first and so is the
/// file most likely to be ahead of the log.
fn checkpoint_names() -> impl Iterator<Item = &'static str> {
    ProjectionKind::ALL
        .into_iter()
        .map(ProjectionKind::name)
        .chain(std::iter::once(SHARED_NAME))
}

/// Events read per call when recomputing the chain up to an expected head.
const CHAIN_READ_BATCH: usize = 10_000;

/// What [`Engine::verify_store`] found on a sound store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreCheck {
    /// The log's own verification (events, streams, bytes, chain head).
    pub report: VerifyReport,
    /// The head, in the form an auditor records and `--expect-head` checks.
    pub head: HeadMark,
    /// The head anchor the log was checked against (file log; `None` before format version 2).
    pub anchor: Option<u64>,
    /// A half-written final batch left in place (never acknowledged; `plaint repair` or the
    /// next writer cuts it).
    pub torn: Option<TornTail>,
    /// The expected head that was checked, if one was given.
    pub expected_head: Option<HeadMark>,
    /// Projection checkpoints found, with the position each reflects (none is ahead of the head).
    pub checkpoints: Vec<(String, u64)>,
    /// Projection checkpoints that do not load (derived data: rebuilt by the next writer), with
    /// why.
    pub unreadable_checkpoints: Vec<(PathBuf, String)>,
    /// The vault's check (every record, every key an event references, every recorded erasure;
    /// the same as [`Engine::verify_vault`]).
    pub vault: VaultCoverage,
}

/// What [`Engine::repair`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// The half-written final batch cut off, if there was one.
    pub torn_cut: Option<TornTail>,
    /// With [`Recovery::AcceptLostTail`]: the loss of acknowledged events that was accepted
    /// (the log was re-anchored at its actual head).
    pub lost_tail: Option<String>,
    /// Projection checkpoints removed because they were ahead of the log (accepted loss only),
    /// with the position each reflected; the projections rebuild from the log on the next read.
    pub discarded_checkpoints: Vec<(String, u64)>,
    /// The head after the repair.
    pub head: HeadMark,
}

impl Engine {
    /// Verifies the store `cfg` names without changing it: the file log is opened read-only
    /// (no lock taken, no recovery cut, no file created), every byte of it re-read (checksums,
    /// positions, versions, the hash chain, the head anchor), the projection checkpoints are
    /// held to its head, and, when `expect_head` is given, the log must reach that head with
    /// the same chain value. Runs beside a writer. Damage is an error of kind
    /// [`crate::ErrorKind::Damaged`].
    pub async fn verify_store(cfg: &EngineConfig, expect_head: Option<HeadMark>) -> Result<StoreCheck, EngineError> {
        match &cfg.store {
            StoreConfig::File { dir, .. } => {
                if !dir.is_dir() {
                    return Err(EngineError::bad_input(
                        "store",
                        format!("{} is not a directory holding a file log", dir.display()),
                    ));
                }
                let options = FileLogOptions {
                    read_only: true,
                    ..FileLogOptions::default()
                };
                let log = FileLog::open(dir, options)?;
                let mut check = verify_on(&log, dir, expect_head).await?;
                check.anchor = log.open_report().anchor.map(|a| a.head_position);
                check.torn = log.open_report().torn.clone();
                Ok(check)
            }
            StoreConfig::Postgres {
                url, schema, local_dir, ..
            } => {
                let store = PgStore::connect(url, PgOptions::with_schema(schema)).await?;
                verify_on(&store, local_dir, expect_head).await
            }
        }
    }

    /// Repairs the store `cfg` names. The file log, taking the writer lock: cuts a half-written
    /// final batch (never acknowledged; `docs/log-format.md`, recovery rule) and says what it
    /// cut. A store that lost acknowledged events (the file log does not reach its head anchor,
    /// or projection checkpoints are ahead of the log) is refused with [`Recovery::Strict`] and
    /// nothing is changed; with [`Recovery::AcceptLostTail`] the file log is re-anchored at its
    /// actual head and the checkpoints ahead of the log are removed, and the report says what
    /// was lost. On PostgreSQL (which recovers its own tables) only the checkpoints are held to
    /// the head.
    pub async fn repair(cfg: &EngineConfig, recovery: Recovery) -> Result<RepairReport, EngineError> {
        match &cfg.store {
            StoreConfig::File { dir, durability, .. } => repair_file(dir, *durability, recovery).await,
            StoreConfig::Postgres {
                url, schema, local_dir, ..
            } => {
                let store = PgStore::connect(url, PgOptions::with_schema(schema)).await?;
                let report = store.verify().await?;
                let head = HeadMark {
                    position: report.head_position,
                    chain: report.chain_head,
                };
                let discarded = hold_checkpoints_to(&local_dir.join("projections"), head.position, recovery)?;
                Ok(RepairReport {
                    torn_cut: None,
                    lost_tail: None,
                    discarded_checkpoints: discarded,
                    head,
                })
            }
        }
    }
}

async fn repair_file(
    dir: &Path,
    durability: crate::Durability,
    recovery: Recovery,
) -> Result<RepairReport, EngineError> {
    if !dir.is_dir() {
        return Err(EngineError::bad_input(
            "store",
            format!("{} is not a directory holding a file log", dir.display()),
        ));
    }
    let projections = dir.join("projections");
    // First look without changing anything: refuse before the first byte is touched.
    let look = FileLog::open(
        dir,
        FileLogOptions {
            read_only: true,
            recovery,
            ..FileLogOptions::default()
        },
    )?;
    if recovery == Recovery::Strict {
        let (checkpoints, _) = checkpoint_positions(&projections);
        check_not_ahead(&projections, &checkpoints, look.head().position)?;
    }
    drop(look);
    let log = FileLog::open(
        dir,
        FileLogOptions {
            durability,
            recovery,
            ..FileLogOptions::default()
        },
    )?;
    let head = log.head();
    let report = log.open_report().clone();
    let discarded = hold_checkpoints_to(&projections, head.position, recovery)?;
    log.close().await?;
    Ok(RepairReport {
        torn_cut: report.torn,
        lost_tail: report.lost_tail,
        discarded_checkpoints: discarded,
        head,
    })
}

/// Checkpoints in `dir` ahead of `head`: damage with [`Recovery::Strict`]; removed (and
/// returned) when the loss is accepted — every checkpoint of the set when the shared record is
/// one of them.
fn hold_checkpoints_to(dir: &Path, head: u64, recovery: Recovery) -> Result<Vec<(String, u64)>, EngineError> {
    let (checkpoints, _) = checkpoint_positions(dir);
    if recovery == Recovery::Strict {
        check_not_ahead(dir, &checkpoints, head)?;
        return Ok(Vec::new());
    }
    // The projections' states are read through the shared record: when it is ahead, none of
    // them can be kept without it (the next writer rebuilds them all from the log).
    let record_ahead = checkpoints.iter().any(|(name, p)| name == SHARED_NAME && *p > head);
    let mut discarded = Vec::new();
    for (name, position) in checkpoints {
        if position > head || record_ahead {
            let path = checkpoint_path(dir, &name);
            std::fs::remove_file(&path).map_err(|source| EngineError::Io { path, source })?;
            discarded.push((name, position));
        }
    }
    Ok(discarded)
}

/// Verifies `store` and holds the checkpoints under `local` to its head.
async fn verify_on<S: VaultStore>(
    store: &S,
    local: &Path,
    expect_head: Option<HeadMark>,
) -> Result<StoreCheck, EngineError> {
    let report = store.verify().await?;
    let head = HeadMark {
        position: report.head_position,
        chain: report.chain_head,
    };
    if let Some(expected) = expect_head {
        check_expected_head(store, &head, &expected).await?;
    }
    let projections = local.join("projections");
    let (checkpoints, unreadable_checkpoints) = checkpoint_positions(&projections);
    check_not_ahead(&projections, &checkpoints, head.position)?;
    let vault = crate::engine::vault_ops::verify_vault_on(store, store).await?;
    Ok(StoreCheck {
        report,
        head,
        anchor: None,
        torn: None,
        expected_head: expect_head,
        checkpoints,
        unreadable_checkpoints,
        vault,
    })
}

/// A checkpoint file that does not load, and why.
type Unreadable = (PathBuf, String);

/// The position of every projection checkpoint in `dir` that loads, and the ones that do not.
/// Reads only.
pub(crate) fn checkpoint_positions(dir: &Path) -> (Vec<(String, u64)>, Vec<Unreadable>) {
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    for name in checkpoint_names() {
        match checkpoint::load_bytes(dir, name) {
            Ok(Some((position, _))) => found.push((name.to_owned(), position)),
            Ok(None) => {}
            Err(e) => unreadable.push((checkpoint_path(dir, name), e.to_string())),
        }
    }
    (found, unreadable)
}

/// Damage when a checkpoint reflects more of the log than the log holds.
pub(crate) fn check_not_ahead(dir: &Path, checkpoints: &[(String, u64)], head: u64) -> Result<(), EngineError> {
    match checkpoints.iter().find(|(_, position)| *position > head) {
        Some((name, position)) => Err(EngineError::CheckpointAhead {
            path: checkpoint_path(dir, name),
            position: *position,
            head,
        }),
        None => Ok(()),
    }
}

/// The log must reach `expected` with the same chain value there.
async fn check_expected_head(store: &dyn EventStore, head: &HeadMark, expected: &HeadMark) -> Result<(), EngineError> {
    if expected.position > head.position {
        let missing = (head.position + 1, expected.position);
        return Err(EngineError::HeadMismatch {
            expected: *expected,
            detail: format!(
                "the log ends at position {}, before the expected head: events {}..={} are missing",
                head.position, missing.0, missing.1
            ),
            missing: Some(missing),
        });
    }
    let chain = if expected.position == head.position {
        head.chain
    } else {
        chain_at(store, expected.position).await?
    };
    if chain != expected.chain {
        return Err(EngineError::HeadMismatch {
            expected: *expected,
            detail: format!(
                "the chain value at position {} is {}: the log's history up to there differs from \
                 the one recorded",
                expected.position,
                plaint_store::chain::to_hex(&chain)
            ),
            missing: None,
        });
    }
    Ok(())
}

/// The chain value after `position`, recomputed from the start of the log.
async fn chain_at(store: &dyn EventStore, position: u64) -> Result<plaint_store::chain::ChainHash, EngineError> {
    let mut chain = CHAIN_GENESIS;
    let mut next = 1;
    while next <= position {
        let want = CHAIN_READ_BATCH.min((position - next + 1) as usize);
        let events = store.read_all(next, want).await?;
        if events.is_empty() {
            return Err(StoreError::Corrupt {
                file: "log".into(),
                offset: 0,
                detail: format!("position {next} is not readable"),
            }
            .into());
        }
        for e in &events {
            chain = chain_next(&chain, e);
            next = e.position + 1;
        }
    }
    Ok(chain)
}

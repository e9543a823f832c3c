//! The [`Engine`]: what a back office embeds. It opens a store, turns commands into committed
//! events through the domain's `decide`, keeps the projections current for reads, runs the SLA
//! watchdog, and owns the customer key store.
//!
//! Flow of one command ([`Engine::execute`]): read the complaint's stream, fold it with
//! `evolve` (or take the state from the engine's cache; a `receive` of a complaint the cache
//! does not hold is decided on an empty state, the append's expected version 0 checking it), look up (or create) the customer key when the command carries personal fields,
//! read the customer's earlier complaints from the repeat projection when the command is a
//! verification or a classification (the domain's repeat rule judges them, docs/domain.md §8),
//! `decide_with` with `now` from the engine's clock, then append with the expected stream
//! version. A concurrency
//! conflict (another writer appended to the same complaint meanwhile) reruns all of that, at most
//! [`EngineConfig::conflict_retries_max`] times. A command whose id the complaint already holds
//! returns the original events with `deduplicated: true` and writes nothing.
//!
//! Time: the engine reads its [`Clock`] for the recording time (`now`) of every command; the
//! domain and the projections never read the wall clock. Tests and replays inject a fixed clock.

use crate::error::EngineError;
use crate::personal::{self, PersonalFields, Reveal};
use plaint_domain::calendar::Calendar;
use plaint_domain::personal::CustomerKey;
use plaint_domain::personal::{match_key, MatchSecret};
use plaint_domain::policy::Policy;
use plaint_domain::repeat::PriorComplaints;
use plaint_domain::repeat::{self, Candidate, CustomerRef, PriorComplaint, RepeatVerdict};
use plaint_domain::sla::TicketSla;
use plaint_domain::state::{decide_prepared, decide_with, evolve, ComplaintState, Context, Rejection};
use plaint_domain::{
    Actor, Command, CommandBody, CommandId, ComplaintId, CustomerInput, Escalate, Event, EventData, SealedPersonal,
    Timestamp,
};
use plaint_projections::analysis::{AlertsReport, HeatMap, WeeklyReport};
use plaint_projections::repeats::RepeatReport;
use plaint_projections::runner::{ProjectionKind, ProjectionSet, RebuildTarget, RunStats, Runner};
use plaint_projections::sla::{AtRiskList, GroupBy, SlaReport};
use plaint_projections::util::{IsoWeek, Month};
use plaint_projections::{from_recorded_owned, to_new_event, TicketView};
use plaint_store::file::FileLog;
use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::vault::{Vault, VaultStore, VaultWrite};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, StoreError, VerifyReport, APPEND_EVENTS_MAX};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use plaint_projections::runner::Progress;

#[path = "engine_casework.rs"]
mod engine_casework;
#[path = "engine_vault.rs"]
pub(crate) mod vault_ops;
pub use vault_ops::{CopyReport, Erasure, ErasureRequest, PreparedCommand, VaultCoverage, LEGAL_BASIS_LEN_MAX};

#[path = "engine_cache.rs"]
mod state_cache;
use state_cache::{StateCache, Stripes};
#[path = "engine_priors.rs"]
mod batch_priors;
use batch_priors::{BatchPriors, Before};

#[path = "engine_access.rs"]
pub(crate) mod access_ops;

#[path = "engine_repeat_index.rs"]
mod repeat_index;
use repeat_index::{JudgeRead, JudgedAt};

#[path = "engine_watch.rs"]
mod watch;
pub use access_ops::{NewToken, RevealRequest};
pub use watch::WATCHED_STREAMS_MAX;

/// Events read per store call when the engine scans a stream or the log.
const READ_BATCH: usize = 16_384;

/// Events [`Engine::catch_up`] folds per hold of the projections' lock (≈ 0.5 ms of folding).
const CATCH_UP_SLICE: usize = 512;

/// Default for [`EngineConfig::conflict_retries_max`].
pub const CONFLICT_RETRIES_DEFAULT: u32 = 8;
/// Most times a command (or a batch) is decided again because a key it sealed under was erased
/// by another process before it could commit (`StoreError::KeyErased`): the next decision finds
/// no live key and seals under a new one, so once is the rule; past this the error is returned.
pub const KEY_ERASED_RETRIES_MAX: u32 = 4;
/// Most commands in one [`Engine::execute_batch`] call. Each command yields at most
/// [`plaint_domain::state::EVENTS_PER_COMMAND_MAX`] events (three: a revisit that reopens and
/// escalates), so a full batch stays within the store's [`APPEND_EVENTS_MAX`] per `append_many`.
pub const BATCH_COMMANDS_MAX: usize = APPEND_EVENTS_MAX / plaint_domain::state::EVENTS_PER_COMMAND_MAX as usize;

/// Most complaint states the engine keeps cached between commands (about 1 KiB each, boxed; the
/// cache's table is made whole at its first put: `engine_cache.rs`).
pub const STATE_CACHE_ENTRIES_MAX: usize = 100_000;
/// Most events [`Engine::audit`] returns in one call.
pub const AUDIT_EVENTS_MAX: usize = 1_000_000;

/// Where "now" comes from. The engine calls it once per command (and per read that needs it
/// when the caller gives none).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock (UTC, milliseconds).
pub fn system_clock() -> Clock {
    Arc::new(|| Timestamp::from_datetime(chrono::Utc::now()))
}

/// A clock stopped at `t`: for tests, replays and demos.
///
/// ```
/// use plaint::engine::fixed_clock;
/// use plaint::domain::Timestamp;
/// let c = fixed_clock(Timestamp::from_millis(42));
/// assert_eq!(c(), Timestamp::from_millis(42));
/// ```
pub fn fixed_clock(t: Timestamp) -> Clock {
    Arc::new(move || t)
}

pub use plaint_store::file::Durability;

/// Which store the engine runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreConfig {
    /// The embedded file log in `dir` (created if missing). Its customer vault is
    /// `dir/vault.pvlt`, projection checkpoints live in `dir/projections`. `durability`: [`Durability::Always`] acknowledges an
    /// append only once it is fsynced (the default); `Bulk` trades that for speed in bulk loads.
    /// `read_only` opens without the writer lock (inspection, `verify`, `export` beside a
    /// running writer); commands then fail.
    File {
        /// The log's directory.
        dir: PathBuf,
        /// When an append is acknowledged relative to `fdatasync`.
        durability: Durability,
        /// Open without the writer lock; commands fail.
        read_only: bool,
    },
    /// PostgreSQL at `url`, tables in `schema` (created or upgraded on open), the customer
    /// vault included. Projection checkpoints live in the local directory `local_dir`.
    Postgres {
        /// Connection URL, e.g. `postgres://plaint:plaint@127.0.0.1:5432/plaint`.
        url: String,
        /// The schema holding the tables.
        schema: String,
        /// Local directory for projection checkpoints.
        local_dir: PathBuf,
    },
}

/// Everything [`Engine::open`] needs. Start from [`EngineConfig::file`] and adjust fields.
///
/// ```
/// use plaint::{EngineConfig, StoreConfig};
/// let cfg = EngineConfig::file("/var/lib/plaint");
/// assert!(matches!(cfg.store, StoreConfig::File { .. }));
/// assert_eq!(cfg.conflict_retries_max, 8);
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    /// Which store, and where.
    pub store: StoreConfig,
    /// The service-level, routing and compensation policy (docs/domain.md: routing R-RTE, compensation R-COMP, SLA R-SLA, escalation R-ESC).
    pub policy: Policy,
    /// The business calendar for working-day deadlines.
    pub calendar: Calendar,
    /// Where `now` comes from (the wall clock by default).
    pub clock: Clock,
    /// How often a command is retried after a concurrency conflict before giving up.
    pub conflict_retries_max: u32,
    /// Keep projection checkpoints on disk (faster start on a large log). On by default.
    pub checkpoints: bool,
    /// With [`StoreConfig::Postgres`]: the URL of a replica (a hot standby of the same database)
    /// that projections, reports, audits and exports read from, sparing the primary. Commands
    /// still read their complaint's stream from, and write to, the primary; the projections
    /// they consult (the repeat judgement at verification) lag by the replica's lag. See
    /// [`Engine::replica_lag`]. `None` (the default): everything reads from the store.
    pub pg_read: Option<String>,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("store", &self.store)
            .field("policy", &self.policy.version)
            .field("conflict_retries_max", &self.conflict_retries_max)
            .field("checkpoints", &self.checkpoints)
            .field("pg_read", &self.pg_read.is_some())
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// The embedded file log in `dir`, fsync on every append, the default policy, the China
    /// mainland calendar, the wall clock.
    pub fn file(dir: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            store: StoreConfig::File {
                dir: dir.into(),
                durability: Durability::Always,
                read_only: false,
            },
            policy: Policy::default(),
            calendar: Calendar::china_mainland(),
            clock: system_clock(),
            conflict_retries_max: CONFLICT_RETRIES_DEFAULT,
            checkpoints: true,
            pg_read: None,
        }
    }

    /// PostgreSQL at `url` (schema `plaint`), with checkpoints in `local_dir`.
    pub fn postgres(url: impl Into<String>, local_dir: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            store: StoreConfig::Postgres {
                url: url.into(),
                schema: "plaint".to_owned(),
                local_dir: local_dir.into(),
            },
            ..EngineConfig::file(PathBuf::new())
        }
    }

    /// The same configuration with another clock.
    pub fn with_clock(mut self, clock: Clock) -> EngineConfig {
        self.clock = clock;
        self
    }

    /// The directory holding checkpoints (and a legacy `keys/keys.log` to import).
    fn local_dir(&self) -> &Path {
        match &self.store {
            StoreConfig::File { dir, .. } => dir,
            StoreConfig::Postgres { local_dir, .. } => local_dir,
        }
    }
}

/// What one command did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Executed {
    /// The complaint the command addressed.
    pub complaint_id: ComplaintId,
    /// The command's id.
    pub command_id: CommandId,
    /// The committed events (with their positions). Empty when the command was accepted but had
    /// nothing to record (a watchdog escalation that is not due, or already applied).
    pub events: Vec<Event>,
    /// `true` when the command id had been executed before: `events` are the original ones and
    /// nothing was written.
    pub deduplicated: bool,
    /// The complaint's stream version after the command.
    pub stream_version: u64,
}

/// What happened to one command of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Committed: events at positions `first_position..=last_position`.
    Committed {
        /// Position of the command's first event.
        first_position: u64,
        /// Position of the command's last event.
        last_position: u64,
    },
    /// Accepted with nothing to record.
    NoOp,
    /// Its command id had been executed before; nothing written.
    Deduplicated,
    /// Refused by the domain; nothing written for it. The reason as text.
    Rejected {
        /// The domain's typed rejection.
        #[serde(skip)]
        rejection: plaint_domain::state::Rejection,
        /// The rejection as text (what JSON output shows).
        reason: String,
    },
}

/// What [`Engine::execute_batch`] did, one outcome per command, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchOutcome {
    /// One outcome per input command, in input order.
    pub outcomes: Vec<CommandOutcome>,
    /// Commands whose events were committed.
    pub committed: usize,
    /// Commands recognised by their id as executed before.
    pub deduplicated: usize,
    /// Commands the domain refused.
    pub rejected: usize,
    /// Events written by this batch.
    pub events: usize,
    /// The log's last committed position after the batch: the position of the batch's last
    /// committed event (the head is at least that: other writers may have appended in the same
    /// commit or since), or the head read from the store when the batch committed nothing.
    pub head_position: u64,
    /// One per outcome: the complaint's stream version after the command (for a rejected
    /// command, the version it was refused at; 0 for a reserved stream, never read). What
    /// `execute` answers as [`Executed::stream_version`], so a caller that groups single
    /// commands into one batch (`plaint serve`) answers each as `execute` would.
    #[serde(skip)]
    pub stream_versions: Vec<u64>,
}

impl BatchOutcome {
    /// Input indexes and reasons of the rejected commands.
    pub fn rejections(&self) -> impl Iterator<Item = (usize, &plaint_domain::state::Rejection)> {
        self.outcomes.iter().enumerate().filter_map(|(i, o)| match o {
            CommandOutcome::Rejected { rejection, .. } => Some((i, rejection)),
            _ => None,
        })
    }
}

/// The domain's decision of one command: its events, or why it was refused.
type Decision = Result<Vec<Event>, Rejection>;

/// A command as a batch decides it: as it is, or prepared ahead ([`Engine::prepare`]).
trait BatchCommand: Sync {
    /// The command.
    fn command(&self) -> &Command;
    /// The domain's decision of it (`decide_with`, or `decide_prepared`).
    fn decide(&self, state: &ComplaintState, ctx: &Context, priors: &dyn PriorComplaints) -> Decision;
    /// A new key made ahead for it by `engine`'s vault, if any.
    fn proposed_key(&self, engine: &Engine) -> Option<&CustomerKey>;
    /// The owner of its customer's key under `engine`'s match secret (`key_owner_of`), found
    /// once for a command `engine` prepared.
    fn key_owner(&self, engine: &Engine) -> Option<std::borrow::Cow<'_, str>>;
}

/// A number no other engine of this process has (its [`Engine`]'s `instance`).
fn next_instance() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl BatchCommand for Command {
    fn command(&self) -> &Command {
        self
    }
    fn decide(&self, state: &ComplaintState, ctx: &Context, priors: &dyn PriorComplaints) -> Decision {
        decide_with(state, self, ctx, priors)
    }
    fn proposed_key(&self, _: &Engine) -> Option<&CustomerKey> {
        None
    }
    fn key_owner(&self, engine: &Engine) -> Option<std::borrow::Cow<'_, str>> {
        vault_ops::key_owner_of(&engine.match_secret, self).map(std::borrow::Cow::Owned)
    }
}

impl BatchCommand for PreparedCommand {
    fn command(&self) -> &Command {
        PreparedCommand::command(self)
    }
    fn decide(&self, state: &ComplaintState, ctx: &Context, priors: &dyn PriorComplaints) -> Decision {
        decide_prepared(state, self.domain(), ctx, priors)
    }
    /// A proposal made against another engine's vault is none here (that vault, not this
    /// one, had no key for the customer).
    fn proposed_key(&self, engine: &Engine) -> Option<&CustomerKey> {
        self.proposal().filter(|_| self.prepared_by() == engine.instance)
    }
    /// One comparison: the owner found at preparation when `engine` prepared the command, else
    /// found again under `engine`'s match secret (another engine's secret names another owner,
    /// and a key recorded under it could never be erased through this engine).
    fn key_owner(&self, engine: &Engine) -> Option<std::borrow::Cow<'_, str>> {
        if self.prepared_by() == engine.instance {
            PreparedCommand::key_owner(self).map(std::borrow::Cow::Borrowed)
        } else {
            vault_ops::key_owner_of(&engine.match_secret, self.command()).map(std::borrow::Cow::Owned)
        }
    }
}

/// A batch's result with its committed events ([`Engine::tick`] returns them).
struct BatchRun {
    outcome: BatchOutcome,
    /// For each committed command: its outcome index and its events, with their positions.
    committed: Vec<(usize, Vec<Event>)>,
}

/// Where the state a command is decided on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateSource {
    /// The engine's cache: may be stale when another process wrote.
    Cached,
    /// Assumed empty for a command that opens a complaint: the append's expected version 0 checks it.
    AssumedNew,
    /// The stream, read from the store.
    Read,
}

/// What [`Engine::execute`] knows of a complaint before it decides.
// The state is the common case and is moved once into the caller; boxing it to even out the
// variants would cost an allocation per command.
#[allow(clippy::large_enum_variant)]
enum Known {
    /// The state to decide on, where it came from, and the cache's key when it came from the
    /// cache (to put it back under without copying the id).
    /// Boxed as the cache keeps it (`engine_cache.rs`): moved in and out without a copy.
    State(Box<ComplaintState>, StateSource, Option<ComplaintId>),
    /// The command is a retry of one the stream holds: the answer, nothing to decide.
    Retry(Executed),
}

/// The states of a batch's complaints. foldhash, as the state cache (`engine_cache.rs`): a
/// map of one batch, bounded by its [`BATCH_COMMANDS_MAX`] commands, that no answer depends on
/// the order of.
type BatchStates = HashMap<ComplaintId, BatchState, foldhash::fast::RandomState>;

/// A complaint's state during a batch.
struct BatchState {
    /// Boxed as the cache keeps it: taken from it and put back without a copy.
    state: Box<ComplaintState>,
    /// It had events before the batch.
    existed: bool,
    /// Not read from the store: taken from the engine's cache, or assumed empty for a command
    /// that opens a complaint (either may be stale if another process wrote).
    from_cache: bool,
    /// One of its requests was answered as already committed (by another writer).
    deduplicated: bool,
}

/// A ticket as a read shows it: the projection's view plus the customer's personal fields
/// (masked unless revealed, erased after erasure).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// The ticket projection's view (JSON: its fields inline).
    #[serde(flatten)]
    pub view: TicketView,
    /// The customer's personal fields as this read may show them.
    pub personal: PersonalFields,
}

/// Filter of [`Engine::audit`]. Every bound is optional; `from` is inclusive, `to` exclusive,
/// both on business time (`occurred_at`) unless `by_recorded_time` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events at or after this instant.
    pub from: Option<Timestamp>,
    /// Only events before this instant.
    pub to: Option<Timestamp>,
    /// Only events by this actor (`system` for the watchdog and imports).
    pub actor: Option<String>,
    /// Only events of this complaint.
    pub complaint: Option<ComplaintId>,
    /// Filter on the recording time instead of the business time.
    pub by_recorded_time: bool,
    /// Stop after this many events (at most [`AUDIT_EVENTS_MAX`]; 0 means that maximum).
    pub limit: usize,
}

/// What [`Engine::tick`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickOutcome {
    /// The instant escalations were judged at.
    pub now: Timestamp,
    /// Open tickets checked.
    pub checked: usize,
    /// The escalations appended by this tick (each planned rung at most once per ticket, ever).
    pub escalated: Vec<Event>,
}

/// Size figures of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The last committed global position (0 on an empty log).
    pub head_position: u64,
    /// Events in the log (positions are gapless from 1, so this equals `head_position`).
    pub events: u64,
    /// Complaints (streams) in the log.
    pub streams: u64,
    /// Bytes on disk of the log (file log: its segments up to the committed head, keys,
    /// checkpoints and the open segment's pre-written zeros excluded); `None` for PostgreSQL.
    pub bytes: Option<u64>,
    /// The head with its chain value, `POSITION:CHAIN`, as an auditor records it (`plaint
    /// verify --expect-head`); the file log only (`None` for PostgreSQL).
    pub head: Option<plaint_store::chain::HeadMark>,
}

/// How far the business calendar's holiday data reaches (issue 11), judged at the engine's
/// clock: `plaint stats` and `plaint verify` show `warning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarCoverage {
    /// The calendar's name.
    pub calendar: String,
    /// The years with holiday data.
    pub years: Vec<i32>,
    /// The last covered date (31 December of the last year), as `YYYY-MM-DD`.
    pub last_covered: Option<String>,
    /// Set when the data ends within the policy's `calendar.expiry_warning` (or has ended):
    /// names the last covered date and the file to add.
    pub warning: Option<String>,
}

impl CalendarCoverage {
    /// How far `calendar`'s holiday data reaches at `now`, with the warning to show when it runs
    /// out within `policy`'s `calendar.expiry_warning` (issue 11).
    pub fn at(policy: &Policy, calendar: &Calendar, now: Timestamp) -> CalendarCoverage {
        let warn_ms = policy
            .calendar
            .expiry_warning
            .fixed_millis()
            .expect("validated: calendar.expiry_warning has a calendar unit");
        CalendarCoverage {
            calendar: calendar.name().to_owned(),
            years: calendar.covered_years().collect(),
            last_covered: calendar.last_covered_date().map(|d| d.to_string()),
            warning: calendar.expiry_warning(now, warn_ms),
        }
    }
}

/// Result of a verification: the store's report on checksums, positions and the hash chain.
pub type VerifyOutcome = VerifyReport;

/// The complaint engine. Cheap to share: wrap it in an `Arc` and call it from many tasks.
///
/// ```
/// use plaint::{Engine, EngineConfig};
/// use plaint::domain::*;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
/// let cmd: Command = serde_json::from_str(r#"{
///     "command_id": "c-1", "complaint_id": "CMP-1", "actor": "cs-001",
///     "command": "receive", "channel": "hotline", "region": "上海",
///     "description": "快递显示已签收但本人未收到，运单号 SF1234567890，要求核实",
///     "customer": {"name": "张三", "phone": "+86 138-0013-8000"}
/// }"#).unwrap();
/// let done = engine.execute(cmd.clone()).await.unwrap();
/// assert_eq!(done.events.len(), 1);
/// assert!(engine.execute(cmd).await.unwrap().deduplicated); // same command id: nothing new
/// let ticket = engine.ticket(&ComplaintId::new("CMP-1").unwrap(), Default::default()).await.unwrap();
/// assert_eq!(ticket.view.region, "上海");
/// # });
/// ```
pub struct Engine {
    store: Arc<dyn EventStore>,
    policy: Policy,
    calendar: Calendar,
    clock: Clock,
    /// The customer vault: the same backend object as `store`.
    vault: Arc<dyn Vault>,
    /// The vault's match secret, read once at open.
    match_secret: MatchSecret,
    /// This engine among the engines of the process ([`next_instance`]): a prepared command
    /// carries the one that prepared it, so another engine does not trust its key owner.
    instance: u64,
    /// The note of a legacy key file imported at open.
    vault_migration: Option<String>,
    runner: tokio::sync::Mutex<Runner>,
    /// Per-complaint turn-taking for `execute` (striped by a hash of the complaint id).
    stripes: Stripes,
    /// The state of recently written complaints (see `engine_cache.rs`).
    states: StateCache,
    conflict_retries_max: u32,
    log_dir: Option<PathBuf>,
    checkpoint_dir: Option<PathBuf>,
    /// The file log by its concrete type, to close it cleanly.
    file_log: Option<Arc<FileLog>>,
    /// Opened read-only: no commands, no checkpoints written.
    read_only: bool,
    /// The replica projections and reports read from ([`EngineConfig::pg_read`]).
    replica: Option<Arc<PgStore>>,
    /// Committed events the repeat projection has not folded yet (see `engine_repeat_index.rs`).
    parked: repeat_index::Parked,
    /// Set when a fold of the repeat projection panicked: judgements are refused (see
    /// `engine_repeat_index.rs`).
    repeats_halt: repeat_index::RepeatsHalt,
    /// How the command path's catch-up reads find the log's end (see `engine_repeat_index.rs`).
    log_end: repeat_index::LogEnd,
    /// Commands running now: a judgement skips its read only when its command runs alone
    /// (see `engine_repeat_index.rs`).
    in_flight: repeat_index::InFlight,
    /// Judgements that must read after a refused append at a head (`engine_repeat_index.rs`).
    judge_reads: repeat_index::JudgeReads,
    /// The watchdog's histories of open tickets between ticks (see `engine_watch.rs`); held
    /// for a whole tick, so ticks of one engine take turns.
    watch: tokio::sync::Mutex<watch::Watch>,
    /// The events committed since the watchdog's last tick, for its next (`engine_watch.rs`).
    recent: watch::Recent,
    /// One [`Engine::catch_up`] at a time (held for its whole run; not the projections' lock):
    /// a second caller waits, then finds the projections at the head and reads nothing.
    catch_up_turn: tokio::sync::Mutex<()>,
    /// Erasure and sealing take turns (see `engine_vault.rs`, issue 13).
    erasure_gate: vault_ops::ErasureGate,
    /// Events [`Engine::catch_up`] has read and decoded (tests).
    #[cfg(test)]
    catch_up_decoded: std::sync::atomic::AtomicU64,
}

/// How far the replica that reports read from ([`EngineConfig::pg_read`]) is behind the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReplicaLag {
    /// The log's head on the primary.
    pub primary_head: u64,
    /// The log's head on the replica.
    pub replica_head: u64,
    /// Events committed on the primary that the replica has not replayed yet.
    pub events_behind: u64,
    /// The replica is a standby in recovery (`false`: the URL names a primary, e.g. after a
    /// failover promoted it).
    pub in_recovery: bool,
    /// Age of the last transaction the replica replayed, by the replica server's clock (grows
    /// while the primary is idle too; `None` when not in recovery or nothing replayed yet).
    pub last_replay_age_ms: Option<i64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy.version)
            .field("vault", &self.vault.vault_location())
            .field("log_dir", &self.log_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the store (creating an empty one if needed) with its vault, and the projections
    /// (from their checkpoints when enabled; they catch up with the log on the first read).
    pub async fn open(cfg: EngineConfig) -> Result<Engine, EngineError> {
        // Issue 11: an implausible clock (`--now 9999-12-31`) is refused before anything opens.
        cfg.policy
            .input_bounds
            .check((cfg.clock)())
            .map_err(|reason| EngineError::bad_input("now (the engine's clock; the CLI's --now)", reason))?;
        let local = cfg.local_dir().to_owned();
        std::fs::create_dir_all(&local).map_err(|source| EngineError::Io {
            path: local.clone(),
            source,
        })?;
        let mut file_log = None;
        let cfg_read_only = matches!(cfg.store, StoreConfig::File { read_only: true, .. });
        let mut cfg = cfg;
        // A read-only engine writes nothing, not even checkpoints: it starts from them in memory.
        let read_only_checkpoints = (cfg_read_only && cfg.checkpoints).then(|| local.join("projections"));
        cfg.checkpoints &= !cfg_read_only;
        let replica = match (&cfg.pg_read, &cfg.store) {
            (None, _) => None,
            (Some(url), StoreConfig::Postgres { schema, .. }) => {
                let mut options = PgOptions::with_schema(schema.clone());
                options.application_name = "plaint-read".to_owned();
                Some(Arc::new(PgStore::connect(url, options).await?))
            }
            (Some(_), _) => {
                return Err(EngineError::bad_input(
                    "pg_read",
                    "a read replica needs a PostgreSQL store (--pg URL)",
                ))
            }
        };
        let mut engine = match cfg.store.clone() {
            StoreConfig::File {
                dir,
                durability,
                read_only,
            } => {
                let log = crate::backend::open_file(&dir, durability, read_only)?;
                file_log = Some(log.clone());
                Self::with_store(log, cfg, Some(dir)).await?
            }
            StoreConfig::Postgres { url, schema, .. } => {
                let store = crate::backend::open_postgres(&url, &schema).await?;
                Self::with_store(store, cfg, None).await?
            }
        };
        if let Some(dir) = read_only_checkpoints {
            let head = engine.store.head_position().await?;
            engine.runner = tokio::sync::Mutex::new(read_only_runner(&dir, head)?);
        }
        engine.file_log = file_log;
        engine.read_only = cfg_read_only;
        if replica.is_some() {
            engine.log_end = repeat_index::LogEnd::ShortRead; // the replica is PostgreSQL
        }
        engine.replica = replica;
        Ok(engine)
    }

    /// An engine over a store the caller opened (any backend: an [`EventStore`] with its
    /// [`Vault`]); checkpoints live in the configuration's directory. A legacy
    /// `keys/keys.log` there is imported into the vault once ([`Engine::vault_migration`]).
    pub async fn with_store<S: VaultStore + 'static>(
        store: Arc<S>,
        cfg: EngineConfig,
        log_dir: Option<PathBuf>,
    ) -> Result<Engine, EngineError> {
        check_business_time_zone(&cfg.calendar)?;
        let local = cfg.local_dir().to_owned();
        let log_end = repeat_index::LogEnd::of(store.as_ref());
        let vault: Arc<dyn Vault> = store.clone();
        let store: Arc<dyn EventStore> = store;
        let read_only = matches!(cfg.store, StoreConfig::File { read_only: true, .. });
        let vault_migration = if read_only {
            None
        } else {
            let note = vault_ops::import_legacy_keys(vault.as_ref(), &local).await?;
            // Before any command: an erasure whose audit event a crash left without its
            // keys' destruction is completed now (issue 13).
            vault_ops::complete_erasures(vault.as_ref(), store.as_ref()).await?;
            note
        };
        let match_secret = MatchSecret::from_bytes(*vault.match_secret().await?);
        let checkpoint_dir = cfg.checkpoints.then(|| local.join("projections"));
        let runner = match &checkpoint_dir {
            Some(dir) => {
                let head = store.head_position().await?;
                open_checkpoints(dir, head)?
            }
            None => Runner::in_memory(ProjectionSet::default()),
        };
        Ok(Engine {
            store,
            policy: cfg.policy,
            calendar: cfg.calendar,
            clock: cfg.clock,
            vault,
            match_secret,
            instance: next_instance(),
            vault_migration,
            runner: tokio::sync::Mutex::new(runner),
            stripes: Stripes::default(),
            states: StateCache::default(),
            conflict_retries_max: cfg.conflict_retries_max,
            log_dir,
            checkpoint_dir,
            file_log: None,
            read_only: false,
            replica: None,
            parked: Default::default(),
            repeats_halt: Default::default(),
            log_end,
            in_flight: Default::default(),
            judge_reads: Default::default(),
            watch: Default::default(),
            recent: Default::default(),
            catch_up_turn: Default::default(),
            erasure_gate: Default::default(),
            #[cfg(test)]
            catch_up_decoded: Default::default(),
        })
    }

    /// The store underneath, for tools that need the raw envelopes.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// The policy the engine decides with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The business calendar the engine decides with.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The customer vault (the store's own, see [`plaint_store::vault`]).
    pub fn vault(&self) -> &Arc<dyn Vault> {
        &self.vault
    }

    /// The match secret: the key of the match keys recorded in events.
    pub fn match_secret(&self) -> &MatchSecret {
        &self.match_secret
    }

    /// The engine's current time.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    // -----------------------------------------------------------------------------------------
    // Commands
    // -----------------------------------------------------------------------------------------

    /// Executes one command: decide against the complaint's current state, append durably.
    ///
    /// Errors: [`EngineError::Rejected`] when the domain refuses (nothing written),
    /// [`EngineError::Contended`] when concurrency conflicts persist, store errors otherwise.
    #[tracing::instrument(name = "command", skip_all, fields(complaint = %cmd.complaint_id, command_id = %cmd.command_id, kind = cmd.body.name()))]
    pub async fn execute(&self, cmd: Command) -> Result<Executed, EngineError> {
        self.execute_at(cmd, None).await
    }

    async fn execute_at(&self, cmd: Command, now: Option<Timestamp>) -> Result<Executed, EngineError> {
        // A system stream (tokens, reveals, erasures) is no complaint: refused before anything
        // of it is read (a retry's answer would return its events).
        plaint_domain::state::refuse_reserved(&cmd)?;
        let stream = cmd.complaint_id.as_str();
        // Commands on one complaint from this process take turns (read, decide, append), so
        // they never conflict with each other; conflicts with other processes are retried.
        let _turn = self.stripes.of(&cmd.complaint_id).lock().await;
        let _running = self.in_flight.enter();
        let mut attempt = 0u32;
        let mut use_cache = true;
        let mut judge = JudgeRead::Local;
        let mut erased_retries = 0u32;
        loop {
            attempt += 1;
            if attempt > 1 {
                backoff(attempt).await;
            }
            // The cached state saves reading and folding the stream; a retry always reads, and
            // so does a command the cached state would reject (it may be stale). A command that
            // opens a complaint is decided on an empty state when the cache does not hold the
            // complaint: its append expects version 0, so the store refuses it when the stream
            // holds events (then it is read and decided again). Taken out of the cache, not
            // copied (this task holds the complaint's turn); put back, evolved, once decided.
            let (state, source, cache_key) = match self.state_for(&cmd, use_cache).await? {
                Known::State(state, source, cache_key) => (state, source, cache_key),
                Known::Retry(executed) => return Ok(executed),
            };
            self.check_merge_target(&cmd, None).await?;
            let (priors, judged) = self.priors_for(&state, &cmd, judge).await?;
            // From the key's choice to the append's answer: no erasure destroys it meanwhile.
            let _sealing = self
                .erasure_gate
                .for_sealing(vault_ops::seals_personal(&cmd), self.vault.as_ref())
                .await?;
            let mut write = VaultWrite::default();
            let key = self.customer_key_for(&cmd, &mut write, None).await?;
            let ctx = Context {
                now: now.unwrap_or_else(|| self.now()),
                policy: &self.policy,
                calendar: &self.calendar,
                customer_key: key.as_ref(),
                match_secret: &self.match_secret,
            };
            let mut new = match decide_with(&state, &cmd, &ctx, &priors) {
                Ok(new) => new,
                Err(_) if source != StateSource::Read => {
                    self.states.forget([&cmd.complaint_id]);
                    use_cache = false;
                    attempt -= 1; // not a conflict: no backoff, no retry counted
                    continue;
                }
                Err(rejection) => return Err(rejection.into()),
            };
            // The cache's own key when the state came from it; the id is copied only otherwise.
            let cache_key = cache_key.unwrap_or_else(|| cmd.complaint_id.clone());
            if new.is_empty() {
                let stream_version = state.version;
                self.states.put(cache_key, state);
                return Ok(Executed {
                    complaint_id: cmd.complaint_id,
                    command_id: cmd.command_id,
                    events: Vec::new(),
                    deduplicated: false,
                    stream_version,
                });
            }
            // `decide_with` records what the caller asked (the command's digest) on the first
            // event: a retry is compared with it (issue 11). Not computed again here (issue 13).
            assert!(new[0].meta.command_digest.is_some(), "decide records the digest");
            let envelopes = new.iter().map(to_new_event).collect();
            let append_span = tracing::info_span!("append", stream = %stream, events = new.len(), attempt);
            let expected = ExpectedVersion::Exact(state.version);
            // A write that only names keys sealed under goes to the vault too: it checks them.
            let appended = if write.is_empty() && write.sealed.is_empty() {
                let append = match judged {
                    JudgedAt::Anywhere => self.store.append(stream, expected, envelopes),
                    JudgedAt::Head(head) => self.store.append_at_head(stream, expected, envelopes, head),
                };
                tracing::Instrument::instrument(append, append_span).await
            } else {
                assert_eq!(
                    judged,
                    JudgedAt::Anywhere,
                    "a receive writes the vault; it is not judged"
                );
                // A new key or link is created with the events, never for a refused command.
                let request = AppendRequest {
                    stream: stream.to_owned(),
                    expected,
                    events: envelopes,
                };
                tracing::Instrument::instrument(self.vault.append_with_vault(vec![request], write), append_span)
                    .await
                    .map(|mut r| r.pop().expect("one result per request"))
            };
            match appended {
                Ok(r) if r.deduplicated => {
                    // Another writer committed this very command between our read and append,
                    // or it is the retry of a receive the cache no longer held (no backoff).
                    self.states.forget([&cmd.complaint_id]);
                    use_cache = false;
                    if source == StateSource::AssumedNew {
                        attempt -= 1;
                    }
                    continue;
                }
                Ok(r) => {
                    assert_eq!(
                        r.last_position + 1 - r.first_position,
                        new.len() as u64,
                        "the store committed every event of the append"
                    );
                    for (i, e) in new.iter_mut().enumerate() {
                        e.meta.position = r.first_position + i as u64;
                    }
                    let mut state = state;
                    for e in &new {
                        evolve(&mut state, e);
                    }
                    self.states.put(cache_key, state);
                    self.note_committed(&new);
                    // The command is done with: its ids move into the answer.
                    return Ok(Executed {
                        complaint_id: cmd.complaint_id,
                        command_id: cmd.command_id,
                        events: new,
                        deduplicated: false,
                        stream_version: r.stream_version,
                    });
                }
                Err(StoreError::HeadMoved { .. }) => {
                    // Another process committed after the head the judgement was made at:
                    // judge again on the log read to its end (not contention: no backoff).
                    self.states.put(cache_key, state);
                    self.judge_reads.refused();
                    judge = JudgeRead::ToEnd;
                    attempt -= 1;
                    continue;
                }
                Err(StoreError::KeyErased { .. }) if erased_retries < KEY_ERASED_RETRIES_MAX => {
                    // Another process erased the customer between the key's look-up and the
                    // commit: nothing was written; decided again, the look-up finds no live key
                    // and the receive seals under a new one (not contention: no backoff).
                    if source != StateSource::AssumedNew {
                        self.states.put(cache_key, state);
                    }
                    erased_retries += 1;
                    attempt -= 1;
                    continue;
                }
                Err(StoreError::Conflict { .. }) if source == StateSource::AssumedNew => {
                    // The complaint exists after all: read it (no contention, no backoff).
                    use_cache = false;
                    attempt -= 1;
                    continue;
                }
                Err(StoreError::Conflict { .. }) if attempt <= self.conflict_retries_max => {
                    self.states.forget([&cmd.complaint_id]);
                    use_cache = false;
                    continue;
                }
                Err(StoreError::Conflict { .. }) => {
                    self.states.forget([&cmd.complaint_id]);
                    return Err(EngineError::Contended {
                        complaint: cmd.complaint_id.clone(),
                        attempts: attempt,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The state `cmd` is decided on: the cached one, an empty one for a command that opens a
    /// complaint the cache does not hold (see [`plaint_domain::state::opens_complaint`]), or
    /// the stream's, read and folded; or the answer to a retry of a command the stream holds.
    async fn state_for(&self, cmd: &Command, use_cache: bool) -> Result<Known, EngineError> {
        let cached = if use_cache {
            self.states.take(&cmd.complaint_id)
        } else {
            None
        };
        match cached {
            Some((key, state)) if !state.has_applied(&cmd.command_id) => {
                return Ok(Known::State(state, StateSource::Cached, Some(key)))
            }
            None if use_cache && plaint_domain::state::opens_complaint(cmd) => {
                return Ok(Known::State(
                    Box::new(ComplaintState::new()),
                    StateSource::AssumedNew,
                    None,
                ))
            }
            _ => {}
        }
        // A stream the file log does not hold is not read (a trip to the blocking pool): its
        // index answers in memory.
        let events = if self.file_log.is_some() && self.store.stream_version(cmd.complaint_id.as_str()).await? == 0 {
            Vec::new()
        } else {
            self.read_stream_events(&cmd.complaint_id).await?
        };
        let original: Vec<Event> = events
            .iter()
            .filter(|e| e.meta.command_id == cmd.command_id)
            .cloned()
            .collect();
        if original.is_empty() {
            return Ok(Known::State(
                Box::new(ComplaintState::from_events(&events)),
                StateSource::Read,
                None,
            ));
        }
        ComplaintState::from_events(&events).check_retry(cmd)?;
        Ok(Known::Retry(Executed {
            complaint_id: cmd.complaint_id.clone(),
            command_id: cmd.command_id.clone(),
            stream_version: events.last().map_or(0, |e| e.meta.stream_version),
            events: original,
            deduplicated: true,
        }))
    }

    /// Executes many commands (several per complaint, in order) and commits every accepted one
    /// in ONE durable `append_many`: for imports. A rejected command is reported in its outcome
    /// and skipped; the later commands of its complaint are decided without it. At most
    /// [`BATCH_COMMANDS_MAX`] commands.
    ///
    /// Re-running the same batch commits nothing new: every command id is recognised.
    ///
    /// ```
    /// use plaint::{Engine, EngineConfig};
    /// use plaint::engine::fixed_clock;
    /// use plaint::workload::{generate, WorkloadConfig};
    /// use plaint::domain::Timestamp;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let now = Timestamp::parse_rfc3339("2026-11-20T00:00:00Z").unwrap();
    /// let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now))).await.unwrap();
    /// let cmds = generate(&WorkloadConfig { complaints: 40, ..Default::default() });
    /// let out = engine.execute_batch(&cmds).await.unwrap();
    /// assert_eq!((out.committed, out.rejected), (cmds.len(), 0));
    /// let again = engine.execute_batch(&cmds).await.unwrap();
    /// assert_eq!(again.deduplicated, cmds.len()); // nothing new
    /// # });
    /// ```
    ///
    /// The commands are borrowed (a `Vec`, a slice, or a reference to either): a caller that
    /// must act on them after a failure (`plaint serve`'s group commit executes a failed group
    /// again one command at a time) keeps them without a copy.
    pub async fn execute_batch(&self, cmds: impl AsRef<[Command]>) -> Result<BatchOutcome, EngineError> {
        self.execute_batch_with(cmds.as_ref(), false, None).await
    }

    /// [`Engine::execute_batch`] of prepared commands ([`Engine::prepare`]): the same
    /// decisions, outcomes and events (the domain's `decide_prepared`). A sealing done ahead is
    /// used only when the key chosen now is the one it was sealed under; otherwise the fields
    /// are sealed again here. A proposed new key is taken when a new key is needed.
    pub async fn execute_batch_prepared(&self, cmds: &[PreparedCommand]) -> Result<BatchOutcome, EngineError> {
        self.execute_batch_with(cmds, false, None).await
    }

    /// Like [`Engine::execute_batch`], but stops at the first command the domain rejects: only
    /// the commands before it are committed, and its outcome (`Rejected`) is the last of
    /// `outcomes`; the commands after it are not looked at. For imports that must stop at a bad
    /// line after committing exactly the lines before it (`plaint import`).
    pub async fn execute_batch_until_rejection(
        &self,
        cmds: impl AsRef<[Command]>,
    ) -> Result<BatchOutcome, EngineError> {
        self.execute_batch_with(cmds.as_ref(), true, None).await
    }

    #[tracing::instrument(name = "batch", skip_all, fields(commands = cmds.len()))]
    async fn execute_batch_with<C: BatchCommand>(
        &self,
        cmds: &[C],
        stop_at_rejection: bool,
        now: Option<Timestamp>,
    ) -> Result<BatchOutcome, EngineError> {
        let run = self.run_batch(cmds, stop_at_rejection, now).await?;
        // Moved to the watchdog's next tick, not dropped (wave 11: no read-back, no copy).
        self.recent
            .keep(run.committed.into_iter().flat_map(|(_, events)| events));
        Ok(run.outcome)
    }

    /// [`Engine::execute_batch`] with the committed events handed back (the watchdog returns
    /// them), retrying the whole batch after a concurrency conflict.
    async fn run_batch<C: BatchCommand>(
        &self,
        cmds: &[C],
        stop_at_rejection: bool,
        now: Option<Timestamp>,
    ) -> Result<BatchRun, EngineError> {
        if cmds.len() > BATCH_COMMANDS_MAX {
            return Err(EngineError::bad_input(
                "batch",
                format!("{} commands; at most {BATCH_COMMANDS_MAX} per batch", cmds.len()),
            ));
        }
        let mut attempt = 0u32;
        let mut use_cache = true;
        let mut erased_retries = 0u32;
        loop {
            attempt += 1;
            match self.try_batch(cmds, stop_at_rejection, now, use_cache).await {
                // A key was erased (by another process) between its look-up and the commit:
                // nothing was written; decided again, the look-up finds no live key and the
                // customer's receive seals under a new one (no contention: no backoff).
                Err(e) if e.erased_key().is_some() && erased_retries < KEY_ERASED_RETRIES_MAX => {
                    erased_retries += 1;
                    attempt -= 1;
                    use_cache = false;
                }
                Err(EngineError::Store(StoreError::Conflict { stream, .. })) => {
                    if attempt > self.conflict_retries_max {
                        return Err(EngineError::Contended {
                            complaint: ComplaintId::new(stream)
                                .map_err(|e| EngineError::bad_input("stream", e.to_string()))?,
                            attempts: attempt,
                        });
                    }
                    use_cache = false;
                    backoff(attempt).await;
                }
                // A command was refused on a cached state, which may be stale (another process
                // wrote): decided again from the streams, not a conflict (no backoff).
                Ok(None) => {
                    attempt -= 1;
                    use_cache = false;
                }
                Ok(Some(run)) => return Ok(run),
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt at a batch. With `use_cache`, the complaints' states come from the engine's
    /// cache when it holds them (no stream read, no fold); `Ok(None)` when the domain refused a
    /// command on such a state (the caller decides the batch again from the streams).
    async fn try_batch<C: BatchCommand>(
        &self,
        cmds: &[C],
        stop_at_rejection: bool,
        now: Option<Timestamp>,
        use_cache: bool,
    ) -> Result<Option<BatchRun>, EngineError> {
        let now = now.unwrap_or_else(|| self.now());
        // From the keys' choice to the append's answer: no erasure destroys them meanwhile.
        let seals = cmds.iter().any(|c| vault_ops::seals_personal(c.command()));
        let _sealing = self.erasure_gate.for_sealing(seals, self.vault.as_ref()).await?;
        // Sized for the batch (a complaint per command at most): it never grows by rehash.
        let mut states = BatchStates::with_capacity_and_hasher(cmds.len(), Default::default());
        let mut outcomes: Vec<CommandOutcome> = Vec::with_capacity(cmds.len());
        // One per outcome: the complaint's stream version after the command.
        let mut versions: Vec<u64> = Vec::with_capacity(cmds.len());
        let mut requests: Vec<AppendRequest> = Vec::with_capacity(cmds.len());
        // For each request, the outcome index it belongs to, and its events.
        let mut request_of: Vec<usize> = Vec::with_capacity(cmds.len());
        let mut accepted: Vec<Vec<Event>> = Vec::with_capacity(cmds.len());
        // What the repeat rule sees of this batch's own, not yet committed, decisions, so
        // verifications and classifications see the complaints received or changed earlier
        // in the same batch.
        let mut batch_priors = BatchPriors::default();
        // The keys and links the accepted commands need, created with their events.
        let mut write = VaultWrite::default();
        for item in cmds {
            let cmd = item.command();
            if let Err(rejection) = plaint_domain::state::refuse_reserved(cmd) {
                outcomes.push(CommandOutcome::Rejected {
                    reason: rejection.to_string(),
                    rejection,
                });
                versions.push(0);
                if stop_at_rejection {
                    break;
                }
                continue;
            }
            if !states.contains_key(&cmd.complaint_id) {
                // Taken out of the cache either way: whatever the batch's fate, the cached
                // state is no longer known to be current; put back once committed.
                let cached = self
                    .states
                    .take(&cmd.complaint_id)
                    .map(|(_, state)| state)
                    .filter(|_| use_cache);
                // Unlike `execute`, a batch reads a complaint it does not hold even for a
                // receive: the store deduplicates a retried command by its id alone, so a
                // receive decided on an assumed-empty state would come back "deduplicated"
                // where the stream's own state says a reused id with other content
                // (`check_retry`), and commands after it would already be committed when
                // `execute_batch_until_rejection` must stop there. (The file log answers an
                // unknown stream from its in-memory index, without a read.)
                let from_cache = cached.is_some();
                let state = match cached {
                    Some(state) => state,
                    None => Box::new(self.read_state(&cmd.complaint_id).await?),
                };
                states.insert(
                    cmd.complaint_id.clone(),
                    BatchState {
                        existed: state.version > 0,
                        from_cache,
                        deduplicated: false,
                        state,
                    },
                );
            }
            let entry = states.get(&cmd.complaint_id).expect("inserted above");
            let (state, from_cache, existed) = (&entry.state, entry.from_cache, entry.existed);
            if state.has_applied(&cmd.command_id) {
                versions.push(state.version);
                match state.check_retry(cmd) {
                    Ok(()) => outcomes.push(CommandOutcome::Deduplicated),
                    Err(_) if from_cache => return Ok(None),
                    Err(rejection) => {
                        outcomes.push(CommandOutcome::Rejected {
                            reason: rejection.to_string(),
                            rejection,
                        });
                        if stop_at_rejection {
                            break;
                        }
                    }
                }
                continue;
            }
            match self.check_merge_target(cmd, Some(&states)).await {
                Ok(()) => {}
                Err(EngineError::Rejected(rejection)) => {
                    outcomes.push(CommandOutcome::Rejected {
                        reason: rejection.to_string(),
                        rejection,
                    });
                    versions.push(state.version);
                    if stop_at_rejection {
                        break;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut priors = Vec::new();
            if let Some(customer) = customer_to_judge(state, cmd) {
                let committed = self.prior_complaints(&customer).await?;
                priors = batch_priors.of_customer(&customer, committed, &accepted);
            }
            let (keys_before, links_before, sealed_before) = (write.keys.len(), write.links.len(), write.sealed.len());
            let owner = item.key_owner(self);
            let key = self
                .customer_key_of(cmd, owner.as_deref(), &mut write, item.proposed_key(self))
                .await?;
            let ctx = Context {
                now,
                policy: &self.policy,
                calendar: &self.calendar,
                customer_key: key.as_ref(),
                match_secret: &self.match_secret,
            };
            match item.decide(state, &ctx, &priors) {
                Ok(events) if events.is_empty() => {
                    outcomes.push(CommandOutcome::NoOp);
                    versions.push(state.version);
                }
                Ok(events) => {
                    assert!(events[0].meta.command_digest.is_some(), "decide records the digest");
                    let expected = ExpectedVersion::Exact(state.version);
                    let entry = states.get_mut(&cmd.complaint_id).expect("inserted above");
                    for e in &events {
                        evolve(&mut entry.state, e);
                    }
                    let before = if existed { Before::Existed } else { Before::New };
                    batch_priors.accept(accepted.len(), before);
                    request_of.push(outcomes.len());
                    outcomes.push(CommandOutcome::NoOp); // replaced once committed
                    versions.push(entry.state.version);
                    requests.push(AppendRequest {
                        stream: cmd.complaint_id.as_str().to_owned(),
                        expected,
                        events: events.iter().map(to_new_event).collect(),
                    });
                    accepted.push(events);
                }
                Err(_) if from_cache => return Ok(None),
                Err(rejection) => {
                    // Nothing is created for a refused command.
                    write.keys.truncate(keys_before);
                    write.links.truncate(links_before);
                    // Nor does it name a key to the store (an erased one would refuse the batch).
                    write.sealed.truncate(sealed_before);
                    outcomes.push(CommandOutcome::Rejected {
                        reason: rejection.to_string(),
                        rejection,
                    });
                    versions.push(state.version);
                    if stop_at_rejection {
                        break;
                    }
                }
            }
        }
        let events: usize = requests.iter().map(|r| r.events.len()).sum();
        let results = if requests.is_empty() {
            Vec::new()
        } else {
            let span = tracing::info_span!("append", streams = requests.len(), events);
            tracing::Instrument::instrument(self.vault.append_with_vault(requests, write), span).await?
        };
        // The store answers every request, in request order (its contract).
        assert_eq!(results.len(), request_of.len(), "append_many answered every request");
        let (mut committed, mut deduplicated, mut events_committed) = (0, 0, 0);
        let mut committed_events = Vec::with_capacity(results.len());
        assert_eq!(versions.len(), outcomes.len(), "a stream version per outcome");
        for ((r, &i), mut events) in results.iter().zip(&request_of).zip(accepted) {
            versions[i] = r.stream_version;
            outcomes[i] = if r.deduplicated {
                deduplicated += 1;
                // Another writer committed this very command meanwhile: the state folded here
                // is not the stream's.
                if let Some(entry) = states.get_mut(&events[0].meta.complaint_id) {
                    entry.deduplicated = true;
                }
                CommandOutcome::Deduplicated
            } else {
                committed += 1;
                events_committed += events.len();
                assert_eq!(
                    r.last_position + 1 - r.first_position,
                    events.len() as u64,
                    "the store committed every event of the request"
                );
                for (k, e) in events.iter_mut().enumerate() {
                    e.meta.position = r.first_position + k as u64;
                }
                committed_events.push((i, events));
                CommandOutcome::Committed {
                    first_position: r.first_position,
                    last_position: r.last_position,
                }
            };
        }
        self.note_committed(committed_events.iter().flat_map(|(_, events)| events));
        // The states are the streams' now (every accepted command committed, in order).
        for (id, entry) in states {
            if !entry.deduplicated {
                self.states.put(id, entry.state);
            }
        }
        // The head the append answered (its last event's position), not read again: a round
        // trip on PostgreSQL. Read only when the batch committed nothing.
        let head_position = match results
            .iter()
            .filter(|r| !r.deduplicated)
            .map(|r| r.last_position)
            .max()
        {
            Some(last) => last,
            None => self.store.head_position().await?,
        };
        deduplicated += outcomes
            .iter()
            .enumerate()
            .filter(|(i, o)| matches!(o, CommandOutcome::Deduplicated) && request_of.binary_search(i).is_err())
            .count();
        let rejected = outcomes
            .iter()
            .filter(|o| matches!(o, CommandOutcome::Rejected { .. }))
            .count();
        Ok(Some(BatchRun {
            outcome: BatchOutcome {
                outcomes,
                committed,
                deduplicated,
                rejected,
                // What was written: a request the store deduplicated wrote nothing.
                events: events_committed,
                head_position,
                stream_versions: versions,
            },
            committed: committed_events,
        }))
    }

    /// The state of a complaint from its stream. A stream the file log does not hold is not
    /// read (its index answers in memory; a read is a trip to the blocking pool).
    async fn read_state(&self, id: &ComplaintId) -> Result<ComplaintState, EngineError> {
        if self.file_log.is_some() && self.store.stream_version(id.as_str()).await? == 0 {
            return Ok(ComplaintState::new());
        }
        Ok(ComplaintState::from_events(&self.read_stream_events(id).await?))
    }

    /// Issue 11 (implausible input): a merge must name a complaint that exists, in the log or
    /// (for a batch) received earlier in the same batch (`batch_states`).
    async fn check_merge_target(&self, cmd: &Command, batch_states: Option<&BatchStates>) -> Result<(), EngineError> {
        let CommandBody::MergeAsDuplicate(m) = &cmd.body else {
            return Ok(());
        };
        if m.into == cmd.complaint_id {
            return Ok(()); // decide names this one
        }
        if batch_states
            .and_then(|b| b.get(&m.into))
            .is_some_and(|s| s.state.version > 0)
        {
            return Ok(());
        }
        // The stream's version, not its first event: the file log answers from its in-memory
        // index (no read through the blocking pool); PostgreSQL in one query either way.
        let exists = self.store.stream_version(m.into.as_str()).await? > 0;
        if exists {
            return Ok(());
        }
        Err(plaint_domain::state::Rejection::Invalid {
            complaint: cmd.complaint_id.clone(),
            command: cmd.body.name(),
            field: "into",
            reason: format!("complaint {} does not exist (no event is recorded for it)", m.into),
        }
        .into())
    }

    /// The earlier complaints the domain's repeat rule reads (the engine's side of the
    /// `PriorComplaints` port): the customer's complaints from the repeat projection, caught up
    /// with the log (that projection alone), for a verification or a classification; none for other commands.
    /// With [`JudgeRead::Local`] the judgement may skip that read; the append then checks the
    /// head it was made at ([`JudgedAt::Head`], `engine_repeat_index.rs`).
    async fn priors_for(
        &self,
        state: &ComplaintState,
        cmd: &Command,
        read: JudgeRead,
    ) -> Result<(Vec<PriorComplaint>, JudgedAt), EngineError> {
        match customer_to_judge(state, cmd) {
            Some(customer) => self.priors_for_command(&customer, read).await,
            None => Ok((Vec::new(), JudgedAt::Anywhere)),
        }
    }

    /// How the domain's repeat rule (docs/domain.md R-REP) judges a complaint now, against the earlier
    /// complaints of the same customer, with the category it has (if classified): new, a
    /// repeat of one, or a duplicate of an open one (which the caller may then merge with a
    /// `merge_as_duplicate` command). `decide_with` runs the same rule at verification and at
    /// classification and records its verdict in the events.
    pub async fn judge_intake(&self, id: &ComplaintId) -> Result<RepeatVerdict, EngineError> {
        let events = self.history(id).await?;
        let state = ComplaintState::from_events(&events);
        let Some(candidate) = Candidate::from_state(&state, state.category) else {
            return Ok(RepeatVerdict::New);
        };
        let priors = self.prior_complaints(&candidate.customer).await?;
        Ok(repeat::judge_with(&candidate, &priors, &self.policy))
    }

    // -----------------------------------------------------------------------------------------
    // Reads
    // -----------------------------------------------------------------------------------------

    async fn read_stream_events(&self, id: &ComplaintId) -> Result<Vec<Event>, EngineError> {
        let mut out = Vec::new();
        let mut from = 1u64;
        loop {
            let batch = self.store.read_stream(id.as_str(), from, READ_BATCH).await?;
            let n = batch.len();
            for r in batch {
                from = r.stream_version + 1;
                out.push(from_recorded_owned(r)?);
            }
            if n < READ_BATCH {
                return Ok(out);
            }
        }
    }

    /// Brings the in-memory projections up to the log's head (as it was when called); returns
    /// the position they reached.
    ///
    /// In slices of [`CATCH_UP_SLICE`] events (wave 11): a slice is read and decoded without
    /// the projections' lock and folded under it, so a command's repeat judgement
    /// ([`Engine::prior_complaints`]), which takes that lock, waits for one slice's fold at
    /// most, not for a whole catch-up's reads. Each projection skips the events it has applied
    /// already (the command path folds the repeat projection, the watchdog the ticket one).
    #[tracing::instrument(name = "catch_up", skip_all)]
    pub async fn catch_up(&self) -> Result<u64, EngineError> {
        // Concurrent callers (`/readyz` probes under `plaint serve`) would each read and decode
        // the whole backlog: they take turns, and a later one finds nothing left to read.
        let _turn = self.catch_up_turn.lock().await;
        self.fold_to_head(None).await
    }

    /// [`Engine::catch_up`] for a caller holding the projections' lock (reads on the caught-up
    /// projections, the checkpoint save): the same reads, slices and folds, the lock held
    /// throughout.
    async fn catch_up_locked(&self, runner: &mut Runner) -> Result<u64, EngineError> {
        self.fold_to_head(Some(runner)).await
    }

    /// The one catch-up (issue 13): reads from the projections' low position to the head as it
    /// is now, decodes a slice of [`CATCH_UP_SLICE`] events, and folds it into the projections
    /// (each skips what it applied already). `held`: the projections, their lock held by the
    /// caller; `None`: the lock is taken for each slice's fold only, the reads and decodes done
    /// without it, and other tasks get their turn between slices. A projection found behind
    /// the slice (a rebuild moved it back meanwhile) is read again from where it stands; found
    /// past it (another catch-up folded it), read on from there.
    async fn fold_to_head(&self, mut held: Option<&mut Runner>) -> Result<u64, EngineError> {
        let reads = self.reads();
        let head = reads.head_position().await?;
        let low_now = |runner: &Runner| runner.projections().low_position();
        let mut next = match held.as_deref() {
            Some(runner) => low_now(runner),
            None => low_now(&*self.runner.lock().await),
        } + 1;
        'read: while next <= head {
            let want = ((head + 1 - next) as usize).min(READ_BATCH);
            let mut batch = reads.read_all(next, want).await?.into_iter().peekable();
            if batch.peek().is_none() {
                break; // the log ends before the head it gave (as a rebuild's read stops)
            }
            while batch.peek().is_some() {
                let mut slice = Vec::with_capacity(CATCH_UP_SLICE);
                let first = next;
                watch::apply_read(batch.by_ref().take(CATCH_UP_SLICE), &mut next, &mut |e| slice.push(e))?;
                #[cfg(test)]
                self.catch_up_decoded
                    .fetch_add(slice.len() as u64, std::sync::atomic::Ordering::Relaxed);
                let mut guard: Option<tokio::sync::MutexGuard<'_, Runner>> = None;
                let runner: &mut Runner = match held.as_deref_mut() {
                    Some(runner) => runner,
                    None => guard.insert(self.runner.lock().await),
                };
                let low = low_now(runner);
                if low + 1 < first || low >= next {
                    next = low + 1;
                    continue 'read;
                }
                let projections = runner.projections_mut();
                slice.iter().for_each(|e| projections.apply(e));
                if guard.take().is_some() {
                    // Tasks of this runtime waiting for the projections (a command's judgement
                    // under `plaint serve`) get their turn before the next slice.
                    tokio::task::yield_now().await;
                }
            }
        }
        Ok(match held {
            Some(runner) => low_now(runner),
            None => low_now(&*self.runner.lock().await),
        })
    }

    /// Where projections, reports, audits and exports read: the replica when one is
    /// configured ([`EngineConfig::pg_read`]), else the store.
    pub(crate) fn reads(&self) -> &dyn EventStore {
        match &self.replica {
            Some(replica) => replica.as_ref(),
            None => self.store.as_ref(),
        }
    }

    /// How far the configured read replica is behind the primary; `None` without one.
    pub async fn replica_lag(&self) -> Result<Option<ReplicaLag>, EngineError> {
        let Some(replica) = &self.replica else {
            return Ok(None);
        };
        let status = replica.replication_status().await?;
        let primary_head = self.store.head_position().await?;
        Ok(Some(ReplicaLag {
            primary_head,
            replica_head: status.head_position,
            events_behind: primary_head.saturating_sub(status.head_position),
            in_recovery: status.in_recovery,
            last_replay_age_ms: status.last_replay_age_ms,
        }))
    }

    /// Runs `f` on the projections, caught up with the log's head.
    pub async fn with_projections<T>(&self, f: impl FnOnce(&ProjectionSet) -> T) -> Result<T, EngineError> {
        let mut runner = self.runner.lock().await;
        self.catch_up_locked(&mut runner).await?;
        Ok(f(runner.projections()))
    }

    /// The current state of a complaint. Personal fields masked unless `reveal` is
    /// [`Reveal::Clear`].
    pub async fn ticket(&self, id: &ComplaintId, reveal: Reveal) -> Result<Ticket, EngineError> {
        let (view, sealed) = self
            .with_projections(|p| {
                let t = &p.tickets.state;
                // Works whether the projection lends or hands out the sealed record.
                (t.view(id), t.sealed_personal(id).map(|p| SealedPersonal::clone(&p)))
            })
            .await?;
        let view = view.ok_or_else(|| EngineError::UnknownComplaint { complaint: id.clone() })?;
        let personal = personal::open(self.vault.as_ref(), sealed.as_ref(), reveal).await?;
        Ok(Ticket { view, personal })
    }

    /// A complaint as it stood at `instant` (business time: events that occurred at or before
    /// it), from its own stream. Links made by other complaints (merged duplicates, later
    /// repeats) are not included. [`EngineError::UnknownComplaint`] when it did not exist yet.
    pub async fn ticket_as_of(
        &self,
        id: &ComplaintId,
        instant: Timestamp,
        reveal: Reveal,
    ) -> Result<Ticket, EngineError> {
        let events = self.read_stream_events(id).await?;
        let mut tickets = plaint_projections::Tickets::default();
        for e in events.iter().filter(|e| e.meta.occurred_at <= instant) {
            plaint_projections::Projection::apply(&mut tickets, e);
        }
        let view = tickets
            .view(id)
            .ok_or_else(|| EngineError::UnknownComplaint { complaint: id.clone() })?;
        let sealed = tickets.sealed_personal(id).map(|p| SealedPersonal::clone(&p));
        let personal = personal::open(self.vault.as_ref(), sealed.as_ref(), reveal).await?;
        Ok(Ticket { view, personal })
    }

    /// Every event of a complaint, in stream order ([`EngineError::UnknownComplaint`] if none).
    /// Personal fields inside stay sealed (see [`Engine::personal_fields`] to open them).
    pub async fn history(&self, id: &ComplaintId) -> Result<Vec<Event>, EngineError> {
        let events = self.read_stream_events(id).await?;
        if events.is_empty() {
            return Err(EngineError::UnknownComplaint { complaint: id.clone() });
        }
        Ok(events)
    }

    /// The personal fields an event carries (a `Received` event), masked or revealed, or
    /// [`PersonalFields::None`] for any other event.
    pub async fn personal_fields(&self, event: &Event, reveal: Reveal) -> Result<PersonalFields, EngineError> {
        match &event.data {
            EventData::Received(r) => personal::open(self.vault.as_ref(), r.customer.personal.as_ref(), reveal).await,
            _ => Ok(PersonalFields::None),
        }
    }

    /// Events of the whole log matching `filter`, in global order.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<Event>, EngineError> {
        let mut out = Vec::new();
        self.audit_each(filter, &mut |e| {
            out.push(e);
            true
        })
        .await?;
        Ok(out)
    }

    /// Like [`Engine::audit`], handing each matching event to `f` as it is read (memory stays
    /// flat on a large log); `f` returns `false` to stop.
    pub async fn audit_each(
        &self,
        filter: &AuditFilter,
        f: &mut dyn FnMut(Event) -> bool,
    ) -> Result<usize, EngineError> {
        let limit = if filter.limit == 0 {
            AUDIT_EVENTS_MAX
        } else {
            filter.limit.min(AUDIT_EVENTS_MAX)
        };
        let matches = |e: &Event| {
            let t = if filter.by_recorded_time {
                e.meta.recorded_at
            } else {
                e.meta.occurred_at
            };
            filter.from.is_none_or(|from| t >= from)
                && filter.to.is_none_or(|to| t < to)
                && filter.actor.as_deref().is_none_or(|a| e.meta.actor.as_str() == a)
        };
        let mut n = 0usize;
        if let Some(id) = &filter.complaint {
            for e in self.read_stream_events(id).await? {
                if n >= limit {
                    break;
                }
                if matches(&e) {
                    n += 1;
                    if !f(e) {
                        break;
                    }
                }
            }
            return Ok(n);
        }
        let mut from = 1u64;
        loop {
            let batch = self.reads().read_all(from, READ_BATCH).await?;
            let len = batch.len();
            for r in batch {
                from = r.position + 1;
                let e = from_recorded_owned(r)?;
                if matches(&e) {
                    n += 1;
                    if !f(e) || n >= limit {
                        return Ok(n);
                    }
                }
            }
            if len < READ_BATCH {
                return Ok(n);
            }
        }
    }

    /// A live feed of committed events from global position `from` (1 = the beginning): first
    /// the catch-up, then new events as they commit, with no gap and no duplicate.
    pub async fn subscribe(&self, from: u64) -> Result<EventSubscription, EngineError> {
        Ok(EventSubscription {
            inner: self.store.subscribe(from.max(1)).await?,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Reports (docs/domain.md R-SLA, R-RPT): figures from the projections, judged at an explicit `now`
    // -----------------------------------------------------------------------------------------

    /// The SLA report at `now`: verdict counts, on-time rates and response and resolution times
    /// per clock, overall and per `group_by`, over the tickets received in `received`
    /// (`[from, to)`; every ticket received up to `now` when `None`).
    pub async fn sla_report(
        &self,
        now: Timestamp,
        group_by: Option<&GroupBy>,
        received: Option<(Timestamp, Timestamp)>,
    ) -> Result<SlaReport, EngineError> {
        self.with_projections(|p| p.sla.state.report(now, &self.policy, group_by, received))
            .await
    }

    /// One ticket's verdict per clock at `now`.
    pub async fn ticket_sla(&self, id: &ComplaintId, now: Timestamp) -> Result<TicketSla, EngineError> {
        self.with_projections(|p| p.sla.state.ticket(id, now, &self.policy))
            .await?
            .ok_or_else(|| EngineError::UnknownComplaint { complaint: id.clone() })
    }

    /// Clocks at risk (past the policy's warning share of their allowance) or pending overdue
    /// at `now`.
    pub async fn at_risk(&self, now: Timestamp) -> Result<AtRiskList, EngineError> {
        self.with_projections(|p| p.sla.state.at_risk(now, &self.policy)).await
    }

    /// Repeat figures (repeat rate, repeat and duplicate links) for tickets received in
    /// `[from, to)`.
    pub async fn repeats_report(&self, from: Timestamp, to: Timestamp) -> Result<RepeatReport, EngineError> {
        if from > to {
            return Err(EngineError::bad_input(
                "period",
                format!("from {from} is after to {to}"),
            ));
        }
        self.with_projections(|p| p.repeats.state.report(from, to)).await
    }

    /// The weekly report (docs/domain.md R-RPT-1) of ISO week `week`, with SLA verdicts judged at `now`.
    pub async fn weekly_report(&self, week: IsoWeek, now: Timestamp) -> Result<WeeklyReport, EngineError> {
        self.with_projections(|p| p.analysis.state.weekly_report(week, &p.sla.state, now, &self.policy))
            .await
    }

    /// The ISO week `t` falls in, in the projections' reporting time zone.
    pub async fn week_of(&self, t: Timestamp) -> Result<IsoWeek, EngineError> {
        self.with_projections(|p| p.analysis.state.buckets().week(t)).await
    }

    /// The heat map (category × stage × region × customer tier) of a month.
    pub async fn heat_map(&self, month: Month) -> Result<HeatMap, EngineError> {
        self.with_projections(|p| p.analysis.state.heat_map(month)).await
    }

    /// The alerts (category surges, regions with a high delay share) as of `now`.
    pub async fn alerts(&self, now: Timestamp) -> Result<AlertsReport, EngineError> {
        self.with_projections(|p| p.analysis.state.alerts(now, &self.policy))
            .await
    }

    // -----------------------------------------------------------------------------------------
    // The SLA watchdog
    // -----------------------------------------------------------------------------------------

    /// Runs the SLA watchdog at `now`: for every open ticket, appends the planned escalations
    /// that are due (docs/domain.md R-ESC-4), each exactly once however often `tick` runs. Each is an
    /// `escalate` command with the rung's `rule_id`, actor `system` and a command id derived from
    /// the ticket and rule, so a crash between two ticks never doubles one.
    ///
    /// Cost (issue 13): one read of the log since the last tick (the ticket projection and the
    /// watchdog's histories of open tickets, `engine_watch.rs`), then the domain's rule only on
    /// the tickets whose history changed or whose next due instant
    /// (`plaint_domain::watchdog::next_due`) has come; a ticket not held (the first tick after
    /// a start) is read from the store. The result is the same as reading every open ticket.
    ///
    /// ```
    /// use plaint::{Engine, EngineConfig};
    /// use plaint::domain::Timestamp;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    /// let now = engine.now();
    /// let first = engine.tick(now).await.unwrap();
    /// assert!(engine.tick(now).await.unwrap().escalated.is_empty()); // never twice
    /// # let _ = first;
    /// # });
    /// ```
    pub async fn tick(&self, now: Timestamp) -> Result<TickOutcome, EngineError> {
        // The open tickets and what is due on each, from the histories the watchdog keeps
        // (issue 13: a tick runs the domain's rule only where a history changed or fell due).
        let mut watch = self.watch.lock().await;
        let open = self.watch_due(&mut watch, now).await?;
        let mut due_commands = Vec::new();
        for (id, ticket) in &open {
            for due in &ticket.due {
                let command_id = CommandId::new(format!("watchdog/{id}/{}", due.rule_id))
                    .map_err(|e| EngineError::bad_input("watchdog rule id", e.to_string()))?;
                // The escalation is recorded when it fell due, or after the ticket's last
                // activity if the watchdog found it later (business time stays in order).
                let at = ticket
                    .last_occurred_at
                    .map_or(due.due_at, |last| last.max(due.due_at))
                    .min(now);
                due_commands.push(Command {
                    command_id,
                    complaint_id: id.clone(),
                    actor: Actor::System,
                    occurred_at: Some(at),
                    body: CommandBody::Escalate(Escalate {
                        level: due.level,
                        reason: format!("SLA watchdog: {} due at {}", due.rule_id, due.due_at),
                        rule_id: Some(due.rule_id.clone()),
                    }),
                });
            }
        }
        // All escalations due at this tick are committed together: one durable append (one
        // fsync) per batch instead of one per escalation.
        let mut escalated = Vec::new();
        for chunk in due_commands.chunks(BATCH_COMMANDS_MAX) {
            let run = self.run_batch(chunk, false, Some(now)).await?;
            let committed = run.committed.iter().flat_map(|(_, events)| events);
            self.recent.keep(committed.cloned());
            // The committed events come back from the batch, in command order: no re-read.
            escalated.extend(run.committed.into_iter().flat_map(|(_, events)| events));
            for done in run.outcome.outcomes {
                match done {
                    CommandOutcome::Committed { .. } => {}
                    // Another watchdog (another process) appended this rung between our read
                    // and our append, recording it at another business time: the same rung.
                    CommandOutcome::Rejected {
                        rejection: plaint_domain::state::Rejection::CommandIdReused { .. },
                        ..
                    } => {}
                    CommandOutcome::Rejected { rejection, .. } => return Err(EngineError::Rejected(rejection)),
                    CommandOutcome::NoOp | CommandOutcome::Deduplicated => {}
                }
            }
        }
        Ok(TickOutcome {
            now,
            checked: open.len(),
            escalated,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Maintenance
    // -----------------------------------------------------------------------------------------

    /// Rebuilds the projections from the log (all of them, from empty) up to `target`,
    /// calling `progress` after every batch read; saves checkpoints (except for an as-of
    /// rebuild, which is not a log prefix; the engine then catches up again on the next read).
    #[tracing::instrument(name = "rebuild", skip_all, fields(target = ?target))]
    pub async fn rebuild(
        &self,
        target: RebuildTarget,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, EngineError> {
        let mut runner = self.runner.lock().await;
        let stats = match (&self.file_log, &self.replica) {
            // The file log's allocation-free read path (borrowed records, no owned envelope
            // per event): the same events in the same order, so the same projections.
            (Some(log), None) => {
                let runner = &mut *runner;
                let mut rebuild = || runner.rebuild_file_log(log, target, progress);
                match tokio::runtime::Handle::current().runtime_flavor() {
                    tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(rebuild)?,
                    _ => rebuild()?,
                }
            }
            _ => runner.rebuild(self.reads(), target, progress).await?,
        };
        if matches!(target, RebuildTarget::AsOf(_)) {
            // Not a prefix of the log: never serve reads from it.
            *runner = self.fresh_runner()?;
        }
        Ok(stats)
    }

    /// The names of the projections ([`Engine::rebuild_projection`] takes one): `tickets`,
    /// `sla`, `repeats`, `analysis`.
    pub fn projection_names() -> Vec<&'static str> {
        ProjectionKind::ALL.iter().map(|k| k.name()).collect()
    }

    /// Rebuilds one projection (by name, see [`Engine::projection_names`]) from the log's
    /// beginning to its head and saves its checkpoint; the other projections keep theirs. An
    /// unknown name is [`EngineError::BadInput`] listing the known ones. Without checkpoints
    /// every projection lives in memory only, and all of them are rebuilt.
    #[tracing::instrument(name = "rebuild", skip_all, fields(projection = name))]
    pub async fn rebuild_projection(
        &self,
        name: &str,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, EngineError> {
        let kind = ProjectionKind::from_name(name).ok_or_else(|| {
            EngineError::bad_input(
                "projection",
                format!(
                    "{name:?} is not a projection; projections are: {}",
                    Self::projection_names().join(", ")
                ),
            )
        })?;
        let mut runner = self.runner.lock().await;
        let Some(dir) = &self.checkpoint_dir else {
            return Ok(runner
                .rebuild(self.store.as_ref(), RebuildTarget::Head, progress)
                .await?);
        };
        // Its own runner over the same checkpoint directory, so the others keep their
        // checkpoints; the engine's runner then reloads them all, the rebuilt one included.
        let mut one = Runner::open(dir, ProjectionSet::only(&[kind]))?;
        let stats = one.rebuild(self.store.as_ref(), RebuildTarget::Head, progress).await?;
        *runner = self.fresh_runner()?;
        Ok(stats)
    }

    fn fresh_runner(&self) -> Result<Runner, EngineError> {
        Ok(match &self.checkpoint_dir {
            Some(dir) => Runner::open(dir, ProjectionSet::default())?,
            None => Runner::in_memory(ProjectionSet::default()),
        })
    }

    /// Saves the projections' checkpoints (no-op when checkpoints are off). Call before
    /// shutting down a long-running engine to make the next start fast.
    pub async fn save_checkpoints(&self) -> Result<(), EngineError> {
        let mut runner = self.runner.lock().await;
        // A fold that panicked may have left the projections half-folded: never saved.
        self.repeats_halt.check()?;
        self.catch_up_locked(&mut runner).await?;
        runner.save_checkpoints()?;
        Ok(())
    }

    /// Saves the projections' checkpoints, then closes the store: for the file log, waits for
    /// everything queued, syncs and releases the lock. Dropping the engine closes the log too,
    /// but blocks the dropping thread and skips the checkpoints.
    #[tracing::instrument(name = "sync", skip_all, fields(on = "close"))]
    pub async fn close(self) -> Result<(), EngineError> {
        if self.checkpoint_dir.is_some() && !self.read_only && !self.repeats_halt.halted() {
            self.save_checkpoints().await?;
        }
        let Engine { store, file_log, .. } = self;
        drop(store);
        if let Some(log) = file_log {
            if let Ok(log) = Arc::try_unwrap(log) {
                log.close().await?;
            }
        }
        Ok(())
    }

    /// Re-reads the whole log: checksums, position and version continuity, the hash chain;
    /// then the vault ([`Engine::verify_vault`]): every record, and every key an event
    /// references. Damage is an error of kind [`crate::ErrorKind::Damaged`] naming the position
    /// or offset (the vault's file and offset, or table and key id).
    pub async fn verify(&self) -> Result<VerifyOutcome, EngineError> {
        let report = self.store.verify().await?;
        self.verify_vault().await?;
        Ok(report)
    }

    /// The log's last committed global position (0 on an empty log).
    pub async fn head_position(&self) -> Result<u64, EngineError> {
        Ok(self.store.head_position().await?)
    }

    /// How far the calendar's holiday data reaches, and the warning to show when it runs out
    /// within the policy's `calendar.expiry_warning` of the engine's clock (issue 11).
    pub fn calendar_coverage(&self) -> CalendarCoverage {
        CalendarCoverage::at(&self.policy, &self.calendar, self.now())
    }

    /// Size figures of the store.
    pub async fn stats(&self) -> Result<Stats, EngineError> {
        let head_mark = self.file_log.as_ref().map(|log| log.head());
        let head = match head_mark {
            Some(h) => h.position,
            None => self.store.head_position().await?,
        };
        let streams = self.with_projections(|p| p.tickets.state.len() as u64).await?;
        // The open log's committed bytes (its files also hold pre-written zeros).
        let bytes = match (&self.file_log, &self.log_dir) {
            (Some(log), _) => Some(log.segment_bytes()),
            (None, Some(dir)) => Some(log_bytes(dir).map_err(|source| EngineError::Io {
                path: dir.clone(),
                source,
            })?),
            (None, None) => None,
        };
        Ok(Stats {
            head_position: head,
            events: head,
            streams,
            bytes,
            head: head_mark,
        })
    }
}

/// The projections cut report days, weeks and months in the business time zone of the domain's
/// default calendar (docs/domain.md R-CAL-1); a calendar in another zone would make deadlines
/// and reports disagree about what a day is, so it is refused rather than half-used.
fn check_business_time_zone(calendar: &Calendar) -> Result<(), EngineError> {
    let reports = plaint_projections::util::Buckets::default();
    if plaint_projections::util::Buckets::from_calendar(calendar) == reports {
        return Ok(());
    }
    Err(EngineError::bad_input(
        "calendar",
        format!(
            "calendar {:?} is in time zone {}, but reports cut days and weeks in the business time zone {} \
             (the default calendar's time_zone); give the calendar that time_zone",
            calendar.name(),
            calendar.time_zone(),
            Calendar::china_mainland().time_zone()
        ),
    ))
}

/// Waits before retrying after a concurrency conflict with another process: a few
/// milliseconds, growing with the attempt, jittered so competing writers spread out.
async fn backoff(attempt: u32) {
    use rand::Rng;
    let ceiling_ms = 2u64.saturating_pow(attempt.min(8)).min(200);
    let ms = rand::rng().random_range(1..=ceiling_ms);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Opens the projections from their checkpoints in `dir`. Checkpoints are derived data: when
/// they do not load (damaged, or written by another version), they are discarded and the
/// projections start over from the log. A checkpoint ahead of the log's head is evidence that
/// the log lost events: that is damage ([`EngineError::CheckpointAhead`]), never rebuilt over
/// (`crate::maintenance`).
fn open_checkpoints(dir: &Path, head: u64) -> Result<Runner, EngineError> {
    let io = |source| EngineError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    if let Ok(runner) = Runner::open(dir, ProjectionSet::default()) {
        if checkpointed_high(runner.projections()) > head {
            let (checkpoints, _) = crate::maintenance::checkpoint_positions(dir);
            crate::maintenance::check_not_ahead(dir, &checkpoints, head)?;
        }
        return Ok(runner);
    }
    // Checkpoints that do not load together may still hold one ahead of the log (the set's
    // shared record refuses a projection beyond it): that is damage, never discarded.
    let (checkpoints, _) = crate::maintenance::checkpoint_positions(dir);
    crate::maintenance::check_not_ahead(dir, &checkpoints, head)?;
    std::fs::remove_dir_all(dir).map_err(io)?;
    std::fs::create_dir_all(dir).map_err(io)?;
    Ok(Runner::open(dir, ProjectionSet::default())?)
}

/// The highest position a loaded set's checkpoints reflect: its projections' and its shared
/// record's (saved first, so the one most likely ahead of the log).
fn checkpointed_high(set: &ProjectionSet) -> u64 {
    set.high_position().max(set.shared_position())
}

/// The projections from their checkpoints in `dir`, held in memory only (a read-only engine
/// never saves): damaged or missing checkpoints start from empty; one ahead of `head` is damage.
fn read_only_runner(dir: &Path, head: u64) -> Result<Runner, EngineError> {
    let set = match Runner::open(dir, ProjectionSet::default()) {
        Ok(runner) if checkpointed_high(runner.projections()) > head => {
            let (checkpoints, _) = crate::maintenance::checkpoint_positions(dir);
            crate::maintenance::check_not_ahead(dir, &checkpoints, head)?;
            runner.into_projections()
        }
        Ok(runner) => runner.into_projections(),
        Err(_) => {
            // As `open_checkpoints`: one ahead of the log is damage even if the set refuses them.
            let (checkpoints, _) = crate::maintenance::checkpoint_positions(dir);
            crate::maintenance::check_not_ahead(dir, &checkpoints, head)?;
            ProjectionSet::default()
        }
    };
    Ok(Runner::in_memory(set))
}

/// The customer whose earlier complaints `decide_with` may read: for a verification or a
/// classification of a complaint with a known customer (the only commands the repeat rule
/// judges, docs/domain.md §8).
fn customer_to_judge(state: &ComplaintState, cmd: &Command) -> Option<CustomerRef> {
    if !matches!(cmd.body, CommandBody::Verify(_) | CommandBody::Classify(_)) {
        return None;
    }
    let customer = CustomerRef::new(state.match_key.as_deref(), state.customer_id.as_deref());
    customer.is_known().then_some(customer)
}

/// Bytes of the log's segment files (`*.plog`) in `dir`: keys, checkpoints and the index
/// are left out.
fn log_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().ends_with(".plog") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// A live feed of committed events (see [`Engine::subscribe`]).
pub struct EventSubscription {
    inner: plaint_store::Subscription,
}

impl EventSubscription {
    /// The next committed event; `None` when the store closed.
    pub async fn next(&mut self) -> Option<Result<Event, EngineError>> {
        let r = self.inner.next().await?;
        Some(
            r.map_err(EngineError::from)
                .and_then(|r| from_recorded_owned(r).map_err(EngineError::from)),
        )
    }
}

/// The subscription as a [`futures::Stream`] of committed events, in global order with no gap
/// and no duplicate (the same items as [`EventSubscription::next`]); it ends when the store
/// closes.
///
/// ```
/// use futures::StreamExt;
/// use plaint::{Engine, EngineConfig};
/// use plaint::workload::{generate, WorkloadConfig};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
/// for cmd in generate(&WorkloadConfig { complaints: 2, ..Default::default() }) {
///     engine.execute(cmd).await.unwrap();
/// }
/// let head = engine.head_position().await.unwrap();
/// let sub = engine.subscribe(1).await.unwrap();
/// let positions: Vec<u64> = sub.take(head as usize).map(|e| e.unwrap().meta.position).collect().await;
/// assert_eq!(positions, (1..=head).collect::<Vec<_>>());
/// # });
/// ```
impl futures::Stream for EventSubscription {
    type Item = Result<Event, EngineError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.poll_next_event(cx).map(|item| {
            item.map(|r| {
                r.map_err(EngineError::from)
                    .and_then(|r| from_recorded_owned(r).map_err(EngineError::from))
            })
        })
    }
}

/// Figures for operating a long-running engine (`plaint serve`'s readiness and metrics).
impl Engine {
    /// The log position every in-memory projection has folded up to, without catching up
    /// (the lowest of their positions: the repeat projection runs ahead of the others, which
    /// catch up on read); `None` while a catch-up or rebuild holds them. The projection lag in
    /// events is [`Engine::head_position`] minus this.
    pub fn projections_position(&self) -> Option<u64> {
        self.runner
            .try_lock()
            .ok()
            .map(|runner| runner.projections().low_position())
    }

    /// What the file log's writer did since open (batches, `fdatasync` calls, their time and
    /// latency buckets); `None` on PostgreSQL.
    pub fn writer_stats(&self) -> Option<plaint_store::file::WriterStats> {
        self.file_log.as_ref().map(|log| log.writer_stats())
    }
}

//! Feeding projections from a store: catch up from checkpoints, rebuild (to the head, to a
//! position, or as of an instant), follow live, and read one ticket as of a past instant.
//!
//! Each projection has its own checkpoint (state + last applied position, one file, replaced
//! atomically; see [`crate::checkpoint`]). The runner reads the global log from the lowest
//! checkpoint and hands each event only to the projections that have not seen it, so a crash at
//! any moment never applies an event twice or skips one. Positions must be gapless; a gap is an
//! error, never skipped.

use crate::checkpoint::{self, CheckpointError};
use crate::envelope::{from_event_ref, from_event_ref_into, from_recorded_owned, DecodeError};
use crate::records::{self, IdColumn, Lookups, SharedIndex};
use crate::shared::{self, Receipt, SharedReceipts, SharedState, SHARED_NAME};
use crate::tickets::{TicketView, Tickets};
use crate::util::{IdIndex, SmallId};
use crate::{Analysis, Projection, Repeats, SlaProjection};
use plaint_domain::event::Event;
use plaint_domain::event::EventData;
use plaint_domain::ids::ComplaintId;
use plaint_domain::time::Timestamp;
use plaint_store::file::FileLog;
use plaint_store::{EventStore, StoreError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Events asked of the store per read.
pub const READ_BATCH_DEFAULT: usize = 16_384;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the log skipped from position {after} to {found}; positions must be gapless")]
    Gap { after: u64, found: u64 },
    #[error("the log ended at position {head} before the requested position {wanted}")]
    PositionBeyondHead { wanted: u64, head: u64 },
}

/// One projection with the position of the last event it applied.
#[derive(Debug, Default, Clone)]
pub struct Slot<P> {
    pub state: P,
    /// Last applied global position (0: nothing applied).
    pub position: u64,
    /// A disabled slot applies nothing and is never checkpointed.
    pub enabled: bool,
}

impl<P: Projection> Slot<P> {
    fn new() -> Self {
        Slot {
            state: P::default(),
            position: 0,
            enabled: true,
        }
    }
    #[inline]
    fn apply(&mut self, e: &Event, hint: Option<u32>) {
        if self.enabled && e.meta.position > self.position {
            self.state.apply_hinted(e, hint);
            self.position = e.meta.position;
        }
    }
    fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
        if self.enabled {
            checkpoint::save(dir, self.position, &self.state)?;
        }
        Ok(())
    }
    fn load(&mut self, dir: &Path) -> Result<(), CheckpointError> {
        if let Some((position, state)) = checkpoint::load::<P>(dir)? {
            self.state = state;
            self.position = position;
        }
        Ok(())
    }
    fn reset(&mut self) {
        self.state = P::default();
        self.position = 0;
    }
    /// After event `e`: a `Received` may have completed a chunk of this projection's ids, which
    /// then becomes the numbering's allocation (issue 13, wave 8: each id held once).
    #[inline]
    fn share_after(&mut self, e: &Event, numbering: &IdColumn) {
        if matches!(e.data, EventData::Received(_)) {
            self.state.share_record_ids(numbering);
        }
    }
    /// Folds `e` as its set does: a projection that looked complaints up in the set's numbering
    /// still does after (the numbering numbers every complaint first; a fallback to an index of
    /// its own would mean the set's invariant broke), and its new full chunk of ids is shared.
    #[inline]
    fn apply_in_set(&mut self, e: &Event, hint: Option<u32>, numbering: &Ordinals) {
        let shared = cfg!(debug_assertions) && self.state.uses_numbering(&numbering.index);
        self.apply(e, hint);
        debug_assert!(
            !shared || self.state.uses_numbering(&numbering.index),
            "{}: fed by its set, it left the set's numbering",
            P::NAME
        );
        self.share_after(e, &numbering.ids);
    }
    /// Points this projection's lookups at the set's numbering when it numbers the projection's
    /// records alike (checked: see [`Projection::use_numbering`]), and then its receipts at the
    /// set's shared record (issue 13, wave 11), which numbers them alike too.
    fn use_numbering(&mut self, numbering: &Ordinals) -> Lookups {
        let lookups = self.state.use_numbering(&numbering.index, &numbering.ids);
        if lookups == Lookups::Numbering {
            if let Some(receipts) = self.state.receipts_mut() {
                receipts.use_set(&numbering.receipts);
            }
        }
        lookups
    }
    /// Whether this projection looks complaints up in `numbering`'s index and reads its
    /// receipts (if it reads any) from the set's shared record.
    fn uses_numbering(&self, numbering: &Ordinals) -> bool {
        self.state.uses_numbering(&numbering.index)
            && self.state.receipts().is_none_or(|r| r.reads(&numbering.receipts))
    }
    /// What the state derived from the receipts it reads agrees with the set's shared record
    /// (after [`Slot::use_numbering`] lent it the record).
    fn check_receipts(&self, dir: &Path) -> Result<(), CheckpointError> {
        self.state.check_receipts().map_err(|e| CheckpointError::Corrupt {
            path: checkpoint::checkpoint_path(dir, P::NAME),
            detail: format!("the state disagrees with the shared record: {e}"),
        })
    }
    /// A loaded state must be of the set's numbering and not beyond its shared record: each of
    /// its complaints is one the record numbers at the same place, and it has seen no event
    /// the record has not (the record is saved first, so it is never behind).
    fn check_against(&self, dir: &Path, numbering: &Ordinals) -> Result<(), CheckpointError> {
        if self.position > numbering.position {
            return Err(CheckpointError::Corrupt {
                path: checkpoint::checkpoint_path(dir, P::NAME),
                detail: format!(
                    "at position {}, beyond the shared record's {} ({}): the set's checkpoints disagree",
                    self.position,
                    numbering.position,
                    checkpoint::checkpoint_path(dir, SHARED_NAME).display()
                ),
            });
        }
        numbering.check_prefix(dir, &self.state)
    }
}

/// The set's shared per-complaint record (issue 13, wave 11; [`crate::shared`]): complaint ids
/// numbered in the order their first `Received` appears in the log — the numbering every
/// projection gives its records — with each complaint's receipt, folded once per event before
/// any projection applies it. One lookup per event serves all five projections (see
/// [`Projection::apply_hinted`]). Its id column is the one the projections' full chunks of ids
/// are shared with ([`Projection::share_record_ids`]): each id is held once. Its index is the
/// one the projections look complaints up in ([`Projection::use_numbering`]): one lookup table
/// per set. Its receipts are the ones the projections read ([`Projection::receipts`]). It is
/// checkpointed in its own file, before the projections, at the last position it folded.
#[derive(Debug, Default)]
struct Ordinals {
    ids: IdColumn,
    index: SharedIndex,
    receipts: SharedReceipts,
    /// The last position folded: every apply path of the set folds the record first, so no
    /// projection of the set is ever beyond it.
    position: u64,
}

impl Clone for Ordinals {
    /// A copy numbers on its own: it never writes into the original's shared index or receipts.
    fn clone(&self) -> Self {
        Ordinals {
            ids: self.ids.clone(),
            index: Arc::new(RwLock::new(records::read(&self.index).clone())),
            receipts: shared::deep_copy(&self.receipts),
            position: self.position,
        }
    }
}

impl Ordinals {
    /// Folds event `e` into the shared record (a first `Received` numbers its complaint and
    /// keeps its receipt) and says the complaint's ordinal.
    #[inline]
    fn hint(&mut self, e: &Event) -> Option<u32> {
        self.position = self.position.max(e.meta.position);
        let id = e.meta.complaint_id.as_str();
        let ids = &self.ids;
        if let Some(i) = records::read(&self.index).get(id, |j| ids[j as usize].as_bytes()) {
            return Some(i);
        }
        let EventData::Received(r) = &e.data else {
            return None;
        };
        let i = self.ids.len() as u32;
        self.ids.push(SmallId::new(id));
        let ids = &self.ids;
        records::write(&self.index).insert(id, i, |j| ids[j as usize].as_bytes());
        shared::push(&self.receipts, Receipt::of(e, r));
        Some(i)
    }
    /// Every projection numbers complaints by first receipt in the log, so the records of a
    /// projection are a prefix of the shared record's numbering; anything else is a checkpoint
    /// this code did not write, or one of another set (named, as damage).
    fn check_prefix<P: Projection>(&self, dir: &Path, p: &P) -> Result<(), CheckpointError> {
        let theirs = p.record_ids();
        let wrong = (0..theirs.len()).find(|&i| self.ids.get(i) != theirs.get(i));
        let detail = |i: usize| match self.ids.get(i) {
            Some(ours) => format!(
                "record {i} is {:?}, but the shared record numbers {:?} there",
                theirs[i].as_str(),
                ours.as_str()
            ),
            None => format!(
                "record {i} names complaint {:?}, which the shared record ({} complaints) lacks",
                theirs[i].as_str(),
                self.ids.len()
            ),
        };
        match wrong {
            None => Ok(()),
            Some(i) => Err(CheckpointError::Corrupt {
                path: checkpoint::checkpoint_path(dir, P::NAME),
                detail: detail(i),
            }),
        }
    }
    /// The shared record's checkpoint state.
    fn state(&self) -> SharedState {
        SharedState::of(self.ids.iter(), &self.receipts)
    }
    /// Takes over a decoded shared record at `position` (ids checked all different by the
    /// decoder), in place: the projections that look complaints up in the index and read the
    /// receipts keep doing so.
    fn adopt(&mut self, position: u64, state: SharedState) {
        let (ids, receipts) = state.into_parts();
        self.ids = IdColumn::default();
        for id in ids {
            self.ids.push(id);
        }
        *records::write(&self.index) = IdIndex::from_column(&self.ids);
        *self.receipts.write().expect("the shared receipts were not poisoned") = receipts;
        self.position = position;
    }
    /// Writes the shared record's checkpoint into `dir`.
    fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
        let bytes = postcard::to_allocvec(&self.state()).map_err(|e| CheckpointError::State {
            path: checkpoint::checkpoint_path(dir, SHARED_NAME),
            detail: e.to_string(),
        })?;
        checkpoint::save_bytes(dir, SHARED_NAME, self.position, &bytes)
    }
}

/// The one list of projections the runner feeds (issue 11): field name, kind name and type.
/// Adding a projection is adding its line here; [`ProjectionKind`], [`ProjectionSet`] (its
/// fields, `apply`, positions, checkpoints, reset, serialised state) and the parallel rebuild's
/// split all follow from it. The first one runs on the scanning thread of a parallel rebuild,
/// the others on the second thread.
macro_rules! with_projections {
    ($m:ident) => {
        $m! {
            (tickets, Tickets, Tickets),
            (sla, Sla, SlaProjection),
            (repeats, Repeats, Repeats),
            (analysis, Analysis, Analysis),
            (casework, Casework, crate::casework::Casework),
        }
    };
}

/// A slot the parallel rebuild's second thread applies events to.
trait ApplySlot: Send {
    fn apply_event(&mut self, e: &Event, hint: Option<u32>);
}

impl<P: Projection> ApplySlot for Slot<P> {
    #[inline]
    fn apply_event(&mut self, e: &Event, hint: Option<u32>) {
        self.apply(e, hint);
    }
}

macro_rules! define_projection_set {
    (($first:ident, $first_kind:ident, $first_ty:ty), $(($field:ident, $kind:ident, $ty:ty)),* $(,)?) => {
        /// The projections the runner knows, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ProjectionKind {
            $first_kind,
            $($kind,)*
        }

        impl ProjectionKind {
            pub const ALL: [ProjectionKind; [stringify!($first_kind), $(stringify!($kind)),*].len()] =
                [ProjectionKind::$first_kind, $(ProjectionKind::$kind),*];
            /// The stable name (checkpoint file name, CLI argument).
            pub fn name(self) -> &'static str {
                match self {
                    ProjectionKind::$first_kind => <$first_ty>::NAME,
                    $(ProjectionKind::$kind => <$ty>::NAME,)*
                }
            }
            /// The kind with this name.
            pub fn from_name(name: &str) -> Option<ProjectionKind> {
                Self::ALL.into_iter().find(|k| k.name() == name)
            }
        }

        /// Every projection, each at its own position.
        #[derive(Debug)]
        pub struct ProjectionSet {
            pub $first: Slot<$first_ty>,
            $(pub $field: Slot<$ty>,)*
            ordinals: Ordinals,
        }

        impl Default for ProjectionSet {
            fn default() -> Self {
                let mut s = ProjectionSet {
                    $first: Slot::new(),
                    $($field: Slot::new(),)*
                    ordinals: Ordinals::default(),
                };
                s.use_numbering();
                s
            }
        }

        impl Clone for ProjectionSet {
            /// A copy with a numbering of its own, which the copies of the projections that
            /// looked complaints up in the original's look them up in (checked again).
            fn clone(&self) -> Self {
                let mut s = ProjectionSet {
                    $first: self.$first.clone(),
                    $($field: self.$field.clone(),)*
                    ordinals: self.ordinals.clone(),
                };
                if self.$first.uses_numbering(&self.ordinals) {
                    s.$first.use_numbering(&s.ordinals);
                }
                $(if self.$field.uses_numbering(&self.ordinals) {
                    s.$field.use_numbering(&s.ordinals);
                })*
                s
            }
        }

        impl ProjectionSet {
            /// Only the named projections enabled.
            pub fn only(kinds: &[ProjectionKind]) -> Self {
                let mut s = ProjectionSet::default();
                s.$first.enabled = kinds.contains(&ProjectionKind::$first_kind);
                $(s.$field.enabled = kinds.contains(&ProjectionKind::$kind);)*
                s
            }
            /// Folds one event into every enabled projection that has not applied it yet.
            #[inline]
            pub fn apply(&mut self, e: &Event) {
                let hint = self.ordinals.hint(e);
                self.$first.apply_in_set(e, hint, &self.ordinals);
                $(self.$field.apply_in_set(e, hint, &self.ordinals);)*
            }
            /// Shares every projection's full chunks of ids with the numbering's (after a load,
            /// after a parallel rebuild; [`ProjectionSet::apply`] does it as chunks fill).
            fn share_ids(&mut self) {
                self.$first.state.share_record_ids(&self.ordinals.ids);
                $(self.$field.state.share_record_ids(&self.ordinals.ids);)*
            }
            /// Points every projection's complaint lookups at the numbering's index (issue 13,
            /// wave 8) where the numbering numbers its records alike (each is checked): after
            /// the set is made, reset or loaded.
            fn use_numbering(&mut self) {
                self.$first.use_numbering(&self.ordinals);
                $(self.$field.use_numbering(&self.ordinals);)*
            }
            /// Whether every projection looks complaints up in the set's one index (tests).
            #[doc(hidden)]
            pub fn lookups_shared(&self) -> bool {
                self.$first.uses_numbering(&self.ordinals)
                    $(&& self.$field.uses_numbering(&self.ordinals))*
            }
            /// Each enabled projection's position (`None` when disabled), in list order.
            fn positions(&self) -> [Option<u64>; ProjectionKind::ALL.len()] {
                let p = |enabled: bool, pos: u64| enabled.then_some(pos);
                [p(self.$first.enabled, self.$first.position), $(p(self.$field.enabled, self.$field.position)),*]
            }
            /// Raises every projection's position to at least `last` (an as-of read saw it all).
            fn raise_positions(&mut self, last: u64) {
                self.ordinals.position = self.ordinals.position.max(last);
                self.$first.position = self.$first.position.max(last);
                $(self.$field.position = self.$field.position.max(last);)*
            }
            /// Writes every enabled projection's checkpoint into `dir`, the shared record's
            /// first (so a crash between the files never leaves a projection beyond it).
            pub fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
                if self.positions().iter().any(Option::is_some) {
                    self.ordinals.save(dir)?;
                }
                self.$first.save(dir)?;
                $(self.$field.save(dir)?;)*
                Ok(())
            }
            /// Loads the shared record's and every enabled projection's checkpoint from `dir`
            /// (missing ones start empty), then checks them against each other.
            pub fn load(&mut self, dir: &Path) -> Result<(), CheckpointError> {
                if let Some((position, bytes)) = checkpoint::load_bytes(dir, SHARED_NAME)? {
                    let state = shared::decode_state(&checkpoint::checkpoint_path(dir, SHARED_NAME), &bytes)?;
                    self.ordinals.adopt(position, state);
                }
                if self.$first.enabled {
                    self.$first.load(dir)?;
                }
                $(if self.$field.enabled {
                    self.$field.load(dir)?;
                })*
                self.adopt_states(dir)
            }
            /// What [`ProjectionSet::load`] does once the shared record and the states are in
            /// place: checks every enabled projection against the shared record (its complaints
            /// the record's first ones, numbered alike; its position not beyond the record's; a
            /// fault names its checkpoint in `dir`), shares the ids and points their lookups and
            /// receipts at the record. For `load` and the checkpoint fuzz target, which puts a
            /// decoded state into a set.
            #[doc(hidden)]
            pub fn adopt_states(&mut self, dir: &Path) -> Result<(), CheckpointError> {
                if self.$first.enabled {
                    self.$first.check_against(dir, &self.ordinals)?;
                }
                $(if self.$field.enabled {
                    self.$field.check_against(dir, &self.ordinals)?;
                })*
                self.share_ids();
                // Checked above: every enabled projection numbers alike. A disabled one is
                // pointed at the numbering only where it numbers alike too (checked again).
                self.use_numbering();
                debug_assert!(
                    !self.$first.enabled || self.$first.uses_numbering(&self.ordinals),
                    "a checked projection looks up in the numbering"
                );
                $(debug_assert!(
                    !self.$field.enabled || self.$field.uses_numbering(&self.ordinals),
                    "a checked projection looks up in the numbering"
                );)*
                if self.$first.enabled {
                    self.$first.check_receipts(dir)?;
                }
                $(if self.$field.enabled {
                    self.$field.check_receipts(dir)?;
                })*
                Ok(())
            }
            /// The shared record's checkpoint state and position (what [`ProjectionSet::save`]
            /// writes first; tests that keep checkpoints in memory).
            #[doc(hidden)]
            pub fn shared_state(&self) -> (u64, SharedState) {
                (self.ordinals.position, self.ordinals.state())
            }
            /// The shared record's checkpoint state, serialised (postcard): what determinism is
            /// checked on, beside [`ProjectionSet::serialised`].
            pub fn shared_serialised(&self) -> Vec<u8> {
                postcard::to_allocvec(&self.ordinals.state()).expect("the shared record serialises")
            }
            /// Takes over a decoded shared record (its checkpoint held it at `position`): what
            /// [`ProjectionSet::load`] does before loading the projections. For the checkpoint
            /// fuzz target, which then puts a decoded state into the set
            /// ([`ProjectionSet::adopt_states`]).
            #[doc(hidden)]
            pub fn adopt_shared(&mut self, position: u64, state: SharedState) {
                self.ordinals.adopt(position, state);
            }
            fn reset(&mut self) {
                self.$first.reset();
                $(self.$field.reset();)*
                self.ordinals = Ordinals::default();
                self.use_numbering();
            }
            /// The serialised (postcard) state of each enabled projection, by name: what
            /// determinism is checked on.
            pub fn serialised(&self) -> Vec<(&'static str, Vec<u8>)> {
                let mut out = Vec::new();
                let enc = |v: Result<Vec<u8>, postcard::Error>| v.expect("projection state serialises");
                if self.$first.enabled {
                    out.push((<$first_ty>::NAME, enc(postcard::to_allocvec(&self.$first.state))));
                }
                $(if self.$field.enabled {
                    out.push((<$ty>::NAME, enc(postcard::to_allocvec(&self.$field.state))));
                })*
                out
            }
            /// The parallel rebuild's split: the first projection (scanning thread), the others
            /// (second thread), and the shared numbering.
            #[allow(clippy::type_complexity)]
            fn split(&mut self) -> (&mut Slot<$first_ty>, Vec<&mut dyn ApplySlot>, &mut Ordinals) {
                (&mut self.$first, vec![$(&mut self.$field as &mut dyn ApplySlot),*], &mut self.ordinals)
            }
        }
    };
}

with_projections!(define_projection_set);

impl ProjectionSet {
    /// The lowest position among enabled projections: where reading must resume.
    pub fn low_position(&self) -> u64 {
        self.positions().into_iter().flatten().min().unwrap_or(0)
    }
    /// The highest position among enabled projections.
    pub fn high_position(&self) -> u64 {
        self.positions().into_iter().flatten().max().unwrap_or(0)
    }
    /// The last position the set's shared record folded (never below any projection's; the
    /// first file a save writes, so the one a checkpoint ahead of the log shows first).
    pub fn shared_position(&self) -> u64 {
        self.ordinals.position
    }
    /// Folds one event into the repeat projection alone (and the shared numbering), unless it
    /// applied it already. Events must come in log order, like [`ProjectionSet::apply`]; the
    /// other projections apply them when they catch up (each slot keeps its own position).
    /// The engine keeps the repeat rule's lookups current this way from the events it commits,
    /// without folding the other projections on the command path.
    #[inline]
    pub fn apply_repeats(&mut self, e: &Event) {
        let hint = self.ordinals.hint(e);
        self.repeats.apply_in_set(e, hint, &self.ordinals);
    }
    /// Folds one event into the ticket projection alone (and the shared numbering), unless it
    /// applied it already; like [`ProjectionSet::apply_repeats`]. The watchdog's list of open
    /// tickets needs no other projection.
    #[inline]
    pub fn apply_tickets(&mut self, e: &Event) {
        let hint = self.ordinals.hint(e);
        self.tickets.apply_in_set(e, hint, &self.ordinals);
    }
}

/// Where a rebuild stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildTarget {
    /// Everything committed when the rebuild reached the head.
    Head,
    /// Every event up to and including this position.
    Position(u64),
    /// Only events whose business time (`occurred_at`) is at or before this instant: the
    /// projections as they stood then. Not a log prefix, so it is never checkpointed.
    AsOf(Timestamp),
}

/// Progress of a run, handed to the progress hook after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Last position read.
    pub position: u64,
    /// The log's head when the run started.
    pub head: u64,
    /// Events read so far in this run.
    pub events: u64,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunStats {
    /// Events read from the log.
    pub events: u64,
    /// Events applied (an as-of rebuild filters some out).
    pub applied: u64,
    /// The position the projections reached.
    pub position: u64,
    pub elapsed: Duration,
}

impl RunStats {
    /// Events read per second.
    pub fn events_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.events as f64 / s
        } else {
            0.0
        }
    }
}

/// Runs the projection set over a store, with checkpoints in an optional directory.
#[derive(Debug)]
pub struct Runner {
    dir: Option<PathBuf>,
    set: ProjectionSet,
    /// Events per store read.
    pub read_batch: usize,
    /// While following live, save checkpoints after this many events (and on shutdown).
    pub follow_checkpoint_every: u64,
    /// File-log reads on two threads: one scans, decodes and applies the ticket projection, the
    /// other applies the SLA, repeat and analysis projections to the same events in the same
    /// order (so the result is byte-identical to one thread).
    pub parallel: bool,
}

impl Runner {
    /// A runner with no checkpoint directory: state lives in memory only.
    pub fn in_memory(set: ProjectionSet) -> Runner {
        Runner {
            dir: None,
            set,
            read_batch: READ_BATCH_DEFAULT,
            follow_checkpoint_every: 100_000,
            parallel: false,
        }
    }
    /// A runner whose checkpoints live in `dir`; loads the ones that exist.
    pub fn open(dir: impl Into<PathBuf>, mut set: ProjectionSet) -> Result<Runner, RunnerError> {
        let dir = dir.into();
        set.load(&dir)?;
        Ok(Runner {
            dir: Some(dir),
            set,
            read_batch: READ_BATCH_DEFAULT,
            follow_checkpoint_every: 100_000,
            parallel: false,
        })
    }
    pub fn projections(&self) -> &ProjectionSet {
        &self.set
    }
    pub fn projections_mut(&mut self) -> &mut ProjectionSet {
        &mut self.set
    }
    pub fn into_projections(self) -> ProjectionSet {
        self.set
    }
    /// Saves every enabled projection's checkpoint (no-op without a directory).
    pub fn save_checkpoints(&self) -> Result<(), RunnerError> {
        if let Some(dir) = &self.dir {
            self.set.save(dir)?;
        }
        Ok(())
    }

    /// Brings every projection from its checkpoint up to the log's head, then checkpoints (when
    /// anything was read).
    pub async fn catch_up(
        &mut self,
        store: &dyn EventStore,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        let stats = self.follow_to_head(store, progress).await?;
        // Nothing new: the checkpoints on disk are already this state.
        if stats.events > 0 {
            self.save_checkpoints()?;
        }
        Ok(stats)
    }

    /// Brings every projection from where it stands up to the log's head without writing
    /// checkpoints: the read path of an engine that answers queries between commands and
    /// decides itself when to save.
    pub async fn follow_to_head(
        &mut self,
        store: &dyn EventStore,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        let head = store.head_position().await?;
        self.read_range(store, head, None, progress).await
    }

    /// Starts every enabled projection from empty and reads the log to `target`. Checkpoints
    /// are saved for [`RebuildTarget::Head`] and [`RebuildTarget::Position`] (both are log
    /// prefixes), never for [`RebuildTarget::AsOf`].
    pub async fn rebuild(
        &mut self,
        store: &dyn EventStore,
        target: RebuildTarget,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        self.set.reset();
        let head = store.head_position().await?;
        let stats = match target {
            RebuildTarget::Head => self.read_range(store, head, None, progress).await?,
            RebuildTarget::Position(p) => {
                if p > head {
                    return Err(RunnerError::PositionBeyondHead { wanted: p, head });
                }
                self.read_range(store, p, None, progress).await?
            }
            RebuildTarget::AsOf(t) => self.read_range(store, head, Some(t), progress).await?,
        };
        if !matches!(target, RebuildTarget::AsOf(_)) {
            self.save_checkpoints()?;
        }
        Ok(stats)
    }

    async fn read_range(
        &mut self,
        store: &dyn EventStore,
        until: u64,
        as_of: Option<Timestamp>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        let started = Instant::now();
        let mut last = self.set.low_position();
        let (mut events, mut applied) = (0u64, 0u64);
        while last < until {
            let want = ((until - last) as usize).min(self.read_batch.max(1));
            let batch = store.read_all(last + 1, want).await?;
            if batch.is_empty() {
                break;
            }
            for r in batch {
                if r.position != last + 1 {
                    return Err(RunnerError::Gap {
                        after: last,
                        found: r.position,
                    });
                }
                if r.position > until {
                    break;
                }
                last = r.position;
                events += 1;
                let e = from_recorded_owned(r)?;
                if as_of.is_none_or(|t| e.meta.occurred_at <= t) {
                    self.set.apply(&e);
                    applied += 1;
                }
            }
            progress(Progress {
                position: last,
                head: until,
                events,
            });
        }
        // An as-of rebuild read everything up to `last`; every projection has seen it.
        if as_of.is_some() {
            self.set.raise_positions(last);
        }
        Ok(RunStats {
            events,
            applied,
            position: last,
            elapsed: started.elapsed(),
        })
    }

    /// Like [`Runner::rebuild`] over the embedded file log, through its allocation-free read
    /// path ([`FileLog::visit_all`]): the fast way to rebuild. Blocking I/O: call it from a
    /// blocking context (`spawn_blocking`, a plain thread, a benchmark).
    pub fn rebuild_file_log(
        &mut self,
        log: &FileLog,
        target: RebuildTarget,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        self.set.reset();
        let head = self.file_head(log)?;
        let (until, as_of) = match target {
            RebuildTarget::Head => (head, None),
            RebuildTarget::Position(p) if p > head => {
                return Err(RunnerError::PositionBeyondHead { wanted: p, head });
            }
            RebuildTarget::Position(p) => (p, None),
            RebuildTarget::AsOf(t) => (head, Some(t)),
        };
        let stats = self.visit_range(log, until, as_of, progress)?;
        if !matches!(target, RebuildTarget::AsOf(_)) {
            self.save_checkpoints()?;
        }
        Ok(stats)
    }

    /// Like [`Runner::catch_up`] over the embedded file log's fast read path. Blocking I/O.
    pub fn catch_up_file_log(
        &mut self,
        log: &FileLog,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        let head = self.file_head(log)?;
        let stats = self.visit_range(log, head, None, progress)?;
        if stats.events > 0 {
            self.save_checkpoints()?;
        }
        Ok(stats)
    }

    fn file_head(&self, log: &FileLog) -> Result<u64, RunnerError> {
        // The head as of now: the last position a read from the end returns.
        let mut head = log.open_report().head_position;
        loop {
            let mut last = None;
            log.visit_all(head + 1, READ_BATCH_DEFAULT, |r| last = Some(r.position))?;
            match last {
                Some(p) => head = p,
                None => return Ok(head),
            }
        }
    }

    fn visit_range(
        &mut self,
        log: &FileLog,
        until: u64,
        as_of: Option<Timestamp>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        if self.parallel {
            return self.visit_range_parallel(log, until, as_of, progress);
        }
        let started = Instant::now();
        let mut last = self.set.low_position();
        let (mut events, mut applied) = (0u64, 0u64);
        let mut failure: Option<RunnerError> = None;
        // One decoded event, its id buffers reused from record to record.
        let mut slot: Option<Event> = None;
        while last < until && failure.is_none() {
            let want = ((until - last) as usize).min(self.read_batch.max(1));
            let set = &mut self.set;
            let visited = log.visit_all(last + 1, want, |r| {
                if failure.is_some() {
                    return;
                }
                if r.position != last + 1 {
                    failure = Some(RunnerError::Gap {
                        after: last,
                        found: r.position,
                    });
                    return;
                }
                last = r.position;
                events += 1;
                match from_event_ref_into(r, &mut slot) {
                    Ok(()) => {
                        let e = slot.as_ref().expect("decoded into the slot");
                        if as_of.is_none_or(|t| e.meta.occurred_at <= t) {
                            set.apply(e);
                            applied += 1;
                        }
                    }
                    Err(err) => failure = Some(err.into()),
                }
            })?;
            if visited == 0 {
                break;
            }
            progress(Progress {
                position: last,
                head: until,
                events,
            });
        }
        if let Some(err) = failure {
            return Err(err);
        }
        if as_of.is_some() {
            self.set.raise_positions(last);
        }
        Ok(RunStats {
            events,
            applied,
            position: last,
            elapsed: started.elapsed(),
        })
    }

    fn visit_range_parallel(
        &mut self,
        log: &FileLog,
        until: u64,
        as_of: Option<Timestamp>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<RunStats, RunnerError> {
        use std::sync::{mpsc, Arc};
        /// Events handed to the second thread at a time.
        const HAND_OFF_EVENTS: usize = 2048;
        /// Batches in flight between the threads (bounds memory).
        const HAND_OFF_QUEUE_MAX: usize = 8;

        let started = Instant::now();
        let from = self.set.low_position();
        let read_batch = self.read_batch.max(1);
        let (first, mut rest, ordinals) = self.set.split();
        let mut last = from;
        let (mut events, mut applied) = (0u64, 0u64);
        let mut failure: Option<RunnerError> = None;
        std::thread::scope(|scope| {
            type Batch = Vec<(Event, Option<u32>)>;
            let (tx, rx) = mpsc::sync_channel::<Arc<Batch>>(HAND_OFF_QUEUE_MAX);
            let worker = scope.spawn(move || {
                for batch in rx {
                    for (e, hint) in batch.iter() {
                        for slot in rest.iter_mut() {
                            slot.apply_event(e, *hint);
                        }
                    }
                }
            });
            let mut batch: Batch = Vec::with_capacity(HAND_OFF_EVENTS);
            let mut hand_off = |batch: &mut Batch| {
                let full = Arc::new(std::mem::replace(batch, Vec::with_capacity(HAND_OFF_EVENTS)));
                // The worker only stops when this sender is dropped.
                tx.send(full.clone()).expect("projection worker alive");
                for (e, hint) in full.iter() {
                    first.apply(e, *hint);
                }
            };
            while last < until && failure.is_none() {
                let want = ((until - last) as usize).min(read_batch);
                let visited = log.visit_all(last + 1, want, |r| {
                    if failure.is_some() {
                        return;
                    }
                    if r.position != last + 1 {
                        failure = Some(RunnerError::Gap {
                            after: last,
                            found: r.position,
                        });
                        return;
                    }
                    last = r.position;
                    events += 1;
                    match from_event_ref(r) {
                        Ok(e) => {
                            if as_of.is_none_or(|t| e.meta.occurred_at <= t) {
                                applied += 1;
                                let hint = ordinals.hint(&e);
                                batch.push((e, hint));
                                if batch.len() == HAND_OFF_EVENTS {
                                    hand_off(&mut batch);
                                }
                            }
                        }
                        Err(err) => failure = Some(err.into()),
                    }
                });
                match visited {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        failure = Some(e.into());
                        break;
                    }
                }
                progress(Progress {
                    position: last,
                    head: until,
                    events,
                });
            }
            if failure.is_none() && !batch.is_empty() {
                hand_off(&mut batch);
            }
            drop(tx);
            worker.join().expect("projection worker panicked");
        });
        // The second thread could not share ids while the numbering grew: done once here.
        self.set.share_ids();
        if let Some(err) = failure {
            // Each slot's position says exactly what it applied; nothing after the failure was.
            return Err(err);
        }
        if as_of.is_some() {
            self.set.raise_positions(last);
        }
        Ok(RunStats {
            events,
            applied,
            position: last,
            elapsed: started.elapsed(),
        })
    }

    /// Catches up, then follows the log live through [`EventStore::subscribe`] until `shutdown`
    /// completes; `on_event` sees the projections after each event. Checkpoints every
    /// [`Runner::follow_checkpoint_every`] events and once more on shutdown.
    pub async fn follow(
        &mut self,
        store: &dyn EventStore,
        shutdown: impl Future<Output = ()>,
        on_event: &mut dyn FnMut(&ProjectionSet, u64),
    ) -> Result<RunStats, RunnerError> {
        let started = Instant::now();
        let mut sub = store.subscribe(self.set.low_position() + 1).await?;
        let mut last = self.set.low_position();
        let (mut events, mut since_checkpoint) = (0u64, 0u64);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                next = sub.next() => {
                    let Some(r) = next else { break };
                    let r = r?;
                    if r.position != last + 1 {
                        return Err(RunnerError::Gap { after: last, found: r.position });
                    }
                    last = r.position;
                    let e = from_recorded_owned(r)?;
                    self.set.apply(&e);
                    events += 1;
                    since_checkpoint += 1;
                    on_event(&self.set, last);
                    if since_checkpoint >= self.follow_checkpoint_every {
                        self.save_checkpoints()?;
                        since_checkpoint = 0;
                    }
                }
            }
        }
        if since_checkpoint > 0 {
            self.save_checkpoints()?;
        }
        Ok(RunStats {
            events,
            applied: events,
            position: last,
            elapsed: started.elapsed(),
        })
    }
}

/// Stream reads per call in [`ticket_as_of`].
const STREAM_READ_MAX: usize = 10_000;

/// One ticket as it stood at `instant` (business time), from its own stream alone. Links made
/// by other tickets (merged duplicates, later repeats) are not in a single stream, so the
/// `duplicates` and `repeated_by` lists of the result are empty. `None` if the ticket did not
/// exist yet at `instant` (or at all).
pub async fn ticket_as_of(
    store: &dyn EventStore,
    id: &ComplaintId,
    instant: Timestamp,
) -> Result<Option<TicketView>, RunnerError> {
    let mut tickets = Tickets::default();
    let mut from = 1u64;
    loop {
        let batch = store.read_stream(id.as_str(), from, STREAM_READ_MAX).await?;
        let n = batch.len();
        for r in batch {
            from = r.stream_version + 1;
            let e = from_recorded_owned(r)?;
            if e.meta.occurred_at <= instant {
                tickets.apply(&e);
            }
        }
        if n < STREAM_READ_MAX {
            break;
        }
    }
    Ok(tickets.view(id))
}

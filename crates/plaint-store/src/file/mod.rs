//! The embedded event log: plaint's default store. On-disk format: `docs/log-format.md`.
//!
//! Two log threads share the writer role and the sync role (`writer.rs`). Appenders hand their
//! requests to a bounded queue; the writer role takes everything waiting (group commit), checks
//! versions and command ids, encodes one batch and writes it with one `write`; the sync role
//! makes it durable with `fdatasync` ([`Durability::Always`]) and only then applies it to the
//! index, publishes the new head and answers. A lone batch is synced by the thread that wrote
//! it; while a sync runs, the other thread writes the next batch (pipelined group commit; rules
//! in `docs/log-format.md`, "Durability modes"). Readers share the in-memory [`index`] behind a
//! lock and read segment files with positional reads.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), plaint_store::StoreError> {
//! use plaint_store::file::{FileLog, FileLogOptions};
//! use plaint_store::{EventStore, ExpectedVersion, NewEvent};
//! let dir = std::env::temp_dir().join(format!("plaint-doc-{}", std::process::id()));
//! let log = FileLog::open(&dir, FileLogOptions::default())?;
//! let event = NewEvent {
//!     event_type: "Received".into(),
//!     schema_version: 1,
//!     occurred_at_ms: 0,
//!     recorded_at_ms: 0,
//!     actor: "clerk".into(),
//!     command_id: "cmd-1".into(),
//!     payload: b"...".to_vec(),
//! };
//! let r = log.append("complaint-1", ExpectedVersion::Exact(0), vec![event]).await?;
//! assert_eq!(r.first_position, 1);
//! log.close().await?;
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

pub mod anchor;
pub mod format;
pub mod index;
pub mod streams;
pub mod vault;
mod writer;

use crate::chain::{ChainHash, HeadMark};
use crate::io::{LogIo, ReadFile, RealIo};
use crate::{
    AppendRequest, AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError, Subscription,
    VerifyReport, ACTOR_LEN_MAX, APPEND_EVENTS_MAX, COMMAND_ID_LEN_MAX, EVENT_PAYLOAD_SIZE_MAX, EVENT_TYPE_LEN_MAX,
    READ_BATCH_MAX, STREAM_NAME_LEN_MAX,
};
use anchor::{Anchor, ANCHOR_FILE, ANCHOR_INTERVAL_MS_MAX, ANCHOR_TMP_FILE};
use async_trait::async_trait;
use format::{BatchFault, SEGMENT_HEADER_LEN};
pub use format::{EventRef, BATCH_BYTES_MAX, BATCH_EVENTS_MAX, SEGMENT_SIZE_MAX};
use index::{ApplyFault, Index};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Appends waiting for the writer, at most (callers wait for room beyond that).
pub const WRITER_QUEUE_MAX: usize = 4096;
/// Events a subscription buffers ahead of its reader, at most.
pub const SUBSCRIPTION_BUFFER_MAX: usize = 1024;
/// Smallest allowed `segment_size_max` (tests use small segments to exercise rolling).
pub const SEGMENT_SIZE_MIN: u64 = 4096;
/// Default of [`FileLogOptions::prewrite_bytes`]: 1 MiB (see its documentation).
pub const PREWRITE_BYTES_DEFAULT: u64 = 1024 * 1024;
/// Largest allowed [`FileLogOptions::prewrite_bytes`].
pub const PREWRITE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Default of [`FileLogOptions::idle_spin_micros`].
pub const IDLE_SPIN_MICROS_DEFAULT: u64 = 200;
/// Largest allowed [`FileLogOptions::idle_spin_micros`].
pub const IDLE_SPIN_MICROS_MAX: u64 = 1_000;

const LOCK_FILE: &str = "LOCK";
const INDEX_FILE: &str = "index.pidx";
const INDEX_TMP_FILE: &str = "index.pidx.tmp";

/// When an append is acknowledged relative to `fdatasync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Group commit: acknowledged only after the batch holding it is durable. The default.
    Always,
    /// For bulk loads: acknowledged after `write`; `fdatasync` every `sync_every_batches`
    /// batches and on close. A power cut may lose acknowledged batches since the last sync.
    Bulk { sync_every_batches: NonZeroU32 },
}

/// How to open a [`FileLog`].
#[derive(Debug, Clone)]
pub struct FileLogOptions {
    pub durability: Durability,
    /// A new batch starts a new segment when it would push the current one over this.
    pub segment_size_max: u64,
    /// Open without the lock, without writing anything (not even a recovery cut).
    pub read_only: bool,
    /// Write the checkpoint after this many new events (and always on close).
    pub checkpoint_every_events: u64,
    /// Make the head anchor durable at least this often while appends come in, in
    /// milliseconds (and at every segment roll and on close): acknowledged batches older than
    /// this cannot be lost unnoticed. 0 anchors after every synced batch. At most
    /// [`ANCHOR_INTERVAL_MS_MAX`]. See "Head anchor" in `docs/log-format.md`.
    pub anchor_interval_ms: u64,
    /// What opening does when the log does not reach its head anchor.
    pub recovery: Recovery,
    /// With [`Durability::Always`]: the writer keeps the open segment's tail pre-written with
    /// zeros (written and synced) this many bytes ahead, in one chunk whenever a batch would
    /// not fit in what is left, so that a batch's `fdatasync` changes no file size (cheaper on
    /// disk: docs/PERFORMANCE.md). 0: no pre-writing (every batch extends the file). At most
    /// [`PREWRITE_BYTES_MAX`]; never past `segment_size_max` (except for one batch that needs
    /// it). See "Recovery rule" in `docs/log-format.md` for how the zeros read.
    pub prewrite_bytes: u64,
    /// How long an idle log thread spins, in microseconds, waiting for the next append before
    /// it parks (0: it parks at once). A lone caller's next append then finds the thread
    /// running instead of waking it (a futex wake and a context switch each way on the commit
    /// path); it spins only while its recent waits were that short (docs/PERFORMANCE.md, wave
    /// 7). At most [`IDLE_SPIN_MICROS_MAX`].
    pub idle_spin_micros: u64,
}

/// What opening does when the log ends before the head its anchor records (acknowledged
/// batches were lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// Refuse to open: the loss is [`StoreError::Lost`] naming the anchor file (or
    /// [`StoreError::ChainBroken`] when the log's history differs from the anchored one). The
    /// default.
    #[default]
    Strict,
    /// Open anyway, record the loss in [`OpenReport::lost_tail`] and, with the writer lock,
    /// re-anchor at the log's actual head (`plaint repair --accept-loss`). Never chosen silently.
    AcceptLostTail,
}

impl Default for FileLogOptions {
    fn default() -> Self {
        FileLogOptions {
            durability: Durability::Always,
            segment_size_max: 256 * 1024 * 1024,
            read_only: false,
            checkpoint_every_events: 1_000_000,
            anchor_interval_ms: 1000,
            recovery: Recovery::Strict,
            prewrite_bytes: PREWRITE_BYTES_DEFAULT,
            idle_spin_micros: IDLE_SPIN_MICROS_DEFAULT,
        }
    }
}

/// How the index was obtained at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSource {
    /// Empty directory.
    New,
    /// From the checkpoint, then `tail_events` events read from the log after it.
    Checkpoint { tail_events: u64 },
    /// Rebuilt by reading the whole log; `reason` says why the checkpoint was not used.
    Rebuilt { reason: String },
}

/// What opening found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    pub index: IndexSource,
    /// Bytes of a half-written final batch cut off (or, read-only, ignored) by recovery.
    pub torn_bytes_cut: u64,
    pub head_position: u64,
    /// Where the half-written final batch was (cut by a writer; left in place read-only).
    pub torn: Option<TornTail>,
    /// The head anchor found at open (`None`: the log has none yet, e.g. format version 1).
    pub anchor: Option<Anchor>,
    /// With [`Recovery::AcceptLostTail`]: why the log does not reach its anchor.
    pub lost_tail: Option<String>,
}

/// A half-written final batch: never acknowledged, cut by recovery (`docs/log-format.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub file: PathBuf,
    /// Byte offset where the torn batch starts (the file is cut to this length).
    pub offset: u64,
    /// Bytes from that offset to the end of the file.
    pub bytes: u64,
}

/// An open segment file, and whether its records are compact (format version 3).
type SegmentReader = (Arc<dyn ReadFile>, bool);

/// State shared by the handle, the log threads and subscription tasks.
pub(crate) struct Shared {
    dir: PathBuf,
    io: Arc<dyn LogIo>,
    index: RwLock<Index>,
    /// Open segment files by first position, with whether the segment holds compact (version
    /// 3) records (read from its header when first opened).
    readers: Mutex<HashMap<u64, SegmentReader>>,
    head_rx: tokio::sync::watch::Receiver<u64>,
    stats: WriterCounters,
    /// Whether the stream index is complete (it loads after open; see [`Shared::load_streams`]).
    streams_state: Mutex<StreamsState>,
    streams_ready: std::sync::Condvar,
    /// Why the checkpoint's stream part was not used, when it was rebuilt from the segments.
    streams_rebuilt: Mutex<Option<String>>,
    /// The head anchor as read at open (checked then, and again by `verify`); `None` after a
    /// lost tail was accepted.
    anchor_at_open: Option<Anchor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StreamsState {
    Loading,
    Ready,
    Failed(String),
}

/// Counters the writer keeps (relaxed atomics; for benchmarks and operators).
#[derive(Debug, Default)]
pub(crate) struct WriterCounters {
    pub batches: std::sync::atomic::AtomicU64,
    pub syncs: std::sync::atomic::AtomicU64,
    pub sync_nanos: std::sync::atomic::AtomicU64,
    /// `fdatasync` calls per latency bucket ([`SYNC_BUCKET_BOUNDS_MICROS`]).
    pub sync_buckets: [std::sync::atomic::AtomicU64; SYNC_BUCKETS],
    pub prewrites: std::sync::atomic::AtomicU64,
    pub prewrite_bytes: std::sync::atomic::AtomicU64,
    pub prewrite_nanos: std::sync::atomic::AtomicU64,
}

/// Upper bounds in microseconds of the `fdatasync` latency buckets of
/// [`WriterStats::sync_buckets`] (for a server's latency histogram); the last bucket counts
/// the calls slower than every bound.
pub const SYNC_BUCKET_BOUNDS_MICROS: [u64; SYNC_BUCKETS - 1] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// The bucket of a histogram with upper `bounds` (ascending, in microseconds) that `micros`
/// falls into: the first bound it does not exceed, or the last bucket (`bounds.len()`), which
/// counts what is slower than every bound. One rule for the `fdatasync` and commit-part buckets.
pub(crate) fn bucket_in(bounds: &[u64], micros: u64) -> usize {
    debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]), "ascending bounds");
    bounds.iter().position(|&bound| micros <= bound).unwrap_or(bounds.len())
}

/// Buckets of [`WriterStats::sync_buckets`].
pub const SYNC_BUCKETS: usize = 13;

impl WriterCounters {
    /// Counts one `fdatasync` that took `nanos`.
    pub(crate) fn record_sync(&self, nanos: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.syncs.fetch_add(1, Relaxed);
        self.sync_nanos.fetch_add(nanos, Relaxed);
        let bucket = bucket_in(&SYNC_BUCKET_BOUNDS_MICROS, nanos / 1_000);
        self.sync_buckets[bucket].fetch_add(1, Relaxed);
    }

    /// Counts one extension of the pre-written tail: `bytes` of zeros written and synced in
    /// `nanos` (not counted as a sync of [`WriterCounters::record_sync`]).
    pub(crate) fn record_prewrite(&self, bytes: u64, nanos: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.prewrites.fetch_add(1, Relaxed);
        self.prewrite_bytes.fetch_add(bytes, Relaxed);
        self.prewrite_nanos.fetch_add(nanos, Relaxed);
    }
}

/// What the writer did since open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Batches written (one `write` each).
    pub batches: u64,
    /// `fdatasync` calls on segments.
    pub syncs: u64,
    /// Time spent in those calls, in nanoseconds.
    pub sync_nanos: u64,
    /// Those calls by latency: bucket `i` counts the calls that took at most
    /// [`SYNC_BUCKET_BOUNDS_MICROS`]`[i]` and more than the bound before; the last bucket the
    /// slower ones.
    pub sync_buckets: [u64; SYNC_BUCKETS],
    /// Extensions of the open segment's pre-written tail ([`FileLogOptions::prewrite_bytes`]):
    /// one zero write and one `fdatasync` each, not counted in `syncs`.
    pub prewrites: u64,
    /// Zero bytes those extensions wrote.
    pub prewrite_bytes: u64,
    /// Time spent in them (writes and syncs), in nanoseconds.
    pub prewrite_nanos: u64,
    /// Idle log threads woken for work (a futex wake and a context switch each).
    pub thread_wakes: u64,
    /// Waits for work that spun first ([`FileLogOptions::idle_spin_micros`]), and those of
    /// them that took work without parking.
    pub idle_spins: u64,
    pub idle_spins_caught: u64,
    /// Where committed appends' time went, part by part ([`CommitParts`]).
    pub commit_parts: CommitParts,
    /// Time the log threads spent in each role and waiting for work ([`RoleTimes`]).
    pub role_times: RoleTimes,
}

/// Upper bounds in microseconds of the buckets of [`CommitParts`]' histograms (finer than the
/// `fdatasync` buckets: a commit's parts are measured against a 1 ms p99); the last bucket
/// counts the slower ones.
pub const COMMIT_PART_BOUNDS_MICROS: [u64; COMMIT_PART_BUCKETS - 1] = [
    10, 25, 50, 100, 150, 250, 400, 600, 800, 1_000, 1_500, 2_500, 5_000, 10_000, 25_000, 100_000,
];

/// Buckets of each of [`CommitParts`]' histograms.
pub const COMMIT_PART_BUCKETS: usize = 17;

/// Histograms of where acknowledged appends' latency went, one per part, in the order a commit
/// passes them ([`COMMIT_PART_BOUNDS_MICROS`]; each counts commits, so that a part's p99 is
/// the commits', not the groups'). The parts add up to a commit's latency inside the log (the
/// caller's own time before `append` and after it resumes excluded).
///
/// Counted: every append the sync role answers, refused and deduplicated ones included (they
/// wait in their group like the others). Not counted: appends failed by an I/O failure (no
/// part moves for them). A caller that stopped waiting before its answer is counted in the
/// first five parts, not in `wake`; a group with no `fdatasync` (`Durability::Bulk` between
/// syncs, or a group that wrote nothing) has no `sync` sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitParts {
    /// From the call to the writer role taking it: room in the queue, and waiting while the
    /// writer role writes an earlier group (or for a log thread to wake).
    pub queued: [u64; COMMIT_PART_BUCKETS],
    /// Planning, encoding and writing its group, until handed to the sync role (a segment
    /// roll's sync and anchor, when its group starts a segment, included).
    pub writing: [u64; COMMIT_PART_BUCKETS],
    /// Handed over until its `fdatasync` starts: waiting behind a sync in flight (and that
    /// sync's answering) or for a log thread to take the sync role.
    pub behind_sync: [u64; COMMIT_PART_BUCKETS],
    /// Its group's `fdatasync` (no sample when none ran for it: see above).
    pub sync: [u64; COMMIT_PART_BUCKETS],
    /// From the sync's return (or, with no sync, the end of `behind_sync`) to the answer being
    /// sent: the re-check, the index, the anchor, the buffers' hand-back.
    pub answering: [u64; COMMIT_PART_BUCKETS],
    /// From the answer being sent to the caller's task running again (the wake-up, and the
    /// relay through the group's first caller). The sync role counts the group's other parts
    /// after sending, off the acknowledgement's path.
    pub wake: [u64; COMMIT_PART_BUCKETS],
}

impl CommitParts {
    /// The parts with their names, in a commit's order.
    pub fn named(&self) -> [(&'static str, &[u64; COMMIT_PART_BUCKETS]); 6] {
        [
            ("queued", &self.queued),
            ("writing", &self.writing),
            ("behind_sync", &self.behind_sync),
            ("sync", &self.sync),
            ("answering", &self.answering),
            ("wake", &self.wake),
        ]
    }
}

/// Nanoseconds the two log threads together spent holding the writer role, holding the sync
/// role (of which `fdatasync`: [`WriterStats::sync_nanos`]), and waiting for work (spinning or
/// parked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleTimes {
    pub writing_nanos: u64,
    pub syncing_nanos: u64,
    pub waiting_nanos: u64,
    /// Waits for work (each one ended with work taken, or the log stopping).
    pub waits: u64,
}

/// The embedded, append-only event log. See the module docs.
pub struct FileLog {
    shared: Arc<Shared>,
    writer: Option<writer::WriterHandle>,
    read_only: bool,
    report: OpenReport,
    /// The customer vault beside the log (`vault.pvlt`).
    pub(crate) vault: Arc<vault::FileVault>,
    /// Keeps subscriptions of a read-only log waiting instead of ending.
    _head_tx_read_only: Option<tokio::sync::watch::Sender<u64>>,
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn segment_name(first_position: u64) -> String {
    format!("seg-{first_position:020}.plog")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let n = name.strip_prefix("seg-")?.strip_suffix(".plog")?;
    if n.len() != 20 {
        return None;
    }
    n.parse().ok()
}

impl FileLog {
    /// Opens (creating if needed) the log in `dir` on the real file system.
    pub fn open(dir: impl AsRef<Path>, options: FileLogOptions) -> Result<FileLog, StoreError> {
        Self::open_with_io(Arc::new(RealIo), dir, options)
    }

    /// Opens the log through an explicit I/O seam (tests pass [`crate::io::SimIo`]).
    pub fn open_with_io(
        io: Arc<dyn LogIo>,
        dir: impl AsRef<Path>,
        options: FileLogOptions,
    ) -> Result<FileLog, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        if options.segment_size_max < SEGMENT_SIZE_MIN || options.segment_size_max > SEGMENT_SIZE_MAX {
            return Err(StoreError::Limit {
                what: "segment_size_max".into(),
                actual: options.segment_size_max,
                max: SEGMENT_SIZE_MAX,
            });
        }
        if options.anchor_interval_ms > ANCHOR_INTERVAL_MS_MAX {
            return Err(StoreError::Limit {
                what: "anchor_interval_ms".into(),
                actual: options.anchor_interval_ms,
                max: ANCHOR_INTERVAL_MS_MAX,
            });
        }
        if options.prewrite_bytes > PREWRITE_BYTES_MAX {
            return Err(StoreError::Limit {
                what: "prewrite_bytes".into(),
                actual: options.prewrite_bytes,
                max: PREWRITE_BYTES_MAX,
            });
        }
        if options.idle_spin_micros > IDLE_SPIN_MICROS_MAX {
            return Err(StoreError::Limit {
                what: "idle_spin_micros".into(),
                actual: options.idle_spin_micros,
                max: IDLE_SPIN_MICROS_MAX,
            });
        }
        let lock = if options.read_only {
            None
        } else {
            io.create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            let lock_path = dir.join(LOCK_FILE);
            match io.lock_exclusive(&lock_path) {
                Ok(guard) => {
                    record_lock_holder(io.as_ref(), &lock_path);
                    Some(guard)
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                        lock: lock_path.display().to_string(),
                        holder: read_lock_holder(io.as_ref(), &lock_path),
                    })
                }
                Err(e) => return Err(io_err(&lock_path, e)),
            }
        };
        let (index, report) = recover(io.as_ref(), &dir, &options)?;
        let mut anchor_at_open = report.anchor.filter(|_| report.lost_tail.is_none());
        if lock.is_some() && report.lost_tail.is_some() {
            // The loss was accepted: anchor the log where it really ends, so it opens again.
            let anchor = anchor_of(&index);
            write_anchor(io.as_ref(), &dir, &anchor)?;
            anchor_at_open = Some(anchor);
        }
        let vault = Arc::new(vault::FileVault::open(io.clone(), &dir, options.read_only)?);
        let streams_pending = index.deferred.is_some();
        let head = index.head;
        let (head_tx, head_rx) = tokio::sync::watch::channel(head);
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            io: io.clone(),
            index: RwLock::new(index),
            readers: Mutex::new(HashMap::new()),
            head_rx,
            stats: WriterCounters::default(),
            streams_state: Mutex::new(if streams_pending {
                StreamsState::Loading
            } else {
                StreamsState::Ready
            }),
            streams_ready: std::sync::Condvar::new(),
            streams_rebuilt: Mutex::new(None),
            anchor_at_open,
        });
        let (writer, ro_tx) = match lock {
            Some(lock) => (
                Some(writer::start(shared.clone(), options.clone(), head_tx, lock)?),
                None,
            ),
            None => {
                if streams_pending {
                    let s = shared.clone();
                    std::thread::Builder::new()
                        .name("plaint-log-index".into())
                        .spawn(move || s.load_streams())
                        .map_err(|e| StoreError::Io {
                            path: "index loader thread".into(),
                            source: e,
                        })?;
                }
                (None, Some(head_tx))
            }
        };
        Ok(FileLog {
            shared,
            writer,
            read_only: options.read_only,
            report,
            vault,
            _head_tx_read_only: ro_tx,
        })
    }

    /// Blocks until the stream index is loaded (it loads from the checkpoint after `open`
    /// returns; appends, `read_stream`, `stream_version` and `verify` wait for it, while
    /// `read_all`, `visit_all`, `subscribe` and `head_position` do not need it).
    pub fn wait_index_ready(&self) -> Result<(), StoreError> {
        self.shared.wait_streams()
    }

    /// After [`FileLog::wait_index_ready`]: why the checkpoint's stream part could not be used
    /// and the streams were rebuilt from the segments instead (`None`: loaded from it, or
    /// [`OpenReport::index`] already says the whole index was rebuilt).
    pub fn stream_index_rebuilt(&self) -> Option<String> {
        self.shared.streams_rebuilt.lock().unwrap().clone()
    }

    /// Batches, syncs and sync time since open.
    pub fn writer_stats(&self) -> WriterStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.shared.stats;
        let (thread_wakes, idle_spins, idle_spins_caught) = self.writer.as_ref().map_or((0, 0, 0), |w| w.idle_counts());
        let (commit_parts, role_times) = self.writer.as_ref().map_or_else(Default::default, |w| w.times());
        WriterStats {
            batches: c.batches.load(Relaxed),
            syncs: c.syncs.load(Relaxed),
            sync_nanos: c.sync_nanos.load(Relaxed),
            sync_buckets: std::array::from_fn(|i| c.sync_buckets[i].load(Relaxed)),
            prewrites: c.prewrites.load(Relaxed),
            prewrite_bytes: c.prewrite_bytes.load(Relaxed),
            prewrite_nanos: c.prewrite_nanos.load(Relaxed),
            thread_wakes,
            idle_spins,
            idle_spins_caught,
            commit_parts,
            role_times,
        }
    }

    /// Bytes of the log's segments up to the committed head (what a closed log's segment files
    /// hold): the open segment's pre-written zeros are not counted, unlike the files' sizes.
    pub fn segment_bytes(&self) -> u64 {
        self.shared.index.read().unwrap().segments.iter().map(|s| s.len).sum()
    }

    /// What recovery found when this log was opened.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The last committed position and the chain value after it, in the form an auditor
    /// records (`POSITION:CHAIN`) and `verify --expect-head` checks.
    pub fn head(&self) -> HeadMark {
        let index = self.shared.index.read().unwrap();
        HeadMark {
            position: index.head,
            chain: index.chain,
        }
    }

    /// Stops the writer after everything queued, syncs, writes the checkpoint and releases the
    /// lock. Dropping the log does the same, blocking the dropping thread.
    pub async fn close(mut self) -> Result<(), StoreError> {
        match self.writer.take() {
            Some(w) => tokio::task::spawn_blocking(move || w.shutdown())
                .await
                .map_err(|_| StoreError::Closed)?,
            None => Ok(()),
        }
    }

    /// Calls `visit` for each committed event with `position >= from_position`, in order, at
    /// most `max` of them, without allocating per event: the fast path for replays and
    /// projections (`read_all` builds owned [`RecordedEvent`]s on top of it). Blocking I/O: call
    /// it from a blocking context. Returns the number of events visited.
    pub fn visit_all(
        &self,
        from_position: u64,
        max: usize,
        visit: impl FnMut(&EventRef<'_>),
    ) -> Result<u64, StoreError> {
        self.shared.visit_all(from_position, max, visit)
    }

    fn check_writable(&self) -> Result<&writer::WriterHandle, StoreError> {
        match &self.writer {
            Some(w) => Ok(w),
            None if self.read_only => Err(StoreError::ReadOnly {
                path: self.shared.dir.display().to_string(),
            }),
            None => Err(StoreError::Closed),
        }
    }
}

impl Drop for FileLog {
    fn drop(&mut self) {
        if let Some(w) = self.writer.take() {
            let _ = w.shutdown();
        }
    }
}

/// Checks one append request against the limits; returns its encoded size in bytes.
fn check_request(stream: &str, events: &[NewEvent]) -> Result<usize, StoreError> {
    let invalid = |reason: &str| StoreError::InvalidAppend {
        stream: stream.to_string(),
        reason: reason.to_string(),
    };
    let limit = |what: &str, actual: usize, max: usize| StoreError::Limit {
        what: format!("{what} (stream {stream:?})"),
        actual: actual as u64,
        max: max as u64,
    };
    if stream.is_empty() {
        return Err(invalid("stream name is empty"));
    }
    if stream.len() > STREAM_NAME_LEN_MAX {
        return Err(limit("stream name length", stream.len(), STREAM_NAME_LEN_MAX));
    }
    if events.is_empty() {
        return Err(invalid("no events"));
    }
    if events.len() > APPEND_EVENTS_MAX {
        return Err(limit("events in one append", events.len(), APPEND_EVENTS_MAX));
    }
    let command_id = &events[0].command_id;
    if command_id.is_empty() {
        return Err(invalid("command id is empty"));
    }
    let mut bytes = 0usize;
    for e in events {
        if &e.command_id != command_id {
            return Err(invalid("events of one append carry different command ids"));
        }
        if e.event_type.len() > EVENT_TYPE_LEN_MAX {
            return Err(limit("event type length", e.event_type.len(), EVENT_TYPE_LEN_MAX));
        }
        if e.actor.len() > ACTOR_LEN_MAX {
            return Err(limit("actor length", e.actor.len(), ACTOR_LEN_MAX));
        }
        if e.command_id.len() > COMMAND_ID_LEN_MAX {
            return Err(limit("command id length", e.command_id.len(), COMMAND_ID_LEN_MAX));
        }
        if e.payload.len() > EVENT_PAYLOAD_SIZE_MAX {
            return Err(limit("event payload size", e.payload.len(), EVENT_PAYLOAD_SIZE_MAX));
        }
        bytes += format::RECORD_FIXED_LEN
            + stream.len()
            + e.event_type.len()
            + e.actor.len()
            + e.command_id.len()
            + e.payload.len();
    }
    Ok(bytes)
}

fn check_requests(requests: &[AppendRequest]) -> Result<usize, StoreError> {
    let total: usize = requests.iter().map(|r| r.events.len()).sum();
    if total > APPEND_EVENTS_MAX {
        return Err(StoreError::Limit {
            what: "events in one append_many".into(),
            actual: total as u64,
            max: APPEND_EVENTS_MAX as u64,
        });
    }
    let mut bytes = 0;
    for r in requests {
        bytes += check_request(&r.stream, &r.events)?;
    }
    let max = BATCH_BYTES_MAX - format::BATCH_OVERHEAD - SEGMENT_HEADER_LEN;
    if bytes > max {
        return Err(StoreError::Limit {
            what: "encoded bytes of one append".into(),
            actual: bytes as u64,
            max: max as u64,
        });
    }
    Ok(bytes)
}

#[async_trait]
impl EventStore for FileLog {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let requests = vec![AppendRequest {
            stream: stream.to_string(),
            expected,
            events,
        }];
        let bytes = check_requests(&requests)?;
        let mut results = self.check_writable()?.submit(requests, bytes).await?;
        assert_eq!(results.len(), 1);
        Ok(results.pop().unwrap())
    }

    async fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let bytes = check_requests(&requests)?;
        let n = requests.len();
        let results = self.check_writable()?.submit(requests, bytes).await?;
        assert_eq!(results.len(), n);
        Ok(results)
    }

    async fn read_stream(&self, stream: &str, from_version: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let shared = self.shared.clone();
        let stream = stream.to_string();
        blocking(move || shared.read_stream(&stream, from_version, max.min(READ_BATCH_MAX))).await
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let shared = self.shared.clone();
        blocking(move || {
            let mut out = Vec::new();
            shared.visit_all(from_position, max.min(READ_BATCH_MAX), |e| out.push(e.to_recorded()))?;
            Ok(out)
        })
        .await
    }

    async fn subscribe(&self, from_position: u64) -> Result<Subscription, StoreError> {
        let (tx, rx) = tokio::sync::mpsc::channel(SUBSCRIPTION_BUFFER_MAX);
        tokio::spawn(subscription_task(self.shared.clone(), from_position.max(1), tx));
        Ok(Subscription::new(rx))
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        Ok(self.shared.index.read().unwrap().head)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        if !self.shared.streams_loaded() {
            let shared = self.shared.clone();
            blocking(move || shared.wait_streams()).await?;
        }
        Ok(self.shared.index.read().unwrap().stream_version(stream))
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        let shared = self.shared.clone();
        blocking(move || shared.verify()).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| StoreError::Closed)?
}

/// Feeds a subscription: reads from the log from `next` up to the published head, then waits
/// for the head to move. Catch-up and live are the same loop, so the hand-over can neither skip
/// nor repeat a position.
async fn subscription_task(
    shared: Arc<Shared>,
    mut next: u64,
    tx: tokio::sync::mpsc::Sender<Result<RecordedEvent, StoreError>>,
) {
    let mut head_rx = shared.head_rx.clone();
    loop {
        let head = *head_rx.borrow_and_update();
        while next <= head {
            let s = shared.clone();
            let from = next;
            let chunk = blocking(move || {
                let mut out = Vec::new();
                s.visit_all(from, SUBSCRIPTION_BUFFER_MAX, |e| out.push(e.to_recorded()))?;
                Ok(out)
            })
            .await;
            match chunk {
                Ok(events) => {
                    assert!(!events.is_empty(), "positions up to the head are readable");
                    for e in events {
                        assert_eq!(e.position, next, "subscription positions are gapless");
                        next += 1;
                        if tx.send(Ok(e)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        tokio::select! {
            changed = head_rx.changed() => {
                if changed.is_err() {
                    // The writer stopped: deliver what was committed, then end.
                    if *head_rx.borrow() < next {
                        return;
                    }
                }
            }
            _ = tx.closed() => return,
        }
    }
}

impl Shared {
    /// Completes the stream index after a fast open: reads the checkpoint's part B and applies
    /// the log tail read at open; if part B is unusable, rebuilds the streams from the segments.
    /// Runs on a log thread (before the first commit) or, read-only, on a loader thread.
    pub(crate) fn load_streams(&self) {
        let outcome = self.load_streams_inner();
        let mut state = self.streams_state.lock().unwrap();
        *state = match outcome {
            Ok(()) => StreamsState::Ready,
            Err(e) => StreamsState::Failed(e.to_string()),
        };
        self.streams_ready.notify_all();
    }

    fn load_streams_inner(&self) -> Result<(), StoreError> {
        let path = self.dir.join(INDEX_FILE);
        let from_checkpoint = || -> Result<streams::StreamIndex, String> {
            // Mapped where the I/O seam can (nothing copied; pages come from the page cache
            // as the CRC walks them), read otherwise; parts C and B only.
            if let Some(map) = self.io.map_whole(&path).map_err(|e| e.to_string())? {
                let map = Arc::new(map);
                let (a_len, version) = Index::checkpoint_layout(&map)?;
                let mut at = a_len + 4;
                let part_c = if version >= 3 {
                    let c_len = streams::part_c_len(map.get(at..).unwrap_or_default())?;
                    if at + c_len > map.len() {
                        return Err("checkpoint ends early (part C)".into());
                    }
                    at += c_len;
                    Some(streams::Bytes::mapped(map.clone(), at - c_len, at))
                } else {
                    None
                };
                if at > map.len() {
                    return Err("checkpoint ends early".into());
                }
                let len = map.len();
                return Index::streams_from_checkpoint_parts(part_c, streams::Bytes::mapped(map, at, len));
            }
            let file = self.io.open_read(&path).map_err(|e| e.to_string())?;
            let file_len = self.io.file_len(&path).map_err(|e| e.to_string())?;
            let mut prefix = [0u8; index::CHECKPOINT_PREFIX_LEN];
            file.read_exact_at(&mut prefix, 0).map_err(|e| e.to_string())?;
            let (a_len, version) = Index::checkpoint_layout(&prefix)?;
            let mut at = a_len as u64 + 4;
            // Layout 3: part C, the persisted lookup table, comes before part B.
            let part_c = if version >= 3 {
                let mut header = [0u8; streams::TABLE_HEADER_LEN];
                file.read_exact_at(&mut header, at).map_err(|e| e.to_string())?;
                let c_len = streams::part_c_len(&header)? as u64;
                if at + c_len > file_len {
                    return Err("checkpoint ends early (part C)".into());
                }
                let mut c = vec![0u8; c_len as usize];
                file.read_exact_at(&mut c, at).map_err(|e| e.to_string())?;
                at += c_len;
                Some(c.into())
            } else {
                None
            };
            let b_len = file_len.checked_sub(at).ok_or("checkpoint ends early")?;
            let mut part_b = vec![0u8; b_len as usize];
            file.read_exact_at(&mut part_b, at).map_err(|e| e.to_string())?;
            Index::streams_from_checkpoint_parts(part_c, part_b.into())
        };
        let loaded = from_checkpoint();
        let mut index = self.index.write().unwrap();
        assert!(index.deferred.is_some(), "streams load once");
        let outcome = loaded.and_then(|streams| index.complete_streams(streams));
        let Err(reason) = outcome else { return Ok(()) };
        *self.streams_rebuilt.lock().unwrap() = Some(reason);
        // Part B is damaged or does not fit the log: rebuild the streams from the segments.
        let mut fresh = Index::default();
        for info in index.segments.clone() {
            let p = self.segment_path(info.first_position);
            let mut data = vec![0u8; info.len as usize];
            self.io
                .open_read(&p)
                .and_then(|f| f.read_exact_at(&mut data, 0))
                .map_err(|e| io_err(&p, e))?;
            scan_segment(&p, &data, 0, &mut fresh, false, false)?;
        }
        assert_eq!(fresh.head, index.head, "the rebuild covers the log as opened");
        index.streams = fresh.streams;
        index.deferred = None;
        Ok(())
    }

    /// Waits until the stream index is complete.
    pub(crate) fn wait_streams(&self) -> Result<(), StoreError> {
        let mut state = self.streams_state.lock().unwrap();
        loop {
            match &*state {
                StreamsState::Ready => return Ok(()),
                StreamsState::Failed(why) => {
                    return Err(StoreError::Corrupt {
                        file: self.dir.join(INDEX_FILE).display().to_string(),
                        offset: 0,
                        detail: format!("stream index could not be loaded: {why}"),
                    })
                }
                StreamsState::Loading => state = self.streams_ready.wait(state).unwrap(),
            }
        }
    }

    pub(crate) fn streams_loaded(&self) -> bool {
        *self.streams_state.lock().unwrap() == StreamsState::Ready
    }

    fn segment_path(&self, first_position: u64) -> PathBuf {
        self.dir.join(segment_name(first_position))
    }

    fn reader(&self, first_position: u64) -> Result<Arc<dyn ReadFile>, StoreError> {
        Ok(self.reader_and_kind(first_position)?.0)
    }

    /// The segment's reader, and whether its records are compact (format version 3).
    fn reader_and_kind(&self, first_position: u64) -> Result<SegmentReader, StoreError> {
        let mut readers = self.readers.lock().unwrap();
        if let Some(r) = readers.get(&first_position) {
            return Ok(r.clone());
        }
        let path = self.segment_path(first_position);
        let r = self.io.open_read(&path).map_err(|e| io_err(&path, e))?;
        let mut header = [0u8; SEGMENT_HEADER_LEN];
        r.read_exact_at(&mut header, 0).map_err(|e| io_err(&path, e))?;
        let h = format::parse_segment_header(&header).map_err(|d| self.corrupt(first_position, 0, d))?;
        let entry = (r, h.version >= format::FORMAT_VERSION_COMPACT);
        readers.insert(first_position, entry.clone());
        Ok(entry)
    }

    fn corrupt(&self, segment_first: u64, offset: u64, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            file: self.segment_path(segment_first).display().to_string(),
            offset,
            detail: detail.into(),
        }
    }

    /// The record of `position` at `offset`, read and checked.
    fn read_record(&self, position: u64, offset: u64) -> Result<RecordedEvent, StoreError> {
        let seg_first = {
            let index = self.index.read().unwrap();
            let s = index.segment_of(position).expect("committed position has a segment");
            index.segments[s].first_position
        };
        self.read_record_in(seg_first, position, offset)
    }

    /// The record of `position` at `offset` of the segment starting at `seg_first`.
    fn read_record_in(&self, seg_first: u64, position: u64, offset: u64) -> Result<RecordedEvent, StoreError> {
        let (file, compact) = self.reader_and_kind(seg_first)?;
        let mut buf = vec![0u8; 512];
        let n = read_up_to(file.as_ref(), &mut buf, offset).map_err(|e| io_err(&self.segment_path(seg_first), e))?;
        buf.truncate(n);
        let len = if compact {
            format::record_len_compact(&buf)
        } else {
            (buf.len() >= 4).then(|| format::u32_at(&buf, 0) as usize)
        };
        if let Some(len) = len.filter(|&l| l > buf.len() && l <= BATCH_BYTES_MAX) {
            buf.resize(len, 0);
            file.read_exact_at(&mut buf, offset)
                .map_err(|e| io_err(&self.segment_path(seg_first), e))?;
        }
        let r = if compact {
            format::parse_record_compact(&buf, position)
        } else {
            format::parse_record(&buf)
        }
        .map_err(|d| self.corrupt(seg_first, offset, d))?;
        if r.event.position != position {
            return Err(self.corrupt(seg_first, offset, format!("record holds position {}", r.event.position)));
        }
        Ok(r.event.to_recorded())
    }

    fn read_stream(&self, stream: &str, from_version: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.wait_streams()?;
        let locs: Vec<index::EventLoc> = {
            let index = self.index.read().unwrap();
            match index.streams.get(stream) {
                None => return Ok(Vec::new()),
                Some(s) => {
                    let skip = from_version.saturating_sub(1).min(s.events.len() as u64) as usize;
                    s.events[skip..].iter().take(max).copied().collect()
                }
            }
        };
        locs.iter().map(|l| self.read_record(l.position, l.offset)).collect()
    }

    fn visit_all(
        &self,
        from_position: u64,
        max: usize,
        mut visit: impl FnMut(&EventRef<'_>),
    ) -> Result<u64, StoreError> {
        let from = from_position.max(1);
        let (head, mark, segments) = {
            let index = self.index.read().unwrap();
            if from > index.head || max == 0 {
                return Ok(0);
            }
            let mark = index
                .mark_before(from)
                .expect("a committed position has a mark at or before it");
            (index.head, mark, index.segments.clone())
        };
        let last = head.min(from.saturating_add(max as u64 - 1));
        let mut visited = 0u64;
        let mut seg = mark.segment as usize;
        let mut offset = mark.offset;
        let mut buf: Vec<u8> = Vec::new();
        'segments: while seg < segments.len() {
            let info = &segments[seg];
            let file = self.reader(info.first_position)?;
            let path = || self.segment_path(info.first_position);
            let mut start = 0usize; // of the next batch in buf
            let mut buf_offset = offset; // file offset of buf[0]
            buf.clear();
            while buf_offset + (start as u64) < info.len {
                let batch_offset = buf_offset + start as u64;
                // Make sure a header, then the whole batch, is in the buffer.
                let mut need = format::BATCH_HEADER_LEN;
                loop {
                    if buf.len() - start < need {
                        buf.drain(..start);
                        buf_offset += start as u64;
                        start = 0;
                        let committed = (info.len - buf_offset) as usize;
                        if need > committed {
                            let detail = format!("batch of {need} bytes runs past the committed end of the segment");
                            return Err(self.corrupt(info.first_position, batch_offset, detail));
                        }
                        let want = need.max(READ_CHUNK_BYTES).min(committed);
                        let have = buf.len();
                        buf.resize(want, 0);
                        if want > have {
                            file.read_exact_at(&mut buf[have..], buf_offset + have as u64)
                                .map_err(|e| io_err(&path(), e))?;
                        }
                    }
                    let h = format::parse_batch_header(&buf[start..])
                        .map_err(|f| self.corrupt(info.first_position, batch_offset, f.to_string()))?;
                    if buf.len() - start >= h.total_len() {
                        break;
                    }
                    need = h.total_len();
                }
                let batch = format::parse_batch(&buf[start..])
                    .map_err(|f| self.corrupt(info.first_position, batch_offset, f.to_string()))?;
                let total = batch.header.total_len();
                let batch_last = batch.header.first_position + u64::from(batch.header.count) - 1;
                if batch_last >= from {
                    let body_offset = batch_offset + format::BATCH_HEADER_LEN as u64;
                    for r in batch.records() {
                        let r = r.map_err(|(at, d)| self.corrupt(info.first_position, body_offset + at as u64, d))?;
                        let p = r.event.position;
                        if p < from {
                            continue;
                        }
                        if p > last {
                            break 'segments;
                        }
                        visit(&r.event);
                        visited += 1;
                        if p == last {
                            break 'segments;
                        }
                    }
                }
                start += total;
            }
            seg += 1;
            offset = SEGMENT_HEADER_LEN as u64;
        }
        assert_eq!(
            visited,
            last - from + 1,
            "every committed position up to the head is readable"
        );
        Ok(visited)
    }

    /// Re-reads every committed byte from the start: segment headers, CRCs, positions, versions,
    /// the chain; then compares with the live index.
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.wait_streams()?;
        let snapshot: Vec<index::SegmentInfo> = self.index.read().unwrap().segments.clone();
        let mut fresh = Index::default();
        let mut bytes = 0u64;
        for info in &snapshot {
            let path = self.segment_path(info.first_position);
            let file = self.reader(info.first_position)?;
            let mut data = vec![0u8; info.len as usize];
            file.read_exact_at(&mut data, 0).map_err(|e| io_err(&path, e))?;
            scan_segment(&path, &data, 0, &mut fresh, false, false)?;
            bytes += info.len;
        }
        let index = self.index.read().unwrap();
        let segs = &index.segments;
        if fresh.head > index.head || (segs.len() == snapshot.len() && fresh.head != index.head) {
            return Err(StoreError::Corrupt {
                file: self.dir.display().to_string(),
                offset: 0,
                detail: format!("log holds {} events, index says {}", fresh.head, index.head),
            });
        }
        let mut differing: Option<String> = None;
        fresh.streams.for_each(|name, s| {
            let live = index.streams.get(name);
            let live = live.as_ref().map(|l| &l.events[..s.events.len().min(l.events.len())]);
            if differing.is_none() && live != Some(&s.events[..]) {
                differing = Some(name.to_string());
            }
        });
        if let Some(name) = differing {
            return Err(StoreError::Corrupt {
                file: self.dir.join(INDEX_FILE).display().to_string(),
                offset: 0,
                detail: format!("index of stream {name:?} differs from the log"),
            });
        }
        drop(index);
        if let Some(anchor) = &self.anchor_at_open {
            // The re-read log must reach the head the anchor recorded, with the same chain.
            check_anchor(self.io.as_ref(), &self.dir, &fresh, anchor)?;
        }
        Ok(VerifyReport {
            events: fresh.head,
            head_position: fresh.head,
            streams: fresh.streams.len() as u64,
            chain_head: fresh.chain,
            bytes,
        })
    }
}

const READ_CHUNK_BYTES: usize = 1024 * 1024;

fn read_up_to(file: &dyn ReadFile, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = file.read_at(&mut buf[got..], offset + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// The bytes of the segment `path` from `base` on. A read-only open beside a live writer may
/// find the file shorter than its length said a moment before: at a roll the writer cuts the
/// pre-written zeros after the segment's last batch; what was read is then the segment. A
/// writer (the lock holder) never sees that: a shorter read fails.
fn read_segment(io: &dyn LogIo, path: &Path, base: u64, read_only: bool) -> Result<Vec<u8>, StoreError> {
    let file_len = io.file_len(path).map_err(|e| io_err(path, e))?;
    let mut data = vec![0u8; (file_len - base) as usize];
    let got = io
        .open_read(path)
        .and_then(|f| read_up_to(f.as_ref(), &mut data, base))
        .map_err(|e| io_err(path, e))?;
    if got < data.len() && !read_only {
        let short = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "segment shortened while read");
        return Err(io_err(path, short));
    }
    data.truncate(got);
    Ok(data)
}

/// Outcome of scanning one segment's bytes.
#[derive(Default)]
struct ScanEnd {
    /// Offset where a half-written final batch starts (only when `torn_ok`).
    torn_at: Option<u64>,
    /// Offset where the zeros of a pre-written tail start after the last batch (only when
    /// `torn_ok`): the clean end of the log, not a torn batch.
    zero_tail_at: Option<u64>,
}

/// Reads a whole segment (`data`) into `index`: header (when the index has not seen this
/// segment yet), then every batch with all checks and the chain.
///
/// `resume`: the index already covers this segment up to its recorded length (a checkpoint);
/// scanning starts there. `torn_ok`: this is the last segment of a recovery, where a
/// half-written final batch is reported in [`ScanEnd::torn_at`] instead of as corruption.
fn scan_segment(
    path: &Path,
    data: &[u8],
    base: usize,
    index: &mut Index,
    resume: bool,
    torn_ok: bool,
) -> Result<ScanEnd, StoreError> {
    let corrupt = |offset: u64, detail: String| StoreError::Corrupt {
        file: path.display().to_string(),
        offset,
        detail,
    };
    // Whether the segment's header says compact batches (unknown when resuming: the header
    // was checked when the checkpoint was written).
    let mut segment_compact = None;
    // `data` holds the segment's bytes from offset `base` on (`base` > 0 only when resuming).
    let start = match index.segments.last() {
        Some(s) if resume => {
            assert_eq!(s.len as usize, base, "resume reads from the covered end");
            base
        }
        _ => {
            assert_eq!(base, 0);
            let h = match format::parse_segment_header(data) {
                Ok(h) => h,
                Err(d) => {
                    // A segment whose creating write was cut: its header (and so its first batch)
                    // never fully landed; nothing of it was acknowledged.
                    let z = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                    if torn_ok && z == 0 {
                        // Pre-written zeros before the segment's first write landed.
                        return Ok(ScanEnd {
                            zero_tail_at: Some(0),
                            ..ScanEnd::default()
                        });
                    }
                    if torn_ok && z < SEGMENT_HEADER_LEN {
                        return Ok(ScanEnd {
                            torn_at: Some(0),
                            ..ScanEnd::default()
                        });
                    }
                    return Err(corrupt(0, d));
                }
            };
            if h.first_position != index.head + 1 {
                return Err(corrupt(
                    16,
                    format!(
                        "segment starts at position {} where {} was due",
                        h.first_position,
                        index.head + 1
                    ),
                ));
            }
            if parse_segment_name(&path.file_name().unwrap_or_default().to_string_lossy()) != Some(h.first_position) {
                return Err(corrupt(
                    16,
                    "segment file name does not match its first position".into(),
                ));
            }
            if h.chain_before != index.chain {
                return Err(StoreError::ChainBroken {
                    position: h.first_position,
                    detail: format!("segment {} does not continue the chain", path.display()),
                });
            }
            index.add_segment(h.first_position);
            segment_compact = Some(h.version >= format::FORMAT_VERSION_COMPACT);
            SEGMENT_HEADER_LEN
        }
    };
    let mut at = start;
    while at < base + data.len() {
        let rest = &data[at - base..];
        match format::parse_batch(rest) {
            Ok(batch) if segment_compact.is_some_and(|c| c != batch.header.compact) => {
                let detail = match batch.header.compact {
                    true => "a compact (version 3) batch in a segment of version 1 or 2",
                    false => "a version-1/2 batch in a segment of version 3",
                };
                return Err(corrupt(at as u64, detail.into()));
            }
            Ok(batch) => {
                index.apply_batch(at as u64, &batch, true).map_err(|f| match f {
                    ApplyFault::Corrupt { offset, detail } => corrupt(offset, detail),
                    ApplyFault::Chain { position, detail } => StoreError::ChainBroken { position, detail },
                })?;
                at += batch.header.total_len();
            }
            Err(fault) => {
                if torn_ok && format::is_zero_tail(rest) {
                    return Ok(ScanEnd {
                        zero_tail_at: Some(at as u64),
                        ..ScanEnd::default()
                    });
                }
                if torn_ok && format::is_torn_tail(rest, &fault) {
                    return Ok(ScanEnd {
                        torn_at: Some(at as u64),
                        ..ScanEnd::default()
                    });
                }
                return Err(corrupt(at as u64, fault_detail(&fault)));
            }
        }
    }
    Ok(ScanEnd::default())
}

fn fault_detail(f: &BatchFault) -> String {
    f.to_string()
}

/// Whether `path` is the segment the index already knows as its last one.
fn index_continues(index: &Index, path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    index.segments.last().map(|s| s.first_position) == parse_segment_name(&name)
}

/// Opens the directory's content: head anchor, checkpoint (if usable), then the log after it,
/// cutting a half-written final batch (writers only); then checks that the log reaches the
/// anchor.
fn recover(io: &dyn LogIo, dir: &Path, options: &FileLogOptions) -> Result<(Index, OpenReport), StoreError> {
    let read_only = options.read_only;
    // The anchor first: it only ever records bytes already durable, so whatever the segments
    // hold when they are listed next must reach it (even with a writer appending meanwhile).
    let anchor = read_anchor(io, dir)?;
    let names = match io.list_dir(dir) {
        Ok(n) => n,
        Err(e) if read_only && e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(dir, e)),
    };
    let mut segments: Vec<u64> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    segments.sort_unstable();
    for tmp_name in [INDEX_TMP_FILE, ANCHOR_TMP_FILE] {
        if !read_only && names.iter().any(|n| n == tmp_name) {
            let tmp = dir.join(tmp_name);
            io.remove_file(&tmp).map_err(|e| io_err(&tmp, e))?;
        }
    }
    let seg_path = |p: u64| dir.join(segment_name(p));

    let (mut index, source) = if segments.is_empty() {
        (Index::default(), IndexSource::New)
    } else {
        match load_checkpoint(io, dir, &segments)? {
            Ok(index) => (index, IndexSource::Checkpoint { tail_events: 0 }),
            Err(reason) => (Index::default(), IndexSource::Rebuilt { reason }),
        }
    };
    let checkpoint_head = index.head;
    let mut torn = None;
    // The last segment's pre-written zeros after its last batch: a writer cuts them (it
    // pre-writes its own), a reader leaves them.
    let mut zero_tail: Option<(PathBuf, u64)> = None;
    // Segments the checkpoint did not cover completely: the covered last one, then the rest.
    let first_unscanned = index.segments.len().saturating_sub(1);
    let to_scan: Vec<u64> = segments[first_unscanned.min(segments.len())..].to_vec();
    for (i, &first) in to_scan.iter().enumerate() {
        let path = seg_path(first);
        let is_last = i + 1 == to_scan.len();
        let resume = i == 0 && index_continues(&index, &path);
        // Resuming after the checkpoint reads only the bytes after its covered end.
        let base = if resume { index.segments.last().unwrap().len } else { 0 };
        let data = read_segment(io, &path, base, read_only)?;
        let file_len = base + data.len() as u64;
        let end = scan_segment(&path, &data, base as usize, &mut index, resume, is_last)?;
        if let Some(cut) = end.torn_at {
            if !is_last {
                return Err(StoreError::Corrupt {
                    file: path.display().to_string(),
                    offset: cut,
                    detail: "damaged batch in a segment that is not the last".into(),
                });
            }
            torn = Some(TornTail {
                file: path.clone(),
                offset: cut,
                bytes: file_len - cut,
            });
        }
        if let Some(end) = end.zero_tail_at {
            zero_tail = Some((path.clone(), end));
        }
    }
    // Before anything is cut: a log that lost acknowledged events is left as it was found.
    let lost_tail = match check_reaches_anchor(io, dir, &index, anchor.as_ref()) {
        Ok(()) => None,
        Err(e) if options.recovery == Recovery::AcceptLostTail => Some(e.to_string()),
        Err(e) => return Err(e),
    };
    let cut = torn.as_ref().map(|t| (t.file.clone(), t.offset)).or(zero_tail);
    if let (Some((file, offset)), false) = (cut, read_only) {
        if offset < SEGMENT_HEADER_LEN as u64 {
            io.remove_file(&file).map_err(|e| io_err(&file, e))?;
        } else {
            io.truncate(&file, offset).map_err(|e| io_err(&file, e))?;
        }
        io.sync_dir(dir).map_err(|e| io_err(dir, e))?;
    }
    let source = match source {
        IndexSource::Checkpoint { .. } => IndexSource::Checkpoint {
            tail_events: index.head - checkpoint_head,
        },
        s => s,
    };
    let report = OpenReport {
        index: source,
        torn_bytes_cut: torn.as_ref().map_or(0, |t| t.bytes),
        head_position: index.head,
        torn,
        anchor,
        lost_tail,
    };
    Ok((index, report))
}

/// The head anchor in `dir`, if there is one. One that cannot be read or decoded is damage:
/// it is only ever replaced whole (written aside, synced, renamed), so it is never torn.
fn read_anchor(io: &dyn LogIo, dir: &Path) -> Result<Option<Anchor>, StoreError> {
    let path = dir.join(ANCHOR_FILE);
    let bytes = match io.read_whole(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path, e)),
    };
    Anchor::decode(&bytes).map(Some).map_err(|detail| StoreError::Corrupt {
        file: path.display().to_string(),
        offset: 0,
        detail,
    })
}

/// Checks that the recovered log reaches its anchor; a log whose last segment is of format
/// version 2 or later must have one.
fn check_reaches_anchor(io: &dyn LogIo, dir: &Path, index: &Index, anchor: Option<&Anchor>) -> Result<(), StoreError> {
    if let Some(anchor) = anchor {
        return check_anchor(io, dir, index, anchor);
    }
    let Some(last) = index.segments.last() else {
        return Ok(());
    };
    let path = dir.join(segment_name(last.first_position));
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    io.open_read(&path)
        .and_then(|f| f.read_exact_at(&mut header, 0))
        .map_err(|e| io_err(&path, e))?;
    let version = format::parse_segment_header(&header).map_or(0, |h| h.version);
    if version >= 2 {
        return Err(StoreError::Lost {
            file: dir.join(ANCHOR_FILE).display().to_string(),
            detail: format!(
                "head anchor missing, but the last segment {} is of format version {version}, \
                 whose writer anchors before creating a segment: the anchor was deleted, and \
                 with it may have gone proof of lost events",
                path.display()
            ),
        });
    }
    Ok(())
}

/// Checks that `index` (a recovered or re-read log) reaches `anchor`: its head is at or past
/// the anchored position, and the batch the anchor names ends there with the anchored chain.
fn check_anchor(io: &dyn LogIo, dir: &Path, index: &Index, anchor: &Anchor) -> Result<(), StoreError> {
    if anchor.head_position == 0 {
        return Ok(());
    }
    let anchor_path = dir.join(ANCHOR_FILE);
    if index.head < anchor.head_position {
        return Err(StoreError::Lost {
            file: anchor_path.display().to_string(),
            detail: format!(
                "the log ends at position {} but its head anchor records position {} as durable: \
             acknowledged events {}..={} are missing (the end of the log was truncated or a \
             segment deleted)",
                index.head,
                anchor.head_position,
                index.head + 1,
                anchor.head_position
            ),
        });
    }
    let Some(info) = index
        .segments
        .iter()
        .find(|s| s.first_position == anchor.segment_first_position)
    else {
        return Err(StoreError::Corrupt {
            file: anchor_path.display().to_string(),
            offset: 0,
            detail: format!(
                "the segment {} that the head anchor names is not part of the log",
                segment_name(anchor.segment_first_position)
            ),
        });
    };
    let path = dir.join(segment_name(info.first_position));
    let mismatch = |detail: &str| StoreError::ChainBroken {
        position: anchor.head_position,
        detail: format!(
            "{}, byte offset {}: {detail}; the log is not the one its head anchor recorded",
            path.display(),
            anchor.batch_offset
        ),
    };
    let header_end = anchor.batch_offset + format::BATCH_HEADER_LEN as u64;
    if anchor.batch_offset < SEGMENT_HEADER_LEN as u64 || header_end > info.len {
        return Err(mismatch(
            "the anchored batch lies outside the segment's committed bytes",
        ));
    }
    let file = io.open_read(&path).map_err(|e| io_err(&path, e))?;
    let mut buf = vec![0u8; format::BATCH_HEADER_LEN];
    file.read_exact_at(&mut buf, anchor.batch_offset)
        .map_err(|e| io_err(&path, e))?;
    let header = format::parse_batch_header(&buf).map_err(|_| mismatch("no batch starts there"))?;
    if anchor.batch_offset + header.total_len() as u64 > info.len {
        return Err(mismatch("the anchored batch runs past the segment's committed bytes"));
    }
    buf.resize(header.total_len(), 0);
    file.read_exact_at(&mut buf, anchor.batch_offset)
        .map_err(|e| io_err(&path, e))?;
    let batch = format::parse_batch(&buf).map_err(|f| mismatch(&f.to_string()))?;
    let last = batch.header.first_position + u64::from(batch.header.count) - 1;
    if last != anchor.head_position || batch.chain_after != anchor.chain {
        return Err(mismatch(&format!(
            "the batch there ends at position {last} with chain {}, the anchor records position {} \
             with chain {}",
            crate::chain::to_hex(&batch.chain_after),
            anchor.head_position,
            crate::chain::to_hex(&anchor.chain)
        )));
    }
    Ok(())
}

/// The anchor for the log's current head.
fn anchor_of(index: &Index) -> Anchor {
    match index.segments.last() {
        Some(last) if index.head > 0 => Anchor {
            head_position: index.head,
            chain: index.chain,
            segment_first_position: last.first_position,
            batch_offset: index.last_batch_offset,
        },
        _ => Anchor::empty(),
    }
}

/// Makes `anchor` the durable head anchor of the log in `dir` (every byte it records must
/// already be durable).
fn write_anchor(io: &dyn LogIo, dir: &Path, anchor: &Anchor) -> Result<(), StoreError> {
    write_atomically(io, dir, ANCHOR_TMP_FILE, ANCHOR_FILE, &anchor.encode())
}

/// Replaces `dir/name` with `bytes` whole: written to `dir/tmp_name`, synced, renamed over
/// `name`, directory synced. A crash leaves the old file or the new one, never a mix.
pub(crate) fn write_atomically(
    io: &dyn LogIo,
    dir: &Path,
    tmp_name: &str,
    name: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let tmp = dir.join(tmp_name);
    let dst = dir.join(name);
    if io.file_len(&tmp).is_ok() {
        // Left by a write that failed half-way in this process.
        io.remove_file(&tmp).map_err(|e| io_err(&tmp, e))?;
    }
    let mut f = io.open_append(&tmp, true).map_err(|e| io_err(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io_err(&tmp, e))?;
    f.sync_data().map_err(|e| io_err(&tmp, e))?;
    drop(f);
    io.rename(&tmp, &dst).map_err(|e| io_err(&dst, e))?;
    io.sync_dir(dir).map_err(|e| io_err(dir, e))?;
    Ok(())
}

/// Longest holder description kept in the lock file.
const LOCK_HOLDER_LEN_MAX: usize = 512;

/// Writes who holds the writer lock (pid and command line) into the lock file, for the error a
/// second writer gets. Best effort: the lock itself is the exclusion; this is only its label.
fn record_lock_holder(io: &dyn LogIo, lock_path: &Path) {
    let args: Vec<String> = std::env::args_os()
        .map(|a| redact_password(&a.to_string_lossy()))
        .collect();
    let mut text = format!("pid {} ({})", std::process::id(), args.join(" "));
    if text.len() > LOCK_HOLDER_LEN_MAX {
        let mut end = LOCK_HOLDER_LEN_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    let _ = io
        .truncate(lock_path, 0)
        .and_then(|()| io.open_append(lock_path, false))
        .and_then(|mut f| f.write_all(format!("{text}\n").as_bytes()));
}

/// `arg` with the password of a URL in it (`scheme://user:password@host`) replaced by `***`:
/// the lock file is readable by whoever can list the store, and its label ends up in messages.
fn redact_password(arg: &str) -> String {
    let Some(scheme_end) = arg.find("://") else {
        return arg.to_owned();
    };
    let rest = &arg[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return arg.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:***{}", &arg[..scheme_end + 3], &rest[..colon], &rest[at..]),
        None => arg.to_owned(),
    }
}

/// Who holds the lock, as its holder recorded it.
fn read_lock_holder(io: &dyn LogIo, lock_path: &Path) -> String {
    match io.read_whole(lock_path) {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b[..b.len().min(LOCK_HOLDER_LEN_MAX + 8)])
            .trim()
            .to_string(),
        _ => "a process that has not recorded itself (starting, or an older plaint)".into(),
    }
}

/// The checkpoint (`Ok(Ok)`), or why it cannot be used and the index must be rebuilt
/// (`Ok(Err)`: missing, damaged, other version). A sound checkpoint that the log contradicts (a
/// segment it lists is missing or shorter, its last batch differs) is corruption of the log.
fn load_checkpoint(io: &dyn LogIo, dir: &Path, segments: &[u64]) -> Result<Result<Index, String>, StoreError> {
    let path = dir.join(INDEX_FILE);
    // Only part A (head, chain, segments, marks) is read here; the streams (part B) load later.
    let part_a = || -> Result<Vec<u8>, String> {
        let file = io.open_read(&path).map_err(|e| format!("no checkpoint ({e})"))?;
        let mut prefix = [0u8; index::CHECKPOINT_PREFIX_LEN];
        file.read_exact_at(&mut prefix, 0)
            .map_err(|e| format!("checkpoint unreadable ({e})"))?;
        let len = Index::checkpoint_part_a_len(&prefix)?;
        let mut a = vec![0u8; len + 4];
        file.read_exact_at(&mut a, 0)
            .map_err(|e| format!("checkpoint unreadable ({e})"))?;
        Ok(a)
    };
    let index = match part_a().and_then(|a| Index::from_checkpoint_part_a(&a)) {
        Ok(i) => i,
        Err(reason) => return Ok(Err(reason)),
    };
    if index.segments.is_empty() || index.head == 0 {
        return Ok(Err("checkpoint of an empty log".into()));
    }
    let corrupt = |first: u64, offset: u64, detail: String| StoreError::Corrupt {
        file: dir.join(segment_name(first)).display().to_string(),
        offset,
        detail,
    };
    let last = index.segments.len() - 1;
    for (i, s) in index.segments.iter().enumerate() {
        if segments.get(i) != Some(&s.first_position) {
            return Err(corrupt(
                s.first_position,
                0,
                "segment missing (the checkpoint lists it)".into(),
            ));
        }
        let p = dir.join(segment_name(s.first_position));
        let len = io.file_len(&p).map_err(|e| io_err(&p, e))?;
        if len < s.len || (i < last && len != s.len) {
            return Err(corrupt(
                s.first_position,
                len.min(s.len),
                format!("segment is {len} bytes, the checkpoint recorded {} committed", s.len),
            ));
        }
    }
    // The batch ending at the covered end must carry the recorded head and chain value.
    let info = &index.segments[last];
    let p = dir.join(segment_name(info.first_position));
    let batch_len = match info.len.checked_sub(index.last_batch_offset) {
        Some(l) if l as usize <= BATCH_BYTES_MAX => l as usize,
        _ => return Ok(Err("checkpoint's last batch offset out of range".into())),
    };
    let file = io.open_read(&p).map_err(|e| io_err(&p, e))?;
    let mut buf = vec![0u8; batch_len];
    file.read_exact_at(&mut buf, index.last_batch_offset)
        .map_err(|e| io_err(&p, e))?;
    let batch =
        format::parse_batch(&buf).map_err(|f| corrupt(info.first_position, index.last_batch_offset, f.to_string()))?;
    if batch.header.total_len() != buf.len()
        // Checked: a damaged (or forged, CRC-correct) header may carry any position or count
        // (found by the segment_recovery fuzz target: an overflow panic, not a damage report).
        || batch
            .header
            .first_position
            .checked_add(u64::from(batch.header.count))
            .and_then(|end| end.checked_sub(1))
            != Some(index.head)
        || batch.chain_after != index.chain
    {
        return Err(corrupt(
            info.first_position,
            index.last_batch_offset,
            "last batch the checkpoint covers does not carry its head and chain value".into(),
        ));
    }
    Ok(Ok(index))
}

/// The chain value and head a log would report, for tools: `(head_position, chain_head)`.
pub fn chain_summary(log: &FileLog) -> (u64, ChainHash) {
    let index = log.shared.index.read().unwrap();
    (index.head, index.chain)
}

#[cfg(test)]
mod lock_label_tests {
    #[test]
    fn passwords_in_urls_are_not_recorded() {
        use super::redact_password;
        assert_eq!(
            redact_password("--to=postgres://plaint:secret@127.0.0.1:5432/db"),
            "--to=postgres://plaint:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact_password("import"), "import");
    }
}

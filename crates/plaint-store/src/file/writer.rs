//! The writer: pipelined group commit, positions, the chain, segments, anchors, checkpoints.
//!
//! Two log threads share two roles. The thread holding the **writer role** takes the appends
//! waiting in the queue (group commit), plans them against the *written* head (the durable
//! index plus the groups written but not yet synced, kept in its own overlay), encodes one
//! batch and writes it with one `write`. The thread holding the **sync role** makes every group
//! written so far durable with one `fdatasync` (on a second handle of the segment file), then
//! applies them to the shared index, anchors, publishes the new head and answers the
//! appenders. A thread that has written a group takes the sync role itself when no sync is
//! running, so a lone caller costs one hand-off to the log and one back (no third thread is
//! woken); while it syncs, an append that arrives wakes the other thread, which writes it
//! (batch N+1 is planned, encoded and written while batch N syncs), and the thread whose sync
//! returns syncs what was written meanwhile. The rules (`docs/log-format.md`, "Durability
//! modes"): nothing unsynced is ever in the index (so never read, streamed or deduplicated
//! against by a reader); a failed sync fails its group and every group written after it, and
//! the log then refuses appends until reopened; answers go out in commit order, also for
//! appends that wrote nothing (refused or deduplicated against a group still in flight).

use super::format::{self, command_hash, EventRef, SEGMENT_HEADER_LEN};
use super::index::{decode_records, DecodedBatch, Index};
use super::{
    anchor_of, io_err, write_anchor, write_atomically, CommitParts, Durability, FileLogOptions, RoleTimes, Shared,
    COMMIT_PART_BOUNDS_MICROS, COMMIT_PART_BUCKETS, INDEX_FILE, INDEX_TMP_FILE,
};
use crate::io::AppendFile;
use crate::io::SyncFile;
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The outcome, the requests handed back so that their memory is freed by the caller's thread
/// instead of the writer's, and the answers of the rest of the commit group for the caller to
/// pass on ([`Relay`]).
type Answer = (Result<Vec<AppendResult>, StoreError>, Vec<AppendRequest>, Relay);
type Reply = oneshot::Sender<Answer>;
type Outcome = (Reply, Result<Vec<AppendResult>, StoreError>, Vec<AppendRequest>);

/// Answers that one caller's task passes on to the others of its commit group: the sync role
/// wakes one task per group instead of one per caller (a wake from outside the runtime costs a
/// thread hand-off; the relaying task wakes the others from inside it). The answers go out when
/// the relay is dropped, wherever that happens: also when the carrying caller stopped waiting.
struct Relay(Vec<Outcome>, Sent);

/// When the sync role sent a group's answers, for [`CommitParts::wake`] (`None`: answers
/// that are not counted — failures answered by [`fail_all`], whose other parts are not either).
#[derive(Clone, Copy)]
struct Sent(Option<Instant>);

impl Drop for Relay {
    fn drop(&mut self) {
        for (reply, r, requests) in self.0.drain(..) {
            let _ = reply.send((r, requests, Relay(Vec::new(), self.1)));
        }
    }
}

/// Answers `outcomes`, in order, with one wake-up from this thread: the first caller carries
/// the others' answers ([`Relay`]).
fn answer(outcomes: Vec<Outcome>, sent: Sent) {
    let mut outcomes = outcomes.into_iter();
    if let Some((reply, r, requests)) = outcomes.next() {
        // A caller that stopped waiting drops what it was sent, and with it the relay: the
        // others are answered all the same.
        let _ = reply.send((r, requests, Relay(outcomes.collect(), sent)));
    }
}

/// One caller's append or append_many: committed all together or not at all.
struct Command {
    requests: Vec<AppendRequest>,
    /// Encoded record bytes (checked against the limits by the caller).
    bytes: usize,
    events: usize,
    reply: Reply,
    /// When the caller handed it to the log (for [`CommitParts::queued`]).
    submitted: Instant,
    /// Keys and links to make durable before this command's events are written (skipped when
    /// the command is refused or fully deduplicated).
    vault: Option<(Arc<super::vault::FileVault>, crate::vault::VaultWrite)>,
}

/// The handle's end of the writer.
pub(crate) struct WriterHandle {
    core: Arc<Core>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The log directory's lock: released after the last checkpoint (in a mutex only to be
    /// `Sync`; never locked).
    _lock: Mutex<Box<dyn Any + Send>>,
}

impl WriterHandle {
    /// Queues an append and waits for its durable commit (or its rejection).
    pub async fn submit(&self, requests: Vec<AppendRequest>, bytes: usize) -> Result<Vec<AppendResult>, StoreError> {
        self.submit_with_vault(requests, bytes, None).await
    }

    /// [`WriterHandle::submit`], writing `vault`'s keys durably once the append is accepted and
    /// before its events are written.
    pub async fn submit_with_vault(
        &self,
        requests: Vec<AppendRequest>,
        bytes: usize,
        vault: Option<(Arc<super::vault::FileVault>, crate::vault::VaultWrite)>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let submitted = Instant::now();
        let (reply, rx) = oneshot::channel();
        let events = requests.iter().map(|r| r.events.len()).sum();
        let pipe = &self.core.pipe;
        // Room in the queue; given back when the command is taken from it.
        pipe.room.acquire().await.map_err(|_| StoreError::Closed)?.forget();
        pipe.submit(Command {
            requests,
            bytes,
            events,
            reply,
            submitted,
            vault,
        })?;
        let (result, requests, relay) = rx.await.map_err(|_| StoreError::Closed)?;
        if let Sent(Some(sent)) = relay.1 {
            pipe.times.add(Part::Wake, sent.elapsed(), 1);
        }
        drop(relay);
        drop(requests);
        result
    }

    /// Where acknowledged commits' time went, and the log threads' time by role.
    pub fn times(&self) -> (CommitParts, RoleTimes) {
        self.core.pipe.times.snapshot()
    }

    /// Idle log threads woken, spins begun, spins that took work without parking.
    pub fn idle_counts(&self) -> (u64, u64, u64) {
        let s = self.core.pipe.lock();
        (s.wakes, s.spins, s.spins_caught)
    }

    /// Lets the log threads finish what is queued, then syncs, anchors and checkpoints; waits
    /// for it.
    pub fn shutdown(mut self) -> Result<(), StoreError> {
        self.core.pipe.close();
        let mut joined = Ok(());
        for thread in std::mem::take(&mut self.threads) {
            if thread.join().is_err() {
                joined = Err(StoreError::Closed);
            }
        }
        joined?;
        let mut syncer = self.core.syncer.lock().map_err(|_| StoreError::Closed)?;
        syncer.finish()?;
        // Everything written is durable: the last segment keeps exactly its batches, as a log
        // without pre-writing does.
        self.core.writer.lock().map_err(|_| StoreError::Closed)?.trim_tail()
    }
}

impl Drop for WriterHandle {
    /// Without [`WriterHandle::shutdown`]: the threads still finish what is queued and stop.
    fn drop(&mut self) {
        self.core.pipe.close();
    }
}

pub(crate) fn start(
    shared: Arc<Shared>,
    options: FileLogOptions,
    head_tx: tokio::sync::watch::Sender<u64>,
    lock: Box<dyn Any + Send>,
) -> Result<WriterHandle, StoreError> {
    let file = open_last_segment(&shared)?;
    // What the anchor on disk covers; a log without one (new, or format version 1) gets one
    // before its next segment is created.
    let anchored_head = shared.anchor_at_open.map(|a| a.head_position);
    let syncer_file = match &file {
        Some(seg) => {
            let path = shared.segment_path(seg.first_position);
            let handle = seg.file.sync_handle().map_err(|e| io_err(&path, e))?;
            Some((path, handle))
        }
        None => None,
    };
    let pipe = Arc::new(Pipe::new(Duration::from_micros(options.idle_spin_micros)));
    let timer = AnchorTimer::start(Arc::downgrade(&pipe))?;
    let (spare_tx, spare_rx) = std::sync::mpsc::channel();
    let syncer = Syncer {
        shared: shared.clone(),
        options: options.clone(),
        head_tx,
        pipe: pipe.clone(),
        file: syncer_file,
        spare: spare_tx,
        batches_since_sync: 0,
        unsynced: false,
        events_since_checkpoint: 0,
        anchored_head,
        anchored_at: Instant::now(),
        roll_unanchored: false,
        timer,
        answered: Vec::new(),
    };
    let writer = Writer {
        shared,
        options,
        pipe: pipe.clone(),
        spare: spare_rx,
        file,
        written: WrittenHead::default(),
        overlay: VecDeque::new(),
    };
    let core = Arc::new(Core {
        pipe,
        writer: Mutex::new(writer),
        syncer: Mutex::new(syncer),
    });
    let mut handle = WriterHandle {
        core: core.clone(),
        threads: Vec::new(),
        _lock: Mutex::new(lock),
    };
    for name in ["plaint-log-a", "plaint-log-b"] {
        let core = core.clone();
        let first = handle.threads.is_empty();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _gone = ThreadGone(core.pipe.clone());
                if first {
                    // Holds the writer role from the start (`Pipe::new`).
                    core.writer.lock().unwrap().prepare();
                    core.pipe.written(None);
                }
                core.run();
            })
            .map_err(|e| StoreError::Io {
                path: "log thread".into(),
                source: e,
            })?;
        handle.threads.push(thread);
    }
    Ok(handle)
}

/// The last segment, opened for appending (`None`: the log has none yet).
fn open_last_segment(shared: &Shared) -> Result<Option<OpenSegment>, StoreError> {
    let index = shared.index.read().unwrap();
    let Some(s) = index.segments.last() else {
        return Ok(None);
    };
    let path = shared.segment_path(s.first_position);
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    shared
        .io
        .open_read(&path)
        .and_then(|f| f.read_exact_at(&mut header, 0))
        .map_err(|e| io_err(&path, e))?;
    let version = format::parse_segment_header(&header)
        .map_err(|detail| StoreError::Corrupt {
            file: path.display().to_string(),
            offset: 0,
            detail,
        })?
        .version;
    Ok(Some(OpenSegment {
        first_position: s.first_position,
        version,
        file: shared.io.open_append(&path, false).map_err(|e| io_err(&path, e))?,
        // Recovery cut the file to its last batch (a torn batch or pre-written zeros after it).
        file_len: s.len,
    }))
}

struct OpenSegment {
    first_position: u64,
    /// Format version of the segment: a segment of an older version is not appended to; the
    /// next batch starts a new segment of today's version.
    version: u32,
    file: Box<dyn AppendFile>,
    /// Bytes the file holds: the batches, then the zeros pre-written after them (synced).
    file_len: u64,
}

/// Wakes the log threads when the anchor interval runs out after appends stopped, so the
/// anchor never lags the acknowledged head by more than the interval. A thread of its own,
/// because the log threads sleep until there is work; it ends when the syncer drops its end.
struct AnchorTimer {
    arm: std::sync::mpsc::Sender<Instant>,
    armed: bool,
}

impl AnchorTimer {
    fn start(pipe: Weak<Pipe>) -> Result<AnchorTimer, StoreError> {
        let (arm, deadlines) = std::sync::mpsc::channel::<Instant>();
        std::thread::Builder::new()
            .name("plaint-log-anchor".into())
            .spawn(move || {
                while let Ok(deadline) = deadlines.recv() {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    let Some(pipe) = pipe.upgrade() else { return };
                    pipe.anchor_due();
                }
            })
            .map_err(|e| StoreError::Io {
                path: "anchor timer thread".into(),
                source: e,
            })?;
        Ok(AnchorTimer { arm, armed: false })
    }

    /// Asks for one wake-up at `deadline` (no-op while one is pending).
    fn arm(&mut self, deadline: Instant) {
        if !self.armed {
            self.armed = self.arm.send(deadline).is_ok();
        }
    }
}

/// What the log threads share. A role's state is locked only by the thread holding the role
/// (`PipeState::writing`, `PipeState::syncing`), so these locks are never contended.
struct Core {
    pipe: Arc<Pipe>,
    writer: Mutex<Writer>,
    syncer: Mutex<Syncer>,
}

/// Whether work is left for another thread once one has taken its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MoreWork {
    None,
    ForAnother,
}

/// What a log thread does next.
enum Work {
    /// The writer role: plan, encode and write these appends (one group).
    Write(Vec<Command>),
    /// The sync role: make these durable, apply and answer them, in order.
    Sync(Vec<ToSync>),
    /// The log is closed and everything queued is done, or a log thread failed.
    Stop,
}

impl Core {
    /// One log thread: takes whichever role has work and is free, until the log stops.
    ///
    /// Two clock reads per hand-out of work: when it is taken (the end of the wait, and a
    /// group's `taken`) and when the role is done (a group's `handed`, and the next wait's
    /// start).
    fn run(&self) {
        let mut idle = Idle::default();
        let times = &self.pipe.times;
        let mut waiting_since = Instant::now();
        loop {
            let work = self.pipe.next_work(&mut idle);
            let taken = Instant::now();
            times.add_role(&times.waiting, taken - waiting_since);
            times.waits.fetch_add(1, Ordering::Relaxed);
            match work {
                Work::Write(group) => {
                    let mut written = self.writer.lock().unwrap().commit_group(group, taken);
                    waiting_since = Instant::now();
                    if let Some(w) = written.as_mut() {
                        w.times.handed = waiting_since;
                    }
                    self.pipe.written(written);
                    times.add_role(&times.writing, waiting_since - taken);
                }
                Work::Sync(items) => {
                    self.syncer.lock().unwrap().run(items);
                    self.pipe.synced();
                    waiting_since = Instant::now();
                    times.add_role(&times.syncing, waiting_since - taken);
                }
                Work::Stop => break,
            }
        }
    }
}

/// The queue of appends, the hand-over from the writer role to the sync role, and who holds
/// which role.
struct Pipe {
    state: Mutex<PipeState>,
    /// Idle log threads wait here for work.
    work: Condvar,
    /// Room in the queue: at most `WRITER_QUEUE_MAX` appends wait; a submitter beyond waits for
    /// a permit (closed when a log thread fails).
    room: tokio::sync::Semaphore,
    /// Bumped under the lock whenever an idle thread is asked to take work: a spinning thread
    /// watches it instead of parking on `work`.
    signal: AtomicU64,
    /// How long an idle log thread spins before it parks (zero: it parks at once).
    spin: Duration,
    /// Where commits' and the log threads' time went (for [`super::WriterStats`]).
    times: Times,
}

/// The parts of a commit's latency ([`CommitParts`]), as indices into [`Times::parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Queued,
    Writing,
    BehindSync,
    Sync,
    Answering,
    Wake,
}

/// One part's histogram, kept by one thread for one group before it is added to [`Times`].
type Buckets = [u64; COMMIT_PART_BUCKETS];

/// The bucket of [`COMMIT_PART_BOUNDS_MICROS`] that `d` falls into.
fn bucket_of(d: Duration) -> usize {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    super::bucket_in(&COMMIT_PART_BOUNDS_MICROS, micros)
}

/// Counters of [`CommitParts`] and [`RoleTimes`] (relaxed atomics, a few per group and one per
/// commit: the caller's wake-up).
#[derive(Default)]
struct Times {
    parts: [[AtomicU64; COMMIT_PART_BUCKETS]; 6],
    writing: AtomicU64,
    syncing: AtomicU64,
    waiting: AtomicU64,
    waits: AtomicU64,
}

impl Times {
    /// Counts `commits` commits that spent `d` in `part`.
    fn add(&self, part: Part, d: Duration, commits: u64) {
        if commits > 0 {
            self.parts[part as usize][bucket_of(d)].fetch_add(commits, Ordering::Relaxed);
        }
    }

    /// Adds a group's histogram of `part`.
    fn add_buckets(&self, part: Part, buckets: &Buckets) {
        for (counter, &n) in self.parts[part as usize].iter().zip(buckets) {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Counts a group of `commits` commands with times `t`, acknowledged after `sync`, their
    /// answers sent at `sent`.
    fn count_group(&self, commits: u64, t: &GroupTimes, sync: SyncSpan, sent: Instant) {
        self.add_buckets(Part::Queued, &t.queued);
        self.add(Part::Writing, t.handed - t.taken, commits);
        // The sync role takes groups already handed over, so `sync.began` follows `t.handed`.
        self.add(
            Part::BehindSync,
            sync.began.saturating_duration_since(t.handed),
            commits,
        );
        if let Some(ended) = sync.ended {
            self.add(Part::Sync, ended - sync.began, commits);
        }
        self.add(Part::Answering, sent - sync.ended.unwrap_or(sync.began), commits);
    }

    fn add_role(&self, role: &AtomicU64, d: Duration) {
        role.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> (CommitParts, RoleTimes) {
        let part = |p: Part| -> Buckets { std::array::from_fn(|i| self.parts[p as usize][i].load(Ordering::Relaxed)) };
        let parts = CommitParts {
            queued: part(Part::Queued),
            writing: part(Part::Writing),
            behind_sync: part(Part::BehindSync),
            sync: part(Part::Sync),
            answering: part(Part::Answering),
            wake: part(Part::Wake),
        };
        let roles = RoleTimes {
            writing_nanos: self.writing.load(Ordering::Relaxed),
            syncing_nanos: self.syncing.load(Ordering::Relaxed),
            waiting_nanos: self.waiting.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
        };
        (parts, roles)
    }
}

/// Where a run of groups' `behind_sync` part ends (`began`) and, when a sync ran, when it
/// ended (the `sync` part).
#[derive(Clone, Copy)]
struct SyncSpan {
    began: Instant,
    ended: Option<Instant>,
}

/// When a group was taken and handed over, and its commands' waits in the queue. Kept inline
/// in [`Written`] (no allocation per group on the writer role's serial path).
#[derive(Clone, Copy)]
struct GroupTimes {
    queued: Buckets,
    taken: Instant,
    handed: Instant,
}

impl GroupTimes {
    /// A group taken by the writer role at `taken` (its `handed` is set when it is handed over).
    fn taken(group: &[Command], taken: Instant) -> GroupTimes {
        let mut queued = [0; COMMIT_PART_BUCKETS];
        for c in group {
            queued[bucket_of(taken.saturating_duration_since(c.submitted))] += 1;
        }
        GroupTimes {
            queued,
            taken,
            handed: taken,
        }
    }
}

/// A log thread's record of its waits for work. It spins before parking only when its last
/// wait was no longer than the spin (a lone caller's next append arrives within its own CPU
/// time), and on every [`SPIN_RETRY`]th wait all the same, so that a long wait (a slow caller,
/// a preemption) does not switch spinning off for good; an idle log spins at most once per
/// `SPIN_RETRY` waits.
#[derive(Default)]
struct Idle {
    /// The last wait ended within the spin.
    short: bool,
    waits: u32,
}

/// See [`Idle`].
const SPIN_RETRY: u32 = 8;
/// `spin_loop` hints between two looks at the signal and the clock while spinning.
const SPIN_PAUSES: u32 = 16;

impl Idle {
    /// Whether this wait spins first.
    fn spins(&mut self) -> bool {
        self.waits = self.waits.wrapping_add(1);
        self.short || self.waits % SPIN_RETRY == 0
    }

    fn waited(&mut self, waited: Duration, spin: Duration) {
        self.short = waited <= spin;
    }
}

struct PipeState {
    /// Appends waiting for the writer role, in arrival order.
    queue: VecDeque<Command>,
    /// What the writer role handed over, in commit order, waiting for the sync role.
    to_sync: VecDeque<ToSync>,
    /// A thread holds the writer role.
    writing: bool,
    /// A thread holds the sync role.
    syncing: bool,
    /// Threads waiting on `Pipe::work` (none: nobody to wake; every thread checks for work
    /// under the lock before it waits).
    idle: u32,
    /// Idle threads woken for work so far (each one a thread hand-off).
    wakes: u64,
    /// Threads spinning for work (counted apart from `idle`: nobody needs to wake them).
    spinning: u32,
    /// The thread holding the sync role has synced and answered, and only finishes up (no
    /// checkpoint to write): it takes new appends itself in a moment.
    sync_answered: bool,
    /// Spins begun, and those that ended with work taken (no park, no wake-up).
    spins: u64,
    spins_caught: u64,
    /// The handle shut down: the threads finish what is queued and stop.
    closed: bool,
    /// A log thread panicked: nothing more is taken or queued.
    broken: bool,
    /// Set after a failed write or sync (or anchor or checkpoint): nothing more is written or
    /// acknowledged (the page cache can no longer be trusted to hold what was written); reopen
    /// the log.
    failed: Option<String>,
}

impl Pipe {
    fn new(spin: Duration) -> Pipe {
        Pipe {
            state: Mutex::new(PipeState {
                queue: VecDeque::new(),
                to_sync: VecDeque::new(),
                // The first thread prepares the writer (`Writer::prepare`) before any append.
                writing: true,
                syncing: false,
                idle: 0,
                wakes: 0,
                spinning: 0,
                sync_answered: false,
                spins: 0,
                spins_caught: 0,
                closed: false,
                broken: false,
                failed: None,
            }),
            work: Condvar::new(),
            room: tokio::sync::Semaphore::new(super::WRITER_QUEUE_MAX),
            signal: AtomicU64::new(0),
            spin,
            times: Times::default(),
        }
    }

    /// Tells a spinning thread to look at the state again (the caller holds the lock, so the
    /// thread sees the change when it takes it).
    fn signal(&self) {
        self.signal.fetch_add(1, Ordering::Release);
    }

    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands work nobody holding a role will take to a spinning thread, or else wakes an idle
    /// one, if one is idle. The lock is released first, so the woken thread does not block on
    /// it.
    fn wake_one(&self, mut s: MutexGuard<'_, PipeState>) {
        self.signal();
        if s.spinning == 0 && s.idle > 0 {
            s.wakes += 1;
            drop(s);
            self.work.notify_one();
        }
    }

    /// Queues a command; wakes an idle thread when nobody is writing (a thread that is
    /// writing takes the queue when it is done).
    fn submit(&self, command: Command) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.closed || s.broken {
            self.room.add_permits(1);
            return Err(StoreError::Closed);
        }
        s.queue.push_back(command);
        // A thread holding the writer role takes the queue when it is done, and so does a
        // thread that is finishing a sync it has already answered: waking the other thread
        // then would be a hand-off for nothing (the lone caller's next append usually arrives
        // in that window).
        if !s.writing && !s.sync_answered {
            self.wake_one(s);
        }
        Ok(())
    }

    /// Waits for work this thread may take: the sync role first (the groups written are the
    /// oldest callers), then the writer role. Before parking, spins up to `Pipe::spin` when
    /// `idle` says the work is likely to come that soon.
    fn next_work(&self, idle: &mut Idle) -> Work {
        let mut s = self.lock();
        let mut waiting: Option<(Instant, Option<Instant>)> = None;
        let mut parked = false;
        loop {
            if let Some((work, others)) = self.take_work(&mut s) {
                if let Some((since, spun)) = waiting {
                    s.spins_caught += u64::from(spun.is_some() && !parked);
                    idle.waited(since.elapsed(), self.spin);
                }
                if others == MoreWork::ForAnother {
                    self.wake_one(s);
                }
                return work;
            }
            let now = Instant::now();
            // Only an idle log spins: while the other thread writes or syncs, the callers
            // with appends to make are mostly waiting for that group (64 appenders: spinning
            // then only took CPU from them).
            let log_idle = !s.writing && !s.syncing;
            let (_, spin_until) = *waiting.get_or_insert_with(|| {
                let spins = !self.spin.is_zero() && log_idle && idle.spins();
                (now, spins.then(|| now + self.spin))
            });
            match spin_until {
                Some(deadline) if now < deadline => s = self.spin_until(s, deadline),
                _ => {
                    parked = true;
                    s.idle += 1;
                    s = self.work.wait(s).unwrap_or_else(|e| e.into_inner());
                    s.idle -= 1;
                }
            }
        }
    }

    /// The work this thread may take now, if any (its role taken), and whether work is left
    /// for the other thread.
    fn take_work(&self, s: &mut PipeState) -> Option<(Work, MoreWork)> {
        if s.broken {
            return Some((Work::Stop, MoreWork::None));
        }
        if !s.syncing && !s.to_sync.is_empty() {
            s.syncing = true;
            let items = s.to_sync.drain(..).collect();
            // Appends that arrived meanwhile are written by the other thread while this one
            // syncs.
            let more = if !s.writing && !s.queue.is_empty() {
                MoreWork::ForAnother
            } else {
                MoreWork::None
            };
            return Some((Work::Sync(items), more));
        }
        if !s.writing && !s.queue.is_empty() {
            s.writing = true;
            return Some((Work::Write(self.take_group(s)), MoreWork::None));
        }
        if s.closed && !s.writing && !s.syncing && s.queue.is_empty() && s.to_sync.is_empty() {
            return Some((Work::Stop, MoreWork::None));
        }
        None
    }

    /// Spins without the lock until a signal or `deadline`, then takes the lock again.
    fn spin_until<'a>(&'a self, mut s: MutexGuard<'a, PipeState>, deadline: Instant) -> MutexGuard<'a, PipeState> {
        s.spinning += 1;
        s.spins += 1;
        let seen = self.signal.load(Ordering::Acquire);
        drop(s);
        while self.signal.load(Ordering::Acquire) == seen && Instant::now() < deadline {
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
        }
        let mut s = self.lock();
        s.spinning -= 1;
        s
    }

    /// Takes the next group from the queue: as many commands as one batch holds.
    fn take_group(&self, s: &mut PipeState) -> Vec<Command> {
        let bytes_max = format::BATCH_BYTES_MAX - format::BATCH_OVERHEAD - SEGMENT_HEADER_LEN;
        let first = s.queue.pop_front().expect("a group starts with a queued command");
        let (mut bytes, mut events) = (first.bytes, first.events);
        let mut group = vec![first];
        while let Some(c) = s.queue.front() {
            if bytes + c.bytes > bytes_max || events + c.events > format::BATCH_EVENTS_MAX {
                break;
            }
            bytes += c.bytes;
            events += c.events;
            group.extend(s.queue.pop_front());
        }
        self.room.add_permits(group.len());
        group
    }

    /// The writer role is released, handing over what it wrote (`None`: nothing to sync or
    /// answer). Wakes nobody: this thread takes the sync role next if no sync runs, and a
    /// running sync's thread takes the group when its sync returns.
    fn written(&self, written: Option<Written>) {
        let mut s = self.lock();
        assert!(s.writing, "only the writer role hands over");
        s.writing = false;
        if let Some(w) = written {
            if !s.broken {
                s.to_sync.push_back(ToSync::Group(w));
            }
        }
        if s.closed {
            self.signal();
            self.work.notify_all();
        }
    }

    /// The sync role has answered its groups and has nothing slow left to do (see
    /// `PipeState::sync_answered`).
    fn sync_answered(&self) {
        let mut s = self.lock();
        assert!(s.syncing, "only the sync role answers");
        s.sync_answered = true;
    }

    /// The sync role is released.
    fn synced(&self) {
        let mut s = self.lock();
        assert!(s.syncing, "only the sync role releases it");
        s.syncing = false;
        s.sync_answered = false;
        if s.closed {
            self.signal();
            self.work.notify_all();
        }
    }

    /// Hands something to the sync role from a thread that waits for its answer (or from the
    /// timer): wakes an idle thread for it when no sync runs. Dropped unanswered when a log
    /// thread failed (a waiting writer hears an error).
    fn to_sync(&self, item: ToSync) {
        let mut s = self.lock();
        if s.broken {
            return;
        }
        s.to_sync.push_back(item);
        if !s.syncing {
            self.wake_one(s);
        }
    }

    /// The anchor timer ran out (ignored once the log is closing: the last anchor follows).
    fn anchor_due(&self) {
        if self.lock().closed {
            return;
        }
        self.to_sync(ToSync::AnchorDue);
    }

    fn close(&self) {
        self.lock().closed = true;
        self.signal();
        self.work.notify_all();
    }

    fn failed(&self) -> Option<String> {
        self.lock().failed.clone()
    }

    fn fail(&self, why: String) {
        let mut s = self.lock();
        if s.failed.is_none() {
            s.failed = Some(why);
        }
    }
}

/// Marks the log as broken when a log thread panics: the log then refuses appends, and what
/// was queued or handed over unanswered is dropped (its callers hear `Closed`, a writer waiting
/// for a roll hears an error).
struct ThreadGone(Arc<Pipe>);

impl Drop for ThreadGone {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let mut s = self.0.lock();
        s.broken = true;
        if s.failed.is_none() {
            s.failed = Some("a log thread stopped".into());
        }
        s.queue.clear();
        s.to_sync.clear();
        self.0.signal();
        drop(s);
        self.0.room.close();
        self.0.work.notify_all();
    }
}

/// What the writer hands to the syncer, in commit order.
// `Group` is the large one (its commands' queue-wait histogram kept inline) and by far the
// most frequent: boxing it would allocate once per group on the writer role's serial path.
#[allow(clippy::large_enum_variant)]
enum ToSync {
    /// A group: written (or writing nothing), to be made durable, applied and answered.
    Group(Written),
    /// The writer starts a new segment next: make everything durable and anchor it first.
    /// Answered when done.
    Roll(std::sync::mpsc::SyncSender<Result<(), String>>),
    /// The anchor timer ran out: make the head anchor durable if the head moved.
    AnchorDue,
}

/// A segment the writer started: its first position and a sync handle of its file.
type NewSegment = (u64, Box<dyn SyncFile>);

/// A group the writer has written (or, with `count == 0`, only decided).
struct Written {
    outcomes: Vec<Outcome>,
    /// Room for a segment header, then the batch (empty when nothing was written).
    buf: Vec<u8>,
    /// Events written (0: every command was refused or deduplicated).
    count: u64,
    /// The batch starts a new segment: its first position and a sync handle of its file.
    new_segment: Option<NewSegment>,
    next_position: u64,
    chain: crate::chain::ChainHash,
    times: GroupTimes,
}

/// Where the written (not necessarily durable) log ends: the writer plans against this.
#[derive(Default, Clone, Copy)]
struct WrittenHead {
    /// Last written position.
    head: u64,
    chain: crate::chain::ChainHash,
    /// Bytes written to the open segment.
    segment_len: u64,
}

/// Stream name → its changes in a group or command: foldhash (SipHash was ≈ 2 % of a bulk
/// import's CPU in these maps), with the stream index's exposure to chosen names (see
/// `streams::HotHasher`: per-process seed from addresses and time, minimal HashDoS resistance;
/// colliding names cost time, never a wrong entry), bounded here by one group's streams.
type StreamChanges = HashMap<String, Pending, foldhash::fast::RandomState>;

/// A group written and not yet in the index: its stream changes, for planning later groups.
struct InFlight {
    last_position: u64,
    streams: StreamChanges,
}

/// The writer role: plans, encodes and writes groups; owns the open segment for writing.
struct Writer {
    shared: Arc<Shared>,
    options: FileLogOptions,
    pipe: Arc<Pipe>,
    /// Batch buffers handed back by the syncer, for reuse.
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    file: Option<OpenSegment>,
    written: WrittenHead,
    /// Groups written but not yet applied to the index, oldest first.
    overlay: VecDeque<InFlight>,
}

/// The sync role: makes written groups durable, applies them, anchors, answers.
struct Syncer {
    shared: Arc<Shared>,
    options: FileLogOptions,
    head_tx: tokio::sync::watch::Sender<u64>,
    pipe: Arc<Pipe>,
    /// The open segment: its path and a sync handle.
    file: Option<(std::path::PathBuf, Box<dyn SyncFile>)>,
    spare: std::sync::mpsc::Sender<Vec<u8>>,
    batches_since_sync: u32,
    unsynced: bool,
    events_since_checkpoint: u64,
    /// Head position the durable anchor records (`None`: no anchor yet).
    anchored_head: Option<u64>,
    /// When the anchor was last written (monotonic; the store's own pacing, never a record).
    anchored_at: Instant,
    /// A segment was started since the last anchor: anchor as soon as its bytes are durable.
    roll_unanchored: bool,
    timer: AnchorTimer,
    /// The groups just answered (their commands and times), counted in [`CommitParts`] once
    /// the answers are out; kept to reuse its room.
    answered: Vec<(u64, GroupTimes)>,
}

/// A group planned and encoded into a buffer, not yet written.
struct Encoded {
    /// Per command of the group, in order.
    results: Vec<Result<Vec<AppendResult>, StoreError>>,
    first_position: u64,
    /// One past the last position of the batch (`first_position`: nothing to write).
    next_position: u64,
    /// The chain value after the batch's last event.
    chain: crate::chain::ChainHash,
    /// Where the batch starts in the buffer (for `format::finish_batch`).
    batch_start: usize,
    /// The group's stream changes (for the overlay).
    streams: StreamChanges,
}

/// What a stream looks like with this batch's earlier commands applied.
#[derive(Default, Clone)]
struct Pending {
    version: Option<u64>,
    commands: Vec<(String, AppendResult)>,
}

fn fail_all(group: Vec<Outcome>, path: &str, why: &str) {
    let outcomes = group
        .into_iter()
        .map(|(reply, _, requests)| {
            let err = StoreError::Io {
                path: path.to_string(),
                source: std::io::Error::other(why.to_string()),
            };
            (reply, Err(err), requests)
        })
        .collect();
    answer(outcomes, Sent(None));
}

impl Writer {
    /// Before the first commit: after a fast open the stream index completes here; the
    /// written head starts at the durable one.
    fn prepare(&mut self) {
        if !self.shared.streams_loaded() {
            self.shared.load_streams();
            if let Err(e) = self.shared.wait_streams() {
                self.pipe.fail(e.to_string());
            }
        }
        let index = self.shared.index.read().unwrap();
        self.written = WrittenHead {
            head: index.head,
            chain: index.chain,
            segment_len: index.segments.last().map_or(0, |s| s.len),
        };
    }

    fn dir(&self) -> String {
        self.shared.dir.display().to_string()
    }

    /// Plans, encodes and writes one group; returns it for the sync role (`None`: already
    /// answered, with a failure).
    /// `taken`: when the writer role took it (the queue's end of [`CommitParts::queued`]).
    fn commit_group(&mut self, group: Vec<Command>, taken: Instant) -> Option<Written> {
        if let Some(why) = self.pipe.failed() {
            fail_all(
                group
                    .into_iter()
                    .map(|c| (c.reply, Ok(Vec::new()), c.requests))
                    .collect(),
                &self.dir(),
                &why,
            );
            return None;
        }
        let times = GroupTimes::taken(&group, taken);
        // Groups the index now holds are no longer needed for planning.
        let durable_head = self.shared.index.read().unwrap().head;
        while self.overlay.front().is_some_and(|f| f.last_position <= durable_head) {
            self.overlay.pop_front();
        }
        let mut buf = self.spare.try_recv().unwrap_or_default();
        // Keys of the whole group made durable together (one vault sync instead of one per
        // command); if that fails, the group is planned again with one vault write per command
        // so that each command gets its own outcome, exactly as before grouping.
        let encoded = match self.encode_group(&group, &mut buf, KeyWrites::Merged) {
            Ok(e) => e,
            Err(_) => self
                .encode_group(&group, &mut buf, KeyWrites::PerCommand)
                .expect("planning with one vault write per command reports errors per command"),
        };
        let Encoded {
            results,
            first_position,
            next_position,
            chain,
            batch_start,
            streams,
        } = encoded;
        let outcomes: Vec<Outcome> = group
            .into_iter()
            .zip(results)
            .map(|(cmd, r)| (cmd.reply, r, cmd.requests))
            .collect();
        let count = next_position - first_position;
        if count == 0 {
            // Answered by the syncer in order: a deduplication may point at a group still
            // syncing, whose failure must fail this answer too.
            buf.clear();
            return Some(Written {
                outcomes,
                buf,
                count: 0,
                new_segment: None,
                next_position,
                chain,
                times,
            });
        }
        format::finish_batch(&mut buf, batch_start, first_position, count as u32, &chain);
        let batch_len = (buf.len() - SEGMENT_HEADER_LEN) as u64;
        let roll = match &self.file {
            None => true,
            Some(seg) => {
                seg.version < format::FORMAT_VERSION
                    || (self.written.segment_len > SEGMENT_HEADER_LEN as u64
                        && self.written.segment_len + batch_len > self.options.segment_size_max)
            }
        };
        let new_segment = match self.write_batch(&mut buf, roll, first_position) {
            Ok(n) => n,
            Err(e) => {
                let why = e.to_string();
                self.pipe.fail(why.clone());
                fail_all(outcomes, &self.dir(), &why);
                return None;
            }
        };
        self.written = WrittenHead {
            head: next_position - 1,
            chain,
            segment_len: if roll {
                buf.len() as u64
            } else {
                self.written.segment_len + batch_len
            },
        };
        self.overlay.push_back(InFlight {
            last_position: next_position - 1,
            streams,
        });
        Some(Written {
            outcomes,
            buf,
            count,
            new_segment,
            next_position,
            chain,
            times,
        })
    }

    /// Plans every command of the group against the written head (the index plus the groups
    /// in flight) and encodes the accepted events into `buf` (positions, chain). The keys a
    /// command needs are written to the vault before any event is written, and only for
    /// commands that are not refused, as `keys` says ([`KeyWrites`]).
    fn encode_group(&self, group: &[Command], buf: &mut Vec<u8>, keys: KeyWrites) -> Result<Encoded, StoreError> {
        let shared = &self.shared;
        let first_position = self.written.head + 1;
        let mut next_position = first_position;
        let mut chain = self.written.chain;
        let mut pending = StreamChanges::default();
        // One command's stream changes, merged into `pending` once the command is accepted
        // (kept across commands for its memory).
        let mut local = StreamChanges::default();
        let mut results: Vec<Result<Vec<AppendResult>, StoreError>> = Vec::with_capacity(group.len());
        // With `KeyWrites::Merged`: the vault and the merged keys and links of the accepted
        // commands (merging needs one vault for the whole group).
        let mut merged: Option<(Arc<super::vault::FileVault>, crate::vault::VaultWrite)> = None;
        let grouped = keys == KeyWrites::Merged
            && group
                .iter()
                .filter_map(|c| c.vault.as_ref())
                .map(|(v, _)| Arc::as_ptr(v))
                .collect::<std::collections::HashSet<_>>()
                .len()
                == 1;
        buf.clear();
        buf.resize(SEGMENT_HEADER_LEN, 0);
        let batch_start = format::begin_batch(buf);
        for cmd in group {
            // The index lock is held per command only: the syncer applies durable groups
            // meanwhile (a group it applies stays in the overlay, with the same content, until
            // the next group prunes it).
            local.clear();
            let planned = {
                let index = shared.index.read().unwrap();
                let layers = Layers {
                    pending: &pending,
                    overlay: &self.overlay,
                };
                plan(shared, &index, layers, &mut local, &cmd.requests, next_position)
            };
            let planned = planned.and_then(|results| {
                // Keys durable before the events that need them; none for a refused command.
                if let Some((vault, write)) = &cmd.vault {
                    if results.iter().any(|r| !r.deduplicated) {
                        if grouped {
                            crate::vault::check_write(write)?;
                            let (_, all) = merged.get_or_insert_with(|| (vault.clone(), Default::default()));
                            all.keys.extend(write.keys.iter().cloned());
                            for link in &write.links {
                                if !all.links.contains(link) {
                                    all.links.push(link.clone());
                                }
                            }
                        } else {
                            vault.write(write)?;
                        }
                    }
                }
                Ok(results)
            });
            match planned {
                Err(e) => results.push(Err(e)),
                Ok(planned) => {
                    for (req, res) in cmd.requests.iter().zip(&planned) {
                        if res.deduplicated {
                            continue;
                        }
                        let first_version = res.stream_version + 1 - req.events.len() as u64;
                        for (i, e) in req.events.iter().enumerate() {
                            let ev = EventRef {
                                position: res.first_position + i as u64,
                                stream: &req.stream,
                                stream_version: first_version + i as u64,
                                event_type: &e.event_type,
                                schema_version: e.schema_version,
                                occurred_at_ms: e.occurred_at_ms,
                                recorded_at_ms: e.recorded_at_ms,
                                actor: &e.actor,
                                command_id: &e.command_id,
                                payload: &e.payload,
                            };
                            assert_eq!(ev.position, next_position, "positions are assigned gapless");
                            chain = format::chain_next_ref(&chain, &ev);
                            format::encode_record(buf, &ev);
                            next_position += 1;
                        }
                    }
                    merge_changes(&mut pending, &mut local);
                    results.push(Ok(planned));
                }
            }
        }
        if let Some((vault, write)) = merged {
            vault.write(&write)?;
        }
        Ok(Encoded {
            results,
            first_position,
            next_position,
            chain,
            batch_start,
            streams: pending,
        })
    }

    /// Writes the batch in `buf` (after a new segment's header when `roll`). Returns the new
    /// segment's first position and sync handle when one was started.
    fn write_batch(
        &mut self,
        buf: &mut [u8],
        roll: bool,
        first_position: u64,
    ) -> Result<Option<NewSegment>, StoreError> {
        let mut new_segment = None;
        let batch_len = (buf.len() - SEGMENT_HEADER_LEN) as u64;
        if roll {
            // The old segment is complete: the syncer makes it durable and anchors its end (a
            // new log: anchors it empty) before the new segment exists, so that a segment of
            // this version always has an anchor.
            let (answer, answered) = std::sync::mpsc::sync_channel(1);
            self.pipe.to_sync(ToSync::Roll(answer));
            let done = answered.recv().unwrap_or_else(|_| Err("a log thread stopped".into()));
            done.map_err(|why| StoreError::Io {
                path: self.dir(),
                source: std::io::Error::other(why),
            })?;
            // The finished segment holds exactly its batches (a checkpoint lists every segment
            // but the last with exactly its length): its pre-written zeros go.
            self.trim_tail()?;
            let header = format::segment_header(first_position, &self.written.chain);
            buf[..SEGMENT_HEADER_LEN].copy_from_slice(&header);
            let path = self.shared.segment_path(first_position);
            let file = self.shared.io.open_append(&path, true).map_err(|e| io_err(&path, e))?;
            new_segment = Some((first_position, file.sync_handle().map_err(|e| io_err(&path, e))?));
            self.file = Some(OpenSegment {
                first_position,
                version: format::FORMAT_VERSION,
                file,
                file_len: 0,
            });
            self.shared
                .io
                .sync_dir(&self.shared.dir)
                .map_err(|e| io_err(&self.shared.dir, e))?;
            self.written.segment_len = 0;
        }
        let (offset, bytes) = if roll {
            (0, &buf[..])
        } else {
            (self.written.segment_len, &buf[SEGMENT_HEADER_LEN..])
        };
        debug_assert_eq!(
            bytes.len() as u64,
            batch_len + if roll { SEGMENT_HEADER_LEN as u64 } else { 0 }
        );
        self.prewrite(offset, offset + bytes.len() as u64)?;
        let seg = self.file.as_mut().expect("an open segment");
        let path = self.shared.segment_path(seg.first_position);
        assert!(offset <= seg.file_len, "a batch starts where the last one ended");
        seg.file.write_at(bytes, offset).map_err(|e| io_err(&path, e))?;
        seg.file_len = seg.file_len.max(offset + bytes.len() as u64);
        self.shared
            .stats
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(new_segment)
    }

    /// Makes sure the open segment holds pre-written zeros (written and synced) up to at least
    /// `end`, so that the batch written there changes no file size: when it does not, writes
    /// `prewrite_bytes` more (up to `segment_size_max`, or `end` if that is further) after
    /// the file's last byte, never over a batch, then syncs. Only with `Durability::Always`
    /// and on a segment of today's version; a no-op with `prewrite_bytes` 0, and for a batch
    /// (`start..end`) of at least `prewrite_bytes`: such a batch grows the file itself, its
    /// sync's size update spread over a chunk's worth of bytes, where writing zeros first would
    /// write and sync it twice (bulk imports).
    fn prewrite(&mut self, start: u64, end: u64) -> Result<(), StoreError> {
        let chunk = self.options.prewrite_bytes;
        let seg = self.file.as_mut().expect("an open segment");
        let on = chunk > 0 && self.options.durability == Durability::Always && seg.version == format::FORMAT_VERSION;
        if !on || seg.file_len >= end || end - start >= chunk {
            return Ok(());
        }
        let to = (end + chunk).min(self.options.segment_size_max).max(end);
        let path = self.shared.segment_path(seg.first_position);
        let t0 = Instant::now();
        let from = seg.file_len;
        let zeros = vec![0u8; (to - from).min(chunk) as usize];
        let mut at = from;
        while at < to {
            let n = (to - at).min(zeros.len() as u64) as usize;
            seg.file.write_at(&zeros[..n], at).map_err(|e| io_err(&path, e))?;
            at += n as u64;
        }
        seg.file.sync_data().map_err(|e| io_err(&path, e))?;
        seg.file_len = to;
        self.shared
            .stats
            .record_prewrite(to - from, t0.elapsed().as_nanos() as u64);
        Ok(())
    }

    /// Cuts the open segment's pre-written zeros after its last batch (at a roll, and on close
    /// after everything written is durable): the file then holds exactly its batches.
    fn trim_tail(&mut self) -> Result<(), StoreError> {
        let len = self.written.segment_len;
        let Some(seg) = self.file.as_mut() else {
            return Ok(());
        };
        if seg.file_len > len {
            let path = self.shared.segment_path(seg.first_position);
            self.shared.io.truncate(&path, len).map_err(|e| io_err(&path, e))?;
            seg.file_len = len;
        }
        Ok(())
    }
}

impl Syncer {
    /// The sync role's turn: `items` in commit order. Consecutive groups share one sync; a
    /// group that starts a segment, a roll and an anchor wake-up end a run.
    fn run(&mut self, items: Vec<ToSync>) {
        let mut groups = Vec::new();
        for item in items {
            match item {
                ToSync::Group(g) => {
                    if g.new_segment.is_some() {
                        self.complete(std::mem::take(&mut groups));
                    }
                    groups.push(g);
                }
                ToSync::Roll(answer) => {
                    self.complete(std::mem::take(&mut groups));
                    let _ = answer.send(self.roll());
                }
                ToSync::AnchorDue => {
                    self.complete(std::mem::take(&mut groups));
                    self.timer.armed = false;
                    self.anchor_due();
                }
            }
        }
        self.complete(groups);
    }

    fn dir(&self) -> String {
        self.shared.dir.display().to_string()
    }

    fn fail(&self, why: String) {
        self.pipe.fail(why);
    }

    /// Makes `groups` durable (one sync for all of them), applies them to the index, anchors
    /// if due, publishes the head and answers, in order. After any failure, answers with it.
    fn complete(&mut self, groups: Vec<Written>) {
        if groups.is_empty() {
            return;
        }
        let fail_groups = |groups: Vec<Written>, dir: &str, why: &str| {
            for g in groups {
                fail_all(g.outcomes, dir, why);
            }
        };
        if let Some(why) = self.pipe.failed() {
            fail_groups(groups, &self.dir(), &why);
            return;
        }
        let written = groups.iter().filter(|g| g.count > 0).count() as u32;
        // A group that starts a segment is the first of its run (`Syncer::run` splits there).
        let mut groups = groups;
        let starts_segment = match groups[0].new_segment.take() {
            Some((first_position, file)) => {
                // The writer's roll made everything before durable (`Syncer::roll`).
                assert!(!self.unsynced, "a new segment starts after the old one is durable");
                self.file = Some((self.shared.segment_path(first_position), file));
                self.roll_unanchored = true;
                true
            }
            None => false,
        };
        let mut synced = None;
        if written > 0 {
            self.unsynced = true;
            self.batches_since_sync += written;
            let sync_now = match self.options.durability {
                Durability::Always => true,
                Durability::Bulk { sync_every_batches } => self.batches_since_sync >= sync_every_batches.get(),
            };
            if sync_now {
                match self.sync_timed() {
                    Ok(span) => synced = span,
                    Err(e) => {
                        // That group and every later one written: none is acknowledged or visible.
                        let why = e.to_string();
                        self.fail(why.clone());
                        fail_groups(groups, &self.dir(), &why);
                        return;
                    }
                }
            }
        }
        // Where `behind_sync` ends: the sync's start, or (no sync: bulk mode, nothing written)
        // now, and no `sync` sample.
        let sync = match synced {
            Some((began, ended)) => SyncSpan {
                began,
                ended: Some(ended),
            },
            None => SyncSpan {
                began: Instant::now(),
                ended: None,
            },
        };
        // Apply what was written, read back from the buffers and checked again with the
        // reader's code (framing, CRCs, field ranges, UTF-8, positions): a batch that would not
        // read back is never acknowledged. Decoded before the index is locked, so that the
        // writer's planning (which reads the index) waits only for the index's own updates.
        let decoded: Vec<DecodedBatch<'_>> = groups
            .iter()
            .filter(|g| g.count > 0)
            .map(|g| {
                let batch = format::parse_batch(&g.buf[SEGMENT_HEADER_LEN..]).expect("a batch just encoded parses");
                decode_records(batch).expect("a batch just encoded decodes")
            })
            .collect();
        let mut events = 0;
        let head = {
            let mut index = self.shared.index.write().unwrap();
            let written = groups.iter().filter(|g| g.count > 0);
            for (i, (g, decoded)) in written.zip(decoded).enumerate() {
                if i == 0 && starts_segment {
                    index.add_segment(decoded.first_position());
                }
                let offset = index.segments.last().unwrap().len;
                index
                    .apply_decoded(offset, decoded)
                    .expect("a batch just encoded applies");
                assert_eq!(index.head, g.next_position - 1);
                assert_eq!(index.chain, g.chain);
                events += g.count;
            }
            index.head
        };
        // Before the acknowledgement: a batch that starts a segment is anchored by the time
        // its caller hears of it.
        self.maybe_anchor();
        self.head_tx.send_replace(head);
        let mut outcomes = Vec::new();
        for g in groups {
            self.answered.push((g.outcomes.len() as u64, g.times));
            outcomes.extend(g.outcomes);
            let _ = self.spare.send(g.buf);
        }
        self.events_since_checkpoint += events;
        let checkpoint_due = self.events_since_checkpoint >= self.options.checkpoint_every_events;
        if !checkpoint_due {
            self.pipe.sync_answered();
        }
        let sent = Instant::now();
        answer(outcomes, Sent(Some(sent)));
        // Counted after the answers are out: the counters stay off the acknowledgement's path.
        for (commits, times) in self.answered.drain(..) {
            self.pipe.times.count_group(commits, &times, sync, sent);
        }
        if checkpoint_due {
            if let Err(e) = self.write_checkpoint() {
                self.fail(e.to_string());
            }
        }
    }

    /// Before the writer starts a segment: everything written is made durable and anchored.
    fn roll(&mut self) -> Result<(), String> {
        if let Some(why) = self.pipe.failed() {
            return Err(why);
        }
        let done = self.sync().and_then(|()| self.write_anchor());
        done.map_err(|e| {
            let why = e.to_string();
            self.fail(why.clone());
            why
        })
    }

    fn finish(&mut self) -> Result<(), StoreError> {
        if let Some(f) = self.pipe.failed() {
            return Err(StoreError::Io {
                path: self.dir(),
                source: std::io::Error::other(f),
            });
        }
        self.sync()?;
        self.write_anchor()?;
        if self.events_since_checkpoint > 0 {
            self.write_checkpoint()?;
        }
        Ok(())
    }

    /// After a commit: anchors at once when a segment was started or the interval has passed
    /// (and the head is durable); otherwise arms the timer so the anchor catches up anyway.
    fn maybe_anchor(&mut self) {
        if self.pipe.failed().is_some() || Some(self.shared.index.read().unwrap().head) == self.anchored_head {
            return;
        }
        let interval = Duration::from_millis(self.options.anchor_interval_ms);
        let due = self.roll_unanchored || self.anchored_at.elapsed() >= interval;
        if due && !self.unsynced {
            if let Err(e) = self.write_anchor() {
                self.fail(e.to_string());
            }
        } else {
            self.timer.arm(self.anchored_at + interval);
        }
    }

    /// The timer ran out: make what was written durable (bulk mode) and anchor it.
    fn anchor_due(&mut self) {
        if self.pipe.failed().is_some() {
            return;
        }
        if let Err(e) = self.sync().and_then(|()| self.write_anchor()) {
            self.fail(e.to_string());
        }
    }

    /// Writes the head anchor for the current head, which must be durable (synced).
    fn write_anchor(&mut self) -> Result<(), StoreError> {
        assert!(!self.unsynced, "the anchor records only durable bytes");
        let anchor = anchor_of(&self.shared.index.read().unwrap());
        if Some(anchor.head_position) != self.anchored_head {
            write_anchor(self.shared.io.as_ref(), &self.shared.dir, &anchor)?;
            self.anchored_head = Some(anchor.head_position);
        }
        self.anchored_at = Instant::now();
        self.roll_unanchored = false;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.sync_timed().map(|_| ())
    }

    /// [`Syncer::sync`], returning when its `fdatasync` began and ended (`None`: nothing was
    /// unsynced).
    fn sync_timed(&mut self) -> Result<Option<(Instant, Instant)>, StoreError> {
        let mut span = None;
        if let (true, Some((path, file))) = (self.unsynced, self.file.as_ref()) {
            let began = Instant::now();
            file.sync_data().map_err(|e| io_err(path, e))?;
            let ended = Instant::now();
            self.shared.stats.record_sync((ended - began).as_nanos() as u64);
            span = Some((began, ended));
        }
        self.unsynced = false;
        self.batches_since_sync = 0;
        Ok(span)
    }

    /// Writes `index.pidx` atomically: temporary file, sync, rename, directory sync. The log
    /// is synced first, so a checkpoint never covers bytes that are not durable.
    fn write_checkpoint(&mut self) -> Result<(), StoreError> {
        self.sync()?;
        let bytes = self.shared.index.read().unwrap().to_checkpoint();
        write_atomically(
            self.shared.io.as_ref(),
            &self.shared.dir,
            INDEX_TMP_FILE,
            INDEX_FILE,
            &bytes,
        )?;
        self.events_since_checkpoint = 0;
        Ok(())
    }
}

/// How [`Writer::encode_group`] writes the keys the group's commands need to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyWrites {
    /// The keys of all accepted commands in one vault write (one sync); its failure fails the
    /// whole call, and the caller plans again with `PerCommand`.
    Merged,
    /// Each command's keys on their own; a failure is that command's alone.
    PerCommand,
}

/// What a command is planned against besides the index and itself: its group's earlier
/// commands and the groups in flight (written, not yet durable).
#[derive(Clone, Copy)]
struct Layers<'a> {
    pending: &'a StreamChanges,
    overlay: &'a VecDeque<InFlight>,
}

/// Moves an accepted command's stream changes (`local`, left empty) into its group's
/// (`pending`): a stream new to the group moves in whole, without copying its commands.
fn merge_changes(pending: &mut StreamChanges, local: &mut StreamChanges) {
    for (stream, p) in local.drain() {
        match pending.entry(stream) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(p);
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let entry = o.get_mut();
                entry.version = p.version.or(entry.version);
                entry.commands.extend(p.commands);
            }
        }
    }
}

/// Decides one command against the index and the layers above it: per request either a
/// deduplicated result (command id already in the stream) or new positions; any conflict fails
/// the whole command. Returns the results; the command's stream changes are left in `local`
/// (empty on entry).
fn plan(
    shared: &Shared,
    index: &Index,
    Layers { pending, overlay }: Layers<'_>,
    local: &mut StreamChanges,
    requests: &[AppendRequest],
    mut next_position: u64,
) -> Result<Vec<AppendResult>, StoreError> {
    assert!(local.is_empty(), "a command is planned from no changes of its own");
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        let command_id = &req.events[0].command_id;
        // Newest first: this command, this group, then the groups in flight (written, not
        // yet durable), newest first; the index (durable) after them.
        let layers = || {
            [local.get(&req.stream), pending.get(&req.stream)]
                .into_iter()
                .chain(overlay.iter().rev().map(|f| f.streams.get(&req.stream)))
                .flatten()
        };
        let earlier = layers().flat_map(|p| p.commands.iter()).find(|(c, _)| c == command_id);
        if let Some((_, r)) = earlier {
            results.push(AppendResult {
                deduplicated: true,
                ..*r
            });
            continue;
        }
        if let Some(r) = committed_command(shared, index, &req.stream, command_id)? {
            results.push(r);
            continue;
        }
        let current = layers()
            .find_map(|p| p.version)
            .unwrap_or_else(|| index.stream_version(&req.stream));
        if let ExpectedVersion::Exact(v) = req.expected {
            if v != current {
                return Err(StoreError::Conflict {
                    stream: req.stream.clone(),
                    expected: req.expected,
                    actual: current,
                });
            }
        }
        let n = req.events.len() as u64;
        let r = AppendResult {
            first_position: next_position,
            last_position: next_position + n - 1,
            stream_version: current + n,
            deduplicated: false,
        };
        next_position += n;
        let entry = local.entry(req.stream.clone()).or_default();
        entry.version = Some(current + n);
        entry.commands.push((command_id.clone(), r));
        results.push(r);
    }
    Ok(results)
}

/// The original result of `command_id` on `stream`, if committed. The index keeps a 64-bit hash
/// per command; a hit is confirmed by reading the command's first record.
fn committed_command(
    shared: &Shared,
    index: &Index,
    stream: &str,
    command_id: &str,
) -> Result<Option<AppendResult>, StoreError> {
    let Some(entry) = index.streams.get(stream) else {
        return Ok(None);
    };
    let hash = command_hash(command_id);
    for c in entry.commands_with_hash(hash).rev() {
        let first = entry.events[(c.first_version - 1) as usize];
        let last = entry.events[(c.first_version - 1) as usize + c.count as usize - 1];
        let seg = index
            .segment_of(first.position)
            .expect("committed position has a segment");
        let rec = shared.read_record_in(index.segments[seg].first_position, first.position, first.offset)?;
        if rec.command_id == command_id {
            return Ok(Some(AppendResult {
                first_position: first.position,
                last_position: last.position,
                stream_version: c.first_version + u64::from(c.count) - 1,
                deduplicated: true,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod relay_tests {
    use super::*;

    fn outcomes(n: usize) -> (Vec<Outcome>, Vec<oneshot::Receiver<Answer>>) {
        (0..n)
            .map(|i| {
                let (tx, rx) = oneshot::channel();
                let r = AppendResult {
                    first_position: i as u64 + 1,
                    last_position: i as u64 + 1,
                    stream_version: 1,
                    deduplicated: false,
                };
                ((tx, Ok(vec![r]), Vec::new()), rx)
            })
            .unzip()
    }

    fn position(rx: oneshot::Receiver<Answer>) -> u64 {
        let (r, _, relay) = rx.blocking_recv().expect("answered");
        drop(relay);
        r.unwrap()[0].first_position
    }

    #[test]
    fn the_carrier_passes_every_answer_on() {
        let (outs, mut rxs) = outcomes(3);
        answer(outs, Sent(None));
        let rest = rxs.split_off(1);
        // The others hear nothing until the carrier has taken (and dropped) its relay.
        let (r, _, relay) = rxs.pop().unwrap().blocking_recv().unwrap();
        assert_eq!(r.unwrap()[0].first_position, 1);
        assert_eq!(relay.0.len(), 2);
        drop(relay);
        assert_eq!(rest.into_iter().map(position).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn a_carrier_that_stopped_waiting_still_answers_the_others() {
        // Gone before the answer.
        let (outs, mut rxs) = outcomes(3);
        drop(rxs.remove(0));
        answer(outs, Sent(None));
        assert_eq!(rxs.into_iter().map(position).collect::<Vec<_>>(), vec![2, 3]);
        // Gone after the answer was sent, without reading it.
        let (outs, mut rxs) = outcomes(3);
        answer(outs, Sent(None));
        drop(rxs.remove(0));
        assert_eq!(rxs.into_iter().map(position).collect::<Vec<_>>(), vec![2, 3]);
    }
}

#[cfg(test)]
mod pipe_tests {
    use super::*;

    fn command() -> Command {
        let (reply, _) = oneshot::channel();
        Command {
            requests: Vec::new(),
            bytes: 0,
            events: 0,
            reply,
            submitted: Instant::now(),
            vault: None,
        }
    }

    fn written() -> Written {
        Written {
            outcomes: Vec::new(),
            buf: Vec::new(),
            count: 0,
            new_segment: None,
            next_position: 1,
            chain: Default::default(),
            times: GroupTimes::taken(&[], Instant::now()),
        }
    }

    /// A pipe past the first thread's preparation.
    fn pipe() -> Pipe {
        let pipe = Pipe::new(Duration::ZERO);
        pipe.written(None);
        pipe
    }

    #[test]
    fn a_lone_group_is_synced_by_the_thread_that_wrote_it() {
        let pipe = pipe();
        // As if the other thread slept: every wake-up would be counted.
        pipe.lock().idle = 1;
        for round in 1..=3 {
            pipe.submit(command()).unwrap();
            assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(g) if g.len() == 1));
            pipe.written(Some(written()));
            assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Sync(items) if items.len() == 1));
            pipe.synced();
            // One wake per append (the submitter's); none to hand the group to a syncer.
            assert_eq!(pipe.lock().wakes, round);
        }
    }

    #[test]
    fn a_group_written_during_a_sync_waits_for_that_sync_then_is_synced_in_order() {
        let pipe = pipe();
        pipe.submit(command()).unwrap();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)));
        pipe.written(Some(written()));
        assert!(
            matches!(pipe.next_work(&mut Idle::default()), Work::Sync(_)),
            "thread A syncs group 1"
        );
        pipe.submit(command()).unwrap();
        assert!(
            matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)),
            "thread B writes group 2 meanwhile"
        );
        let mut second = written();
        second.next_position = 2;
        pipe.written(Some(second));
        {
            let s = pipe.lock();
            assert!(
                s.syncing && !s.writing && s.to_sync.len() == 1,
                "group 2 waits for A's sync"
            );
        }
        pipe.synced();
        match pipe.next_work(&mut Idle::default()) {
            Work::Sync(items) => {
                assert!(matches!(&items[..], [ToSync::Group(g)] if g.next_position == 2));
            }
            _ => panic!("the thread whose sync returned syncs group 2"),
        }
    }

    #[test]
    fn an_append_arriving_during_a_sync_wakes_the_idle_thread() {
        let pipe = Arc::new(pipe());
        pipe.submit(command()).unwrap();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)));
        pipe.written(Some(written()));
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Sync(_)));
        let (tx, rx) = std::sync::mpsc::channel();
        let other = pipe.clone();
        let thread = std::thread::spawn(move || {
            let wrote = matches!(other.next_work(&mut Idle::default()), Work::Write(_));
            tx.send(wrote).unwrap();
        });
        while pipe.lock().idle == 0 {
            std::thread::yield_now();
        }
        pipe.submit(command()).unwrap();
        // A deadlock guard, not a timing assertion: the thread wakes at once or never.
        let wrote = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the idle thread is woken for the append");
        assert!(wrote);
        thread.join().unwrap();
    }

    /// Runs `next_work` on a thread of its own, with `idle` as that thread's record, and
    /// waits until the thread spins.
    fn spinning_thread(pipe: &Arc<Pipe>, idle: Idle) -> std::thread::JoinHandle<Work> {
        let other = pipe.clone();
        let thread = std::thread::spawn(move || {
            let mut idle = idle;
            other.next_work(&mut idle)
        });
        while pipe.lock().spinning == 0 {
            std::thread::yield_now();
        }
        thread
    }

    /// A spin long enough never to run out in a test (the tests end it with work).
    const SPIN_FOR_EVER: Duration = Duration::from_secs(3600);

    #[test]
    fn a_spinning_thread_takes_the_next_append_without_a_wake_up() {
        let pipe = Pipe::new(SPIN_FOR_EVER);
        pipe.written(None);
        let pipe = Arc::new(pipe);
        // As if the other thread slept: a wake-up would be counted.
        pipe.lock().idle = 1;
        let recent = Idle { short: true, waits: 0 };
        let thread = spinning_thread(&pipe, recent);
        pipe.submit(command()).unwrap();
        assert!(matches!(thread.join().unwrap(), Work::Write(g) if g.len() == 1));
        let s = pipe.lock();
        assert_eq!((s.wakes, s.spins, s.spins_caught), (0, 1, 1), "no thread was woken");
        assert_eq!(s.spinning, 0);
    }

    #[test]
    fn an_append_arriving_after_the_sync_answered_waits_for_that_thread_not_the_other() {
        let pipe = pipe();
        pipe.lock().idle = 1;
        pipe.submit(command()).unwrap();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)));
        pipe.written(Some(written()));
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Sync(_)));
        pipe.sync_answered();
        // The caller's next append, before the syncing thread is back.
        pipe.submit(command()).unwrap();
        assert_eq!(pipe.lock().wakes, 1, "only the first append woke a thread");
        pipe.synced();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(g) if g.len() == 1));
        // Before the answer (the sync still running), an append wakes the other thread.
        pipe.written(Some(written()));
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Sync(_)));
        pipe.submit(command()).unwrap();
        assert_eq!(pipe.lock().wakes, 2, "written while the sync runs: pipelined");
    }

    #[test]
    fn a_thread_does_not_spin_while_the_other_writes_or_syncs() {
        let pipe = Pipe::new(SPIN_FOR_EVER);
        pipe.written(None);
        let pipe = Arc::new(pipe);
        pipe.submit(command()).unwrap();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)));
        // The writer role is held: a thread looking for work parks at once.
        let other = pipe.clone();
        let thread = std::thread::spawn(move || other.next_work(&mut Idle { short: true, waits: 0 }));
        while {
            let s = pipe.lock();
            s.idle == 0 && s.spins == 0
        } {
            std::thread::yield_now();
        }
        let (spins, spinning) = {
            let s = pipe.lock();
            (s.spins, s.spinning)
        };
        assert_eq!((spins, spinning), (0, 0));
        pipe.close();
        pipe.written(None);
        assert!(matches!(thread.join().unwrap(), Work::Stop));
    }

    #[test]
    fn closing_ends_a_spin() {
        let pipe = Pipe::new(SPIN_FOR_EVER);
        pipe.written(None);
        let pipe = Arc::new(pipe);
        let thread = spinning_thread(&pipe, Idle { short: true, waits: 0 });
        pipe.close();
        assert!(matches!(thread.join().unwrap(), Work::Stop));
    }

    #[test]
    fn a_thread_spins_after_short_waits_and_once_in_a_while_after_long_ones() {
        let spin = Duration::from_micros(50);
        let mut idle = Idle::default();
        idle.waited(Duration::from_micros(30), spin);
        assert!(idle.spins() && idle.spins(), "spins while its waits are short");
        idle.waited(Duration::from_micros(51), spin);
        let after_long: Vec<bool> = (0..2 * SPIN_RETRY).map(|_| idle.spins()).collect();
        assert_eq!(after_long.iter().filter(|&&s| s).count(), 2, "{after_long:?}");
        // With spinning off, parks at once: nothing spins, nothing is counted.
        let pipe = pipe();
        pipe.submit(command()).unwrap();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)));
        assert_eq!(pipe.lock().spins, 0);
    }

    #[test]
    fn a_closed_pipe_stops_the_threads_after_the_queue_and_refuses_appends() {
        let pipe = pipe();
        pipe.submit(command()).unwrap();
        pipe.close();
        assert!(matches!(pipe.submit(command()), Err(StoreError::Closed)));
        assert!(
            matches!(pipe.next_work(&mut Idle::default()), Work::Write(_)),
            "what was queued is still written"
        );
        pipe.written(Some(written()));
        assert!(
            matches!(pipe.next_work(&mut Idle::default()), Work::Sync(_)),
            "and synced"
        );
        pipe.synced();
        assert!(matches!(pipe.next_work(&mut Idle::default()), Work::Stop));
    }
}

#[cfg(test)]
mod group_tests {
    use super::*;
    use crate::conformance::sample_event;

    /// A command of one request: `events` events on `stream`, expecting version `expected`.
    fn request(stream: &str, expected: u64, command_id: &str, events: u32) -> Vec<AppendRequest> {
        vec![AppendRequest {
            stream: stream.to_string(),
            expected: ExpectedVersion::Exact(expected),
            events: (0..events).map(|n| sample_event(command_id, n)).collect(),
        }]
    }

    fn result(first_position: u64, last_position: u64, stream_version: u64, deduplicated: bool) -> AppendResult {
        AppendResult {
            first_position,
            last_position,
            stream_version,
            deduplicated,
        }
    }

    /// The group loop of [`Writer::encode_group`], planning only: each command planned against
    /// the group's earlier ones, its changes merged in once accepted.
    fn plan_group(
        log: &super::super::FileLog,
        commands: &[Vec<AppendRequest>],
    ) -> Vec<Result<Vec<AppendResult>, StoreError>> {
        let shared = &*log.shared;
        let index = shared.index.read().unwrap();
        let overlay = VecDeque::new();
        let mut pending = StreamChanges::default();
        let mut local = StreamChanges::default();
        let mut next_position = index.head + 1;
        let mut results = Vec::new();
        for requests in commands {
            local.clear();
            let layers = Layers {
                pending: &pending,
                overlay: &overlay,
            };
            let planned = plan(shared, &index, layers, &mut local, requests, next_position);
            if let Ok(planned) = &planned {
                next_position += planned
                    .iter()
                    .filter(|r| !r.deduplicated)
                    .map(|r| r.last_position + 1 - r.first_position)
                    .sum::<u64>();
                merge_changes(&mut pending, &mut local);
                assert!(local.is_empty(), "merging leaves the command's map empty for the next");
            }
            results.push(planned);
        }
        results
    }

    #[test]
    fn two_commands_on_one_stream_and_retries_of_both_plan_in_one_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = super::super::FileLog::open(dir.path(), Default::default()).unwrap();
        let commands = [
            request("c-1", 0, "cmd-1", 2),
            // The stream is already in the group: its version is the first command's.
            request("c-1", 2, "cmd-2", 1),
            // Retries: found in the group's changes, both commands' (merged, not replaced).
            request("c-1", 0, "cmd-1", 2),
            request("c-1", 2, "cmd-2", 1),
            // A stale expectation is still refused, and a new command follows the last.
            request("c-1", 2, "cmd-3", 1),
            request("c-1", 3, "cmd-4", 1),
        ];
        let results = plan_group(&log, &commands);
        let ok = |i: usize| results[i].as_ref().unwrap().clone();
        assert_eq!(ok(0), vec![result(1, 2, 2, false)]);
        assert_eq!(ok(1), vec![result(3, 3, 3, false)]);
        assert_eq!(ok(2), vec![result(1, 2, 2, true)]);
        assert_eq!(ok(3), vec![result(3, 3, 3, true)]);
        assert!(
            matches!(&results[4], Err(StoreError::Conflict { actual: 3, .. })),
            "{:?}",
            results[4]
        );
        assert_eq!(ok(5), vec![result(4, 4, 4, false)]);
    }
}

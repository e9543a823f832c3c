//! The single writer thread: group commit, positions, the chain, segments, checkpoints.

use super::format::{self, command_hash, EventRef, SEGMENT_HEADER_LEN};
use super::index::Index;
use super::{
    anchor_of, io_err, write_anchor, write_atomically, Durability, FileLogOptions, Shared, INDEX_FILE, INDEX_TMP_FILE,
};
use crate::io::AppendFile;
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The outcome, and the requests handed back so that their memory is freed by the caller's
/// thread instead of the writer's.
type Reply = oneshot::Sender<(Result<Vec<AppendResult>, StoreError>, Vec<AppendRequest>)>;
type Outcome = (Reply, Result<Vec<AppendResult>, StoreError>, Vec<AppendRequest>);

/// One caller's append or append_many: committed all together or not at all.
struct Command {
    requests: Vec<AppendRequest>,
    /// Encoded record bytes (checked against the limits by the caller).
    bytes: usize,
    events: usize,
    reply: Reply,
    /// Keys and links to make durable before this command's events are written (skipped when
    /// the command is refused or fully deduplicated).
    vault: Option<(Arc<super::vault::FileVault>, crate::vault::VaultWrite)>,
}

/// What the writer thread receives.
enum Msg {
    Append(Command),
    /// The anchor timer ran out: make the head anchor durable if the head moved.
    AnchorDue,
}

/// The handle's end of the writer.
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    thread: std::thread::JoinHandle<Result<(), StoreError>>,
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
        let (reply, rx) = oneshot::channel();
        let events = requests.iter().map(|r| r.events.len()).sum();
        self.tx
            .send(Msg::Append(Command {
                requests,
                bytes,
                events,
                reply,
                vault,
            }))
            .await
            .map_err(|_| StoreError::Closed)?;
        let (result, requests) = rx.await.map_err(|_| StoreError::Closed)?;
        drop(requests);
        result
    }

    /// Lets the writer finish what is queued, sync and checkpoint; waits for it.
    pub fn shutdown(self) -> Result<(), StoreError> {
        drop(self.tx);
        self.thread.join().map_err(|_| StoreError::Closed)?
    }
}

pub(crate) fn start(
    shared: Arc<Shared>,
    options: FileLogOptions,
    head_tx: tokio::sync::watch::Sender<u64>,
    lock: Box<dyn Any + Send>,
) -> Result<WriterHandle, StoreError> {
    let (file, anchored_head) = {
        let index = shared.index.read().unwrap();
        let file = match index.segments.last() {
            Some(s) => {
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
                Some(OpenSegment {
                    first_position: s.first_position,
                    version,
                    file: shared.io.open_append(&path, false).map_err(|e| io_err(&path, e))?,
                })
            }
            None => None,
        };
        // What the anchor on disk covers; a log without one (new, or format version 1) gets
        // one before its next segment is created.
        (file, shared.anchor_at_open.map(|a| a.head_position))
    };
    let (tx, rx) = mpsc::channel(super::WRITER_QUEUE_MAX);
    let timer = AnchorTimer::start(tx.downgrade())?;
    let mut writer = Writer {
        shared,
        options,
        head_tx,
        _lock: lock,
        file,
        buf: Vec::new(),
        failed: None,
        batches_since_sync: 0,
        unsynced: false,
        events_since_checkpoint: 0,
        anchored_head,
        anchored_at: Instant::now(),
        roll_unanchored: false,
        timer,
    };
    let thread = std::thread::Builder::new()
        .name("plaint-log-writer".into())
        .spawn(move || writer.run(rx))
        .map_err(|e| StoreError::Io {
            path: "writer thread".into(),
            source: e,
        })?;
    Ok(WriterHandle { tx, thread })
}

struct OpenSegment {
    first_position: u64,
    /// Format version of the segment: a segment of an older version is not appended to; the
    /// next batch starts a new segment of today's version.
    version: u32,
    file: Box<dyn AppendFile>,
}

/// Wakes the writer when the anchor interval runs out after appends stopped, so the anchor
/// never lags the acknowledged head by more than the interval. A thread of its own, because
/// the writer thread blocks on its queue; it ends when the writer drops its end.
struct AnchorTimer {
    arm: std::sync::mpsc::Sender<Instant>,
    armed: bool,
}

impl AnchorTimer {
    fn start(wake: mpsc::WeakSender<Msg>) -> Result<AnchorTimer, StoreError> {
        let (arm, deadlines) = std::sync::mpsc::channel::<Instant>();
        std::thread::Builder::new()
            .name("plaint-log-anchor".into())
            .spawn(move || {
                while let Ok(deadline) = deadlines.recv() {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    // Holds no sender between tries, so the queue still closes on shutdown. A
                    // full queue: the writer is busy; try again shortly (the writer counts on
                    // every armed wake-up arriving).
                    loop {
                        let Some(tx) = wake.upgrade() else { return };
                        match tx.try_send(Msg::AnchorDue) {
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                drop(tx);
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => break,
                        }
                    }
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

struct Writer {
    shared: Arc<Shared>,
    options: FileLogOptions,
    head_tx: tokio::sync::watch::Sender<u64>,
    /// Released when the thread ends, after the last checkpoint.
    _lock: Box<dyn Any + Send>,
    file: Option<OpenSegment>,
    /// The batch being built, after room for a segment header.
    buf: Vec<u8>,
    /// Set after a failed write or sync: nothing more is written (the page cache can no longer
    /// be trusted to hold what was written); reopen the log.
    failed: Option<String>,
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
}

/// A group planned and encoded into the writer's buffer, not yet written.
struct Encoded {
    /// Per command of the group, in order.
    results: Vec<Result<Vec<AppendResult>, StoreError>>,
    first_position: u64,
    /// One past the last position of the batch (`first_position`: nothing to write).
    next_position: u64,
    /// The chain value after the batch's last event.
    chain: crate::chain::ChainHash,
    /// Length of the open segment before the batch.
    segment_len: u64,
    /// Where the batch starts in the buffer (for `format::finish_batch`).
    batch_start: usize,
}

/// What a stream looks like with this batch's earlier commands applied.
#[derive(Default, Clone)]
struct Pending {
    version: Option<u64>,
    commands: Vec<(String, AppendResult)>,
}

impl Writer {
    fn run(&mut self, mut rx: mpsc::Receiver<Msg>) -> Result<(), StoreError> {
        // After a fast open the stream index completes here, before the first commit.
        if !self.shared.streams_loaded() {
            self.shared.load_streams();
            if let Err(e) = self.shared.wait_streams() {
                self.failed = Some(e.to_string());
            }
        }
        let bytes_max = format::BATCH_BYTES_MAX - format::BATCH_OVERHEAD - SEGMENT_HEADER_LEN;
        let mut carry: Option<Command> = None;
        loop {
            let first = match carry.take() {
                Some(c) => c,
                None => match rx.blocking_recv() {
                    Some(Msg::Append(c)) => c,
                    Some(Msg::AnchorDue) => {
                        self.timer.armed = false;
                        self.anchor_due();
                        continue;
                    }
                    None => break,
                },
            };
            let (mut bytes, mut events) = (first.bytes, first.events);
            let mut group = vec![first];
            while let Ok(msg) = rx.try_recv() {
                let c = match msg {
                    Msg::Append(c) => c,
                    // Checked after this group's commit anyway.
                    Msg::AnchorDue => {
                        self.timer.armed = false;
                        continue;
                    }
                };
                if bytes + c.bytes > bytes_max || events + c.events > format::BATCH_EVENTS_MAX {
                    carry = Some(c);
                    break;
                }
                bytes += c.bytes;
                events += c.events;
                group.push(c);
            }
            self.commit_group(group);
        }
        self.finish()
    }

    fn finish(&mut self) -> Result<(), StoreError> {
        if let Some(f) = &self.failed {
            return Err(StoreError::Io {
                path: self.shared.dir.display().to_string(),
                source: std::io::Error::other(f.clone()),
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
        if self.failed.is_some() || Some(self.shared.index.read().unwrap().head) == self.anchored_head {
            return;
        }
        let interval = Duration::from_millis(self.options.anchor_interval_ms);
        let due = self.roll_unanchored || self.anchored_at.elapsed() >= interval;
        if due && !self.unsynced {
            if let Err(e) = self.write_anchor() {
                self.failed = Some(e.to_string());
            }
        } else {
            self.timer.arm(self.anchored_at + interval);
        }
    }

    /// The timer ran out: make what was written durable (bulk mode) and anchor it.
    fn anchor_due(&mut self) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.sync().and_then(|()| self.write_anchor()) {
            self.failed = Some(e.to_string());
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

    fn fail_all(group: Vec<Outcome>, path: &str, why: &str) {
        for (reply, _, requests) in group {
            let err = StoreError::Io {
                path: path.to_string(),
                source: std::io::Error::other(why.to_string()),
            };
            let _ = reply.send((Err(err), requests));
        }
    }

    fn commit_group(&mut self, group: Vec<Command>) {
        if let Some(why) = &self.failed {
            let dir = self.shared.dir.display().to_string();
            Self::fail_all(
                group
                    .into_iter()
                    .map(|c| (c.reply, Ok(Vec::new()), c.requests))
                    .collect(),
                &dir,
                why,
            );
            return;
        }
        // Keys of the whole group made durable together (one vault sync instead of one per
        // command); if that fails, the group is planned again with one vault write per command
        // so that each command gets its own outcome, exactly as before grouping.
        let encoded = match self.encode_group(&group, true) {
            Ok(e) => e,
            Err(_) => self
                .encode_group(&group, false)
                .expect("planning with one vault write per command reports errors per command"),
        };
        let Encoded {
            results,
            first_position,
            next_position,
            chain,
            segment_len,
            batch_start,
        } = encoded;
        let outcomes: Vec<Outcome> = group
            .into_iter()
            .zip(results)
            .map(|(cmd, r)| (cmd.reply, r, cmd.requests))
            .collect();
        let count = next_position - first_position;
        if count == 0 {
            for (reply, r, requests) in outcomes {
                let _ = reply.send((r, requests));
            }
            return;
        }
        format::finish_batch(&mut self.buf, batch_start, first_position, count as u32, &chain);
        let batch_len = (self.buf.len() - SEGMENT_HEADER_LEN) as u64;
        let roll = match &self.file {
            None => true,
            Some(seg) => {
                seg.version < format::FORMAT_VERSION
                    || (segment_len > SEGMENT_HEADER_LEN as u64
                        && segment_len + batch_len > self.options.segment_size_max)
            }
        };
        match self.write_batch(roll, first_position) {
            Ok(()) => {}
            Err(e) => {
                let why = e.to_string();
                self.failed = Some(why.clone());
                Self::fail_all(outcomes, &self.shared.dir.display().to_string(), &why);
                return;
            }
        }
        // Apply what was written, read back from the buffer and checked again.
        {
            let batch = format::parse_batch(&self.buf[SEGMENT_HEADER_LEN..]).expect("a batch just encoded parses");
            let mut index = self.shared.index.write().unwrap();
            if roll {
                index.add_segment(first_position);
            }
            let offset = index.segments.last().unwrap().len;
            index
                .apply_batch(offset, &batch, false)
                .expect("a batch just encoded applies");
            assert_eq!(index.head, next_position - 1);
            assert_eq!(index.chain, chain);
        }
        // Before the acknowledgement: a batch that starts a segment is anchored by the time
        // its caller hears of it.
        self.maybe_anchor();
        self.head_tx.send_replace(next_position - 1);
        for (reply, r, requests) in outcomes {
            let _ = reply.send((r, requests));
        }
        self.events_since_checkpoint += count;
        if self.events_since_checkpoint >= self.options.checkpoint_every_events {
            if let Err(e) = self.write_checkpoint() {
                self.failed = Some(e.to_string());
            }
        }
    }

    /// Plans every command of the group against the index and encodes the accepted events into
    /// `self.buf` (positions, chain). The keys a command needs are written to the vault before
    /// any event is written, and only for commands that are not refused. `grouped`: the keys of
    /// all accepted commands are written in one vault write (one sync); its failure fails the
    /// whole call (the caller plans again with `grouped == false`, which writes each command's
    /// keys on their own and reports a failure to that command only).
    fn encode_group(&mut self, group: &[Command], grouped: bool) -> Result<Encoded, StoreError> {
        let shared = self.shared.clone();
        let index = shared.index.read().unwrap();
        let first_position = index.head + 1;
        let mut next_position = first_position;
        let mut chain = index.chain;
        let mut pending: HashMap<String, Pending> = HashMap::new();
        let mut results: Vec<Result<Vec<AppendResult>, StoreError>> = Vec::with_capacity(group.len());
        // With `grouped`: the vault and the merged keys and links of the accepted commands.
        let mut merged: Option<(Arc<super::vault::FileVault>, crate::vault::VaultWrite)> = None;
        let grouped = grouped
            && group
                .iter()
                .filter_map(|c| c.vault.as_ref())
                .map(|(v, _)| Arc::as_ptr(v))
                .collect::<std::collections::HashSet<_>>()
                .len()
                == 1;
        self.buf.clear();
        self.buf.resize(SEGMENT_HEADER_LEN, 0);
        let batch_start = format::begin_batch(&mut self.buf);
        for cmd in group {
            let planned = plan(&shared, &index, &pending, &cmd.requests, next_position).and_then(|(results, local)| {
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
                Ok((results, local))
            });
            match planned {
                Err(e) => results.push(Err(e)),
                Ok((planned, local)) => {
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
                            format::encode_record(&mut self.buf, &ev);
                            next_position += 1;
                        }
                    }
                    for (stream, p) in local {
                        let entry = pending.entry(stream).or_default();
                        entry.version = p.version.or(entry.version);
                        entry.commands.extend(p.commands);
                    }
                    results.push(Ok(planned));
                }
            }
        }
        let segment_len = index.segments.last().map_or(0, |s| s.len);
        drop(index);
        if let Some((vault, write)) = merged {
            vault.write(&write)?;
        }
        Ok(Encoded {
            results,
            first_position,
            next_position,
            chain,
            segment_len,
            batch_start,
        })
    }

    fn write_batch(&mut self, roll: bool, first_position: u64) -> Result<(), StoreError> {
        if roll {
            // The old segment is complete: anchor its end (a new log: anchor it empty) before
            // the new segment exists, so that a segment of this version always has an anchor.
            self.sync()?;
            self.write_anchor()?;
            self.roll_unanchored = true;
            let chain_before = self.shared.index.read().unwrap().chain;
            let header = format::segment_header(first_position, &chain_before);
            self.buf[..SEGMENT_HEADER_LEN].copy_from_slice(&header);
            let path = self.shared.segment_path(first_position);
            let file = self.shared.io.open_append(&path, true).map_err(|e| io_err(&path, e))?;
            self.file = Some(OpenSegment {
                first_position,
                version: format::FORMAT_VERSION,
                file,
            });
            self.shared
                .io
                .sync_dir(&self.shared.dir)
                .map_err(|e| io_err(&self.shared.dir, e))?;
        }
        let seg = self.file.as_mut().expect("an open segment");
        let path = self.shared.segment_path(seg.first_position);
        let bytes = if roll {
            &self.buf[..]
        } else {
            &self.buf[SEGMENT_HEADER_LEN..]
        };
        seg.file.write_all(bytes).map_err(|e| io_err(&path, e))?;
        self.shared
            .stats
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.unsynced = true;
        self.batches_since_sync += 1;
        let sync_now = match self.options.durability {
            Durability::Always => true,
            Durability::Bulk { sync_every_batches } => self.batches_since_sync >= sync_every_batches.get(),
        };
        if sync_now {
            self.sync()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        if let (true, Some(seg)) = (self.unsynced, self.file.as_mut()) {
            let path = self.shared.segment_path(seg.first_position);
            let t0 = std::time::Instant::now();
            seg.file.sync_data().map_err(|e| io_err(&path, e))?;
            self.shared.stats.record_sync(t0.elapsed().as_nanos() as u64);
        }
        self.unsynced = false;
        self.batches_since_sync = 0;
        Ok(())
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

/// Decides one command against the index and the batch so far: per request either a
/// deduplicated result (command id already in the stream) or new positions; any conflict fails
/// the whole command. Returns the results and the command's stream changes.
fn plan(
    shared: &Shared,
    index: &Index,
    pending: &HashMap<String, Pending>,
    requests: &[AppendRequest],
    mut next_position: u64,
) -> Result<(Vec<AppendResult>, HashMap<String, Pending>), StoreError> {
    let mut local: HashMap<String, Pending> = HashMap::new();
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        let command_id = &req.events[0].command_id;
        let layers = [local.get(&req.stream), pending.get(&req.stream)];
        let earlier = layers
            .iter()
            .flatten()
            .flat_map(|p| p.commands.iter())
            .find(|(c, _)| c == command_id);
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
        let current = layers
            .iter()
            .flatten()
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
    Ok((results, local))
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
    for c in entry.commands.iter().rev().filter(|c| c.hash == hash) {
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

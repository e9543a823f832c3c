//! The single writer thread: group commit, positions, the chain, segments, checkpoints.

use super::format::{self, command_hash, EventRef, SEGMENT_HEADER_LEN};
use super::index::Index;
use super::{io_err, Durability, FileLogOptions, Shared, INDEX_FILE, INDEX_TMP_FILE};
use crate::io::AppendFile;
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
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

/// The handle's end of the writer.
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Command>,
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
            .send(Command {
                requests,
                bytes,
                events,
                reply,
                vault,
            })
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
    let file = {
        let index = shared.index.read().unwrap();
        match index.segments.last() {
            Some(s) => {
                let path = shared.segment_path(s.first_position);
                Some(OpenSegment {
                    first_position: s.first_position,
                    file: shared.io.open_append(&path, false).map_err(|e| io_err(&path, e))?,
                })
            }
            None => None,
        }
    };
    let (tx, rx) = mpsc::channel(super::WRITER_QUEUE_MAX);
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
    file: Box<dyn AppendFile>,
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
}

/// What a stream looks like with this batch's earlier commands applied.
#[derive(Default, Clone)]
struct Pending {
    version: Option<u64>,
    commands: Vec<(String, AppendResult)>,
}

impl Writer {
    fn run(&mut self, mut rx: mpsc::Receiver<Command>) -> Result<(), StoreError> {
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
                    Some(c) => c,
                    None => break,
                },
            };
            let (mut bytes, mut events) = (first.bytes, first.events);
            let mut group = vec![first];
            while let Ok(c) = rx.try_recv() {
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
        if self.events_since_checkpoint > 0 {
            self.write_checkpoint()?;
        }
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
        let shared = self.shared.clone();
        let index = shared.index.read().unwrap();
        let first_position = index.head + 1;
        let mut next_position = first_position;
        let mut chain = index.chain;
        let mut pending: HashMap<String, Pending> = HashMap::new();
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(group.len());
        self.buf.clear();
        self.buf.resize(SEGMENT_HEADER_LEN, 0);
        let batch_start = format::begin_batch(&mut self.buf);
        for cmd in group {
            let planned = plan(&shared, &index, &pending, &cmd.requests, next_position).and_then(|(results, local)| {
                // Keys durable before the events that need them; none for a refused command.
                if let Some((vault, write)) = &cmd.vault {
                    if results.iter().any(|r| !r.deduplicated) {
                        vault.write(write)?;
                    }
                }
                Ok((results, local))
            });
            match planned {
                Err(e) => outcomes.push((cmd.reply, Err(e), cmd.requests)),
                Ok((results, local)) => {
                    for (req, res) in cmd.requests.iter().zip(&results) {
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
                            format::encode_record(&mut self.buf, &ev, &chain);
                            next_position += 1;
                        }
                    }
                    for (stream, p) in local {
                        let entry = pending.entry(stream).or_default();
                        entry.version = p.version.or(entry.version);
                        entry.commands.extend(p.commands);
                    }
                    outcomes.push((cmd.reply, Ok(results), cmd.requests));
                }
            }
        }
        let count = next_position - first_position;
        let segment_len = index.segments.last().map_or(0, |s| s.len);
        drop(index);
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
            Some(_) => {
                segment_len > SEGMENT_HEADER_LEN as u64 && segment_len + batch_len > self.options.segment_size_max
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

    fn write_batch(&mut self, roll: bool, first_position: u64) -> Result<(), StoreError> {
        if roll {
            if self.file.is_some() {
                self.sync()?;
            }
            let chain_before = self.shared.index.read().unwrap().chain;
            let header = format::segment_header(first_position, &chain_before);
            self.buf[..SEGMENT_HEADER_LEN].copy_from_slice(&header);
            let path = self.shared.segment_path(first_position);
            let file = self.shared.io.open_append(&path, true).map_err(|e| io_err(&path, e))?;
            self.file = Some(OpenSegment { first_position, file });
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
            let c = &self.shared.stats;
            c.syncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            c.sync_nanos
                .fetch_add(t0.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
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
        let io = &self.shared.io;
        let tmp = self.shared.dir.join(INDEX_TMP_FILE);
        let dst = self.shared.dir.join(INDEX_FILE);
        let mut f = io.open_append(&tmp, true).map_err(|e| io_err(&tmp, e))?;
        f.write_all(&bytes).map_err(|e| io_err(&tmp, e))?;
        f.sync_data().map_err(|e| io_err(&tmp, e))?;
        drop(f);
        io.rename(&tmp, &dst).map_err(|e| io_err(&dst, e))?;
        io.sync_dir(&self.shared.dir).map_err(|e| io_err(&self.shared.dir, e))?;
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

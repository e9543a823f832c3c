//! The in-memory index of the log and its persisted form, the checkpoint (`index.pidx`).

use super::format::{self, command_hash, BatchView, EventRef, RecordView};
use super::streams::{self, StreamIndex};
use crate::chain::{ChainHash, CHAIN_GENESIS};

/// Checkpoint file magic.
const INDEX_MAGIC: [u8; 8] = *b"PLAINTIX";
/// Layout version of the checkpoint file (independent of the segment format version; the
/// checkpoint is derived data and is rebuilt when its version is unknown). Version 3 added
/// part C, the persisted stream lookup table; version 2 (without it) is still read.
pub const CHECKPOINT_VERSION: u32 = 3;
/// The oldest checkpoint layout still read.
pub const CHECKPOINT_VERSION_MIN: u32 = 2;
/// Bytes before the first length-checked part of the checkpoint.
pub const CHECKPOINT_PREFIX_LEN: usize = 24;
/// A sparse batch mark is kept at least this many bytes apart within a segment.
pub const MARK_SPACING_BYTES: u64 = 64 * 1024;

/// Where one event's record lies: its segment is found by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLoc {
    pub position: u64,
    pub offset: u64,
}

/// One committed command of a stream: its id's hash and the versions it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandEntry {
    pub hash: u64,
    pub first_version: u64,
    pub count: u32,
}

/// A stream with at least this many commands keeps the set of its command hashes beside
/// them, so that checking a new command id (a miss, the common case) is one set lookup
/// instead of a scan of every command the stream ever had.
pub const COMMAND_SET_MIN: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct StreamEntry {
    /// Record locations by version - 1.
    pub events: Vec<EventLoc>,
    /// In version order; changed only through [`StreamEntry::record_command`], which keeps
    /// `command_hashes` exact.
    commands: Vec<CommandEntry>,
    /// Exactly the hashes in `commands`, kept once there are [`COMMAND_SET_MIN`] of them
    /// (derived: not persisted, not compared).
    command_hashes: Option<std::collections::HashSet<u64>>,
}

impl PartialEq for StreamEntry {
    fn eq(&self, other: &Self) -> bool {
        self.events == other.events && self.commands == other.commands
    }
}

impl Eq for StreamEntry {}

impl StreamEntry {
    /// An entry as stored; without the command set (for a read that is used once, such as a
    /// lookup in a checkpoint entry that stays cold).
    pub fn new(events: Vec<EventLoc>, commands: Vec<CommandEntry>) -> StreamEntry {
        StreamEntry {
            events,
            commands,
            command_hashes: None,
        }
    }

    /// The same entry with its command set built if it is long enough (an entry that is
    /// going to be changed and looked up again).
    pub fn with_command_set(mut self) -> StreamEntry {
        if self.commands.len() >= COMMAND_SET_MIN && self.command_hashes.is_none() {
            self.command_hashes = Some(self.commands.iter().map(|c| c.hash).collect());
        }
        self
    }

    pub fn commands(&self) -> &[CommandEntry] {
        &self.commands
    }

    /// The commands whose id hashes to `hash`, oldest first; none without a scan when the
    /// command set rules the hash out.
    pub fn commands_with_hash(&self, hash: u64) -> impl DoubleEndedIterator<Item = &CommandEntry> {
        let ruled_out = self.command_hashes.as_ref().is_some_and(|set| !set.contains(&hash));
        let candidates = if ruled_out { &[][..] } else { &self.commands[..] };
        candidates.iter().filter(move |c| c.hash == hash)
    }

    /// Counts event `stream_version` (the next one) as written by the command of `hash`: it
    /// extends that command's entry if the previous event was the same command's, else starts
    /// one.
    pub fn record_command(&mut self, hash: u64, stream_version: u64) {
        match self.commands.last_mut() {
            Some(c) if c.hash == hash && c.first_version + u64::from(c.count) == stream_version => c.count += 1,
            _ => {
                self.commands.push(CommandEntry {
                    hash,
                    first_version: stream_version,
                    count: 1,
                });
                match &mut self.command_hashes {
                    Some(set) => {
                        set.insert(hash);
                    }
                    None if self.commands.len() >= COMMAND_SET_MIN => {
                        self.command_hashes = Some(self.commands.iter().map(|c| c.hash).collect());
                    }
                    None => {}
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub first_position: u64,
    /// Bytes of committed data (header included).
    pub len: u64,
}

/// A batch start, kept sparse: the read path scans forward from the nearest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMark {
    pub first_position: u64,
    pub segment: u32,
    pub offset: u64,
}

/// Everything the log keeps in memory about its committed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub head: u64,
    pub chain: ChainHash,
    pub streams: StreamIndex,
    pub segments: Vec<SegmentInfo>,
    pub marks: Vec<BatchMark>,
    /// Offset of the last batch in the last segment (meaningful when `head > 0`).
    pub last_batch_offset: u64,
    /// While the stream index is being loaded in the background, events applied meanwhile
    /// (the log tail after the checkpoint) wait here; `None` once `streams` is complete.
    pub deferred: Option<Vec<DeferredEvent>>,
}

/// An event whose stream-index entry is applied once the checkpoint's streams are loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredEvent {
    pub stream: Box<str>,
    pub stream_version: u64,
    pub position: u64,
    pub offset: u64,
    pub command_hash: u64,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            head: 0,
            chain: CHAIN_GENESIS,
            streams: StreamIndex::default(),
            segments: Vec::new(),
            marks: Vec::new(),
            last_batch_offset: 0,
            deferred: None,
        }
    }
}

impl Index {
    pub fn stream_version(&self, stream: &str) -> u64 {
        self.streams.version(stream)
    }

    /// The segment holding `position`.
    pub fn segment_of(&self, position: u64) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.first_position <= position);
        i.checked_sub(1)
    }

    /// The nearest mark at or before `position`.
    pub fn mark_before(&self, position: u64) -> Option<BatchMark> {
        let i = self.marks.partition_point(|m| m.first_position <= position);
        i.checked_sub(1).map(|i| self.marks[i])
    }

    /// Records a new (empty) segment.
    pub fn add_segment(&mut self, first_position: u64) {
        assert_eq!(first_position, self.head + 1, "segment must start at the next position");
        self.segments.push(SegmentInfo {
            first_position,
            len: format::SEGMENT_HEADER_LEN as u64,
        });
    }

    /// Applies a sound batch found at `offset` of the last segment. Checks position and version
    /// continuity and (when `check_chain`) the chain; returns what is wrong otherwise, with the
    /// offset of the record.
    pub fn apply_batch(&mut self, offset: u64, batch: &BatchView<'_>, check_chain: bool) -> Result<(), ApplyFault> {
        self.apply_records(offset, batch, batch.records(), check_chain)
    }

    /// [`Index::apply_batch`] of a batch whose records were decoded and checked beforehand
    /// ([`decode_records`], done before the index is locked), without the chain check: for the
    /// writer's own batches, whose chain the writer computed.
    pub(crate) fn apply_decoded(&mut self, offset: u64, decoded: DecodedBatch<'_>) -> Result<(), ApplyFault> {
        let DecodedBatch { batch, records } = decoded;
        self.apply_records(offset, &batch, records.into_iter().map(Ok), false)
    }

    /// Applies `batch`'s `records` (decoded by the iterator, in order; an error is the offset
    /// within the body and what is wrong).
    fn apply_records<'b>(
        &mut self,
        offset: u64,
        batch: &BatchView<'b>,
        records: impl Iterator<Item = Result<RecordView<'b>, (usize, String)>>,
        check_chain: bool,
    ) -> Result<(), ApplyFault> {
        let seg = self.segments.len() - 1;
        assert_eq!(self.segments[seg].len, offset, "batches are applied in file order");
        if batch.header.first_position != self.head + 1 {
            return Err(ApplyFault::Corrupt {
                offset,
                detail: format!(
                    "batch starts at position {} where {} was due",
                    batch.header.first_position,
                    self.head + 1
                ),
            });
        }
        let body_offset = offset + format::BATCH_HEADER_LEN as u64;
        let mut rel = 0u64;
        let mut chain = self.chain;
        // Consecutive events of one stream (an append of several events, a bulk import) look
        // their stream entry up twice in all instead of twice per event.
        let mut run = StreamRun::default();
        for r in records {
            let r = r.map_err(|(at, detail)| ApplyFault::Corrupt {
                offset: body_offset + at as u64,
                detail,
            })?;
            let e = r.event;
            if check_chain {
                chain = format::chain_next_ref(&chain, &e);
                // Version-1/2 records carry a chain prefix each; compact ones are covered by
                // the batch trailer's value, checked below.
                if r.chain8.is_some_and(|c8| chain[0..8] != c8) {
                    return Err(ApplyFault::Chain {
                        position: e.position,
                        detail: "record content does not match its chain value".into(),
                    });
                }
            }
            self.apply_event(&mut run, &e, body_offset + rel)
                .map_err(|detail| ApplyFault::Corrupt {
                    offset: body_offset + rel,
                    detail,
                })?;
            rel += r.len as u64;
        }
        run.flush(&mut self.streams);
        if check_chain && chain != batch.chain_after {
            let last = batch.header.first_position + u64::from(batch.header.count) - 1;
            return Err(match batch.header.compact {
                // Compact records carry no chain value of their own: the batch is what is known.
                true => ApplyFault::Chain {
                    position: batch.header.first_position,
                    detail: format!(
                        "batch trailer chain value does not match its events (positions {} ..= {last})",
                        batch.header.first_position
                    ),
                },
                false => ApplyFault::Chain {
                    position: self.head,
                    detail: "batch trailer chain value does not match its events".into(),
                },
            });
        }
        self.chain = batch.chain_after;
        let seg_u32 = seg as u32;
        let need_mark = match self.marks.last() {
            None => true,
            Some(m) => m.segment != seg_u32 || offset - m.offset >= MARK_SPACING_BYTES,
        };
        if need_mark {
            self.marks.push(BatchMark {
                first_position: batch.header.first_position,
                segment: seg_u32,
                offset,
            });
        }
        self.last_batch_offset = offset;
        self.segments[seg].len = offset + batch.header.total_len() as u64;
        Ok(())
    }

    /// Checks `e` continues the log and its stream, and queues it in `run` (or defers it while
    /// the stream index loads).
    fn apply_event<'b>(&mut self, run: &mut StreamRun<'b>, e: &EventRef<'b>, offset: u64) -> Result<(), String> {
        if e.position != self.head + 1 {
            return Err(format!("event position {} where {} was due", e.position, self.head + 1));
        }
        let hash = command_hash(e.command_id);
        match &mut self.deferred {
            Some(deferred) => deferred.push(DeferredEvent {
                stream: e.stream.into(),
                stream_version: e.stream_version,
                position: e.position,
                offset,
                command_hash: hash,
            }),
            None => run.push(&mut self.streams, e, offset, hash)?,
        }
        self.head = e.position;
        Ok(())
    }

    /// Installs the loaded stream index and applies the deferred events to it.
    pub fn complete_streams(&mut self, streams: StreamIndex) -> Result<(), String> {
        // Every position up to the head is one stream's event: the checkpoint's entries and the
        // tail read at open must add up to it, or the entries do not fit this log (found by the
        // `stream_index` fuzz target: a forged head was otherwise believed).
        let held = streams.loaded_event_count();
        let tail = self.deferred.as_ref().map_or(0, Vec::len) as u64;
        if held.checked_add(tail) != Some(self.head) {
            return Err(format!(
                "checkpoint streams hold {held} events and the log tail {tail}, but the head is {}",
                self.head
            ));
        }
        self.streams = streams;
        for d in self.deferred.take().unwrap_or_default() {
            apply_to_streams(
                &mut self.streams,
                &d.stream,
                d.stream_version,
                d.position,
                d.offset,
                d.command_hash,
            )?;
        }
        Ok(())
    }

    /// The checkpoint bytes (see `docs/log-format.md`): part A (head, chain, segments, marks)
    /// and part B (streams), each with its own CRC, so that opening reads only part A.
    pub fn to_checkpoint(&self) -> Vec<u8> {
        assert!(self.deferred.is_none(), "checkpoint of a complete index");
        let mut out =
            Vec::with_capacity(128 + self.streams.len() * 64 + self.head as usize * 18 + self.marks.len() * 20);
        out.extend_from_slice(&INDEX_MAGIC);
        out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // part A length, filled in below
        out.extend_from_slice(&self.head.to_le_bytes());
        out.extend_from_slice(&self.chain);
        out.extend_from_slice(&self.last_batch_offset.to_le_bytes());
        out.extend_from_slice(&(self.segments.len() as u64).to_le_bytes());
        for s in &self.segments {
            out.extend_from_slice(&s.first_position.to_le_bytes());
            out.extend_from_slice(&s.len.to_le_bytes());
        }
        out.extend_from_slice(&(self.marks.len() as u64).to_le_bytes());
        for m in &self.marks {
            out.extend_from_slice(&m.first_position.to_le_bytes());
            out.extend_from_slice(&m.segment.to_le_bytes());
            out.extend_from_slice(&m.offset.to_le_bytes());
        }
        let part_a_len = out.len() as u64;
        out[16..24].copy_from_slice(&part_a_len.to_le_bytes());
        let crc_a = crc32c::crc32c(&out);
        out.extend_from_slice(&crc_a.to_le_bytes());
        // Part C (the stream lookup table) and part B (the streams), each with its CRC.
        self.streams.encode(&mut out);
        out
    }

    /// The length of part A (before its CRC), from the checkpoint's first
    /// [`CHECKPOINT_PREFIX_LEN`] bytes.
    pub fn checkpoint_part_a_len(prefix: &[u8]) -> Result<usize, String> {
        Self::checkpoint_layout(prefix).map(|(len, _)| len)
    }

    /// The length of part A (before its CRC) and the layout version, from the checkpoint's
    /// first [`CHECKPOINT_PREFIX_LEN`] bytes.
    pub fn checkpoint_layout(prefix: &[u8]) -> Result<(usize, u32), String> {
        if prefix.len() < CHECKPOINT_PREFIX_LEN || prefix[0..8] != INDEX_MAGIC {
            return Err("not a plaint checkpoint".into());
        }
        let version = format::u32_at(prefix, 8);
        if !(CHECKPOINT_VERSION_MIN..=CHECKPOINT_VERSION).contains(&version) {
            return Err(format!("checkpoint layout version {version} unknown"));
        }
        let len = format::u64_at(prefix, 16);
        if len < CHECKPOINT_PREFIX_LEN as u64 || len > (1 << 32) {
            return Err("checkpoint part A length out of range".into());
        }
        Ok((len as usize, version))
    }

    /// Decodes part A (`a` = part A and its CRC): an index without streams, whose stream
    /// entries are deferred until [`Index::complete_streams`].
    pub fn from_checkpoint_part_a(a: &[u8]) -> Result<Index, String> {
        let len = Self::checkpoint_part_a_len(a)?;
        if a.len() != len + 4 {
            return Err("checkpoint part A ends early".into());
        }
        if crc32c::crc32c(&a[..len]) != format::u32_at(a, len) {
            return Err("checkpoint CRC mismatch (part A)".into());
        }
        let mut r = Reader {
            b: &a[..len],
            at: CHECKPOINT_PREFIX_LEN,
        };
        let mut index = Index {
            head: r.u64()?,
            chain: r.take(32)?.try_into().unwrap(),
            ..Index::default()
        };
        index.last_batch_offset = r.u64()?;
        let n = r.count(16)?;
        for _ in 0..n {
            index.segments.push(SegmentInfo {
                first_position: r.u64()?,
                len: r.u64()?,
            });
        }
        let n = r.count(20)?;
        index.marks.reserve(n);
        for _ in 0..n {
            index.marks.push(BatchMark {
                first_position: r.u64()?,
                segment: r.u32()?,
                offset: r.u64()?,
            });
        }
        if r.at != len {
            return Err("checkpoint part A has trailing bytes".into());
        }
        index.deferred = Some(Vec::new());
        Ok(index)
    }

    /// Decodes part B (`b` = part B and its CRC) and, from layout 3 on, part C (`c` = part C
    /// and its CRC, the persisted lookup table): the stream index, left in its encoding and
    /// decoded entry by entry on use (see [`StreamIndex`]). Without part C (layout 2) the table
    /// is built from part B.
    pub fn streams_from_checkpoint_parts(
        c: Option<streams::Bytes>,
        mut b: streams::Bytes,
    ) -> Result<StreamIndex, String> {
        let table = match c {
            Some(c) => {
                if c.len() < streams::TABLE_HEADER_LEN + 4 {
                    return Err("checkpoint part C too short".into());
                }
                let crc_at = c.len() - 4;
                if crc32c::crc32c(&c[..crc_at]) != format::u32_at(&c, crc_at) {
                    return Err("checkpoint CRC mismatch (part C, the stream lookup table)".into());
                }
                Some(c)
            }
            None => None,
        };
        if b.len() < 12 {
            return Err("checkpoint part B too short".into());
        }
        let crc_at = b.len() - 4;
        if crc32c::crc32c(&b[..crc_at]) != format::u32_at(&b, crc_at) {
            return Err("checkpoint CRC mismatch (part B)".into());
        }
        b.truncate(crc_at);
        match table {
            Some(t) => StreamIndex::from_checkpoint_with_table(b, t),
            None => StreamIndex::from_checkpoint(b),
        }
    }

    /// Decodes a whole checkpoint (every part) into a complete index.
    pub fn from_checkpoint(bytes: &[u8]) -> Result<Index, String> {
        let (len, version) = Self::checkpoint_layout(bytes)?;
        if bytes.len() < len + 4 {
            return Err("checkpoint ends early".into());
        }
        let mut index = Self::from_checkpoint_part_a(&bytes[..len + 4])?;
        let mut at = len + 4;
        let c = if version >= 3 {
            let c_len = streams::part_c_len(&bytes[at..])?;
            let c = bytes.get(at..at + c_len).ok_or("checkpoint ends early")?;
            at += c_len;
            Some(c.to_vec().into())
        } else {
            None
        };
        let streams = Self::streams_from_checkpoint_parts(c, bytes[at..].to_vec().into())?;
        index.complete_streams(streams)?;
        Ok(index)
    }
}

/// A batch with all its records decoded and checked, built only by [`decode_records`] and
/// consumed by [`Index::apply_decoded`]: holding one proves that every record of the batch
/// decoded, in order, exactly `header.count` of them.
#[derive(Debug)]
pub(crate) struct DecodedBatch<'b> {
    batch: BatchView<'b>,
    records: Vec<RecordView<'b>>,
}

impl DecodedBatch<'_> {
    /// The position of the batch's first record.
    pub(crate) fn first_position(&self) -> u64 {
        self.batch.header.first_position
    }
}

/// The fewest bytes a record can take: a compact one is at least its length varint (1 byte)
/// and its CRC (a length under 4 is refused); a version-1/2 one its fixed part.
fn record_len_min(compact: bool) -> usize {
    if compact {
        1 + 4
    } else {
        format::RECORD_FIXED_LEN
    }
}

/// The records of `batch`, decoded and checked (framing, CRCs, field ranges, UTF-8, positions,
/// the header's count: a record missing or bytes after the last one are errors): the part of
/// [`Index::apply_batch`] that needs no index, so that it runs before the index is locked. An
/// error is the offset within the body and what is wrong.
pub(crate) fn decode_records(batch: BatchView<'_>) -> Result<DecodedBatch<'_>, (usize, String)> {
    // Sized once (a collect through `Result` would grow it by doubling, moving every view
    // decoded so far each time), from the header's count but never beyond what the body can
    // hold: the count is not trusted for an allocation.
    let fits = batch.body.len() / record_len_min(batch.header.compact);
    let mut records = Vec::with_capacity((batch.header.count as usize).min(fits));
    for r in batch.records() {
        records.push(r?);
    }
    assert_eq!(
        records.len(),
        batch.header.count as usize,
        "the record iterator yields the header's count or an error"
    );
    Ok(DecodedBatch { batch, records })
}

/// Events of one stream, consecutive in a batch, checked and waiting to be added to its entry
/// together ([`Index::apply_batch`]).
#[derive(Default)]
struct StreamRun<'b> {
    stream: &'b str,
    /// The stream's version before the run.
    version_before: u64,
    /// Per event: its location and its command's hash (versions follow `version_before`).
    events: Vec<(EventLoc, u64)>,
}

impl<'b> StreamRun<'b> {
    /// Checks that `e` continues its stream and queues it; a new stream ends the run.
    fn push(&mut self, streams: &mut StreamIndex, e: &EventRef<'b>, offset: u64, hash: u64) -> Result<(), String> {
        if self.stream != e.stream || self.events.is_empty() {
            self.flush(streams);
            self.stream = e.stream;
            self.version_before = streams.version(e.stream);
        }
        let due = self.version_before + self.events.len() as u64 + 1;
        if e.stream_version != due {
            return Err(format!(
                "stream {:?} version {} where {due} was due",
                e.stream, e.stream_version
            ));
        }
        let loc = EventLoc {
            position: e.position,
            offset,
        };
        self.events.push((loc, hash));
        Ok(())
    }

    /// Adds the queued events to their stream's entry (one lookup).
    fn flush(&mut self, streams: &mut StreamIndex) {
        if self.events.is_empty() {
            return;
        }
        let entry = streams.entry_mut(self.stream);
        assert_eq!(
            entry.events.len() as u64,
            self.version_before,
            "the run was checked against this entry"
        );
        entry.events.reserve(self.events.len());
        for (loc, hash) in self.events.drain(..) {
            let version = entry.events.len() as u64 + 1;
            entry.events.push(loc);
            entry.record_command(hash, version);
        }
    }
}

/// Adds one event to its stream's entry, checking the version continues.
fn apply_to_streams(
    streams: &mut StreamIndex,
    stream: &str,
    stream_version: u64,
    position: u64,
    offset: u64,
    hash: u64,
) -> Result<(), String> {
    let entry = streams.entry_mut(stream);
    let version = entry.events.len() as u64;
    if stream_version != version + 1 {
        return Err(format!(
            "stream {stream:?} version {stream_version} where {} was due",
            version + 1
        ));
    }
    entry.events.push(EventLoc { position, offset });
    entry.record_command(hash, stream_version);
    Ok(())
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.b.len() - self.at < n {
            return Err("checkpoint ends early".into());
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(format::u32_at(self.take(4)?, 0))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(format::u64_at(self.take(8)?, 0))
    }
    /// A count of items at least `item_min` bytes each, checked against the bytes left.
    fn count(&mut self, item_min: usize) -> Result<usize, String> {
        let n = self.u64()?;
        if n > ((self.b.len() - self.at) / item_min) as u64 {
            return Err("checkpoint count larger than the file".into());
        }
        Ok(n as usize)
    }
}

/// Why a batch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyFault {
    Corrupt { offset: u64, detail: String },
    Chain { position: u64, detail: String },
}

#[cfg(test)]
mod command_set_tests {
    use super::*;

    /// Commands `hashes` in order, one event each.
    fn entry_of(hashes: &[u64]) -> StreamEntry {
        let mut e = StreamEntry::default();
        for (i, &h) in hashes.iter().enumerate() {
            e.record_command(h, i as u64 + 1);
        }
        e
    }

    fn versions(e: &StreamEntry, hash: u64) -> Vec<u64> {
        e.commands_with_hash(hash).map(|c| c.first_version).collect()
    }

    #[test]
    fn every_recorded_command_is_found_below_and_above_the_set_threshold() {
        // Hash 7 twice (a 64-bit collision, or a command id seen again after another one):
        // both are candidates, in order.
        let mut hashes: Vec<u64> = (100..100 + 3 * COMMAND_SET_MIN as u64).collect();
        hashes[3] = 7;
        hashes[2 * COMMAND_SET_MIN] = 7;
        for n in [COMMAND_SET_MIN - 1, COMMAND_SET_MIN, hashes.len()] {
            let e = entry_of(&hashes[..n]);
            assert_eq!(e.command_hashes.is_some(), n >= COMMAND_SET_MIN);
            for (i, &h) in hashes[..n].iter().enumerate().filter(|(_, &h)| h != 7) {
                assert_eq!(versions(&e, h), vec![i as u64 + 1], "{n} commands, hash {h}");
            }
            let sevens: Vec<u64> = hashes[..n]
                .iter()
                .enumerate()
                .filter(|(_, &h)| h == 7)
                .map(|(i, _)| i as u64 + 1)
                .collect();
            assert_eq!(versions(&e, 7), sevens);
            assert!(versions(&e, 99).is_empty() && versions(&e, 1_000_000).is_empty());
        }
    }

    #[test]
    fn a_decoded_entry_finds_the_same_commands_with_or_without_its_set() {
        let hashes: Vec<u64> = (0..2 * COMMAND_SET_MIN as u64).map(|h| h * 31 + 5).collect();
        let built = entry_of(&hashes);
        let decoded = StreamEntry::new(built.events.clone(), built.commands().to_vec());
        let hot = decoded.clone().with_command_set();
        assert!(decoded.command_hashes.is_none() && hot.command_hashes.is_some());
        assert_eq!(built, decoded);
        for h in hashes.iter().copied().chain([0, 4, 6]) {
            assert_eq!(versions(&decoded, h), versions(&built, h));
            assert_eq!(versions(&hot, h), versions(&built, h));
        }
        // A command recorded after the set was built is found too.
        let mut hot = hot;
        hot.record_command(123_456, hashes.len() as u64 + 1);
        assert_eq!(versions(&hot, 123_456), vec![hashes.len() as u64 + 1]);
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;

    /// The bytes of a compact batch at `first_position` whose header says `count` records and
    /// whose body holds `events` (stream, stream version, command id), in order.
    fn batch_bytes(first_position: u64, count: u32, events: &[(&str, u64, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        let start = format::begin_batch(&mut out);
        for (i, &(stream, stream_version, command_id)) in events.iter().enumerate() {
            let event = EventRef {
                position: first_position + i as u64,
                stream,
                stream_version,
                event_type: "ProgressNoted",
                schema_version: 1,
                occurred_at_ms: 1_767_225_600_000 + i as i64,
                recorded_at_ms: 1_767_225_600_040 + i as i64,
                actor: "agent-7",
                command_id,
                payload: b"called back; parcel found",
            };
            format::encode_record(&mut out, &event);
        }
        format::finish_batch(&mut out, start, first_position, count, &[first_position as u8; 32]);
        out
    }

    const THREE: [(&str, u64, &str); 3] = [("c-1", 1, "cmd-1"), ("c-1", 2, "cmd-1"), ("c-2", 1, "cmd-2")];

    /// Where each record of a sound batch starts in its body, and the body's length.
    fn record_starts(bytes: &[u8]) -> (Vec<usize>, usize) {
        let batch = format::parse_batch(bytes).unwrap();
        let lens: Vec<usize> = batch.records().map(|r| r.unwrap().len).collect();
        let starts = lens
            .iter()
            .scan(0, |at, len| Some(std::mem::replace(at, *at + len)))
            .collect();
        (starts, batch.body.len())
    }

    #[test]
    fn a_sound_batch_decodes_every_record_in_order() {
        let bytes = batch_bytes(1, 3, &THREE);
        let decoded = decode_records(format::parse_batch(&bytes).unwrap()).unwrap();
        assert_eq!(decoded.first_position(), 1);
        let got: Vec<(u64, &str, u64)> = decoded
            .records
            .iter()
            .map(|r| (r.event.position, r.event.stream, r.event.stream_version))
            .collect();
        assert_eq!(got, vec![(1, "c-1", 1), (2, "c-1", 2), (3, "c-2", 1)]);
    }

    #[test]
    fn bytes_after_the_last_record_the_header_counts_are_refused() {
        // A sound batch (header and batch CRCs agree) whose header counts two of its three.
        let bytes = batch_bytes(1, 2, &THREE);
        let (starts, _) = record_starts(&batch_bytes(1, 3, &THREE));
        let err = decode_records(format::parse_batch(&bytes).unwrap()).unwrap_err();
        assert_eq!(err.0, starts[2], "{err:?}");
        assert!(err.1.contains("bytes after the last record"), "{err:?}");
    }

    #[test]
    fn a_count_over_the_records_in_the_body_is_refused_without_trusting_it() {
        let sound = batch_bytes(1, 3, &THREE);
        let (_, body_len) = record_starts(&sound);
        // One more than the body holds, in a batch whose CRCs agree.
        let bytes = batch_bytes(1, 4, &THREE);
        let err = decode_records(format::parse_batch(&bytes).unwrap()).unwrap_err();
        assert_eq!(err.0, body_len, "{err:?}");
        // The most a header field can say (`parse_batch` stops it at `BATCH_EVENTS_MAX`, a view
        // need not come from there): not believed for the allocation, where u32::MAX record
        // views would not fit in memory.
        let sound = format::parse_batch(&sound).unwrap();
        let header = format::BatchHeader {
            count: u32::MAX,
            ..sound.header
        };
        let err = decode_records(BatchView { header, ..sound }).unwrap_err();
        assert_eq!(err.0, body_len, "{err:?}");
    }

    #[test]
    fn a_flipped_record_crc_is_refused_at_its_record() {
        let bytes = batch_bytes(1, 3, &THREE);
        let (starts, _) = record_starts(&bytes);
        let sound = format::parse_batch(&bytes).unwrap();
        let mut body = sound.body.to_vec();
        // The second record's CRC follows its one-byte length varint.
        body[starts[1] + 1] ^= 0x40;
        let batch = BatchView { body: &body, ..sound };
        let err = decode_records(batch).unwrap_err();
        assert_eq!(err.0, starts[1], "{err:?}");
        assert!(err.1.contains("record CRC mismatch"), "{err:?}");
    }

    /// Applies `batches` (bytes of batches in file order, starting a segment at position 1)
    /// with `apply`.
    fn index_after(batches: &[Vec<u8>], apply: impl Fn(&mut Index, u64, BatchView<'_>)) -> Index {
        let mut index = Index::default();
        index.add_segment(1);
        for bytes in batches {
            let offset = index.segments.last().unwrap().len;
            apply(&mut index, offset, format::parse_batch(bytes).unwrap());
        }
        index
    }

    #[test]
    fn apply_decoded_leaves_the_index_apply_batch_leaves() {
        let batches = [
            batch_bytes(1, 3, &THREE),
            batch_bytes(4, 3, &[("c-2", 2, "cmd-3"), ("c-3", 1, "cmd-4"), ("c-1", 3, "cmd-5")]),
            batch_bytes(7, 1, &[("c-3", 2, "cmd-6")]),
        ];
        let by_batch = index_after(&batches, |index, offset, batch| {
            index.apply_batch(offset, &batch, false).unwrap();
        });
        let by_decoded = index_after(&batches, |index, offset, batch| {
            index.apply_decoded(offset, decode_records(batch).unwrap()).unwrap();
        });
        assert_eq!(by_batch.head, 7);
        assert_eq!(by_batch.streams.get("c-1").unwrap().events.len(), 3);
        assert_eq!(by_decoded, by_batch);
    }
}

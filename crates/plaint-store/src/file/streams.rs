//! The stream index: per stream, its events' record locations and its commands.
//!
//! After a fast open most entries stay in their checkpoint encoding ("cold": part B of
//! `index.pidx`, kept in memory as read) behind a compact open-addressing table of name hashes;
//! an entry is decoded when it is first read and moved to the "hot" map when it first changes.
//! Since checkpoint layout 3 the table itself is persisted (part C, keyed SipHash-1-3 of the
//! names), so loading the index costs one read and one CRC of each part and a framing walk over
//! the entries: no hashing, no table building and no allocation per stream (issue 13). A
//! layout-2 checkpoint (no part C) still loads: its table is built in one pass, as before.

use super::format;
use super::index::{CommandEntry, EventLoc, StreamEntry};
use crate::io::Mapped;
use crate::sharded::ShardedTable;
use siphasher::sip::SipHasher13;
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::Arc;

/// Checkpoint bytes: read into memory, or a range of the memory-mapped checkpoint file (the
/// file log maps it where the I/O seam can, so loading copies nothing).
#[derive(Clone)]
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped { map: Arc<Mapped>, start: usize, end: usize },
}

impl Bytes {
    /// Bytes `start..end` of a mapping (clamped to it).
    pub fn mapped(map: Arc<Mapped>, start: usize, end: usize) -> Bytes {
        let end = end.min(map.len());
        Bytes::Mapped {
            start: start.min(end),
            end,
            map,
        }
    }
    /// Shortens to `len` bytes (no-op when already shorter).
    pub fn truncate(&mut self, len: usize) {
        match self {
            Bytes::Owned(v) => v.truncate(len),
            Bytes::Mapped { start, end, .. } => *end = (*start + len).min(*end),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped { map, start, end } => &map[*start..*end],
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::Owned(v)
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Owned(v) => write!(f, "Owned({} bytes)", v.len()),
            Bytes::Mapped { start, end, .. } => write!(f, "Mapped({start}..{end})"),
        }
    }
}

/// Bits of a table slot holding the entry's offset in part B plus one (0: empty slot); the
/// remaining high bits hold the top bits of the name's hash, compared before the name.
pub const SLOT_OFFSET_BITS: u32 = 40;
const SLOT_OFFSET_MASK: u64 = (1 << SLOT_OFFSET_BITS) - 1;
/// Bytes of part C before its slots: the two SipHash keys and the slot count.
pub const TABLE_HEADER_LEN: usize = 24;

/// Checkpoint-encoded entries and their lookup table.
#[derive(Debug, Clone)]
struct Cold {
    /// Part B without its CRC: u64 count, then the entries.
    bytes: Bytes,
    /// Slots of `hash tag << 40 | (entry offset + 1)`, little-endian u64s from byte
    /// `slots_at` of `table` (part C as read, or a table built at load); 0 marks an empty slot.
    /// Power-of-two count.
    table: Bytes,
    slots_at: usize,
    slot_count: usize,
    count: usize,
    /// Events the entries hold, summed by the framing walk at load.
    events: u64,
    hasher: SipHasher13,
}

/// What the framing walk over part B found.
struct Walked {
    count: usize,
    /// Events the entries hold (each a record location).
    events: u64,
    /// The lookup table built on the way (layout 2), empty otherwise.
    table: Vec<u8>,
}

/// The hot map's hasher: foldhash (SipHash-1-3, std's default, was ≈ 2 % of a bulk import's
/// CPU). Its seed is made per process from addresses (ASLR) and the time, not from a secure
/// random source, and foldhash claims only "minimal" HashDoS resistance: no input list
/// collides for every seed, but an interactive attacker who can observe timings may derive the
/// seed. The exposure is the engine cache's (`src/engine_cache.rs`, also foldhash): callers
/// choose the stream names (complaint ids), and names made to collide would cost probes — slower
/// lookups, never a wrong entry (the map compares whole names); unlike the cache this map is not
/// bounded. Kept, because the cost is time only; the map is rebuilt at every open, so no seed is
/// persisted (the checkpoint's part C keeps its own SipHash-1-3 table).
type HotHasher = foldhash::fast::RandomState;

/// The hot entries: a [`ShardedTable`] so that no growth stops the log's writer for long
/// (wave 13's profile: a plain map's doublings took 70 / 130 / 230 ms of a 20 s `serve` run).
#[derive(Debug, Clone, Default)]
struct Hot {
    table: ShardedTable<(Box<str>, StreamEntry)>,
    hasher: HotHasher,
}

impl Hot {
    #[inline]
    fn hash(&self, name: &str) -> u64 {
        self.hasher.hash_one(name)
    }
    #[inline]
    fn get(&self, name: &str) -> Option<&StreamEntry> {
        let found = self.table.find(self.hash(name), |(k, _)| **k == *name);
        found.map(|(_, s)| s)
    }
    #[inline]
    fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// The entry of `name`, made by `make` when absent.
    #[inline]
    fn get_or_insert_with(&mut self, name: &str, make: impl FnOnce() -> StreamEntry) -> &mut StreamEntry {
        let hasher = &self.hasher;
        let entry = self.table.find_or_insert_with(
            hasher.hash_one(name),
            |(k, _)| **k == *name,
            || (name.into(), make()),
            |(k, _)| hasher.hash_one(&**k),
        );
        &mut entry.1
    }
    fn len(&self) -> usize {
        self.table.len()
    }
    fn iter(&self) -> impl Iterator<Item = (&str, &StreamEntry)> + '_ {
        self.table.iter().map(|(k, s)| (&**k, s))
    }
}

/// The stream index (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct StreamIndex {
    hot: Hot,
    cold: Option<Cold>,
    /// Hot entries that were decoded from a cold one (so they are not counted twice).
    hot_from_cold: usize,
}

/// The length of part C with its CRC, from its first [`TABLE_HEADER_LEN`] bytes.
pub fn part_c_len(header: &[u8]) -> Result<usize, String> {
    if header.len() < TABLE_HEADER_LEN {
        return Err("checkpoint part C too short".into());
    }
    let n = format::u64_at(header, 16);
    if !n.is_power_of_two() || n > 1 << 40 {
        return Err(format!(
            "checkpoint part C slot count {n} is not a power of two up to 2^40"
        ));
    }
    Ok(TABLE_HEADER_LEN + n as usize * 8 + 4)
}

/// The slot count of a table for `count` entries: at most half full, at least 16.
fn table_len(count: usize) -> usize {
    (count * 2).next_power_of_two().max(16)
}

#[inline]
fn tag_of(hash: u64) -> u64 {
    hash >> SLOT_OFFSET_BITS
}

/// Places `offset` (of an entry whose name hashed to `hash`) in the first free slot of
/// `slots` (little-endian u64s).
fn place(slots: &mut [u8], hash: u64, offset: usize) {
    assert!(
        (offset as u64) < SLOT_OFFSET_MASK,
        "checkpoint part B over 1 TiB: a table slot holds a 40-bit offset"
    );
    let mask = slots.len() / 8 - 1;
    let mut i = (hash as usize) & mask;
    while format::u64_at(slots, i * 8) != 0 {
        i = (i + 1) & mask;
    }
    let slot = (tag_of(hash) << SLOT_OFFSET_BITS) | (offset as u64 + 1);
    slots[i * 8..i * 8 + 8].copy_from_slice(&slot.to_le_bytes());
}

/// An encoded entry: where its fields lie in `bytes`.
struct RawEntry<'a> {
    name: &'a str,
    events: &'a [u8],
    commands: &'a [u8],
    /// Offset just past the entry.
    end: usize,
}

fn raw_entry(bytes: &[u8], at: usize) -> Result<RawEntry<'_>, String> {
    let short = || "checkpoint stream entry runs past part B".to_string();
    let name_len = *bytes.get(at).ok_or_else(short)? as usize;
    let name_end = at + 1 + name_len;
    let name = std::str::from_utf8(bytes.get(at + 1..name_end).ok_or_else(short)?)
        .map_err(|_| "stream name not UTF-8".to_string())?;
    let ne = format::u64_at(bytes.get(name_end..name_end + 8).ok_or_else(short)?, 0);
    let ev_start = name_end + 8;
    let ev_end = usize::try_from(ne)
        .ok()
        .and_then(|n| n.checked_mul(16))
        .and_then(|l| ev_start.checked_add(l));
    // Room for the command count after the events (no overflow for a forged event count).
    let ev_end = ev_end
        .filter(|&e| bytes.len().checked_sub(e).is_some_and(|rest| rest >= 8))
        .ok_or_else(short)?;
    let nc = format::u64_at(&bytes[ev_end..ev_end + 8], 0);
    let c_start = ev_end + 8;
    let c_end = usize::try_from(nc)
        .ok()
        .and_then(|n| n.checked_mul(20))
        .and_then(|l| c_start.checked_add(l));
    let c_end = c_end.filter(|&e| e <= bytes.len()).ok_or_else(short)?;
    Ok(RawEntry {
        name,
        events: &bytes[ev_start..ev_end],
        commands: &bytes[c_start..c_end],
        end: c_end,
    })
}

fn decode(raw: &RawEntry<'_>) -> StreamEntry {
    StreamEntry::new(
        raw.events
            .chunks_exact(16)
            .map(|c| EventLoc {
                position: format::u64_at(c, 0),
                offset: format::u64_at(c, 8),
            })
            .collect(),
        raw.commands
            .chunks_exact(20)
            .map(|c| CommandEntry {
                hash: format::u64_at(c, 0),
                first_version: format::u64_at(c, 8),
                count: format::u32_at(c, 16),
            })
            .collect(),
    )
}

/// Appends one entry in checkpoint encoding.
pub fn encode_entry(out: &mut Vec<u8>, name: &str, s: &StreamEntry) {
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(s.events.len() as u64).to_le_bytes());
    for e in &s.events {
        out.extend_from_slice(&e.position.to_le_bytes());
        out.extend_from_slice(&e.offset.to_le_bytes());
    }
    out.extend_from_slice(&(s.commands().len() as u64).to_le_bytes());
    for c in s.commands() {
        out.extend_from_slice(&c.hash.to_le_bytes());
        out.extend_from_slice(&c.first_version.to_le_bytes());
        out.extend_from_slice(&c.count.to_le_bytes());
    }
}

impl Cold {
    /// Checks part B's count, then walks every entry once checking its framing; returns the
    /// count, the events the entries hold and, when `hasher` is given, a table built on the way
    /// (layout 2).
    fn walk(bytes: &[u8], hasher: Option<&SipHasher13>) -> Result<Walked, String> {
        if bytes.len() < 8 {
            return Err("checkpoint part B too short".into());
        }
        let count = format::u64_at(bytes, 0);
        if count > (bytes.len() / 17) as u64 {
            return Err("checkpoint stream count larger than part B".into());
        }
        let count = count as usize;
        let mut slots = match hasher {
            Some(_) => vec![0u8; table_len(count) * 8],
            None => Vec::new(),
        };
        let mut at = 8usize;
        let mut events = 0u64;
        for _ in 0..count {
            let raw = raw_entry(bytes, at)?;
            events += (raw.events.len() / 16) as u64;
            if let Some(h) = hasher {
                place(&mut slots, h.hash(raw.name.as_bytes()), at);
            }
            at = raw.end;
        }
        if at != bytes.len() {
            return Err("checkpoint part B has trailing bytes".into());
        }
        Ok(Walked {
            count,
            events,
            table: slots,
        })
    }

    /// Entries of a layout-2 checkpoint: the table is built in one pass under a fresh key.
    fn new(bytes: Bytes) -> Result<Cold, String> {
        let hasher = SipHasher13::new_with_keys(rand::random(), rand::random());
        let walked = Self::walk(&bytes, Some(&hasher))?;
        Ok(Cold {
            bytes,
            slot_count: walked.table.len() / 8,
            table: walked.table.into(),
            slots_at: 0,
            count: walked.count,
            events: walked.events,
            hasher,
        })
    }

    /// Entries with their persisted table (`table` = part C, already CRC-checked; a CRC after
    /// its slots is ignored): the framing walk only, the table is used as read.
    fn with_table(bytes: Bytes, table: Bytes) -> Result<Cold, String> {
        let Walked { count, events, .. } = Self::walk(&bytes, None)?;
        if table.len() < TABLE_HEADER_LEN {
            return Err("checkpoint part C too short".into());
        }
        let n = format::u64_at(&table, 16);
        let slots_len = table.len() as u64 - TABLE_HEADER_LEN as u64;
        if n != table_len(count) as u64 || !(slots_len == n * 8 || slots_len == n * 8 + 4) {
            return Err(format!(
                "checkpoint part C has {n} slots and {} bytes for {count} streams",
                table.len()
            ));
        }
        let hasher = SipHasher13::new_with_keys(format::u64_at(&table, 0), format::u64_at(&table, 8));
        Ok(Cold {
            bytes,
            table,
            slots_at: TABLE_HEADER_LEN,
            slot_count: n as usize,
            count,
            events,
            hasher,
        })
    }

    fn find(&self, name: &str) -> Option<RawEntry<'_>> {
        let h = self.hasher.hash(name.as_bytes());
        let tag = tag_of(h);
        let mask = self.slot_count - 1;
        let mut i = (h as usize) & mask;
        // Bounded: a table is never full, but a forged one must not loop forever.
        for _ in 0..self.slot_count {
            let slot = format::u64_at(&self.table, self.slots_at + i * 8);
            if slot == 0 {
                return None;
            }
            // A forged slot (a tag without an offset, an offset past part B) matches nothing.
            let off = (slot & SLOT_OFFSET_MASK).checked_sub(1);
            if let Some(off) = off.filter(|_| slot >> SLOT_OFFSET_BITS == tag) {
                if let Ok(raw) = raw_entry(&self.bytes, off as usize) {
                    if raw.name == name {
                        return Some(raw);
                    }
                }
            }
            i = (i + 1) & mask;
        }
        None
    }
}

impl StreamIndex {
    /// An index over a layout-2 checkpoint's part B (`part_b` without its CRC, already
    /// CRC-checked); its lookup table is built here.
    pub fn from_checkpoint(part_b: impl Into<Bytes>) -> Result<StreamIndex, String> {
        Ok(StreamIndex {
            hot: Hot::default(),
            cold: Some(Cold::new(part_b.into())?),
            hot_from_cold: 0,
        })
    }

    /// An index over a layout-3 checkpoint's part B and its persisted lookup table, part C
    /// (both without their CRCs, already CRC-checked).
    pub fn from_checkpoint_with_table(
        part_b: impl Into<Bytes>,
        part_c: impl Into<Bytes>,
    ) -> Result<StreamIndex, String> {
        Ok(StreamIndex {
            hot: Hot::default(),
            cold: Some(Cold::with_table(part_b.into(), part_c.into())?),
            hot_from_cold: 0,
        })
    }

    /// Number of streams.
    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.as_ref().map_or(0, |c| c.count) - self.hot_from_cold
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events held by the entries as loaded from a checkpoint (later changes not counted; 0
    /// for an index that was not loaded): every event of the log up to the checkpoint's head
    /// belongs to exactly one stream, so this is that head for a checkpoint that fits its log.
    pub fn loaded_event_count(&self) -> u64 {
        self.cold.as_ref().map_or(0, |c| c.events)
    }

    /// The stream's version (its event count); 0 when unknown.
    pub fn version(&self, name: &str) -> u64 {
        if let Some(s) = self.hot.get(name) {
            return s.events.len() as u64;
        }
        self.cold
            .as_ref()
            .and_then(|c| c.find(name))
            .map_or(0, |r| (r.events.len() / 16) as u64)
    }

    /// The entry of `name`, decoded if it is still cold.
    pub fn get(&self, name: &str) -> Option<Cow<'_, StreamEntry>> {
        if let Some(s) = self.hot.get(name) {
            return Some(Cow::Borrowed(s));
        }
        self.cold
            .as_ref()
            .and_then(|c| c.find(name))
            .map(|r| Cow::Owned(decode(&r)))
    }

    /// The entry of `name` for changing, created empty when unknown.
    pub fn entry_mut(&mut self, name: &str) -> &mut StreamEntry {
        let (cold, hot_from_cold) = (&self.cold, &mut self.hot_from_cold);
        self.hot.get_or_insert_with(name, || {
            // Hot entries change and are looked up again: they keep their command set.
            let decoded = cold
                .as_ref()
                .and_then(|c| c.find(name))
                .map(|r| decode(&r).with_command_set());
            if decoded.is_some() {
                *hot_from_cold += 1;
            }
            decoded.unwrap_or_default()
        })
    }

    /// Appends every entry in checkpoint encoding (count first); cold entries that never
    /// changed are copied as they are. Returns, per entry, its name's hash under `hasher` and
    /// its offset from the start of what was appended.
    fn encode_entries(&self, out: &mut Vec<u8>, hasher: &SipHasher13) -> Vec<(u64, usize)> {
        let base = out.len();
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        let mut placed = Vec::with_capacity(self.len());
        for (name, s) in self.hot.iter() {
            placed.push((hasher.hash(name.as_bytes()), out.len() - base));
            encode_entry(out, name, s);
        }
        if let Some(c) = &self.cold {
            let mut at = 8usize;
            for _ in 0..c.count {
                let raw = raw_entry(&c.bytes, at).expect("entries were checked at load");
                if !self.hot.contains_key(raw.name) {
                    placed.push((hasher.hash(raw.name.as_bytes()), out.len() - base));
                    out.extend_from_slice(&c.bytes[at..raw.end]);
                }
                at = raw.end;
            }
        }
        assert_eq!(placed.len(), self.len(), "every stream encoded once");
        placed
    }

    /// Appends the checkpoint's parts C and B, each followed by its CRC-32C: part C is the
    /// lookup table (u64 SipHash-1-3 keys k0, k1, u64 slot count n, n u64 slots), part B the
    /// entries (count first). See `docs/log-format.md`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let hasher = SipHasher13::new_with_keys(rand::random(), rand::random());
        let (k0, k1) = hasher.keys();
        let n = table_len(self.len());
        let c_start = out.len();
        out.extend_from_slice(&k0.to_le_bytes());
        out.extend_from_slice(&k1.to_le_bytes());
        out.extend_from_slice(&(n as u64).to_le_bytes());
        let slots_at = out.len();
        out.resize(slots_at + n * 8 + 4, 0);
        let b_start = out.len();
        let placed = self.encode_entries(out, &hasher);
        let crc_b = crc32c::crc32c(&out[b_start..]);
        out.extend_from_slice(&crc_b.to_le_bytes());
        for (h, off) in placed {
            place(&mut out[slots_at..slots_at + n * 8], h, off);
        }
        let c_end = slots_at + n * 8;
        let crc_c = crc32c::crc32c(&out[c_start..c_end]);
        out[c_end..c_end + 4].copy_from_slice(&crc_c.to_le_bytes());
    }

    /// Every stream name with its entry (for `verify`).
    pub fn for_each(&self, mut f: impl FnMut(&str, &StreamEntry)) {
        for (name, s) in self.hot.iter() {
            f(name, s);
        }
        if let Some(c) = &self.cold {
            let mut at = 8usize;
            for _ in 0..c.count {
                let raw = raw_entry(&c.bytes, at).expect("entries were checked at load");
                if !self.hot.contains_key(raw.name) {
                    f(raw.name, &decode(&raw));
                }
                at = raw.end;
            }
        }
    }
}

impl PartialEq for StreamIndex {
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mut same = true;
        self.for_each(|name, s| same &= other.get(name).as_deref() == Some(s));
        same
    }
}

impl Eq for StreamIndex {}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> StreamEntry {
        StreamEntry::new(
            (1..=n)
                .map(|p| EventLoc {
                    position: p * 3,
                    offset: p * 100,
                })
                .collect(),
            vec![CommandEntry {
                hash: n,
                first_version: 1,
                count: n as u32,
            }],
        )
    }

    /// Splits `encode`'s output into (part C with CRC, part B with CRC).
    fn parts(bytes: &[u8]) -> (&[u8], Vec<u8>) {
        let c_len = part_c_len(bytes).unwrap();
        (&bytes[..c_len], bytes[c_len..].to_vec())
    }

    fn load(bytes: &[u8]) -> Result<StreamIndex, String> {
        let (c, b) = parts(bytes);
        super::super::index::Index::streams_from_checkpoint_parts(Some(c.to_vec().into()), b.into())
    }

    /// Part B alone without its CRC, as a layout-2 checkpoint held it.
    fn layout2(bytes: &[u8]) -> Vec<u8> {
        let (_, mut b) = parts(bytes);
        b.truncate(b.len() - 4);
        b
    }

    #[test]
    fn cold_entries_read_like_hot_ones_and_survive_reencoding() {
        let mut hot = StreamIndex::default();
        for i in 0..500u64 {
            *hot.entry_mut(&format!("s-{i}")) = entry(i % 7 + 1);
        }
        let mut bytes = Vec::new();
        hot.encode(&mut bytes);
        let mut cold = load(&bytes).unwrap();
        assert_eq!(cold.len(), 500);
        assert_eq!(cold, hot);
        assert_eq!(cold.version("s-13"), 13 % 7 + 1);
        assert_eq!(cold.version("nope"), 0);
        cold.entry_mut("s-13").events.push(EventLoc {
            position: 9999,
            offset: 1,
        });
        cold.entry_mut("new").events.push(EventLoc {
            position: 10_000,
            offset: 2,
        });
        assert_eq!(cold.len(), 501);
        assert_eq!(cold.version("s-13"), 13 % 7 + 2);
        let mut again = Vec::new();
        cold.encode(&mut again);
        let reloaded = load(&again).unwrap();
        assert_eq!(reloaded, cold);
        assert_ne!(reloaded, hot);
        assert_eq!(reloaded.version("new"), 1);
        assert_eq!(reloaded.version("s-13"), 13 % 7 + 2);
        let (c, b) = parts(&bytes);
        let mut cut = b.clone();
        cut.truncate(b.len() - 3);
        assert!(
            super::super::index::Index::streams_from_checkpoint_parts(Some(c.to_vec().into()), cut.into()).is_err(),
            "cut part B"
        );
    }

    #[test]
    fn a_layout_2_part_b_without_a_table_still_loads() {
        let mut hot = StreamIndex::default();
        for i in 0..300u64 {
            *hot.entry_mut(&format!("c-{i}")) = entry(i % 5 + 1);
        }
        let mut bytes = Vec::new();
        hot.encode(&mut bytes);
        let old = StreamIndex::from_checkpoint(layout2(&bytes)).unwrap();
        assert_eq!(old, hot);
        assert_eq!(old.version("c-42"), 42 % 5 + 1);
    }

    #[test]
    fn a_damaged_or_mismatched_table_is_refused_never_trusted() {
        let mut hot = StreamIndex::default();
        for i in 0..200u64 {
            *hot.entry_mut(&format!("d-{i}")) = entry(i % 3 + 1);
        }
        let mut bytes = Vec::new();
        hot.encode(&mut bytes);
        let c_len = part_c_len(&bytes).unwrap();
        // A flipped bit anywhere in part C (keys, slot count, slots) fails its CRC.
        for at in [0, 9, 17, TABLE_HEADER_LEN + 8, c_len - 5] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x04;
            let (c, b) = (&bad[..c_len], bad[c_len..].to_vec());
            let err = super::super::index::Index::streams_from_checkpoint_parts(Some(c.to_vec().into()), b.into());
            assert!(err.is_err(), "flip at {at} accepted");
        }
        // A well-formed table of the wrong size for its part B is refused by name.
        let err = StreamIndex::from_checkpoint_with_table(layout2(&bytes), bytes[..TABLE_HEADER_LEN + 16 * 8].to_vec())
            .unwrap_err();
        assert!(err.contains("part C"), "{err}");
        // A forged table whose slots are all taken cannot make a lookup loop forever.
        let (_, b) = parts(&bytes);
        let mut full = bytes[..c_len - 4].to_vec();
        for slot in full[TABLE_HEADER_LEN..].chunks_exact_mut(8) {
            slot.copy_from_slice(&(u64::MAX >> 1).to_le_bytes());
        }
        let forged = StreamIndex::from_checkpoint_with_table(b[..b.len() - 4].to_vec(), full).unwrap();
        assert_eq!(forged.version("d-1"), 0);
    }
}

//! The stream index: per stream, its events' record locations and its commands.
//!
//! After a fast open most entries stay in their checkpoint encoding ("cold": part B of
//! `index.pidx`, kept in memory as read) behind a compact open-addressing table of name hashes;
//! an entry is decoded when it is first read and moved to the "hot" map when it first changes.
//! Loading the index therefore costs one read, one CRC and one pass over the entries, without an
//! allocation per stream.

use super::format;
use super::index::{CommandEntry, EventLoc, StreamEntry};
use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Checkpoint-encoded entries and their lookup table.
#[derive(Debug, Clone)]
struct Cold {
    /// Part B without its CRC: u64 count, then the entries.
    bytes: Vec<u8>,
    /// Slots of (name hash, entry offset + 1); offset 0 marks an empty slot. Power-of-two size.
    slots: Vec<(u64, u64)>,
    count: usize,
    hasher: RandomState,
}

/// The stream index (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct StreamIndex {
    hot: HashMap<Box<str>, StreamEntry>,
    cold: Option<Cold>,
    /// Hot entries that were decoded from a cold one (so they are not counted twice).
    hot_from_cold: usize,
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
    let ev_end = ev_end.filter(|&e| e + 8 <= bytes.len()).ok_or_else(short)?;
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
    StreamEntry {
        events: raw
            .events
            .chunks_exact(16)
            .map(|c| EventLoc {
                position: format::u64_at(c, 0),
                offset: format::u64_at(c, 8),
            })
            .collect(),
        commands: raw
            .commands
            .chunks_exact(20)
            .map(|c| CommandEntry {
                hash: format::u64_at(c, 0),
                first_version: format::u64_at(c, 8),
                count: format::u32_at(c, 16),
            })
            .collect(),
    }
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
    out.extend_from_slice(&(s.commands.len() as u64).to_le_bytes());
    for c in &s.commands {
        out.extend_from_slice(&c.hash.to_le_bytes());
        out.extend_from_slice(&c.first_version.to_le_bytes());
        out.extend_from_slice(&c.count.to_le_bytes());
    }
}

impl Cold {
    /// Walks every entry once, checking its framing, and builds the lookup table.
    fn new(bytes: Vec<u8>) -> Result<Cold, String> {
        if bytes.len() < 8 {
            return Err("checkpoint part B too short".into());
        }
        let count = format::u64_at(&bytes, 0);
        if count > (bytes.len() / 17) as u64 {
            return Err("checkpoint stream count larger than part B".into());
        }
        let count = count as usize;
        let capacity = (count * 2).next_power_of_two().max(16);
        let mut slots = vec![(0u64, 0u64); capacity];
        let hasher = RandomState::new();
        let mut at = 8usize;
        for _ in 0..count {
            let raw = raw_entry(&bytes, at)?;
            let h = hasher.hash_one(raw.name);
            let mut i = (h as usize) & (capacity - 1);
            while slots[i].1 != 0 {
                i = (i + 1) & (capacity - 1);
            }
            slots[i] = (h, at as u64 + 1);
            at = raw.end;
        }
        if at != bytes.len() {
            return Err("checkpoint part B has trailing bytes".into());
        }
        Ok(Cold {
            bytes,
            slots,
            count,
            hasher,
        })
    }

    fn find(&self, name: &str) -> Option<RawEntry<'_>> {
        let h = self.hasher.hash_one(name);
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let (sh, off) = self.slots[i];
            if off == 0 {
                return None;
            }
            if sh == h {
                let raw = raw_entry(&self.bytes, (off - 1) as usize).expect("entries were checked at load");
                if raw.name == name {
                    return Some(raw);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

impl StreamIndex {
    /// An index over checkpoint part B (`part_b` without its CRC, already CRC-checked).
    pub fn from_checkpoint(part_b: Vec<u8>) -> Result<StreamIndex, String> {
        Ok(StreamIndex {
            hot: HashMap::new(),
            cold: Some(Cold::new(part_b)?),
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
        if !self.hot.contains_key(name) {
            let decoded = self.cold.as_ref().and_then(|c| c.find(name)).map(|r| decode(&r));
            if decoded.is_some() {
                self.hot_from_cold += 1;
            }
            self.hot.insert(name.into(), decoded.unwrap_or_default());
        }
        self.hot.get_mut(name).expect("just inserted")
    }

    /// Appends every entry in checkpoint encoding (count first); cold entries that never
    /// changed are copied as they are.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        let mut written = 0usize;
        for (name, s) in &self.hot {
            encode_entry(out, name, s);
            written += 1;
        }
        if let Some(c) = &self.cold {
            let mut at = 8usize;
            for _ in 0..c.count {
                let raw = raw_entry(&c.bytes, at).expect("entries were checked at load");
                if !self.hot.contains_key(raw.name) {
                    out.extend_from_slice(&c.bytes[at..raw.end]);
                    written += 1;
                }
                at = raw.end;
            }
        }
        assert_eq!(written, self.len(), "every stream encoded once");
    }

    /// Every stream name with its entry (for `verify`).
    pub fn for_each(&self, mut f: impl FnMut(&str, &StreamEntry)) {
        for (name, s) in &self.hot {
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
        StreamEntry {
            events: (1..=n)
                .map(|p| EventLoc {
                    position: p * 3,
                    offset: p * 100,
                })
                .collect(),
            commands: vec![CommandEntry {
                hash: n,
                first_version: 1,
                count: n as u32,
            }],
        }
    }

    #[test]
    fn cold_entries_read_like_hot_ones_and_survive_reencoding() {
        let mut hot = StreamIndex::default();
        for i in 0..500u64 {
            *hot.entry_mut(&format!("s-{i}")) = entry(i % 7 + 1);
        }
        let mut bytes = Vec::new();
        hot.encode(&mut bytes);
        let mut cold = StreamIndex::from_checkpoint(bytes.clone()).unwrap();
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
        let reloaded = StreamIndex::from_checkpoint(again).unwrap();
        assert_eq!(reloaded, cold);
        assert_ne!(reloaded, hot);
        assert!(
            StreamIndex::from_checkpoint(bytes[..bytes.len() - 3].to_vec()).is_err(),
            "cut part B"
        );
    }
}

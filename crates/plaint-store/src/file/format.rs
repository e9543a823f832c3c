//! Bytes on disk, format version 3: see `docs/log-format.md`. Everything here is pure: encode
//! into a buffer, decode from a slice, no I/O.
//!
//! Two batch kinds exist: the fixed-width records of versions 1 and 2 (batch magic `BTCH`, read
//! only) and the compact records of version 3 (batch magic `BAT3`, written): varints, no chain
//! prefix per record, the position implied by the batch and folded into the record's CRC, the
//! stream name taken from the command id when it is its prefix.

use crate::chain::ChainHash;
use crate::RecordedEvent;

/// The version new segments are written in. Version 2 (the head anchor, `docs/log-format.md`)
/// changed no byte of a segment: a version-2 segment promises that the directory holds a head
/// anchor file, so that losing it is noticed. Version 3 writes compact batches (`BAT3`).
pub const FORMAT_VERSION: u32 = 3;
/// The first version whose segments hold compact (`BAT3`) batches, and only those.
pub const FORMAT_VERSION_COMPACT: u32 = 3;
/// The oldest segment version this build reads.
pub const FORMAT_VERSION_MIN: u32 = 1;
pub const SEGMENT_MAGIC: [u8; 8] = *b"PLAINTLG";
pub const SEGMENT_HEADER_LEN: usize = 64;
/// Magic of a batch of fixed-width records (versions 1 and 2).
pub const BATCH_MAGIC: [u8; 4] = *b"BTCH";
/// End marker of a batch of fixed-width records.
pub const BATCH_END: [u8; 4] = *b"ENDB";
/// Magic of a batch of compact records (version 3).
pub const BATCH_MAGIC_COMPACT: [u8; 4] = *b"BAT3";
/// End marker of a compact batch: one byte with four bits set (no single flipped bit makes it 0).
pub const BATCH_END_COMPACT: u8 = b'Z';
pub const BATCH_HEADER_LEN: usize = 24;
/// Header, chain value, CRC and end marker of a version-1/2 batch: the batch is this plus its
/// body. The largest overhead of any batch kind (limits are computed with it).
pub const BATCH_OVERHEAD: usize = BATCH_HEADER_LEN + 32 + 4 + 4;
/// The same for a compact batch.
pub const BATCH_OVERHEAD_COMPACT: usize = BATCH_HEADER_LEN + 32 + 4 + 1;
/// Fixed part of a version-1/2 record; also an upper bound of a compact record's bytes beyond
/// its five variable fields (limits are computed with it).
pub const RECORD_FIXED_LEN: usize = 58;
/// The most bytes a compact record spends beyond its fields' own bytes: the length and CRC,
/// the varints of versions, timestamps and the five lengths, the stream reference.
pub const RECORD_COMPACT_OVERHEAD_MAX: usize = 5 + 4 + 10 + 3 + 10 + 10 + 2 + 1 + 1 + 1 + 1 + 3;

/// Largest batch on disk, in bytes (also the largest single append, encoded).
pub const BATCH_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Most events in one batch.
pub const BATCH_EVENTS_MAX: usize = 1 << 20;
/// Largest allowed `segment_size_max`.
pub const SEGMENT_SIZE_MAX: u64 = 1024 * 1024 * 1024;

/// One event, borrowed from a buffer (a read) or from a request (a write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub stream_version: u64,
    pub event_type: &'a str,
    pub schema_version: u16,
    pub occurred_at_ms: i64,
    pub recorded_at_ms: i64,
    pub actor: &'a str,
    pub command_id: &'a str,
    pub payload: &'a [u8],
}

impl EventRef<'_> {
    /// The owned envelope.
    pub fn to_recorded(&self) -> RecordedEvent {
        RecordedEvent {
            position: self.position,
            stream: self.stream.to_string(),
            stream_version: self.stream_version,
            event_type: self.event_type.to_string(),
            schema_version: self.schema_version,
            occurred_at_ms: self.occurred_at_ms,
            recorded_at_ms: self.recorded_at_ms,
            actor: self.actor.to_string(),
            command_id: self.command_id.to_string(),
            payload: self.payload.to_vec(),
        }
    }

    /// Bytes of this event's record.
    pub fn record_len(&self) -> usize {
        RECORD_FIXED_LEN
            + self.stream.len()
            + self.event_type.len()
            + self.actor.len()
            + self.command_id.len()
            + self.payload.len()
    }
}

/// The chain value after `e`: exactly [`crate::chain::chain_next`] (a test holds them equal),
/// without building an owned [`RecordedEvent`].
pub fn chain_next_ref(prev: &ChainHash, e: &EventRef<'_>) -> ChainHash {
    // One contiguous buffer and one `blake3::hash` call: cheaper than a dozen small updates.
    fn put(b: &mut Vec<u8>, s: &[u8]) {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s);
    }
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| {
        let mut b = scratch.borrow_mut();
        b.clear();
        b.extend_from_slice(b"plaint.chain.v1");
        b.extend_from_slice(prev);
        b.extend_from_slice(&e.position.to_le_bytes());
        put(&mut b, e.stream.as_bytes());
        b.extend_from_slice(&e.stream_version.to_le_bytes());
        put(&mut b, e.event_type.as_bytes());
        b.extend_from_slice(&e.schema_version.to_le_bytes());
        b.extend_from_slice(&e.occurred_at_ms.to_le_bytes());
        b.extend_from_slice(&e.recorded_at_ms.to_le_bytes());
        put(&mut b, e.actor.as_bytes());
        put(&mut b, e.command_id.as_bytes());
        put(&mut b, e.payload);
        *blake3::hash(&b).as_bytes()
    })
}

/// 64-bit FNV-1a: the stable hash of command ids kept in the stream index.
pub fn command_hash(command_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in command_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn segment_header(first_position: u64, chain_before: &ChainHash) -> [u8; SEGMENT_HEADER_LEN] {
    assert!(first_position >= 1);
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[0..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&(SEGMENT_HEADER_LEN as u32).to_le_bytes());
    h[16..24].copy_from_slice(&first_position.to_le_bytes());
    h[24..56].copy_from_slice(chain_before);
    let crc = crc32c::crc32c(&h[0..60]);
    h[60..64].copy_from_slice(&crc.to_le_bytes());
    h
}

/// A decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Format version the segment was written in.
    pub version: u32,
    pub first_position: u64,
    pub chain_before: ChainHash,
}

pub fn parse_segment_header(b: &[u8]) -> Result<SegmentHeader, String> {
    if b.len() < SEGMENT_HEADER_LEN {
        return Err(format!(
            "segment header incomplete: {} of {SEGMENT_HEADER_LEN} bytes",
            b.len()
        ));
    }
    if b[0..8] != SEGMENT_MAGIC {
        return Err("not a plaint segment (bad magic)".into());
    }
    let crc = u32_at(b, 60);
    if crc32c::crc32c(&b[0..60]) != crc {
        return Err("segment header CRC mismatch".into());
    }
    let version = u32_at(b, 8);
    if !(FORMAT_VERSION_MIN..=FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "unknown format version {version} (this build reads {FORMAT_VERSION_MIN} ..= {FORMAT_VERSION})"
        ));
    }
    if u32_at(b, 12) as usize != SEGMENT_HEADER_LEN {
        return Err("unexpected segment header length".into());
    }
    let first_position = u64_at(b, 16);
    if first_position == 0 {
        return Err("segment first position is 0".into());
    }
    if u32_at(b, 56) != 0 {
        return Err("segment header reserved bytes 56..60 are not zero".into());
    }
    Ok(SegmentHeader {
        version,
        first_position,
        chain_before: b[24..56].try_into().unwrap(),
    })
}

/// Appends one version-1/2 record (fixed widths, per-record chain prefix) to `out`. Only tests
/// and the fuzz targets write these now: the log writes [`encode_record`].
pub fn encode_record_v2(out: &mut Vec<u8>, e: &EventRef<'_>, chain_after: &ChainHash) {
    let len = e.record_len();
    debug_assert!(e.stream.len() <= 255 && e.event_type.len() <= 255 && e.actor.len() <= 255);
    debug_assert!(e.command_id.len() <= 255);
    let start = out.len();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&e.position.to_le_bytes());
    out.extend_from_slice(&e.stream_version.to_le_bytes());
    out.extend_from_slice(&e.schema_version.to_le_bytes());
    out.extend_from_slice(&e.occurred_at_ms.to_le_bytes());
    out.extend_from_slice(&e.recorded_at_ms.to_le_bytes());
    out.push(e.stream.len() as u8);
    out.push(e.event_type.len() as u8);
    out.push(e.actor.len() as u8);
    out.push(e.command_id.len() as u8);
    out.extend_from_slice(&(e.payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&chain_after[0..8]);
    out.extend_from_slice(e.stream.as_bytes());
    out.extend_from_slice(e.event_type.as_bytes());
    out.extend_from_slice(e.actor.as_bytes());
    out.extend_from_slice(e.command_id.as_bytes());
    out.extend_from_slice(e.payload);
    assert_eq!(out.len() - start, len, "record length");
    let crc = crc32c::crc32c(&out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A record decoded from a buffer, with the 8-byte chain prefix it carries (version-1/2
/// records; compact records carry none: their batch trailer holds the chain).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub event: EventRef<'a>,
    pub chain8: Option<[u8; 8]>,
    pub len: usize,
}

/// Decodes the version-1/2 record at the start of `b`, checking its length fields and CRC.
pub fn parse_record(b: &[u8]) -> Result<RecordView<'_>, String> {
    if b.len() < RECORD_FIXED_LEN {
        return Err("record header runs past the batch body".into());
    }
    let len = u32_at(b, 0) as usize;
    if len < RECORD_FIXED_LEN || len > b.len() {
        return Err(format!("record length {len} out of range"));
    }
    let lens = [
        b[42] as usize,
        b[43] as usize,
        b[44] as usize,
        b[45] as usize,
        u32_at(b, 46) as usize,
    ];
    if RECORD_FIXED_LEN + lens.iter().sum::<usize>() != len {
        return Err("record field lengths do not add up to the record length".into());
    }
    if crc32c::crc32c(&b[8..len]) != u32_at(b, 4) {
        return Err("record CRC mismatch".into());
    }
    let mut at = RECORD_FIXED_LEN;
    let mut take = |n: usize| {
        let s = &b[at..at + n];
        at += n;
        s
    };
    let stream = utf8(take(lens[0]), "stream")?;
    let event_type = utf8(take(lens[1]), "event type")?;
    let actor = utf8(take(lens[2]), "actor")?;
    let command_id = utf8(take(lens[3]), "command id")?;
    let payload = take(lens[4]);
    let event = EventRef {
        position: u64_at(b, 8),
        stream,
        stream_version: u64_at(b, 16),
        event_type,
        schema_version: u16::from_le_bytes([b[24], b[25]]),
        occurred_at_ms: u64_at(b, 26) as i64,
        recorded_at_ms: u64_at(b, 34) as i64,
        actor,
        command_id,
        payload,
    };
    Ok(RecordView {
        event,
        chain8: Some(b[50..58].try_into().unwrap()),
        len,
    })
}

fn utf8<'a>(b: &'a [u8], what: &str) -> Result<&'a str, String> {
    std::str::from_utf8(b).map_err(|_| format!("record {what} is not UTF-8"))
}

/// Appends one compact (version-3) record of `e` to `out`; see `docs/log-format.md`, "Record
/// (version 3)". The position is not written: the batch implies it, and it seeds the CRC. The
/// body's length is computed first, so the record is written in one pass, in place.
pub fn encode_record(out: &mut Vec<u8>, e: &EventRef<'_>) {
    debug_assert!(!e.stream.is_empty() && e.stream.len() <= 255 && e.command_id.len() <= 255);
    let stream_ref = if e.command_id.starts_with(e.stream) {
        StreamRef::Prefix
    } else {
        StreamRef::Spelt
    };
    let len = compact_body_len(e, stream_ref);
    // A record is at most 64 KiB + a few hundred bytes: its length varint is at most 3 bytes.
    assert!(len < 1 << 21, "record length {len} needs more than 3 varint bytes");
    out.reserve(len + 3);
    put_varint(out, len as u64);
    let body = out.len();
    out.extend_from_slice(&[0u8; 4]);
    put_varint(out, e.stream_version);
    put_varint(out, u64::from(e.schema_version));
    put_varint(out, zigzag(e.occurred_at_ms));
    put_varint(out, zigzag(e.recorded_at_ms.wrapping_sub(e.occurred_at_ms)));
    put_bytes(out, e.command_id.as_bytes());
    match stream_ref {
        StreamRef::Prefix => put_varint(out, e.stream.len() as u64),
        StreamRef::Spelt => {
            put_varint(out, 0);
            put_bytes(out, e.stream.as_bytes());
        }
    }
    put_bytes(out, e.event_type.as_bytes());
    put_bytes(out, e.actor.as_bytes());
    put_bytes(out, e.payload);
    assert_eq!(out.len() - body, len, "the computed record length");
    let crc = crc32c::crc32c_append(crc32c::crc32c(&e.position.to_le_bytes()), &out[body + 4..]);
    out[body..body + 4].copy_from_slice(&crc.to_le_bytes());
}

/// How a compact record names its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamRef {
    /// The stream is its command id's prefix: only its length is written.
    Prefix,
    /// Written out after a 0.
    Spelt,
}

/// Bytes of `e`'s compact record after its length varint (CRC included).
fn compact_body_len(e: &EventRef<'_>, stream_ref: StreamRef) -> usize {
    let bytes = |n: usize| varint_len(n as u64) + n;
    let stream = match stream_ref {
        StreamRef::Prefix => varint_len(e.stream.len() as u64),
        StreamRef::Spelt => 1 + bytes(e.stream.len()),
    };
    4 + varint_len(e.stream_version)
        + varint_len(u64::from(e.schema_version))
        + varint_len(zigzag(e.occurred_at_ms))
        + varint_len(zigzag(e.recorded_at_ms.wrapping_sub(e.occurred_at_ms)))
        + bytes(e.command_id.len())
        + stream
        + bytes(e.event_type.len())
        + bytes(e.actor.len())
        + bytes(e.payload.len())
}

/// Bytes of `v` as an unsigned LEB128 varint ([`put_varint`]).
fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Decodes the compact (version-3) record at the start of `b`, which holds event `position`
/// (from its batch): the length, the CRC (seeded with the position, so a record read at the
/// wrong place does not pass), every field's range, UTF-8 and canonical encoding.
pub fn parse_record_compact(b: &[u8], position: u64) -> Result<RecordView<'_>, String> {
    let mut r = Reader { b, at: 0 };
    let body_len = r.varint("record length")?;
    let head = r.at;
    let len = usize::try_from(body_len)
        .ok()
        .and_then(|l| l.checked_add(head))
        .filter(|&l| l <= b.len() && body_len >= 4)
        .ok_or_else(|| format!("record length {body_len} out of range"))?;
    let b = &b[..len];
    let crc = u32_at(b, head);
    if crc32c::crc32c_append(crc32c::crc32c(&position.to_le_bytes()), &b[head + 4..]) != crc {
        return Err("record CRC mismatch".into());
    }
    let mut r = Reader { b, at: head + 4 };
    let stream_version = r.varint("stream version")?;
    if stream_version == 0 {
        return Err("record stream version is 0".into());
    }
    let schema_version =
        u16::try_from(r.varint("schema version")?).map_err(|_| "record schema version over 65535".to_string())?;
    let occurred_at_ms = unzigzag(r.varint("occurred_at")?);
    let recorded_at_ms = occurred_at_ms.wrapping_add(unzigzag(r.varint("recorded_at")?));
    let command_id = utf8(r.bytes("command id", 1, 128)?, "command id")?;
    let stream = match r.varint("stream reference")? {
        0 => {
            let s = utf8(r.bytes("stream", 1, 64)?, "stream")?;
            if command_id.starts_with(s) {
                return Err("record spells out a stream name that is its command id's prefix".into());
            }
            s
        }
        k => {
            let k = usize::try_from(k).ok().filter(|&k| k <= 64 && k <= command_id.len());
            let s = k
                .and_then(|k| command_id.get(..k))
                .ok_or_else(|| "record stream reference out of range".to_string())?;
            s
        }
    };
    let event_type = utf8(r.bytes("event type", 0, 64)?, "event type")?;
    let actor = utf8(r.bytes("actor", 0, 64)?, "actor")?;
    let payload = r.bytes("payload", 0, 65536)?;
    if r.at != len {
        return Err("record fields do not add up to the record length".into());
    }
    Ok(RecordView {
        event: EventRef {
            position,
            stream,
            stream_version,
            event_type,
            schema_version,
            occurred_at_ms,
            recorded_at_ms,
            actor,
            command_id,
            payload,
        },
        chain8: None,
        len,
    })
}

/// The whole length of the compact record starting at `b` (its length varint included), if
/// that varint is complete in `b`; the record's checks are [`parse_record_compact`]'s.
pub fn record_len_compact(b: &[u8]) -> Option<usize> {
    record_frame_compact(b).map(|(_, len)| len)
}

/// The bytes of the compact record's length varint (where its CRC starts) and its whole
/// length, if that varint is complete in `b`.
pub fn record_frame_compact(b: &[u8]) -> Option<(usize, usize)> {
    let mut r = Reader { b, at: 0 };
    let len = r.varint("record length").ok()?;
    Some((r.at, usize::try_from(len).ok()?.checked_add(r.at)?))
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A cursor over a record's bytes.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A canonical varint: at most 10 bytes, no bits beyond 64, no trailing zero byte.
    fn varint(&mut self, what: &str) -> Result<u64, String> {
        // Most varints of a record are one byte.
        if let Some(&byte) = self.b.get(self.at) {
            if byte < 0x80 {
                self.at += 1;
                return Ok(u64::from(byte));
            }
        }
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.b.get(self.at + i) else {
                return Err(format!("record {what} runs past the record"));
            };
            if i == 9 && byte > 1 {
                return Err(format!("record {what} overflows 64 bits"));
            }
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(format!("record {what} is not minimally encoded"));
                }
                self.at += i + 1;
                return Ok(v);
            }
        }
        Err(format!("record {what} overflows 64 bits"))
    }

    /// A length varint in `min ..= max`, then that many bytes.
    fn bytes(&mut self, what: &str, min: usize, max: usize) -> Result<&'a [u8], String> {
        let n = self.varint(what)?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("record {what} length {n} out of range ({min} ..= {max})"))?;
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or_else(|| format!("record {what} runs past the record"))?;
        self.at += n;
        Ok(s)
    }
}

/// Starts a batch in `out` (header filled in by [`finish_batch`]); returns its start offset.
pub fn begin_batch(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; BATCH_HEADER_LEN]);
    start
}

/// Completes the compact batch begun at `start` (records written by [`encode_record`]):
/// header, chain value, CRC, end marker.
pub fn finish_batch(out: &mut Vec<u8>, start: usize, first_position: u64, count: u32, chain_after: &ChainHash) {
    let body_len = out.len() - start - BATCH_HEADER_LEN;
    assert!(count >= 1 && first_position >= 1);
    out[start..start + 4].copy_from_slice(&BATCH_MAGIC_COMPACT);
    out[start + 4..start + 8].copy_from_slice(&count.to_le_bytes());
    out[start + 8..start + 16].copy_from_slice(&first_position.to_le_bytes());
    out[start + 16..start + 20].copy_from_slice(&(body_len as u32).to_le_bytes());
    let hcrc = crc32c::crc32c(&out[start..start + 20]);
    out[start + 20..start + 24].copy_from_slice(&hcrc.to_le_bytes());
    out.extend_from_slice(chain_after);
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.push(BATCH_END_COMPACT);
    assert!(out.len() - start <= BATCH_BYTES_MAX, "batch over BATCH_BYTES_MAX");
}

/// Completes the version-1/2 batch begun at `start` (records written by [`encode_record_v2`]).
/// Only tests and the fuzz targets write these now.
pub fn finish_batch_v2(out: &mut Vec<u8>, start: usize, first_position: u64, count: u32, chain_after: &ChainHash) {
    let body_len = out.len() - start - BATCH_HEADER_LEN;
    assert!(count >= 1 && first_position >= 1);
    out[start..start + 4].copy_from_slice(&BATCH_MAGIC);
    out[start + 4..start + 8].copy_from_slice(&count.to_le_bytes());
    out[start + 8..start + 16].copy_from_slice(&first_position.to_le_bytes());
    out[start + 16..start + 20].copy_from_slice(&(body_len as u32).to_le_bytes());
    let hcrc = crc32c::crc32c(&out[start..start + 20]);
    out[start + 20..start + 24].copy_from_slice(&hcrc.to_le_bytes());
    out.extend_from_slice(chain_after);
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&BATCH_END);
    assert!(out.len() - start <= BATCH_BYTES_MAX, "batch over BATCH_BYTES_MAX");
}

/// A batch header whose CRC holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub count: u32,
    pub first_position: u64,
    pub body_len: usize,
    /// A version-3 batch of compact records (magic `BAT3`); else version 1/2 (`BTCH`).
    pub compact: bool,
}

impl BatchHeader {
    pub fn total_len(&self) -> usize {
        self.overhead() + self.body_len
    }

    fn overhead(&self) -> usize {
        if self.compact {
            BATCH_OVERHEAD_COMPACT
        } else {
            BATCH_OVERHEAD
        }
    }
}

/// Why the bytes at a batch offset are not a sound batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchFault {
    /// Fewer bytes than a header.
    HeaderIncomplete,
    /// The header is there but its magic, CRC or fields are wrong.
    BadHeader(String),
    /// The header is sound but the batch runs past the end of the data.
    Incomplete(BatchHeader),
    /// The batch is complete but its CRC, end marker or records are wrong.
    BadBody(BatchHeader, String),
}

impl std::fmt::Display for BatchFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchFault::HeaderIncomplete => f.write_str("batch header incomplete"),
            BatchFault::BadHeader(d) => write!(f, "bad batch header: {d}"),
            BatchFault::Incomplete(h) => {
                write!(
                    f,
                    "batch of {} bytes (first position {}) is incomplete",
                    h.total_len(),
                    h.first_position
                )
            }
            BatchFault::BadBody(h, d) => write!(f, "batch at first position {}: {d}", h.first_position),
        }
    }
}

pub fn parse_batch_header(b: &[u8]) -> Result<BatchHeader, BatchFault> {
    if b.len() < BATCH_HEADER_LEN {
        return Err(BatchFault::HeaderIncomplete);
    }
    let compact = match &b[0..4] {
        m if m == BATCH_MAGIC_COMPACT => true,
        m if m == BATCH_MAGIC => false,
        _ => return Err(BatchFault::BadHeader("bad batch magic".into())),
    };
    if crc32c::crc32c(&b[0..20]) != u32_at(b, 20) {
        return Err(BatchFault::BadHeader("batch header CRC mismatch".into()));
    }
    let h = BatchHeader {
        count: u32_at(b, 4),
        first_position: u64_at(b, 8),
        body_len: u32_at(b, 16) as usize,
        compact,
    };
    // The last position must exist too (a header at u64::MAX with several events does not).
    let last = h.first_position.checked_add(u64::from(h.count).saturating_sub(1));
    if h.count == 0 || h.count as usize > BATCH_EVENTS_MAX || h.first_position == 0 || last.is_none() {
        return Err(BatchFault::BadHeader(
            "batch count or first position out of range".into(),
        ));
    }
    if h.total_len() > BATCH_BYTES_MAX {
        return Err(BatchFault::BadHeader(format!(
            "batch length {} over BATCH_BYTES_MAX",
            h.total_len()
        )));
    }
    Ok(h)
}

/// A sound batch: header, body slice and trailer chain value.
#[derive(Debug, Clone, Copy)]
pub struct BatchView<'a> {
    pub header: BatchHeader,
    pub body: &'a [u8],
    pub chain_after: ChainHash,
}

impl<'a> BatchView<'a> {
    /// The records, each decoded and CRC-checked; positions checked against the header.
    pub fn records(&self) -> RecordIter<'a> {
        RecordIter {
            body: self.body,
            at: 0,
            next_position: self.header.first_position,
            left: self.header.count,
            compact: self.header.compact,
            reported: false,
        }
    }
}

/// Iterates a batch body's records.
pub struct RecordIter<'a> {
    body: &'a [u8],
    at: usize,
    next_position: u64,
    left: u32,
    compact: bool,
    /// The bytes after the last record were reported: nothing more is yielded (a flag, not a
    /// value of `left`, which may be any count a header says).
    reported: bool,
}

impl<'a> Iterator for RecordIter<'a> {
    /// The record, or (offset within the body, what is wrong).
    type Item = Result<RecordView<'a>, (usize, String)>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.reported {
            return None;
        }
        if self.left == 0 {
            if self.at != self.body.len() {
                self.reported = true;
                return Some(Err((self.at, "bytes after the last record of the batch".into())));
            }
            return None;
        }
        let at = self.at;
        let parsed = if self.compact {
            parse_record_compact(&self.body[at..], self.next_position)
        } else {
            parse_record(&self.body[at..])
        };
        match parsed {
            Ok(r) => {
                if r.event.position != self.next_position {
                    self.left = 0;
                    self.at = self.body.len();
                    return Some(Err((
                        at,
                        format!(
                            "record position {} where {} was due",
                            r.event.position, self.next_position
                        ),
                    )));
                }
                self.at += r.len;
                self.left -= 1;
                // The header's last position fits in u64; past it nothing is read any more.
                self.next_position = self.next_position.wrapping_add(1);
                Some(Ok(r))
            }
            Err(d) => {
                self.left = 0;
                self.at = self.body.len();
                Some(Err((at, d)))
            }
        }
    }
}

/// Decodes the batch at the start of `b`, checking header, length, CRC and end marker (records
/// are checked as they are iterated).
pub fn parse_batch(b: &[u8]) -> Result<BatchView<'_>, BatchFault> {
    let h = parse_batch_header(b)?;
    let total = h.total_len();
    if b.len() < total {
        return Err(BatchFault::Incomplete(h));
    }
    let crc_at = BATCH_HEADER_LEN + h.body_len + 32;
    if crc32c::crc32c(&b[..crc_at]) != u32_at(b, crc_at) {
        return Err(BatchFault::BadBody(h, "batch CRC mismatch".into()));
    }
    let end_ok = if h.compact {
        b[crc_at + 4] == BATCH_END_COMPACT
    } else {
        b[crc_at + 4..total] == BATCH_END
    };
    if !end_ok {
        return Err(BatchFault::BadBody(h, "batch end marker missing".into()));
    }
    Ok(BatchView {
        header: h,
        body: &b[BATCH_HEADER_LEN..BATCH_HEADER_LEN + h.body_len],
        chain_after: b[BATCH_HEADER_LEN + h.body_len..crc_at].try_into().unwrap(),
    })
}

/// Whether the damaged batch at the start of `rest` (the bytes from its offset to the end of
/// the last segment) is a half-written final batch under the recovery rule: the bytes that
/// landed (up to the last non-zero one) are too few for the batch they start, and a header
/// that did not land whole starts like one (a prefix of a batch magic: a write lands a
/// prefix, so a non-zero byte after a zero at the batch's start is damage, not a torn write).
/// Bytes that are all zero count as torn here; the last segment's reader takes them for the
/// clean end of a pre-written tail first ([`is_zero_tail`]).
pub fn is_torn_tail(rest: &[u8], fault: &BatchFault) -> bool {
    let z = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    match fault {
        BatchFault::HeaderIncomplete | BatchFault::BadHeader(_) => {
            z < BATCH_HEADER_LEN && starts_like_a_batch(&rest[..z])
        }
        BatchFault::Incomplete(h) | BatchFault::BadBody(h, _) => h.total_len() > z,
    }
}

/// Whether `landed` (a torn header's bytes up to its last non-zero one) begins with a prefix of
/// a batch magic.
fn starts_like_a_batch(landed: &[u8]) -> bool {
    let n = landed.len().min(4);
    landed[..n] == BATCH_MAGIC_COMPACT[..n] || landed[..n] == BATCH_MAGIC[..n]
}

/// Whether `rest` (the bytes after the last complete batch of the last segment) is a clean
/// end: nothing, or zeros only (a pre-written tail that no batch reached yet).
pub fn is_zero_tail(rest: &[u8]) -> bool {
    rest.iter().all(|&b| b == 0)
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{chain_next, CHAIN_GENESIS};

    fn sample(position: u64) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "complaint-1".into(),
            stream_version: position,
            event_type: "Received".into(),
            schema_version: 2,
            occurred_at_ms: -5,
            recorded_at_ms: 1_700_000_000_000,
            actor: "agent".into(),
            command_id: "cmd-1".into(),
            payload: vec![1, 2, 3, position as u8],
        }
    }

    fn as_ref(e: &RecordedEvent) -> EventRef<'_> {
        EventRef {
            position: e.position,
            stream: &e.stream,
            stream_version: e.stream_version,
            event_type: &e.event_type,
            schema_version: e.schema_version,
            occurred_at_ms: e.occurred_at_ms,
            recorded_at_ms: e.recorded_at_ms,
            actor: &e.actor,
            command_id: &e.command_id,
            payload: &e.payload,
        }
    }

    #[test]
    fn chain_next_ref_equals_chain_next() {
        let mut a = CHAIN_GENESIS;
        let mut b = CHAIN_GENESIS;
        for p in 1..20 {
            let mut e = sample(p);
            e.payload = vec![p as u8; p as usize * 7];
            e.actor = "x".repeat(p as usize);
            a = chain_next(&a, &e);
            b = chain_next_ref(&b, &as_ref(&e));
            assert_eq!(a, b, "position {p}");
        }
    }

    /// A batch of `events` (positions 1..) in the given kind, and the chain after it.
    fn batch_of(events: &[RecordedEvent], compact: bool) -> (Vec<u8>, ChainHash) {
        let mut out = Vec::new();
        let start = begin_batch(&mut out);
        let mut chain = CHAIN_GENESIS;
        for e in events {
            chain = chain_next(&chain, e);
            if compact {
                encode_record(&mut out, &as_ref(e));
            } else {
                encode_record_v2(&mut out, &as_ref(e), &chain);
            }
        }
        if compact {
            finish_batch(&mut out, start, 1, events.len() as u32, &chain);
        } else {
            finish_batch_v2(&mut out, start, 1, events.len() as u32, &chain);
        }
        (out, chain)
    }

    fn round_trips_and_detects_flips(compact: bool) {
        let mut events: Vec<RecordedEvent> = (1..=3).map(sample).collect();
        // The command id starts with the stream name (compact records refer to it), or not.
        events[1].command_id = format!("{}/02-assign", events[1].stream);
        events[2].occurred_at_ms = i64::MIN;
        events[2].recorded_at_ms = i64::MAX;
        let (out, chain) = batch_of(&events, compact);
        let view = parse_batch(&out).unwrap();
        assert_eq!(view.header.compact, compact);
        assert_eq!(view.chain_after, chain);
        let back: Vec<RecordedEvent> = view.records().map(|r| r.unwrap().event.to_recorded()).collect();
        assert_eq!(back, events);
        for bit in 0..out.len() * 8 {
            let mut bad = out.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let fault = parse_batch(&bad).err();
            assert!(fault.is_some(), "flip of bit {bit} not detected");
            assert!(
                !is_torn_tail(&bad, &fault.unwrap()),
                "flip of bit {bit} taken for a torn write"
            );
        }
        for cut in 0..out.len() {
            let fault = parse_batch(&out[..cut]).expect_err("truncated batch must not parse");
            assert!(
                is_torn_tail(&out[..cut], &fault),
                "cut at {cut} not taken for a torn write"
            );
        }
    }

    #[test]
    fn a_torn_header_over_zeros_starts_like_a_batch_and_zeros_alone_are_a_clean_end() {
        for compact in [true, false] {
            let (out, _) = batch_of(&[sample(1)], compact);
            // A header cut short over a pre-written tail: torn.
            for cut in 1..BATCH_HEADER_LEN {
                let mut b = out[..cut].to_vec();
                b.resize(4096, 0);
                let fault = parse_batch(&b).expect_err("a cut header does not parse");
                assert!(is_torn_tail(&b, &fault), "cut at {cut}");
                assert!(!is_zero_tail(&b), "cut at {cut}");
            }
        }
        let zeros = vec![0u8; 4096];
        assert!(is_zero_tail(&zeros) && is_zero_tail(&[]));
        // A byte no batch's first bytes could be, in the zeros: damage, not a torn write.
        for at in 0..BATCH_HEADER_LEN {
            let mut b = zeros.clone();
            b[at] = 1;
            let fault = parse_batch(&b).expect_err("zeros do not parse");
            assert!(!is_torn_tail(&b, &fault), "a byte at {at}");
            assert!(!is_zero_tail(&b), "a byte at {at}");
        }
    }

    #[test]
    fn batch_round_trips_and_detects_flips() {
        round_trips_and_detects_flips(false);
    }

    #[test]
    fn compact_batch_round_trips_and_detects_flips() {
        round_trips_and_detects_flips(true);
    }

    #[test]
    fn compact_records_are_smaller_and_read_alone() {
        let mut e = sample(7);
        e.command_id = format!("{}/07-respond", e.stream);
        let mut v2 = Vec::new();
        encode_record_v2(&mut v2, &as_ref(&e), &CHAIN_GENESIS);
        let mut v3 = Vec::new();
        encode_record(&mut v3, &as_ref(&e));
        // The stream name is not written again, nor the position, nor fixed-width fields.
        assert!(
            v3.len() + e.stream.len() + 30 <= v2.len(),
            "{} vs {}",
            v3.len(),
            v2.len()
        );
        assert_eq!(record_len_compact(&v3), Some(v3.len()));
        let r = parse_record_compact(&v3, 7).unwrap();
        assert_eq!(r.event.to_recorded(), e);
        assert_eq!(r.len, v3.len());
        assert_eq!(r.chain8, None);
        // The position seeds the CRC: a record taken for another position does not check.
        assert_eq!(parse_record_compact(&v3, 8).unwrap_err(), "record CRC mismatch");
        // A record of 64 KiB of payload still has a 3-byte length.
        e.payload = vec![9; 65536];
        let mut big = Vec::new();
        encode_record(&mut big, &as_ref(&e));
        assert_eq!(parse_record_compact(&big, 7).unwrap().event.to_recorded(), e);
    }

    /// Wave 8's encoder (length varint reserved as 3 bytes, body moved back): the one-pass
    /// encoder must write the same bytes (no format change).
    fn encode_record_two_pass(out: &mut Vec<u8>, e: &EventRef<'_>) {
        let start = out.len();
        out.extend_from_slice(&[0u8; 3 + 4]);
        let body = start + 3;
        put_varint(out, e.stream_version);
        put_varint(out, u64::from(e.schema_version));
        put_varint(out, zigzag(e.occurred_at_ms));
        put_varint(out, zigzag(e.recorded_at_ms.wrapping_sub(e.occurred_at_ms)));
        put_bytes(out, e.command_id.as_bytes());
        if e.command_id.starts_with(e.stream) {
            put_varint(out, e.stream.len() as u64);
        } else {
            put_varint(out, 0);
            put_bytes(out, e.stream.as_bytes());
        }
        put_bytes(out, e.event_type.as_bytes());
        put_bytes(out, e.actor.as_bytes());
        put_bytes(out, e.payload);
        let crc = crc32c::crc32c_append(crc32c::crc32c(&e.position.to_le_bytes()), &out[body + 4..]);
        out[body..body + 4].copy_from_slice(&crc.to_le_bytes());
        let len = (out.len() - body) as u64;
        let mut prefix = Vec::new();
        put_varint(&mut prefix, len);
        let shift = 3 - prefix.len();
        out.copy_within(body.., body - shift);
        out.truncate(out.len() - shift);
        out[start..start + prefix.len()].copy_from_slice(&prefix);
    }

    #[test]
    fn the_one_pass_encoder_writes_the_two_pass_bytes_at_every_length_varint_width() {
        let mut e = sample(3);
        let mut checked = 0;
        // Payload sizes putting the body on both sides of 128 and 16384 bytes (1-, 2- and
        // 3-byte length varints), both stream references, varints of every width.
        for payload in (0..200).chain(16_200..16_500).chain([65_536]) {
            for (i, command_id) in ["cmd-1", "complaint-1/x"].into_iter().enumerate() {
                e.payload = vec![payload as u8; payload];
                e.command_id = command_id.into();
                e.stream_version = 1 << (7 * (payload % 10));
                e.occurred_at_ms = -(payload as i64) << (i * 40);
                let mut one = vec![0xAA];
                encode_record(&mut one, &as_ref(&e));
                let mut two = vec![0xAA];
                encode_record_two_pass(&mut two, &as_ref(&e));
                assert_eq!(one, two, "payload {payload}, command id {command_id}");
                assert_eq!(record_len_compact(&one[1..]), Some(one.len() - 1));
                assert_eq!(parse_record_compact(&one[1..], 3).unwrap().event.to_recorded(), e);
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * 501);
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::MAX >> 1, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(varint_len(v), b.len(), "{v}");
        }
    }

    #[test]
    fn compact_records_reject_overlong_varints_and_share_the_stream_prefix() {
        let e = sample(1);
        let mut rec = Vec::new();
        encode_record(&mut rec, &as_ref(&e));
        // An overlong length varint (0x80 | n, 0x00) is refused, not read as n.
        let mut overlong = vec![rec[0] | 0x80, 0];
        overlong.extend_from_slice(&rec[1..]);
        assert!(parse_record_compact(&overlong, 1)
            .unwrap_err()
            .contains("not minimally encoded"));
        // A stream reference longer than the command id.
        let mut long = sample(1);
        long.command_id = "complaint-1/x".into();
        let mut b = Vec::new();
        encode_record(&mut b, &as_ref(&long));
        let r = parse_record_compact(&b, 1).unwrap();
        assert_eq!(r.event.stream, "complaint-1");
        assert_eq!(r.event.command_id, "complaint-1/x");
    }
}

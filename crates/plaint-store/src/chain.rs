//! The tamper-evidence hash chain, shared by every backend.
//!
//! `hash[p] = BLAKE3(hash[p-1] || canonical(event at p))`, with `hash[0]` = 32 zero bytes. The
//! canonical encoding below is independent of any backend's storage layout, so a log copied
//! between backends keeps the same chain and the same head hash. Changing it is a format change:
//! see `docs/log-format.md`.

use crate::types::RecordedEvent;

/// A 32-byte BLAKE3 digest.
pub type ChainHash = [u8; 32];

/// The chain value before the first event.
pub const CHAIN_GENESIS: ChainHash = [0u8; 32];

/// Domain separation so a chain hash can never be confused with another BLAKE3 use.
const CHAIN_CONTEXT: &[u8] = b"plaint.chain.v1";

/// The chain value after `event`, given the value before it.
///
/// Canonical encoding (all integers little-endian): context, previous hash, position u64,
/// stream (u32 length + bytes), stream version u64, event type (u32 length + bytes), schema
/// version u16, occurred_at_ms i64, recorded_at_ms i64, actor (u32 length + bytes), command id
/// (u32 length + bytes), payload (u32 length + bytes).
pub fn chain_next(prev: &ChainHash, event: &RecordedEvent) -> ChainHash {
    let mut h = blake3::Hasher::new();
    h.update(CHAIN_CONTEXT);
    h.update(prev);
    h.update(&event.position.to_le_bytes());
    put_bytes(&mut h, event.stream.as_bytes());
    h.update(&event.stream_version.to_le_bytes());
    put_bytes(&mut h, event.event_type.as_bytes());
    h.update(&event.schema_version.to_le_bytes());
    h.update(&event.occurred_at_ms.to_le_bytes());
    h.update(&event.recorded_at_ms.to_le_bytes());
    put_bytes(&mut h, event.actor.as_bytes());
    put_bytes(&mut h, event.command_id.as_bytes());
    put_bytes(&mut h, &event.payload);
    *h.finalize().as_bytes()
}

fn put_bytes(h: &mut blake3::Hasher, b: &[u8]) {
    h.update(&(b.len() as u32).to_le_bytes());
    h.update(b);
}

/// Lower-case hex of a chain hash, for reports.
pub fn to_hex(hash: &ChainHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain hash from its lower- or upper-case hex (64 digits).
pub fn from_hex(text: &str) -> Option<ChainHash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A log's head as an auditor records it: the last position and the chain value after it,
/// written `POSITION:CHAIN` (`plaint verify` and `plaint stats` print it; `plaint verify
/// --expect-head` checks a log against it). Position 0 is the empty log (chain all zeros).
///
/// ```
/// use plaint_store::chain::HeadMark;
/// let text = format!("42:{}", "ab".repeat(32));
/// let head: HeadMark = text.parse().unwrap();
/// assert_eq!(head.position, 42);
/// assert_eq!(head.to_string(), text);
/// assert!("42".parse::<HeadMark>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadMark {
    pub position: u64,
    pub chain: ChainHash,
}

impl std::fmt::Display for HeadMark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.position, to_hex(&self.chain))
    }
}

impl std::str::FromStr for HeadMark {
    type Err = String;

    fn from_str(text: &str) -> Result<HeadMark, String> {
        let want = "want POSITION:CHAIN, e.g. 1042:<64 hex digits> as `plaint verify` prints it";
        let (position, chain) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not a head; {want}"))?;
        let position = position
            .parse()
            .map_err(|_| format!("head position {position:?} is not a number; {want}"))?;
        let chain = from_hex(chain).ok_or_else(|| format!("head chain {chain:?} is not 64 hex digits; {want}"))?;
        Ok(HeadMark { position, chain })
    }
}

/// Serialised as its text, `POSITION:CHAIN`.
impl serde::Serialize for HeadMark {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

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

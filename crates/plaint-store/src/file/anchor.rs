//! The head anchor (`head.anchor`): a small durable record of a head the log reached, so that
//! losing acknowledged batches at the end of the log (the last segment truncated at a batch
//! boundary, or deleted) is found on open and by `verify`, even after a crash without a clean
//! close. Layout and rules: "Head anchor" in `docs/log-format.md`. Pure: encode and decode.

use crate::chain::ChainHash;

/// File name of the anchor in the log's directory.
pub const ANCHOR_FILE: &str = "head.anchor";
/// An anchor being written (renamed over [`ANCHOR_FILE`] once synced); removed on open.
pub const ANCHOR_TMP_FILE: &str = "head.anchor.tmp";
/// Bytes of an anchor file.
pub const ANCHOR_LEN: usize = 80;
/// Anchor file magic.
pub const ANCHOR_MAGIC: [u8; 8] = *b"PLAINTHD";
/// Layout version of the anchor file.
pub const ANCHOR_VERSION: u32 = 1;
/// Largest allowed `FileLogOptions::anchor_interval_ms` (a minute).
pub const ANCHOR_INTERVAL_MS_MAX: u64 = 60_000;

/// A head the log durably reached: the last position of a synced batch, the chain value after
/// it, and where that batch lies. Head 0 (segment 0, offset 0, chain all zeros) is the anchor
/// of a new log, written before its first segment is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub head_position: u64,
    pub chain: ChainHash,
    /// First position of the segment holding the batch that ends at `head_position`.
    pub segment_first_position: u64,
    /// Byte offset of that batch in its segment.
    pub batch_offset: u64,
}

impl Anchor {
    /// The file's bytes.
    pub fn encode(&self) -> [u8; ANCHOR_LEN] {
        assert!(self.is_consistent(), "anchor fields out of range: {self:?}");
        let mut b = [0u8; ANCHOR_LEN];
        b[0..8].copy_from_slice(&ANCHOR_MAGIC);
        b[8..12].copy_from_slice(&ANCHOR_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(ANCHOR_LEN as u32).to_le_bytes());
        b[16..24].copy_from_slice(&self.head_position.to_le_bytes());
        b[24..56].copy_from_slice(&self.chain);
        b[56..64].copy_from_slice(&self.segment_first_position.to_le_bytes());
        b[64..72].copy_from_slice(&self.batch_offset.to_le_bytes());
        let crc = crc32c::crc32c(&b[0..76]);
        b[76..80].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks an anchor file's bytes; the error says what is wrong.
    pub fn decode(b: &[u8]) -> Result<Anchor, String> {
        if b.len() != ANCHOR_LEN {
            return Err(format!("anchor is {} bytes, {ANCHOR_LEN} expected", b.len()));
        }
        if b[0..8] != ANCHOR_MAGIC {
            return Err("not a plaint head anchor (bad magic)".into());
        }
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        if crc32c::crc32c(&b[0..76]) != u32_at(76) {
            return Err("anchor CRC mismatch".into());
        }
        let version = u32_at(8);
        if version != ANCHOR_VERSION {
            return Err(format!(
                "unknown anchor version {version} (this build reads {ANCHOR_VERSION})"
            ));
        }
        if u32_at(12) as usize != ANCHOR_LEN || u32_at(72) != 0 {
            return Err("unexpected anchor length or reserved field".into());
        }
        let anchor = Anchor {
            head_position: u64_at(16),
            chain: b[24..56].try_into().unwrap(),
            segment_first_position: u64_at(56),
            batch_offset: u64_at(64),
        };
        if !anchor.is_consistent() {
            return Err("anchor positions out of range".into());
        }
        Ok(anchor)
    }

    /// The anchor of a log without events.
    pub fn empty() -> Anchor {
        Anchor {
            head_position: 0,
            chain: crate::chain::CHAIN_GENESIS,
            segment_first_position: 0,
            batch_offset: 0,
        }
    }

    fn is_consistent(&self) -> bool {
        if self.head_position == 0 {
            return *self == Anchor::empty();
        }
        self.segment_first_position >= 1 && self.segment_first_position <= self.head_position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flipped_bit_is_caught() {
        let a = Anchor {
            head_position: 1042,
            chain: [7; 32],
            segment_first_position: 1000,
            batch_offset: 4096,
        };
        let bytes = a.encode();
        assert_eq!(Anchor::decode(&bytes), Ok(a));
        assert_eq!(Anchor::decode(&Anchor::empty().encode()), Ok(Anchor::empty()));
        for bit in 0..ANCHOR_LEN * 8 {
            let mut b = bytes;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Anchor::decode(&b).is_err(), "bit {bit} flipped went unnoticed");
        }
        assert!(Anchor::decode(&bytes[..79]).is_err());
    }
}

//! Target `head_anchor`: the head anchor's decoder (`plaint_store::file::anchor::Anchor::decode`,
//! the first file opening reads) on arbitrary bytes.
//!
//! Input: byte 0 bit 0 set means "fix the CRC first" when the rest is an anchor's length: the
//! fuzzer cannot compute a CRC-32C, so without it nearly every mutation stops at the CRC check
//! and the version, length, reserved and range checks behind it are never reached. The rest is
//! the file's bytes.
//!
//! Property: whatever decodes encodes back to exactly the same bytes (the decoder accepts no
//! byte the encoder would not have written), a refusal says what is wrong, and nothing panics.

use plaint_store::file::anchor::{Anchor, ANCHOR_LEN};

/// Where the anchor's CRC-32C (over every byte before it) lies: its last four bytes.
const CRC_AT: usize = ANCHOR_LEN - 4;

pub fn head_anchor(input: &[u8]) {
    let [mode, data @ ..] = input else { return };
    let mut bytes = data.to_vec();
    if mode & 1 == 1 && bytes.len() == ANCHOR_LEN {
        let crc = crc32c::crc32c(&bytes[..CRC_AT]);
        bytes[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
    }
    match Anchor::decode(&bytes) {
        Ok(anchor) => assert_eq!(&anchor.encode()[..], &bytes[..], "anchor round trip"),
        Err(why) => assert!(!why.is_empty(), "a refused anchor says why"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_crc_reaches_the_checks_behind_it() {
        let anchor = Anchor {
            head_position: 1042,
            chain: [7; 32],
            segment_first_position: 1000,
            batch_offset: 4096,
        };
        let mut bytes = anchor.encode();
        // A head before its segment: only the range check refuses it, once the CRC is fixed.
        bytes[16..24].copy_from_slice(&999u64.to_le_bytes());
        let mut input = vec![1u8];
        input.extend_from_slice(&bytes);
        head_anchor(&input);
        let mut fixed = bytes;
        let crc = crc32c::crc32c(&fixed[..CRC_AT]);
        fixed[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(Anchor::decode(&fixed), Err("anchor positions out of range".into()));
        assert_eq!(Anchor::decode(&bytes), Err("anchor CRC mismatch".into()));
    }
}

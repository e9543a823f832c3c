//! Target `stream_index`: the decoder of the file log's index checkpoint (`index.pidx`,
//! `plaint_store::file::index::Index::from_checkpoint`, read on every open that finds one) on
//! arbitrary bytes.
//!
//! Input: byte 0 bit 0 set means "fix the CRCs first": the fuzzer cannot compute a CRC-32C, so
//! without it nearly every mutation stops at the first CRC and the framing, table and entry
//! checks behind the three parts' CRCs are never reached. The fix-up follows the layout as far
//! as the bytes allow (part A's length from the prefix, part C's from its slot count, part B to
//! the end). The rest is the file.
//!
//! The checkpoint is derived data and its stream entries stay in their encoding until used
//! (the fast open, `docs/log-format.md`), so the decoder checks framing, not that a CRC-valid
//! table agrees with the entries. What it must guarantee, and this target checks:
//!
//! - a refusal says why, and nothing panics or hangs, neither the decode nor any lookup the log
//!   makes afterwards (`stream_version`, `get`, `for_each`, `segment_of`, `mark_before`, every
//!   listed name and names that are not there);
//! - what decodes encodes again (the next checkpoint the log writes), and that encoding decodes
//!   to the same streams, segments and marks, with every stream found by its name.

use plaint_store::file::index::{Index, StreamEntry};
use plaint_store::file::streams;

pub fn stream_index(input: &[u8]) {
    let [mode, data @ ..] = input else { return };
    let mut bytes = data.to_vec();
    if mode & 1 == 1 {
        fix_crcs(&mut bytes);
    }
    let index = match Index::from_checkpoint(&bytes) {
        Ok(index) => index,
        Err(why) => {
            assert!(!why.is_empty(), "a refused checkpoint says why");
            return;
        }
    };
    let listed = listing(&index);
    ask_everything(&index, &listed);
    let again = Index::from_checkpoint(&index.to_checkpoint()).expect("what the encoder writes decodes");
    assert_eq!(listing(&again), listed, "re-encoded checkpoint lists the same streams");
    assert_eq!(again.head, index.head);
    assert_eq!(again.chain, index.chain);
    assert_eq!(again.segments, index.segments);
    assert_eq!(again.marks, index.marks);
    assert_eq!(again.last_batch_offset, index.last_batch_offset);
    for (name, _) in &listed {
        let found = again.streams.get(name).expect("a re-encoded table finds every stream");
        assert_eq!(again.stream_version(name), found.events.len() as u64);
    }
}

/// Every stream the checkpoint holds, with its entry, sorted.
fn listing(index: &Index) -> Vec<(String, StreamEntry)> {
    let mut out = Vec::new();
    index
        .streams
        .for_each(|name, entry| out.push((name.to_owned(), entry.clone())));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The questions the log asks its index after an open: none may panic; the answers of a forged
/// (CRC-valid, inconsistent) table are whatever it says, but they must be answers.
fn ask_everything(index: &Index, listed: &[(String, StreamEntry)]) {
    for (name, _) in listed {
        let version = index.stream_version(name);
        if let Some(entry) = index.streams.get(name) {
            assert_eq!(version, entry.events.len() as u64, "version and entry agree");
        }
    }
    for name in ["", "complaint-0", "not-a-stream", "\u{7f}"] {
        let _ = index.stream_version(name);
        let _ = index.streams.get(name);
    }
    assert_eq!(index.streams.len(), listed.len(), "the count is the number listed");
    for position in [0, 1, index.head, index.head.saturating_add(1), u64::MAX] {
        let _ = index.segment_of(position);
        let _ = index.mark_before(position);
    }
}

/// Rewrites the CRC-32C of each part whose extent the bytes give.
pub fn fix_crcs(bytes: &mut [u8]) {
    let Ok((a_len, version)) = Index::checkpoint_layout(bytes) else {
        return;
    };
    let Some(at) = put_crc(bytes, 0, a_len) else { return };
    let mut b_start = at;
    if version >= 3 {
        let Ok(c_len) = streams::part_c_len(&bytes[at..]) else {
            return;
        };
        let Some(c_len) = c_len.checked_sub(4) else { return };
        let Some(after_c) = put_crc(bytes, at, c_len) else {
            return;
        };
        b_start = after_c;
    }
    if bytes.len() >= b_start + 4 {
        let b_len = bytes.len() - b_start - 4;
        put_crc(bytes, b_start, b_len);
    }
}

/// Writes the CRC-32C of `bytes[start..start + len]` just after it; returns where it ends.
fn put_crc(bytes: &mut [u8], start: usize, len: usize) -> Option<usize> {
    let end = start.checked_add(len)?;
    if end.checked_add(4)? > bytes.len() {
        return None;
    }
    let crc = crc32c::crc32c(&bytes[start..end]);
    bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    Some(end + 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaint_store::file::index::CHECKPOINT_PREFIX_LEN;

    fn template_checkpoint() -> Vec<u8> {
        crate::segment::template_index_checkpoint()
    }

    #[test]
    fn the_template_checkpoint_decodes_and_round_trips() {
        let bytes = template_checkpoint();
        let index = Index::from_checkpoint(&bytes).expect("the template's checkpoint decodes");
        assert_eq!(listing(&index).len(), 4, "four streams in the template");
        let mut input = vec![0u8];
        input.extend_from_slice(&bytes);
        stream_index(&input);
    }

    #[test]
    fn fixed_crcs_reach_the_checks_behind_them() {
        let clean = template_checkpoint();
        // Part B's stream count made larger than part B can hold: only the framing check
        // refuses it, and only once the CRCs are fixed.
        let mut bad = clean.clone();
        let (a_len, _) = Index::checkpoint_layout(&bad).unwrap();
        let c_at = a_len + 4;
        let c_len = streams::part_c_len(&bad[c_at..]).unwrap();
        let b_at = c_at + c_len;
        bad[b_at..b_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let crc_refusal = Index::from_checkpoint(&bad).unwrap_err();
        assert!(crc_refusal.contains("CRC"), "{crc_refusal}");
        fix_crcs(&mut bad);
        let framing_refusal = Index::from_checkpoint(&bad).unwrap_err();
        assert!(framing_refusal.contains("stream count"), "{framing_refusal}");
        // The fix-up leaves a sound checkpoint as it was.
        let mut same = clean.clone();
        fix_crcs(&mut same);
        assert_eq!(same, clean);
        // Too short for a prefix: left alone.
        let mut short = clean[..CHECKPOINT_PREFIX_LEN - 1].to_vec();
        fix_crcs(&mut short);
        assert_eq!(short, clean[..CHECKPOINT_PREFIX_LEN - 1]);
    }
}

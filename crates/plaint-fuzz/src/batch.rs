//! Target `batch_decoder`: the file log's pure decoders (`plaint_store::file::format`) on
//! arbitrary bytes: segment header, batch header, batch (version-1/2 `BTCH` and compact
//! version-3 `BAT3`), the records of a batch, a lone record of either kind, and the torn-tail
//! rule recovery applies to a damaged final batch.
//!
//! Input: byte 0 bit 0 set means "fix the checksums first" ([`fix_checksums`]): the fuzzer
//! cannot compute a CRC, so without it nearly every mutation stops at the first CRC check and
//! the field checks behind it are never reached. The rest is the bytes.
//!
//! Property: whatever decodes encodes back to exactly the same bytes (the decoder accepts no
//! byte the encoder would not have written), and nothing panics.

use plaint_store::chain::ChainHash;
use plaint_store::file::format;

pub fn batch_decoder(input: &[u8]) {
    let [mode, data @ ..] = input else { return };
    let mut fixed;
    let data = if mode & 1 == 1 {
        fixed = data.to_vec();
        fix_checksums(&mut fixed, 0);
        &fixed[..]
    } else {
        data
    };
    // Only a header of today's version round-trips byte for byte: an older readable version
    // (1) re-encodes as today's.
    if let Some(h) = format::parse_segment_header(data)
        .ok()
        .filter(|h| h.version == format::FORMAT_VERSION)
    {
        let again = format::segment_header(h.first_position, &h.chain_before);
        assert_eq!(
            &again[..],
            &data[..format::SEGMENT_HEADER_LEN],
            "segment header round trip"
        );
    }

    if let Ok(r) = format::parse_record(data) {
        assert_eq!(reencode_record(&r, false), &data[..r.len], "record round trip");
    }
    // A lone compact record, as `read_stream` reads one: its position is given (here 1).
    if let Ok(r) = format::parse_record_compact(data, 1) {
        assert_eq!(format::record_len_compact(data), Some(r.len));
        assert_eq!(reencode_record(&r, true), &data[..r.len], "compact record round trip");
    }

    match format::parse_batch(data) {
        Ok(batch) => {
            let header = batch.header;
            assert!(header.total_len() <= data.len());
            let mut out = Vec::with_capacity(header.total_len());
            let start = format::begin_batch(&mut out);
            let mut records = 0u32;
            let mut sound = true;
            for r in batch.records() {
                match r {
                    Ok(r) => {
                        assert_eq!(r.event.position, header.first_position + u64::from(records));
                        assert_eq!(r.chain8.is_none(), header.compact);
                        out.extend_from_slice(&reencode_record(&r, header.compact));
                        records += 1;
                    }
                    Err((at, detail)) => {
                        assert!(at <= batch.body.len(), "fault offset {at} inside the body");
                        assert!(!detail.is_empty());
                        sound = false;
                    }
                }
            }
            if sound {
                assert_eq!(records, header.count, "a sound batch holds as many records as it says");
                let finish = if header.compact {
                    format::finish_batch
                } else {
                    format::finish_batch_v2
                };
                finish(&mut out, start, header.first_position, header.count, &batch.chain_after);
                assert_eq!(out, &data[..header.total_len()], "batch round trip");
            }
        }
        Err(fault) => {
            assert!(!fault.to_string().is_empty());
            // The recovery rule must decide without panicking on any damage.
            let _ = format::is_torn_tail(data, &fault);
        }
    }
}

fn reencode_record(r: &format::RecordView<'_>, compact: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(r.len);
    if compact {
        format::encode_record(&mut out, &r.event);
    } else {
        let mut chain: ChainHash = [0u8; 32];
        chain[..8].copy_from_slice(&r.chain8.expect("a version-2 record has a chain prefix"));
        format::encode_record_v2(&mut out, &r.event, &chain);
    }
    out
}

/// Recomputes every CRC in `b` that the layout of `docs/log-format.md` locates, in place: the
/// segment header's (when `b` starts with the segment magic), then, from `at` (or after the
/// header), each batch's header CRC, its records' CRCs and its batch CRC, batch after batch
/// for as long as batch headers are found. Length fields are taken as they are, so the
/// fuzzer's damage to them stays; only the checksums stop hiding it.
pub fn fix_checksums(b: &mut [u8], mut at: usize) {
    let crc_at = |b: &mut [u8], range: std::ops::Range<usize>, at: usize| {
        let c = crc32c::crc32c(&b[range]);
        b[at..at + 4].copy_from_slice(&c.to_le_bytes());
    };
    if at == 0 && b.len() >= format::SEGMENT_HEADER_LEN && b[..8] == format::SEGMENT_MAGIC {
        crc_at(b, 0..60, 60);
        at = format::SEGMENT_HEADER_LEN;
    } else if at == 0 && b.len() >= 4 && b[..4] != format::BATCH_MAGIC && b[..4] != format::BATCH_MAGIC_COMPACT {
        // A lone compact record, as the target decodes it: for position 1.
        if let Some((head, len)) = format::record_frame_compact(b).filter(|&(h, l)| h + 4 <= l && l <= b.len()) {
            let c = crc32c::crc32c_append(crc32c::crc32c(&1u64.to_le_bytes()), &b[head + 4..len]);
            b[head..head + 4].copy_from_slice(&c.to_le_bytes());
        }
        return;
    }
    while b.len() >= at + format::BATCH_HEADER_LEN
        && (b[at..at + 4] == format::BATCH_MAGIC || b[at..at + 4] == format::BATCH_MAGIC_COMPACT)
    {
        let compact = b[at..at + 4] == format::BATCH_MAGIC_COMPACT;
        crc_at(b, at..at + 20, at + 20);
        let body_len = format::u32_at(b, at + 16) as usize;
        let body_end = at + format::BATCH_HEADER_LEN + body_len;
        let overhead = if compact {
            format::BATCH_OVERHEAD_COMPACT
        } else {
            format::BATCH_OVERHEAD
        };
        let Some(total) = body_len.checked_add(overhead) else {
            return;
        };
        if b.len() < at + total {
            return;
        }
        let mut r = at + format::BATCH_HEADER_LEN;
        if compact {
            // Each record's CRC is seeded with its position: the batch's first, then on.
            let mut position = format::u64_at(b, at + 8);
            while r < body_end {
                let Some((head, len)) = format::record_frame_compact(&b[r..body_end]) else {
                    break;
                };
                if head + 4 > len || r + len > body_end {
                    break;
                }
                let c = crc32c::crc32c_append(crc32c::crc32c(&position.to_le_bytes()), &b[r + head + 4..r + len]);
                b[r + head..r + head + 4].copy_from_slice(&c.to_le_bytes());
                r += len;
                position = position.wrapping_add(1);
            }
        } else {
            while r + format::RECORD_FIXED_LEN <= body_end {
                let len = format::u32_at(b, r) as usize;
                if len < format::RECORD_FIXED_LEN || r + len > body_end {
                    break;
                }
                crc_at(b, r + 8..r + len, r + 4);
                r += len;
            }
        }
        crc_at(b, at..body_end + 32, body_end + 32);
        at += total;
    }
}

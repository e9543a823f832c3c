//! Target `batch_decoder`: the file log's pure decoders (`plaint_store::file::format`) on
//! arbitrary bytes: segment header, batch header, batch, the records of a batch, a lone record,
//! and the torn-tail rule recovery applies to a damaged final batch.
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
        assert_eq!(reencode_record(&r), &data[..r.len], "record round trip");
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
                        out.extend_from_slice(&reencode_record(&r));
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
                format::finish_batch(&mut out, start, header.first_position, header.count, &batch.chain_after);
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

fn reencode_record(r: &format::RecordView<'_>) -> Vec<u8> {
    let mut chain: ChainHash = [0u8; 32];
    chain[..8].copy_from_slice(&r.chain8);
    let mut out = Vec::with_capacity(r.len);
    format::encode_record(&mut out, &r.event, &chain);
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
    }
    while b.len() >= at + format::BATCH_HEADER_LEN && b[at..at + 4] == format::BATCH_MAGIC {
        crc_at(b, at..at + 20, at + 20);
        let body_len = format::u32_at(b, at + 16) as usize;
        let body_end = at + format::BATCH_HEADER_LEN + body_len;
        let Some(total) = body_len.checked_add(format::BATCH_OVERHEAD) else {
            return;
        };
        if b.len() < at + total {
            return;
        }
        let mut r = at + format::BATCH_HEADER_LEN;
        while r + format::RECORD_FIXED_LEN <= body_end {
            let len = format::u32_at(b, r) as usize;
            if len < format::RECORD_FIXED_LEN || r + len > body_end {
                break;
            }
            crc_at(b, r + 8..r + len, r + 4);
            r += len;
        }
        crc_at(b, at..body_end + 32, body_end + 32);
        at += total;
    }
}

//! Target `batch_decoder`: the file log's pure decoders (`plaint_store::file::format`) on
//! arbitrary bytes: segment header, batch header, batch, the records of a batch, a lone record,
//! and the torn-tail rule recovery applies to a damaged final batch.
//!
//! Property: whatever decodes encodes back to exactly the same bytes (the decoder accepts no
//! byte the encoder would not have written), and nothing panics.

use plaint_store::chain::ChainHash;
use plaint_store::file::format;

pub fn batch_decoder(data: &[u8]) {
    if let Ok(h) = format::parse_segment_header(data) {
        let again = format::segment_header(h.first_position, &h.chain_before);
        assert_eq!(&again[..], &data[..format::SEGMENT_HEADER_LEN], "segment header round trip");
    }

    if let Ok(r) = format::parse_record(data) {
        assert_eq!(
            reencode_record(&r),
            &data[..r.len],
            "record round trip"
        );
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

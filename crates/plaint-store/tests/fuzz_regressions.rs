//! Bugs the fuzz harnesses found in the file log (docs/fuzzing.md), one test each, starting with
//! the story of the bug. The inputs that found them are in the committed corpus
//! (`fuzz/corpus/<target>/`), replayed by `crates/plaint-fuzz/tests/corpus_replay.rs`.

use plaint_store::conformance::sample_event;
use plaint_store::file::{FileLog, FileLogOptions};
use plaint_store::{EventStore, ExpectedVersion};

/// The story: the `segment_recovery` harness reads back everything a recovered log serves with
/// `visit_all(1, usize::MAX, ..)`, "every event from position 1, no limit". `visit_all` computed
/// the last position to visit as `from + max - 1`, which overflows for such a `max`: a panic
/// ("attempt to add with overflow") in a debug build; in a release build, from position 2 on,
/// the sum wraps to `from - 2`, below `from`, so nothing is visited and the "every committed
/// position up to the head is readable" assertion panics. Any caller asking for "all of it" crashed the reader. Now the
/// sum saturates: `max` beyond the head simply means up to the head.
#[tokio::test]
async fn visit_all_with_an_unbounded_max_visits_up_to_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    for i in 0..5u32 {
        let events = vec![sample_event(&format!("cmd-{i}"), 0)];
        log.append("stream-1", ExpectedVersion::Any, events).await.unwrap();
    }
    for from in [1u64, 3, 5] {
        let mut seen = Vec::new();
        let n = log.visit_all(from, usize::MAX, |e| seen.push(e.position)).unwrap();
        assert_eq!(n, 6 - from, "from {from}");
        assert_eq!(seen, (from..=5).collect::<Vec<_>>(), "from {from}");
    }
    assert_eq!(log.visit_all(6, usize::MAX, |_| ()).unwrap(), 0, "past the head");
    log.close().await.unwrap();
}

/// The story: `docs/log-format.md` gives bytes 56..60 of a segment header as "reserved, 0",
/// and the writer writes zeros there, but `parse_segment_header` never looked at them: a header
/// with anything in them (and a CRC computed over it) was read as a sound format-1 header. The
/// `batch_decoder` fuzz target found it (its property: whatever decodes encodes back to the
/// same bytes). A reader that ignores reserved bytes would misread a later format that uses
/// them instead of refusing it; now a non-zero reserved field is an error.
#[test]
fn segment_header_with_nonzero_reserved_bytes_is_refused() {
    use plaint_store::file::format::{parse_segment_header, segment_header};
    let mut h = segment_header(7, &[3u8; 32]);
    assert_eq!(parse_segment_header(&h).unwrap().first_position, 7);
    h[57] = 0xd3;
    let crc = crc32c_of(&h[..60]);
    h[60..64].copy_from_slice(&crc.to_le_bytes());
    let e = parse_segment_header(&h).unwrap_err();
    assert!(e.contains("reserved"), "{e}");
}

/// CRC-32C (Castagnoli), bitwise: the checksum of `docs/log-format.md`.
fn crc32c_of(b: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in b {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The story: the `stream_index` fuzz target (the decoder of `index.pidx`, CRCs fixed so the
/// checks behind them are reached) re-encoded a decoded checkpoint whose part A claimed a head
/// of 1.5 billion events over a part B holding a few dozen: the encoder sized its buffer from
/// the head and aborted on a 27 GB allocation. Nothing compared the head with the stream
/// entries. In a real log the head is checked against the segments, so the same gap shows as a
/// part B that does not fit its part A, e.g. parts B and C of an older checkpoint beside a newer
/// part A (each part's CRC is sound): the streams were believed, so the streams appended to
/// since then answered stale versions. Every event up to the head belongs to one stream, so the
/// entries' events and the tail read at open must add up to the head; when they do not, the
/// streams are rebuilt from the segments, as for a damaged part B.
#[tokio::test]
async fn a_stale_stream_part_beside_a_newer_head_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let index_path = dir.path().join("index.pidx");
    // Opens the log, appends `n` events to one stream, closes it: the checkpoint it leaves.
    let session = |prefix: &'static str, n: u32| {
        let dir = dir.path().to_path_buf();
        let index_path = index_path.clone();
        async move {
            let log = FileLog::open(&dir, FileLogOptions::default()).unwrap();
            for i in 0..n {
                let events = vec![sample_event(&format!("{prefix}-{i}"), 0)];
                log.append("stream-1", ExpectedVersion::Any, events).await.unwrap();
            }
            log.close().await.unwrap();
            std::fs::read(&index_path).unwrap()
        }
    };
    let old = session("old", 4).await;
    let new = session("new", 3).await;

    // The newer part A (head 7) with the older parts C and B (stream-1 at version 4).
    let part_a_end = |b: &[u8]| u64::from_le_bytes(b[16..24].try_into().unwrap()) as usize + 4;
    let mut spliced = new[..part_a_end(&new)].to_vec();
    spliced.extend_from_slice(&old[part_a_end(&old)..]);
    std::fs::write(&index_path, &spliced).unwrap();

    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    log.wait_index_ready().unwrap();
    let why = log.stream_index_rebuilt().expect("the stale stream part is not used");
    assert!(why.contains("head is 7"), "{why}");
    assert_eq!(log.stream_version("stream-1").await.unwrap(), 7);
    log.close().await.unwrap();
}

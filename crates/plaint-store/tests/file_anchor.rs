//! The head anchor (issue 16): losing acknowledged batches at the end of the log is found even
//! after a crash without a clean close (no checkpoint covers the tail), and a read-only open
//! changes no byte of the store.
//!
//! Before the anchor, every scenario here opened and verified as a shorter, sound log.

use plaint_store::conformance::sample_event;
use plaint_store::file::anchor::ANCHOR_FILE;
use plaint_store::file::format::{self, SEGMENT_HEADER_LEN};
use plaint_store::file::{FileLog, FileLogOptions, Recovery, SEGMENT_SIZE_MIN};
use plaint_store::io::{LogIo, SimIo};
use plaint_store::{EventStore, ExpectedVersion, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DIR: &str = "/sim/log";

fn options(anchor_interval_ms: u64) -> FileLogOptions {
    FileLogOptions {
        segment_size_max: SEGMENT_SIZE_MIN,
        anchor_interval_ms,
        ..FileLogOptions::default()
    }
}

async fn append_n(log: &FileLog, from: u32, n: u32) {
    for i in from..from + n {
        let events = (0..(i % 3 + 1)).map(|k| sample_event(&format!("cmd-{i}"), k)).collect();
        log.append(&format!("stream-{}", i % 4), ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
}

fn segments(io: &SimIo) -> Vec<PathBuf> {
    let mut names: Vec<String> = io
        .list_dir(Path::new(DIR))
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(".plog"))
        .collect();
    names.sort();
    names.into_iter().map(|n| Path::new(DIR).join(n)).collect()
}

/// Offsets of the batches in a segment's bytes.
fn batch_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut at = SEGMENT_HEADER_LEN;
    let mut out = Vec::new();
    while at < bytes.len() {
        out.push(at);
        at += format::parse_batch(&bytes[at..]).unwrap().header.total_len();
    }
    out
}

fn assert_lost(result: Result<FileLog, StoreError>, what: &str) {
    match result {
        Err(StoreError::Lost { file, detail }) => {
            assert_eq!(Path::new(&file), Path::new(DIR).join(ANCHOR_FILE), "{what}: {detail}");
            assert!(detail.contains("are missing"), "{what}: {detail}");
        }
        Err(other) => panic!("{what}: unexpected error {other}"),
        Ok(log) => panic!(
            "{what}: went unnoticed, the log opened with head {}",
            log.open_report().head_position
        ),
    }
}

/// A log left by a crash: every acknowledged batch durable, no clean close, no checkpoint.
async fn crashed_log(anchor_interval_ms: u64, appends: u32) -> (SimIo, u64) {
    let io = SimIo::new(7);
    let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options(anchor_interval_ms)).unwrap();
    append_n(&log, 0, appends).await;
    let head = log.head_position().await.unwrap();
    let image = io.crash_image(11);
    drop(log);
    assert!(
        image.file_bytes(&Path::new(DIR).join("index.pidx")).is_none(),
        "no checkpoint covers the log"
    );
    (image, head)
}

fn open(io: &SimIo, options: FileLogOptions) -> Result<FileLog, StoreError> {
    FileLog::open_with_io(Arc::new(io.clone()), DIR, options)
}

#[tokio::test]
async fn after_a_crash_truncating_the_last_segment_at_a_batch_boundary_is_found() {
    let (image, head) = crashed_log(0, 30).await;
    assert_eq!(open(&image, options(0)).unwrap().head_position().await.unwrap(), head);
    let last = segments(&image).pop().unwrap();
    let bytes = image.file_bytes(&last).unwrap();
    for cut in batch_offsets(&bytes) {
        let damaged = image.crash_image(1);
        damaged.set_file_bytes(&last, bytes[..cut].to_vec());
        assert_lost(open(&damaged, options(0)), &format!("cut at batch offset {cut}"));
        let read_only = FileLogOptions {
            read_only: true,
            ..options(0)
        };
        assert_lost(open(&damaged, read_only), &format!("read-only, cut at {cut}"));
    }
}

#[tokio::test]
async fn after_a_crash_deleting_the_last_segment_is_found() {
    let (image, _) = crashed_log(0, 60).await;
    let segs = segments(&image);
    assert!(segs.len() >= 3);
    for k in 1..segs.len() {
        let damaged = image.crash_image(1);
        for seg in &segs[segs.len() - k..] {
            damaged.delete_file(seg);
        }
        assert_lost(open(&damaged, options(0)), &format!("last {k} segments deleted"));
    }
    // The anchor deleted too: a version-2 segment promises an anchor.
    let damaged = image.crash_image(1);
    damaged.delete_file(segs.last().unwrap());
    damaged.delete_file(&Path::new(DIR).join(ANCHOR_FILE));
    match open(&damaged, options(0)) {
        Err(StoreError::Lost { detail, .. }) => assert!(detail.contains("head anchor missing"), "{detail}"),
        other => panic!("expected Lost, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn with_the_default_interval_every_segment_roll_is_anchored() {
    // Appends far faster than the interval: only the rolls anchor.
    let (image, _) = crashed_log(60_000, 60).await;
    let segs = segments(&image);
    assert!(segs.len() >= 3);
    let damaged = image.crash_image(1);
    damaged.delete_file(segs.last().unwrap());
    assert_lost(open(&damaged, options(60_000)), "last segment deleted");
}

#[tokio::test]
async fn the_anchor_catches_up_within_the_interval_after_appends_stop() {
    let io = SimIo::new(3);
    let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options(50)).unwrap();
    append_n(&log, 0, 3).await; // one segment, no roll after the first
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let image = io.crash_image(5);
    let head = log.head_position().await.unwrap();
    drop(log);
    let reopened = open(&image, options(50)).unwrap();
    assert_eq!(reopened.open_report().anchor.unwrap().head_position, head);
    drop(reopened);
    let seg = segments(&image).pop().unwrap();
    let bytes = image.file_bytes(&seg).unwrap();
    let last_batch = *batch_offsets(&bytes).last().unwrap();
    image.set_file_bytes(&seg, bytes[..last_batch].to_vec());
    assert_lost(open(&image, options(50)), "last batch cut after appends stopped");
}

#[tokio::test]
async fn an_accepted_loss_is_reported_and_reanchored() {
    let (image, head) = crashed_log(0, 30).await;
    image.delete_file(&segments(&image).pop().unwrap());
    let accept = FileLogOptions {
        recovery: Recovery::AcceptLostTail,
        ..options(0)
    };
    let log = open(&image, accept).unwrap();
    let lost = log.open_report().lost_tail.clone().expect("the loss is reported");
    assert!(lost.contains(&format!("..={head} are missing")), "{lost}");
    let now = log.head_position().await.unwrap();
    assert!(now < head);
    drop(log);
    // Re-anchored where the log really ends: a strict open works again, and verifies.
    let log = open(&image, options(0)).unwrap();
    assert_eq!(log.open_report().anchor.unwrap().head_position, now);
    assert_eq!(log.verify().await.unwrap().head_position, now);
}

#[tokio::test]
async fn a_replaced_history_does_not_match_the_anchor() {
    let (image, _) = crashed_log(0, 30).await;
    let anchor_path = Path::new(DIR).join(ANCHOR_FILE);
    let anchor = image.file_bytes(&anchor_path).unwrap();
    // Another log of the same length and shape, with different content, under the old anchor.
    let other = SimIo::new(9);
    let log = FileLog::open_with_io(Arc::new(other.clone()), DIR, options(0)).unwrap();
    append_n(&log, 1000, 30).await;
    drop(log);
    other.set_file_bytes(&anchor_path, anchor);
    match open(&other, options(0)) {
        Err(StoreError::ChainBroken { detail, .. } | StoreError::Corrupt { detail, .. }) => {
            assert!(detail.contains("anchor"), "{detail}")
        }
        other => panic!("expected the anchor to be contradicted, got {:?}", other.map(|_| ())),
    }
}

/// Every file of `dir` with its bytes, plus the directory listing.
fn snapshot(dir: &Path) -> Vec<(String, [u8; 32])> {
    let mut out: Vec<(String, [u8; 32])> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                *blake3::hash(&std::fs::read(e.path()).unwrap()).as_bytes(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_read_only_open_and_verify_change_no_byte_even_with_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    append_n(&log, 0, 20).await;
    let head = log.head_position().await.unwrap();
    log.close().await.unwrap();
    std::fs::remove_file(dir.path().join("LOCK")).unwrap();
    std::fs::remove_file(dir.path().join("index.pidx")).unwrap();
    let seg = dir.path().join("seg-00000000000000000001.plog");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(b"BTCH\x02\x00\x00");
    bytes.extend_from_slice(&[0u8; 300]);
    std::fs::write(&seg, &bytes).unwrap();
    let before = snapshot(dir.path());
    let ro = FileLog::open(
        dir.path(),
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    let torn = ro.open_report().torn.clone().expect("the torn tail is reported");
    assert_eq!(
        (torn.file, torn.offset, torn.bytes),
        (seg.clone(), bytes.len() as u64 - 307, 307)
    );
    assert_eq!(ro.verify().await.unwrap().head_position, head);
    drop(ro);
    assert_eq!(snapshot(dir.path()), before, "no file created, changed or removed");
    // A writer cuts it (what `plaint repair` does) and says so.
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.open_report().torn_bytes_cut, 307);
    assert_eq!(std::fs::read(&seg).unwrap().len(), bytes.len() - 307);
}

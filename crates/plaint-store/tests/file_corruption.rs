//! Damage to committed bytes is always reported, with the file and byte offset, never skipped:
//! every single-bit flip of every segment byte, truncation at every offset, a missing segment,
//! a payload rewritten with fresh CRCs (caught by the hash chain at its batch), and a batch
//! of the wrong kind for its segment's format version. The pre-written tail (zeros after the
//! last batch of the last segment) is the clean end of the log; a byte set inside it, or a
//! complete batch after a run of zeros, is damage; a batch torn while overwriting the zeros is
//! a torn tail.

use plaint_store::conformance::sample_event;
use plaint_store::file::anchor::ANCHOR_FILE;
use plaint_store::file::format::{self, BATCH_HEADER_LEN, SEGMENT_HEADER_LEN};
use plaint_store::file::{FileLog, FileLogOptions, SEGMENT_SIZE_MIN};
use plaint_store::io::{LogIo, SimIo};
use plaint_store::{EventStore, ExpectedVersion, RecordedEvent, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DIR: &str = "/sim/log";

fn options() -> FileLogOptions {
    FileLogOptions {
        segment_size_max: SEGMENT_SIZE_MIN,
        ..FileLogOptions::default()
    }
}

/// A closed log of several segments (with its checkpoint) and its events.
async fn base_log() -> (SimIo, Vec<RecordedEvent>) {
    let io = SimIo::new(1);
    let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options()).unwrap();
    // Enough appends for more than 10,000 bytes of segments (format 3 records are compact).
    for i in 0..56u32 {
        let events = (0..(i % 3 + 1)).map(|k| sample_event(&format!("cmd-{i}"), k)).collect();
        log.append(&format!("stream-{}", i % 4), ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
    let all = log.read_all(1, 10_000).await.unwrap();
    log.close().await.unwrap();
    (io, all)
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

/// An independent copy of the disk, with `change` applied to it.
fn damaged(base: &SimIo, change: impl FnOnce(&SimIo)) -> SimIo {
    let copy = SimIo::new(2);
    copy.create_dir_all(Path::new(DIR)).unwrap();
    for name in base.list_dir(Path::new(DIR)).unwrap() {
        let p = Path::new(DIR).join(&name);
        copy.set_file_bytes(&p, base.file_bytes(&p).unwrap());
    }
    change(&copy);
    copy
}

/// Opens and verifies; the first error, if any.
async fn open_and_verify(io: &SimIo) -> Result<(FileLog, u64), StoreError> {
    let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options())?;
    let report = log.verify().await?;
    Ok((log, report.events))
}

#[tokio::test]
async fn every_single_bit_flip_in_a_segment_is_reported_with_its_file_and_offset() {
    let (base, all) = base_log().await;
    let segs = segments(&base);
    assert!(segs.len() >= 3, "the base log spans several segments");
    assert_eq!(
        open_and_verify(&base).await.unwrap().1,
        all.len() as u64,
        "the undamaged log verifies"
    );
    let mut cases = 0;
    for seg in &segs {
        let bytes = base.file_bytes(seg).unwrap();
        for offset in 0..bytes.len() {
            let bit = (offset * 5 + 3) % 8;
            let io = damaged(&base, |d| {
                let mut b = bytes.clone();
                b[offset] ^= 1 << bit;
                d.set_file_bytes(seg, b);
            });
            match open_and_verify(&io).await {
                Err(StoreError::Corrupt {
                    file,
                    offset: at,
                    detail,
                }) => {
                    assert_eq!(Path::new(&file), seg, "flip at {offset}: reported file ({detail})");
                    assert!(
                        at <= offset as u64,
                        "flip at {offset} reported at later offset {at} ({detail})"
                    );
                }
                Err(other) => panic!("flip at {} offset {offset}: unexpected error {other}", seg.display()),
                Ok(_) => panic!("flip of bit {bit} at {} offset {offset} went undetected", seg.display()),
            }
            cases += 1;
        }
    }
    assert!(cases > 10_000, "{cases} flips checked");
}

#[tokio::test]
async fn truncation_anywhere_is_reported_when_the_checkpoint_covers_it() {
    let (base, _) = base_log().await;
    for seg in segments(&base) {
        let bytes = base.file_bytes(&seg).unwrap();
        for len in (0..bytes.len()).step_by(3) {
            let io = damaged(&base, |d| d.set_file_bytes(&seg, bytes[..len].to_vec()));
            match FileLog::open_with_io(Arc::new(io), DIR, options()) {
                Err(StoreError::Corrupt { file, offset, .. }) => {
                    assert_eq!(Path::new(&file), seg, "truncation to {len}");
                    assert_eq!(offset, len as u64, "truncation to {len} reported at the new end");
                }
                Err(other) => panic!("truncation of {} to {len}: unexpected error {other}", seg.display()),
                Ok(_) => panic!("truncation of {} to {len} went undetected", seg.display()),
            }
        }
    }
}

#[tokio::test]
async fn without_checkpoint_a_truncated_segment_is_reported_the_last_one_by_the_anchor() {
    let (base, all) = base_log().await;
    let base = damaged(&base, |d| d.delete_file(&Path::new(DIR).join("index.pidx")));
    let segs = segments(&base);
    for (i, seg) in segs.iter().enumerate() {
        let bytes = base.file_bytes(seg).unwrap();
        for len in (SEGMENT_HEADER_LEN + 1..bytes.len()).step_by(7) {
            let io = damaged(&base, |d| d.set_file_bytes(seg, bytes[..len].to_vec()));
            let result = open_and_verify(&io).await;
            if i + 1 == segs.len() {
                // Issue 16: this used to open as a prefix of the events, as if a crash had torn
                // the tail; the head anchor, written on close, shows those events were durable.
                match result {
                    Err(StoreError::Lost { file, detail }) => {
                        assert_eq!(Path::new(&file), Path::new(DIR).join(ANCHOR_FILE), "{detail}");
                        assert!(detail.contains(&format!("..={} are missing", all.len())), "{detail}");
                    }
                    Err(other) => panic!("last segment cut to {len}: unexpected error {other}"),
                    Ok(_) => panic!("last segment cut to {len} went undetected"),
                }
                assert_eq!(
                    io.file_bytes(seg).unwrap(),
                    bytes[..len],
                    "nothing cut before reporting"
                );
            } else {
                match result {
                    Err(StoreError::Corrupt { file, .. }) => {
                        assert!(
                            Path::new(&file) == seg || Path::new(&file) == segs[i + 1],
                            "cut of {i} to {len}: {file}"
                        )
                    }
                    Err(other) => panic!("segment {i} cut to {len}: unexpected error {other}"),
                    Ok(_) => panic!("segment {i} cut to {len} went undetected"),
                }
            }
        }
    }
}

#[tokio::test]
async fn a_missing_segment_is_reported() {
    let (base, _) = base_log().await;
    let segs = segments(&base);
    let middle = &segs[1];
    let io = damaged(&base, |d| d.delete_file(middle));
    match FileLog::open_with_io(Arc::new(io), DIR, options()) {
        Err(StoreError::Corrupt { file, .. }) => assert_eq!(Path::new(&file), middle, "with checkpoint"),
        other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
    }
    let io = damaged(&base, |d| {
        d.delete_file(middle);
        d.delete_file(&Path::new(DIR).join("index.pidx"));
    });
    match FileLog::open_with_io(Arc::new(io), DIR, options()) {
        Err(StoreError::Corrupt { file, offset, detail }) => {
            assert_eq!(
                Path::new(&file),
                segs[2],
                "without checkpoint the gap shows at the next segment"
            );
            assert_eq!(offset, 16, "{detail}");
        }
        other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
    }
    // Issue 16: deleting the last segment of a log without a checkpoint used to leave a log
    // that opened and verified; the head anchor now shows what was lost.
    let last = segs.last().unwrap();
    let io = damaged(&base, |d| {
        d.delete_file(last);
        d.delete_file(&Path::new(DIR).join("index.pidx"));
    });
    match FileLog::open_with_io(Arc::new(io), DIR, options()) {
        Err(StoreError::Lost { file, detail }) => {
            assert_eq!(Path::new(&file), Path::new(DIR).join(ANCHOR_FILE), "{detail}")
        }
        other => panic!("expected Lost, got {:?}", other.map(|_| ())),
    }
    // And deleting the anchor with it is noticed too: a version-2 segment promises one.
    let io = damaged(&base, |d| {
        d.delete_file(last);
        d.delete_file(&Path::new(DIR).join("index.pidx"));
        d.delete_file(&Path::new(DIR).join(ANCHOR_FILE));
    });
    match FileLog::open_with_io(Arc::new(io), DIR, options()) {
        Err(StoreError::Lost { file, detail }) => {
            assert!(detail.contains("head anchor missing"), "{file}: {detail}")
        }
        other => panic!("expected Lost, got {:?}", other.map(|_| ())),
    }
    let io = damaged(&base, |d| {
        d.delete_file(&segs[0]);
        d.delete_file(&Path::new(DIR).join("index.pidx"));
    });
    assert!(matches!(
        FileLog::open_with_io(Arc::new(io), DIR, options()),
        Err(StoreError::Corrupt { .. })
    ));
}

/// Rewrites the payload of the event at `position` and fixes every CRC, as a forger would;
/// returns the first position of the batch holding it.
fn forge_payload(seg_bytes: &mut [u8], position: u64) -> Option<u64> {
    let mut at = SEGMENT_HEADER_LEN;
    while at < seg_bytes.len() {
        let h = format::parse_batch_header(&seg_bytes[at..]).unwrap();
        assert!(h.compact, "format 3 writes compact batches");
        let mut rec = at + BATCH_HEADER_LEN;
        for k in 0..u64::from(h.count) {
            let pos = h.first_position + k;
            let len = format::parse_record_compact(&seg_bytes[rec..], pos).unwrap().len;
            if pos == position {
                seg_bytes[rec + len - 1] ^= 0x01; // last payload byte
                                                  // The record's CRC follows its length varint and is seeded with the position.
                let (head, _) = format::record_frame_compact(&seg_bytes[rec..]).unwrap();
                let crc = crc32c::crc32c_append(
                    crc32c::crc32c(&pos.to_le_bytes()),
                    &seg_bytes[rec + head + 4..rec + len],
                );
                seg_bytes[rec + head..rec + head + 4].copy_from_slice(&crc.to_le_bytes());
                let crc_at = at + BATCH_HEADER_LEN + h.body_len + 32;
                let crc = crc32c::crc32c(&seg_bytes[at..crc_at]);
                seg_bytes[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
                assert!(
                    format::parse_batch(&seg_bytes[at..]).is_ok(),
                    "the forgery passes the CRCs"
                );
                return Some(h.first_position);
            }
            rec += len;
        }
        at += h.total_len();
    }
    None
}

#[tokio::test]
async fn a_forged_payload_with_valid_crcs_breaks_the_chain_at_its_position() {
    let (base, all) = base_log().await;
    let segs = segments(&base);
    // The middle event of a three-event batch, so that naming the batch is not naming it.
    let target = all.len() as u64 / 2;
    let target = (target..)
        .find(|&p| {
            all[p as usize - 1].command_id == all[p as usize - 2].command_id
                && all[p as usize - 1].command_id == all[p as usize].command_id
        })
        .unwrap();
    let mut batch_first = None;
    let io = damaged(&base, |d| {
        for seg in &segs {
            let mut bytes = d.file_bytes(seg).unwrap();
            if let Some(first) = forge_payload(&mut bytes, target) {
                d.set_file_bytes(seg, bytes);
                batch_first = Some(first);
                return;
            }
        }
        panic!("position {target} not found");
    });
    let batch_first = batch_first.unwrap();
    assert!(batch_first < target);
    let log = FileLog::open_with_io(Arc::new(io), DIR, options()).unwrap();
    let read = log.read_all(target, 1).await.unwrap();
    assert_ne!(
        read[0].payload,
        all[target as usize - 1].payload,
        "the forgery is readable"
    );
    // Compact records carry no chain value each: the chain names the batch (its first
    // position, and the range holding the forged event).
    match log.verify().await {
        Err(StoreError::ChainBroken { position, detail }) => {
            assert_eq!(position, batch_first, "{detail}");
            assert!(
                detail.contains(&format!("positions {batch_first} ..= {}", target + 1)),
                "{detail}"
            );
        }
        other => panic!("expected ChainBroken at {batch_first}, got {other:?}"),
    }
}

/// Re-encodes the batch at `at` of a version-3 segment in the other batch kind (version-1/2
/// records and framing), every CRC and chain value valid; returns the new segment bytes.
fn as_legacy_batch(seg_bytes: &[u8], at: usize) -> Vec<u8> {
    let batch = format::parse_batch(&seg_bytes[at..]).unwrap();
    assert!(batch.header.compact);
    let mut out = seg_bytes[..at].to_vec();
    let header = format::parse_segment_header(seg_bytes).unwrap();
    // The chain before this batch: recomputed from the segment's start.
    let mut chain = header.chain_before;
    let mut p = SEGMENT_HEADER_LEN;
    while p < at {
        let b = format::parse_batch(&seg_bytes[p..]).unwrap();
        chain = b.chain_after;
        p += b.header.total_len();
    }
    let start = format::begin_batch(&mut out);
    for r in batch.records() {
        let e = r.unwrap().event;
        chain = format::chain_next_ref(&chain, &e);
        format::encode_record_v2(&mut out, &e, &chain);
    }
    assert_eq!(chain, batch.chain_after);
    format::finish_batch_v2(&mut out, start, batch.header.first_position, batch.header.count, &chain);
    out.extend_from_slice(&seg_bytes[at + batch.header.total_len()..]);
    out
}

#[tokio::test]
async fn a_batch_of_the_wrong_kind_for_its_segment_version_is_corrupt() {
    let (base, _) = base_log().await;
    let segs = segments(&base);
    // The last batch of the last segment (where a torn write may be cut: it must not be), and
    // the first batch of the first one.
    for (seg, last) in [(segs.last().unwrap(), true), (&segs[0], false)] {
        let bytes = base.file_bytes(seg).unwrap();
        let mut offsets = vec![SEGMENT_HEADER_LEN];
        while let Ok(b) = format::parse_batch(&bytes[*offsets.last().unwrap()..]) {
            offsets.push(offsets.last().unwrap() + b.header.total_len());
        }
        offsets.pop();
        let at = if last { *offsets.last().unwrap() } else { offsets[0] };
        let forged = as_legacy_batch(&bytes, at);
        assert!(
            format::parse_batch(&forged[at..]).is_ok(),
            "the forged batch is sound on its own"
        );
        let io = damaged(&base, |d| {
            d.set_file_bytes(seg, forged);
            d.delete_file(&Path::new(DIR).join("index.pidx"));
        });
        match FileLog::open_with_io(Arc::new(io), DIR, options()) {
            Err(StoreError::Corrupt { file, offset, detail }) => {
                assert_eq!(Path::new(&file), seg.as_path(), "{detail}");
                assert_eq!(offset, at as u64, "{detail}");
                assert!(
                    detail.contains("a version-1/2 batch in a segment of version 3"),
                    "{detail}"
                );
            }
            other => panic!("expected Corrupt at {at}, got {:?}", other.map(|_| ())),
        }
    }
}

/// The base log with `zeros` zero bytes after the last segment's last batch (a pre-written
/// tail, as a writer leaves it while open), and the last segment's path and length before them.
async fn with_zero_tail(zeros: usize, without_checkpoint: bool) -> (SimIo, PathBuf, usize, u64) {
    let (base, all) = base_log().await;
    let last = segments(&base).pop().unwrap();
    let len = base.file_bytes(&last).unwrap().len();
    let io = damaged(&base, |d| {
        let mut b = d.file_bytes(&last).unwrap();
        b.resize(len + zeros, 0);
        d.set_file_bytes(&last, b);
        if without_checkpoint {
            d.delete_file(&Path::new(DIR).join("index.pidx"));
        }
    });
    (io, last, len, all.len() as u64)
}

fn read_only() -> FileLogOptions {
    FileLogOptions {
        read_only: true,
        ..options()
    }
}

#[tokio::test]
async fn a_zero_tail_after_the_last_batch_is_the_clean_end_of_the_log() {
    for without_checkpoint in [false, true] {
        for zeros in [1, 23, 24, 61, 4096] {
            let case = format!("{zeros} zeros, without checkpoint: {without_checkpoint}");
            let (io, last, len, events) = with_zero_tail(zeros, without_checkpoint).await;
            // Read-only (`plaint verify` of a live log): clean, nothing torn, nothing changed.
            let ro = FileLog::open_with_io(Arc::new(io.clone()), DIR, read_only()).unwrap();
            assert_eq!(ro.open_report().torn, None, "{case}");
            assert_eq!(ro.verify().await.unwrap().events, events, "{case}");
            drop(ro);
            assert_eq!(io.file_bytes(&last).unwrap().len(), len + zeros, "{case}");
            // A writer cuts the zeros (it pre-writes its own), reports nothing torn, loses nothing.
            let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options()).unwrap();
            assert_eq!(log.open_report().torn, None, "{case}");
            assert_eq!(log.open_report().torn_bytes_cut, 0, "{case}");
            assert_eq!(io.file_bytes(&last).unwrap().len(), len, "{case}");
            assert_eq!(log.verify().await.unwrap().events, events, "{case}");
        }
    }
}

#[tokio::test]
async fn a_byte_set_inside_a_zero_tail_is_reported_at_the_end_of_the_log() {
    let mut cases = 0;
    for without_checkpoint in [false, true] {
        let (base, last, len, _) = with_zero_tail(4096, without_checkpoint).await;
        let bytes = base.file_bytes(&last).unwrap();
        // Every offset of the first header's worth and a few far ones; values that are no
        // batch magic's first byte (a lone `B` at the very end of the log reads as the start
        // of a torn header, as a cut write's first byte would).
        for at in (0..64).chain([100, 1000, 4095]) {
            for value in [0x01u8, 0x80, format::BATCH_END_COMPACT] {
                for options in [options(), read_only()] {
                    let io = damaged(&base, |d| {
                        let mut b = bytes.clone();
                        b[len + at] = value;
                        d.set_file_bytes(&last, b);
                    });
                    let case = format!("{value:#x} at {at} after the end, read-only: {}", options.read_only);
                    match FileLog::open_with_io(Arc::new(io), DIR, options) {
                        Err(StoreError::Corrupt { file, offset, .. }) => {
                            assert_eq!(Path::new(&file), last, "{case}");
                            assert_eq!(offset, len as u64, "{case}: reported where the log ends");
                        }
                        Err(other) => panic!("{case}: unexpected error {other}"),
                        Ok(_) => panic!("{case}: went unreported"),
                    }
                    cases += 1;
                }
            }
        }
    }
    assert!(cases >= 400, "{cases} cases");
}

/// The base log (closed: its anchor and checkpoint cover its head), the segment that one more
/// event appended to it lands in, where that batch starts there, and the segment's bytes up to
/// there and the batch's bytes: to build the images of that batch's write on the base log.
async fn one_more_batch() -> (SimIo, PathBuf, Vec<u8>, Vec<u8>, u64) {
    let (base, all) = base_log().await;
    let io = damaged(&base, |_| {});
    let log = FileLog::open_with_io(Arc::new(io.clone()), DIR, options()).unwrap();
    log.append("stream-x", ExpectedVersion::Any, vec![sample_event("cmd-x", 0)])
        .await
        .unwrap();
    log.close().await.unwrap();
    let last = segments(&io).pop().unwrap();
    let bytes = io.file_bytes(&last).unwrap();
    // The batch starts the segment, or follows what the base log holds there.
    let start = base.file_bytes(&last).map_or(SEGMENT_HEADER_LEN, |b| b.len());
    (
        base,
        last,
        bytes[..start].to_vec(),
        bytes[start..].to_vec(),
        all.len() as u64,
    )
}

#[tokio::test]
async fn a_complete_batch_after_a_run_of_zeros_is_corrupt_never_skipped_to() {
    let (base, last, before, batch, _) = one_more_batch().await;
    let start = before.len();
    let mut cases = 0;
    for without_checkpoint in [false, true] {
        for gap in [1, 7, 24, 100, 4096] {
            for options in [options(), read_only()] {
                let hidden = damaged(&base, |d| {
                    // The next batch, valid and continuing the chain, behind `gap` zeros.
                    let mut b = before.clone();
                    b.resize(start + gap, 0);
                    b.extend_from_slice(&batch);
                    b.resize(b.len() + 512, 0);
                    d.set_file_bytes(&last, b);
                    if without_checkpoint {
                        d.delete_file(&Path::new(DIR).join("index.pidx"));
                    }
                });
                let case = format!(
                    "gap {gap}, without checkpoint {without_checkpoint}, read-only {}",
                    options.read_only
                );
                match FileLog::open_with_io(Arc::new(hidden), DIR, options) {
                    Err(StoreError::Corrupt { file, offset, .. }) => {
                        assert_eq!(Path::new(&file), last, "{case}");
                        assert_eq!(offset, start as u64, "{case}: reported at the first zero");
                    }
                    Err(other) => panic!("{case}: unexpected error {other}"),
                    Ok(log) => panic!("{case}: opened with head {}", log.head().position),
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 20);
}

#[tokio::test]
async fn a_batch_torn_over_a_zero_tail_is_cut_and_reported_as_torn() {
    let (base, last, before, batch, events) = one_more_batch().await;
    let start = before.len();
    for cut in 0..=batch.len() {
        let image = damaged(&base, |d| {
            // The positioned write landed `cut` bytes over the pre-written zeros.
            let mut b = before.clone();
            b.extend_from_slice(&batch[..cut]);
            b.resize(start + 4096, 0);
            d.set_file_bytes(&last, b);
        });
        let case = format!("{cut} of {} bytes landed", batch.len());
        let ro = FileLog::open_with_io(Arc::new(image.clone()), DIR, read_only()).unwrap();
        let landed = batch[..cut].iter().any(|&b| b != 0);
        let want_events = events + u64::from(cut == batch.len());
        match (cut == batch.len(), landed) {
            // Whole: a committed batch, then the clean end.
            (true, _) => assert_eq!(ro.open_report().torn, None, "{case}"),
            // Nothing but zeros landed: the clean end.
            (false, false) => assert_eq!(ro.open_report().torn, None, "{case}"),
            (false, true) => {
                let torn = ro.open_report().torn.clone().expect(&case);
                assert_eq!(
                    (torn.file.as_path(), torn.offset),
                    (last.as_path(), start as u64),
                    "{case}"
                );
            }
        }
        assert_eq!(ro.verify().await.unwrap().events, want_events, "{case}");
        drop(ro);
        let log = FileLog::open_with_io(Arc::new(image.clone()), DIR, options()).unwrap();
        assert_eq!(log.head().position, want_events, "{case}");
        let want_len = if cut == batch.len() { start + cut } else { start };
        assert_eq!(
            image.file_bytes(&last).unwrap().len(),
            want_len,
            "{case}: the writer cut"
        );
        log.append("after", ExpectedVersion::Any, vec![sample_event("after", 0)])
            .await
            .unwrap();
        assert_eq!(log.verify().await.unwrap().events, want_events + 1, "{case}");
    }
}

/// The disk of `inner`, where the first read of `path` finds it cut to `len` bytes after its
/// length was looked up: a live writer's roll cutting the pre-written zeros in between.
struct CutBeforeRead {
    inner: SimIo,
    path: PathBuf,
    len: usize,
    cut: std::sync::atomic::AtomicBool,
}

impl LogIo for CutBeforeRead {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn list_dir(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        self.inner.list_dir(dir)
    }
    fn file_len(&self, path: &Path) -> std::io::Result<u64> {
        self.inner.file_len(path)
    }
    fn open_read(&self, path: &Path) -> std::io::Result<Arc<dyn plaint_store::io::ReadFile>> {
        if path == self.path && !self.cut.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let bytes = self.inner.file_bytes(path).unwrap();
            self.inner.set_file_bytes(path, bytes[..self.len].to_vec());
        }
        self.inner.open_read(path)
    }
    fn open_append(&self, path: &Path, create_new: bool) -> std::io::Result<Box<dyn plaint_store::io::AppendFile>> {
        self.inner.open_append(path, create_new)
    }
    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()> {
        self.inner.truncate(path, len)
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.inner.remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock_exclusive(&self, path: &Path) -> std::io::Result<Box<dyn std::any::Any + Send>> {
        self.inner.lock_exclusive(path)
    }
}

#[tokio::test]
async fn a_read_only_open_beside_a_roll_that_cuts_the_zeros_reads_the_log() {
    // Without the checkpoint, so the open reads the last segment whole: its length is looked
    // up with the zeros, its bytes read after the cut.
    let (io, last, len, events) = with_zero_tail(4096, true).await;
    let racing = CutBeforeRead {
        inner: io,
        path: last.clone(),
        len,
        cut: false.into(),
    };
    let ro = FileLog::open_with_io(Arc::new(racing), DIR, read_only()).unwrap();
    assert_eq!(ro.open_report().torn, None);
    assert_eq!(ro.head().position, events);
    assert_eq!(ro.verify().await.unwrap().events, events);
}

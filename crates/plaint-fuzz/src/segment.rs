//! Target `segment_recovery`: opening a file log whose last segment is hostile bytes.
//!
//! A template log (three segments of small events, closed cleanly, so with its checkpoint
//! `index.pidx`) lives on an in-memory disk ([`SimIo`]); each input gets its own copy. Byte 0
//! of the input says what to do with the rest:
//!
//! - bits 0-1: `0` the rest *replaces* the last segment, `1` it is *appended* to the last
//!   segment, `2` it is a *new* segment after the last one, `3` the rest replaces the last
//!   segment and the template's first event is the expected result of nothing else (same as 0);
//! - bit 2: the checkpoint is deleted (recovery rebuilds the index from the segments);
//! - bit 3: the log is opened read-only;
//! - bit 4: the checksums of the bytes are fixed first ([`crate::batch::fix_checksums`]: the
//!   segment header's when they start with one, then every batch's), so that the checks behind
//!   the CRCs (positions, lengths, the chain, the stream index) are reached.
//!
//! Properties: opening either fails with an error or succeeds; when it succeeds, every event it
//! serves is the template's event at that position (damage is never read as data), appended or
//! extra bytes never add an event, and a writable open leaves a log that opens again cleanly
//! with the same head. When the open read the whole log (no usable checkpoint), reads and
//! `verify` succeed up to the head and the chain ends at the template's value. When it opened
//! from the checkpoint, it read only the log after the checkpoint's covered end (the fast open
//! of `docs/log-format.md`): damage inside the covered bytes is then found by the reads
//! (CRCs) and by `verify`, which must fail with an error naming it. A change there that carries
//! valid CRCs (tampering) may be served by reads after such an open, and then `verify` must
//! report it (the hash chain).

use plaint_store::chain::{chain_next, ChainHash, CHAIN_GENESIS};
use plaint_store::file::{FileLog, FileLogOptions, IndexSource};
use plaint_store::io::SimIo;
use plaint_store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The template log's directory on the simulated disk.
const DIR: &str = "/plaint-fuzz-log";
/// Small segments, so that the template has several.
const SEGMENT_SIZE: u64 = 4096;

struct Template {
    disk: SimIo,
    events: Vec<RecordedEvent>,
    /// `chains[p]`: chain value after position `p` (`chains[0]` is the genesis).
    chains: Vec<ChainHash>,
    /// First positions of the segments, in order.
    segments: Vec<u64>,
    runtime: tokio::runtime::Runtime,
}

fn segment_path(first_position: u64) -> PathBuf {
    Path::new(DIR).join(format!("seg-{first_position:020}.plog"))
}

fn options(read_only: bool) -> FileLogOptions {
    FileLogOptions {
        segment_size_max: SEGMENT_SIZE,
        read_only,
        ..FileLogOptions::default()
    }
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let disk = SimIo::new(1);
        let log = FileLog::open_with_io(Arc::new(disk.clone()), DIR, options(false)).expect("template log opens");
        runtime.block_on(async {
            for i in 0..30u64 {
                let stream = format!("complaint-{}", i % 4);
                let version = log.stream_version(&stream).await.expect("stream version");
                let events = (0..1 + i % 3)
                    .map(|k| NewEvent {
                        event_type: if k == 0 { "Received" } else { "Verified" }.into(),
                        schema_version: 1,
                        occurred_at_ms: 1_700_000_000_000 + i as i64,
                        recorded_at_ms: 1_700_000_000_500 + i as i64,
                        actor: "fuzz".into(),
                        command_id: format!("cmd-{i}"),
                        payload: vec![i as u8; 40 + (i as usize * 7) % 90],
                    })
                    .collect();
                log.append(&stream, ExpectedVersion::Exact(version), events)
                    .await
                    .expect("template append");
            }
        });
        let events = runtime
            .block_on(log.read_all(1, usize::MAX))
            .expect("template reads back");
        runtime.block_on(log.close()).expect("template closes");
        let mut chains = vec![CHAIN_GENESIS];
        for e in &events {
            chains.push(chain_next(chains.last().unwrap(), e));
        }
        let mut segments: Vec<u64> = (1..=events.len() as u64)
            .filter(|&p| disk.file_bytes(&segment_path(p)).is_some())
            .collect();
        segments.sort_unstable();
        assert!(segments.len() >= 3, "the template has several segments");
        Template {
            disk,
            events,
            chains,
            segments,
            runtime,
        }
    })
}

/// The template's index checkpoint (`index.pidx`, written when it closed): the seed of the
/// `stream_index` corpus.
pub fn template_index_checkpoint() -> Vec<u8> {
    template()
        .disk
        .file_bytes(&Path::new(DIR).join("index.pidx"))
        .expect("the template closed with a checkpoint")
}

/// The template's last segment as it is on disk (the seed of the corpus).
pub fn template_last_segment() -> Vec<u8> {
    let t = template();
    t.disk
        .file_bytes(&segment_path(*t.segments.last().unwrap()))
        .expect("last segment")
}

pub fn segment_recovery(data: &[u8]) {
    let [mode, bytes @ ..] = data else { return };
    let t = template();
    let head = t.events.len() as u64;
    let last_first = *t.segments.last().unwrap();
    let disk = t.disk.crash_image(0);
    let last = segment_path(last_first);
    let placement = mode & 3;
    let mut fixed;
    let bytes = if mode & 16 != 0 {
        fixed = bytes.to_vec();
        // Appended bytes start at a batch boundary; a new segment or a replaced one with its header.
        crate::batch::fix_checksums(&mut fixed, 0);
        &fixed[..]
    } else {
        bytes
    };
    match placement {
        1 => {
            let mut b = disk.file_bytes(&last).expect("last segment");
            b.extend_from_slice(bytes);
            disk.set_file_bytes(&last, b);
        }
        2 => disk.set_file_bytes(&segment_path(head + 1), bytes.to_vec()),
        _ => disk.set_file_bytes(&last, bytes.to_vec()),
    }
    if mode & 4 != 0 {
        disk.delete_file(&Path::new(DIR).join("index.pidx"));
    }
    let read_only = mode & 8 != 0;
    let Ok(log) = FileLog::open_with_io(Arc::new(disk.clone()), DIR, options(read_only)) else {
        return;
    };
    let opened = log.open_report().head_position;
    let sound = check_served(t, &log, placement);
    if read_only {
        return;
    }
    t.runtime.block_on(log.close()).expect("a log that opened closes");
    let again = match FileLog::open_with_io(Arc::new(disk), DIR, options(false)) {
        Ok(again) => again,
        Err(e) if !sound => {
            assert!(!e.to_string().is_empty());
            return;
        }
        Err(e) => panic!("the log recovery left does not open again: {e}"),
    };
    assert_eq!(
        again.open_report().torn_bytes_cut,
        0,
        "recovery left a torn tail behind"
    );
    assert_eq!(again.open_report().head_position, opened, "reopening changed the head");
    check_served(t, &again, placement);
    t.runtime.block_on(again.close()).expect("closes");
}

/// Everything `log` serves is the template's. Returns whether reads and `verify` succeeded
/// (they must when the open read the whole log; from a checkpoint they may fail on damage in
/// the covered bytes, with an error).
fn check_served(t: &Template, log: &FileLog, placement: u8) -> bool {
    let head = log.open_report().head_position;
    let scanned_all = !matches!(log.open_report().index, IndexSource::Checkpoint { .. });
    let template_head = t.events.len() as u64;
    assert!(
        head <= template_head,
        "head {head} past the template's {template_head}: damage read as events"
    );
    if placement == 1 || placement == 2 {
        assert_eq!(head, template_head, "bytes after a complete log changed its head");
    } else {
        assert!(
            head + 1 >= *t.segments.last().unwrap(),
            "events of earlier segments lost"
        );
    }
    let mut served = 0u64;
    let mut altered = None;
    let visited = log.visit_all(1, usize::MAX, |e| {
        served += 1;
        assert_eq!(e.position, served, "positions are gapless");
        let written = &t.events[served as usize - 1];
        if e.to_recorded() != *written {
            // After a full-scan open the chain was checked up to the head: nothing altered can
            // be served. After a fast open, bytes the checkpoint covers are checked by their
            // CRCs only; a change that carries valid CRCs (tampering, or the fuzzer solving the
            // CRC comparison) is the chain's to catch, in `verify` below.
            assert!(
                !scanned_all,
                "position {served} is not the event written there: {:?} served, {written:?} written",
                e.to_recorded()
            );
            altered.get_or_insert(served);
        }
    });
    let read_ok = match visited {
        Ok(n) => {
            assert_eq!(n, head, "every position up to the head is served");
            true
        }
        Err(e) if !scanned_all => {
            assert!(!e.to_string().is_empty());
            false
        }
        Err(e) => panic!("a log whose open read it all cannot be read: {e}"),
    };
    match t.runtime.block_on(log.verify()) {
        Ok(report) => {
            assert!(read_ok, "verify passes a log whose reads fail");
            assert_eq!(altered, None, "verify passes a log that serves an altered event");
            assert_eq!(report.head_position, head);
            assert_eq!(report.chain_head, t.chains[head as usize], "chain value at the head");
            true
        }
        Err(e) if !scanned_all => {
            assert!(!e.to_string().is_empty());
            false
        }
        Err(e) => panic!("a log whose open read it all does not verify: {e}"),
    }
}

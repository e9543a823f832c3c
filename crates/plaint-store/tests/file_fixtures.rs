//! Golden files: logs written by every format version, checked in under `tests/fixtures/vN/`,
//! must keep opening with the same events and the same chain head in every later build.
//!
//! The fixture of the current version was generated once with `PLAINT_WRITE_FIXTURES=1 cargo
//! test -p plaint-store --test file_fixtures` (that writes `fixtures/v3/` only); with a new
//! format version, add a directory and a test, and keep the old ones.

use plaint_store::chain::to_hex;
use plaint_store::file::anchor::ANCHOR_FILE;
use plaint_store::file::{format, FileLog, FileLogOptions, IndexSource, SEGMENT_SIZE_MIN};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use std::path::{Path, PathBuf};

fn fixture_dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/v{version}"))
}

/// The format version in a segment file's header.
fn segment_version(path: &Path) -> u32 {
    let bytes = std::fs::read(path).unwrap();
    format::parse_segment_header(&bytes).unwrap().version
}

fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "plog"))
        .collect();
    paths.sort();
    paths
}

fn ev(command_id: &str, n: u32, payload_len: usize) -> NewEvent {
    NewEvent {
        event_type: ["Received", "Assigned", "Resolved"][n as usize % 3].into(),
        schema_version: 1 + (n % 2) as u16,
        occurred_at_ms: 1_767_225_600_000 + i64::from(n) * 60_000,
        recorded_at_ms: 1_767_225_600_000 + i64::from(n) * 60_000 + 250,
        actor: if n % 4 == 0 {
            "système".into()
        } else {
            format!("clerk-{}", n % 5)
        },
        command_id: command_id.into(),
        payload: (0..payload_len).map(|i| (i as u32 * 7 + n) as u8).collect(),
    }
}

/// The appends that made the fixture of `version`, in order: (stream, events) per append; the
/// last three form one `append_many`. From version 3 on, some command ids start with their
/// stream name (the way plaint's engine names them; compact records share those bytes).
fn fixture_appends(version: u32) -> Vec<(String, Vec<NewEvent>)> {
    let mut out = Vec::new();
    for i in 0..40u32 {
        let stream = format!("complaint-{:03}", i % 9);
        let n = i % 3 + 1;
        out.push((
            stream,
            (0..n)
                .map(|k| ev(&format!("cmd-{i}"), i + k, (i as usize * 13) % 300))
                .collect(),
        ));
    }
    if version >= 3 {
        for i in 0..6u32 {
            let stream = format!("CMP-2026-{:06}", i % 2);
            let command = format!("{stream}/{i:02}-respond");
            out.push((stream, vec![ev(&command, i, 40 + i as usize), ev(&command, i + 1, 0)]));
        }
        // A command id that starts with only part of the stream name.
        out.push(("CMP-2026-000001".into(), vec![ev("CMP-2026-00000", 9, 3)]));
    }
    out.push(("réclamation-ü".into(), vec![ev("cmd-unicode", 1, 0)]));
    out.push(("complaint-000".into(), vec![ev("many-1", 2, 10), ev("many-1", 3, 20)]));
    out.push(("complaint-big".into(), vec![ev("many-2", 4, 5000)]));
    out
}

async fn write_fixture(dir: &Path, version: u32) {
    let _ = std::fs::remove_dir_all(dir);
    let options = FileLogOptions {
        segment_size_max: SEGMENT_SIZE_MIN,
        ..FileLogOptions::default()
    };
    let log = FileLog::open(dir.join("log"), options).unwrap();
    let appends = fixture_appends(version);
    let (single, many) = appends.split_at(appends.len() - 3);
    for (stream, events) in single {
        log.append(stream, ExpectedVersion::Any, events.clone()).await.unwrap();
    }
    let requests = many
        .iter()
        .map(|(s, e)| AppendRequest {
            stream: s.clone(),
            expected: ExpectedVersion::Any,
            events: e.clone(),
        })
        .collect();
    log.append_many(requests).await.unwrap();
    let report = log.verify().await.unwrap();
    log.close().await.unwrap();
    std::fs::remove_file(dir.join("log/LOCK")).unwrap();
    std::fs::write(dir.join("chain_head.txt"), format!("{}\n", to_hex(&report.chain_head))).unwrap();
}

fn expected_events(version: u32) -> Vec<(String, NewEvent)> {
    fixture_appends(version)
        .into_iter()
        .flat_map(|(s, events)| events.into_iter().map(move |e| (s.clone(), e)))
        .collect()
}

fn assert_fixture_events(all: &[RecordedEvent], version: u32) {
    let expected = expected_events(version);
    assert_eq!(all.len(), expected.len(), "fixture event count");
    let mut versions = std::collections::HashMap::new();
    for (i, (e, (stream, new))) in all.iter().zip(&expected).enumerate() {
        let v = versions.entry(stream.clone()).or_insert(0u64);
        *v += 1;
        assert_eq!(e.position, i as u64 + 1);
        assert_eq!(&e.stream, stream, "position {}", e.position);
        assert_eq!(e.stream_version, *v, "position {}", e.position);
        assert_eq!(
            (
                &e.event_type,
                e.schema_version,
                e.occurred_at_ms,
                e.recorded_at_ms,
                &e.actor,
                &e.command_id,
                &e.payload
            ),
            (
                &new.event_type,
                new.schema_version,
                new.occurred_at_ms,
                new.recorded_at_ms,
                &new.actor,
                &new.command_id,
                &new.payload
            ),
            "position {}",
            e.position
        );
    }
}

/// Opens the fixture in `dir` read-only and as a writable copy; returns the copy (closed) and
/// the fixture's event count.
async fn check_fixture(dir: &Path, version: u32) -> (tempfile::TempDir, u64) {
    let chain_head = std::fs::read_to_string(dir.join("chain_head.txt")).expect("fixture chain_head.txt");
    assert!(
        segment_paths(&dir.join("log")).len() >= 2,
        "the fixture spans several segments"
    );

    // Read-only, straight from the checked-in files (nothing is written there).
    let ro = FileLog::open(
        dir.join("log"),
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ro.open_report().index, IndexSource::Checkpoint { tail_events: 0 });
    assert_eq!(ro.open_report().torn_bytes_cut, 0);
    let all = ro.read_all(1, 10_000).await.unwrap();
    assert_fixture_events(&all, version);
    // Every stream read on its own (each record read alone, at its offset) gives the same.
    let streams: std::collections::BTreeSet<&str> = all.iter().map(|e| e.stream.as_str()).collect();
    for stream in streams {
        let expected: Vec<&RecordedEvent> = all.iter().filter(|e| e.stream == stream).collect();
        let got = ro.read_stream(stream, 1, 10_000).await.unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "stream {stream}");
    }
    let report = ro.verify().await.unwrap();
    assert_eq!(
        to_hex(&report.chain_head),
        chain_head.trim(),
        "chain head of the fixture"
    );
    assert_eq!(ro.head().to_string(), format!("{}:{}", all.len(), chain_head.trim()));
    let big = ro.read_stream("complaint-big", 1, 10).await.unwrap();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].payload.len(), 5000);

    // A writable copy, with its index rebuilt from the segments, gives the same and grows.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.join("log")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "index.pidx" {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    let log = FileLog::open(copy.path(), FileLogOptions::default()).unwrap();
    assert!(matches!(log.open_report().index, IndexSource::Rebuilt { .. }));
    assert_fixture_events(&log.read_all(1, 10_000).await.unwrap(), version);
    let retry = log
        .append(
            "réclamation-ü",
            ExpectedVersion::Exact(0),
            vec![ev("cmd-unicode", 1, 0)],
        )
        .await
        .unwrap();
    assert!(
        retry.deduplicated,
        "a command of the fixture is known after the rebuild"
    );
    let r = log
        .append("complaint-000", ExpectedVersion::Any, vec![ev("new", 1, 1)])
        .await
        .unwrap();
    assert_eq!(r.first_position, all.len() as u64 + 1);
    log.close().await.unwrap();
    (copy, all.len() as u64)
}

#[tokio::test]
async fn version_1_fixture_keeps_opening() {
    let dir = fixture_dir(1);
    assert!(
        !dir.join("log").join(ANCHOR_FILE).exists(),
        "version 1 had no head anchor"
    );
    assert!(segment_paths(&dir.join("log")).iter().all(|p| segment_version(p) == 1));
    let (copy, events) = check_fixture(&dir, 1).await;
    // The first append after the upgrade starts a segment of today's version (a version-1
    // segment is never appended to), and the log is anchored from then on.
    let segments = segment_paths(copy.path());
    let newest = segments.last().unwrap();
    assert_eq!(segment_version(newest), format::FORMAT_VERSION);
    assert!(newest.ends_with(format!("seg-{:020}.plog", events + 1)));
    assert!(segments[..segments.len() - 1].iter().all(|p| segment_version(p) == 1));
    let log = FileLog::open(copy.path(), FileLogOptions::default()).unwrap();
    let anchor = log.open_report().anchor.expect("anchored after the upgrade");
    assert_eq!(anchor.head_position, events + 1);
    assert_eq!(log.verify().await.unwrap().events, events + 1);
}

#[tokio::test]
async fn version_2_fixture_keeps_opening() {
    let dir = fixture_dir(2);
    assert!(segment_paths(&dir.join("log")).iter().all(|p| segment_version(p) == 2));
    let ro = FileLog::open(
        dir.join("log"),
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    let anchor = ro.open_report().anchor.expect("a version-2 log is anchored");
    assert_eq!(anchor.head_position, ro.head().position, "anchored on close");
    let (copy, events) = check_fixture(&dir, 2).await;
    // Version 3 changed the batches: the first append after the upgrade starts a segment of
    // today's version (a version-2 segment is never appended to).
    let segments = segment_paths(copy.path());
    let newest = segments.last().unwrap();
    assert_eq!(segment_version(newest), format::FORMAT_VERSION);
    assert!(newest.ends_with(format!("seg-{:020}.plog", events + 1)));
    assert!(segments[..segments.len() - 1].iter().all(|p| segment_version(p) == 2));
    let log = FileLog::open(copy.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.open_report().anchor.unwrap().head_position, events + 1);
    assert_eq!(log.verify().await.unwrap().events, events + 1);
}

#[tokio::test]
async fn version_3_fixture_keeps_opening() {
    let dir = fixture_dir(3);
    if std::env::var("PLAINT_WRITE_FIXTURES").as_deref() == Ok("1") {
        write_fixture(&dir, 3).await;
    }
    assert!(segment_paths(&dir.join("log")).iter().all(|p| segment_version(p) == 3));
    let ro = FileLog::open(
        dir.join("log"),
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    let anchor = ro.open_report().anchor.expect("a version-3 log is anchored");
    assert_eq!(anchor.head_position, ro.head().position, "anchored on close");
    let (copy, events) = check_fixture(&dir, 3).await;
    let log = FileLog::open(copy.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.open_report().anchor.unwrap().head_position, events + 1);
    // Today's version is appended to in place.
    assert_eq!(segment_paths(copy.path()).len(), segment_paths(&dir.join("log")).len());
}

//! File-log behaviours beyond the conformance suite: the lock, read-only opening, reopening
//! from the checkpoint or by rebuild, segment rolling, limits of the options.

use plaint_store::conformance::sample_event;
use plaint_store::file::{
    CommitParts, Durability, FileLog, FileLogOptions, IndexSource, WriterStats, COMMIT_PART_BOUNDS_MICROS,
    SEGMENT_SIZE_MIN,
};
use plaint_store::{EventStore, ExpectedVersion, RecordedEvent, StoreError};

fn small_segments() -> FileLogOptions {
    FileLogOptions {
        segment_size_max: SEGMENT_SIZE_MIN,
        ..FileLogOptions::default()
    }
}

async fn fill(log: &FileLog, appends: u32) {
    for i in 0..appends {
        let events = (0..(i % 3 + 1)).map(|k| sample_event(&format!("cmd-{i}"), k)).collect();
        log.append(&format!("stream-{}", i % 5), ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
}

async fn everything(log: &FileLog) -> Vec<RecordedEvent> {
    log.read_all(1, 100_000).await.unwrap()
}

fn segment_count(dir: &std::path::Path) -> usize {
    segment_files(dir).len()
}

#[tokio::test]
async fn second_writer_gets_locked_and_read_only_open_works() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    fill(&log, 10).await;
    match FileLog::open(dir.path(), FileLogOptions::default()) {
        Err(StoreError::Locked { path, lock, holder }) => {
            assert!(lock.ends_with("LOCK"), "lock file named: {lock}");
            // The error names the real holder: this process, by pid and command line.
            assert!(
                holder.starts_with(&format!("pid {} (", std::process::id())),
                "holder named: {holder}"
            );
            assert!(path.contains(dir.path().file_name().unwrap().to_str().unwrap()));
        }
        other => panic!("expected Locked, got {:?}", other.map(|_| ())),
    }
    let ro = FileLog::open(
        dir.path(),
        FileLogOptions {
            read_only: true,
            ..FileLogOptions::default()
        },
    )
    .unwrap();
    assert_eq!(everything(&ro).await, everything(&log).await);
    assert!(matches!(
        ro.append("s", ExpectedVersion::Any, vec![sample_event("c", 0)]).await,
        Err(StoreError::ReadOnly { .. })
    ));
    let head = log.head_position().await.unwrap();
    assert_eq!(ro.verify().await.unwrap().events, head);
    log.close().await.unwrap();
    // The lock is released on close.
    let again = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(again.head_position().await.unwrap(), head);
}

#[tokio::test]
async fn reopen_uses_the_checkpoint_and_a_rebuild_gives_the_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), small_segments()).unwrap();
    assert_eq!(log.open_report().index, IndexSource::New);
    fill(&log, 60).await;
    let before = everything(&log).await;
    let report_before = log.verify().await.unwrap();
    log.close().await.unwrap();
    assert!(segment_count(dir.path()) >= 3, "small segments roll");

    let log = FileLog::open(dir.path(), small_segments()).unwrap();
    assert_eq!(log.open_report().index, IndexSource::Checkpoint { tail_events: 0 });
    assert_eq!(everything(&log).await, before);
    assert_eq!(log.verify().await.unwrap(), report_before);
    // The command index survived: a retry is deduplicated.
    let retry = log
        .append("stream-0", ExpectedVersion::Any, vec![sample_event("cmd-0", 0)])
        .await
        .unwrap();
    assert!(retry.deduplicated);
    assert_eq!(retry.first_position, 1);
    log.close().await.unwrap();

    std::fs::remove_file(dir.path().join("index.pidx")).unwrap();
    let log = FileLog::open(dir.path(), small_segments()).unwrap();
    assert!(
        matches!(log.open_report().index, IndexSource::Rebuilt { .. }),
        "{:?}",
        log.open_report()
    );
    assert_eq!(everything(&log).await, before);
    for s in 0..5 {
        let name = format!("stream-{s}");
        let from_log: Vec<u64> = before.iter().filter(|e| e.stream == name).map(|e| e.position).collect();
        let read: Vec<u64> = log
            .read_stream(&name, 1, 1000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(read, from_log, "stream {name} after rebuild");
    }
    let retry = log
        .append("stream-3", ExpectedVersion::Any, vec![sample_event("cmd-3", 0)])
        .await
        .unwrap();
    assert!(retry.deduplicated, "command index rebuilt from the log");
}

/// Retries every command of `stream` (`commands` of them, `cmd-{i}` with `i % 2 + 1` events,
/// first positions in `firsts`): each is deduplicated to its original events.
async fn retry_all(log: &FileLog, firsts: &[u64]) {
    for (i, &first) in firsts.iter().enumerate() {
        let events = (0..(i as u32 % 2 + 1))
            .map(|k| sample_event(&format!("cmd-{i}"), k))
            .collect();
        let retry = log.append("long", ExpectedVersion::Any, events).await.unwrap();
        assert!(retry.deduplicated, "command {i} of {}", firsts.len());
        assert_eq!(retry.first_position, first, "command {i}");
    }
}

/// A stream long enough to keep a set of its command hashes (`COMMAND_SET_MIN` = 32) finds
/// every earlier command: live, after a reopen from the checkpoint (cold entry, then hot) and
/// after a rebuild; a new command is not taken for an old one.
#[tokio::test]
async fn every_command_of_a_long_stream_is_deduplicated_live_reopened_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let mut firsts = Vec::new();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    for i in 0..100u32 {
        let events = (0..(i % 2 + 1)).map(|k| sample_event(&format!("cmd-{i}"), k)).collect();
        let r = log.append("long", ExpectedVersion::Any, events).await.unwrap();
        assert!(!r.deduplicated);
        firsts.push(r.first_position);
    }
    retry_all(&log, &firsts).await;
    log.close().await.unwrap();
    for rebuild in [false, true] {
        if rebuild {
            std::fs::remove_file(dir.path().join("index.pidx")).unwrap();
        }
        let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
        // A retry while the entry is still as loaded, then a new command (the entry changes),
        // then every retry again.
        retry_all(&log, &firsts[..1]).await;
        let i = firsts.len();
        let events = (0..(i as u32 % 2 + 1))
            .map(|k| sample_event(&format!("cmd-{i}"), k))
            .collect();
        let r = log.append("long", ExpectedVersion::Any, events).await.unwrap();
        assert!(!r.deduplicated, "a new command id is new (rebuild: {rebuild})");
        firsts.push(r.first_position);
        retry_all(&log, &firsts).await;
        log.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_damaged_checkpoint_is_rebuilt_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    fill(&log, 20).await;
    let before = everything(&log).await;
    log.close().await.unwrap();
    let path = dir.path().join("index.pidx");
    let good = std::fs::read(&path).unwrap();

    // Damage in part A (head, chain, segments): the whole index is rebuilt at open.
    let mut bytes = good.clone();
    bytes[30] ^= 0x10;
    std::fs::write(&path, bytes).unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    match &log.open_report().index {
        IndexSource::Rebuilt { reason } => assert!(reason.contains("CRC"), "{reason}"),
        other => panic!("expected a rebuild, got {other:?}"),
    }
    assert_eq!(everything(&log).await, before);
    log.close().await.unwrap();

    // Damage in part B (streams): open uses part A, the streams are rebuilt from the segments.
    let mut bytes = good.clone();
    let near_end = bytes.len() - 10;
    bytes[near_end] ^= 0x10;
    std::fs::write(&path, bytes).unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert!(
        matches!(log.open_report().index, IndexSource::Checkpoint { .. }),
        "{:?}",
        log.open_report()
    );
    log.wait_index_ready().unwrap();
    let reason = log.stream_index_rebuilt().expect("streams rebuilt");
    assert!(reason.contains("CRC"), "{reason}");
    assert_eq!(everything(&log).await, before);
    for s in 0..5 {
        let name = format!("stream-{s}");
        let expected: Vec<_> = before.iter().filter(|e| e.stream == name).cloned().collect();
        assert_eq!(log.read_stream(&name, 1, 1000).await.unwrap(), expected, "{name}");
    }
    let retry = log
        .append("stream-1", ExpectedVersion::Any, vec![sample_event("cmd-1", 0)])
        .await
        .unwrap();
    assert!(retry.deduplicated);
}

/// Where part C (the persisted stream lookup table, layout 3) starts and ends in `index.pidx`.
fn part_c_span(bytes: &[u8]) -> (usize, usize) {
    let a_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let start = a_len + 4;
    let slots = u64::from_le_bytes(bytes[start + 16..start + 24].try_into().unwrap()) as usize;
    (start, start + 24 + slots * 8 + 4)
}

#[tokio::test]
async fn a_damaged_stream_lookup_table_rebuilds_the_streams_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    fill(&log, 20).await;
    let before = everything(&log).await;
    log.close().await.unwrap();
    let path = dir.path().join("index.pidx");
    let good = std::fs::read(&path).unwrap();
    assert_eq!(
        u32::from_le_bytes(good[8..12].try_into().unwrap()),
        3,
        "checkpoint layout 3"
    );
    let (c_start, c_end) = part_c_span(&good);
    assert!(c_end < good.len(), "part B follows part C");

    // Undamaged: the streams load from the checkpoint, table included.
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    log.wait_index_ready().unwrap();
    assert_eq!(log.stream_index_rebuilt(), None);
    log.close().await.unwrap();

    for at in [c_start + 3, c_start + 30, c_end - 6] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x20;
        std::fs::write(&path, bytes).unwrap();
        let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
        assert!(
            matches!(log.open_report().index, IndexSource::Checkpoint { .. }),
            "part A still serves the open: {:?}",
            log.open_report()
        );
        log.wait_index_ready().unwrap();
        let reason = log.stream_index_rebuilt().expect("streams rebuilt from the log");
        assert!(reason.contains("part C"), "byte {at}: {reason}");
        for s in 0..5 {
            let name = format!("stream-{s}");
            let expected: Vec<_> = before.iter().filter(|e| e.stream == name).cloned().collect();
            assert_eq!(log.read_stream(&name, 1, 1000).await.unwrap(), expected, "{name}");
            assert_eq!(log.stream_version(&name).await.unwrap(), expected.len() as u64);
        }
        let retry = log
            .append("stream-2", ExpectedVersion::Any, vec![sample_event("cmd-2", 0)])
            .await
            .unwrap();
        assert!(retry.deduplicated, "command index rebuilt from the log");
        // The log is closed without appending, so the next round sees the same damage.
        drop(log);
    }
}

#[tokio::test]
async fn a_layout_2_checkpoint_without_a_lookup_table_still_opens_from_its_parts() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    fill(&log, 20).await;
    let before = everything(&log).await;
    log.close().await.unwrap();
    let path = dir.path().join("index.pidx");
    let good = std::fs::read(&path).unwrap();
    // Layout 2 is layout 3 without part C, with version 2 under part A's CRC.
    let (c_start, c_end) = part_c_span(&good);
    let a_len = c_start - 4;
    let mut old = good[..a_len].to_vec();
    old[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32c::crc32c(&old);
    old.extend_from_slice(&crc.to_le_bytes());
    old.extend_from_slice(&good[c_end..]);
    std::fs::write(&path, old).unwrap();

    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert!(
        matches!(log.open_report().index, IndexSource::Checkpoint { .. }),
        "{:?}",
        log.open_report()
    );
    log.wait_index_ready().unwrap();
    assert_eq!(log.stream_index_rebuilt(), None, "a layout-2 part B is used as it is");
    assert_eq!(everything(&log).await, before);
    let version = before.iter().filter(|e| e.stream == "stream-4").count() as u64;
    assert_eq!(log.stream_version("stream-4").await.unwrap(), version);
    let next = log
        .append(
            "stream-4",
            ExpectedVersion::Exact(version),
            vec![sample_event("cmd-new", 0)],
        )
        .await
        .unwrap();
    assert_eq!(next.stream_version, version + 1);
    log.close().await.unwrap();
    let rewritten = std::fs::read(&path).unwrap();
    assert_eq!(
        u32::from_le_bytes(rewritten[8..12].try_into().unwrap()),
        3,
        "the next checkpoint is written in layout 3"
    );
}

#[tokio::test]
async fn events_after_the_checkpoint_are_read_from_the_log_tail() {
    let dir = tempfile::tempdir().unwrap();
    let options = FileLogOptions {
        checkpoint_every_events: 10,
        ..small_segments()
    };
    let log = FileLog::open(dir.path(), options.clone()).unwrap();
    fill(&log, 9).await; // 18 events: one checkpoint written after the batch crossing 10
    let before = everything(&log).await;
    // Simulate a crash after the last acknowledged append: keep the files as they are now.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    log.close().await.unwrap();
    let log = FileLog::open(copy.path(), options).unwrap();
    match log.open_report().index {
        IndexSource::Checkpoint { tail_events } => assert!(tail_events > 0 && tail_events < 18, "{tail_events}"),
        ref other => panic!("expected checkpoint + tail, got {other:?}"),
    }
    assert_eq!(everything(&log).await, before);
    log.verify().await.unwrap();
}

#[tokio::test]
async fn a_torn_final_batch_is_cut_and_the_log_continues() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    fill(&log, 12).await;
    let before = everything(&log).await;
    log.close().await.unwrap();
    std::fs::remove_file(dir.path().join("index.pidx")).unwrap();
    let seg = dir.path().join("seg-00000000000000000001.plog");
    let good = std::fs::read(&seg).unwrap();
    // A half-written batch: the start of a real batch header, then zeros (an extended tail).
    let mut torn = good.clone();
    torn.extend_from_slice(b"BTCH\x02\x00\x00");
    torn.extend_from_slice(&[0u8; 300]);
    std::fs::write(&seg, &torn).unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.open_report().torn_bytes_cut, 307);
    assert_eq!(std::fs::read(&seg).unwrap(), good, "cut back to the last whole batch");
    assert_eq!(everything(&log).await, before);
    let r = log
        .append("after", ExpectedVersion::Exact(0), vec![sample_event("after", 0)])
        .await
        .unwrap();
    assert_eq!(r.first_position, before.len() as u64 + 1);
    log.close().await.unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.verify().await.unwrap().events, before.len() as u64 + 1);
}

#[tokio::test]
async fn options_out_of_range_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = FileLogOptions {
        segment_size_max: 100,
        ..FileLogOptions::default()
    };
    assert!(matches!(FileLog::open(dir.path(), tiny), Err(StoreError::Limit { .. })));
}

#[tokio::test]
async fn visit_all_sees_the_same_events_as_read_all() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), small_segments()).unwrap();
    fill(&log, 40).await;
    let all = everything(&log).await;
    let mut seen = Vec::new();
    let n = log.visit_all(17, 25, |e| seen.push(e.to_recorded())).unwrap();
    assert_eq!(n, 25);
    assert_eq!(seen, all[16..41].to_vec());
}

/// The writer counts every `fdatasync` once in its latency buckets (what `plaint serve` shows
/// as the `plaint_fsync_seconds` histogram), and the buckets' total time is the sum it keeps.
#[tokio::test]
async fn every_sync_is_counted_in_one_latency_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(log.writer_stats().sync_buckets.iter().sum::<u64>(), 0);
    fill(&log, 12).await;
    let stats = log.writer_stats();
    assert!(stats.syncs >= 1, "{stats:?}");
    assert_eq!(stats.sync_buckets.iter().sum::<u64>(), stats.syncs, "{stats:?}");
    assert_eq!(
        stats.sync_buckets.len(),
        plaint_store::file::SYNC_BUCKET_BOUNDS_MICROS.len() + 1
    );
}

/// Every append the sync role answers is counted once in each part of the commit latency
/// histograms (the refused one too: it waited in its group like the others), and the log
/// threads' role times cover the writes and the syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_append_is_counted_once_in_each_commit_part() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::sync::Arc::new(FileLog::open(dir.path(), FileLogOptions::default()).unwrap());
    let before = log.writer_stats().commit_parts;
    assert!(before.named().iter().all(|(_, b)| b.iter().sum::<u64>() == 0));
    fill(&log, 12).await;
    let refused = log
        .append("stream-0", ExpectedVersion::Exact(1), vec![sample_event("late", 0)])
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
    // Appends in flight together, so that groups of several commands are counted too (per
    // commit, not per group).
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                let event = vec![sample_event(&format!("together-{i}"), 0)];
                log.append(&format!("together-{i}"), ExpectedVersion::Exact(0), event)
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // The sync role counts a group after sending its answers, and its role time after the
    // run: wait until the log threads are done with the last group.
    let stats = settled(&log, |st| {
        part_total(&st.commit_parts.answering) == 53 && st.role_times.syncing_nanos >= st.sync_nanos
    });
    for (name, buckets) in stats.commit_parts.named() {
        // The refused append wrote nothing alone in its group: no `fdatasync`, no `sync` sample.
        let expected = if name == "sync" { 52 } else { 53 };
        assert_eq!(part_total(buckets), expected, "{name}: {stats:?}");
        assert_eq!(buckets.len(), COMMIT_PART_BOUNDS_MICROS.len() + 1);
    }
    let roles = stats.role_times;
    assert!(roles.writing_nanos > 0 && roles.waits >= 14, "{stats:?}");
    assert!(roles.syncing_nanos >= stats.sync_nanos, "{stats:?}");
}

fn part_total(buckets: &[u64]) -> u64 {
    buckets.iter().sum()
}

/// The log's stats once `done` holds for them (re-read for up to 10 s: the log threads count
/// a group's parts and their role times just after answering); the last read if it never does.
fn settled(log: &FileLog, done: impl Fn(&WriterStats) -> bool) -> WriterStats {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stats = log.writer_stats();
        if done(&stats) || std::time::Instant::now() > deadline {
            return stats;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Per part, the commits counted since `before` with more than 25 ms in that part.
fn over_25ms(before: &CommitParts, after: &CommitParts) -> Vec<(&'static str, u64)> {
    let first_over = COMMIT_PART_BOUNDS_MICROS.iter().position(|&b| b == 25_000).unwrap() + 1;
    before
        .named()
        .iter()
        .zip(after.named())
        .map(|((name, b), (_, a))| (*name, part_total(&a[first_over..]) - part_total(&b[first_over..])))
        .collect()
}

/// Each part measures its own stretch of a commit: a sync held 30 ms is the held commit's
/// `sync` part (not its `writing`, `queued` or `answering`), and the `behind_sync` part of an
/// append written during the hold; appends failed by a failed sync move no part.
#[test]
fn a_held_sync_lands_in_the_sync_part_and_behind_it_and_a_failed_one_in_none() {
    use plaint_store::io::SimIo;
    use std::sync::Arc;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = SimIo::new(13);
    let options = FileLogOptions {
        durability: Durability::Always,
        anchor_interval_ms: 60_000,
        ..FileLogOptions::default()
    };
    let log = Arc::new(FileLog::open_with_io(Arc::new(sim.clone()), "/sim/log", options).unwrap());
    let append = |stream: &str, command: &str| {
        let log = log.clone();
        let (stream, event) = (stream.to_string(), sample_event(command, 0));
        rt.spawn(async move { log.append(&stream, ExpectedVersion::Any, vec![event]).await })
    };
    rt.block_on(append("s-0", "setup")).unwrap().unwrap();
    let before = settled(&log, |st| part_total(&st.commit_parts.answering) == 1).commit_parts;

    sim.hold_syncs();
    let held = append("s-1", "held");
    sim.wait_syncs_waiting(1);
    let ops = sim.ops();
    let behind = append("s-2", "behind");
    sim.wait_ops(ops + 1); // its group written while the first one's sync is held
    std::thread::sleep(std::time::Duration::from_millis(30));
    sim.release_syncs(1);
    rt.block_on(held).unwrap().unwrap();
    sim.open_sync_gate();
    rt.block_on(behind).unwrap().unwrap();
    let after = settled(&log, |st| part_total(&st.commit_parts.answering) == 3).commit_parts;
    for (name, buckets) in after.named() {
        assert_eq!(part_total(buckets), 3, "{name}: {after:?}");
    }
    let slow = over_25ms(&before, &after);
    let slow_in = |part: &str| slow.iter().find(|(name, _)| *name == part).unwrap().1;
    assert!(slow_in("sync") >= 1, "the held sync: {slow:?}");
    assert_eq!(
        slow_in("behind_sync"),
        1,
        "the append written during the hold: {slow:?}"
    );
    for part in ["queued", "writing", "answering"] {
        assert_eq!(slow_in(part), 0, "{part}: {slow:?}");
    }

    // A failed sync fails its appends; none of them is counted in any part.
    sim.fail_next_sync(std::path::Path::new("/sim/log/seg-00000000000000000001.plog"));
    let failed = append("s-3", "failed");
    assert!(matches!(rt.block_on(failed).unwrap(), Err(StoreError::Io { .. })));
    let refused = append("s-4", "refused after the failure");
    assert!(rt.block_on(refused).unwrap().is_err());
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(log.writer_stats().commit_parts, after, "failed appends are in no part");
}

/// The segment files of the log in `dir`, in order.
fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    use plaint_store::io::{LogIo, RealIo};
    let mut names = RealIo.list_dir(dir).unwrap();
    names.retain(|n| n.ends_with(".plog"));
    names.sort();
    names.iter().map(|n| dir.join(n)).collect()
}

fn last_byte(path: &std::path::Path) -> u8 {
    *std::fs::read(path).unwrap().last().unwrap()
}

/// With `Durability::Always` the open segment's tail is pre-written with zeros ahead of the
/// appends (positioned writes on the real disk), extended in the middle of a segment when a
/// batch would not fit, cut at every roll (a finished segment holds exactly its batches, its
/// last byte the end marker `Z`) and at close; a read-only open of the live log reads the
/// zeros as the clean end.
#[tokio::test]
async fn the_tail_is_pre_written_ahead_of_the_appends_and_cut_at_roll_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let options = FileLogOptions {
        segment_size_max: 2 * SEGMENT_SIZE_MIN,
        prewrite_bytes: 1024,
        ..FileLogOptions::default()
    };
    let log = FileLog::open(dir.path(), options.clone()).unwrap();
    fill(&log, 300).await;
    let all = everything(&log).await;
    let stats = log.writer_stats();
    let segs = segment_files(dir.path());
    assert!(segs.len() >= 3, "{} segments", segs.len());
    assert!(
        stats.prewrites > segs.len() as u64,
        "extensions in the middle of segments too: {stats:?}"
    );
    assert!(stats.prewrite_bytes >= 1024 * stats.prewrites, "{stats:?}");
    let (last, finished) = segs.split_last().unwrap();
    for s in finished {
        assert_eq!(last_byte(s), b'Z', "{} was cut to its batches at the roll", s.display());
    }
    assert_eq!(last_byte(last), 0, "the open segment has pre-written zeros");
    let ro = FileLog::open(
        dir.path(),
        FileLogOptions {
            read_only: true,
            ..options.clone()
        },
    )
    .unwrap();
    assert_eq!(ro.open_report().torn, None, "a live log's zeros are its clean end");
    assert_eq!(ro.verify().await.unwrap().events, all.len() as u64);
    assert_eq!(log.verify().await.unwrap().events, all.len() as u64);
    log.close().await.unwrap();
    assert_eq!(last_byte(last), b'Z', "cut to its batches at close");
    let log = FileLog::open(dir.path(), options).unwrap();
    assert!(matches!(log.open_report().index, IndexSource::Checkpoint { .. }));
    assert_eq!(everything(&log).await, all);
}

#[tokio::test]
async fn without_pre_writing_or_in_bulk_mode_no_zeros_are_written() {
    let bulk = plaint_store::file::Durability::Bulk {
        sync_every_batches: std::num::NonZeroU32::new(4).unwrap(),
    };
    for options in [
        FileLogOptions {
            prewrite_bytes: 0,
            ..FileLogOptions::default()
        },
        FileLogOptions {
            durability: bulk,
            ..FileLogOptions::default()
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log = FileLog::open(dir.path(), options).unwrap();
        fill(&log, 20).await;
        assert_eq!(log.writer_stats().prewrites, 0);
        assert_eq!(last_byte(&segment_files(dir.path())[0]), b'Z');
    }
}

/// A batch of at least a pre-write chunk (a bulk import's) grows the file itself instead of
/// being written over zeros written and synced just before it; the next smaller batch
/// pre-writes again.
#[tokio::test]
async fn a_batch_of_a_chunk_or_more_grows_the_file_without_zeros_first() {
    let dir = tempfile::tempdir().unwrap();
    let options = FileLogOptions {
        prewrite_bytes: 1024,
        ..FileLogOptions::default()
    };
    let log = FileLog::open(dir.path(), options).unwrap();
    let big: Vec<_> = (0..40).map(|k| sample_event("bulk-1", k)).collect();
    log.append("stream-big", ExpectedVersion::Exact(0), big).await.unwrap();
    let seg = segment_files(dir.path()).remove(0);
    assert!(
        std::fs::metadata(&seg).unwrap().len() > 1024,
        "the batch is a chunk or more"
    );
    assert_eq!(log.writer_stats().prewrites, 0, "{:?}", log.writer_stats());
    assert_eq!(last_byte(&seg), b'Z', "the file ends with the batch");
    log.append(
        "stream-small",
        ExpectedVersion::Exact(0),
        vec![sample_event("small-1", 0)],
    )
    .await
    .unwrap();
    assert_eq!(log.writer_stats().prewrites, 1, "{:?}", log.writer_stats());
    assert_eq!(last_byte(&seg), 0, "zeros ahead of the small batches");
    let all = everything(&log).await;
    assert_eq!(all.len(), 41);
    log.close().await.unwrap();
    let log = FileLog::open(dir.path(), FileLogOptions::default()).unwrap();
    assert_eq!(everything(&log).await, all);
}

#[tokio::test]
async fn a_pre_write_chunk_beyond_the_limit_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let big = FileLogOptions {
        prewrite_bytes: plaint_store::file::PREWRITE_BYTES_MAX + 1,
        ..FileLogOptions::default()
    };
    assert!(matches!(
        FileLog::open(dir.path(), big),
        Err(StoreError::Limit { what, .. }) if what == "prewrite_bytes"
    ));
}

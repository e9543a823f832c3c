//! An older checkpoint format is rebuilt, never misread (issue 13, wave 11): the checkpoints the
//! wave-7 binary wrote (format 6, `tests/fixtures/wave7-format6`) are refused as another format,
//! naming the file; discarded (what the engine does with checkpoints that do not load) and
//! rebuilt from their log, the projections answer what the log says — what a fold of the log
//! event by event answers, each ticket's receipt the one its `Received` event holds — and the
//! new checkpoints load back to the same state. Those checkpoints are byte for byte the format-7
//! fixture (`tests/fixtures/wave11-format7`: the five projections' files and the shared
//! record's), which loads to the same state (review of wave 11, finding 5).

mod common;

use common::file_log;
use plaint_domain::event::EventData;
use plaint_projections::checkpoint::{CheckpointError, CHECKPOINT_FORMAT_VERSION};
use plaint_projections::runner::{ProjectionKind, ProjectionSet, RebuildTarget, Runner, RunnerError};
use plaint_projections::shared::SHARED_NAME;
use plaint_store::EventStore;
use std::path::{Path, PathBuf};
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wave7-format6")
}

/// Copies every file of `from` into `to` (a store or checkpoint directory; tests never write
/// into the fixture).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

/// The checkpoint files of every projection in `dir`, by file name, and (`Record::Included`)
/// the set's shared record's.
fn checkpoint_bytes(dir: &Path, record: Record) -> Vec<(String, Vec<u8>)> {
    let shared = (record == Record::Included).then_some(SHARED_NAME);
    ProjectionKind::ALL
        .iter()
        .map(|k| k.name())
        .chain(shared)
        .map(|name| {
            let name = format!("{name}.checkpoint");
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect()
}

/// Whether a checkpoint directory's listing includes the set's shared record (format 7 on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// Format 6: five projection files.
    Absent,
    /// Format 7: the five and `receipts.checkpoint`.
    Included,
}

#[test]
fn wave_7_checkpoints_are_refused_and_rebuilt_to_the_answers_of_their_log() {
    assert_eq!(CHECKPOINT_FORMAT_VERSION, 7, "a new format needs this test adapted");
    let tmp = tempfile::tempdir().unwrap();
    let (log_dir, old) = (tmp.path().join("log"), tmp.path().join("old"));
    copy_dir(&fixture().join("log"), &log_dir);
    copy_dir(&fixture().join("projections"), &old);
    let wave7 = checkpoint_bytes(&old, Record::Absent);
    assert_eq!(wave7.len(), ProjectionKind::ALL.len());

    // Format 6: refused as another format, naming the file, never decoded into this layout.
    match Runner::open(&old, ProjectionSet::default()) {
        Err(RunnerError::Checkpoint(CheckpointError::Format { path, found: 6 })) => {
            assert!(path.starts_with(&old), "{path:?}");
        }
        Err(e) => panic!("refused, but not as an older format: {e}"),
        Ok(_) => panic!("format-6 checkpoints loaded"),
    }

    // What the engine does with checkpoints that do not load: discard them, rebuild the log.
    std::fs::remove_dir_all(&old).unwrap();
    let log = file_log(&log_dir);
    let mut rebuilt = Runner::open(&old, ProjectionSet::default()).unwrap();
    rebuilt
        .rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {})
        .unwrap();
    assert!(old.join(format!("{SHARED_NAME}.checkpoint")).exists());

    // The answers of the log: a fold of it event by event, and each receipt its event's.
    let events = read_log(&log);
    assert_eq!(events.len(), 187);
    let mut folded = ProjectionSet::default();
    for e in &events {
        folded.apply(e);
    }
    let set = rebuilt.projections();
    assert_eq!(set.serialised(), folded.serialised());
    assert_eq!(
        set.tickets.state.views().collect::<Vec<_>>(),
        folded.tickets.state.views().collect::<Vec<_>>()
    );
    let mut seen = std::collections::HashSet::new();
    for e in &events {
        let EventData::Received(r) = &e.data else { continue };
        if seen.insert(e.meta.complaint_id.clone()) {
            let view = set.tickets.state.view(&e.meta.complaint_id).unwrap();
            let receipt = (view.received_at, view.contact_at, view.channel);
            assert_eq!(receipt, (e.meta.occurred_at, r.contact_at, r.channel));
        }
    }
    assert_eq!(seen.len(), 20);

    // The new checkpoints load back (every check) to the same state, and say format 7.
    let again = Runner::open(&old, ProjectionSet::default()).expect("format-7 checkpoints load");
    assert_eq!(
        (again.projections().low_position(), again.projections().high_position()),
        (187, 187)
    );
    assert_eq!(again.projections().serialised(), set.serialised());
    assert!(again.projections().lookups_shared());
    let written = checkpoint_bytes(&old, Record::Included);
    assert_eq!(written.len(), ProjectionKind::ALL.len() + 1);
    for (name, bytes) in &written {
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 7, "{name}");
    }

    // Byte for byte the format-7 fixture (review of wave 11, finding 5): a change of these
    // bytes without a format bump fails here. The fixture loads, every check, to the same state.
    let wave11 = checkpoint_bytes(&format7(), Record::Included);
    for ((name, bytes), (fixture_name, fixture_bytes)) in written.iter().zip(&wave11) {
        assert_eq!(name, fixture_name);
        assert!(bytes == fixture_bytes, "{name} differs from the format-7 fixture's");
    }
    let copy = tmp.path().join("format7");
    copy_dir(&format7(), &copy);
    let fixture_set = Runner::open(&copy, ProjectionSet::default()).expect("the format-7 fixture loads");
    assert_eq!(fixture_set.projections().serialised(), set.serialised());
    assert_eq!(fixture_set.projections().shared_serialised(), set.shared_serialised());
}

/// The format-7 checkpoints this code writes for the wave-7 log (`tests/fixtures/wave11-format7`).
fn format7() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wave11-format7/projections")
}

/// Every event of the file log, in order.
fn read_log(log: &plaint_store::file::FileLog) -> Vec<plaint_domain::event::Event> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let recorded = rt.block_on(log.read_all(1, 10_000)).unwrap();
    recorded
        .into_iter()
        .map(|r| plaint_projections::from_recorded_owned(r).unwrap())
        .collect()
}

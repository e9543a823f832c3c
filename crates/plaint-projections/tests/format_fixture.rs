//! The checkpoint format is unchanged by the id column (issue 13, wave 8): checkpoints written
//! by the wave-7 binary (format 6, `tests/fixtures/wave7-format6`) load with every check and are,
//! byte for byte, what this code writes after rebuilding the same log.

mod common;

use common::file_log;
use plaint_projections::checkpoint::CHECKPOINT_FORMAT_VERSION;
use plaint_projections::runner::{ProjectionKind, ProjectionSet, RebuildTarget, Runner};
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

fn checkpoint_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ProjectionKind::ALL
        .iter()
        .map(|k| {
            let name = format!("{}.checkpoint", k.name());
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect()
}

#[test]
fn wave_7_checkpoints_load_and_equal_a_rebuild_of_their_log_byte_for_byte() {
    assert_eq!(CHECKPOINT_FORMAT_VERSION, 6, "a new format needs a fixture of its own");
    let tmp = tempfile::tempdir().unwrap();
    let (log_dir, old, new) = (tmp.path().join("log"), tmp.path().join("old"), tmp.path().join("new"));
    copy_dir(&fixture().join("log"), &log_dir);
    copy_dir(&fixture().join("projections"), &old);
    let wave7 = checkpoint_bytes(&old);

    // Every load check (hash, format, each projection's after_load, the numbering prefix).
    let loaded = Runner::open(&old, ProjectionSet::default()).expect("wave-7 checkpoints load");
    let set = loaded.projections();
    assert_eq!((set.low_position(), set.high_position()), (187, 187));
    assert_eq!(set.tickets.state.ids().count(), 20);
    assert!(
        set.lookups_shared(),
        "loaded projections look up in the set's numbering"
    );

    // This code's rebuild of the same log, checkpointed.
    let log = file_log(&log_dir);
    let mut rebuilt = Runner::open(&new, ProjectionSet::default()).unwrap();
    rebuilt
        .rebuild_file_log(&log, RebuildTarget::Head, &mut |_| {})
        .unwrap();
    rebuilt.projections().save(&new).unwrap();
    assert_eq!(rebuilt.projections().serialised(), set.serialised());
    for ((name, before), (_, now)) in wave7.iter().zip(checkpoint_bytes(&new)) {
        assert!(*before == now, "{name}: this code writes other bytes than wave 7 did");
    }
}

//! CI replay of the committed fuzz corpus (`fuzz/corpus/<target>/`, docs/fuzzing.md) on stable:
//! every file goes through the same harness its cargo-fuzz target calls. A harness panics on a
//! bug, so a crash input saved in the corpus keeps its fix tested.

use std::path::Path;

fn replay(target: &str) {
    let (_, harness) = plaint_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no target {target}"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "{}: only {} inputs: the corpus is missing",
        dir.display(),
        files.len()
    );
    for path in files {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(outcome.is_ok(), "{target}: input {} fails its harness", path.display());
    }
}

#[test]
fn batch_decoder_corpus() {
    replay("batch_decoder");
}

#[test]
fn head_anchor_corpus() {
    replay("head_anchor");
}

#[test]
fn segment_recovery_corpus() {
    replay("segment_recovery");
}

#[test]
fn stream_index_corpus() {
    replay("stream_index");
}

#[test]
fn event_codec_corpus() {
    replay("event_codec");
}

#[test]
fn command_json_corpus() {
    replay("command_json");
}

#[test]
fn import_csv_corpus() {
    replay("import_csv");
}

#[test]
fn import_open311_corpus() {
    replay("import_open311");
}

#[test]
fn policy_toml_corpus() {
    replay("policy_toml");
}

#[test]
fn checkpoint_state_corpus() {
    replay("checkpoint_state");
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in plaint_fuzz::TARGETS {
        let file = root.join("fuzz_targets").join(format!("{name}.rs"));
        assert!(file.exists(), "{} missing", file.display());
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks {name}"
        );
    }
}

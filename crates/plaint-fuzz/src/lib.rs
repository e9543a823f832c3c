//! The fuzz harnesses of plaint (`docs/fuzzing.md`).
//!
//! One function per fuzz target, each taking the fuzzer's bytes. A harness returns normally when
//! the input was handled correctly (accepted or rejected with an error) and panics when it finds
//! a bug: a panic inside the code under test, or a broken property (a decoded value that does not
//! encode back the same, damage read as if it were data).
//!
//! The cargo-fuzz targets under `fuzz/fuzz_targets/` (nightly, libFuzzer) call these functions;
//! so does `tests/corpus_replay.rs`, which feeds every file of the committed corpus
//! (`fuzz/corpus/<target>/`) through them on stable in the normal `cargo test --workspace`.

pub mod anchor;
pub mod batch;
pub mod checkpoint;
pub mod codec;
pub mod command;
pub mod import;
pub mod policy;
pub mod segment;
pub mod stream_index;

/// A harness: takes the fuzzer's bytes, panics on a bug.
pub type Harness = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/` and the file under
/// `fuzz/fuzz_targets/`) and its harness.
pub const TARGETS: [(&str, Harness); 10] = [
    ("batch_decoder", batch::batch_decoder),
    ("head_anchor", anchor::head_anchor),
    ("segment_recovery", segment::segment_recovery),
    ("stream_index", stream_index::stream_index),
    ("event_codec", codec::event_codec),
    ("command_json", command::command_json),
    ("import_csv", import::import_csv),
    ("import_open311", import::import_open311),
    ("policy_toml", policy::policy_toml),
    ("checkpoint_state", checkpoint::checkpoint_state),
];

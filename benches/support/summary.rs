//! The contract between the benchmarks and `bench_summary` (`just bench-summary`).
//!
//! A bench that measures a row of the summary calls [`record`] with the row's metric key and
//! value. When the bench runs on its own nothing happens; when `bench_summary` runs it, the
//! environment variable `PLAINT_BENCH_SUMMARY_OUT` names a file and every figure is appended
//! to it as one `key<TAB>value` line. `bench_summary` knows only the keys and the targets, so
//! whoever owns a bench can change how a figure is measured without touching the summary.
//!
//! Included by each bench with `#[path = "support/summary.rs"] mod summary;`.

#![allow(dead_code)]

use std::io::Write;

/// The environment variable naming the file the figures are appended to.
pub const OUT_VAR: &str = "PLAINT_BENCH_SUMMARY_OUT";

/// Appends `key<TAB>value` to the summary file when one is set; panics (naming the file) if it
/// cannot be written, because a summary with a silently missing figure would mislead.
pub fn record(key: &str, value: f64) {
    if let Some(path) = std::env::var_os(OUT_VAR) {
        record_to(std::path::Path::new(&path), key, value);
    }
}

/// Appends `key<TAB>value` to the summary file `path`.
pub fn record_to(path: &std::path::Path, key: &str, value: f64) {
    assert!(
        !key.contains(['\t', '\n']),
        "summary key {key:?} must not contain a tab or a newline"
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("summary file {}: {e}", path.display()));
    writeln!(file, "{key}\t{value}").unwrap_or_else(|e| panic!("summary file {}: {e}", path.display()));
}

/// Whether the bench runs under `bench_summary` (a bench may then pick shorter defaults).
pub fn active() -> bool {
    std::env::var_os(OUT_VAR).is_some()
}

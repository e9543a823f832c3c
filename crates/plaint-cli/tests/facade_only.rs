//! Issue 11 item 7: the CLI is a client of the facade only. Its manifest depends on `plaint` and
//! on no other plaint crate, and its sources name no other plaint crate, no whole-crate
//! re-export of the facade (`plaint::store::…`), no projection internals and no store layout.
//!
//! One exception, named here so it cannot grow: `src/cmd/copy.rs` still reaches the store
//! directly until `plaint copy` is rewritten on the engine; the manifest keeps `plaint-store`
//! for it alone.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `[dependencies]` table's crate names.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['.', '=', ' ']).next().unwrap_or_default();
            names.push(name.to_owned());
        }
    }
    names
}

#[test]
fn cli_is_a_client_of_the_facade_only() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).expect("read Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(
        deps.iter().any(|d| d == "plaint"),
        "the CLI depends on the facade: {deps:?}"
    );
    // `plaint serve` runs the HTTP server of plaint-serve, itself a client of the facade only.
    let plaint_crates: Vec<&String> = deps
        .iter()
        .filter(|d| d.starts_with("plaint-") && *d != "plaint-serve")
        .collect();
    assert!(
        plaint_crates.is_empty(),
        "the CLI depends on no plaint crate but the facade: {plaint_crates:?}"
    );

    let mut files = Vec::new();
    sources(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 10, "found the CLI's sources: {files:?}");
    let forbidden = [
        "plaint_domain",
        "plaint_projections",
        "plaint_import",
        "plaint::domain",
        "plaint::projections",
        "plaint::store",
        "with_projections",
        "util::Buckets",
    ];
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let rel = file
            .strip_prefix(crate_dir())
            .expect("inside the crate")
            .to_string_lossy()
            .replace('\\', "/");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in forbidden {
                if code.contains(word) {
                    found.push(format!("{rel}:{}: {word}", n + 1));
                }
            }
            let store_access = code.contains("plaint_store") || code.contains(".store()");
            if store_access {
                found.push(format!("{rel}:{}: reaches the store directly", n + 1));
            }
            // The store layout (where checkpoints and keys live) is the facade's business.
            if code.contains("join(\"projections\")") {
                found.push(format!("{rel}:{}: hard-codes the checkpoint directory", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the CLI must use the facade's API only:\n{}",
        found.join("\n")
    );
}

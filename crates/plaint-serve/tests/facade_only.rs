//! The server is a client of the facade only, like the CLI (docs/ARCHITECTURE.md): its
//! manifest names no plaint crate but `plaint`, and its sources reach no crate below it.

use std::path::PathBuf;

#[test]
fn the_server_is_a_client_of_the_facade_only() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps {
            let name = line.split(['.', '=', ' ']).next().unwrap_or_default();
            assert!(!name.starts_with("plaint-"), "plaint-serve depends on {name}");
        }
    }
    let forbidden = [
        "plaint_domain",
        "plaint_store",
        "plaint_projections",
        "plaint::domain",
        "plaint::store",
        "plaint::projections",
    ];
    for entry in std::fs::read_dir(dir.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in forbidden {
                assert!(!code.contains(word), "{}:{}: names {word}", path.display(), n + 1);
            }
        }
    }
}

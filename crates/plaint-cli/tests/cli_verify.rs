//! `plaint verify` on a damaged log: exit 1, naming the first damaged position or byte offset.

mod common;
use common::*;

#[test]
fn a_flipped_byte_is_found_and_named() {
    let env = Env::new();
    env.init();
    let mut lines = Vec::new();
    for n in 0..10 {
        lines.extend(closed_lifecycle(&format!("CMP-V-{n}")));
    }
    import_lines(&env, "v.jsonl", &lines);
    env.plaint(&["verify"]).assert().success();

    // Flip one byte in the middle of the log segment (not the torn-tail region at its end).
    let segment = largest_file(&env.store());
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(&segment, &bytes).unwrap();

    let out = env.plaint(&["verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "damage exits 1: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("offset") || err.contains("position"),
        "names the damaged offset or position: {err}"
    );
    assert!(err.contains("hint:"), "{err}");
    let out = env.plaint(&["verify", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json still prints a report");
    assert_eq!(report["ok"], false);
    assert!(report["damage"].is_string(), "{report}");
}

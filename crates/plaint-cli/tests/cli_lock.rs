//! One writer at a time on a file log: while `plaint import` runs, reads work beside it
//! (read-only) and a second writer is refused with exit 2 naming the lock.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn readers_work_beside_a_running_import_and_a_second_writer_is_refused() {
    let env = Env::new();
    let file = env.workload_file("w.jsonl", 150, 21);
    env.init();
    let mut import = std::process::Command::new(assert_cmd::cargo::cargo_bin("plaint"))
        .arg("--store")
        .arg(env.store())
        // One command per durable batch: slow enough to hold the lock for a while.
        .args([
            "import",
            file.to_str().unwrap(),
            "--progress",
            "jsonl",
            "--batch",
            "1",
            "--now",
            NOW,
        ])
        .env_remove("PLAINT_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn plaint import");
    // Once the first batch is acknowledged, the importer holds the writer lock.
    let mut lines = BufReader::new(import.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a progress line").expect("readable");
    assert!(first.starts_with("{\"committed\":1,"), "{first}");

    let stats = env.plaint(&["stats", "--json"]).output().unwrap();
    let submit = env
        .plaint(&["submit", &lifecycle("CMP-L-1")[0], "--now", NOW])
        .output()
        .unwrap();
    let still_running = import.try_wait().unwrap().is_none();
    import.kill().unwrap();
    import.wait().unwrap();

    assert!(still_running, "the import was still writing while the checks ran");
    assert!(
        stats.status.success(),
        "stats reads beside the writer: {}",
        stderr(&stats)
    );
    let head = serde_json::from_slice::<serde_json::Value>(&stats.stdout).unwrap()["head_position"]
        .as_u64()
        .unwrap();
    assert!(head >= 1, "the reader sees the acknowledged batch");
    assert_eq!(submit.status.code(), Some(1), "{}", stderr(&submit));
    let err = stderr(&submit);
    assert!(err.contains("locked") && err.contains("hint:"), "{err}");
}

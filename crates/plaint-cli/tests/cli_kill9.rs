//! A real `kill -9` of `plaint import --progress jsonl`, at varied moments, 24 times: after each
//! kill the log reopens, every position the importer reported as committed is present, and
//! `verify` passes. The import is then resumed from the start (idempotent) until it completes.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// Kills to perform (the issue asks for at least 20).
const KILLS: u32 = 24;

#[test]
fn kill_9_during_import_loses_no_acknowledged_batch() {
    let env = Env::new();
    let file = env.workload_file("w.jsonl", 150, 9);
    env.init();
    let bin = assert_cmd::cargo::cargo_bin("plaint");
    // A fixed seed so a failure replays; printed so it can be reproduced.
    let seed: u64 = 0x9e37_79b9_7f4a_7c15;
    println!("kill schedule seed {seed:#x}");
    let mut state = seed;
    let mut next_delay_ms = || {
        // xorshift64*: enough to spread the kill moments.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        5 + (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % 300
    };

    let mut acknowledged_max = 0u64;
    let mut killed_mid_import = 0;
    // Kills that landed after at least one batch was acknowledged in that run.
    let mut acknowledged_then_killed = 0;
    for round in 0..KILLS {
        let mut child = std::process::Command::new(&bin)
            .arg("--store")
            .arg(env.store())
            .args([
                "import",
                file.to_str().unwrap(),
                "--progress",
                "jsonl",
                "--batch",
                "20",
                "--now",
                NOW,
            ])
            .env_remove("PLAINT_STORE")
            .env_remove("PLAINT_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn plaint import");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::sleep(Duration::from_millis(next_delay_ms()));
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
            killed_mid_import += 1;
        }
        child.wait().unwrap();
        reader.join().unwrap();
        let mut reported = 0u64;
        for line in rx.try_iter() {
            // A line cut by the kill is not an acknowledgement; only whole lines count.
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            reported = reported.max(v["position"].as_u64().expect("position"));
        }
        acknowledged_max = acknowledged_max.max(reported);
        if !finished && reported > 0 {
            acknowledged_then_killed += 1;
        }

        // Reopen: every acknowledged position is there, and the log verifies.
        let stats = env.stats();
        let head = stats["head_position"].as_u64().unwrap();
        assert!(
            head >= acknowledged_max,
            "round {round}: head {head} is below the acknowledged position {acknowledged_max}"
        );
        assert_eq!(
            stats["events"].as_u64().unwrap(),
            head,
            "round {round}: positions are gapless"
        );
        let out = env.plaint(&["verify"]).output().unwrap();
        assert!(out.status.success(), "round {round}: verify failed: {}", stderr(&out));
    }
    println!("{killed_mid_import} kills mid-import, {acknowledged_then_killed} after an acknowledgement; acknowledged up to {acknowledged_max}");
    assert!(killed_mid_import >= 1, "at least one kill landed mid-import");
    assert!(
        acknowledged_then_killed >= 1,
        "at least one kill landed after an acknowledged batch, so the check had something to check"
    );

    // Finish the import; the result equals a clean import of the same file.
    let out = env
        .plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = Env::new();
    clean.init();
    clean
        .plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .assert()
        .success();
    assert_eq!(env.stats()["events"], clean.stats()["events"]);
    env.plaint(&["verify"]).assert().success();
}

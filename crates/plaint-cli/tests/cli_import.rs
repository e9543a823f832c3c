//! `plaint import`: durable batches, idempotency, `--progress jsonl`, bad lines with and without
//! `--keep-going`.

mod common;
use common::*;
use predicates::prelude::*;

fn progress_lines(out: &std::process::Output) -> Vec<(u64, u64)> {
    stdout(out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("progress line is JSON");
            (v["committed"].as_u64().unwrap(), v["position"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn import_is_idempotent_and_reports_progress_per_durable_batch() {
    let env = Env::new();
    let file = env.workload_file("w.jsonl", 40, 3);
    let commands = std::fs::read_to_string(&file).unwrap().lines().count() as u64;
    assert!(commands > 40);
    env.init();
    let out = env
        .plaint(&[
            "import",
            file.to_str().unwrap(),
            "--progress",
            "jsonl",
            "--batch",
            "25",
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let progress = progress_lines(&out);
    assert_eq!(progress.len() as u64, commands.div_ceil(25), "one line per batch");
    assert_eq!(progress.last().unwrap().0, commands, "all commands committed");
    assert!(
        progress.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "monotonic: {progress:?}"
    );
    let stats = env.stats();
    let events = stats["events"].as_u64().unwrap();
    assert_eq!(stats["head_position"].as_u64().unwrap(), progress.last().unwrap().1);
    assert!(events >= commands, "every command appends at least one event");

    // Second run: adds nothing.
    let out = env
        .plaint(&["import", file.to_str().unwrap(), "--progress", "jsonl", "--now", NOW])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stats()["events"].as_u64().unwrap(), events);
    assert_eq!(progress_lines(&out).last().unwrap(), &(commands, events));
    env.plaint(&["verify"]).assert().success();
}

#[test]
fn a_bad_line_stops_after_committing_everything_before_it() {
    let env = Env::new();
    env.init();
    let mut lines = closed_lifecycle("CMP-I-1");
    lines.push(r#"{"command_id":"x","complaint_id":"CMP-I-2","actor":"a","command":"receive","channel":"fax","description":"d","region":"r"}"#.into());
    lines.extend(closed_lifecycle("CMP-I-3"));
    let file = env.write("bad.jsonl", &lines);
    let out = env
        .plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 9"), "names the line: {err}");
    assert!(err.contains("channel"), "names the field: {err}");
    assert!(err.contains("fax"), "gives the reason: {err}");
    // The 8 commands before it are durable: the first complaint is closed.
    env.plaint(&["history", "CMP-I-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Closed"));
    env.plaint(&["show", "CMP-I-3"]).assert().code(1);

    // Malformed JSON is named the same way.
    let file = env.write(
        "broken.jsonl",
        &[lifecycle("CMP-I-4")[0].clone(), "{\"command_id\": ".into()],
    );
    env.plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 2").and(predicate::str::contains("not valid JSON")));
    env.plaint(&["show", "CMP-I-4"]).assert().success();
}

#[test]
fn an_illegal_transition_in_a_file_names_line_complaint_and_command() {
    let env = Env::new();
    env.init();
    let mut lines = lifecycle("CMP-J-1");
    // Reopen straight after intake: not allowed.
    lines.insert(
        1,
        command(
            "CMP-J-1:reopen",
            "CMP-J-1",
            "2026-10-12T09:10:00+08:00",
            r#""command":"reopen""#,
        ),
    );
    let file = env.write("illegal.jsonl", &lines);
    let out = env
        .plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 2") && err.contains("CMP-J-1") && err.contains("reopen"),
        "{err}"
    );
    assert_eq!(env.stats()["events"], 1, "only the intake before it is committed");
}

#[test]
fn keep_going_skips_and_lists_bad_lines() {
    let env = Env::new();
    env.init();
    let mut lines = closed_lifecycle("CMP-K-1");
    lines.insert(3, "not json at all".into());
    lines.push("# a comment line is skipped".into());
    lines.push(String::new());
    lines.extend(closed_lifecycle("CMP-K-2"));
    lines.push(r#"{"command_id":"y","complaint_id":"CMP-K-3","actor":"a","command":"receive","channel":"hotline","region":"r"}"#.into());
    let file = env.write("mixed.jsonl", &lines);
    let out = env
        .plaint(&["import", file.to_str().unwrap(), "--keep-going", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "skipped lines make the exit 1: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("line 20") && err.contains("description"), "{err}");
    assert!(err.contains("2 lines skipped"), "{err}");
    for id in ["CMP-K-1", "CMP-K-2"] {
        env.plaint(&["history", id])
            .assert()
            .success()
            .stdout(predicate::str::contains("Closed"));
    }
}

#[test]
fn a_missing_file_is_bad_input() {
    let env = Env::new();
    env.init();
    env.plaint(&["import", "/nonexistent/commands.jsonl"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent/commands.jsonl"));
}

#[test]
fn import_reads_stdin_skips_a_byte_order_mark_and_honours_plaint_store() {
    let env = Env::new();
    env.init();
    let mut text = String::from('\u{feff}');
    text.push_str(&closed_lifecycle("CMP-S-1").join("\r\n"));
    text.push_str("\r\n");
    // The store comes from the environment this time, not from --store.
    plaint()
        .env("PLAINT_STORE", env.store())
        .args(["import", "-", "--now", NOW])
        .write_stdin(text)
        .assert()
        .success();
    assert_eq!(env.stats()["complaints"], 1);
    env.plaint(&["history", "CMP-S-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Closed"));
}

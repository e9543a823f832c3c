//! End-to-end tests of the `plaint` binary on the real file log: init, submit, show, history,
//! audit, stats, export, verify, erase, and the error contract (exit codes, messages, pipes).

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn init_is_idempotent_and_a_missing_store_is_named() {
    let env = Env::new();
    env.plaint(&["stats"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no store at").and(predicate::str::contains("hint:")));
    env.init();
    env.init();
    let stats = env.stats();
    assert_eq!(stats["format_version"], 1);
    assert_eq!(stats["kind"], "stats");
    assert_eq!(stats["events"], 0);
    assert_eq!(stats["head_position"], 0);
}

#[test]
fn an_unusable_store_is_an_internal_error_exit_2() {
    let env = Env::new();
    // A regular file where the store directory should be: the store cannot be opened.
    std::fs::write(env.store(), b"not a directory").unwrap();
    env.plaint(&["stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error:").and(predicate::str::contains("hint:")));
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    plaint().arg("frobnicate").assert().code(1);
    plaint().args(["show"]).assert().code(1);
    plaint()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("import"));
    plaint().arg("--version").assert().success();
}

#[test]
fn submit_show_history_audit_and_stats() {
    let env = Env::new();
    env.init();
    let lines = lifecycle("CMP-T-1");
    for line in &lines[..3] {
        env.plaint(&["submit", line, "--now", NOW]).assert().success();
    }
    // A command read from stdin, with --json.
    let out = env
        .plaint(&["submit", "--json", "--now", NOW])
        .write_stdin(lines[3].clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let submitted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(submitted["kind"], "submitted");
    assert_eq!(submitted["deduplicated"], false);
    assert_eq!(submitted["events"][0]["type"], "Responded");
    assert_eq!(submitted["events"][0]["complaint_id"], "CMP-T-1");

    // The same command again: recognised by its id, nothing appended.
    let out = env
        .plaint(&["submit", &lines[3], "--json", "--now", NOW])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["deduplicated"], true);
    let stats = env.stats();
    assert_eq!(stats["events"], 4);
    assert_eq!(stats["head_position"], 4);

    // show: text and JSON.
    env.plaint(&["show", "CMP-T-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CMP-T-1"));
    let out = env.plaint(&["show", "CMP-T-1", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ticket: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ticket["format_version"], 1);
    assert_eq!(ticket["kind"], "ticket");
    assert_eq!(ticket["ticket"]["complaint_id"], "CMP-T-1");
    // As of before the classification: the ticket had one version less… or two.
    let out = env
        .plaint(&["show", "CMP-T-1", "--json", "--as-of", "2026-10-12T01:35:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let earlier: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(
        earlier["ticket"], ticket["ticket"],
        "the ticket as of before classification differs"
    );

    // history: JSON Lines, one event per line, in stream order.
    let out = env.plaint(&["history", "CMP-T-1", "--json"]).output().unwrap();
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), 4);
    let versions: Vec<u64> = events.iter().map(|e| e["stream_version"].as_u64().unwrap()).collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    assert_eq!(events[0]["type"], "Received");
    assert_eq!(events[0]["actor"], "agent-1");
    assert_eq!(events[0]["command_id"], "CMP-T-1:receive");
    // Personal fields are never printed in clear.
    assert!(!stdout(&out).contains("13800138000"));
    env.plaint(&["history", "CMP-T-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Received").and(predicate::str::contains("Classified")));

    // audit: filters by business time and actor.
    let out = env
        .plaint(&[
            "audit",
            "--json",
            "--from",
            "2026-10-12T01:20:00Z",
            "--to",
            "2026-10-12T01:45:00Z",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, vec!["Verified", "Classified"]);
    let out = env.plaint(&["audit", "--json", "--actor", "nobody"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
}

#[test]
fn unknown_complaint_and_illegal_transition_exit_1_with_names() {
    let env = Env::new();
    env.init();
    env.plaint(&["show", "CMP-NOPE"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("CMP-NOPE").and(predicate::str::contains("hint:")));
    env.plaint(&["history", "CMP-NOPE"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("CMP-NOPE"));
    let lines = lifecycle("CMP-T-2");
    env.plaint(&["submit", &lines[0], "--now", NOW]).assert().success();
    // Close before anything else: illegal.
    let close = command(
        "CMP-T-2:close",
        "CMP-T-2",
        "2026-10-12T12:00:00+08:00",
        r#""command":"close""#,
    );
    let out = env.plaint(&["submit", &close, "--now", NOW]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("CMP-T-2"), "names the complaint: {err}");
    assert!(err.contains("close"), "names the command: {err}");
    assert!(err.to_lowercase().contains("received"), "names the status: {err}");
    assert_eq!(env.stats()["events"], 1, "nothing was written");
    // Bad JSON given to submit: exit 1.
    env.plaint(&["submit", "{oops", "--now", NOW])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not valid JSON"));
}

#[test]
fn export_is_masked_json_lines_and_verify_passes() {
    let env = Env::new();
    env.init();
    import_lines(&env, "a.jsonl", &closed_lifecycle("CMP-E-1"));
    let out = env.plaint(&["export"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as u64, env.stats()["events"].as_u64().unwrap());
    let positions: Vec<u64> = lines.iter().map(|e| e["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, (1..=lines.len() as u64).collect::<Vec<_>>());
    assert!(
        !text.contains("王芳") && !text.contains("13800138000"),
        "personal fields masked"
    );

    let out = env.plaint(&["verify", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["kind"], "verify");
    assert_eq!(report["ok"], true);
    assert_eq!(report["events"], lines.len());
    assert_eq!(report["head_position"], lines.len());
    env.plaint(&["verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
}

#[test]
fn erase_shreds_personal_fields_but_figures_stay() {
    let env = Env::new();
    env.init();
    import_lines(&env, "a.jsonl", &closed_lifecycle("CMP-X-1"));
    let personal = |args: &[&str]| {
        let out = env.plaint(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // Masked by default, in clear when asked.
    let masked = personal(&["show", "CMP-X-1", "--json"]);
    assert!(masked.contains("\"masked\"") && !masked.contains("王芳"), "{masked}");
    assert!(personal(&["show", "CMP-X-1", "--json", "--reveal"]).contains("王芳"));
    assert!(personal(&["export", "--reveal"]).contains("13800138000"));
    let sla_before = personal(&["sla", "--json", "--now", NOW]);

    let before = env.stats();
    env.plaint(&[
        "erase",
        "+86 138-0013-8000",
        "--by",
        "dpo-1",
        "--basis",
        "PIPL art. 47 request 7",
    ])
    .assert()
    .success();
    let after = env.stats();
    assert_eq!(
        before["events"].as_u64().unwrap() + 1,
        after["events"].as_u64().unwrap(),
        "erasure appends its audit event, and nothing else"
    );
    env.plaint(&["verify"]).assert().success();
    let revealed = personal(&["show", "CMP-X-1", "--json", "--reveal"]);
    assert!(
        !revealed.contains("王芳") && revealed.contains("\"erased\""),
        "{revealed}"
    );
    let exported = personal(&["export", "--reveal"]);
    assert!(!exported.contains("13800138000") && exported.contains("\"erased\""));
    assert_eq!(
        personal(&["sla", "--json", "--now", NOW]),
        sla_before,
        "figures stay the same"
    );
    // Erasing an unknown customer is bad input.
    env.plaint(&["erase", "C-NOBODY", "--by", "dpo-1", "--basis", "PIPL art. 47"])
        .assert()
        .code(1);
    // Who and why are required.
    env.plaint(&["erase", "13800138000"]).assert().code(1);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    env.init();
    let mut lines = Vec::new();
    for n in 0..40 {
        lines.extend(closed_lifecycle(&format!("CMP-P-{n}")));
    }
    import_lines(&env, "many.jsonl", &lines);
    // `plaint export | head -1`: the reader goes away after one line.
    let bin = assert_cmd::cargo::cargo_bin("plaint");
    let script = format!(
        "{} --store {} export | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
        bin.display(),
        env.store().display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env_remove("PLAINT_STORE")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.ends_with("status=0\n"),
        "export exits 0 on a closed pipe: {text:?}"
    );
    assert!(!stderr(&out).contains("error"), "no error printed: {}", stderr(&out));

    // The same for `history X | head -1` and `audit | head -1`.
    for args in ["history CMP-P-7", "audit"] {
        let script = format!(
            "{} --store {} {args} | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
            bin.display(),
            env.store().display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .env_remove("PLAINT_STORE")
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 2, "{args}: one line, then the status: {text:?}");
        assert!(
            text.ends_with("status=0\n"),
            "{args} exits 0 on a closed pipe: {text:?}"
        );
    }
}

/// Issue 11 item 7, one export format: `plaint export` writes exactly what the facade's
/// `Engine::export` writes, and `history --json` / `audit --json` print the same records.
#[test]
fn export_is_the_facade_export_and_history_prints_the_same_records() {
    let env = Env::new();
    env.init();
    import_lines(&env, "a.jsonl", &closed_lifecycle("CMP-F-1"));
    let cli = env.plaint(&["export"]).output().unwrap();
    assert!(cli.status.success(), "{}", stderr(&cli));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let facade = rt.block_on(async {
        let engine = plaint::Engine::open(plaint::EngineConfig::file(env.store()))
            .await
            .unwrap();
        let mut out = Vec::new();
        let n = engine.export(&mut out, plaint::Reveal::Masked).await.unwrap();
        engine.close().await.unwrap();
        assert_eq!(n, 8);
        out
    });
    assert_eq!(stdout(&cli), String::from_utf8(facade).unwrap(), "one export format");

    let first: serde_json::Value = serde_json::from_str(stdout(&cli).lines().next().unwrap()).unwrap();
    assert_eq!(first["format_version"], 1);
    assert_eq!(first["kind"], "event");
    assert_eq!(first["type"], "Received");
    assert_eq!(first["data"]["customer"]["personal"]["sealed"], true, "{first}");

    let history = env.plaint(&["history", "CMP-F-1", "--json"]).output().unwrap();
    assert_eq!(stdout(&history), stdout(&cli), "history prints the export's records");
    let audit = env.plaint(&["audit", "--json"]).output().unwrap();
    assert_eq!(stdout(&audit), stdout(&cli), "audit prints the export's records");
}

/// Issue 11 item 7, the business time zone in one place: a date on the command line is the
/// start of that day in the business calendar's zone (UTC+8), not midnight UTC.
#[test]
fn a_date_argument_is_the_start_of_that_day_in_the_business_time_zone() {
    let env = Env::new();
    env.init();
    // 07:00 on 12 October in Shanghai is still 11 October in UTC.
    let early = command(
        "early:receive",
        "CMP-TZ-1",
        "2026-10-12T07:00:00+08:00",
        r#""command":"receive","channel":"hotline","description":"清晨投诉","region":"shanghai""#,
    );
    import_lines(&env, "tz.jsonl", &[early]);
    let out = env
        .plaint(&["audit", "--from", "2026-10-12", "--to", "2026-10-13", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "the event of 12 October (local) is in that day"
    );
    let out = env
        .plaint(&["audit", "--from", "2026-10-11", "--to", "2026-10-12", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).lines().count(), 0, "and not in 11 October");
}

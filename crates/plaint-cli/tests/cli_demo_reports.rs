//! Issue 17 ("the demo workload exercises each rule so `plaint demo` shows it in its reports"),
//! through the real binary: the demo prints the weekly report, the assessment (考核) and the
//! monthly complaint analysis (投诉分析报告), writes them with `--reports DIR` and lists the files;
//! supervision, ownership transfers, the compensation lifecycle, severity overrides, incident
//! groups, closed-loop reasons and dispute escalations (litigation among them) are in the output.

mod common;
use common::*;

/// The number in a line of the analysis's process section: `  <label>   <n>`.
fn count_after(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in:\n{text}"));
    line.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn seed000_seed001_seed002_demo_shows_every_report_and_rule() {
    let env = Env::new();
    let dir = env.path("reports");
    let out = env
        .plaint(&[
            "demo",
            "--complaints",
            "600",
            "--seed",
            "5",
            "--reports",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Every report.
    for header in [
        "Weekly complaint report 2026-W39",
        "assessment by department",
        "complaint analysis 2026-09",
        "finance (yuan)",
        "major incidents (专项小组)",
        "closed loop, supervision and disputes",
        "improvement actions (改进)",
    ] {
        assert!(text.contains(header), "no {header:?} in:\n{text}");
    }
    // Each rule of issue 17, as the month's figures show it.
    assert!(count_after(&text, "supervisions opened") > 0);
    assert!(count_after(&text, "ownership transfers") > 0);
    assert!(count_after(&text, "severity overrides") > 0);
    assert!(count_after(&text, "failed revisit attempts") > 0);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap()
            .to_owned()
    };
    let closed = line("closed without revisit");
    assert!(
        closed.contains("customer_unreachable") && closed.contains("customer_declined"),
        "{closed}"
    );
    let disputes = line("dispute escalations");
    for kind in ["litigation", "media", "regulator"] {
        assert!(disputes.contains(kind), "{disputes}");
    }
    assert!(line("watchdog escalations").contains("incident_report"), "{text}");
    for (label, min) in [("proposed", 1u64), ("approved", 1), ("paid", 1), ("refused", 1)] {
        let l = text
            .lines()
            .find(|l| l.trim_start().starts_with(label) && l.contains('.'))
            .unwrap_or_else(|| panic!("no finance line {label}"));
        let n: u64 = l.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(n >= min, "{l}");
    }
    assert!(text.contains("INC-CMP-"), "an incident group is listed");
    // The files, listed and written.
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("reports written to"))
        .skip(1)
        .map(str::trim)
        .collect();
    let names: Vec<String> = listed
        .iter()
        .map(|p| {
            std::path::Path::new(p)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "weekly-2026-W39.html",
            "monthly-2026-09.html",
            "assessment-by-department.txt",
            "assessment-by-department.csv",
            "analysis-2026-09.txt",
            "analysis-2026-09.csv",
        ]
    );
    for p in &listed {
        let bytes = std::fs::read(p).unwrap();
        assert!(!bytes.is_empty(), "{p}");
    }
    let analysis_csv = std::fs::read_to_string(dir.join("analysis-2026-09.csv")).unwrap();
    assert!(
        analysis_csv.contains("dispute_escalations,litigation,"),
        "{analysis_csv}"
    );
    let monthly = std::fs::read_to_string(dir.join("monthly-2026-09.html")).unwrap();
    assert!(
        monthly.contains("litigation"),
        "the monthly page shows the process figures"
    );
}

#[test]
fn seed002_demo_json_carries_the_assessment_and_the_analysis() {
    let env = Env::new();
    let out = env
        .plaint(&["demo", "--complaints", "200", "--seed", "3", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["kind"], "weekly_report");
    assert!(doc["report"]["received"].as_u64().unwrap() > 0, "{}", doc["report"]);
    assert_eq!(doc["assessment"]["by"], "department");
    assert!(!doc["assessment"]["rows"].as_array().unwrap().is_empty());
    assert!(doc["analysis"]["total"].as_u64().unwrap() > 0);
    assert!(doc["analysis"]["process"].is_object(), "{}", doc["analysis"]);
}

/// The demo folds its projections beside the batches instead of rebuilding them (issue 13), and
/// leaves what the rebuild left: a checkpoint of every projection and of the set's shared record
/// (checkpoint format 7) at the log's head, in a store that verifies.
#[test]
fn demo_leaves_every_projection_checkpointed_at_the_head() {
    let env = Env::new();
    demo_into(&env, "150", "6");
    let out = env.plaint(&["verify", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], true, "{doc}");
    let head = doc["head_position"].as_u64().unwrap();
    assert!(head > 150 * 3, "{doc}");
    let checkpoints = doc["checkpoints"].as_array().unwrap();
    let names: Vec<&str> = checkpoints.iter().map(|c| c["projection"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["tickets", "sla", "repeats", "analysis", "casework", "receipts"],
        "{doc}"
    );
    for c in checkpoints {
        assert_eq!(c["position"].as_u64(), Some(head), "{c} behind the head {head}");
    }
}

/// On PostgreSQL the demo folds its projections beside the batches on a thread with a runtime of
/// its own, as on a file log (its first such follower hung, before the store drove every pooled
/// session on its own runtime: `plaint-store/tests/pg_runtimes.rs`). A demo of several batches
/// into PostgreSQL ends, with the same report as into a file log.
#[test]
fn demo_into_postgres_ends_with_the_file_log_report() {
    let Some(url) = database_url() else {
        return;
    };
    // 2,000 complaints: about 19,000 commands, six batches (the wait showed there, not at 500).
    let args = ["demo", "--complaints", "2000", "--seed", "9"];
    let env = Env::new();
    let file = env.plaint(&args).output().unwrap();
    assert!(file.status.success(), "{}", stderr(&file));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("cli_demo_pg_{}_{nanos}", std::process::id());
    let pg = plaint()
        .args(["--pg-schema", &schema, "--store"])
        .arg(env.path("pg-local"))
        .args(args)
        .args(["--pg", &url])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(plaint_store::pg::PgStore::drop_schema(
        &url,
        &plaint_store::pg::PgOptions::with_schema(&schema),
    ))
    .expect("drop the test schema");
    assert!(pg.status.success(), "{}", stderr(&pg));
    assert!(stderr(&pg).contains("commands (0 rejected)"), "{}", stderr(&pg));
    assert_eq!(stdout(&pg), stdout(&file));
}

/// `--emit-commands` into a directory is bad input (exit 1), found before the store is opened:
/// nothing is written.
#[test]
fn demo_emit_into_a_directory_is_refused_before_the_store_opens() {
    let env = Env::new();
    let dir = env.path("emit-dir");
    std::fs::create_dir(&dir).unwrap();
    demo_fails_naming(&env, &dir, "emit-dir");
    assert!(!env.store().exists(), "no store is created");
}

/// A failed write of the `--emit-commands` file (here `FILE.tmp` leads to /dev/full) stops the
/// demo with exit 1 naming the file, before the workload's final watchdog tick, and leaves no
/// `FILE` (nor `FILE.tmp`): the generator's error is not taken for the end of the workload.
#[test]
fn demo_emit_write_failure_exits_1_naming_the_file_and_leaves_no_file() {
    let env = Env::new();
    let emitted = env.path("workload.jsonl");
    let tmp = env.path("workload.jsonl.tmp");
    std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
    demo_fails_naming(&env, &emitted, "workload.jsonl.tmp");
    assert!(!emitted.exists(), "no partial file");
    assert!(tmp.symlink_metadata().is_err(), "the temporary file is removed");
}

/// Runs a demo of 3,000 complaints emitting to `emit` and asserts exit 1 (bad input) with `name`
/// in the error.
fn demo_fails_naming(env: &Env, emit: &std::path::Path, name: &str) {
    let out = env
        .plaint(&["demo", "--complaints", "3000", "--emit-commands"])
        .arg(emit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(name), "{}", stderr(&out));
}

/// Every checkpoint file under the store's `projections/`, by name.
fn checkpoints(env: &Env) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(env.store().join("projections"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The projections the demo folds beside its batches are the ones a full rebuild gives: the same
/// checkpoint bytes and the same weekly report, before and after `plaint rebuild`.
#[test]
fn demo_projections_equal_a_full_rebuild() {
    let env = Env::new();
    demo_into(&env, "300", "8");
    let week = [
        "report",
        "weekly",
        "--week",
        "2026-W39",
        "--now",
        "2026-10-30T00:00:00Z",
        "--json",
    ];
    let weekly = || env.plaint(&week).assert().success().get_output().stdout.clone();
    let (folded, folded_report) = (checkpoints(&env), weekly());
    assert!(folded.len() >= 4, "{:?}", folded.keys());
    env.plaint(&["rebuild"]).assert().success();
    let rebuilt = checkpoints(&env);
    assert_eq!(folded.keys().collect::<Vec<_>>(), rebuilt.keys().collect::<Vec<_>>());
    for (name, bytes) in &folded {
        assert!(
            bytes == &rebuilt[name],
            "{name}: the demo's checkpoint differs from the rebuild's"
        );
    }
    assert_eq!(folded_report, weekly());
}

/// Runs `plaint demo --complaints N --seed S` into the env's store and asserts success.
fn demo_into(env: &Env, complaints: &str, seed: &str) {
    env.plaint(&["demo", "--complaints", complaints, "--seed", seed])
        .assert()
        .success();
}

/// The end of the generated period for the default workload (start 2026-09-06T16:00Z, 28 + 2 days).
const DEMO_END: &str = "2026-10-06T16:00:00Z";

/// The `--emit-commands` file fails in the middle of the workload (its `FILE.tmp` leads to a
/// FIFO whose reader leaves after 3 MB: about two batches in): the demo exits 1 naming the file
/// and does NOT run the watchdog's final tick on the truncated workload, so a `tick` at the end
/// of the period still finds escalations due.
#[test]
fn demo_emit_failure_mid_workload_skips_the_final_tick() {
    let env = Env::new();
    let fifo = env.path("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(&fifo, env.path("workload.jsonl.tmp")).unwrap();
    let reading = fifo.clone();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut bytes = vec![0u8; 3_000_000];
        std::fs::File::open(reading)?.read_exact(&mut bytes)
    });
    demo_fails_naming(&env, &env.path("workload.jsonl"), "workload.jsonl.tmp");
    // A demo that never opened the FIFO leaves the reader waiting in open: a writer that comes
    // and goes (O_NONBLOCK, so it never waits itself) gives it end of file instead of a hang.
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000; // Linux
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(&fifo);
    }
    let read = reader.join().unwrap();
    assert!(read.is_ok(), "the demo wrote 3 MB into FILE.tmp: {read:?}");
    let out = env.plaint(&["tick", "--now", DEMO_END, "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["appended"].as_u64().unwrap() > 0,
        "the demo ticked at the end: {doc}"
    );
}

//! `plaint import-csv`: a legacy export through a mapping file (docs/import-csv.md), on the real
//! public data beside the repository (`../shared/data`) and on small files made here.

mod common;
use common::*;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared data directory: `$PLAINT_SHARED_DATA` when set (a checkout elsewhere, e.g. a git
/// worktree), else `../shared/data` beside the repository.
fn shared_data(name: &str) -> PathBuf {
    match std::env::var_os("PLAINT_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => repo().join("../shared/data").join(name),
    }
}

fn mapping(name: &str) -> String {
    repo().join("examples/mappings").join(name).to_str().unwrap().to_owned()
}

/// The Baltimore header and three real rows, then a row that is short by a field and closed
/// before it was created.
fn baltimore_with_a_bad_row(env: &Env) -> PathBuf {
    let text = std::fs::read_to_string(shared_data("baltimore311_sample.csv")).expect("shared data is there");
    let mut lines: Vec<String> = text.lines().take(4).map(str::to_owned).collect();
    lines.push(
        "18-99999999,18-99999999,TRT-Traffic Signal Repairs,Phone,04/12/2018 11:11:26 AM,Closed,\
         04/12/2018 12:45:48 PM,04/13/2018 11:11:26 AM,04/11/2018 12:45:47 PM,Transportation,,,,\
         \"3400 GARRISON BLVD, BALTIMORE, MD, 21215\",21215,Dorchester,6,Northwestern,621,39,-77,\"(39.0, -77.0)\",,,3"
            .to_owned(),
    );
    env.write("bad.csv", &lines)
}

#[test]
fn open311_export_imports_once_with_durable_progress() {
    let env = Env::new();
    env.init();
    let file = shared_data("chicago_open311_with_notes.json");
    let run = || {
        env.plaint(&[
            "import-csv",
            file.to_str().unwrap(),
            "--mapping",
            &mapping("chicago_open311.toml"),
            "--progress",
            "jsonl",
            "--now",
            NOW,
        ])
        .output()
        .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    let last: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(last["tickets"], 50, "the file holds 50 requests");
    let events = env.stats()["events"].as_u64().unwrap();
    assert_eq!(
        last["position"].as_u64().unwrap(),
        events,
        "progress reports the durable head"
    );
    assert!(events > 50 * 3, "notes become events: {events}");

    let again = run();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        env.stats()["events"].as_u64().unwrap(),
        events,
        "a second import adds nothing"
    );
    assert!(stderr(&again).contains("0 events appended"), "{}", stderr(&again));
    env.plaint(&["verify"]).assert().success();
}

#[test]
fn a_rejected_row_is_named_by_line_and_nothing_is_written_without_keep_going() {
    let env = Env::new();
    env.init();
    let file = baltimore_with_a_bad_row(&env);
    let args = |extra: &[&str]| {
        let mut a = vec![
            "import-csv".to_owned(),
            file.to_str().unwrap().to_owned(),
            "--mapping".to_owned(),
            mapping("baltimore311.toml"),
            "--policy".to_owned(),
            mapping("policy.toml"),
            "--now".to_owned(),
            NOW.to_owned(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        env.plaint(&a).output().unwrap()
    };

    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 5") && err.contains("short_row"), "{err}");
    assert!(err.contains("closed_before_created"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert_eq!(env.stats()["events"], 0, "nothing partial is written");

    let out = run(&["--keep-going"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the rejected row still fails the run: {}",
        stderr(&out)
    );
    let events = env.stats()["events"].as_u64().unwrap();
    assert!(events >= 3 * 4, "the three good rows are imported: {events} events");
    assert!(stderr(&out).contains("line 5"), "{}", stderr(&out));
}

#[test]
fn a_mapping_naming_a_missing_column_is_bad_input() {
    let env = Env::new();
    env.init();
    let file = env.write(
        "tiny.csv",
        &[
            "SRRecordID,CreatedDate".to_owned(),
            "1,04/12/2018 11:11:26 AM".to_owned(),
        ],
    );
    let out = env
        .plaint(&[
            "import-csv",
            file.to_str().unwrap(),
            "--mapping",
            &mapping("baltimore311.toml"),
            "--policy",
            &mapping("policy.toml"),
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("mapping key") && err.contains("which the header does not have"),
        "{err}"
    );
}

//! `plaint report assessment --period` and `plaint report analysis --month` (issue 17) on demo
//! data through the real binary: table, JSON and CSV agree; bad periods are exit 1 naming the
//! argument.

mod common;
use common::*;

const NOW: &str = "2026-11-20T12:00:00+08:00";

fn demo() -> Env {
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "600", "--seed", "5"])
        .assert()
        .success();
    env
}

fn json(env: &Env, args: &[&str]) -> serde_json::Value {
    let out = env.plaint(args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
fn seed002_assessment_and_analysis_in_every_format() {
    let env = demo();
    let a = json(
        &env,
        &[
            "report",
            "assessment",
            "--period",
            "2026-10",
            "--by",
            "department",
            "--now",
            NOW,
            "--json",
        ],
    );
    assert_eq!(a["kind"], "assessment_report");
    let rows = a["report"]["rows"].as_array().unwrap();
    assert!(rows.len() >= 5, "{rows:?}");
    let tickets: u64 = rows.iter().map(|r| r["tickets"].as_u64().unwrap()).sum();
    // The same period as a date range gives the same figures.
    let b = json(
        &env,
        &[
            "report",
            "assessment",
            "--period",
            "2026-10-01..2026-11-01",
            "--by",
            "department",
            "--now",
            NOW,
            "--json",
        ],
    );
    assert_eq!(a["report"]["rows"], b["report"]["rows"]);

    let an = json(
        &env,
        &["report", "analysis", "--month", "2026-10", "--now", NOW, "--json"],
    );
    assert_eq!(an["kind"], "complaint_analysis");
    assert_eq!(an["report"]["total"].as_u64().unwrap(), tickets);
    assert!(an["report"]["finance"]["approved"].as_u64().unwrap() > 0);

    // Table and CSV name the same rows.
    let table = env
        .plaint(&[
            "report",
            "assessment",
            "--period",
            "2026-10",
            "--by",
            "department",
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    let text = stdout(&table);
    assert!(text.starts_with("assessment by department"), "{text}");
    let csv = env
        .plaint(&[
            "report",
            "assessment",
            "--period",
            "2026-10",
            "--by",
            "department",
            "--now",
            NOW,
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let csv = stdout(&csv);
    assert!(csv.starts_with('\u{feff}'));
    for r in rows {
        let name = r["name"].as_str().unwrap();
        assert!(text.contains(name), "{name} in the table");
        assert!(csv.contains(&format!("\r\n{name},")), "{name} in the CSV");
    }
    let analysis_text = stdout(
        &env.plaint(&["report", "analysis", "--month", "2026-10", "--now", NOW])
            .output()
            .unwrap(),
    );
    assert!(analysis_text.contains("finance (yuan)"), "{analysis_text}");
    assert!(analysis_text.contains("high-frequency"), "{analysis_text}");
    // The monthly report carries the analysis too.
    let monthly = json(
        &env,
        &["report", "monthly", "--month", "2026-10", "--now", NOW, "--json"],
    );
    assert_eq!(monthly["sections"]["analysis"]["total"].as_u64().unwrap(), tickets);
}

#[test]
fn bad_period_is_exit_1_naming_the_argument() {
    let env = Env::new();
    env.plaint(&["init"]).assert().success();
    let out = env
        .plaint(&["report", "assessment", "--period", "2026-13", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--period"), "{}", stderr(&out));
    let out = env
        .plaint(&[
            "report",
            "assessment",
            "--period",
            "2026-11-05..2026-11-01",
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not before the end"), "{}", stderr(&out));
    let out = env
        .plaint(&[
            "report", "analysis", "--month", "2026-10", "--now", NOW, "--format", "html",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("html"), "{}", stderr(&out));
}

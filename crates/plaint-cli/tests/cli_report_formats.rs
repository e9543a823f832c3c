//! `plaint report weekly|monthly --format table|json|csv|html` on demo data (seed 2, 80
//! complaints): the figures of every format agree with each other and with the log read
//! independently through `plaint audit`.

mod common;
use common::*;
use std::collections::BTreeMap;

const NOW: &str = "2026-09-20T12:00:00Z";
const WEEK: &str = "2026-W38";

fn demo() -> Env {
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "80", "--seed", "2"])
        .assert()
        .success();
    env
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

fn weekly_json(env: &Env) -> serde_json::Value {
    json_of(
        &env.plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--format", "json"])
            .output()
            .unwrap(),
    )
}

/// Complaints received in `[from, to)` counted from the log (`Received` events).
fn received_between(env: &Env, from: &str, to: &str) -> u64 {
    let out = env
        .plaint(&["audit", "--from", from, "--to", to, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "Received")
        .count() as u64
}

/// A CSV file's rows (BOM checked and removed).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "CSV starts with a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.contains("\r\n"), "CRLF line ends");
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn weekly_json_daily_intake_matches_the_log_in_office_days() {
    let env = demo();
    let doc = weekly_json(&env);
    assert_eq!(doc["kind"], "weekly_report");
    let s = &doc["sections"];
    assert_eq!(s["from"], "2026-09-14T00:00:00+08:00");
    assert_eq!(s["to"], "2026-09-21T00:00:00+08:00");
    assert_eq!(s["now"], "2026-09-20T20:00:00+08:00");
    let days: Vec<(String, u64)> = s["daily_intake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["day"].as_str().unwrap().to_owned(), d["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(days.len(), 7, "{days:?}");
    // Demo seed 2: the counts per office day, each one recounted from the log.
    let expected = [2, 2, 2, 3, 4, 1, 4];
    for (i, (day, count)) in days.iter().enumerate() {
        assert_eq!(*count, expected[i], "{day}");
        let next = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .succ_opt()
            .unwrap();
        let from = format!("{day}T00:00:00+08:00");
        let to = format!("{next}T00:00:00+08:00");
        assert_eq!(received_between(&env, &from, &to), *count, "{day}");
    }
    assert_eq!(s["received"], 18);
    // The weekly report's own figure agrees.
    assert_eq!(doc["report"]["received"], 18);
    let sum = |k: &str| {
        s[k].as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("by_category"), 18);
    assert_eq!(sum("by_channel"), 18);
    assert_eq!(s["by_category"]["delay"], 7);
    assert_eq!(s["by_channel"]["hotline"], 6);
    // The heat map is the month the week starts in.
    assert_eq!(s["heat_map"]["month"], "2026-09");
}

#[test]
fn weekly_csv_directory_has_one_table_per_section_with_the_json_figures() {
    let env = demo();
    let doc = weekly_json(&env);
    let s = &doc["sections"];
    let dir = env.path("csv");
    let out = env
        .plaint(&[
            "report", "weekly", "--week", WEEK, "--now", NOW, "--format", "csv", "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let mut files: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        files.insert(name, csv_rows(&std::fs::read(&path).unwrap()));
    }
    assert_eq!(listed.len(), files.len(), "every file written is named on stdout");
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "weekly-2026-W38-alerts.csv",
            "weekly-2026-W38-category_mix.csv",
            "weekly-2026-W38-channel_mix.csv",
            "weekly-2026-W38-daily_intake.csv",
            "weekly-2026-W38-heat_map.csv",
            "weekly-2026-W38-on_time.csv",
            "weekly-2026-W38-repeat_customers.csv",
            "weekly-2026-W38-summary.csv",
        ]
    );
    let daily = &files["weekly-2026-W38-daily_intake.csv"];
    assert_eq!(daily[0], ["day", "received"]);
    assert_eq!(daily.len(), 1 + 7, "a header and 7 days");
    let total: u64 = daily[1..].iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    assert_eq!(total, s["received"].as_u64().unwrap());
    let categories = &files["weekly-2026-W38-category_mix.csv"];
    assert_eq!(categories.len() - 1, s["by_category"].as_object().unwrap().len());
    let delay = categories.iter().find(|r| r[0] == "delay").unwrap();
    assert_eq!(delay[1], "7");
    assert_eq!(delay[2], "0.3889");
    // The heat map in long form: one row per region and category, same total as the JSON grid.
    let heat = &files["weekly-2026-W38-heat_map.csv"];
    let grid = &s["heat_map"];
    let regions = grid["regions"].as_array().unwrap().len();
    let cats = grid["categories"].as_array().unwrap().len();
    assert_eq!(heat.len() - 1, regions * cats);
    let grid_total: u64 = grid["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    let csv_total: u64 = heat[1..].iter().map(|r| r[3].parse::<u64>().unwrap()).sum();
    assert_eq!(csv_total, grid_total);
    // Region names in Chinese survive (UTF-8 after the BOM).
    assert!(heat[1..].iter().any(|r| r[1] == "上海"), "{heat:?}");
    let on_time = &files["weekly-2026-W38-on_time.csv"];
    assert_eq!(on_time.len() - 1, s["on_time"].as_object().unwrap().len());
    let summary = &files["weekly-2026-W38-summary.csv"];
    assert!(
        summary.contains(&vec!["received".to_owned(), "18".to_owned()]),
        "{summary:?}"
    );
    assert!(
        summary.contains(&vec!["time_zone".to_owned(), "Asia/Shanghai".to_owned()]),
        "{summary:?}"
    );
}

#[test]
fn csv_on_stdout_or_in_one_file_has_section_headers() {
    let env = demo();
    let file = env.path("weekly.csv");
    env.plaint(&[
        "report", "weekly", "--week", WEEK, "--now", NOW, "--format", "csv", "--out",
    ])
    .arg(&file)
    .assert()
    .success();
    let bytes = std::fs::read(&file).unwrap();
    let out = env
        .plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, bytes, "stdout carries the same single-file CSV");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let sections: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# section: "))
        .map(str::trim_end)
        .collect();
    assert_eq!(
        sections,
        [
            "summary",
            "daily_intake",
            "category_mix",
            "channel_mix",
            "on_time",
            "heat_map",
            "repeat_customers",
            "alerts"
        ]
    );
}

#[test]
fn weekly_html_is_one_self_contained_page_in_office_time() {
    let env = demo();
    let file = env.path("weekly.html");
    env.plaint(&[
        "report", "weekly", "--week", WEEK, "--now", NOW, "--format", "html", "--out",
    ])
    .arg(&file)
    .assert()
    .success();
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["<script", "http://", "https://", "<link", "@import", "url("] {
        // The only URL allowed is the SVG namespace, which is a name, not a fetch.
        let hits = html.matches(forbidden).count();
        let allowed = if forbidden == "http://" {
            html.matches("http://www.w3.org/2000/svg").count()
        } else {
            0
        };
        assert_eq!(hits, allowed, "{forbidden} in a self-contained page");
    }
    assert!(html.contains("@page { size: A4"), "prints on A4");
    assert!(html.contains("@media print"));
    assert!(html.contains("2026-09-14 00:00 +08:00"), "period start in office time");
    assert!(html.contains("2026-09-20 20:00 +08:00"), "--now in office time");
    for chart in [
        "daily-intake",
        "category-mix",
        "channel-mix",
        "on-time",
        "heat-map",
        "repeat-customers",
    ] {
        assert!(html.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
        assert!(
            html.contains(&format!("<desc id=\"{chart}-desc\">")),
            "{chart} has a desc"
        );
    }
    assert!(html.contains("data-chart=\"daily-intake\" data-marks=\"7\""));
    assert!(html.contains("<title id=\"daily-intake-title\">Daily intake, 2026-W38</title>"));
    assert!(html.contains("2026-09-18: 4 received"));
    assert!(html.contains("<section id=\"alerts\">"));
    // The same report on stdout.
    let out = env
        .plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--format", "html"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), html);
}

#[test]
fn monthly_report_in_every_format() {
    let env = demo();
    let now = "2026-10-02T00:00:00Z";
    let doc = json_of(
        &env.plaint(&[
            "report", "monthly", "--month", "2026-09", "--now", now, "--format", "json",
        ])
        .output()
        .unwrap(),
    );
    assert_eq!(doc["kind"], "monthly_report");
    assert!(
        doc.get("report").is_none(),
        "the weekly figures belong to weekly reports"
    );
    let s = &doc["sections"];
    assert_eq!(s["from"], "2026-09-01T00:00:00+08:00");
    assert_eq!(s["to"], "2026-10-01T00:00:00+08:00");
    assert_eq!(s["daily_intake"].as_array().unwrap().len(), 30);
    let received = s["received"].as_u64().unwrap();
    assert_eq!(
        received,
        received_between(&env, "2026-09-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00")
    );
    assert_eq!(received, 70);
    // Repeat customers are masked: no customer id appears whole.
    let customers = s["top_repeat_customers"].as_array().unwrap();
    assert!(!customers.is_empty());
    let mut tickets = u64::MAX;
    for c in customers {
        let label = c["customer"].as_str().unwrap();
        assert!(
            label.contains('#') && (label.contains('*') || label.starts_with('#')),
            "{label}"
        );
        let n = c["tickets"].as_u64().unwrap();
        assert!(n >= 2 && n <= tickets, "most tickets first");
        tickets = n;
    }
    let dir = env.path("m");
    env.plaint(&[
        "report",
        "monthly",
        "--month",
        "2026-09-14",
        "--now",
        now,
        "--format",
        "csv",
        "--out",
    ])
    .arg(&dir)
    .assert()
    .success();
    let daily = csv_rows(&std::fs::read(dir.join("monthly-2026-09-daily_intake.csv")).unwrap());
    assert_eq!(daily.len(), 31);
    assert_eq!(
        daily[1..].iter().map(|r| r[1].parse::<u64>().unwrap()).sum::<u64>(),
        received
    );
    let html = stdout(
        &env.plaint(&[
            "report", "monthly", "--month", "2026-09", "--now", now, "--format", "html",
        ])
        .output()
        .unwrap(),
    );
    assert!(html.contains("data-chart=\"daily-intake\" data-marks=\"30\""));
    assert!(html.contains(&format!(
        "data-chart=\"repeat-customers\" data-marks=\"{}\"",
        customers.len()
    )));
    let table = stdout(
        &env.plaint(&["report", "monthly", "--month", "2026-09", "--now", now])
            .output()
            .unwrap(),
    );
    assert!(table.contains("received: 70"), "{table}");
    assert!(table.contains("2026-09-01T00:00:00+08:00"), "{table}");
}

#[test]
fn report_inputs_are_checked() {
    let env = demo();
    env.plaint(&["report", "monthly", "--month", "2026-13", "--now", NOW])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a month"));
    env.plaint(&["report", "monthly", "--month", "2026-11", "--now", NOW])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("after --now"));
    env.plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--format", "pdf"])
        .assert()
        .code(1);
    // An unwritable --out is the user's error, naming the path.
    let blocker = env.path("file");
    std::fs::write(&blocker, b"x").unwrap();
    env.plaint(&[
        "report", "weekly", "--week", WEEK, "--now", NOW, "--format", "csv", "--out",
    ])
    .arg(blocker.join("dir"))
    .assert()
    .code(1)
    .stderr(predicates::str::contains(blocker.join("dir").display().to_string()));
}

#[test]
fn weekly_table_shows_instants_in_office_time() {
    let env = demo();
    let out = env
        .plaint(&["report", "weekly", "--week", WEEK, "--now", NOW])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap().to_owned();
    assert_eq!(
        first,
        "Weekly complaint report 2026-W38 (2026-09-14 00:00 +08:00 .. 2026-09-21 00:00 +08:00), \
         judged at 2026-09-20 20:00 +08:00, policy plaint-default-2026.2"
    );
    // --out writes the same tables to a file.
    let file = env.path("w38.txt");
    env.plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--out"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout(&out));
}

//! Issue 14, what a desk looks at: `plaint queue`, `sla --ticket`, `alerts`, `heatmap`,
//! `appeals` end to end on demo data (seed 2, 80 complaints, September to October 2026), with
//! figures checked by hand against the tickets' histories and the default policy.

mod common;
use common::*;
use std::sync::OnceLock;

/// One demo store for every test of this file (read-only use).
fn demo() -> &'static Env {
    static DEMO: OnceLock<Env> = OnceLock::new();
    DEMO.get_or_init(|| {
        let env = Env::new();
        let out = env
            .plaint(&["demo", "--complaints", "80", "--seed", "2"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        env
    })
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = demo().plaint(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn text(args: &[&str]) -> String {
    let out = demo().plaint(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn ts(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

const AT: &str = "2026-10-06T12:00:00+08:00";

#[test]
fn queue_lists_open_tickets_by_next_deadline() {
    let doc = json(&["queue", "--at", AT, "--format", "json"]);
    assert_eq!(doc["kind"], "queue");
    let q = &doc["queue"];
    let tickets = q["tickets"].as_array().unwrap();
    let ids: Vec<&str> = tickets.iter().map(|t| t["complaint_id"].as_str().unwrap()).collect();
    // Six tickets are open at 6 October noon; CMP-2026-000063 has no clock running (its
    // clocks were met or closed; it sorts last).
    assert_eq!(
        ids,
        [
            "CMP-2026-000059",
            "CMP-2026-000077",
            "CMP-2026-000080",
            "CMP-2026-000076",
            "CMP-2026-000079",
            "CMP-2026-000063"
        ]
    );
    assert_eq!(q["overdue"], 2);
    assert_eq!(q["at_risk"], 0);
    let first = &tickets[0];
    assert_eq!(first["clock"], "revisit");
    assert_eq!(first["urgency"], "overdue");
    assert_eq!(first["department"], "outlet");
    assert_eq!(first["handler"], "h-112");
    // 首问负责制: the intake agent who received it owns it (no transfer recorded).
    assert_eq!(first["owner"], "cs-036");
    // The green channel: the centre head (dir-02) stepped in (docs/domain.md R-SLA-9).
    assert_eq!(first["escalation_level"], "center_director");
    // Hand check: the revisit is due 3 days (policy sla.ordinary.revisit) after the last final
    // response, given at 2026-09-30T06:09:36+08:00 (see `plaint history CMP-2026-000059`), so
    // at noon on 6 October it is 3 d 5 h 50 min overdue.
    let history = text(&["history", "CMP-2026-000059", "--json"]);
    let last_final = history
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .rfind(|e| e["type"] == "Responded" && e["data"]["kind"] == "final")
        .expect("a final response");
    let final_at = ts(last_final["occurred_at"].as_str().unwrap());
    let due = ts(first["due_at"].as_str().unwrap());
    assert_eq!(due, final_at + chrono::Duration::days(3));
    assert_eq!(first["overdue_ms"].as_i64().unwrap(), (ts(AT) - due).num_milliseconds());
    assert_eq!(tickets[1]["clock"], "green_channel");
    assert_eq!(tickets[1]["urgency"], "overdue");
    assert_eq!(tickets[4]["clock"], "supervision");
    assert_eq!(tickets[5]["urgency"], "no_clock");
    // Due times ascend.
    let dues: Vec<_> = tickets[..5].iter().map(|t| ts(t["due_at"].as_str().unwrap())).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");

    // Filters.
    let outlet = json(&["queue", "--at", AT, "--department", "outlet", "--json"]);
    assert_eq!(outlet["queue"]["tickets"].as_array().unwrap().len(), 1);
    let handler = json(&["queue", "--at", AT, "--handler", "h-072", "--json"]);
    assert_eq!(handler["queue"]["tickets"][0]["complaint_id"], "CMP-2026-000077");
    // The table shows times in the office's zone; --utc in UTC.
    let table = text(&["queue", "--at", AT]);
    assert!(table.contains("6 open tickets, 2 overdue, 0 at risk"), "{table}");
    assert!(table.contains("2026-10-03T06:09:36+08:00"), "{table}");
    assert!(table.contains("cs-036"), "the owner column: {table}");
    let utc = text(&["queue", "--at", AT, "--utc"]);
    assert!(utc.contains("2026-10-02T22:09:36+00:00"), "{utc}");
    // CSV: BOM, header, one row per ticket.
    let csv = text(&["queue", "--at", AT, "--format", "csv"]);
    assert!(csv.starts_with('\u{feff}'), "BOM");
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("CMP-2026-000059,revisit,2026-10-03T06:09:36+08:00,overdue"));
}

#[test]
fn sla_ticket_explains_every_clock() {
    let doc = json(&[
        "sla",
        "--ticket",
        "CMP-2026-000073",
        "--now",
        "2026-10-02T18:00:00+08:00",
        "--json",
    ]);
    let e = &doc["sla"];
    assert_eq!(e["policy_version"], "plaint-default-2026.2");
    assert_eq!(e["time_zone"], "Asia/Shanghai");
    let clock = |name: &str| {
        e["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clock"] == name)
            .unwrap_or_else(|| panic!("clock {name}"))
            .clone()
    };
    // Received Friday 2 October 09:50, in the National Day break (1–7 October 2026): 3 working
    // days are Thursday 8, Friday 9 and the make-up Saturday 10 October, so it is due at the end
    // of 10 October.
    let resolution = clock("resolution");
    assert_eq!(resolution["rule"], "sla.ordinary.resolution");
    assert_eq!(resolution["allowance"], "3 working days");
    assert_eq!(
        ts(resolution["recorded_due_at"].as_str().unwrap()),
        ts("2026-10-11T00:00:00+08:00")
    );
    let skipped: Vec<&str> = resolution["skipped_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            "2026-10-02",
            "2026-10-03",
            "2026-10-04",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07"
        ]
    );
    assert_eq!(resolution["verdict_name"], "pending");
    // 24 hours run through the holiday: no day skipped.
    let first = clock("first_response");
    assert_eq!(first["allowance"], "24 h");
    assert_eq!(first["skipped_days"].as_array().unwrap().len(), 0);
    assert_eq!(
        ts(first["recorded_due_at"].as_str().unwrap()),
        ts("2026-10-03T09:50:00+08:00")
    );
    // The table says the same, days grouped.
    let table = text(&[
        "sla",
        "--ticket",
        "CMP-2026-000073",
        "--now",
        "2026-10-02T18:00:00+08:00",
    ]);
    assert!(table.contains("2026-10-02..07 国庆节 National Day"), "{table}");
    assert!(table.contains("sla.ordinary.resolution"), "{table}");
    // An unknown ticket is exit 1, naming it.
    let out = demo().plaint(&["sla", "--ticket", "CMP-NOPE"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("CMP-NOPE"), "{}", stderr(&out));
}

#[test]
fn heatmap_counts_classified_tickets_of_the_month() {
    let doc = json(&["heatmap", "--month", "2026-09", "--json"]);
    let cells = doc["heat_map"]["cells"].as_array().unwrap();
    let total: u64 = cells.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    // Hand check: 70 tickets received in September 2026, 3 of them never classified (rejected, merged or withdrawn before classification).
    let monthly = json(&[
        "report",
        "monthly",
        "--month",
        "2026-09",
        "--now",
        "2026-10-20",
        "--json",
    ]);
    assert_eq!(monthly["sections"]["received"], 70);
    assert_eq!(monthly["sections"]["by_category"]["unclassified"], 3);
    assert_eq!(total, 67);
    assert_eq!(cells.len(), 59);
    let csv = text(&["heatmap", "--month", "2026-09", "--format", "csv"]);
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 60);
    // The picture: one mark per region × category, in an HTML page or a bare SVG.
    let html = text(&["heatmap", "--month", "2026-09", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    let regions: std::collections::BTreeSet<&str> = cells.iter().map(|c| c["region"].as_str().unwrap()).collect();
    let categories: std::collections::BTreeSet<&str> = cells.iter().map(|c| c["category"].as_str().unwrap()).collect();
    let marks = format!("data-marks=\"{}\"", regions.len() * categories.len());
    assert!(html.contains(&marks), "{marks}");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained: no fetches"
    );
    let svg_path = demo().path("heat.svg");
    let out = demo()
        .plaint(&[
            "heatmap",
            "--month",
            "2026-09",
            "--format",
            "svg",
            "--out",
            svg_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{svg}");
}

#[test]
fn appeals_list_who_may_go_to_the_regulator() {
    let now = "2026-09-20T12:00:00+08:00";
    let doc = json(&["appeals", "--now", now, "--json"]);
    let a = &doc["appeals"];
    let eligible = a["eligible"].as_array().unwrap();
    assert!(!eligible.is_empty());
    for e in eligible {
        let appeal = &e["appeal"];
        assert_eq!(appeal["appeal"], "eligible");
        let (since, until) = (
            ts(appeal["since"].as_str().unwrap()),
            ts(appeal["until"].as_str().unwrap()),
        );
        assert!(since <= ts(now) && ts(now) <= until, "{e}");
        if appeal["reason"] == "no_answer" {
            // Policy: appeal after 7 days without an answer, within 365 days of receipt.
            assert_eq!(until - since, chrono::Duration::days(365 - 7), "{e}");
        }
    }
    let untils: Vec<_> = eligible
        .iter()
        .map(|e| ts(e["appeal"]["until"].as_str().unwrap()))
        .collect();
    assert!(untils.windows(2).all(|w| w[0] <= w[1]), "window closing first");
    let table = text(&["appeals", "--now", now]);
    assert!(
        table.contains(&format!("{} tickets eligible now", eligible.len())),
        "{table}"
    );
}

#[test]
fn alerts_in_every_format() {
    let doc = json(&["alerts", "--now", "2026-10-06T12:00:00+08:00", "--json"]);
    assert_eq!(doc["kind"], "alerts");
    let surges = doc["alerts"]["surges"].as_array().unwrap().len();
    let delays = doc["alerts"]["region_delays"].as_array().unwrap().len();
    let table = text(&["alerts", "--now", "2026-10-06T12:00:00+08:00"]);
    assert!(
        table.contains(&format!(
            "{surges} category surges, {delays} regions with a high delay share"
        )),
        "{table}"
    );
    let csv = text(&["alerts", "--now", "2026-10-06T12:00:00+08:00", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 1 + surges + delays);
}

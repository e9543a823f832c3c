//! `demo` (determinism, emitted commands), `report weekly`, `sla`, `repeats`, `tick`, `rebuild`,
//! with fixed `--now` values.

mod common;
use common::*;
use predicates::prelude::*;

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

#[test]
fn demo_is_deterministic_for_a_seed() {
    let a = Env::new();
    let b = Env::new();
    let run = |env: &Env, seed: &str| {
        env.plaint(&["demo", "--complaints", "60", "--seed", seed, "--json"])
            .output()
            .unwrap()
    };
    let first = json_of(&run(&a, "11"));
    let second = json_of(&run(&b, "11"));
    assert_eq!(first, second, "same seed, same report");
    assert_eq!(first["kind"], "weekly_report");
    assert_eq!(first["format_version"], 1);
    assert_eq!(a.stats()["events"], b.stats()["events"]);
    assert!(a.stats()["events"].as_u64().unwrap() > 60 * 3);

    let other = Env::new();
    let third = json_of(&run(&other, "12"));
    assert_ne!(first, third, "another seed, another workload");

    // A second demo into a store that holds events is refused (demo wants a fresh store).
    a.plaint(&["demo", "--complaints", "5"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("hint:"));
}

#[test]
fn demo_prints_tables_and_emits_an_importable_command_file() {
    let env = Env::new();
    let emitted = env.path("workload.jsonl");
    let out = env
        .plaint(&["demo", "--complaints", "30", "--seed", "5", "--emit-commands"])
        .arg(&emitted)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("category") || text.contains("Category"), "{text}");
    // The emitted file imports into another store to the very same log.
    let other = Env::new();
    other.init();
    other
        .plaint(&["import", emitted.to_str().unwrap(), "--now", NOW])
        .assert()
        .success();
    assert_eq!(env.stats()["events"], other.stats()["events"]);
    assert_eq!(env.stats()["head_position"], other.stats()["head_position"]);
}

#[test]
fn reports_sla_repeats_tick_and_rebuild() {
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "80", "--seed", "2"])
        .assert()
        .success();
    let now = "2026-09-20T12:00:00Z";

    let weekly = json_of(
        &env.plaint(&["report", "weekly", "--week", "2026-09-14", "--now", now, "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(weekly["kind"], "weekly_report");
    let again = json_of(
        &env.plaint(&["report", "weekly", "--week", "2026-09-14", "--now", now, "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(weekly, again, "a report for a fixed --now is reproducible");
    env.plaint(&["report", "weekly", "--week", "2026-09-14", "--now", now])
        .assert()
        .success();

    let sla = json_of(&env.plaint(&["sla", "--now", now, "--json"]).output().unwrap());
    assert_eq!(sla["kind"], "sla_report");
    env.plaint(&["sla", "--now", now]).assert().success();

    let repeats = json_of(&env.plaint(&["repeats", "--now", now, "--json"]).output().unwrap());
    assert_eq!(repeats["kind"], "repeat_report");
    env.plaint(&["repeats", "--now", now]).assert().success();

    // tick appends the escalations due at --now once: a second tick at the same instant adds none.
    let before = env.stats()["events"].as_u64().unwrap();
    let tick = json_of(
        &env.plaint(&["tick", "--now", "2026-12-31T00:00:00Z", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(tick["kind"], "tick");
    let appended = tick["appended"].as_u64().unwrap();
    let after = env.stats()["events"].as_u64().unwrap();
    assert_eq!(after, before + appended);
    let tick2 = json_of(
        &env.plaint(&["tick", "--now", "2026-12-31T00:00:00Z", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(tick2["appended"], 0);
    assert_eq!(env.stats()["events"].as_u64().unwrap(), after);

    // rebuild: the same figures afterwards.
    let out = env.plaint(&["rebuild"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("events/s"), "{}", stderr(&out));
    let rebuilt = json_of(&env.plaint(&["sla", "--now", now, "--json"]).output().unwrap());
    assert_eq!(rebuilt, sla);
    // One projection alone, from its own checkpoint: the same figures again.
    let out = env.plaint(&["rebuild", "--projection", "sla"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("rebuilt sla"), "{}", stderr(&out));
    let rebuilt_sla = json_of(&env.plaint(&["sla", "--now", now, "--json"]).output().unwrap());
    assert_eq!(rebuilt_sla, sla);
    env.plaint(&["rebuild", "--projection", "no-such-projection"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-projection"));
    // A bad --now is bad input.
    env.plaint(&["sla", "--now", "tomorrow"]).assert().code(1);
}

//! Issue 14: every instant a person reads is in the office's time zone (Asia/Shanghai) with its
//! offset; `--tz ZONE` and `--utc` override what is shown and how bare dates on the command
//! line are read; JSON stays RFC 3339.

mod common;
use common::*;

fn early_complaint(env: &Env) {
    env.init();
    // 07:00 on 12 October in Shanghai is 23:00 on 11 October UTC and 19:00 EDT in New York.
    let early = command(
        "early:receive",
        "CMP-TZ-1",
        "2026-10-12T07:00:00+08:00",
        r#""command":"receive","channel":"hotline","description":"清晨投诉","region":"shanghai""#,
    );
    import_lines(env, "tz.jsonl", &[early]);
}

fn run(env: &Env, args: &[&str]) -> String {
    let out = env.plaint(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn history_and_show_are_in_the_office_time_zone_unless_told_otherwise() {
    let env = Env::new();
    early_complaint(&env);
    let office = run(&env, &["history", "CMP-TZ-1"]);
    assert!(office.contains("2026-10-12T07:00:00+08:00"), "{office}");
    let utc = run(&env, &["history", "CMP-TZ-1", "--utc"]);
    assert!(utc.contains("2026-10-11T23:00:00+00:00"), "{utc}");
    let ny = run(&env, &["--tz", "America/New_York", "history", "CMP-TZ-1"]);
    assert!(ny.contains("2026-10-11T19:00:00-04:00"), "{ny}");
    let show = run(&env, &["show", "CMP-TZ-1", "--tz=Europe/London"]);
    assert!(show.contains("2026-10-12T00:00:00+01:00"), "{show}");
    // JSON is unchanged by --tz: RFC 3339 with its offset, as the export writes it.
    let json = run(&env, &["history", "CMP-TZ-1", "--json", "--tz", "America/New_York"]);
    let plain = run(&env, &["history", "CMP-TZ-1", "--json"]);
    assert_eq!(json, plain);
}

#[test]
fn bare_dates_are_read_in_the_display_time_zone() {
    let env = Env::new();
    early_complaint(&env);
    let count = |args: &[&str]| run(&env, args).lines().count();
    // Office time: the event is on 12 October.
    assert_eq!(
        count(&["audit", "--from", "2026-10-12", "--to", "2026-10-13", "--json"]),
        1
    );
    // In UTC (and in New York) it is on 11 October.
    assert_eq!(
        count(&["audit", "--utc", "--from", "2026-10-12", "--to", "2026-10-13", "--json"]),
        0
    );
    assert_eq!(
        count(&["audit", "--utc", "--from", "2026-10-11", "--to", "2026-10-12", "--json"]),
        1
    );
    assert_eq!(
        count(&[
            "audit",
            "--tz",
            "America/New_York",
            "--from",
            "2026-10-11",
            "--to",
            "2026-10-12",
            "--json"
        ]),
        1
    );
}

#[test]
fn a_bad_zone_is_refused_with_exit_1_naming_it() {
    let env = Env::new();
    early_complaint(&env);
    let out = env
        .plaint(&["history", "CMP-TZ-1", "--tz", "Asia/Beijing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Asia/Beijing"), "{}", stderr(&out));
    let out = env
        .plaint(&["history", "CMP-TZ-1", "--tz", "UTC", "--utc"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "--tz and --utc together are a usage mistake"
    );
}

#[test]
fn reports_write_their_instants_in_the_shown_zone_and_keep_the_office_week() {
    let env = Env::new();
    early_complaint(&env);
    let args = [
        "report",
        "weekly",
        "--week",
        "2026-W42",
        "--now",
        "2026-10-18T00:00:00+08:00",
        "--format",
        "json",
    ];
    let office: serde_json::Value = serde_json::from_str(&run(&env, &args)).unwrap();
    assert_eq!(office["sections"]["from"], "2026-10-12T00:00:00+08:00");
    assert_eq!(office["sections"]["time_zone"], "Asia/Shanghai");
    assert_eq!(office["sections"]["received"], 1);
    let mut utc_args = args.to_vec();
    utc_args.push("--utc");
    let utc: serde_json::Value = serde_json::from_str(&run(&env, &utc_args)).unwrap();
    // The same office week, written in UTC.
    assert_eq!(utc["sections"]["from"], "2026-10-11T16:00:00+00:00");
    assert_eq!(utc["sections"]["time_zone"], "UTC");
    assert_eq!(utc["sections"]["received"], 1);
    let html = run(
        &env,
        &[
            "report",
            "weekly",
            "--week",
            "2026-W42",
            "--now",
            "2026-10-18T00:00:00+08:00",
            "--format",
            "html",
        ],
    );
    assert!(html.contains("time zone Asia/Shanghai") && html.contains("2026-10-12 00:00 +08:00"));
}

//! Issue 11, "guards", through the `plaint` binary: a reused command id and implausible input
//! are rejected commands (exit 1) whose message names the command and the field.

mod common;
use common::*;
use predicates::prelude::*;

const NOW: &str = "2026-11-25T08:00:00Z";

#[test]
fn problem_4_submit_with_a_reused_command_id_exits_1_naming_the_original() {
    let env = Env::new();
    env.init();
    let lines = lifecycle("CMP-CLI-G1");
    env.plaint(&["submit", &lines[0], "--now", NOW]).assert().success();
    // The same line again: an idempotent retry.
    env.plaint(&["submit", &lines[0], "--now", NOW]).assert().success();
    // The receive's id with a verify body: refused.
    let reused = command(
        "CMP-CLI-G1:receive",
        "CMP-CLI-G1",
        "2026-10-12T09:30:00+08:00",
        r#""command":"verify","claim":"passed","evidence":"passed","history":"passed""#,
    );
    env.plaint(&["submit", &reused, "--now", NOW]).assert().code(1).stderr(
        predicate::str::contains("command_id_reused")
            .and(predicate::str::contains("CMP-CLI-G1"))
            .and(predicate::str::contains("Received")),
    );
}

#[test]
fn problem_6_implausible_now_and_occurred_at_exit_1_naming_the_field() {
    let env = Env::new();
    env.init();
    let lines = lifecycle("CMP-CLI-G2");
    env.plaint(&["submit", &lines[0], "--now", "9999-12-31"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("now").and(predicate::str::contains("input_bounds.latest")));
    env.plaint(&["tick", "--now", "9999-12-31"]).assert().code(1);
    let ancient = lines[0].replace("2026-10-12T09:00:00+08:00", "1800-01-01T00:00:00Z");
    env.plaint(&["submit", &ancient, "--now", NOW]).assert().code(1).stderr(
        predicate::str::contains("receive")
            .and(predicate::str::contains("occurred_at"))
            .and(predicate::str::contains("input_bounds.earliest")),
    );
}

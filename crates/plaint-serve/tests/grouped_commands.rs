//! Issue 15: single commands in flight together are committed in groups (one `execute_batch`
//! for the lot). Through real HTTP, concurrent commands must answer as the same commands sent
//! one at a time do: each its own outcome, stream version, rejection (a refused command amid a
//! group leaves the others committed) and retry answer.

mod common;

use common::*;
use plaint::workload::{generate, WorkloadConfig};
use plaint_serve::ServeConfig;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The lanes of the comparison: each complaint's commands in order, with a refused `resume`
/// after the second one, and at the end a retry of the first command (deduplicated) and its id
/// reused with another body (refused).
fn lanes(complaints: usize) -> Vec<Vec<Value>> {
    let cmds = generate(&WorkloadConfig {
        complaints,
        id_prefix: "CMP-GRP".to_owned(),
        // Independent complaints: no command reads another lane's complaint.
        repeat_share: 0.0,
        duplicate_share: 0.0,
        ..WorkloadConfig::default()
    });
    let mut by_complaint: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for cmd in &cmds {
        let lane = by_complaint.entry(cmd.complaint_id.to_string()).or_default();
        lane.push(serde_json::to_value(cmd).unwrap());
    }
    by_complaint
        .into_iter()
        .map(|(complaint, mut lane)| {
            let first = lane[0].clone();
            let resume = json!({"command_id": format!("{complaint}-resume"), "complaint_id": complaint,
                "actor": "cs-001", "command": "resume"});
            lane.insert(2.min(lane.len()), resume);
            let mut reused = first.clone();
            reused["actor"] = json!("cs-999");
            lane.push(first);
            lane.push(reused);
            lane
        })
        .collect()
}

/// What a client learns from one answer, less the global positions (they depend on how the
/// lanes interleave): their count instead.
fn answer_shape(status: u16, body: &Value) -> Value {
    let mut shape = body.clone();
    if let Some(positions) = body.get("positions").and_then(Value::as_array) {
        shape["positions"] = json!(positions.len());
    }
    json!({"status": status, "body": shape})
}

async fn post(server: &TestServer, cmd: &Value) -> (u16, Value) {
    let (status, body, _) = server.post_json("/v1/commands", cmd).await;
    (status, body)
}

/// Sends every lane, lanes concurrently (each lane's commands one after another); the answers
/// by lane, in order, and the positions of each committed command id.
async fn run_concurrently(server: &TestServer, lanes: &[Vec<Value>]) -> Vec<Vec<(u16, Value)>> {
    let tasks = lanes.iter().map(|lane| async move {
        let mut answers = Vec::with_capacity(lane.len());
        for cmd in lane {
            answers.push(post(server, cmd).await);
        }
        answers
    });
    futures::future::join_all(tasks).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_answer_as_sequential_ones() {
    let lanes = lanes(24);
    let (sequential, _) = TestServer::start(0, ServeConfig::default()).await;
    let (concurrent, _) = TestServer::start(0, ServeConfig::default()).await;
    let mut expected = Vec::new();
    for lane in &lanes {
        let mut answers = Vec::new();
        for cmd in lane {
            answers.push(post(&sequential, cmd).await);
        }
        expected.push(answers);
    }
    let got = run_concurrently(&concurrent, &lanes).await;
    let mut refused = 0;
    for ((lane, want), got) in lanes.iter().zip(&expected).zip(&got) {
        for ((cmd, (ws, wb)), (gs, gb)) in lane.iter().zip(want).zip(got) {
            assert_eq!(answer_shape(*gs, gb), answer_shape(*ws, wb), "{cmd}");
            refused += usize::from(*gs >= 400);
        }
        // The retry of the lane's first command answers its original positions.
        let (first, retry) = (&got[0].1, &got[got.len() - 2].1);
        assert_eq!(retry["outcome"], "deduplicated", "{retry}");
        assert_eq!(retry["positions"], first["positions"], "{retry}");
    }
    assert!(refused >= 2 * lanes.len(), "every lane had its refusals: {refused}");
    // The same events in both logs, every committed event once.
    let (_, want) = sequential.get_json("/v1/stats").await;
    let (_, got) = concurrent.get_json("/v1/stats").await;
    assert_eq!(got["head_position"], want["head_position"]);
    sequential.stop().await;
    concurrent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_on_one_complaint_answer_as_sequential_ones() {
    // The same command sent eight times at once (a client retrying eagerly), and eight
    // different `receive` commands for one new complaint at once.
    let same = receive("same-1", "CMP-SAME");
    let rivals: Vec<Value> = (0..8).map(|i| receive(&format!("rival-{i}"), "CMP-RIVAL")).collect();
    let (sequential, _) = TestServer::start(0, ServeConfig::default()).await;
    let (concurrent, _) = TestServer::start(0, ServeConfig::default()).await;
    let mut want: Vec<Value> = Vec::new();
    for cmd in std::iter::repeat_n(&same, 8).chain(&rivals) {
        let (status, body) = post(&sequential, cmd).await;
        want.push(outcome_of(status, &body));
    }
    let sends = std::iter::repeat_n(&same, 8)
        .chain(&rivals)
        .map(|cmd| post(&concurrent, cmd));
    let answers = futures::future::join_all(sends).await;
    let mut got: Vec<Value> = answers.iter().map(|(s, b)| outcome_of(*s, b)).collect();
    // Which rival wins depends on arrival; the answers, as a multiset, do not.
    want.sort_by_key(Value::to_string);
    got.sort_by_key(Value::to_string);
    assert_eq!(got, want);
    // Every answer to the repeated command carries the one commit's positions and version.
    let same_answers: Vec<&Value> = answers[..8].iter().map(|(_, b)| b).collect();
    for b in &same_answers {
        assert_eq!(b["positions"], same_answers[0]["positions"], "{b}");
        assert_eq!(b["stream_version"], 1, "{b}");
    }
    let winner = answers[8..]
        .iter()
        .find(|(s, _)| *s == 201)
        .expect("one rival committed");
    assert_eq!(winner.1["stream_version"], 1);
    let (_, stats) = concurrent.get_json("/v1/stats").await;
    assert_eq!(stats["head_position"], 2, "one event per complaint");
    sequential.stop().await;
    concurrent.stop().await;
}

/// The status with the outcome, or the problem's type (no instance: the rivals' ids differ).
fn outcome_of(status: u16, body: &Value) -> Value {
    json!({"status": status, "outcome": body["outcome"], "problem": body["type"],
        "version": body["stream_version"]})
}

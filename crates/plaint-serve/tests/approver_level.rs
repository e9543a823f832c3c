//! docs/domain.md R-COMP-6 through real HTTP: the approver level an `approve_compensation`
//! names is bound to the caller's token role (`plaint_domain::access::Role::permits`), and the
//! amount band of the policy is the domain's check on top of it.

mod common;

use common::TestServer;
use plaint::access::Role;
use plaint_serve::ServeConfig;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Posts with `?events=true`: the answers are checked for the events they committed.
async fn post(client: &reqwest::Client, base: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{base}/v1/commands?events=true"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn cmd(id: &str, actor: &str, body: Value) -> Value {
    let mut c = json!({"command_id": id, "complaint_id": "CMP-2026-000077", "actor": actor});
    for (k, v) in body.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn approve(id: &str, role: &str) -> Value {
    cmd(
        id,
        "approver-1",
        json!({"command": "approve_compensation", "compensation_id": "c1", "role": role}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed001_approver_level_is_bound_to_the_tokens_role() {
    let roles = [Role::Intake, Role::Handler, Role::Supervisor, Role::DepartmentHead];
    let names: Vec<String> = roles.iter().map(|role| format!("{role}-app")).collect();
    let specs: Vec<_> = roles.iter().zip(&names).map(|(r, n)| (n.as_str(), *r, None)).collect();
    let (server, texts) = TestServer::start_with_tokens(ServeConfig::default(), &specs).await;
    let tokens: HashMap<Role, String> = roles.into_iter().zip(texts).collect();
    let (client, base) = (server.client.clone(), server.base.clone());

    // Given a dispatched loss ticket with a proposal of 1 000 yuan (the policy's
    // department_head band: above 500, up to 5 000 yuan).
    let intake = &tokens[&Role::Intake];
    for c in [
        cmd(
            "a-1",
            "cs-1",
            json!({"command": "receive", "channel": "hotline", "region": "杭州",
                   "description": "保价快件丢失，要求按保价金额赔偿"}),
        ),
        cmd(
            "a-2",
            "cs-1",
            json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
        ),
        cmd(
            "a-3",
            "cs-1",
            json!({"command": "classify", "category": "loss", "severity": "urgent"}),
        ),
        cmd("a-4", "cs-1", json!({"command": "dispatch", "department": "hub"})),
    ] {
        let (s, p) = post(&client, &base, intake, &c).await;
        assert!(s == 200 || s == 201, "{s} {p}");
    }
    let propose = cmd(
        "a-5",
        "handler-1",
        json!({"command": "propose_compensation", "compensation_id": "c1",
               "compensation": {"remedy": "payment", "amount": 100000, "insured": true,
                                "insured_amount": 1000000, "actual_loss": 1200000, "total_loss": true}}),
    );
    let (s, p) = post(&client, &base, &tokens[&Role::Handler], &propose).await;
    assert!(s == 200 || s == 201, "{s} {p}");

    // When a supervisor's token approves as the centre director or the department head: 403,
    // naming the role; nothing is written.
    let supervisor = &tokens[&Role::Supervisor];
    for (i, level) in ["center_director", "department_head"].into_iter().enumerate() {
        let (s, p) = post(&client, &base, supervisor, &approve(&format!("a-6{i}"), level)).await;
        assert_eq!(s, 403, "{p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("(role supervisor)") && detail.contains(&format!("approve compensation as {level}")),
            "{p}"
        );
    }
    // As a supervisor, within its role: the domain refuses the amount band (needs department_head).
    let (s, p) = post(&client, &base, supervisor, &approve("a-7", "supervisor")).await;
    assert!(s == 409 || s == 422, "{s} {p}");
    assert!(p.to_string().contains("department_head"), "{p}");
    // A department head's token approves it.
    let (s, p) = post(
        &client,
        &base,
        &tokens[&Role::DepartmentHead],
        &approve("a-8", "department_head"),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {p}");
    assert!(p.to_string().contains("CompensationApproved"), "{p}");

    server.stop().await;
}

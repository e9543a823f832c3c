//! docs/domain.md R-COMP-6 through real HTTP: the approver level an `approve_compensation`
//! names is bound to the caller's token role (`plaint_domain::access::Role::permits`), and the
//! amount band of the policy is the domain's check on top of it.

use plaint::access::Role;
use plaint::{Actor, Engine, EngineConfig};
use plaint_serve::{ServeConfig, Server};
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
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let admin = Actor::person("it-admin").unwrap();
    let mut tokens: HashMap<Role, String> = HashMap::new();
    for role in [Role::Intake, Role::Handler, Role::Supervisor, Role::DepartmentHead] {
        let made = engine.create_token(&format!("{role}-app"), role, &admin).await.unwrap();
        tokens.insert(role, made.token);
    }
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    };
    let server = Server::bind(engine, config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();

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

    let _ = stop.send(());
    handle.await.unwrap().unwrap();
}

//! Roles and tokens through real HTTP (docs/serve.md "Roles and tokens"): 401 without a valid
//! token, 403 for what the role may not do, and reveals recorded in the log before they show.

use plaint::access::{Role, REVEAL_STREAM};
use plaint::{Engine, EngineConfig};
use plaint_serve::ServeConfig;
use serde_json::{json, Value};
use std::collections::HashMap;

mod common;
use common::TestServer;

/// A server on a file log with one token per role (returned by role).
async fn start() -> (TestServer, HashMap<Role, String>) {
    let names: Vec<String> = Role::ALL.iter().map(|role| format!("{role}-app")).collect();
    let specs: Vec<_> = Role::ALL
        .iter()
        .zip(&names)
        .map(|(role, name)| (name.as_str(), *role, None))
        .collect();
    let (server, texts) = TestServer::start_with_tokens(ServeConfig::default(), &specs).await;
    (server, Role::ALL.into_iter().zip(texts).collect())
}

fn receive(id: &str, complaint: &str) -> Value {
    json!({"command_id": id, "complaint_id": complaint, "actor": "cs-014", "command": "receive",
           "channel": "hotline", "region": "杭州", "description": "快递显示已签收但本人未收到",
           "customer": {"name": "陈静", "phone": "13800138000"}})
}

#[tokio::test]
async fn every_role_boundary_answers_401_or_403_and_writes_nothing() {
    let (server, tokens) = start().await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    // 401: no token, not a bearer, a malformed token, a forged secret.
    let (s, p, h) = server.send(get.clone(), "/v1/tickets", None, None).await;
    assert_eq!(s, 401, "{p}");
    assert_eq!(p["type"], "/problems/unauthorized");
    assert!(p["detail"].as_str().unwrap().contains("Authorization: Bearer"), "{p}");
    assert_eq!(h["www-authenticate"], "Bearer realm=\"plaint\"");
    let (s, _, _) = server.send(get.clone(), "/v1/tickets", Some("not-a-token"), None).await;
    assert_eq!(s, 401);
    let real = &tokens[&Role::Intake];
    let last = if real.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &real[..real.len() - 1]);
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&forged), None).await;
    assert_eq!(s, 401);
    assert!(p["detail"].as_str().unwrap().contains("unknown or revoked"), "{p}");
    let c0 = receive("c-0", "CMP-2026-000009");
    let (s, _, _) = server.send(post.clone(), "/v1/commands", None, Some(&c0)).await;
    assert_eq!(s, 401);

    // Intake receives; a handler may not; an analyst and an auditor send nothing.
    let c1 = receive("c-1", "CMP-2026-000001");
    let (s, p, _) = server
        .send(post.clone(), "/v1/commands", Some(&tokens[&Role::Intake]), Some(&c1))
        .await;
    assert!(s == 200 || s == 201, "{s} {p}");
    let c2 = receive("c-2", "CMP-2026-000002");
    for role in [Role::Handler, Role::Analyst, Role::Auditor, Role::Finance] {
        let (s, p, _) = server
            .send(post.clone(), "/v1/commands", Some(&tokens[&role]), Some(&c2))
            .await;
        assert_eq!(s, 403, "{role}: {p}");
        assert_eq!(p["type"], "/problems/forbidden");
        let want = format!("(role {role}) may not send receive commands");
        assert!(p["detail"].as_str().unwrap().contains(&want), "{p}");
    }
    // A batch with one forbidden command is refused whole.
    let batch = json!([receive("c-3", "CMP-2026-000003"),
        {"command_id": "c-4", "complaint_id": "CMP-2026-000001", "actor": "sup-1", "command": "escalate",
         "level": "department_head"}]);
    let (s, _, _) = server
        .send(post.clone(), "/v1/commands", Some(&tokens[&Role::Intake]), Some(&batch))
        .await;
    assert_eq!(s, 403);
    let auditor = Some(tokens[&Role::Auditor].as_str());
    let (s, _, _) = server
        .send(get.clone(), "/v1/tickets/CMP-2026-000003", auditor, None)
        .await;
    assert_eq!(s, 404, "nothing of the refused batch was written");

    // Money on a response is finance's right: the handler is refused, finance may.
    let paid = json!({"command_id": "c-5", "complaint_id": "CMP-2026-000001", "actor": "h-1", "command": "respond",
        "kind": "final", "compensation": {"remedy": "payment", "amount": 5000}});
    let (s, p, _) = server
        .send(post.clone(), "/v1/commands", Some(&tokens[&Role::Handler]), Some(&paid))
        .await;
    assert_eq!(s, 403, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("carrying compensation"), "{p}");
    let (s, p, _) = server
        .send(post.clone(), "/v1/commands", Some(&tokens[&Role::Finance]), Some(&paid))
        .await;
    assert_ne!(s, 403, "{p}");

    // Reads: everyone but the token administrator reads tickets; only the auditor audits; the
    // intake desk reads no report.
    for role in Role::ALL {
        let t = Some(tokens[&role].as_str());
        let (s, _, _) = server.send(get.clone(), "/v1/tickets/CMP-2026-000001", t, None).await;
        assert_eq!(s, if role == Role::Admin { 403 } else { 200 }, "{role}");
        let (s, _, _) = server.send(get.clone(), "/v1/audit", t, None).await;
        assert_eq!(s, if role == Role::Auditor { 200 } else { 403 }, "{role} audit");
    }
    let (s, _, _) = server
        .send(get.clone(), "/v1/stats", Some(&tokens[&Role::Intake]), None)
        .await;
    assert_eq!(s, 403);
    let (s, _, _) = server
        .send(get.clone(), "/v1/stats", Some(&tokens[&Role::Analyst]), None)
        .await;
    assert_eq!(s, 200);
    // Health checks answer without a token (load balancers carry none).
    let (s, _, _) = server.send(get.clone(), "/healthz", None, None).await;
    assert_eq!(s, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_reveal_needs_the_right_and_a_reason_and_is_recorded() {
    let (server, tokens) = start().await;
    let c1 = receive("c-1", "CMP-2026-000001");
    let (s, _, _) = server
        .send(
            reqwest::Method::POST,
            "/v1/commands",
            Some(&tokens[&Role::Intake]),
            Some(&c1),
        )
        .await;
    assert!(s == 200 || s == 201);
    let path = "/v1/tickets/CMP-2026-000001?reveal=true";
    let auditor = Some(tokens[&Role::Auditor].as_str());

    // Masked by default.
    let (_, t, _) = server
        .send(reqwest::Method::GET, "/v1/tickets/CMP-2026-000001", auditor, None)
        .await;
    assert_eq!(t["personal"]["state"], "masked", "{t}");
    // The analyst may not reveal; nobody may without a reason.
    let (s, p, _) = server
        .send(reqwest::Method::GET, path, Some(&tokens[&Role::Analyst]), None)
        .await;
    assert_eq!(s, 403, "{p}");
    let (s, p, _) = server.send(reqwest::Method::GET, path, auditor, None).await;
    assert_eq!(s, 400, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("X-Plaint-Reveal-Reason"), "{p}");

    let r = server
        .client
        .get(format!("{}{path}", server.base))
        .bearer_auth(&tokens[&Role::Auditor])
        .header("X-Plaint-Reveal-Reason", "PIPL access request 2026-31")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["personal"]["state"], "clear", "{t}");
    assert_eq!(t["personal"]["name"], "陈静");

    let dir = server.stop().await;
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let reveals: Vec<_> = engine
        .audit(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.meta.complaint_id.as_str() == REVEAL_STREAM)
        .collect();
    assert_eq!(reveals.len(), 1, "one reveal recorded; refusals recorded nothing");
    assert_eq!(reveals[0].meta.actor.as_str(), "auditor-app");
    let plaint::EventData::PersonalDataRevealed(r) = &reveals[0].data else {
        panic!()
    };
    assert_eq!(r.complaint_id.as_str(), "CMP-2026-000001");
    assert_eq!(r.reason, "PIPL access request 2026-31");
    assert_eq!(r.role, Role::Auditor);
    engine.close().await.unwrap();
}

/// Issue 15: the token and reveal streams are no complaints. A command addressed to one is
/// refused (422 naming `complaint_id`, also with a command id taken from the token stream,
/// which must not answer "deduplicated" with its events), in a batch too, and the ticket
/// routes answer 404 for them, even to the auditor.
#[tokio::test]
async fn system_streams_are_refused_as_complaints_over_http() {
    let (server, tokens) = start().await;
    let intake = Some(tokens[&Role::Intake].as_str());
    let post = reqwest::Method::POST;
    let token_id = plaint::access::token_id_of(&tokens[&Role::Intake]).unwrap().to_owned();
    for stream in plaint::domain::RESERVED_STREAMS {
        for command_id in ["c-1".to_owned(), format!("token-issue-{token_id}")] {
            let (s, p, _) = server
                .send(
                    post.clone(),
                    "/v1/commands",
                    intake,
                    Some(&receive(&command_id, stream)),
                )
                .await;
            assert_eq!(s, 422, "{stream} {command_id}: {p}");
            assert_eq!(p["type"], "/problems/rejected-invalid", "{p}");
            assert_eq!(p["rejection"]["field"], "complaint_id", "{p}");
            assert!(p["detail"].as_str().unwrap().contains("reserved system stream"), "{p}");
        }
        let batch = json!([receive("b-1", stream)]);
        let (s, p, _) = server.send(post.clone(), "/v1/commands", intake, Some(&batch)).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["results"][0]["outcome"], "rejected", "{p}");
        assert_eq!(p["committed"], 0, "{p}");
        for path in ["", "/history", "/sla"] {
            let (s, p, _) = server
                .send(
                    reqwest::Method::GET,
                    &format!("/v1/tickets/{stream}{path}"),
                    Some(&tokens[&Role::Auditor]),
                    None,
                )
                .await;
            assert_eq!(s, 404, "{stream}{path}: {p}");
            assert!(p["detail"].as_str().unwrap().contains("system stream"), "{p}");
        }
    }
    let dir = server.stop().await;
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    // Nothing but the tokens of `start` was written.
    assert_eq!(engine.head_position().await.unwrap(), Role::ALL.len() as u64);
    engine.close().await.unwrap();
}

/// Issue 15: tokens are created, listed and revoked through the running server by the admin
/// role only; a new token authenticates with the next request and a revoked one stops at once;
/// bad requests get problem documents naming the field; both changes are events in the log.
#[tokio::test]
async fn the_admin_manages_tokens_through_the_running_server() {
    let (server, tokens) = start().await;
    let admin = Some(tokens[&Role::Admin].as_str());
    let (get, post) = (reqwest::Method::GET, reqwest::Method::POST);
    let ask = json!({"role": "handler", "name": "dispatch-console"});

    // Nobody else may, and nobody without a token.
    let (s, p, _) = server.send(post.clone(), "/v1/tokens", None, Some(&ask)).await;
    assert_eq!(s, 401, "{p}");
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let t = Some(tokens[&role].as_str());
        let (s, p, _) = server.send(post.clone(), "/v1/tokens", t, Some(&ask)).await;
        assert_eq!(s, 403, "{role}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("manage API tokens"), "{p}");
        let (s, _, _) = server.send(get.clone(), "/v1/tokens", t, None).await;
        assert_eq!(s, 403, "{role}");
    }

    // Created: the token is in this answer only, the record names the admin as issuer.
    let (s, made, _) = server.send(post.clone(), "/v1/tokens", admin, Some(&ask)).await;
    assert_eq!(s, 201, "{made}");
    let console = made["token"].as_str().unwrap().to_owned();
    assert_eq!(made["record"]["role"], "handler");
    assert_eq!(made["record"]["issued_by"], "admin-app");
    assert!(made["record"]["issued_at"].as_str().unwrap().len() >= 20, "{made}");
    // Usable with the very next request.
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&console), None).await;
    assert_eq!(s, 200, "{p}");
    // A default name when none is given.
    let (s, p, _) = server
        .send(post.clone(), "/v1/tokens", admin, Some(&json!({"role": "analyst"})))
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["record"]["name"], "analyst-2", "{p}");

    // Bad requests name what is wrong.
    let (s, p, _) = server
        .send(post.clone(), "/v1/tokens", admin, Some(&json!({"role": "root"})))
        .await;
    assert_eq!((s, p["field"].as_str()), (422, Some("role")), "{p}");
    let (s, p, _) = server
        .send(
            post.clone(),
            "/v1/tokens",
            admin,
            Some(&json!({"role": "intake", "rol": 1})),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("rol"), "{p}");
    let (s, p, _) = server.send(post.clone(), "/v1/tokens", admin, Some(&ask)).await;
    assert_eq!(s, 422, "a live token has that name: {p}");
    assert!(p["detail"].as_str().unwrap().contains("dispatch-console"), "{p}");
    let r = server
        .client
        .post(format!("{}/v1/tokens", server.base))
        .bearer_auth(&tokens[&Role::Admin])
        .header("content-type", "application/json")
        .body("{\"role\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/malformed-json", "{p}");

    // Listed without secrets or hashes.
    let (s, list, _) = server.send(get.clone(), "/v1/tokens", admin, None).await;
    assert_eq!(s, 200, "{list}");
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"dispatch-console") && names.contains(&"intake-app"),
        "{names:?}"
    );
    assert!(!list.to_string().contains(&console[20..]), "no secret in the list");
    assert!(list["tokens"][0].get("hash").is_none(), "{list}");

    // Revoked: a reason is needed; then the token stops at once.
    let (s, p, _) = server
        .send(
            post.clone(),
            "/v1/tokens/dispatch-console/revoke",
            admin,
            Some(&json!({"reason": " "})),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let (s, p, _) = server
        .send(
            post.clone(),
            "/v1/tokens/dispatch-console/revoke",
            admin,
            Some(&json!({"reason": "console replaced"})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert!(p["revoked_at"].is_string(), "{p}");
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&console), None).await;
    assert_eq!(s, 401, "{p}");
    let (s, p, _) = server
        .send(
            post.clone(),
            "/v1/tokens/no-such-token/revoke",
            admin,
            Some(&json!({"reason": "x"})),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("no-such-token"), "{p}");

    let dir = server.stop().await;
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let table = engine.tokens().await.unwrap();
    let console = table.tokens().find(|t| t.name == "dispatch-console").unwrap();
    assert!(console.revoked_at.is_some());
    assert_eq!(console.issued_by.as_str(), "admin-app");
    engine.verify().await.unwrap();
    engine.close().await.unwrap();
}

/// Issue 15, wave 5: a token the server has verified is not hashed again at every request
/// (auth.rs keeps the tokens each read of the table verified), yet a revocation still bites on
/// the very next request, on the command route and on a read, and a known token id with another
/// secret is still refused.
#[tokio::test]
async fn a_token_in_use_is_refused_on_the_very_next_request_after_its_revocation() {
    let (server, tokens) = start().await;
    let admin = Some(tokens[&Role::Admin].as_str());
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let ask = json!({"role": "intake", "name": "wechat-intake"});
    let (s, made, _) = server.send(post.clone(), "/v1/tokens", admin, Some(&ask)).await;
    assert_eq!(s, 201, "{made}");
    let desk = made["token"].as_str().unwrap().to_owned();

    // In use: verified once, then answered from what the server verified.
    for i in 0..5 {
        let cmd = receive(&format!("w-{i}"), &format!("CMP-2026-00010{i}"));
        let (s, p, _) = server.send(post.clone(), "/v1/commands", Some(&desk), Some(&cmd)).await;
        assert_eq!(s, 201, "{p}");
        let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&desk), None).await;
        assert_eq!(s, 200, "{p}");
    }
    // The same id with another secret is no token, however often the real one was seen.
    let last = if desk.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &desk[..desk.len() - 1]);
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&forged), None).await;
    assert_eq!(s, 401, "{p}");
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&desk), None).await;
    assert_eq!(s, 200, "the real token still works after a forged one: {p}");

    let revoke = json!({"reason": "phone lost"});
    let (s, p, _) = server
        .send(post.clone(), "/v1/tokens/wechat-intake/revoke", admin, Some(&revoke))
        .await;
    assert_eq!(s, 200, "{p}");
    // The very next request, a command: refused, nothing written.
    let (_, before, _) = server
        .send(get.clone(), "/v1/stats", Some(&tokens[&Role::Auditor]), None)
        .await;
    let late = receive("w-late", "CMP-2026-000199");
    let (s, p, _) = server
        .send(post.clone(), "/v1/commands", Some(&desk), Some(&late))
        .await;
    assert_eq!(s, 401, "a revoked token committed a command: {p}");
    assert!(p["detail"].as_str().unwrap().contains("unknown or revoked"), "{p}");
    let (s, p, _) = server.send(get.clone(), "/v1/tickets", Some(&desk), None).await;
    assert_eq!(s, 401, "a revoked token read tickets: {p}");
    let (_, after, _) = server
        .send(get.clone(), "/v1/stats", Some(&tokens[&Role::Auditor]), None)
        .await;
    assert_eq!(before["head_position"], after["head_position"], "{before} {after}");
    assert!(before["head_position"].as_u64().is_some(), "{before}");
    server.stop().await;
}

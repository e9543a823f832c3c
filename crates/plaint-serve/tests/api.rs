//! End-to-end through real HTTP: commands (single, batch, idempotent retry, rejections),
//! reads, bad input as problem documents, limits, readiness and metrics, the live event stream
//! (resume with `Last-Event-ID`, filters), graceful shutdown with a request in flight.

mod common;

use common::*;
use plaint_serve::ServeConfig;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_commits_once_and_a_retry_returns_the_original_positions() {
    let (server, _) = TestServer::start(0, ServeConfig::default()).await;
    let cmd = receive("c-1", "CMP-1");
    let (status, first, ct) = server.post_json("/v1/commands?events=true", &cmd).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(ct, "application/json");
    assert_eq!(first["outcome"], "committed");
    assert_eq!(first["positions"], json!([1]));
    assert_eq!(first["stream_version"], 1);
    assert_eq!(first["command_id"], "c-1");
    assert_eq!(first["events"][0]["type"], "Received");
    // Instants carry the office's offset (the business calendar's: +08:00).
    let occurred = first["events"][0]["occurred_at"].as_str().unwrap();
    assert_eq!(occurred, "2026-11-20T08:00:00+08:00");
    // Personal fields stay sealed in the answer.
    assert_eq!(first["events"][0]["data"]["customer"]["personal"]["sealed"], true);

    // The same command id and body again: the original positions, nothing written.
    let (status, again, _) = server.post_json("/v1/commands", &cmd).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], "deduplicated");
    assert_eq!(again["positions"], first["positions"]);
    // Without `?events=true` the answer is what a client needs to be exactly-once, no events.
    assert_eq!(again["stream_version"], 1);
    assert_eq!(again["command_id"], "c-1");
    assert_eq!(again["complaint_id"], "CMP-1");
    assert!(again.get("events").is_none(), "{again}");
    let (_, stats) = server.get_json("/v1/stats").await;
    assert_eq!(stats["head_position"], 1);

    // A query that is not a boolean: 400 naming it, nothing written.
    let next = receive("c-1b", "CMP-1B");
    let (status, problem, ct) = server.post_json("/v1/commands?events=maybe", &next).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(assert_problem(400, &ct, &problem), "/problems/bad-request");
    assert_eq!(problem["field"], "events");
    let (_, stats) = server.get_json("/v1/stats").await;
    assert_eq!(stats["head_position"], 1);

    // The same id with another body: 409 with the typed rejection.
    let mut other = cmd.clone();
    other["region"] = json!("北京");
    let (status, problem, ct) = server.post_json("/v1/commands", &other).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(assert_problem(409, &ct, &problem), "/problems/rejected-conflict");
    assert_eq!(problem["rejection"]["code"], "command_id_reused");
    assert_eq!(problem["rejection"]["complaint_id"], "CMP-1");

    // A command the complaint's status forbids: 409, illegal transition.
    let resume = json!({"command_id": "c-2", "complaint_id": "CMP-1", "actor": "cs-001", "command": "resume"});
    let (status, problem, ct) = server.post_json("/v1/commands", &resume).await;
    assert_eq!(assert_problem(status, &ct, &problem), "/problems/rejected-conflict");
    assert_eq!(status, 409);
    assert_eq!(problem["rejection"]["code"], "illegal_transition");
    assert_eq!(problem["rejection"]["status"], "received");

    // An invalid field the domain refuses: 422 naming the field.
    let dispatch = json!({"command_id": "c-3", "complaint_id": "CMP-9", "actor": "cs-001", "command": "receive",
        "channel": "hotline", "region": "", "description": "x"});
    let (status, problem, ct) = server.post_json("/v1/commands", &dispatch).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(assert_problem(422, &ct, &problem), "/problems/rejected-invalid");
    assert_eq!(problem["rejection"]["code"], "invalid");
    assert_eq!(problem["field"], problem["rejection"]["field"]);
    let (_, stats) = server.get_json("/v1/stats").await;
    assert_eq!(stats["head_position"], 1, "nothing written for a refused command");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reports_each_command_and_a_retried_batch_writes_nothing() {
    let (server, _) = TestServer::start(0, ServeConfig::default()).await;
    let cmds = workload(5);
    let mut body: Vec<Value> = cmds.iter().map(|c| serde_json::to_value(c).unwrap()).collect();
    // One command the domain refuses, in the middle.
    body.insert(
        2,
        json!({"command_id": "bad-1", "complaint_id": "CMP-X", "actor": "cs-001", "command": "resume"}),
    );
    let (status, out, _) = server.post_json("/v1/commands", &Value::Array(body.clone())).await;
    assert_eq!(status, 200, "{out}");
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), body.len());
    assert_eq!(out["rejected"], 1);
    assert_eq!(results[2]["outcome"], "rejected");
    assert_eq!(results[2]["problem"]["index"], 2);
    assert_eq!(results[2]["problem"]["status"], 409);
    let mut positions: Vec<u64> = results
        .iter()
        .flat_map(|r| r["positions"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()))
        .collect();
    positions.sort();
    let head = out["head_position"].as_u64().unwrap();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>(), "every committed event, once");

    let (status, again, _) = server.post_json("/v1/commands", &Value::Array(body)).await;
    assert_eq!(status, 200);
    assert_eq!(again["committed"], 0);
    assert_eq!(again["head_position"], head, "nothing new");
    for (a, b) in results.iter().zip(again["results"].as_array().unwrap()) {
        if a["outcome"] == "committed" {
            assert_eq!(b["outcome"], "deduplicated");
            assert_eq!(a["positions"], b["positions"], "a retry returns the original positions");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_documents() {
    let (server, _) = TestServer::start(
        0,
        ServeConfig {
            body_limit: 4096,
            ..ServeConfig::default()
        },
    )
    .await;
    let post = |body: String| {
        server
            .client
            .post(server.url("/v1/commands"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Malformed JSON: 400 naming line and column.
    let r = post("{\"command_id\": \"c-1\",\n \"complaint_id\": ".to_owned())
        .await
        .unwrap();
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/malformed-json");
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("line 2"), "{body}");

    // A field of the wrong type: 422 naming the field.
    let mut cmd = receive("c-1", "CMP-1");
    cmd["customer"]["phone"] = json!(12);
    let r = post(cmd.to_string()).await.unwrap();
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/invalid-command");
    assert_eq!(body["field"], "customer.phone", "{body}");

    // An unknown command name.
    let mut cmd = receive("c-1", "CMP-1");
    cmd["command"] = json!("teleport");
    let r = post(cmd.to_string()).await.unwrap();
    assert_eq!(r.status().as_u16(), 422);

    // Oversized body: 413.
    let mut big = receive("c-1", "CMP-1");
    big["description"] = json!("很".repeat(5000));
    let r = post(big.to_string()).await.unwrap();
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/body-too-large");
    assert!(body["detail"].as_str().unwrap().contains("4096"), "{body}");

    // Not JSON: 415.
    let r = server
        .client
        .post(server.url("/v1/commands"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert_eq!(content_type(&r), "application/problem+json");

    // Unknown route: 404; a known route with another method: 405.
    let r = server.get("/v1/nope").await;
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/not-found");
    assert_eq!(body["instance"], "/v1/nope");
    let r = server.client.delete(server.url("/v1/tickets")).send().await.unwrap();
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/method-not-allowed");

    // Bad query parameters name the parameter.
    let r = server.get("/v1/sla?now=yesterday").await;
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/bad-request");
    assert_eq!(body["field"], "now");
    let r = server.get("/v1/tickets?limit=many").await;
    assert_eq!(r.status().as_u16(), 400);
    // A misspelt parameter is refused, not ignored.
    let r = server.get("/v1/tickets?stauts=closed").await;
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("stauts"), "{body}");
    let r = server.get("/v1/tickets/NO-SUCH").await;
    let (status, ct) = (r.status().as_u16(), content_type(&r));
    let body: Value = r.json().await.unwrap();
    assert_eq!(assert_problem(status, &ct, &body), "/problems/not-found");
    assert!(body["detail"].as_str().unwrap().contains("NO-SUCH"));
    let (_, stats) = server.get_json("/v1/stats").await;
    assert_eq!(stats["head_position"], 0, "nothing written by bad input");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reads_answer_from_the_projections() {
    let (server, cmds) = TestServer::start(40, ServeConfig::default()).await;
    let id = cmds[0].complaint_id.to_string();

    let (status, page) = server.get_json("/v1/tickets?limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 40);
    assert_eq!(page["tickets"].as_array().unwrap().len(), 10);
    let (_, closed) = server.get_json("/v1/tickets?status=closed&limit=1000").await;
    assert!(closed["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "closed"));

    let (status, ticket) = server.get_json(&format!("/v1/tickets/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(ticket["complaint_id"], id);
    assert!(ticket["received_at"].as_str().unwrap().ends_with("+08:00"), "{ticket}");
    let received = ticket["received_at"].as_str().unwrap().to_owned();

    // As of the instant of receipt: only the first event counts.
    let (status, then) = server
        .get_json(&format!("/v1/tickets/{id}?as_of={}", received.replace('+', "%2B")))
        .await;
    assert_eq!(status, 200, "{then}");
    assert_eq!(then["status"], "received");
    let (status, before) = server.get_json(&format!("/v1/tickets/{id}?as_of=2020-01-01")).await;
    assert_eq!(status, 404, "{before}");

    let (status, history) = server.get_json(&format!("/v1/tickets/{id}/history")).await;
    assert_eq!(status, 200);
    let events = history["events"].as_array().unwrap();
    assert_eq!(events[0]["type"], "Received");
    assert_eq!(events.len() as u64, ticket["stream_version"].as_u64().unwrap());

    let (status, sla) = server.get_json(&format!("/v1/tickets/{id}/sla")).await;
    assert_eq!(status, 200);
    // The explanation `plaint sla --ticket` prints: every clock with its rule and verdict.
    assert_eq!(sla["complaint_id"], id);
    let clocks = sla["clocks"].as_array().unwrap();
    assert!(!clocks.is_empty(), "{sla}");
    assert!(sla["now"].as_str().unwrap().ends_with("+08:00"), "{sla}");
    assert_eq!(sla["time_zone"], "Asia/Shanghai");

    let (status, audit) = server.get_json(&format!("/v1/audit?complaint={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(audit["events"], history["events"]);
    let (_, by_system) = server.get_json("/v1/audit?actor=nobody").await;
    assert_eq!(by_system["events"], json!([]));

    let (status, report) = server.get_json("/v1/sla?group_by=channel").await;
    assert_eq!(status, 200);
    assert_eq!(report["overall"]["tickets"], 40);
    let (status, _) = server.get_json("/v1/sla/at-risk").await;
    assert_eq!(status, 200);

    let (status, queue) = server.get_json("/v1/queue").await;
    assert_eq!(status, 200);
    let open = server.get_json("/v1/tickets?limit=1000").await.1["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] != "closed")
        .count();
    assert_eq!(queue["total"], open);
    let entries = queue["entries"].as_array().unwrap();
    // Overdue first.
    let first_not_overdue = entries
        .iter()
        .position(|e| e["overdue"] == false)
        .unwrap_or(entries.len());
    assert!(entries[first_not_overdue..].iter().all(|e| e["overdue"] == false));

    let (status, repeats) = server.get_json("/v1/repeats").await;
    assert_eq!(status, 200, "{repeats}");

    let (status, weekly) = server.get_json("/v1/reports/weekly?period=2026-W37").await;
    assert_eq!(status, 200, "{weekly}");
    assert_eq!(weekly["kind"], "weekly_report");
    assert!(weekly["report"].is_object());
    let (status, monthly) = server.get_json("/v1/reports/monthly?period=2026-09").await;
    assert_eq!(status, 200, "{monthly}");
    let r = server.get("/v1/reports/weekly?period=2026-W37&format=csv").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(content_type(&r).starts_with("text/csv"));
    assert!(!r.text().await.unwrap().is_empty());
    let r = server
        .client
        .get(server.url("/v1/reports/weekly?period=2026-W37"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(content_type(&r).starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("<svg"));
    let (status, _) = server.get_json("/v1/reports/yearly").await;
    assert_eq!(status, 404);

    let (status, stats) = server.get_json("/v1/stats").await;
    assert_eq!(status, 200);
    assert_eq!(stats["streams"], 40);
    let (status, verified) = server.get_json("/v1/verify").await;
    assert_eq!(status, 200);
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["head_position"], stats["head_position"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_metrics() {
    let (server, _) = TestServer::start(10, ServeConfig::default()).await;
    // The commands that made the ten complaints left the projections other than repeats
    // behind (the command path folds only what it decides with); the probe folds them itself
    // within `ready_wait` instead of answering 503 until some read comes.
    let (status, ready) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["lag_events"], 0);
    assert_eq!(ready["projections_position"], ready["head_position"]);
    let (status, health) = server.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    // Every answer names its request; a caller's own id is kept.
    let r = server.get("/healthz").await;
    assert_eq!(r.headers()["x-request-id"].to_str().unwrap().len(), 36);
    let r = server
        .client
        .get(server.url("/v1/stats"))
        .header("x-request-id", "desk-7-0042")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "desk-7-0042");

    server.post_json("/v1/commands", &receive("m-1", "CMP-M1")).await;
    let r = server.get("/metrics").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(content_type(&r).starts_with("text/plain"));
    let text = r.text().await.unwrap();
    for needle in [
        "plaint_commands_total{kind=\"receive\",outcome=\"committed\"}",
        "plaint_append_seconds_bucket",
        "plaint_fsync_seconds_count",
        "plaint_fsync_seconds_bucket{le=\"+Inf\"}",
        "plaint_projection_lag_events",
        "plaint_open_tickets",
        "plaint_sla_breaches{clock=",
        "plaint_http_requests_total",
        // The group commit's own figures (a single command is committed in a group of one).
        "# TYPE plaint_group_commands summary",
        "plaint_group_commands_count",
        "# TYPE plaint_group_wait_seconds histogram",
        "plaint_group_wait_seconds_bucket{le=\"+Inf\"}",
        "# TYPE plaint_group_commit_seconds histogram",
        "plaint_group_commit_seconds_bucket{le=\"+Inf\"}",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_above_the_rate_limit_get_429_with_retry_after() {
    let (server, _) = TestServer::start(
        0,
        ServeConfig {
            rate_limit: Some(1),
            ..ServeConfig::default()
        },
    )
    .await;
    let calls = (0..20).map(|_| server.client.get(server.url("/v1/stats")).send());
    let answers = futures::future::join_all(calls).await;
    let mut limited = 0;
    for r in answers {
        let r = r.unwrap();
        if r.status().as_u16() == 429 {
            limited += 1;
            assert!(r.headers().get("retry-after").is_some());
            let ct = content_type(&r);
            let body: Value = r.json().await.unwrap();
            assert_eq!(assert_problem(429, &ct, &body), "/problems/rate-limited");
        } else {
            assert_eq!(r.status().as_u16(), 200);
        }
    }
    assert!(limited >= 1, "20 requests at once against 1/s: some are refused");
    // Probes are never limited.
    assert_eq!(server.get("/healthz").await.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_resumes_after_a_dropped_connection_without_gap_or_duplicate() {
    let (server, cmds) = TestServer::start(0, ServeConfig::default()).await;
    let (first, rest) = cmds_split(&cmds);
    post_batch(&server, first).await;
    let (_, stats) = server.get_json("/v1/stats").await;
    let head = stats["head_position"].as_u64().unwrap();

    // Read part of the log, then drop the connection.
    let mut seen: Vec<u64> = Vec::new();
    {
        let r = server.get("/v1/events?from=1").await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(content_type(&r).starts_with("text/event-stream"));
        let mut sse = Sse::new(r);
        for _ in 0..head / 2 {
            let ev = sse.next().await.unwrap();
            let data: Value = serde_json::from_str(&ev.data).unwrap();
            assert_eq!(ev.id.as_deref().unwrap(), data["position"].to_string());
            assert_eq!(ev.event.as_deref(), data["type"].as_str());
            seen.push(ev.id.unwrap().parse().unwrap());
        }
    }
    // More events commit while the client is away.
    post_batch(&server, rest).await;
    let (_, stats) = server.get_json("/v1/stats").await;
    let total = stats["head_position"].as_u64().unwrap();
    assert!(total > head);

    // Resume exactly after the last event seen.
    let last = *seen.last().unwrap();
    let r = server
        .client
        .get(server.url("/v1/events?from=1"))
        .header("last-event-id", last.to_string())
        .send()
        .await
        .unwrap();
    let mut sse = Sse::new(r);
    while seen.len() < total as usize {
        let ev = sse.next().await.unwrap();
        seen.push(ev.id.unwrap().parse().unwrap());
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>(), "no gap, no duplicate");

    // Live: a new command arrives on the open stream.
    server.post_json("/v1/commands", &receive("live-1", "CMP-LIVE")).await;
    let ev = sse.next().await.unwrap();
    assert_eq!(ev.id.unwrap().parse::<u64>().unwrap(), total + 1);
    assert_eq!(ev.event.as_deref(), Some("Received"));
    drop(sse);

    // A bad Last-Event-ID is a problem document.
    let r = server
        .client
        .get(server.url("/v1/events"))
        .header("last-event-id", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_filters_by_complaint_type_and_department() {
    let (server, cmds) = TestServer::start(30, ServeConfig::default()).await;
    let (_, audit) = server.get_json("/v1/audit?limit=100000").await;
    let all = audit["events"].as_array().unwrap().clone();
    let total = all.len();
    let id = cmds[0].complaint_id.to_string();
    let read = |query: String, expected: usize| {
        let server = &server;
        async move {
            let r = server.get(&format!("/v1/events?from=1&{query}")).await;
            assert_eq!(r.status().as_u16(), 200);
            let mut sse = Sse::new(r);
            let mut got = Vec::new();
            for _ in 0..expected {
                let ev = sse.next().await.unwrap();
                got.push(serde_json::from_str::<Value>(&ev.data).unwrap());
            }
            got
        }
    };

    let mine: Vec<&Value> = all.iter().filter(|e| e["complaint_id"] == id.as_str()).collect();
    let got = read(format!("complaint={id}"), mine.len()).await;
    assert_eq!(got.iter().collect::<Vec<_>>(), mine);

    let dispatched: Vec<&Value> = all.iter().filter(|e| e["type"] == "Dispatched").collect();
    assert!(!dispatched.is_empty());
    let got = read("type=Dispatched".to_owned(), dispatched.len()).await;
    assert_eq!(got.iter().collect::<Vec<_>>(), dispatched);

    // The department: events of complaints it held when they happened.
    let department = dispatched[0]["data"]["department"].as_str().unwrap().to_owned();
    let mut holder: std::collections::HashMap<String, String> = Default::default();
    let mut expected = Vec::new();
    for e in &all {
        let c = e["complaint_id"].as_str().unwrap().to_owned();
        match e["type"].as_str().unwrap() {
            "Dispatched" => {
                holder.insert(c.clone(), e["data"]["department"].as_str().unwrap().to_owned());
            }
            "Redispatched" => {
                holder.insert(c.clone(), e["data"]["to"].as_str().unwrap().to_owned());
            }
            _ => {}
        }
        if holder.get(&c) == Some(&department) {
            expected.push(e);
        }
    }
    let got = read(format!("department={department}"), expected.len()).await;
    assert_eq!(got.iter().collect::<Vec<_>>(), expected);
    assert!(expected.len() < total);

    // Resuming mid-log with a department filter knows who held each complaint before.
    let mid = expected[expected.len() / 2]["position"].as_u64().unwrap();
    let tail: Vec<&Value> = expected
        .iter()
        .copied()
        .filter(|e| e["position"].as_u64().unwrap() > mid)
        .collect();
    let r = server
        .client
        .get(server.url(&format!("/v1/events?department={department}")))
        .header("last-event-id", mid.to_string())
        .send()
        .await
        .unwrap();
    let mut sse = Sse::new(r);
    for e in &tail {
        let ev = sse.next().await.unwrap();
        assert_eq!(&&serde_json::from_str::<Value>(&ev.data).unwrap(), e);
    }
    drop(sse);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight_ends_streams_and_releases_the_store() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut server, _) = TestServer::start(3, ServeConfig::default()).await;
    let addr = server.base.trim_start_matches("http://").to_owned();

    // A live event stream stays open until shutdown.
    let stream = Sse::new(server.get("/v1/events").await);

    // A command whose body is still on its way when shutdown begins: the server has read the
    // headers and asked for the body (100 Continue) before the signal.
    let body = receive("inflight-1", "CMP-INFLIGHT").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/commands HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    server.signal_shutdown();
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("\"outcome\":\"committed\""), "{answer}");

    // The stream ended, the server stopped and closed the store: its lock is free and the
    // in-flight command is durable.
    let mut stream = stream;
    while stream.next().await.is_some() {}
    let dir = server.stop().await;
    let engine = open(dir.path()).await;
    let history = engine
        .history(&plaint::ComplaintId::new("CMP-INFLIGHT").unwrap())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    engine.close().await.unwrap();
}

fn cmds_split(cmds: &[plaint::Command]) -> (Vec<plaint::Command>, Vec<plaint::Command>) {
    assert!(cmds.is_empty());
    let all = workload(20);
    let (a, b) = all.split_at(all.len() / 2);
    (a.to_vec(), b.to_vec())
}

async fn post_batch(server: &TestServer, cmds: Vec<plaint::Command>) {
    let body = serde_json::to_value(&cmds).unwrap();
    let (status, out, _) = server.post_json("/v1/commands", &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["rejected"], 0, "{out}");
}

//! The per-request series of `/metrics` (docs/serve.md "Metrics") count every answer once, by
//! route and status, and every command by kind and outcome: exact counts, so the handles kept
//! by `meters.rs` are proven to be the series they name. One test in its own process: the
//! metrics recorder is process-wide, and no other server adds to these counts meanwhile.

mod common;

use common::{receive, TestServer};
use plaint_serve::ServeConfig;

/// The value of the series `name{labels}` (labels as Prometheus writes them, in order), 0 when
/// it is not there yet.
async fn series(server: &TestServer, name: &str, labels: &str) -> f64 {
    let text = server.get("/metrics").await.text().await.unwrap();
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_answer_is_counted_once_by_route_and_status_and_each_command_by_outcome() {
    let (server, _) = TestServer::start(0, ServeConfig::default()).await;
    for i in 0..3 {
        let (status, body, _) = server
            .post_json(
                "/v1/commands",
                &receive(&format!("rm-{i}"), &format!("CMP-2026-77000{i}")),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _, _) = server
        .post_json("/v1/commands", &receive("rm-0", "CMP-2026-770000"))
        .await;
    assert_eq!(status, 200, "a retry: deduplicated");
    let mut invalid = receive("rm-bad", "CMP-2026-770009");
    invalid["channel"] = "carrier-pigeon".into();
    let (status, _, _) = server.post_json("/v1/commands", &invalid).await;
    assert_eq!(status, 422);
    for _ in 0..2 {
        assert_eq!(server.get("/v1/no-such-route").await.status().as_u16(), 404);
    }
    let requests = "plaint_http_requests_total";
    let commands_route = |status: &str| format!("route=\"/v1/commands\",status=\"{status}\"");
    assert_eq!(series(&server, requests, &commands_route("201")).await, 3.0);
    assert_eq!(series(&server, requests, &commands_route("200")).await, 1.0);
    assert_eq!(series(&server, requests, &commands_route("422")).await, 1.0);
    let unmatched = "route=\"unmatched\",status=\"404\"";
    assert_eq!(series(&server, requests, unmatched).await, 2.0);
    let seconds = "route=\"/v1/commands\"";
    assert_eq!(series(&server, "plaint_http_request_seconds_count", seconds).await, 5.0);
    let receives = |outcome: &str| format!("kind=\"receive\",outcome=\"{outcome}\"");
    let commands = "plaint_commands_total";
    assert_eq!(series(&server, commands, &receives("committed")).await, 3.0);
    assert_eq!(series(&server, commands, &receives("deduplicated")).await, 1.0);
    // `/metrics` itself: the seven scrapes above, each counted once it has answered.
    let scrapes = series(&server, requests, "route=\"/metrics\",status=\"200\"").await;
    assert_eq!(scrapes, 7.0);
    server.stop().await;
}

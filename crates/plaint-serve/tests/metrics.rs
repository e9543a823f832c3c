//! What a `/metrics` scrape recomputes (docs/serve.md "What a scrape costs"): the gauges that
//! walk every ticket are reused while younger than `ServeConfig::metrics_max_age`, with their
//! age and position shown; the head position is read at every scrape. No timed assertion: the
//! reuse test's max age (an hour) cannot run out during it, and the other's is zero.

mod common;

use common::{receive, TestServer};
use plaint_serve::ServeConfig;
use std::time::Duration;

/// The value of the series named exactly `name` (labels included).
async fn scrape(server: &TestServer) -> impl Fn(&str) -> f64 {
    let text = server.get("/metrics").await.text().await.unwrap();
    move |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .parse()
            .unwrap()
    }
}

/// A server over 5 generated complaints whose ticket gauges live `max_age`.
async fn start(max_age: Duration) -> TestServer {
    let config = ServeConfig {
        metrics_max_age: max_age,
        ..ServeConfig::default()
    };
    TestServer::start(5, config).await.0
}

async fn receive_one(server: &TestServer, id: &str) {
    let (status, body, _) = server.post_json("/v1/commands", &receive(id, "CMP-2026-900001")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_reuses_the_ticket_gauges_within_their_max_age() {
    let server = start(Duration::from_secs(3600)).await;
    let first = scrape(&server).await;
    let (open, head) = (first("plaint_open_tickets"), first("plaint_head_position"));
    assert_eq!(first("plaint_metrics_gauges_position"), head);
    receive_one(&server, "m-1").await;
    let second = scrape(&server).await;
    assert_eq!(second("plaint_head_position"), head + 1.0, "read at every scrape");
    assert_eq!(
        second("plaint_open_tickets"),
        open,
        "reused: not recomputed for a new event"
    );
    assert_eq!(
        second("plaint_metrics_gauges_position"),
        head,
        "and says which position it shows"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_age_of_zero_recomputes_the_ticket_gauges_at_every_scrape() {
    let server = start(Duration::ZERO).await;
    let first = scrape(&server).await;
    let open = first("plaint_open_tickets");
    receive_one(&server, "m-1").await;
    let second = scrape(&server).await;
    assert_eq!(second("plaint_open_tickets"), open + 1.0);
    assert_eq!(second("plaint_metrics_gauges_position"), second("plaint_head_position"));
    server.stop().await;
}

/// Older than its max age, a scrape still answers at once with the last figures and starts
/// one recomputation in the background, which a later scrape shows. The test polls until it
/// does (bounded by the test's own run, no duration asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_scrape_answers_the_last_figures_and_refreshes_them_in_the_background() {
    let server = start(Duration::from_nanos(1)).await;
    let open = scrape(&server).await("plaint_open_tickets");
    receive_one(&server, "m-1").await;
    // No recomputation was started before this event: the first scrape computed in place.
    assert_eq!(scrape(&server).await("plaint_open_tickets"), open);
    loop {
        let now = scrape(&server).await;
        if now("plaint_open_tickets") == open + 1.0 {
            assert_eq!(now("plaint_metrics_gauges_position"), now("plaint_head_position"));
            break;
        }
        tokio::task::yield_now().await;
    }
    server.stop().await;
}

/// The file log's commit latency by part and its threads' time by role are shown, and a
/// command moves every part's count (the log counts a group just after answering it: the
/// scrape is repeated until it does, for up to 10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_is_counted_in_every_commit_part_and_the_log_threads_roles() {
    let server = start(Duration::from_secs(3600)).await;
    let parts = ["queued", "writing", "behind_sync", "sync", "answering", "wake"];
    let count = |part: &str| format!("plaint_commit_part_seconds_count{{part=\"{part}\"}}");
    let first = scrape(&server).await;
    let before: Vec<f64> = parts.iter().map(|p| first(&count(p))).collect();
    receive_one(&server, "m-1").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = scrape(&server).await;
        let counts: Vec<f64> = parts.iter().map(|p| now(&count(p))).collect();
        if counts.iter().zip(&before).all(|(is, was)| is > was) || std::time::Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    for (part, was) in parts.iter().zip(before) {
        let is = after(&count(part));
        assert!(is > was, "{part}: {was} -> {is}");
        let all = after(&format!(
            "plaint_commit_part_seconds_bucket{{part=\"{part}\",le=\"+Inf\"}}"
        ));
        assert_eq!(all, is, "{part}: +Inf bucket = count");
    }
    for role in ["writing", "syncing", "waiting"] {
        let seconds = after(&format!("plaint_log_thread_seconds_total{{role=\"{role}\"}}"));
        assert!(seconds > 0.0, "{role}: {seconds}");
    }
    server.stop().await;
}

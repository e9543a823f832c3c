//! Per-token rate limits through real HTTP (docs/serve.md "Rate limits"): one token's bucket
//! runs dry while the others go on; the 429 problem document names the token (never its
//! secret), the limit and when to retry, with `Retry-After`; a token's own limit (recorded at
//! creation) wins over its role's default; 0 and an absent default mean unlimited; probes are
//! never limited; refusals are counted in `/metrics` by token name.
//!
//! These tests cannot flake on a slow machine: the servers' buckets refill by a clock the test
//! holds still (`ServeConfig::rate_clock`), so no bucket gains a request between two requests,
//! however long they take. Every figure asserted is a count of requests, never a duration.

mod common;

use common::{assert_problem, TestServer};
use plaint::access::{RateLimit, Role};
use plaint_serve::limits::{RateClock, TokenRateLimits};
use plaint_serve::ServeConfig;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// Intake tokens default to 1 request per second with bursts of 3; no other role has a
/// default. The clock never moves.
fn config() -> ServeConfig {
    let mut limits = TokenRateLimits::default();
    limits.add("intake=1/3").unwrap();
    ServeConfig {
        token_rate_limits: limits,
        rate_clock: RateClock::manual(|| Duration::ZERO),
        ..ServeConfig::default()
    }
}

/// Sends `n` reads of the queue with `token`; the statuses.
async fn reads(server: &TestServer, token: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(server.send(Method::GET, "/v1/queue", Some(token), None).await.0);
    }
    statuses
}

/// The value of the `plaint_http_rate_limited_total` series of this token name (0 when absent).
async fn refused_count(server: &TestServer, name: &str) -> u64 {
    let text = server.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("plaint_http_rate_limited_total{") && l.contains(&format!("token=\"{name}\"")))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_exhausted_leaves_the_others_unaffected() {
    let tokens = [
        ("looping-script", Role::Intake, None),
        ("hotline-desk", Role::Intake, None),
        (
            "bulk-intake",
            Role::Intake,
            Some(RateLimit {
                per_second: 0,
                burst: 0,
            }),
        ),
        ("wall-screen", Role::Analyst, None),
    ];
    let (server, texts) = TestServer::start_with_tokens(config(), &tokens).await;
    let [script, desk, bulk, screen] = [&texts[0], &texts[1], &texts[2], &texts[3]];

    // The script spends its burst of 3, then every request is refused: the clock stands still.
    assert_eq!(reads(&server, script, 3).await, [200, 200, 200]);
    let (status, problem, headers) = server.send(Method::GET, "/v1/queue", Some(script), None).await;
    assert_eq!(status, 429, "{problem}");
    let ct = headers["content-type"].to_str().unwrap();
    assert_eq!(assert_problem(429, ct, &problem), "/problems/rate-limited");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("\"looping-script\""), "names the token: {detail}");
    assert!(
        detail.contains("1 requests per second") && detail.contains("bursts of 3"),
        "names the limit: {detail}"
    );
    assert!(detail.contains("retry after 1 s"), "{detail}");
    assert!(!detail.contains(script.as_str()), "never the secret: {detail}");
    assert_eq!(problem["instance"], "/v1/queue", "{problem}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(reads(&server, script, 2).await, [429, 429]);

    // The desk, same role, has its own full bucket.
    assert_eq!(reads(&server, desk, 3).await, [200, 200, 200]);
    assert_eq!(reads(&server, desk, 1).await, [429]);
    // Its own limit of 0 makes a token unlimited despite its role's default; a role without
    // a default is unlimited.
    assert!(reads(&server, bulk, 20).await.iter().all(|s| *s == 200));
    assert!(reads(&server, screen, 20).await.iter().all(|s| *s == 200));

    // Probes are never limited, not even with an exhausted token.
    for path in ["/healthz", "/readyz"] {
        let (status, _, _) = server.send(Method::GET, path, Some(script), None).await;
        assert_eq!(status, 200, "{path}");
    }
    // A refused request is no authentication failure: a bad token still gets 401, not 429.
    let (status, _, _) = server
        .send(Method::GET, "/v1/queue", Some("plaint_000000000000_00"), None)
        .await;
    assert_eq!(status, 401);

    assert_eq!(refused_count(&server, "looping-script").await, 3);
    assert_eq!(refused_count(&server, "hotline-desk").await, 1);
    assert_eq!(refused_count(&server, "wall-screen").await, 0);
    server.stop().await;
}

/// A token created through the running server with its own limit (recorded in its
/// `TokenIssued`) gets that limit instead of its role's; a malformed limit is refused naming
/// the field; the limit reads back from the log after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokens_own_limit_is_recorded_at_creation_and_wins_over_its_roles() {
    let (server, texts) = TestServer::start_with_tokens(config(), &[("it-desk", Role::Admin, None)]).await;
    let admin = Some(texts[0].as_str());
    let post = Method::POST;
    let (status, p, _) = server
        .send(
            post.clone(),
            "/v1/tokens",
            admin,
            Some(&json!({"role": "intake", "name": "wechat-intake", "rate_limit": "fast"})),
        )
        .await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["field"], "rate_limit", "{p}");
    let (status, made, _) = server
        .send(
            post,
            "/v1/tokens",
            admin,
            Some(&json!({"role": "intake", "name": "wechat-intake", "rate_limit": "1/5"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["record"]["rate_limit"], "1/5", "{made}");
    let wechat = made["token"].as_str().unwrap();
    // Five, not the role's three.
    assert_eq!(reads(&server, wechat, 6).await, [200, 200, 200, 200, 200, 429]);
    let (_, p, headers) = server.send(Method::GET, "/v1/queue", Some(wechat), None).await;
    assert!(p["detail"].as_str().unwrap().contains("bursts of 5"), "{p}");
    assert_eq!(headers["retry-after"], "1");

    let dir = server.stop().await;
    let engine = common::open(dir.path()).await;
    let table = engine.tokens().await.unwrap();
    let t = table.tokens().find(|t| t.name == "wechat-intake").unwrap();
    assert_eq!(
        t.rate_limit,
        Some(RateLimit {
            per_second: 1,
            burst: 5
        })
    );
    engine.close().await.unwrap();
}

//! The server on PostgreSQL: commands, an idempotent retry and the event stream resumed with
//! `Last-Event-ID` (no gap, no duplicate). Runs when PLAINT_TEST_DATABASE_URL is set.

mod common;

use common::*;
use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig, StoreConfig};
use plaint_serve::ServeConfig;
use plaint_store::pg::{PgOptions, PgStore};
use serde_json::Value;

fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI=true requires PLAINT_TEST_DATABASE_URL"
            );
            println!("skipped: set PLAINT_TEST_DATABASE_URL to run PostgreSQL tests");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_a_resumed_event_stream_on_postgres() {
    let Some(url) = database_url() else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("serve_test_{}_{nanos}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg =
        EngineConfig::postgres(&url, dir.path()).with_clock(fixed_clock(Timestamp::parse_rfc3339(NOW).unwrap()));
    cfg.store = StoreConfig::Postgres {
        url: url.clone(),
        schema: schema.clone(),
        local_dir: dir.path().to_owned(),
    };
    let engine = Engine::open(cfg).await.unwrap();
    let server = TestServer::start_on(dir, engine, ServeConfig::default()).await;

    let all = workload(12);
    let (first, rest) = all.split_at(all.len() / 2);
    let body = serde_json::to_value(first).unwrap();
    let (status, out, _) = server.post_json("/v1/commands", &body).await;
    assert_eq!((status, out["rejected"].as_u64()), (200, Some(0)), "{out}");
    let head = out["head_position"].as_u64().unwrap();
    let (status, again, _) = server.post_json("/v1/commands", &body).await;
    assert_eq!((status, again["committed"].as_u64()), (200, Some(0)));
    assert_eq!(again["results"][0]["positions"], out["results"][0]["positions"]);

    let mut seen = Vec::new();
    {
        let mut sse = Sse::new(server.get("/v1/events?from=1").await);
        for _ in 0..head / 2 {
            seen.push(sse.next().await.unwrap().id.unwrap().parse::<u64>().unwrap());
        }
    }
    let (status, out, _) = server
        .post_json("/v1/commands", &serde_json::to_value(rest).unwrap())
        .await;
    assert_eq!(status, 200, "{out}");
    let total = out["head_position"].as_u64().unwrap();
    let r = server
        .client
        .get(server.url("/v1/events"))
        .header("last-event-id", seen.last().unwrap().to_string())
        .send()
        .await
        .unwrap();
    let mut sse = Sse::new(r);
    while seen.len() < total as usize {
        let ev = sse.next().await.unwrap();
        let data: Value = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(ev.id.as_deref().unwrap(), data["position"].to_string());
        seen.push(ev.id.unwrap().parse().unwrap());
    }
    drop(sse);
    assert_eq!(seen, (1..=total).collect::<Vec<_>>(), "no gap, no duplicate");
    let (status, verified) = server.get_json("/v1/verify").await;
    assert_eq!((status, verified["head_position"].as_u64()), (200, Some(total)));
    server.stop().await;
    PgStore::drop_schema(&url, &PgOptions::with_schema(&schema))
        .await
        .unwrap();
}

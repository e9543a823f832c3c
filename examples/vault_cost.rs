//! The cost of a first-time customer: latency of one `receive` (one caller, durable appends)
//! that creates the customer's vault key, against one for a customer whose key exists.
//!
//! ```text
//! cargo run --release --example vault_cost -- 2000
//! PLAINT_TEST_DATABASE_URL=postgres://… cargo run --release --example vault_cost -- 2000
//! ```
//!
//! A quick measurement (a few thousand appends), not a benchmark: see docs/security.md.

use plaint::domain::{Command, Timestamp};
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use std::time::Instant;

fn receive(n: usize, complaint: &str, phone: &str) -> Command {
    serde_json::from_value(serde_json::json!({
        "command_id": format!("c-{n}"), "complaint_id": complaint, "actor": "cs-1",
        "occurred_at": "2026-11-24T09:00:00+08:00",
        "command": "receive", "channel": "hotline", "region": "上海",
        "description": "快递显示已签收但本人未收到",
        "customer": {"name": "王芳", "phone": phone}
    }))
    .expect("a valid command")
}

fn summary(label: &str, mut micros: Vec<u128>) {
    micros.sort_unstable();
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    let mean = micros.iter().sum::<u128>() as f64 / micros.len() as f64;
    println!(
        "{label}: n={} median {} µs, p90 {} µs, p99 {} µs, mean {:.0} µs",
        micros.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        mean
    );
}

async fn measure(engine: &Engine, backend: &str, n: usize) {
    // Warm-up: open files, prepared statements.
    engine
        .execute(receive(0, "WARM-0", "13000000000"))
        .await
        .expect("warm-up");
    let mut new_key = Vec::with_capacity(n);
    for i in 0..n {
        let phone = format!("139{:08}", i);
        let cmd = receive(i + 1, &format!("NEW-{i}"), &phone);
        let t = Instant::now();
        engine.execute(cmd).await.expect("receive, new customer");
        new_key.push(t.elapsed().as_micros());
    }
    let mut known = Vec::with_capacity(n);
    for i in 0..n {
        let phone = format!("139{:08}", i);
        let cmd = receive(n + i + 1, &format!("AGAIN-{i}"), &phone);
        let t = Instant::now();
        engine.execute(cmd).await.expect("receive, known customer");
        known.push(t.elapsed().as_micros());
    }
    summary(&format!("{backend}, first-time customer (new key)"), new_key);
    summary(&format!("{backend}, known customer (existing key)"), known);
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let now = Timestamp::parse_rfc3339("2026-11-25T00:00:00Z").expect("a timestamp");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut cfg = EngineConfig::file(dir.path().join("store")).with_clock(fixed_clock(now));
    cfg.checkpoints = false;
    let engine = Engine::open(cfg).await.expect("open the file log");
    measure(&engine, "file log", n).await;
    engine.close().await.expect("close");
    if let Ok(url) = std::env::var("PLAINT_TEST_DATABASE_URL") {
        let schema = format!("vault_cost_{}", std::process::id());
        let mut cfg = EngineConfig::postgres(&url, dir.path().join("pg-local")).with_clock(fixed_clock(now));
        if let plaint::StoreConfig::Postgres { schema: s, .. } = &mut cfg.store {
            *s = schema.clone();
        }
        cfg.checkpoints = false;
        let engine = Engine::open(cfg).await.expect("open PostgreSQL");
        measure(&engine, "PostgreSQL", n).await;
        drop(engine);
        plaint::store::pg::PgStore::drop_schema(&url, &plaint::store::pg::PgOptions::with_schema(schema))
            .await
            .expect("drop the schema");
    }
}

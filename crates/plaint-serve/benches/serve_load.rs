//! Load benchmark of `plaint serve` (issue 15; docs/PERFORMANCE.md "serve"): N concurrent
//! HTTP/1.1 keep-alive clients (64 by default) each sending single `receive` commands, with a
//! bearer token, to a server on the file log in this process; then the same workload through
//! the library (`Engine::execute` from as many tasks) on a fresh store in the same run.
//! Prints throughput, latency percentiles and the ratio of the two, and the bench-summary line
//! `ROW serve_64 <value> cmd/s`. Not a test: nothing is asserted on time.
//!
//! Run: `cargo bench -p plaint-serve --bench serve_load` (`PLAINT_BENCH_CLIENTS`,
//! `PLAINT_BENCH_COMMANDS` = commands per client, default 64 and 200).

use hdrhistogram::Histogram;
use plaint::access::Role;
use plaint::{Actor, Command, Engine, EngineConfig};
use plaint_serve::{ServeConfig, Server};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn receive(run: &str, client: usize, i: usize) -> Command {
    serde_json::from_value(serde_json::json!({
        "command_id": format!("{run}-{client}-{i}"),
        "complaint_id": format!("CMP-{run}-{client:03}-{i:06}"),
        "actor": "cs-014", "command": "receive", "channel": "hotline", "region": "杭州",
        "waybill": "SF1234567890", "description": "快递显示已签收但本人未收到，要求核实",
        "customer": {"name": "陈静", "phone": "13800138000"}
    }))
    .unwrap()
}

struct Outcome {
    commands: usize,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }
    fn print(&self, what: &str) {
        let ms = |q: f64| self.latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{what:<8} {:>7} commands in {:>6.2} s = {:>8.0} cmd/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.commands,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            ms(0.5),
            ms(0.99),
            self.latency.max() as f64 / 1000.0
        );
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

async fn over_http(clients: usize, per_client: usize) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let token = engine
        .create_token("load-client", Role::Intake, &Actor::person("bench").unwrap())
        .await
        .unwrap()
        .token;
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    };
    let server = Server::bind(engine, config).await.unwrap();
    let url = format!("http://{}/v1/commands", server.local_addr());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    // Bodies prepared up front: the clients measure the server, not JSON encoding.
    let bodies: Vec<Vec<Vec<u8>>> = (0..clients)
        .map(|c| {
            (0..per_client)
                .map(|i| serde_json::to_vec(&receive("h", c, i)).unwrap())
                .collect()
        })
        .collect();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for lane in bodies {
        let (url, token) = (url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            // One connection per client, kept alive (HTTP/1.1).
            let client = reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut h = histogram();
            for body in lane {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
                r.bytes().await.unwrap();
                h.record(t.elapsed().as_micros().max(1) as u64).unwrap();
            }
            h
        }));
    }
    let mut latency = histogram();
    for t in tasks {
        latency.add(t.await.unwrap()).unwrap();
    }
    let elapsed = start.elapsed();
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
    Outcome {
        commands: clients * per_client,
        elapsed,
        latency,
    }
}

async fn through_library(clients: usize, per_client: usize) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(EngineConfig::file(dir.path())).await.unwrap());
    let cmds: Vec<Vec<Command>> = (0..clients)
        .map(|c| (0..per_client).map(|i| receive("l", c, i)).collect())
        .collect();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for lane in cmds {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for cmd in lane {
                let t = Instant::now();
                engine.execute(cmd).await.unwrap();
                h.record(t.elapsed().as_micros().max(1) as u64).unwrap();
            }
            h
        }));
    }
    let mut latency = histogram();
    for t in tasks {
        latency.add(t.await.unwrap()).unwrap();
    }
    let elapsed = start.elapsed();
    Arc::try_unwrap(engine).ok().unwrap().close().await.unwrap();
    Outcome {
        commands: clients * per_client,
        elapsed,
        latency,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let clients = env_usize("PLAINT_BENCH_CLIENTS", 64);
    let per_client = env_usize("PLAINT_BENCH_COMMANDS", 200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "serve_load: {clients} clients x {per_client} single receive commands, file log (fsync per group commit), {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let http = rt.block_on(over_http(clients, per_client));
    http.print("http");
    let lib = rt.block_on(through_library(clients, per_client));
    lib.print("library");
    println!(
        "ratio    http / library = {:.0} % (target >= 50 %); targets: >= 30,000 cmd/s, p99 <= 10 ms",
        100.0 * http.per_second() / lib.per_second()
    );
    println!("ROW serve_{clients} {:.0} cmd/s", http.per_second());
}

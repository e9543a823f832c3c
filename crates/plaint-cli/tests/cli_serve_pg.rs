//! Several servers on one PostgreSQL (docs/serve.md "Several servers"): two `plaint serve --pg`
//! processes (the real binary) behind a round-robin client. Commands alternate between them,
//! several complaints at once, and retries go to the other server: positions are gapless, no
//! command is applied twice, and both servers give the same answers.

mod common;
use common::*;
use plaint::access::{Access, Role};
use plaint::workload::{generate, WorkloadConfig};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

struct Served {
    child: Child,
    base: String,
}

fn serve(url: &str, schema: &str, local: &std::path::Path) -> Served {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_plaint"))
        .args(["--pg-schema", schema, "--store"])
        .arg(local)
        .args(["--pg", url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Served { child, base }
}

fn stop(mut s: Served) {
    let pid = s.child.id().to_string();
    let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
    let status = s.child.wait().unwrap();
    assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
}

#[test]
fn two_servers_on_one_database_stay_consistent() {
    let Some(url) = database_url() else { return };
    let env = Env::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("cli_serve_pg_{}_{nanos}", std::process::id());
    let pg = |args: &[&str]| {
        let mut cmd = plaint();
        cmd.args(["--pg-schema", &schema, "--store"])
            .arg(env.path("local-admin"))
            .args(args);
        cmd
    };
    pg(&["init", "--pg", &url]).assert().success();
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        let out = pg(&[
            "--pg",
            &url,
            "token",
            "create",
            "--role",
            role.name(),
            "--by",
            "it-admin",
            "--json",
        ])
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        tokens.insert(role, v["token"].as_str().unwrap().to_owned());
    }
    let servers = [
        serve(&url, &schema, &env.path("local-a")),
        serve(&url, &schema, &env.path("local-b")),
    ];
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();

    let cmds = generate(&WorkloadConfig {
        complaints: 60,
        ..Default::default()
    });
    let mut by_complaint: BTreeMap<String, Vec<plaint::Command>> = BTreeMap::new();
    for c in cmds {
        by_complaint.entry(c.complaint_id.to_string()).or_default().push(c);
    }
    let lanes = 6;
    let mut work: Vec<Vec<plaint::Command>> = vec![Vec::new(); lanes];
    for (i, (_, cs)) in by_complaint.into_iter().enumerate() {
        work[i % lanes].extend(cs);
    }
    let total: usize = work.iter().map(Vec::len).sum();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results = rt.block_on(async {
        let client = reqwest::Client::new();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for lane in work {
            let (client, next, bases, tokens) = (client.clone(), next.clone(), bases.clone(), tokens.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for (k, cmd) in lane.into_iter().enumerate() {
                    let role = Role::ALL
                        .into_iter()
                        .find(|r| r.permits(Access::Command(&cmd.body)))
                        .expect("some role may send every command");
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let send = |base: &str| {
                        client
                            .post(format!("{base}/v1/commands"))
                            .bearer_auth(&tokens[&role])
                            .json(&cmd)
                            .send()
                    };
                    let r = send(&bases[n % 2]).await.unwrap();
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.unwrap();
                    // Every fourth command is retried on the other server: same positions, nothing written.
                    if k % 4 == 0 && (status == 200 || status == 201) {
                        let again: Value = send(&bases[(n + 1) % 2]).await.unwrap().json().await.unwrap();
                        assert_eq!(again["positions"], body["positions"], "{again}");
                        if !body["positions"].as_array().unwrap().is_empty() {
                            assert_eq!(again["outcome"], "deduplicated", "{again}");
                        }
                    }
                    out.push((cmd.command_id.to_string(), status, body));
                }
                out
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    assert_eq!(results.len(), total);
    let mut positions: Vec<u64> = Vec::new();
    for (id, status, body) in &results {
        if status / 100 == 2 {
            positions.extend(
                body["positions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_u64().unwrap()),
            );
        } else {
            // A domain refusal is an answer too (the workload holds a few on purpose).
            assert!(matches!(status, 409 | 422), "{id}: {status} {body}");
        }
    }
    let committed = positions.len();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), committed, "no position given twice");

    rt.block_on(async {
        let client = reqwest::Client::new();
        let get = |base: String, path: String| {
            let client = client.clone();
            let token = tokens[&Role::Auditor].clone();
            async move {
                let r = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200, "{path}");
                r.json::<Value>().await.unwrap()
            }
        };
        // The whole log from each server: positions 1..=head, gapless, every command's events
        // exactly where its answer said, and the same on both.
        let a = get(bases[0].clone(), "/v1/audit?limit=100000".into()).await;
        let b = get(bases[1].clone(), "/v1/audit?limit=100000".into()).await;
        assert_eq!(a, b, "both servers read the same log");
        let logged: Vec<u64> = a["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect();
        let head = *logged.last().unwrap();
        assert_eq!(logged, (1..=head).collect::<Vec<_>>(), "gapless");
        let tokens_events = Role::ALL.len() as u64;
        assert_eq!(head, tokens_events + committed as u64, "no event beyond the answers");
        let mut per_command: HashMap<String, Vec<u64>> = HashMap::new();
        for e in a["events"].as_array().unwrap() {
            if e["complaint_id"] != "access-tokens" {
                let id = e["command_id"].as_str().unwrap().to_owned();
                per_command.entry(id).or_default().push(e["position"].as_u64().unwrap());
            }
        }
        for (id, status, body) in &results {
            if status / 100 == 2 {
                let answered: Vec<u64> = body["positions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_u64().unwrap())
                    .collect();
                let logged = per_command.get(id).cloned().unwrap_or_default();
                assert_eq!(
                    answered, logged,
                    "command {id}: its events, once, where the answer said"
                );
            }
        }
        // Same answers: statistics, the queue and every ticket.
        for path in [
            "/v1/stats",
            "/v1/sla?now=2026-11-20T00:00:00Z",
            "/v1/queue?now=2026-11-20T00:00:00Z&limit=1000",
        ] {
            assert_eq!(
                get(bases[0].clone(), path.into()).await,
                get(bases[1].clone(), path.into()).await,
                "{path}"
            );
        }
        for (id, _, body) in results.iter().step_by(7) {
            let complaint = body["complaint_id"].as_str().unwrap_or_default();
            if complaint.is_empty() {
                continue;
            }
            let path = format!("/v1/tickets/{complaint}");
            assert_eq!(
                get(bases[0].clone(), path.clone()).await,
                get(bases[1].clone(), path).await,
                "{id}"
            );
        }
    });
    for s in servers {
        stop(s);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(plaint_store::pg::PgStore::drop_schema(
        &url,
        &plaint_store::pg::PgOptions::with_schema(&schema),
    ))
    .expect("drop the test schema");
}

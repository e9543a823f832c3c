//! A real server on 127.0.0.1:0 over a file log in a temporary directory, called through a
//! real HTTP client (reqwest).

#![allow(dead_code)]

use plaint::access::{RateLimit, Role};
use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Actor, Command, Engine, EngineConfig};
use plaint_serve::{ServeConfig, ServeError, Server};
use serde_json::{json, Value};

/// The clock of every test server: after the generated workload.
pub const NOW: &str = "2026-11-20T00:00:00Z";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
}

impl TestServer {
    /// A server over a store holding the commands of `complaints` generated complaints.
    pub async fn start(complaints: usize, config: ServeConfig) -> (TestServer, Vec<Command>) {
        let dir = tempfile::tempdir().unwrap();
        let cmds = workload(complaints);
        let engine = open(dir.path()).await;
        if !cmds.is_empty() {
            engine.execute_batch(cmds.clone()).await.unwrap();
        }
        let server = Self::start_on(dir, engine, config).await;
        (server, cmds)
    }

    pub async fn start_on(dir: tempfile::TempDir, engine: Engine, config: ServeConfig) -> TestServer {
        // The route tests run without access control; tests/access.rs covers tokens and roles.
        let config = ServeConfig {
            access: plaint_serve::auth::AccessMode::Open,
            ..config
        };
        Self::launch(dir, engine, config).await
    }

    /// A server with access control (`config.access` as given, tokens by default) over a
    /// fresh file log holding one token per entry of `tokens` (name, role, own rate limit);
    /// the tokens' texts come back in the same order.
    pub async fn start_with_tokens(
        config: ServeConfig,
        tokens: &[(&str, Role, Option<RateLimit>)],
    ) -> (TestServer, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
        let admin = Actor::person("it-admin").unwrap();
        let mut texts = Vec::new();
        for (name, role, limit) in tokens {
            let made = engine.create_token_limited(name, *role, *limit, &admin).await.unwrap();
            texts.push(made.token);
        }
        (Self::launch(dir, engine, config).await, texts)
    }

    /// Binds `config` (on 127.0.0.1, a free port) for `engine` and runs it until
    /// [`TestServer::stop`].
    pub async fn launch(dir: tempfile::TempDir, engine: Engine, config: ServeConfig) -> TestServer {
        let config = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let server = Server::bind(engine, config).await.unwrap();
        let base = format!("http://{}", server.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        TestServer {
            base,
            client: reqwest::Client::new(),
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Sends a request (with a bearer `token` and a JSON `body` when given): the status, the
    /// body (JSON, else the text as a JSON string) and the headers.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value, String) {
        let r = self.client.post(self.url(path)).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        let ct = content_type(&r);
        (status, r.json().await.unwrap(), ct)
    }

    /// Begins the shutdown.
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits until the server has closed the store.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.signal_shutdown();
        self.handle.take().unwrap().await.unwrap().unwrap();
        self.dir
    }
}

pub fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub async fn open(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(Timestamp::parse_rfc3339(NOW).unwrap())))
        .await
        .unwrap()
}

pub fn workload(complaints: usize) -> Vec<Command> {
    if complaints == 0 {
        return Vec::new();
    }
    generate(&WorkloadConfig {
        complaints,
        ..WorkloadConfig::default()
    })
}

/// A `receive` command for complaint `complaint` with command id `command_id`.
pub fn receive(command_id: &str, complaint: &str) -> Value {
    json!({
        "command_id": command_id, "complaint_id": complaint, "actor": "cs-001",
        "command": "receive", "channel": "hotline", "region": "上海",
        "description": "快递显示已签收但本人未收到，运单号 SF1234567890，要求核实",
        "customer": {"name": "张三", "phone": "+86 138-0013-8000"}
    })
}

/// Asserts `body` is a problem document with `status` and returns its `type`.
pub fn assert_problem(status: u16, ct: &str, body: &Value) -> String {
    assert_eq!(ct, "application/problem+json", "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    let kind = body["type"].as_str().unwrap().to_owned();
    assert!(kind.starts_with("/problems/"), "{body}");
    kind
}

/// A reader of a `text/event-stream` body.
pub struct Sse {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    /// Bytes received and not yet parsed: kept as bytes, because a network chunk may end in the
    /// middle of a multi-byte character (decoding chunk by chunk corrupted 规 into three U+FFFD
    /// once, under CI load). An event is decoded whole, strictly.
    buffer: Vec<u8>,
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl Sse {
    pub fn new(r: reqwest::Response) -> Sse {
        Sse {
            stream: Box::pin(r.bytes_stream()),
            buffer: Vec::new(),
        }
    }

    /// The next event (comments and keep-alives skipped); `None` when the stream ended.
    pub async fn next(&mut self) -> Option<SseEvent> {
        use futures::StreamExt;
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let bytes: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(bytes).expect("an SSE event is UTF-8");
                let mut ev = SseEvent {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = Some(v.trim().to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = Some(v.trim().to_owned());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Some(ev);
                }
                continue;
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(Err(_)) | None => return None,
            }
        }
    }
}

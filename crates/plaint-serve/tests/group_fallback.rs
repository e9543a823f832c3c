//! Issue 15: a group of single commands the engine fails as a whole (a store error on the
//! group's one append) is executed again one command at a time (`group.rs`), so every request
//! gets the answer `Engine::execute` gives it: through real HTTP, the answers and the log equal
//! those of a server whose store never failed.
//!
//! The failing store is the real file log behind a wrapper that refuses the first appends of
//! several commands at once (a group's; a lone command's append always passes), before
//! anything is written, as a full disk or a dead device would refuse them.

mod common;

use async_trait::async_trait;
use common::*;
use plaint::{Engine, EngineConfig};
use plaint_serve::ServeConfig;
use plaint_store::file::{FileLog, FileLogOptions};
use plaint_store::vault::{KeyState, Secret, VaultDump, VaultReport, VaultWrite};
use plaint_store::{
    AppendRequest, AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError, Subscription, Vault,
    VerifyReport,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The file log, refusing the first `failures` appends that carry more than one request.
struct FailingGroups {
    log: FileLog,
    failures: AtomicUsize,
    refused: AtomicUsize,
}

impl FailingGroups {
    /// `Err` (and counts it) while failures are left and `requests` is a group's append.
    fn refuse(&self, requests: &[AppendRequest]) -> Result<(), StoreError> {
        if requests.len() < 2 {
            return Ok(());
        }
        let left = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if left.is_err() {
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Io {
            path: "segment (injected by the test)".to_owned(),
            source: std::io::Error::other("no space left on device (injected)"),
        })
    }
}

#[async_trait]
impl EventStore for FailingGroups {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.log.append(stream, expected, events).await
    }
    async fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError> {
        self.refuse(&requests)?;
        self.log.append_many(requests).await
    }
    async fn read_stream(&self, stream: &str, from_version: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.log.read_stream(stream, from_version, max).await
    }
    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.log.read_all(from_position, max).await
    }
    async fn subscribe(&self, from_position: u64) -> Result<Subscription, StoreError> {
        self.log.subscribe(from_position).await
    }
    async fn head_position(&self) -> Result<u64, StoreError> {
        self.log.head_position().await
    }
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.log.stream_version(stream).await
    }
    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.log.verify().await
    }
}

#[async_trait]
impl Vault for FailingGroups {
    fn vault_location(&self) -> String {
        self.log.vault_location()
    }
    async fn match_secret(&self) -> Result<Secret, StoreError> {
        self.log.match_secret().await
    }
    async fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError> {
        self.log.live_key(owner).await
    }
    async fn key(&self, id: &str) -> Result<KeyState, StoreError> {
        self.log.key(id).await
    }
    async fn keys_of(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        self.log.keys_of(owner).await
    }
    async fn linked(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        self.log.linked(owner).await
    }
    async fn append_with_vault(
        &self,
        requests: Vec<AppendRequest>,
        write: VaultWrite,
    ) -> Result<Vec<AppendResult>, StoreError> {
        self.refuse(&requests)?;
        self.log.append_with_vault(requests, write).await
    }
    async fn erase(&self, ids: &[String]) -> Result<usize, StoreError> {
        self.log.erase(ids).await
    }
    async fn erase_recorded(
        &self,
        erasure: plaint_store::vault::ErasureRecord<'_>,
    ) -> Result<Option<plaint_store::vault::RecordedErasure>, StoreError> {
        self.log.erase_recorded(erasure).await
    }
    async fn verify_vault(&self) -> Result<VaultReport, StoreError> {
        self.log.verify_vault().await
    }
    async fn dump(&self) -> Result<VaultDump, StoreError> {
        self.log.dump().await
    }
    async fn restore(&self, dump: &VaultDump) -> Result<(), StoreError> {
        self.log.restore(dump).await
    }
}

/// Lanes of commands, one complaint each: its receive, a refused `resume` (nothing is on
/// hold), a second receive of the same complaint (refused: it exists), and the receive again
/// with its own command id (a retry: deduplicated).
fn lanes(n: usize) -> Vec<Vec<Value>> {
    (0..n)
        .map(|i| {
            let complaint = format!("CMP-FALL-{i:03}");
            let first = receive(&format!("fall-{i}-a"), &complaint);
            let resume = json!({"command_id": format!("fall-{i}-resume"), "complaint_id": complaint,
                "actor": "cs-001", "command": "resume"});
            vec![
                first.clone(),
                resume,
                receive(&format!("fall-{i}-b"), &complaint),
                first,
            ]
        })
        .collect()
}

/// Every lane concurrently, each lane's commands one after another; answers by lane.
async fn run(server: &TestServer, lanes: &[Vec<Value>]) -> Vec<Vec<(u16, Value)>> {
    let tasks = lanes.iter().map(|lane| async move {
        let mut answers = Vec::with_capacity(lane.len());
        for cmd in lane {
            let (status, body, _) = server.post_json("/v1/commands", cmd).await;
            answers.push((status, body));
        }
        answers
    });
    futures::future::join_all(tasks).await
}

/// What a client learns from an answer, less the global positions (they depend on how the
/// lanes interleave: their count instead) and the ids (each round has its own); a problem by
/// its type and title.
fn shape(status: u16, body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("command_id");
        o.remove("complaint_id");
    }
    if let Some(positions) = body.get("positions").and_then(Value::as_array) {
        b["positions"] = json!(positions.len());
    }
    if status >= 400 {
        return json!({"status": status, "type": body["type"], "title": body["title"]});
    }
    json!({"status": status, "body": b})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_the_store_fails_is_answered_one_command_at_a_time() {
    const FAILURES: usize = 3;
    let lanes = lanes(32);
    // The reference: the same lanes, one command at a time, on a store that never fails.
    let (reference, _) = TestServer::start(0, ServeConfig::default()).await;
    let mut want = Vec::new();
    for lane in &lanes {
        let mut answers = Vec::new();
        for cmd in lane {
            let (status, body, _) = reference.post_json("/v1/commands", cmd).await;
            answers.push(shape(status, &body));
        }
        want.push(answers);
    }

    let dir = tempfile::tempdir().unwrap();
    let log = FileLog::open(dir.path().join("log"), FileLogOptions::default()).unwrap();
    let store = Arc::new(FailingGroups {
        log,
        failures: AtomicUsize::new(FAILURES),
        refused: AtomicUsize::new(0),
    });
    let cfg = EngineConfig::file(dir.path().join("log")).with_clock(plaint::engine::fixed_clock(
        plaint::Timestamp::parse_rfc3339(NOW).unwrap(),
    ));
    let engine = Engine::with_store(store.clone(), cfg, None).await.unwrap();
    let server = TestServer::start_on(dir, engine, ServeConfig::default()).await;

    // Rounds until the injected failures are used up: each round's lanes arrive together, so
    // the server groups them; a round that formed no group is simply run again (new ids).
    let mut round = 0;
    while store.refused.load(Ordering::SeqCst) < FAILURES {
        round += 1;
        assert!(
            round <= 20,
            "the server formed no group in 20 rounds of 32 concurrent lanes"
        );
        let lanes_now: Vec<Vec<Value>> = lanes
            .iter()
            .map(|lane| {
                lane.iter()
                    .map(|cmd| {
                        let mut c = cmd.clone();
                        let id = c["command_id"].as_str().unwrap().to_owned();
                        let complaint = c["complaint_id"].as_str().unwrap().to_owned();
                        c["command_id"] = json!(format!("r{round}-{id}"));
                        c["complaint_id"] = json!(format!("{complaint}-R{round}"));
                        c
                    })
                    .collect()
            })
            .collect();
        let got = run(&server, &lanes_now).await;
        for ((lane, want), got) in lanes_now.iter().zip(&want).zip(&got) {
            for ((cmd, w), (status, body)) in lane.iter().zip(want).zip(got) {
                assert_eq!(&shape(*status, body), w, "round {round}: {cmd}");
            }
            // The retry answers the first command's positions: committed once.
            assert_eq!(got[3].1["positions"], got[0].1["positions"], "round {round}");
        }
    }
    assert_eq!(store.refused.load(Ordering::SeqCst), FAILURES);

    // Every committed command is in the log once: one `received` event per complaint of every
    // round, nothing of a refused group's first attempt.
    let (_, stats) = server.get_json("/v1/stats").await;
    let (_, reference_stats) = reference.get_json("/v1/stats").await;
    let per_round = reference_stats["head_position"].as_u64().unwrap();
    assert_eq!(stats["head_position"].as_u64().unwrap(), per_round * round, "{stats}");
    let (status, verified) = server.get_json("/v1/verify").await;
    assert_eq!(status, 200);
    assert_eq!(verified["ok"], true, "{verified}");
    reference.stop().await;
    server.stop().await;
}

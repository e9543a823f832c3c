//! Issue 13: the erasure race. A `receive` for a customer whose key was chosen before an
//! erasure and committed after it must not be sealed under the key that erasure destroys
//! (personal data given after the erasure would be unreadable at once, though accepted): the
//! erasure and the commands sealing personal fields take turns (`ErasureGate`). And a crash
//! between the erasure's audit event and its keys' destruction is completed at the next
//! writable open, before any command.
//!
//! Deterministic, not timed: the store is the real file log behind a wrapper that holds the
//! append of one chosen complaint (its key is chosen by then) until the test releases it; the
//! test releases it once the erasure either finished (the race, before the fix) or is waiting
//! for its turn (`Engine::erasures_waiting`). Either way the rule is checked on the result:
//! every receive committed before the erasure's audit event reads as erased, every one after it
//! reads in clear.

#[path = "support/pg.rs"]
mod pg_support;

use async_trait::async_trait;
use plaint::domain::{Command, ComplaintId, Timestamp};
use plaint::engine::{fixed_clock, ErasureRequest};
use plaint::store::file::{FileLog, FileLogOptions};
use plaint::store::vault::{KeyState, Secret, VaultDump, VaultReport, VaultWrite};
use plaint::store::{
    AppendRequest, AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError, Subscription, Vault,
    VerifyReport,
};
use plaint::{Engine, EngineConfig, PersonalFields, Reveal};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Notify};

const PHONE: &str = "+86 137-1234-5678";

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn receive(cmd_id: &str, complaint: &str) -> Command {
    serde_json::from_value(json!({
        "command_id": cmd_id, "complaint_id": complaint, "actor": "cs-002",
        "occurred_at": "2026-09-10T10:00:00+08:00",
        "command": "receive", "channel": "hotline", "region": "上海", "waybill": "YT0000000000001",
        "description": "快件破损，要求赔偿",
        "customer": {"customer_id": "C-77", "name": "司马懿", "phone": PHONE, "address": "上海市浦东新区张江路88号"}
    }))
    .unwrap()
}

fn dpo() -> ErasureRequest {
    ErasureRequest {
        actor: plaint::domain::Actor::person("dpo-1").unwrap(),
        legal_basis: "PIPL art. 47 request 2026-118".into(),
    }
}

/// An append of `stream` to hold: `reached` is sent when it arrives, it goes on once
/// `release` is notified.
struct Hold {
    stream: String,
    reached: oneshot::Sender<()>,
    release: Arc<Notify>,
}

/// A store (the file log, or PostgreSQL), holding one chosen append, and refusing erasures
/// while `erase_fails` (as a dying device would: the process's crash between the audit event
/// and the destruction).
struct Held<S> {
    log: S,
    hold: Mutex<Option<Hold>>,
    erase_fails: AtomicBool,
    /// Another process's open completes the erasure first: the keys are destroyed before
    /// this process's destruction, which then destroys nothing.
    erased_elsewhere: AtomicBool,
}

impl<S> Held<S> {
    fn new(log: S) -> Arc<Held<S>> {
        Arc::new(Held {
            log,
            hold: Mutex::new(None),
            erase_fails: AtomicBool::new(false),
            erased_elsewhere: AtomicBool::new(false),
        })
    }

    /// Holds the next append to `stream` until `release` is notified; the receiver hears when
    /// it is reached.
    fn hold_next(&self, stream: &str, release: &Arc<Notify>) -> oneshot::Receiver<()> {
        let (reached, arrived) = oneshot::channel();
        *self.hold.lock().unwrap() = Some(Hold {
            stream: stream.into(),
            reached,
            release: release.clone(),
        });
        arrived
    }

    async fn pause(&self, streams: &[&str]) {
        let hold = {
            let mut hold = self.hold.lock().unwrap();
            match hold.as_ref() {
                Some(h) if streams.contains(&h.stream.as_str()) => hold.take(),
                _ => None,
            }
        };
        if let Some(h) = hold {
            let released = h.release.notified();
            let _ = h.reached.send(());
            released.await;
        }
    }
}

#[async_trait]
impl<S: EventStore + 'static> EventStore for Held<S> {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.pause(&[stream]).await;
        self.log.append(stream, expected, events).await
    }
    async fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError> {
        self.pause(&requests.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>())
            .await;
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
impl<S: EventStore + Vault + 'static> Vault for Held<S> {
    fn vault_location(&self) -> String {
        self.log.vault_location()
    }
    async fn match_secret(&self) -> Result<Secret, StoreError> {
        self.log.match_secret().await
    }
    async fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError> {
        self.log.live_key(owner).await
    }
    fn live_key_at_once(&self, owner: &str) -> Option<Result<Option<(String, Secret)>, StoreError>> {
        self.log.live_key_at_once(owner)
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
        self.pause(&requests.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>())
            .await;
        self.log.append_with_vault(requests, write).await
    }
    async fn erase(&self, ids: &[String]) -> Result<usize, StoreError> {
        if self.erase_fails.load(Ordering::SeqCst) {
            return Err(StoreError::Io {
                path: "vault.pvlt (injected by the test)".to_owned(),
                source: std::io::Error::other("the process died here (injected)"),
            });
        }
        if self.erased_elsewhere.load(Ordering::SeqCst) {
            self.log.erase(ids).await?;
        }
        self.log.erase(ids).await
    }
    /// Forwarded: PostgreSQL's one transaction; the file log's `None` (two steps, through
    /// [`Held::erase`] and its injected failures).
    async fn erase_recorded(
        &self,
        erasure: plaint::store::vault::ErasureRecord<'_>,
    ) -> Result<Option<plaint::store::vault::RecordedErasure>, StoreError> {
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

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig::file(dir).with_clock(fixed_clock(at("2026-11-20T00:00:00Z")))
}

async fn held_engine(dir: &std::path::Path) -> (Arc<Held<FileLog>>, Arc<Engine>) {
    let store = Held::new(FileLog::open(dir, FileLogOptions::default()).unwrap());
    let engine = Engine::with_store(store.clone(), config(dir), None).await.unwrap();
    (store, Arc::new(engine))
}

/// What the race writes: a receive after the erasure, sealed under the erasure's key (CMP-R1's
/// receive envelope, copied onto CMP-R9), past the engine.
async fn copy_first_receive_onto_r9(log: &FileLog) {
    let raw = log.read_stream("CMP-R1", 1, 1).await.unwrap().remove(0);
    let event = NewEvent {
        event_type: raw.event_type,
        schema_version: raw.schema_version,
        occurred_at_ms: raw.occurred_at_ms,
        recorded_at_ms: raw.recorded_at_ms,
        actor: raw.actor,
        command_id: "r9".into(),
        payload: raw.payload,
    };
    log.append("CMP-R9", ExpectedVersion::Exact(0), vec![event])
        .await
        .unwrap();
}

#[derive(Debug, Clone, Copy)]
enum Entry {
    Execute,
    Batch,
    Prepared,
}

/// Where a complaint's receive sits and how its personal fields read.
async fn received(engine: &Engine, complaint: &str) -> (u64, PersonalFields) {
    let id = ComplaintId::new(complaint).unwrap();
    let position = engine.history(&id).await.unwrap()[0].meta.position;
    (position, engine.ticket(&id, Reveal::Clear).await.unwrap().personal)
}

async fn race<S: EventStore + Vault + 'static>(store: Arc<Held<S>>, engine: Arc<Engine>, entry: Entry) {
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();

    // The second receive of the customer chooses the live key, then its append is held.
    let release = Arc::new(Notify::new());
    let arrived = store.hold_next("CMP-R2", &release);
    let second = receive("r2", "CMP-R2");
    let prepared = matches!(entry, Entry::Prepared).then(|| engine.prepare(second.clone()));
    let intake = tokio::spawn({
        let engine = engine.clone();
        async move {
            match entry {
                Entry::Execute => engine.execute(second).await.map(|_| ()),
                Entry::Batch => engine
                    .execute_batch(vec![second])
                    .await
                    .map(|o| assert_eq!(o.committed, 1)),
                Entry::Prepared => engine
                    .execute_batch_prepared(&[prepared.unwrap()])
                    .await
                    .map(|o| assert_eq!(o.committed, 1)),
            }
        }
    });
    arrived.await.unwrap();

    let erasure = tokio::spawn({
        let engine = engine.clone();
        async move { engine.erase_customer(PHONE, &dpo()).await }
    });
    // Released once the erasure finished (the race) or waits for its turn (no timing in the
    // outcome: the poll only waits for one of the two).
    while !erasure.is_finished() && engine.erasures_waiting() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    release.notify_one();
    intake.await.unwrap().unwrap();
    let erasure = erasure.await.unwrap().unwrap();
    let audit = erasure.position.expect("an erasure was recorded");
    assert_eq!(erasure.keys_destroyed, 1, "{entry:?}");

    // A receive acknowledged after the erasure: sealed under a new key, readable.
    engine.execute(receive("r3", "CMP-R3")).await.unwrap();
    for complaint in ["CMP-R1", "CMP-R2", "CMP-R3"] {
        let (position, personal) = received(&engine, complaint).await;
        if position < audit {
            assert_eq!(
                personal,
                PersonalFields::Erased,
                "{entry:?}: {complaint} before the erasure"
            );
        } else {
            assert!(
                matches!(personal, PersonalFields::Clear { name: Some(ref n), .. } if n == "司马懿"),
                "{entry:?}: {complaint} committed at {position}, after the erasure at {audit}, reads {personal:?}"
            );
        }
    }
    engine.verify().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receive_whose_key_was_chosen_before_an_erasure_is_never_sealed_under_it_after() {
    for entry in [Entry::Execute, Entry::Batch, Entry::Prepared] {
        let dir = tempfile::tempdir().unwrap();
        let (store, engine) = held_engine(dir.path()).await;
        race(store, engine, entry).await;
    }
}

/// The same on PostgreSQL (one engine process; see `docs/security.md` for several). Needs
/// `PLAINT_TEST_DATABASE_URL`; skipped with one line without it (not under CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_on_postgresql() {
    use plaint::store::pg::{PgOptions, PgStore};
    let Some(url) = pg_support::database_url() else { return };
    for (i, entry) in [Entry::Execute, Entry::Batch, Entry::Prepared].into_iter().enumerate() {
        let schema = format!("erase_race_{}_{i}", std::process::id());
        let options = PgOptions::with_schema(&schema);
        PgStore::migrate(&url, &options).await.unwrap();
        let store = Held::new(PgStore::connect(&url, options.clone()).await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = EngineConfig::postgres(&url, dir.path()).with_clock(fixed_clock(at("2026-11-20T00:00:00Z")));
        cfg.store = plaint::StoreConfig::Postgres {
            url: url.clone(),
            schema: schema.clone(),
            local_dir: dir.path().to_owned(),
        };
        let engine = Arc::new(Engine::with_store(store.clone(), cfg, None).await.unwrap());
        race(store, engine, entry).await;
        PgStore::drop_schema(&url, &options).await.unwrap();
    }
}

/// The race's damage in a store written before the fix: `verify` names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_receive_sealed_after_its_keys_erasure() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = held_engine(dir.path()).await;
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();
    let key = engine.history(&ComplaintId::new("CMP-R1").unwrap()).await.unwrap()[0].clone();
    let plaint::domain::EventData::Received(r) = &key.data else {
        panic!("a receive")
    };
    let key_id = r.customer.personal.as_ref().unwrap().key_id.clone();
    engine.erase_customer(PHONE, &dpo()).await.unwrap();
    // What the race wrote: a receive after the erasure, sealed under the erased key (the
    // first receive's envelope, copied onto another complaint).
    copy_first_receive_onto_r9(&store.log).await;
    let err = engine.verify().await.unwrap_err().to_string();
    assert!(err.contains("sealed after its key's erasure"), "{err}");
    assert!(err.contains(&key_id), "{err}");
}

/// A crash between the erasure's audit event and its keys' destruction: `verify` reports the
/// erasure incomplete, and the next writable open completes it before any command, so a
/// receive after it seals under a new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_cut_between_its_audit_event_and_its_keys_is_completed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = held_engine(dir.path()).await;
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();
    store.erase_fails.store(true, Ordering::SeqCst);
    assert!(engine.erase_customer(PHONE, &dpo()).await.is_err());
    let err = engine.verify().await.unwrap_err().to_string();
    assert!(err.contains("did not complete"), "{err}");
    drop(engine);
    drop(store);

    let engine = Engine::open(config(dir.path())).await.unwrap();
    engine.verify().await.unwrap();
    let (_, personal) = received(&engine, "CMP-R1").await;
    assert_eq!(personal, PersonalFields::Erased, "completed at open");
    engine.execute(receive("r2", "CMP-R2")).await.unwrap();
    let (_, personal) = received(&engine, "CMP-R2").await;
    assert!(matches!(personal, PersonalFields::Clear { .. }), "{personal:?}");
    engine.verify().await.unwrap();
}

/// Review finding 1: the keys' destruction fails in a running engine (a disk error) after the
/// audit event is recorded. The key must not seal again: a receive in the same engine is
/// refused while the destruction still fails, and once it can be done, is sealed under a new
/// key — readable now and after a reopen, and `verify` finds nothing wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_destruction_in_a_running_engine_is_completed_before_anything_seals_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = held_engine(dir.path()).await;
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();
    store.erase_fails.store(true, Ordering::SeqCst);
    assert!(engine.erase_customer(PHONE, &dpo()).await.is_err());
    assert!(
        engine.execute(receive("r2", "CMP-R2")).await.is_err(),
        "no receive seals while a recorded erasure's keys cannot be destroyed"
    );
    store.erase_fails.store(false, Ordering::SeqCst);
    engine.execute(receive("r2", "CMP-R2")).await.unwrap();
    let (first, personal) = received(&engine, "CMP-R1").await;
    assert_eq!(personal, PersonalFields::Erased);
    let (second, personal) = received(&engine, "CMP-R2").await;
    assert!(second > first + 1, "after the audit event");
    assert!(matches!(personal, PersonalFields::Clear { .. }), "{personal:?}");
    engine.verify().await.unwrap();
    drop(engine);
    drop(store);

    let engine = Engine::open(config(dir.path())).await.unwrap();
    let (_, personal) = received(&engine, "CMP-R2").await;
    assert!(matches!(personal, PersonalFields::Clear { .. }), "{personal:?}");
    engine.verify().await.unwrap();
}

/// Review finding 3: an incomplete erasure with a receive sealed under its still-live key
/// after it is reported as incomplete (the key exists, the data reads now), not as "destroyed;
/// unreadable from the start".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_an_incomplete_erasure_before_what_was_sealed_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = held_engine(dir.path()).await;
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();
    store.erase_fails.store(true, Ordering::SeqCst);
    assert!(engine.erase_customer(PHONE, &dpo()).await.is_err());
    // What another process could write meanwhile: a receive after the audit event, sealed
    // under the still-live key (the first receive's envelope, copied onto another complaint).
    copy_first_receive_onto_r9(&store.log).await;
    let err = engine.verify().await.unwrap_err().to_string();
    assert!(err.contains("did not complete"), "{err}");
    assert!(
        err.contains("position 3 was sealed under it after the erasure"),
        "{err}"
    );
    assert!(!err.contains("unreadable from the start"), "{err}");
}

/// Review finding 5: another process's open completes a recorded erasure before this one
/// destroys its keys; the erasure did take place and says so (keys destroyed = keys named).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_completed_by_another_process_first_still_reports_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = held_engine(dir.path()).await;
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();
    store.erased_elsewhere.store(true, Ordering::SeqCst);
    let erasure = engine.erase_customer(PHONE, &dpo()).await.unwrap();
    assert_eq!(erasure.keys_destroyed, 1);
    assert_eq!(erasure.key_ids.len(), 1);
    assert!(erasure.position.is_some());
    engine.verify().await.unwrap();
}

/// Review finding 3 (wave 14): another process erases a customer while this engine's batch,
/// holding a receive for that customer sealed under its live key and one for another customer,
/// waits to commit. The store refuses the batch (`KeyErased`); the engine decides it again (no
/// live key now: a new one), so both receives commit, the first readable under its new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_key_another_process_erased_is_decided_again_under_a_new_key() {
    use plaint::store::pg::{PgOptions, PgStore};
    let Some(url) = pg_support::database_url() else { return };
    let schema = format!("erase_batch_{}_{:08x}", std::process::id(), rand_suffix());
    let options = PgOptions::with_schema(&schema);
    PgStore::migrate(&url, &options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = || {
        let mut cfg = EngineConfig::postgres(&url, dir.path()).with_clock(fixed_clock(at("2026-11-20T00:00:00Z")));
        cfg.store = plaint::StoreConfig::Postgres {
            url: url.clone(),
            schema: schema.clone(),
            local_dir: dir.path().to_owned(),
        };
        cfg
    };
    let store = Held::new(PgStore::connect(&url, options.clone()).await.unwrap());
    let engine = Arc::new(Engine::with_store(store.clone(), cfg(), None).await.unwrap());
    // The other process: its own pool, its own engine (no erasure gate shared).
    let other = Engine::with_store(
        Arc::new(PgStore::connect(&url, options.clone()).await.unwrap()),
        cfg(),
        None,
    )
    .await
    .unwrap();
    engine.execute(receive("r1", "CMP-R1")).await.unwrap();

    let release = Arc::new(Notify::new());
    let arrived = store.hold_next("CMP-R2", &release);
    let mut someone_else = receive("o1", "CMP-O1");
    if let plaint::domain::CommandBody::Receive(r) = &mut someone_else.body {
        r.customer.phone = Some("+86 139-0000-0001".into());
        r.customer.customer_id = Some("C-88".into());
    }
    let batch = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute_batch(vec![receive("r2", "CMP-R2"), someone_else]).await }
    });
    arrived.await.unwrap();
    let erasure = other.erase_customer(PHONE, &dpo()).await.unwrap();
    assert_eq!(erasure.keys_destroyed, 1);
    let audit = erasure.position.unwrap();
    release.notify_one();
    let outcome = batch.await.unwrap().expect("the batch is decided again, not refused");
    assert_eq!(outcome.committed, 2, "{outcome:?}");
    let (first, personal) = received(&engine, "CMP-R1").await;
    assert!(first < audit);
    assert_eq!(personal, PersonalFields::Erased);
    for complaint in ["CMP-R2", "CMP-O1"] {
        let (position, personal) = received(&engine, complaint).await;
        assert!(position > audit, "{complaint}");
        assert!(
            matches!(personal, PersonalFields::Clear { name: Some(ref n), .. } if n == "司马懿"),
            "{complaint} reads {personal:?}"
        );
    }

    // The same through `execute`: one receive held, the customer erased again meanwhile.
    let arrived = store.hold_next("CMP-R3", &release);
    let single = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute(receive("r3", "CMP-R3")).await }
    });
    arrived.await.unwrap();
    let audit = other.erase_customer(PHONE, &dpo()).await.unwrap().position.unwrap();
    release.notify_one();
    single
        .await
        .unwrap()
        .expect("the command is decided again, not refused");
    let (position, personal) = received(&engine, "CMP-R3").await;
    assert!(position > audit);
    assert!(matches!(personal, PersonalFields::Clear { .. }), "{personal:?}");
    engine.verify().await.unwrap();
    drop((engine, other, store));
    PgStore::drop_schema(&url, &options).await.unwrap();
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

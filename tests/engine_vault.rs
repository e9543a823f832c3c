//! The customer vault through the facade (issue 12): nothing is created for a refused command,
//! a damaged or missing vault record is corruption (never "erased"), an erased phone cannot be
//! recovered from the log and projections by enumerating the phone space, and a legacy
//! `keys/keys.log` is imported once. Commands prepared ahead (`Engine::prepare`,
//! `Engine::execute_batch_prepared`; issue 15 wave 11) are decided as the commands themselves:
//! the same outcomes and events, apart from the customers' new keys (random either way) and what
//! they seal, which opens to the same clear text; a preparation made stale by the vault (a key
//! made meanwhile) is sealed again under the key chosen at the decision.

use plaint::domain::personal::{legacy_match_key, normalise_phone};
use plaint::domain::{Command, ComplaintId, Event, EventData, Timestamp};
use plaint::engine::{fixed_clock, ErasureRequest};
use plaint::{Engine, EngineConfig, ErrorKind, PersonalFields, Reveal};
use serde_json::json;
use std::path::Path;

const NOW: &str = "2026-11-25T08:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse_rfc3339(NOW).unwrap()
}

async fn open(dir: &Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(now())))
        .await
        .unwrap()
}

fn receive(cmd_id: &str, complaint: &str, phone: &str) -> Command {
    serde_json::from_value(json!({
        "command_id": cmd_id, "complaint_id": complaint, "actor": "cs-007",
        "occurred_at": "2026-11-24T09:00:00+08:00",
        "command": "receive", "channel": "wechat", "region": "深圳",
        "description": "快递显示已签收但本人未收到，要求核实",
        "customer": {"name": "王芳", "phone": phone, "address": "深圳市南山区科技园路1号"}
    }))
    .unwrap()
}

fn dpo() -> ErasureRequest {
    ErasureRequest {
        actor: plaint::domain::Actor::person("dpo-1").unwrap(),
        legal_basis: "PIPL art. 47 request 9".into(),
    }
}

/// Issue 12 problem 3: a `receive` the domain refuses leaves no key (nor link) behind.
#[tokio::test]
async fn a_refused_receive_creates_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine.execute(receive("c1", "CMP-1", "13900001111")).await.unwrap();
    let keys_before = engine.vault().dump().await.unwrap().keys.len();
    assert_eq!(keys_before, 1);
    // A second receive on the same complaint, for another customer: refused.
    let err = engine.execute(receive("c2", "CMP-1", "13900002222")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    // The same in a batch, next to an accepted command.
    let out = engine
        .execute_batch(vec![
            receive("c3", "CMP-1", "13900003333"),
            receive("c4", "CMP-2", "13900001111"),
        ])
        .await
        .unwrap();
    assert_eq!((out.committed, out.rejected), (1, 1));
    let dump = engine.vault().dump().await.unwrap();
    assert_eq!(dump.keys.len(), 1, "only the committed customer has a key: {dump:?}");
    // An erasure of the refused customers finds nobody.
    assert_eq!(
        engine
            .erase_customer("13900002222", &dpo())
            .await
            .unwrap()
            .keys_destroyed,
        0
    );
    assert_eq!(
        engine
            .erase_customer("13900003333", &dpo())
            .await
            .unwrap()
            .keys_destroyed,
        0
    );
    engine.verify().await.unwrap();
}

fn vault_path(dir: &Path) -> std::path::PathBuf {
    dir.join("vault.pvlt")
}

async fn three_customers(dir: &Path) {
    let engine = open(dir).await;
    for (i, phone) in ["13900000001", "13900000002", "13900000003"].iter().enumerate() {
        engine
            .execute(receive(&format!("c{i}"), &format!("CMP-{i}"), phone))
            .await
            .unwrap();
    }
    engine.verify().await.unwrap();
    engine.close().await.unwrap();
}

/// Issue 12 problem 2: any flipped byte of the vault is found by `verify` (kind Damaged,
/// naming the vault file), and no customer silently reads "erased".
#[tokio::test]
async fn every_flipped_vault_byte_is_damage_never_erasure() {
    let template = tempfile::tempdir().unwrap();
    three_customers(template.path()).await;
    let pristine = std::fs::read(vault_path(template.path())).unwrap();
    assert_eq!(pristine.len(), 64 + 3 * 256);
    // 40 positions spread over the header and every record (the last record included).
    let positions: Vec<usize> = (0..40).map(|i| (i * 997 + 13) % pristine.len()).collect();
    for at in positions {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(template.path()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() && entry.file_name() != "LOCK" {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
        }
        let mut bytes = pristine.clone();
        bytes[at] ^= 0x01;
        std::fs::write(vault_path(dir.path()), &bytes).unwrap();
        let engine = match Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now()))).await {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Damaged, "byte {at}: {e}");
                assert!(e.to_string().contains("vault.pvlt"), "byte {at}: {e}");
                continue;
            }
            Ok(engine) => engine,
        };
        let err = engine
            .verify()
            .await
            .expect_err(&format!("byte {at}: verify must fail"));
        assert_eq!(err.kind(), ErrorKind::Damaged, "byte {at}: {err}");
        assert!(err.to_string().contains("vault.pvlt"), "byte {at}: {err}");
        for i in 0..3 {
            match engine
                .ticket(&ComplaintId::new(format!("CMP-{i}")).unwrap(), Reveal::Clear)
                .await
            {
                Ok(t) => assert!(!t.personal.is_erased(), "byte {at}: CMP-{i} reads erased"),
                Err(e) => assert_eq!(e.kind(), ErrorKind::Damaged, "byte {at}: {e}"),
            }
        }
    }
}

/// Issue 12 problem 2: a deleted vault is corruption, not "everyone erased".
#[tokio::test]
async fn a_deleted_vault_is_damage_never_erasure() {
    let dir = tempfile::tempdir().unwrap();
    three_customers(dir.path()).await;
    std::fs::remove_file(vault_path(dir.path())).unwrap();
    let engine = open(dir.path()).await;
    let err = engine.verify().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Damaged, "{err}");
    assert!(err.to_string().contains("missing from the vault"), "{err}");
    let err = engine
        .ticket(&ComplaintId::new("CMP-0").unwrap(), Reveal::Clear)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Damaged, "{err}");
}

/// Issue 12 problem 5: after erasure, enumerating a (small) phone space finds nothing in the
/// log and the projections: the match keys are keyed by the vault's secret.
#[tokio::test]
async fn an_erased_phone_cannot_be_found_by_enumerating_the_phone_space() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let space: Vec<String> = (0..2000).map(|i| format!("1380013{i:04}")).collect();
    let victim = &space[1234];
    for (i, phone) in space.iter().step_by(97).chain(std::iter::once(victim)).enumerate() {
        engine
            .execute(receive(&format!("c{i}"), &format!("CMP-{i}"), phone))
            .await
            .unwrap();
    }
    assert_eq!(engine.erase_customer(victim, &dpo()).await.unwrap().keys_destroyed, 1);
    engine.save_checkpoints().await.unwrap();
    let secret = *engine.vault().match_secret().await.unwrap();
    engine.close().await.unwrap();
    // Everything an attacker holding the log and the projections has: every file of the store
    // but the vault.
    let mut held = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else if entry.file_name() != "vault.pvlt" {
                held.extend(std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let contains = |needle: &[u8]| held.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(&secret), "the match secret is only in the vault");
    for phone in &space {
        let digits = normalise_phone(phone).unwrap();
        assert!(!contains(digits.as_bytes()), "phone {phone} in clear");
        // The public (unkeyed) hash a guesser would compute, hex and raw.
        let guess = legacy_match_key(None, Some(phone)).unwrap();
        assert!(!contains(guess.as_bytes()), "phone {phone} found by its unkeyed hash");
        // A guess at the secret (all zeros) finds nothing either.
        let zero = plaint::domain::personal::MatchSecret::from_bytes([0; 32]);
        let keyed = plaint::domain::personal::match_key(&zero, None, Some(phone)).unwrap();
        assert!(
            !contains(keyed.as_bytes()),
            "phone {phone} found under a guessed secret"
        );
    }
    // While the match key itself is in the log: complaints stay linked after erasure.
    let real = plaint::domain::personal::MatchSecret::from_bytes(secret);
    let victim_key = plaint::domain::personal::match_key(&real, None, Some(victim)).unwrap();
    assert!(
        contains(victim_key.as_bytes()),
        "the victim's match key links their complaints"
    );
}

fn legacy_record(id: &str, secret: &[u8; 32]) -> Vec<u8> {
    let mut r = vec![0u8; 168];
    r[0] = 1;
    r[1] = id.len() as u8;
    r[2..2 + id.len()].copy_from_slice(id.as_bytes());
    r[130..162].copy_from_slice(secret);
    let c = blake3::hash(&r[..162]);
    r[162..166].copy_from_slice(&c.as_bytes()[..4]);
    r
}

/// A store made before the vault: its `keys/keys.log` is imported into the vault once, with a
/// note, and the personal fields sealed under its keys read in clear.
#[tokio::test]
async fn a_legacy_key_file_is_imported_once() {
    use plaint::domain::personal::{CustomerKey, MatchSecret};
    use plaint::domain::state::{decide, ComplaintState, Context};
    let dir = tempfile::tempdir().unwrap();
    // An event sealed under a legacy key id, appended as the old engine did.
    let legacy_owner = legacy_match_key(None, Some("13700000000")).unwrap();
    let key = CustomerKey {
        id: format!("{legacy_owner}.1"),
        secret: [42; 32],
    };
    {
        let engine = open(dir.path()).await;
        let cmd = receive("old-1", "CMP-OLD", "13700000000");
        let ms = MatchSecret::from_bytes([1; 32]);
        let ctx = Context {
            now: now(),
            policy: engine.policy(),
            calendar: engine.calendar(),
            customer_key: Some(&key),
            match_secret: &ms,
        };
        let events = decide(&ComplaintState::new(), &cmd, &ctx).unwrap();
        let envelopes = events.iter().map(plaint::projections::to_new_event).collect();
        engine
            .store()
            .append("CMP-OLD", plaint::store::ExpectedVersion::Exact(0), envelopes)
            .await
            .unwrap();
        engine.close().await.unwrap();
    }
    // The old engine's vault did not exist: remove the one just created, and write keys.log.
    std::fs::remove_file(vault_path(dir.path())).unwrap();
    let keys_dir = dir.path().join("keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let mut file = b"PLAINTKEYS\0\0".to_vec();
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend(legacy_record(&key.id, &key.secret));
    std::fs::write(keys_dir.join("keys.log"), file).unwrap();

    let engine = open(dir.path()).await;
    let note = engine.vault_migration().expect("a migration note").to_owned();
    assert!(
        note.contains("imported 1 customer keys") && note.contains("keys.log"),
        "{note}"
    );
    assert!(!keys_dir.join("keys.log").exists(), "the old key file is gone");
    let t = engine
        .ticket(&ComplaintId::new("CMP-OLD").unwrap(), Reveal::Clear)
        .await
        .unwrap();
    assert!(matches!(t.personal, PersonalFields::Clear { phone: Some(ref p), .. } if p == "13700000000"));
    engine.verify().await.unwrap();
    // Erasing by the phone finds the legacy key too.
    assert_eq!(
        engine
            .erase_customer("13700000000", &dpo())
            .await
            .unwrap()
            .keys_destroyed,
        1
    );
    engine.close().await.unwrap();
    let engine = open(dir.path()).await;
    assert!(engine.vault_migration().is_none(), "imported once");
    engine.verify().await.unwrap();
}

fn verify(id: &str, complaint: &str) -> Command {
    serde_json::from_value(json!({
        "command_id": id, "complaint_id": complaint, "actor": "cs-007",
        "command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"
    }))
    .unwrap()
}

async fn prepared(engine: &Engine, cmds: &[Command]) -> Vec<plaint::engine::PreparedCommand> {
    let mut out = Vec::new();
    for cmd in cmds {
        out.push(engine.prepare(cmd.clone()));
    }
    out
}

/// An event with its sealed fields and match key taken out (both differ between two stores:
/// random keys, each vault's own match secret), with the fields in clear beside.
async fn opened(engine: &Engine, mut event: Event) -> (Event, PersonalFields) {
    let fields = engine.personal_fields(&event, Reveal::Clear).await.unwrap();
    if let EventData::Received(r) = &mut event.data {
        r.customer.personal = None;
        r.customer.match_key = None;
    }
    (event, fields)
}

/// The complaints' events, opened, and for each receive which of the keys (in order of first
/// use) sealed it: the same customers share a key on both sides.
async fn history(engine: &Engine, complaints: &[&str]) -> (Vec<(Event, PersonalFields)>, Vec<usize>) {
    let (mut events, mut keys, mut key_ids) = (Vec::new(), Vec::new(), Vec::<String>::new());
    for c in complaints {
        for e in engine.history(&ComplaintId::new(*c).unwrap()).await.unwrap() {
            if let EventData::Received(r) = &e.data {
                let id = r.customer.personal.as_ref().unwrap().key_id.clone();
                keys.push(key_ids.iter().position(|k| *k == id).unwrap_or_else(|| {
                    key_ids.push(id);
                    key_ids.len() - 1
                }));
            }
            events.push(opened(engine, e).await);
        }
    }
    (events, keys)
}

#[tokio::test]
async fn prepared_batches_decide_as_unprepared_ones() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (plain, ahead) = (open(da.path()).await, open(db.path()).await);
    let batches = [
        // New customers (a key proposed ahead), one of them twice in the batch.
        vec![
            receive("c-1", "CMP-1", "13900001111"),
            receive("c-2", "CMP-2", "13900001111"),
            receive("c-3", "CMP-3", "13900002222"),
        ],
        // Known customers (their live keys), a retry, a verification.
        vec![
            receive("c-4", "CMP-4", "13900001111"),
            receive("c-1", "CMP-1", "13900001111"),
            verify("c-5", "CMP-1"),
            receive("c-6", "CMP-6", "+86 139-0000-2222"),
        ],
    ];
    for cmds in &batches {
        let a = plain.execute_batch(cmds).await.unwrap();
        let b = ahead
            .execute_batch_prepared(&prepared(&ahead, cmds).await)
            .await
            .unwrap();
        assert_eq!(a, b);
    }
    let complaints = ["CMP-1", "CMP-2", "CMP-3", "CMP-4", "CMP-6"];
    let (a, b) = (history(&plain, &complaints).await, history(&ahead, &complaints).await);
    assert_eq!(a.0.len(), 6);
    assert_eq!(a, b);
    assert_eq!(b.1, vec![0, 0, 1, 0, 1], "one key per customer");
    let received = b.0.iter().filter(|(e, _)| matches!(e.data, EventData::Received(_)));
    assert!(received.clone().count() == 5 && received.clone().all(|(_, f)| matches!(f, PersonalFields::Clear { .. })));
}

#[tokio::test]
async fn a_preparation_made_stale_by_a_new_key_is_sealed_again_under_the_live_key() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    // Prepared while the customer has no key: sealed under a key proposed ahead.
    let early = prepared(&engine, &[receive("c-1", "CMP-1", "13900003333")]).await;
    // Meanwhile another command of the customer makes its key.
    engine
        .execute_batch(vec![receive("c-2", "CMP-2", "13900003333"), verify("c-3", "CMP-2")])
        .await
        .unwrap();
    let out = engine.execute_batch_prepared(&early).await.unwrap();
    assert_eq!(out.committed, 1);
    let key_of = |events: &[Event]| match &events[0].data {
        EventData::Received(r) => r.customer.personal.as_ref().unwrap().key_id.clone(),
        other => panic!("a receive records Received, not {other:?}"),
    };
    let first = engine.history(&ComplaintId::new("CMP-2").unwrap()).await.unwrap();
    let late = engine.history(&ComplaintId::new("CMP-1").unwrap()).await.unwrap();
    assert_eq!(key_of(&late), key_of(&first), "sealed under the customer's live key");
    assert_ne!(
        Some(key_of(&late).as_str()),
        early[0].sealing_key_id(),
        "not under the stale proposal"
    );
    let PersonalFields::Clear { name, .. } = engine.personal_fields(&late[0], Reveal::Clear).await.unwrap() else {
        panic!("the fields open under the live key");
    };
    assert_eq!(name.as_deref(), Some("王芳"));
}

/// The key id a complaint's receive was sealed under.
async fn sealing_key_of(engine: &Engine, complaint: &str) -> String {
    let events = engine.history(&ComplaintId::new(complaint).unwrap()).await.unwrap();
    match &events[0].data {
        EventData::Received(r) => r.customer.personal.as_ref().unwrap().key_id.clone(),
        other => panic!("a receive records Received, not {other:?}"),
    }
}

#[tokio::test]
async fn a_receive_prepared_under_a_key_erased_before_its_batch_is_sealed_under_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine.execute(receive("c-1", "CMP-1", "13900004444")).await.unwrap();
    let k1 = sealing_key_of(&engine, "CMP-1").await;
    // Prepared under the customer's live key K1 (no new key proposed: K1 is live)...
    let early = prepared(
        &engine,
        &[
            receive("c-2", "CMP-2", "13900004444"),
            receive("c-3", "CMP-3", "13900004444"),
        ],
    )
    .await;
    assert_eq!(
        early[0].sealing_key_id(),
        Some(k1.as_str()),
        "sealed ahead under the live key"
    );
    assert_eq!(early[0].proposed_key_id(), None, "a live key is not proposed");
    // ...then the customer is erased while the commands wait for their batch.
    assert_eq!(
        engine
            .erase_customer("13900004444", &dpo())
            .await
            .unwrap()
            .keys_destroyed,
        1
    );
    let out = engine.execute_batch_prepared(&early).await.unwrap();
    assert_eq!(out.committed, 2);
    let (k2, k3) = (
        sealing_key_of(&engine, "CMP-2").await,
        sealing_key_of(&engine, "CMP-3").await,
    );
    assert_ne!(k2, k1, "the owner's next key is a new one, never the erased one");
    assert_eq!(k3, k2, "one new key for the customer in the batch");
    for complaint in ["CMP-2", "CMP-3"] {
        let events = engine.history(&ComplaintId::new(complaint).unwrap()).await.unwrap();
        let fields = engine.personal_fields(&events[0], Reveal::Clear).await.unwrap();
        assert!(
            matches!(fields, PersonalFields::Clear { .. }),
            "{complaint}: data given after the erasure reads"
        );
    }
    engine.verify().await.unwrap();
}

#[tokio::test]
async fn a_new_customers_key_is_the_one_proposed_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let early = prepared(&engine, &[receive("c-1", "CMP-1", "13900005555")]).await;
    let proposed = early[0]
        .proposed_key_id()
        .expect("a new customer: a key proposed")
        .to_owned();
    assert_eq!(early[0].sealing_key_id(), Some(proposed.as_str()));
    engine.execute_batch_prepared(&early).await.unwrap();
    assert_eq!(
        sealing_key_of(&engine, "CMP-1").await,
        proposed,
        "the batch took the proposal"
    );
}

/// Review of wave 12: a command prepared by one engine (another store, another match secret)
/// and executed by another is keyed under the executing engine's owner, not the preparer's:
/// its customer can be erased through the engine that recorded it.
#[tokio::test]
async fn a_command_prepared_by_another_engine_is_keyed_by_the_executing_one() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(da.path()).await, open(db.path()).await);
    let elsewhere = prepared(&a, &[receive("c-1", "CMP-1", "13900005555")]).await;
    assert!(elsewhere[0].proposed_key_id().is_some(), "a key proposed by a's vault");
    let out = b.execute_batch_prepared(&elsewhere).await.unwrap();
    assert_eq!(out.committed, 1);
    let late = b.history(&ComplaintId::new("CMP-1").unwrap()).await.unwrap();
    let PersonalFields::Clear { name, .. } = b.personal_fields(&late[0], Reveal::Clear).await.unwrap() else {
        panic!("the fields open through b");
    };
    assert_eq!(name.as_deref(), Some("王芳"));
    assert_eq!(b.erase_customer("13900005555", &dpo()).await.unwrap().keys_destroyed, 1);
    assert!(b.personal_fields(&late[0], Reveal::Clear).await.unwrap().is_erased());
}

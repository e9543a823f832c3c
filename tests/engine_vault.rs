//! The customer vault through the facade (issue 12): nothing is created for a refused command,
//! a damaged or missing vault record is corruption (never "erased"), an erased phone cannot be
//! recovered from the log and projections by enumerating the phone space, and a legacy
//! `keys/keys.log` is imported once.

use plaint::domain::personal::{legacy_match_key, normalise_phone};
use plaint::domain::{Command, ComplaintId, Timestamp};
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

//! The vault conformance suite every backend runs (see [`crate::vault`]), like
//! [`crate::conformance`] for the log: a factory yields a fresh, empty store per case; every
//! case panics with a message naming the case and what differed.
//!
//! The contract pinned here:
//! - A fresh vault has a match secret that never changes, and no key: an unknown id is
//!   [`KeyState::Missing`], never erased.
//! - Keys and links are created with the append that commits events needing them, and only
//!   then: an append refused (stale version, invalid request) or fully deduplicated creates none.
//! - Erasure destroys the secret ([`KeyState::Erased`]), idempotently; the owner's next key is a
//!   new one; `keys_of` lists both, in creation order. An append naming an erased key (to make
//!   it again, or sealing under it) is refused with [`StoreError::KeyErased`] and writes nothing.
//! - [`Vault::dump`] then [`Vault::restore`] into an empty vault of any backend reproduces every
//!   key state and the match secret; restoring into a vault that holds keys is refused.
//! - Concurrent appends with keys all keep their keys.

use crate::conformance::sample_event;
use crate::vault::{random_secret, KeyState, NewKey, VaultStore, VaultWrite};
use crate::{AppendRequest, ExpectedVersion, StoreError};
use std::future::Future;
use std::sync::Arc;

/// Runs every vault case, each on a fresh store from `make` (restore also uses a second one).
pub async fn run_all_vault<S, F, Fut>(make: F)
where
    S: VaultStore + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    fresh_vault(make().await).await;
    keys_come_with_their_events(make().await).await;
    nothing_for_a_refused_append(make().await).await;
    erasure(make().await).await;
    dump_and_restore(make().await, make().await).await;
    concurrent_keys(Arc::new(make().await)).await;
}

fn new_key(owner: &str, suffix: &str) -> NewKey {
    NewKey {
        id: format!("{owner}.{suffix}"),
        secret: random_secret().expect("random"),
    }
}

fn request(stream: &str, expected: ExpectedVersion, command_id: &str) -> AppendRequest {
    AppendRequest {
        stream: stream.into(),
        expected,
        events: vec![sample_event(command_id, 1)],
    }
}

fn live(state: KeyState, case: &str) -> [u8; 32] {
    match state {
        KeyState::Live(s) => *s,
        other => panic!("{case}: expected a live key, got {other:?}"),
    }
}

/// A fresh vault: a stable match secret, no keys.
pub async fn fresh_vault<S: VaultStore>(store: S) {
    let a = store.match_secret().await.expect("fresh_vault: match secret");
    let b = store.match_secret().await.expect("fresh_vault: match secret again");
    assert_eq!(*a, *b, "fresh_vault: the match secret is stable");
    assert_ne!(*a, [0u8; 32], "fresh_vault: the match secret is random");
    assert_eq!(
        store.key("owner.1").await.unwrap(),
        KeyState::Missing,
        "fresh_vault: unknown key"
    );
    assert!(
        store.live_key("owner").await.unwrap().is_none(),
        "fresh_vault: no live key"
    );
    let report = store.verify_vault().await.expect("fresh_vault: verify");
    assert_eq!(
        (report.live, report.erased, report.links),
        (0, 0, 0),
        "fresh_vault: empty"
    );
}

/// Keys and links are created with the events that need them.
pub async fn keys_come_with_their_events<S: VaultStore>(store: S) {
    let k = new_key("aaaa", "k1");
    let write = VaultWrite {
        keys: vec![k.clone()],
        links: vec![("aaaa".into(), "bbbb".into())],
        sealed: Vec::new(),
    };
    let r = store
        .append_with_vault(vec![request("s-1", ExpectedVersion::Exact(0), "c-1")], write)
        .await
        .expect("keys_come_with_their_events: append");
    assert_eq!(
        r[0].first_position, 1,
        "keys_come_with_their_events: the event committed"
    );
    assert_eq!(
        live(store.key(&k.id).await.unwrap(), "keys_come_with_their_events"),
        *k.secret,
        "keys_come_with_their_events: the key's secret"
    );
    let (id, secret) = store.live_key("aaaa").await.unwrap().expect("live key of the owner");
    assert_eq!((id.as_str(), *secret), (k.id.as_str(), *k.secret));
    assert_eq!(store.keys_of("aaaa").await.unwrap(), vec![k.id.clone()]);
    assert_eq!(store.linked("aaaa").await.unwrap(), vec!["bbbb".to_string()]);
    assert_eq!(store.linked("bbbb").await.unwrap(), vec!["aaaa".to_string()]);
    // Without keys, append_with_vault is a plain append.
    store
        .append_with_vault(
            vec![request("s-1", ExpectedVersion::Exact(1), "c-2")],
            VaultWrite::default(),
        )
        .await
        .expect("keys_come_with_their_events: append without keys");
    let report = store.verify_vault().await.expect("keys_come_with_their_events: verify");
    assert_eq!((report.live, report.erased, report.links), (1, 0, 1));
}

/// A refused or deduplicated append creates no key.
pub async fn nothing_for_a_refused_append<S: VaultStore>(store: S) {
    let case = "nothing_for_a_refused_append";
    let k = new_key("cccc", "stale");
    let write = VaultWrite {
        keys: vec![k.clone()],
        links: vec![("cccc".into(), "dddd".into())],
        sealed: Vec::new(),
    };
    let err = store
        .append_with_vault(vec![request("s-2", ExpectedVersion::Exact(3), "c-1")], write.clone())
        .await
        .expect_err("stale version refused");
    assert!(matches!(err, StoreError::Conflict { .. }), "{case}: {err}");
    assert_eq!(
        store.key(&k.id).await.unwrap(),
        KeyState::Missing,
        "{case}: no key after a conflict"
    );
    assert!(
        store.linked("cccc").await.unwrap().is_empty(),
        "{case}: no link after a conflict"
    );
    let bad = AppendRequest {
        stream: "s-2".into(),
        expected: ExpectedVersion::Any,
        events: Vec::new(),
    };
    assert!(
        store.append_with_vault(vec![bad], write.clone()).await.is_err(),
        "{case}: empty append refused"
    );
    assert_eq!(
        store.key(&k.id).await.unwrap(),
        KeyState::Missing,
        "{case}: no key after an invalid append"
    );
    // The command commits once; a retry with another key is deduplicated and creates nothing.
    let first = new_key("cccc", "first");
    store
        .append_with_vault(
            vec![request("s-2", ExpectedVersion::Exact(0), "c-1")],
            VaultWrite {
                keys: vec![first.clone()],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .expect("first append");
    let again = store
        .append_with_vault(vec![request("s-2", ExpectedVersion::Exact(0), "c-1")], write)
        .await
        .expect("retry deduplicated");
    assert!(again[0].deduplicated, "{case}: retry deduplicated");
    assert_eq!(
        store.key(&k.id).await.unwrap(),
        KeyState::Missing,
        "{case}: no key for a duplicate"
    );
    assert_eq!(
        store.keys_of("cccc").await.unwrap(),
        vec![first.id],
        "{case}: only the committed key"
    );
}

/// Erasure destroys secrets; the owner's next key is a new one.
pub async fn erasure<S: VaultStore>(store: S) {
    let case = "erasure";
    let k1 = new_key("eeee", "one");
    store
        .append_with_vault(
            vec![request("s-3", ExpectedVersion::Exact(0), "c-1")],
            VaultWrite {
                keys: vec![k1.clone()],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .expect("append");
    assert_eq!(
        store.erase(std::slice::from_ref(&k1.id)).await.unwrap(),
        1,
        "{case}: one live key destroyed"
    );
    assert_eq!(
        store.erase(std::slice::from_ref(&k1.id)).await.unwrap(),
        0,
        "{case}: idempotent"
    );
    assert_eq!(
        store.erase(&["nobody.x".to_string()]).await.unwrap(),
        0,
        "{case}: unknown id ignored"
    );
    // Several ids at once, erased, unknown and live mixed (an open completing every erasure
    // ever recorded names them all): only the live ones are destroyed and counted.
    let k2 = new_key("eeef", "two");
    let k3 = new_key("eeed", "three");
    store
        .append_with_vault(
            vec![request("s-3", ExpectedVersion::Exact(1), "c-2")],
            VaultWrite {
                keys: vec![k2.clone(), k3.clone()],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .expect("append");
    assert_eq!(
        store
            .erase(&[k1.id.clone(), k2.id.clone(), "nobody.y".to_string(), k3.id.clone()])
            .await
            .unwrap(),
        2,
        "{case}: the live ones of a mixed list destroyed"
    );
    assert_eq!(store.key(&k2.id).await.unwrap(), KeyState::Erased, "{case}: k2 erased");
    assert_eq!(store.key(&k3.id).await.unwrap(), KeyState::Erased, "{case}: k3 erased");
    assert_eq!(
        store.key(&k1.id).await.unwrap(),
        KeyState::Erased,
        "{case}: reads erased"
    );
    assert!(
        store.live_key("eeee").await.unwrap().is_none(),
        "{case}: no live key after erasure"
    );
    refuses_erased_keys(&store, &k1).await;
    let k2 = new_key("eeee", "two");
    store
        .append_with_vault(
            vec![request("s-4", ExpectedVersion::Exact(0), "c-1")],
            VaultWrite {
                keys: vec![k2.clone()],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .expect("append after erasure");
    assert_eq!(live(store.key(&k2.id).await.unwrap(), case), *k2.secret);
    assert_eq!(store.keys_of("eeee").await.unwrap(), vec![k1.id.clone(), k2.id.clone()]);
    let report = store.verify_vault().await.expect("erasure: verify");
    assert_eq!((report.live, report.erased), (1, 3), "{case}: counts");
}

/// An append naming an erased key is refused with [`StoreError::KeyErased`], and writes
/// nothing: one that would make it again (the PostgreSQL vault skipped it silently before wave
/// 13, `ON CONFLICT DO NOTHING`, committing events whose key stayed erased), and one sealing
/// under it ([`VaultWrite::sealed`]: another process erased the customer meanwhile).
async fn refuses_erased_keys<S: VaultStore>(store: &S, erased: &NewKey) {
    let case = "erasure: refuses erased keys";
    let head = store.head_position().await.unwrap();
    let again = VaultWrite {
        keys: vec![erased.clone()],
        links: Vec::new(),
        sealed: Vec::new(),
    };
    let sealing = VaultWrite {
        keys: Vec::new(),
        links: Vec::new(),
        sealed: vec![erased.id.clone()],
    };
    for (what, write) in [("made again", again), ("sealed under", sealing)] {
        let refused = store
            .append_with_vault(vec![request("s-erased", ExpectedVersion::Exact(0), "c-1")], write)
            .await
            .expect_err(what);
        assert!(
            matches!(&refused, StoreError::KeyErased { key_id } if *key_id == erased.id),
            "{case}: {what}: {refused:?}"
        );
        assert_eq!(
            store.head_position().await.unwrap(),
            head,
            "{case}: {what}: nothing written"
        );
        assert_eq!(store.key(&erased.id).await.unwrap(), KeyState::Erased, "{case}: {what}");
    }
}

/// A dump restored into an empty vault reproduces it.
pub async fn dump_and_restore<S: VaultStore, T: VaultStore>(source: S, target: T) {
    let case = "dump_and_restore";
    let (a, b) = (new_key("ffff", "a"), new_key("9999", "b"));
    source
        .append_with_vault(
            vec![
                request("s-5", ExpectedVersion::Exact(0), "c-1"),
                request("s-6", ExpectedVersion::Exact(0), "c-1"),
            ],
            VaultWrite {
                keys: vec![a.clone(), b.clone()],
                links: vec![("ffff".into(), "9999".into())],
                sealed: Vec::new(),
            },
        )
        .await
        .expect("append");
    source.erase(std::slice::from_ref(&b.id)).await.unwrap();
    let dump = source.dump().await.expect("dump");
    target.restore(&dump).await.expect("restore into an empty vault");
    assert_eq!(
        *target.match_secret().await.unwrap(),
        *source.match_secret().await.unwrap(),
        "{case}: match secret"
    );
    assert_eq!(
        live(target.key(&a.id).await.unwrap(), case),
        *a.secret,
        "{case}: live key"
    );
    assert_eq!(target.key(&b.id).await.unwrap(), KeyState::Erased, "{case}: erased key");
    assert_eq!(
        target.linked("9999").await.unwrap(),
        vec!["ffff".to_string()],
        "{case}: link"
    );
    assert!(
        target.restore(&dump).await.is_err(),
        "{case}: a second restore is refused"
    );
    let report = target.verify_vault().await.expect("verify restored");
    assert_eq!((report.live, report.erased, report.links), (1, 1, 1), "{case}: counts");
}

/// Many concurrent appends with keys: every key is kept.
pub async fn concurrent_keys<S: VaultStore + 'static>(store: Arc<S>) {
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in 0..10 {
                let k = new_key(&format!("t{t}x{i}"), "k");
                store
                    .append_with_vault(
                        vec![request(&format!("s-{t}-{i}"), ExpectedVersion::Exact(0), "c-1")],
                        VaultWrite {
                            keys: vec![k.clone()],
                            links: Vec::new(),
                            sealed: Vec::new(),
                        },
                    )
                    .await
                    .expect("concurrent append");
                made.push(k);
            }
            made
        }));
    }
    for t in tasks {
        for k in t.await.expect("task") {
            assert_eq!(live(store.key(&k.id).await.unwrap(), "concurrent_keys"), *k.secret);
        }
    }
    assert_eq!(
        store.verify_vault().await.unwrap().live,
        80,
        "concurrent_keys: every key kept"
    );
}

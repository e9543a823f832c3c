//! A command prepared ahead (`prepare::prepare`, issue 15 wave 11) is decided exactly as the
//! command itself: the same events, byte for byte, whether the sealing done ahead is used (the
//! decision's key is the one it was sealed under) or not (another key: sealed again).

use plaint_domain::calendar::Calendar;
use plaint_domain::codec;
use plaint_domain::personal::{unseal, CustomerKey, MatchSecret};
use plaint_domain::policy::Policy;
use plaint_domain::prepare::prepare;
use plaint_domain::repeat::NoPriors;
use plaint_domain::state::{decide_prepared, decide_with, ComplaintState, Context};
use plaint_domain::*;

static MATCH_SECRET: MatchSecret = MatchSecret::from_bytes([7; 32]);

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-25T09:00:00+08:00").unwrap()
}

fn key(id: &str, byte: u8) -> CustomerKey {
    CustomerKey {
        id: id.to_owned(),
        secret: [byte; 32],
    }
}

fn receive(command_id: &str) -> Command {
    serde_json::from_str(&format!(
        r#"{{"command_id": "{command_id}", "complaint_id": "CMP-7", "actor": "cs-014", "command": "receive",
            "channel": "hotline", "region": "杭州", "description": "包裹破损",
            "customer": {{"name": "陈静", "phone": "13800138000", "address": "杭州市西湖区"}}}}"#
    ))
    .unwrap()
}

/// The events' exact bytes (the log's encoding of their data) with their metadata.
fn encoded(events: &[Event]) -> Vec<(EventMeta, Vec<u8>)> {
    events
        .iter()
        .map(|e| (e.meta.clone(), codec::encode(&e.data).2))
        .collect()
}

fn decide_both(cmd: &Command, ahead_key: Option<&CustomerKey>, now_key: &CustomerKey) -> (Vec<Event>, Vec<Event>) {
    let (policy, calendar) = (Policy::default(), Calendar::china_mainland());
    let ctx = Context {
        now: now(),
        policy: &policy,
        calendar: &calendar,
        customer_key: Some(now_key),
        match_secret: &MATCH_SECRET,
    };
    let state = ComplaintState::default();
    let plain = decide_with(&state, cmd, &ctx, &NoPriors).unwrap();
    let prepared = prepare(cmd.clone(), ahead_key.cloned());
    let ahead = decide_prepared(&state, &prepared, &ctx, &NoPriors).unwrap();
    (plain, ahead)
}

#[test]
fn a_receive_sealed_ahead_under_the_decisions_key_gives_the_same_bytes() {
    let k = key("owner.k1", 1);
    let cmd = receive("c-1");
    let prepared = prepare(cmd.clone(), Some(k.clone()));
    assert!(prepared.ahead().sealed_under(&k).is_some(), "sealed ahead");
    let (plain, ahead) = decide_both(&cmd, Some(&k), &k);
    assert_eq!(encoded(&plain), encoded(&ahead));
    assert_eq!(plain, ahead);
}

#[test]
fn a_receive_sealed_ahead_under_another_key_is_sealed_again_under_the_decisions_key() {
    let (ahead_key, now_key) = (key("owner.k1", 1), key("owner.k2", 2));
    // Same id, another secret: not the same key either.
    let same_id = key("owner.k2", 3);
    let cmd = receive("c-2");
    for other in [&ahead_key, &same_id] {
        let (plain, ahead) = decide_both(&cmd, Some(other), &now_key);
        assert_eq!(encoded(&plain), encoded(&ahead));
        let EventData::Received(r) = &ahead[0].data else {
            panic!("a receive records Received");
        };
        let sealed = r.customer.personal.as_ref().expect("personal fields sealed");
        assert_eq!(sealed.key_id, "owner.k2");
        assert_eq!(unseal(sealed, &now_key).unwrap().name.as_deref(), Some("陈静"));
    }
}

#[test]
fn a_command_prepared_without_a_key_records_the_same_digest_and_events() {
    let k = key("owner.k1", 1);
    let (plain, ahead) = decide_both(&receive("c-3"), None, &k);
    assert_eq!(encoded(&plain), encoded(&ahead));
    assert!(ahead[0].meta.command_digest.is_some());
}

#[test]
fn a_retry_of_a_prepared_command_is_recognised_and_another_body_refused() {
    let k = key("owner.k1", 1);
    let (policy, calendar) = (Policy::default(), Calendar::china_mainland());
    let ctx = Context {
        now: now(),
        policy: &policy,
        calendar: &calendar,
        customer_key: Some(&k),
        match_secret: &MATCH_SECRET,
    };
    let cmd = receive("c-4");
    let events = decide_prepared(
        &ComplaintState::default(),
        &prepare(cmd.clone(), Some(k.clone())),
        &ctx,
        &NoPriors,
    )
    .unwrap();
    let state = ComplaintState::from_events(&events);
    assert_eq!(
        decide_prepared(&state, &prepare(cmd.clone(), Some(k.clone())), &ctx, &NoPriors).unwrap(),
        Vec::<Event>::new()
    );
    let mut other = cmd;
    other.actor = Actor::person("cs-015").unwrap();
    assert!(decide_prepared(&state, &prepare(other, Some(k.clone())), &ctx, &NoPriors).is_err());
}

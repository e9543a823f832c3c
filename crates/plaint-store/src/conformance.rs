//! The conformance suite every backend runs: one set of behaviours, one set of assertions.
//!
//! A backend's integration test calls [`run_all`] with a factory that yields a fresh, **empty**
//! store for each case (the file log: a new temporary directory; PostgreSQL: truncated tables).
//! Every case panics with a message naming the case and what differed.
//!
//! ```
//! use plaint_store::EventStore;
//!
//! async fn check_backend<S: EventStore + 'static>(make_empty_store: impl Fn() -> S) {
//!     plaint_store::conformance::run_all(|| std::future::ready(make_empty_store())).await;
//! }
//! ```
//!
//! The contract pinned here, beyond the trait's doc comments:
//! - Positions start at 1 and are gapless in commit order; `append_many` results are contiguous
//!   in request order.
//! - Idempotency is checked **before** the expected version: a retried append whose command id
//!   the stream already holds returns the original positions with `deduplicated = true`, even
//!   when its expected version is now stale. The same command id on another stream is a new
//!   command.
//! - A stale expected version is `StoreError::Conflict` naming stream, expected and actual;
//!   nothing is written. In `append_many` one conflict fails the whole call.
//! - An empty event list, an empty stream name, an empty command id or events of one append with
//!   different command ids are `StoreError::InvalidAppend`; sizes over the limits in
//!   [`crate::types`] are `StoreError::Limit`.
//! - `append_at_head` at the current head appends; a retry of a committed command id is
//!   `deduplicated` at any head, never refused. A store whose `head_check` is
//!   `HeadCheck::AtAppend` refuses an append at a stale head with `StoreError::HeadMoved`
//!   naming both heads, writing nothing.
//! - `verify` reports the chain head computed with [`crate::chain::chain_next`] over the events
//!   in position order, so every backend yields the same head hash for the same events.

use crate::chain::{chain_next, CHAIN_GENESIS};
use crate::{
    AppendRequest, EventStore, ExpectedVersion, HeadCheck, NewEvent, RecordedEvent, StoreError, APPEND_EVENTS_MAX,
    EVENT_PAYLOAD_SIZE_MAX, STREAM_NAME_LEN_MAX,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Guards against a hanging backend (a subscription that never delivers). Not a speed check:
/// every case finishes in milliseconds on a sound backend.
const CASE_HANG_GUARD: Duration = Duration::from_secs(60);

/// Runs every conformance case, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: EventStore + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    empty_store(make().await).await;
    append_and_read(make().await).await;
    conflicts(make().await).await;
    idempotency(make().await).await;
    append_many_atomic(make().await).await;
    invalid_appends(make().await).await;
    concurrent_appends(Arc::new(make().await)).await;
    subscription_handover(Arc::new(make().await)).await;
    verify_chain(make().await).await;
    append_at_head(make().await).await;
}

/// An event with recognisable fields, for the cases.
pub fn sample_event(command_id: &str, n: u32) -> NewEvent {
    NewEvent {
        event_type: format!("Type{}", n % 3),
        schema_version: (n % 5) as u16 + 1,
        occurred_at_ms: 1_700_000_000_000 + i64::from(n),
        recorded_at_ms: 1_700_000_000_500 + i64::from(n),
        actor: format!("agent-{}", n % 7),
        command_id: command_id.to_string(),
        payload: format!("payload {n} of {command_id}").into_bytes(),
    }
}

fn assert_matches(case: &str, recorded: &RecordedEvent, stream: &str, version: u64, new: &NewEvent) {
    assert_eq!(
        recorded.stream, stream,
        "{case}: stream of position {}",
        recorded.position
    );
    assert_eq!(
        recorded.stream_version, version,
        "{case}: version of position {}",
        recorded.position
    );
    assert_eq!(recorded.event_type, new.event_type, "{case}: event_type");
    assert_eq!(recorded.schema_version, new.schema_version, "{case}: schema_version");
    assert_eq!(recorded.occurred_at_ms, new.occurred_at_ms, "{case}: occurred_at_ms");
    assert_eq!(recorded.recorded_at_ms, new.recorded_at_ms, "{case}: recorded_at_ms");
    assert_eq!(recorded.actor, new.actor, "{case}: actor");
    assert_eq!(recorded.command_id, new.command_id, "{case}: command_id");
    assert_eq!(recorded.payload, new.payload, "{case}: payload");
}

/// A fresh store is empty and verifies.
pub async fn empty_store<S: EventStore>(store: S) {
    let case = "empty_store";
    assert_eq!(store.head_position().await.unwrap(), 0, "{case}: head");
    assert_eq!(store.stream_version("nope").await.unwrap(), 0, "{case}: stream version");
    assert!(store.read_all(0, 100).await.unwrap().is_empty(), "{case}: read_all");
    assert!(
        store.read_stream("nope", 0, 100).await.unwrap().is_empty(),
        "{case}: read_stream"
    );
    let report = store.verify().await.unwrap();
    assert_eq!(report.events, 0, "{case}: verify events");
    assert_eq!(report.head_position, 0, "{case}: verify head");
    assert_eq!(report.chain_head, CHAIN_GENESIS, "{case}: verify chain head");
}

/// Appends get gapless positions and versions; reads return exactly what was appended.
pub async fn append_and_read<S: EventStore>(store: S) {
    let case = "append_and_read";
    let a: Vec<NewEvent> = (0..3).map(|n| sample_event("cmd-a", n)).collect();
    let r = store.append("s-1", ExpectedVersion::Exact(0), a.clone()).await.unwrap();
    assert_eq!(
        (r.first_position, r.last_position, r.stream_version, r.deduplicated),
        (1, 3, 3, false),
        "{case}"
    );
    let b = vec![sample_event("cmd-b", 10)];
    let r = store.append("s-2", ExpectedVersion::Any, b.clone()).await.unwrap();
    assert_eq!(
        (r.first_position, r.last_position, r.stream_version),
        (4, 4, 1),
        "{case}"
    );
    let c = vec![sample_event("cmd-c", 20), sample_event("cmd-c", 21)];
    let r = store.append("s-1", ExpectedVersion::Exact(3), c.clone()).await.unwrap();
    assert_eq!(
        (r.first_position, r.last_position, r.stream_version),
        (5, 6, 5),
        "{case}"
    );

    assert_eq!(store.head_position().await.unwrap(), 6, "{case}: head");
    assert_eq!(store.stream_version("s-1").await.unwrap(), 5, "{case}: s-1 version");
    assert_eq!(store.stream_version("s-2").await.unwrap(), 1, "{case}: s-2 version");

    let all = store.read_all(1, 100).await.unwrap();
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5, 6], "{case}: read_all positions");
    assert_matches(case, &all[0], "s-1", 1, &a[0]);
    assert_matches(case, &all[2], "s-1", 3, &a[2]);
    assert_matches(case, &all[3], "s-2", 1, &b[0]);
    assert_matches(case, &all[5], "s-1", 5, &c[1]);
    assert_eq!(
        store.read_all(0, 100).await.unwrap(),
        all,
        "{case}: read_all from 0 equals from 1"
    );

    let page = store.read_all(3, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![3, 4],
        "{case}: read_all page"
    );
    assert!(
        store.read_all(7, 10).await.unwrap().is_empty(),
        "{case}: read_all past head"
    );
    assert!(store.read_all(1, 0).await.unwrap().is_empty(), "{case}: read_all max 0");

    let s1 = store.read_stream("s-1", 2, 10).await.unwrap();
    assert_eq!(
        s1.iter().map(|e| (e.stream_version, e.position)).collect::<Vec<_>>(),
        vec![(2, 2), (3, 3), (4, 5), (5, 6)],
        "{case}: read_stream from version 2"
    );
    assert_eq!(s1[2], all[4], "{case}: read_stream equals read_all");
    let s1_page = store.read_stream("s-1", 0, 2).await.unwrap();
    assert_eq!(
        s1_page.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![1, 2],
        "{case}: page"
    );
    assert!(
        store.read_stream("s-1", 6, 10).await.unwrap().is_empty(),
        "{case}: read_stream past end"
    );
}

/// A stale expected version is a typed conflict and writes nothing.
pub async fn conflicts<S: EventStore>(store: S) {
    let case = "conflicts";
    store
        .append("s", ExpectedVersion::Exact(0), vec![sample_event("c1", 0)])
        .await
        .unwrap();
    store
        .append("s", ExpectedVersion::Exact(1), vec![sample_event("c2", 1)])
        .await
        .unwrap();
    match store
        .append("s", ExpectedVersion::Exact(1), vec![sample_event("c3", 2)])
        .await
    {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("s", ExpectedVersion::Exact(1), 2),
                "{case}"
            );
        }
        other => panic!("{case}: expected Conflict on stale version, got {other:?}"),
    }
    match store
        .append("t", ExpectedVersion::Exact(4), vec![sample_event("c4", 3)])
        .await
    {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("t", ExpectedVersion::Exact(4), 0),
                "{case}"
            );
        }
        other => panic!("{case}: expected Conflict on missing stream, got {other:?}"),
    }
    assert_eq!(store.head_position().await.unwrap(), 2, "{case}: nothing written");
    assert_eq!(store.stream_version("t").await.unwrap(), 0, "{case}: t not created");
    // The rejected command id was not recorded: it can be appended afterwards.
    let r = store
        .append("s", ExpectedVersion::Exact(2), vec![sample_event("c3", 2)])
        .await
        .unwrap();
    assert_eq!(
        (r.first_position, r.deduplicated),
        (3, false),
        "{case}: retry after conflict"
    );
}

/// A retried command returns the original positions and writes nothing.
pub async fn idempotency<S: EventStore>(store: S) {
    let case = "idempotency";
    let events = vec![sample_event("cmd-1", 0), sample_event("cmd-1", 1)];
    let first = store
        .append("s", ExpectedVersion::Exact(0), events.clone())
        .await
        .unwrap();
    store
        .append("other", ExpectedVersion::Any, vec![sample_event("cmd-x", 2)])
        .await
        .unwrap();
    let again = store
        .append("s", ExpectedVersion::Exact(0), events.clone())
        .await
        .unwrap();
    assert!(again.deduplicated, "{case}: retry is deduplicated");
    assert_eq!(
        (again.first_position, again.last_position, again.stream_version),
        (first.first_position, first.last_position, first.stream_version),
        "{case}: retry returns the original positions"
    );
    let any = store.append("s", ExpectedVersion::Any, events.clone()).await.unwrap();
    assert!(any.deduplicated, "{case}: retry with Any is deduplicated");
    assert_eq!(
        store.head_position().await.unwrap(),
        3,
        "{case}: nothing written by retries"
    );
    assert_eq!(store.stream_version("s").await.unwrap(), 2, "{case}: version unchanged");

    // A later command of the same stream, then a retry of the first: still the original positions.
    store
        .append("s", ExpectedVersion::Exact(2), vec![sample_event("cmd-2", 3)])
        .await
        .unwrap();
    let late = store
        .append("s", ExpectedVersion::Exact(3), events.clone())
        .await
        .unwrap();
    assert!(late.deduplicated, "{case}: late retry is deduplicated");
    assert_eq!(
        (late.first_position, late.last_position),
        (1, 2),
        "{case}: late retry positions"
    );

    // Same command id on another stream is another command.
    let elsewhere = store
        .append("s2", ExpectedVersion::Exact(0), vec![sample_event("cmd-1", 4)])
        .await
        .unwrap();
    assert!(
        !elsewhere.deduplicated,
        "{case}: same command id on another stream is new"
    );
    assert_eq!(elsewhere.first_position, 5, "{case}: new command position");

    // Within one append_many, a repeated request dedups against the earlier one.
    let reqs = vec![
        AppendRequest {
            stream: "m".into(),
            expected: ExpectedVersion::Exact(0),
            events: vec![sample_event("cmd-m", 5)],
        },
        AppendRequest {
            stream: "m".into(),
            expected: ExpectedVersion::Exact(0),
            events: vec![sample_event("cmd-m", 5)],
        },
    ];
    let results = store.append_many(reqs).await.unwrap();
    assert_eq!(results.len(), 2, "{case}: append_many results");
    assert!(
        !results[0].deduplicated && results[1].deduplicated,
        "{case}: append_many dedup"
    );
    assert_eq!(
        results[0].first_position, results[1].first_position,
        "{case}: append_many dedup positions"
    );
    assert_eq!(
        store.head_position().await.unwrap(),
        6,
        "{case}: append_many wrote one event"
    );
}

/// `append_many` commits every request or none.
pub async fn append_many_atomic<S: EventStore>(store: S) {
    let case = "append_many_atomic";
    store
        .append("b", ExpectedVersion::Exact(0), vec![sample_event("b-0", 0)])
        .await
        .unwrap();
    let bad = vec![
        AppendRequest {
            stream: "a".into(),
            expected: ExpectedVersion::Exact(0),
            events: vec![sample_event("a-1", 1)],
        },
        AppendRequest {
            stream: "b".into(),
            expected: ExpectedVersion::Exact(0),
            events: vec![sample_event("b-1", 2)],
        },
    ];
    match store.append_many(bad).await {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("b", ExpectedVersion::Exact(0), 1),
                "{case}"
            );
        }
        other => panic!("{case}: expected Conflict, got {other:?}"),
    }
    assert_eq!(
        store.head_position().await.unwrap(),
        1,
        "{case}: nothing of the failed call written"
    );
    assert_eq!(store.stream_version("a").await.unwrap(), 0, "{case}: a not created");

    let good = vec![
        AppendRequest {
            stream: "a".into(),
            expected: ExpectedVersion::Exact(0),
            events: vec![sample_event("a-1", 1), sample_event("a-1", 2)],
        },
        AppendRequest {
            stream: "b".into(),
            expected: ExpectedVersion::Exact(1),
            events: vec![sample_event("b-1", 3)],
        },
        AppendRequest {
            stream: "a".into(),
            expected: ExpectedVersion::Exact(2),
            events: vec![sample_event("a-2", 4)],
        },
    ];
    let results = store.append_many(good).await.unwrap();
    let shape: Vec<(u64, u64, u64)> = results
        .iter()
        .map(|r| (r.first_position, r.last_position, r.stream_version))
        .collect();
    assert_eq!(
        shape,
        vec![(2, 3, 2), (4, 4, 2), (5, 5, 3)],
        "{case}: results in request order"
    );
    assert!(
        store.append_many(Vec::new()).await.unwrap().is_empty(),
        "{case}: empty append_many"
    );
    assert_eq!(store.head_position().await.unwrap(), 5, "{case}: head");
}

/// Malformed or oversized appends are rejected with a typed error and write nothing.
pub async fn invalid_appends<S: EventStore>(store: S) {
    let case = "invalid_appends";
    let is_invalid = |r: Result<crate::AppendResult, StoreError>| matches!(r, Err(StoreError::InvalidAppend { .. }));
    let is_limit = |r: Result<crate::AppendResult, StoreError>| matches!(r, Err(StoreError::Limit { .. }));
    assert!(
        is_invalid(store.append("s", ExpectedVersion::Any, vec![]).await),
        "{case}: empty events"
    );
    assert!(
        is_invalid(store.append("", ExpectedVersion::Any, vec![sample_event("c", 0)]).await),
        "{case}: empty stream"
    );
    assert!(
        is_invalid(store.append("s", ExpectedVersion::Any, vec![sample_event("", 0)]).await),
        "{case}: empty command"
    );
    let mixed = vec![sample_event("c1", 0), sample_event("c2", 1)];
    assert!(
        is_invalid(store.append("s", ExpectedVersion::Any, mixed).await),
        "{case}: mixed command ids"
    );

    let long_stream = "x".repeat(STREAM_NAME_LEN_MAX + 1);
    assert!(
        is_limit(
            store
                .append(&long_stream, ExpectedVersion::Any, vec![sample_event("c", 0)])
                .await
        ),
        "{case}"
    );
    let mut big = sample_event("c", 0);
    big.payload = vec![7u8; EVENT_PAYLOAD_SIZE_MAX + 1];
    assert!(
        is_limit(store.append("s", ExpectedVersion::Any, vec![big]).await),
        "{case}: payload over max"
    );
    let mut long_type = sample_event("c", 0);
    long_type.event_type = "T".repeat(crate::EVENT_TYPE_LEN_MAX + 1);
    assert!(
        is_limit(store.append("s", ExpectedVersion::Any, vec![long_type]).await),
        "{case}: event type"
    );
    let too_many: Vec<NewEvent> = (0..APPEND_EVENTS_MAX as u32 + 1)
        .map(|n| sample_event("c", n))
        .collect();
    assert!(
        is_limit(store.append("s", ExpectedVersion::Any, too_many).await),
        "{case}: too many events"
    );

    // A payload of exactly the maximum is accepted.
    let mut max = sample_event("c-max", 0);
    max.payload = vec![1u8; EVENT_PAYLOAD_SIZE_MAX];
    store
        .append("s", ExpectedVersion::Exact(0), vec![max.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.head_position().await.unwrap(),
        1,
        "{case}: only the valid append written"
    );
    assert_eq!(
        store.read_stream("s", 1, 1).await.unwrap()[0].payload,
        max.payload,
        "{case}: max payload"
    );
}

/// Concurrent appenders: every append commits once, positions stay gapless, versions ordered;
/// racing writers on one stream get exactly one winner per version.
pub async fn concurrent_appends<S: EventStore + 'static>(store: Arc<S>) {
    let case = "concurrent_appends";
    let tasks_count = 8u64;
    let appends_per_task = 25u64;
    let mut handles = Vec::new();
    for t in 0..tasks_count {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let stream = format!("c-{t}");
            for i in 0..appends_per_task {
                let ev = sample_event(&format!("cmd-{t}-{i}"), i as u32);
                let r = store
                    .append(&stream, ExpectedVersion::Exact(i), vec![ev])
                    .await
                    .unwrap();
                assert_eq!(r.stream_version, i + 1);
            }
        }));
    }
    for h in handles {
        h.await.expect("appender task");
    }
    let total = tasks_count * appends_per_task;
    assert_eq!(store.head_position().await.unwrap(), total, "{case}: head");
    let all = store.read_all(1, total as usize + 10).await.unwrap();
    assert_eq!(all.len() as u64, total, "{case}: event count");
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1, "{case}: gapless positions");
    }
    for t in 0..tasks_count {
        let versions: Vec<u64> = all
            .iter()
            .filter(|e| e.stream == format!("c-{t}"))
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(
            versions,
            (1..=appends_per_task).collect::<Vec<_>>(),
            "{case}: versions in position order"
        );
    }

    let mut racers = Vec::new();
    for t in 0..6u32 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .append(
                    "race",
                    ExpectedVersion::Exact(0),
                    vec![sample_event(&format!("race-{t}"), t)],
                )
                .await
        }));
    }
    let mut wins = 0;
    for r in racers {
        match r.await.expect("racer task") {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, 1, "{case}: loser sees version 1"),
            Err(e) => panic!("{case}: racer got {e}"),
        }
    }
    assert_eq!(wins, 1, "{case}: exactly one racer wins");
    assert_eq!(store.stream_version("race").await.unwrap(), 1, "{case}: race version");
}

/// A subscription catches up, then follows live appends made concurrently, with no gap and no
/// duplicate at the hand-over; subscribing mid-log starts at the requested position.
pub async fn subscription_handover<S: EventStore + 'static>(store: Arc<S>) {
    let case = "subscription_handover";
    for i in 0..50u32 {
        store
            .append(
                &format!("h-{}", i % 5),
                ExpectedVersion::Any,
                vec![sample_event(&format!("pre-{i}"), i)],
            )
            .await
            .unwrap();
    }
    let mut sub = store.subscribe(1).await.unwrap();
    let mut mid = store.subscribe(30).await.unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..100u32 {
                let events: Vec<NewEvent> = (0..(i % 3 + 1))
                    .map(|k| sample_event(&format!("live-{i}"), k))
                    .collect();
                store
                    .append(&format!("h-{}", i % 7), ExpectedVersion::Any, events)
                    .await
                    .unwrap();
                if i % 10 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let total = 50 + (0..100u32).map(|i| u64::from(i % 3 + 1)).sum::<u64>();
    let received = tokio::time::timeout(CASE_HANG_GUARD, async {
        let mut got = Vec::new();
        while (got.len() as u64) < total {
            match sub.next().await {
                Some(Ok(e)) => got.push(e),
                Some(Err(e)) => panic!("{case}: subscription error {e}"),
                None => panic!("{case}: subscription ended after {} events", got.len()),
            }
        }
        got
    })
    .await
    .unwrap_or_else(|_| panic!("{case}: subscription did not deliver {total} events within the hang guard"));
    writer.await.expect("writer task");
    let positions: Vec<u64> = received.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=total).collect::<Vec<_>>(),
        "{case}: no gap, no duplicate"
    );
    assert_eq!(
        received,
        store.read_all(1, total as usize).await.unwrap(),
        "{case}: same events as read_all"
    );

    let first_mid = tokio::time::timeout(CASE_HANG_GUARD, mid.next())
        .await
        .expect("mid subscription");
    assert_eq!(
        first_mid.unwrap().unwrap().position,
        30,
        "{case}: mid-log subscription start"
    );

    // Subscribing past the head waits for the next commit.
    let mut future = store.subscribe(total + 1).await.unwrap();
    store
        .append("late", ExpectedVersion::Any, vec![sample_event("late", 0)])
        .await
        .unwrap();
    let late = tokio::time::timeout(CASE_HANG_GUARD, future.next())
        .await
        .expect("future subscription");
    assert_eq!(
        late.unwrap().unwrap().position,
        total + 1,
        "{case}: live event after empty catch-up"
    );
}

/// `verify` checks the log and reports the backend-independent chain head.
pub async fn verify_chain<S: EventStore>(store: S) {
    let case = "verify_chain";
    for i in 0..40u32 {
        let events: Vec<NewEvent> = (0..(i % 4 + 1)).map(|k| sample_event(&format!("v-{i}"), k)).collect();
        store
            .append(&format!("v-{}", i % 6), ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
    let head = store.head_position().await.unwrap();
    let all = store.read_all(1, head as usize).await.unwrap();
    let expected_chain = all.iter().fold(CHAIN_GENESIS, |h, e| chain_next(&h, e));
    let report = store.verify().await.unwrap();
    assert_eq!(report.events, head, "{case}: events");
    assert_eq!(report.head_position, head, "{case}: head");
    assert_eq!(report.streams, 6, "{case}: streams");
    assert_eq!(
        report.chain_head, expected_chain,
        "{case}: chain head equals chain_next over read_all"
    );
}

/// `append_at_head`: accepted at the current head; a retry is a duplicate whatever the head; a
/// store that claims the check ([`HeadCheck::AtAppend`]) refuses a stale head, writing nothing.
pub async fn append_at_head<S: EventStore>(store: S) {
    let case = "append_at_head";
    store
        .append("s", ExpectedVersion::Exact(0), vec![sample_event("cmd-1", 0)])
        .await
        .unwrap();
    let at_head = store
        .append_at_head("s", ExpectedVersion::Exact(1), vec![sample_event("cmd-2", 1)], 1)
        .await
        .unwrap();
    assert_eq!(
        (at_head.first_position, at_head.deduplicated),
        (2, false),
        "{case}: an append at the current head commits"
    );
    let retry = store
        .append_at_head("s", ExpectedVersion::Exact(1), vec![sample_event("cmd-2", 1)], 1)
        .await
        .unwrap();
    assert!(
        retry.deduplicated && retry.first_position == 2,
        "{case}: a retry at the head its first attempt moved is a duplicate, not refused: {retry:?}"
    );
    if store.head_check() == HeadCheck::AtAppend {
        let stale = store
            .append_at_head("t", ExpectedVersion::Exact(0), vec![sample_event("cmd-3", 2)], 1)
            .await;
        assert!(
            matches!(stale, Err(StoreError::HeadMoved { expected: 1, actual: 2 })),
            "{case}: a stale head is refused, naming both heads: {stale:?}"
        );
        assert_eq!(store.head_position().await.unwrap(), 2, "{case}: nothing written");
        assert_eq!(store.stream_version("t").await.unwrap(), 0, "{case}: no stream created");
    }
    let current = store
        .append_at_head("t", ExpectedVersion::Exact(0), vec![sample_event("cmd-3", 2)], 2)
        .await
        .unwrap();
    assert_eq!(current.first_position, 3, "{case}: accepted at the current head");
}

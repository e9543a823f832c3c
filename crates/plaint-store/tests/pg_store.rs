//! PostgreSQL store: behaviour specific to this backend (schema, migration, COPY path, tamper
//! detection, group commit under contention, readable columns). The shared behaviour is in
//! `pg_conformance.rs`.

mod pg_common;

use pg_common::{database_url, event, TestSchema};
use plaint_store::chain::{chain_next, CHAIN_GENESIS};
use plaint_store::pg::{PgOptions, PgStore, PG_SCHEMA_VERSION};
use plaint_store::{AppendRequest, EventStore, ExpectedVersion, StoreError};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_and_connect_requires_it() {
    let Some(url) = database_url() else { return };
    let options = PgOptions::with_schema(format!("plaint_t_mig_{:08x}", rand::random::<u32>()));
    let err = PgStore::connect(&url, options.clone())
        .await
        .err()
        .expect("connect before migrate fails");
    assert!(err.to_string().contains("plaint init --pg"), "{err}");

    let first = PgStore::migrate(&url, &options).await.unwrap();
    assert_eq!((first.version_before, first.version_after), (0, PG_SCHEMA_VERSION));
    // Concurrent re-runs: serialised by the advisory lock, each a no-op.
    let (a, b) = tokio::join!(PgStore::migrate(&url, &options), PgStore::migrate(&url, &options));
    assert_eq!(a.unwrap().version_before, PG_SCHEMA_VERSION);
    assert_eq!(b.unwrap().version_before, PG_SCHEMA_VERSION);
    let store = PgStore::connect(&url, options.clone()).await.unwrap();
    assert_eq!(store.head_position().await.unwrap(), 0);
    drop(store);
    PgStore::drop_schema(&url, &options).await.unwrap();
}

/// A version-2 schema (one row per event with every name spelled out) holding events: `connect`
/// refuses it naming both versions; `migrate` converts it to version 3 in place, keeping every
/// position, version, name, command id, time, payload and chain value, and the store appends on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_schema_is_refused_then_migrated_with_every_event_intact() {
    let Some(url) = database_url() else { return };
    let options = PgOptions::with_schema(format!("plaint_t_v2_{:08x}", rand::random::<u32>()));
    let v2 = PgStore::migrate_to_version(&url, &options, 2).await.unwrap();
    assert_eq!((v2.version_before, v2.version_after), (0, 2));
    // Events as a version-2 program wrote them (the command ids with and without the
    // `<stream>/` prefix that version 3 stores as a tail; a stream whose name is a prefix of
    // another's; an empty tail).
    let mut written = Vec::new();
    let mut chain = CHAIN_GENESIS;
    let mut versions = std::collections::HashMap::new();
    let specs = [
        ("CMP-1", "CMP-1/01-receive", "Received", "cs-1"),
        ("CMP-10", "CMP-10/01-receive", "Received", "cs-2"),
        ("CMP-1", "retry-7", "Verified", "cs-1"),
        ("CMP-1", "CMP-1/", "Closed", "sup-1"),
        ("CMP-10", "CMP-1/02-verify", "Verified", "cs-2"),
    ];
    let raw = {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    };
    let s = &options.schema;
    for (i, (stream, command_id, event_type, actor)) in specs.iter().enumerate() {
        let version = versions.entry(*stream).or_insert(0u64);
        *version += 1;
        let e = plaint_store::RecordedEvent {
            position: i as u64 + 1,
            stream: stream.to_string(),
            stream_version: *version,
            event_type: event_type.to_string(),
            schema_version: 3,
            occurred_at_ms: 1_700_000_000_000 + i as i64,
            recorded_at_ms: 1_700_000_000_900 + i as i64,
            actor: actor.to_string(),
            command_id: command_id.to_string(),
            payload: format!("payload {i}").into_bytes(),
        };
        chain = chain_next(&chain, &e);
        raw.execute(
            &format!(
                "INSERT INTO {s}.events (position, stream, stream_version, command_id, event_type, schema_version, \
                 occurred_at_ms, recorded_at_ms, actor, payload, chain_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                &(e.position as i64),
                &e.stream,
                &(e.stream_version as i64),
                &e.command_id,
                &e.event_type,
                &i32::from(e.schema_version),
                &e.occurred_at_ms,
                &e.recorded_at_ms,
                &e.actor,
                &e.payload,
                &chain.as_slice(),
            ],
        )
        .await
        .unwrap();
        written.push(e);
    }
    raw.execute(
        &format!("UPDATE {s}.head SET position = $1, chain_hash = $2"),
        &[&(written.len() as i64), &chain.as_slice()],
    )
    .await
    .unwrap();

    let err = PgStore::connect(&url, options.clone())
        .await
        .err()
        .expect("connect to v2 fails");
    let text = err.to_string();
    assert!(
        text.contains("version 2")
            && text.contains(&format!("version {PG_SCHEMA_VERSION}"))
            && text.contains("plaint init --pg"),
        "{text}"
    );

    let up = PgStore::migrate(&url, &options).await.unwrap();
    assert_eq!((up.version_before, up.version_after), (2, PG_SCHEMA_VERSION));
    let store = PgStore::connect(&url, options.clone()).await.unwrap();
    assert_eq!(store.read_all(1, 100).await.unwrap(), written);
    let report = store.verify().await.unwrap();
    assert_eq!((report.events, report.streams, report.chain_head), (5, 2, chain));
    // Idempotency still finds the migrated command ids (both stored forms), and appends go on.
    let again = store
        .append("CMP-1", ExpectedVersion::Exact(3), vec![event("CMP-1/01-receive", 9)])
        .await
        .unwrap();
    assert!(again.deduplicated && again.first_position == 1, "{again:?}");
    let again = store
        .append("CMP-1", ExpectedVersion::Exact(3), vec![event("retry-7", 9)])
        .await
        .unwrap();
    assert!(again.deduplicated && again.first_position == 3, "{again:?}");
    let next = store
        .append("CMP-10", ExpectedVersion::Exact(2), vec![event("CMP-10/03-respond", 9)])
        .await
        .unwrap();
    assert_eq!(
        (next.first_position, next.stream_version, next.deduplicated),
        (6, 3, false)
    );
    assert_eq!(store.verify().await.unwrap().events, 6);
    let readable = raw
        .query(
            &format!("SELECT stream, command_id, actor, event_type FROM {s}.events_readable ORDER BY position"),
            &[],
        )
        .await
        .unwrap();
    let readable: Vec<(String, String, String, String)> = readable
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        readable[..5],
        specs
            .iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), d.to_string(), c.to_string()))
            .collect::<Vec<_>>()[..]
    );
    drop(store);
    PgStore::drop_schema(&url, &options).await.unwrap();
}

/// A version-3 schema holding events (as a version-3 program wrote them: interned names, command
/// id tails): `connect` refuses it naming both versions; `migrate` rewrites the rows into the
/// version-4 layout (chain tags) keeping every value, so `verify` gives the same chain head; the
/// store then appends through the one-statement path (counted in `fast_transactions`), a customer
/// key goes in with its event, and a retried command id the writer has not seen is refused by
/// that statement (nothing written) and answered by the full path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_schema_is_refused_then_migrated_and_appends_in_one_statement() {
    use plaint_store::vault::Vault;
    let Some(url) = database_url() else { return };
    let (options, raw) = older_schema(&url, 3).await;
    let s = &options.schema;
    let mut written = Vec::new();
    let mut chain = CHAIN_GENESIS;
    for (i, (version, command_id, event_type)) in [(1u64, "CMP-7/01-receive", "Received"), (2, "retry-1", "Verified")]
        .into_iter()
        .enumerate()
    {
        let e = plaint_store::RecordedEvent {
            position: i as u64 + 1,
            stream: "CMP-7".to_string(),
            stream_version: version,
            event_type: event_type.to_string(),
            schema_version: 2,
            occurred_at_ms: 1_700_000_000_000 + i as i64,
            recorded_at_ms: 1_700_000_000_500 + i as i64,
            actor: "cs-9".to_string(),
            command_id: command_id.to_string(),
            payload: format!("v3 payload {i}").into_bytes(),
        };
        chain = chain_next(&chain, &e);
        let (tail, stored) = match command_id.strip_prefix("CMP-7/") {
            Some(t) => (true, t),
            None => (false, command_id),
        };
        raw.batch_execute(&format!(
            "INSERT INTO {s}.streams (name) VALUES ('CMP-7') ON CONFLICT DO NOTHING; \
             INSERT INTO {s}.names (name) VALUES ('cs-9'), ('{event_type}') ON CONFLICT DO NOTHING"
        ))
        .await
        .unwrap();
        raw.execute(
            &format!(
                "INSERT INTO {s}.events (position, occurred_at_ms, recorded_at_ms, stream_id, stream_version, actor_id, \
                 event_type_id, schema_version, command_tail, command_id, payload, chain_hash) \
                 SELECT $1, $2, $3, (SELECT id FROM {s}.streams WHERE name = 'CMP-7'), $4, \
                 (SELECT id FROM {s}.names WHERE name = 'cs-9'), (SELECT id FROM {s}.names WHERE name = $5), \
                 $6, $7, $8, $9, $10"
            ),
            &[
                &(e.position as i64),
                &e.occurred_at_ms,
                &e.recorded_at_ms,
                &(e.stream_version as i32),
                &e.event_type,
                &i32::from(e.schema_version),
                &tail,
                &stored,
                &e.payload,
                &chain.as_slice(),
            ],
        )
        .await
        .unwrap();
        written.push(e);
    }
    raw.execute(
        &format!("UPDATE {s}.head SET position = $1, chain_hash = $2"),
        &[&(written.len() as i64), &chain.as_slice()],
    )
    .await
    .unwrap();

    refused_then_migrated(&url, &options, 3).await;
    let again = PgStore::migrate(&url, &options).await.unwrap();
    assert_eq!(
        (again.version_before, again.version_after),
        (PG_SCHEMA_VERSION, PG_SCHEMA_VERSION)
    );
    let store = PgStore::connect(&url, options.clone()).await.unwrap();
    assert_eq!(store.read_all(1, 100).await.unwrap(), written);
    assert_eq!(store.verify().await.unwrap().chain_head, chain);

    // The first append learns the head (full path); the next ones take the function, one with a
    // customer key.
    let first = store
        .append("CMP-7", ExpectedVersion::Exact(2), vec![event("CMP-7/03-respond", 3)])
        .await
        .unwrap();
    assert_eq!((first.first_position, first.stream_version), (3, 3));
    let secret = [7u8; 32];
    let key_id = "cust:abc.1".to_string();
    let mut vault = plaint_store::vault::VaultWrite::default();
    vault.keys.push(plaint_store::vault::NewKey {
        id: key_id.clone(),
        secret: zeroize::Zeroizing::new(secret),
    });
    let keyed = store
        .append_with_vault(
            vec![AppendRequest {
                stream: "CMP-8".to_string(),
                expected: ExpectedVersion::Exact(0),
                events: vec![event("CMP-8/01-receive", 4)],
            }],
            vault,
        )
        .await
        .unwrap();
    assert_eq!(keyed[0].first_position, 4);
    let next = store
        .append("CMP-7", ExpectedVersion::Exact(3), vec![event("CMP-7/04-close", 5)])
        .await
        .unwrap();
    assert_eq!((next.first_position, next.stream_version), (5, 4));
    assert!(store.stats().fast_transactions >= 2, "{:?}", store.stats());
    match store.key(&key_id).await.unwrap() {
        plaint_store::vault::KeyState::Live(s) => assert_eq!(*s, secret),
        other => panic!("the key is written with its event, found {other:?}"),
    }
    // A retried command id the writer has not seen: the function refuses, writes nothing, and the
    // full path answers with the original positions.
    let retried = store
        .append("CMP-7", ExpectedVersion::Exact(4), vec![event("retry-1", 6)])
        .await
        .unwrap();
    assert!(retried.deduplicated && retried.first_position == 2, "{retried:?}");
    assert!(store.stats().fast_misses >= 1, "{:?}", store.stats());
    let report = store.verify().await.unwrap();
    assert_eq!((report.events, report.streams), (5, 2));
    drop(store);
    PgStore::drop_schema(&url, &options).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schema_names_are_rejected() {
    let Some(url) = database_url() else { return };
    for bad in ["", "Upper", "1abc", "semi;colon", "pg_x", &"a".repeat(41)] {
        let err = PgStore::migrate(&url, &PgOptions::with_schema(bad)).await.err();
        assert!(err.is_some(), "schema name {bad:?} accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_matches_the_backend_independent_definition_and_readable_columns_are_filled() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "chain").await;
    let store = schema.connect().await;
    store
        .append(
            "c-1",
            ExpectedVersion::Exact(0),
            vec![event("cmd-1", 1), event("cmd-1", 2)],
        )
        .await
        .unwrap();
    store
        .append("c-2", ExpectedVersion::Any, vec![event("cmd-2", 3)])
        .await
        .unwrap();
    let events = store.read_all(1, 100).await.unwrap();
    let mut chain = CHAIN_GENESIS;
    for e in &events {
        chain = chain_next(&chain, e);
    }
    let report = store.verify().await.unwrap();
    assert_eq!(report.chain_head, chain);
    assert_eq!((report.events, report.head_position, report.streams), (3, 3, 2));

    let raw = schema.raw().await;
    let row = raw
        .query_one(
            &format!(
                "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'), event_type, payload_bytes \
                 FROM {}.events_readable WHERE position = 1",
                schema.options.schema
            ),
            &[],
        )
        .await
        .unwrap();
    // 1_700_000_000_001 ms = 2023-11-14T22:13:20.001Z
    assert_eq!(row.get::<_, String>(0), "2023-11-14T22:13:20.001");
    assert_eq!(row.get::<_, String>(1), "Received");
    assert_eq!(row.get::<_, i32>(2) as usize, events[0].payload.len());
    drop(store);
    schema.drop().await;
}

/// Times round-trip exactly whatever their value; the readable columns of `events_readable` hold
/// them where `timestamptz` can (years 1..9999) and are NULL elsewhere, on rows of both insert
/// paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_times_round_trip_and_readable_columns_on_both_insert_paths() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "times").await;
    let store = schema.connect().await;
    let mut early = event("t-1", 1);
    early.occurred_at_ms = i64::MIN;
    early.recorded_at_ms = -1_500; // 1969-12-31T23:59:58.500Z
    let mut late = event("t-1", 2);
    late.occurred_at_ms = i64::MAX;
    late.recorded_at_ms = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    store
        .append("times", ExpectedVersion::Exact(0), vec![early.clone(), late.clone()])
        .await
        .unwrap();
    // 300 more through the COPY path.
    let bulk: Vec<_> = (0..300).map(|i| event("t-2", i)).collect();
    store.append("times", ExpectedVersion::Exact(2), bulk).await.unwrap();
    let back = store.read_stream("times", 1, 2).await.unwrap();
    assert_eq!((back[0].occurred_at_ms, back[0].recorded_at_ms), (i64::MIN, -1_500));
    assert_eq!(
        (back[1].occurred_at_ms, back[1].recorded_at_ms),
        (i64::MAX, 253_402_300_799_999)
    );
    let raw = schema.raw().await;
    let rows = raw
        .query(
            &format!(
                "SELECT occurred_at IS NULL, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') \
                 FROM {}.events_readable WHERE position IN (1, 2, 302) ORDER BY position",
                schema.options.schema
            ),
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(bool, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            (true, "1969-12-31 23:59:58.500".to_string()),
            (true, "9999-12-31 23:59:59.999".to_string()),
            (false, "2023-11-14 22:13:20.799".to_string()),
        ]
    );
    drop(store);
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_a_middle_row_is_found_at_its_position() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "tamper").await;
    let store = schema.connect().await;
    for i in 0..10u64 {
        store
            .append(
                &format!("s-{}", i % 3),
                ExpectedVersion::Any,
                vec![event(&format!("c{i}"), i)],
            )
            .await
            .unwrap();
    }
    assert_eq!(store.verify().await.unwrap().events, 10);
    let raw = schema.raw().await;
    let s = &schema.options.schema;
    raw.execute(
        &format!("UPDATE {s}.events SET payload = 'forged' WHERE position = 6"),
        &[],
    )
    .await
    .unwrap();
    match store.verify().await {
        Err(StoreError::ChainBroken { position, .. }) => assert_eq!(position, 6),
        other => panic!("expected ChainBroken at 6, got {other:?}"),
    }
    // Deleting a row (after restoring nothing) is found as a missing position.
    raw.execute(&format!("DELETE FROM {s}.events WHERE position = 3"), &[])
        .await
        .unwrap();
    match store.verify().await {
        Err(StoreError::ChainBroken { position, .. }) => assert_eq!(position, 3),
        other => panic!("expected ChainBroken at 3, got {other:?}"),
    }
    drop(store);
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_append_many_uses_copy_and_is_atomic() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "bulk").await;
    let store = schema.connect().await;
    // 2,000 events in 500 streams: over COPY_ROWS_MIN, so the COPY path.
    let requests: Vec<AppendRequest> = (0..500u64)
        .map(|s| AppendRequest {
            stream: format!("bulk-{s}"),
            expected: ExpectedVersion::Exact(0),
            events: (0..4).map(|i| event(&format!("import-{s}"), s * 4 + i)).collect(),
        })
        .collect();
    let results = store.append_many(requests.clone()).await.unwrap();
    assert_eq!(results.len(), 500);
    assert_eq!(results[0].first_position, 1);
    assert_eq!(results[499].last_position, 2000);
    assert!(results.iter().all(|r| r.stream_version == 4 && !r.deduplicated));
    assert_eq!(store.head_position().await.unwrap(), 2000);
    let back = store.read_stream("bulk-123", 1, 10).await.unwrap();
    assert_eq!(back.len(), 4);
    assert_eq!(back[2].payload, requests[123].events[2].payload);

    // The retried import is deduplicated whole, with the original positions.
    let again = store.append_many(requests).await.unwrap();
    assert!(again.iter().all(|r| r.deduplicated));
    assert_eq!(
        again,
        results
            .iter()
            .map(|r| plaint_store::AppendResult {
                deduplicated: true,
                ..*r
            })
            .collect::<Vec<_>>()
    );

    // One stale expectation among 300 requests: nothing of the call is written.
    let mut mixed: Vec<AppendRequest> = (0..300u64)
        .map(|s| AppendRequest {
            stream: format!("fresh-{s}"),
            expected: ExpectedVersion::Exact(0),
            events: vec![event(&format!("fresh-{s}"), s)],
        })
        .collect();
    mixed.push(AppendRequest {
        stream: "bulk-7".to_string(),
        expected: ExpectedVersion::Exact(1),
        events: vec![event("late", 1)],
    });
    match store.append_many(mixed).await {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("bulk-7", ExpectedVersion::Exact(1), 4)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.head_position().await.unwrap(), 2000);
    assert_eq!(store.stream_version("fresh-0").await.unwrap(), 0);
    assert_eq!(store.verify().await.unwrap().events, 2000);
    drop(store);
    schema.drop().await;
}

/// Many concurrent appenders in one process share transactions (group commit); a conflict or a
/// duplicate in one call must not affect the others in the same transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_keeps_calls_independent() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "group").await;
    let store = Arc::new(schema.connect().await);
    let mut tasks = Vec::new();
    for t in 0..32u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..20u64 {
                // Shared stream with Any: always succeeds.
                store
                    .append("shared", ExpectedVersion::Any, vec![event(&format!("t{t}-{i}"), i)])
                    .await
                    .unwrap();
                // Stale expectation on purpose every 5th time: must conflict alone.
                let expected = if i % 5 == 4 {
                    ExpectedVersion::Exact(i + 100)
                } else {
                    ExpectedVersion::Exact(i)
                };
                let own = store
                    .append(&format!("own-{t}"), expected, vec![event(&format!("o{t}-{i}"), i)])
                    .await;
                outcomes.push(own.is_ok());
                if own.is_err() {
                    // Keep the stream version in step with i for the next iteration.
                    store
                        .append(
                            &format!("own-{t}"),
                            ExpectedVersion::Exact(i),
                            vec![event(&format!("o{t}-{i}"), i)],
                        )
                        .await
                        .unwrap();
                }
            }
            outcomes
        }));
    }
    for task in tasks {
        let outcomes = task.await.unwrap();
        assert_eq!(outcomes.iter().filter(|ok| !**ok).count(), 4);
    }
    assert_eq!(store.stream_version("shared").await.unwrap(), 640);
    let shared = store.read_stream("shared", 1, 1000).await.unwrap();
    assert!(shared.iter().enumerate().all(|(i, e)| e.stream_version == i as u64 + 1));
    let report = store.verify().await.unwrap();
    assert_eq!(report.events, 640 + 32 * 20);
    drop(store);
    schema.drop().await;
}

/// The writer's one-round-trip path trusts its cached head and stream versions only under a
/// server-side check. Here the cache is made wrong on purpose (a retried command id it has not
/// seen, another process's write) and the outcome must still be the true one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_path_never_decides_from_a_stale_cache() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "fast").await;
    let a = schema.connect().await;
    let b = schema.connect().await;
    // A learns stream "s" (full path), then appends through the fast path.
    a.append("s", ExpectedVersion::Exact(0), vec![event("c1", 1)])
        .await
        .unwrap();
    let second = a
        .append("s", ExpectedVersion::Exact(1), vec![event("c2", 2)])
        .await
        .unwrap();
    assert_eq!((second.first_position, second.stream_version), (2, 2));
    // A retry of c1: A's cache holds no command ids, the server check finds it.
    let retry = a
        .append("s", ExpectedVersion::Exact(2), vec![event("c1", 1)])
        .await
        .unwrap();
    assert!(retry.deduplicated);
    assert_eq!((retry.first_position, retry.stream_version), (1, 1));
    assert_eq!(a.stats().fast_misses, 1, "the retry went through the fast path's check");
    // Let A's fast path recover (it skips a few batches after a miss), then B writes behind its back.
    for i in 0..20u64 {
        a.append("s", ExpectedVersion::Any, vec![event(&format!("f{i}"), i)])
            .await
            .unwrap();
    }
    let version = a.stream_version("s").await.unwrap();
    assert_eq!(version, 22);
    b.append("s", ExpectedVersion::Exact(version), vec![event("from-b", 9)])
        .await
        .unwrap();
    // A's cache says version 22: the expectation looks right to A, but the log moved on.
    match a
        .append("s", ExpectedVersion::Exact(version), vec![event("late", 10)])
        .await
    {
        Err(StoreError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("s", ExpectedVersion::Exact(22), 23)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        a.stats().fast_misses >= 2,
        "the stale cache was caught by the server check"
    );
    // And A goes on correctly after B's write.
    let next = a
        .append("s", ExpectedVersion::Exact(23), vec![event("after-b", 11)])
        .await
        .unwrap();
    assert_eq!((next.first_position, next.stream_version), (24, 24));
    let report = a.verify().await.unwrap();
    assert_eq!((report.events, report.streams), (24, 1));
    drop((a, b));
    schema.drop().await;
}

/// Live delivery of another writer's commits comes from LISTEN/NOTIFY, not from polling: the
/// subscriber's store polls only once an hour here. Its listener session is then terminated; it
/// reconnects, and commits made meanwhile and afterwards still arrive.
/// The fast path also takes streams its writer has not seen (a new complaint's stream, or one
/// written before this process started), assuming the version the call expects; the server
/// checks it. A wrong assumption writes nothing, no event and no customer key, and the full path
/// gives the conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_path_checks_an_unseen_streams_version_on_the_server() {
    use plaint_store::vault::{NewKey, VaultWrite};
    use plaint_store::Vault;
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "unseen").await;
    let a = schema.connect().await;
    let b = schema.connect().await;
    b.append(
        "old",
        ExpectedVersion::Exact(0),
        vec![event("b1", 1), event("b1", 2), event("b1", 3)],
    )
    .await
    .unwrap();
    b.append("old2", ExpectedVersion::Exact(0), vec![event("b2", 1)])
        .await
        .unwrap();
    // A's first append takes the full path and learns the head.
    a.append("s", ExpectedVersion::Exact(0), vec![event("s1", 4)])
        .await
        .unwrap();
    assert_eq!(a.stats().fast_transactions, 0);
    // A new stream, with a customer key: one round trip.
    let key = |id: &str| NewKey {
        id: id.to_string(),
        secret: zeroize::Zeroizing::new([7u8; 32]),
    };
    let new = a
        .append_with_vault(
            vec![AppendRequest {
                stream: "new".to_string(),
                expected: ExpectedVersion::Exact(0),
                events: vec![event("n1", 5)],
            }],
            VaultWrite {
                keys: vec![key("cust-1.k1")],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!((new[0].first_position, new[0].stream_version), (6, 1));
    assert_eq!(a.stats().fast_transactions, 1);
    assert!(matches!(
        a.key("cust-1.k1").await.unwrap(),
        plaint_store::vault::KeyState::Live(_)
    ));
    // "old" is unseen by A and has 3 events; a stale expectation is caught on the server.
    let stale = a
        .append_with_vault(
            vec![AppendRequest {
                stream: "old".to_string(),
                expected: ExpectedVersion::Exact(0),
                events: vec![event("a-old", 6)],
            }],
            VaultWrite {
                keys: vec![key("cust-2.k1")],
                links: vec![("cust-2".to_string(), "cust-1".to_string())],
                sealed: Vec::new(),
            },
        )
        .await;
    match stale {
        Err(StoreError::Conflict { stream, actual, .. }) => assert_eq!((stream.as_str(), actual), ("old", 3)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(a.stats().fast_misses, 1);
    assert!(matches!(
        a.key("cust-2.k1").await.unwrap(),
        plaint_store::vault::KeyState::Missing
    ));
    assert!(a.linked("cust-2").await.unwrap().is_empty());
    assert_eq!(a.head_position().await.unwrap(), 6);
    // After the rest that follows a miss, a right expectation on an unseen stream goes fast.
    for i in 0..20u64 {
        a.append("s", ExpectedVersion::Any, vec![event(&format!("s-{i}"), i)])
            .await
            .unwrap();
    }
    let before = a.stats().fast_transactions;
    let unseen = a
        .append("old2", ExpectedVersion::Exact(1), vec![event("a-old2", 7)])
        .await
        .unwrap();
    assert_eq!(unseen.stream_version, 2);
    assert!(a.stats().fast_transactions > before, "{:?}", a.stats());
    // A bulk append (the COPY path) with a key: the key goes in with the events.
    let bulk: Vec<_> = (0..300).map(|i| event("bulk-1", i)).collect();
    a.append_with_vault(
        vec![AppendRequest {
            stream: "bulk".to_string(),
            expected: ExpectedVersion::Exact(0),
            events: bulk,
        }],
        VaultWrite {
            keys: vec![key("cust-3.k1")],
            links: vec![("cust-3".to_string(), "cust-1".to_string())],
            sealed: Vec::new(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        a.key("cust-3.k1").await.unwrap(),
        plaint_store::vault::KeyState::Live(_)
    ));
    assert_eq!(a.linked("cust-3").await.unwrap(), vec!["cust-1".to_string()]);
    let report = a.verify().await.unwrap();
    assert_eq!((report.events, report.streams), (3 + 1 + 1 + 1 + 20 + 1 + 300, 5));
    drop((a, b));
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_wake_subscribers_of_another_store_and_survive_a_lost_listener() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "notify").await;
    let mut reader_options = schema.options.clone();
    reader_options.poll_interval_ms = 3_600_000;
    reader_options.application_name = format!("{}-reader", schema.options.schema);
    let reader = PgStore::connect(&url, reader_options.clone()).await.unwrap();
    let writer = schema.connect().await;
    let guard = std::time::Duration::from_secs(60);
    let mut subscription = reader.subscribe(1).await.unwrap();
    let raw = schema.raw().await;
    // Wait until the listener is listening (it starts with the first subscription).
    tokio::time::timeout(guard, async {
        loop {
            let listening: i64 = raw
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                    &[&reader_options.application_name],
                )
                .await
                .unwrap()
                .get(0);
            if listening > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the listener never listened");
    writer
        .append("n", ExpectedVersion::Exact(0), vec![event("n1", 1)])
        .await
        .unwrap();
    let first = tokio::time::timeout(guard, subscription.next())
        .await
        .expect("no wake-up")
        .unwrap()
        .unwrap();
    assert_eq!((first.position, first.command_id.as_str()), (1, "n1"));

    // Cut every session of the reader (the listener among them), then write twice.
    let killed: i64 = raw
        .query_one(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&reader_options.application_name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 1);
    writer
        .append("n", ExpectedVersion::Exact(1), vec![event("n2", 2)])
        .await
        .unwrap();
    let second = tokio::time::timeout(guard, subscription.next())
        .await
        .expect("no wake-up after reconnect")
        .unwrap()
        .unwrap();
    assert_eq!((second.position, second.command_id.as_str()), (2, "n2"));
    writer
        .append("n", ExpectedVersion::Exact(2), vec![event("n3", 3)])
        .await
        .unwrap();
    let third = tokio::time::timeout(guard, subscription.next())
        .await
        .expect("no wake-up")
        .unwrap()
        .unwrap();
    assert_eq!((third.position, third.command_id.as_str()), (3, "n3"));
    // Dropping the store ends its subscriptions.
    drop(reader);
    let end = tokio::time::timeout(guard, subscription.next())
        .await
        .expect("the subscription outlived its store");
    assert!(end.is_none(), "expected the end of the subscription, got {end:?}");
    drop(writer);
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_appends_are_rejected_before_the_database() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "invalid").await;
    let store = schema.connect().await;
    let mut mixed = vec![event("a", 1), event("b", 2)];
    assert!(matches!(
        store.append("s", ExpectedVersion::Any, mixed.clone()).await,
        Err(StoreError::InvalidAppend { .. })
    ));
    mixed[1].command_id = "a".to_string();
    mixed[1].payload = vec![0; plaint_store::EVENT_PAYLOAD_SIZE_MAX + 1];
    assert!(matches!(
        store.append("s", ExpectedVersion::Any, mixed).await,
        Err(StoreError::Limit { .. })
    ));
    assert!(matches!(
        store
            .append(
                &"s".repeat(plaint_store::STREAM_NAME_LEN_MAX + 1),
                ExpectedVersion::Any,
                vec![event("a", 1)]
            )
            .await,
        Err(StoreError::Limit { .. })
    ));
    assert_eq!(store.head_position().await.unwrap(), 0);
    drop(store);
    schema.drop().await;
}

/// Once the writer has seen a stream's, an actor's and an event type's dictionary ids, the fast
/// path sends ids instead of names (`PgStats::id_transactions`), and every row reads back with
/// the names it was written with: the stream, the actor and the event type each in its own
/// column (swapped or stale ids would show here and in `verify`'s chain). A name the writer has
/// not seen sends names again; a retry and another process's write still go through the checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_path_sends_dictionary_ids_once_it_knows_them() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "ids").await;
    let a = schema.connect().await;
    let b = schema.connect().await;
    let typed = |command: &str, n: u64, event_type: &str, actor: &str| {
        let mut e = event(command, n);
        e.event_type = event_type.to_string();
        e.actor = actor.to_string();
        e
    };
    // Learns the head (full path), then "s"'s and the names' ids (names path).
    a.append(
        "s",
        ExpectedVersion::Exact(0),
        vec![typed("s/1", 1, "Received", "cs-1")],
    )
    .await
    .unwrap();
    a.append(
        "s",
        ExpectedVersion::Exact(1),
        vec![typed("s/2", 2, "Verified", "cs-2"), typed("s/2", 3, "Received", "cs-1")],
    )
    .await
    .unwrap();
    assert_eq!(a.stats().id_transactions, 0, "{:?}", a.stats());
    // Every name known: ids, two events of different types and actors in one append.
    let by_id = a
        .append(
            "s",
            ExpectedVersion::Exact(3),
            vec![typed("s/3", 4, "Verified", "cs-1"), typed("s/3", 5, "Received", "cs-2")],
        )
        .await
        .unwrap();
    assert_eq!((by_id.first_position, by_id.stream_version), (4, 5));
    assert_eq!(a.stats().id_transactions, 1, "{:?}", a.stats());
    // A new actor, then a new event type: names again; then ids for them too.
    a.append(
        "s",
        ExpectedVersion::Exact(5),
        vec![typed("s/4", 6, "Verified", "sup-9")],
    )
    .await
    .unwrap();
    assert_eq!(a.stats().id_transactions, 1, "{:?}", a.stats());
    a.append("s", ExpectedVersion::Exact(6), vec![typed("s/5", 7, "Closed", "sup-9")])
        .await
        .unwrap();
    a.append("s", ExpectedVersion::Exact(7), vec![typed("s/6", 8, "Closed", "sup-9")])
        .await
        .unwrap();
    assert_eq!(a.stats().id_transactions, 2, "{:?}", a.stats());
    // A retried command id with every name known: the ids statement refuses it on the server,
    // nothing is written, and the full path answers with the original positions.
    let retry = a
        .append(
            "s",
            ExpectedVersion::Exact(8),
            vec![typed("s/2", 2, "Verified", "cs-2")],
        )
        .await
        .unwrap();
    assert!(retry.deduplicated && retry.first_position == 2, "{retry:?}");
    // Another process writes: the ids statement finds the head moved and writes nothing.
    for i in 0..20u64 {
        a.append(
            "s",
            ExpectedVersion::Any,
            vec![typed(&format!("s/f{i}"), 9 + i, "Closed", "sup-9")],
        )
        .await
        .unwrap();
    }
    let before = a.stats().id_transactions;
    a.append(
        "s",
        ExpectedVersion::Exact(28),
        vec![typed("s/g", 30, "Closed", "sup-9")],
    )
    .await
    .unwrap();
    assert_eq!(a.stats().id_transactions, before + 1, "{:?}", a.stats());
    b.append(
        "s",
        ExpectedVersion::Exact(29),
        vec![typed("s/b", 31, "Closed", "cs-b")],
    )
    .await
    .unwrap();
    match a
        .append(
            "s",
            ExpectedVersion::Exact(29),
            vec![typed("s/late", 32, "Closed", "sup-9")],
        )
        .await
    {
        Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, 30),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let read = a.read_stream("s", 1, 100).await.unwrap();
    let seen: Vec<(u64, &str, &str)> = read
        .iter()
        .map(|e| (e.stream_version, e.event_type.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        seen[..8],
        [
            (1, "Received", "cs-1"),
            (2, "Verified", "cs-2"),
            (3, "Received", "cs-1"),
            (4, "Verified", "cs-1"),
            (5, "Received", "cs-2"),
            (6, "Verified", "sup-9"),
            (7, "Closed", "sup-9"),
            (8, "Closed", "sup-9"),
        ]
    );
    assert_eq!(read.len(), 30);
    assert!(read.iter().all(|e| e.stream == "s"));
    let report = a.verify().await.unwrap();
    assert_eq!((report.events, report.streams), (30, 1));
    drop((a, b));
    schema.drop().await;
}

/// A read of the log takes its first `TAIL_READ_MAX` rows through the probing statement and the
/// rest through the joining one: the two parts join without a gap or a repeat at every boundary,
/// from any position, and the answer is short exactly at the end of the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_across_the_tail_statements_boundary_are_the_log_in_order() {
    use plaint_store::pg::TAIL_READ_MAX;
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "tail").await;
    let store = schema.connect().await;
    let total = (2 * TAIL_READ_MAX + 37) as u64;
    let requests: Vec<AppendRequest> = (0..total)
        .map(|n| AppendRequest {
            stream: format!("tail-{}", n % 7),
            expected: ExpectedVersion::Any,
            events: vec![event(&format!("c-{n}"), n)],
        })
        .collect();
    store.append_many(requests).await.unwrap();
    let all = store.read_all(1, 10_000).await.unwrap();
    assert_eq!(all.len() as u64, total);
    assert!(all.iter().enumerate().all(|(i, e)| e.position == i as u64 + 1));
    for from in [0u64, 1, 2, 45, TAIL_READ_MAX as u64, total - 3] {
        for max in [
            1,
            TAIL_READ_MAX - 1,
            TAIL_READ_MAX,
            TAIL_READ_MAX + 1,
            2 * TAIL_READ_MAX + 5,
            10_000,
        ] {
            let read = store.read_all(from, max).await.unwrap();
            let skip = from.max(1) as usize - 1;
            let expected: Vec<_> = all.iter().skip(skip).take(max).cloned().collect();
            assert_eq!(read, expected, "read_all({from}, {max})");
        }
    }
    assert!(store.read_all(total + 1, 10_000).await.unwrap().is_empty());
    let stream = store.read_stream("tail-3", 1, 10_000).await.unwrap();
    let expected: Vec<_> = all.iter().filter(|e| e.stream == "tail-3").cloned().collect();
    assert_eq!(stream, expected);
    drop(store);
    schema.drop().await;
}

/// A version-4 schema (no index on the links' second column): `connect` refuses it naming both
/// versions; `migrate` adds the index (version 5), keeping every link, and the links of an
/// owner are found from either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_4_schema_is_refused_then_migrated_with_the_links_indexed_both_ways() {
    use plaint_store::vault::Vault;
    let Some(url) = database_url() else { return };
    let (options, raw) = older_schema(&url, 4).await;
    let s = &options.schema;
    raw.batch_execute(&format!(
        "INSERT INTO {s}.vault_links (a, b) VALUES ('id:1', 'phone:1'), ('id:2', 'phone:1'), ('id:3', 'phone:3')"
    ))
    .await
    .unwrap();
    let index_count =
        format!("SELECT count(*) FROM pg_indexes WHERE schemaname = '{s}' AND indexname = 'vault_links_b'");
    let indexed: i64 = raw.query_one(&index_count, &[]).await.unwrap().get(0);
    assert_eq!(indexed, 0);

    refused_then_migrated(&url, &options, 4).await;
    let indexed: i64 = raw.query_one(&index_count, &[]).await.unwrap().get(0);
    assert_eq!(indexed, 1);
    let store = PgStore::connect(&url, options.clone()).await.unwrap();
    let mut from_phone = store.linked("phone:1").await.unwrap();
    from_phone.sort();
    assert_eq!(from_phone, ["id:1", "id:2"]);
    assert_eq!(store.linked("id:3").await.unwrap(), ["phone:3"]);
    assert_eq!(store.linked("phone:3").await.unwrap(), ["id:3"]);
    drop(store);
    PgStore::drop_schema(&url, &options).await.unwrap();
}

/// Version 6 changes no table: it makes a program older than the cross-process erasure (whose
/// `connect` wants exactly version 5) refuse the schema, so no writer that skips the sealed-key
/// check or erases in two transactions shares the database. A version-5 schema is refused and
/// migrated; a schema newer than this program is refused the same way (an exact version check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_5_schema_is_refused_and_a_newer_schema_refuses_this_program() {
    let Some(url) = database_url() else { return };
    const { assert!(PG_SCHEMA_VERSION > 5, "programs of version 5 erase in two steps") };
    let (options, raw) = older_schema(&url, 5).await;
    refused_then_migrated(&url, &options, 5).await;
    PgStore::connect(&url, options.clone()).await.unwrap();
    let s = format!("\"{}\"", options.schema);
    raw.execute(
        &format!("INSERT INTO {s}.schema_migrations (version, description) VALUES ($1, 'newer')"),
        &[&(PG_SCHEMA_VERSION + 1)],
    )
    .await
    .unwrap();
    let err = PgStore::connect(&url, options.clone())
        .await
        .err()
        .expect("connect to a newer schema fails");
    let text = err.to_string();
    assert!(text.contains(&format!("version {}", PG_SCHEMA_VERSION + 1)), "{text}");
    PgStore::drop_schema(&url, &options).await.unwrap();
}

/// `connect` refuses a schema of version `from`, naming both versions; `migrate` brings it to
/// this program's version.
async fn refused_then_migrated(url: &str, options: &PgOptions, from: i32) {
    let err = PgStore::connect(url, options.clone())
        .await
        .err()
        .expect("connect to an older schema fails");
    let text = err.to_string();
    assert!(
        text.contains(&format!("version {from}")) && text.contains(&format!("version {PG_SCHEMA_VERSION}")),
        "{text}"
    );
    let up = PgStore::migrate(url, options).await.unwrap();
    assert_eq!((up.version_before, up.version_after), (from, PG_SCHEMA_VERSION));
}

/// A fresh schema migrated only to `version`, and a raw connection to write into it.
async fn older_schema(url: &str, version: i32) -> (PgOptions, tokio_postgres::Client) {
    let mut options = PgOptions::with_schema(format!("plaint_t_v{version}_{:08x}", rand::random::<u32>()));
    options.pool_size_max = 4;
    let old = PgStore::migrate_to_version(url, &options, version).await.unwrap();
    assert_eq!((old.version_before, old.version_after), (0, version));
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    (options, client)
}

/// `append_at_head` (wave 9): refused with `HeadMoved`, writing nothing, once another store
/// (process) has committed after the head the caller gives, on both paths (the one-statement
/// path with a remembered head, the full path under the head lock); a retry of a committed
/// command is answered as a duplicate first, never refused for its own commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_at_head_is_refused_once_another_process_wrote() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "athead").await;
    let a = schema.connect().await;
    let b = schema.connect().await;
    a.append("s1", ExpectedVersion::Exact(0), vec![event("c1", 1)])
        .await
        .unwrap();
    // At the head: appended (the writer remembers head 1, one statement).
    let at = a
        .append_at_head("s2", ExpectedVersion::Exact(0), vec![event("c2", 2)], 1)
        .await
        .unwrap();
    assert_eq!((at.first_position, at.deduplicated), (2, false));
    assert_eq!(a.stats().fast_transactions, 1, "{:?}", a.stats());
    // Another process writes: A's remembered head (2) is stale, its check fails on the server
    // and the full path finds head 3.
    b.append("s3", ExpectedVersion::Exact(0), vec![event("c3", 3)])
        .await
        .unwrap();
    match a
        .append_at_head("s4", ExpectedVersion::Exact(0), vec![event("c4", 4)], 2)
        .await
    {
        Err(StoreError::HeadMoved { expected, actual }) => assert_eq!((expected, actual), (2, 3)),
        other => panic!("expected HeadMoved, got {other:?}"),
    }
    assert_eq!(a.head_position().await.unwrap(), 3, "nothing written");
    assert_eq!(a.stream_version("s4").await.unwrap(), 0);
    // A head below the one A's writer now knows: refused by the full path too.
    assert!(matches!(
        a.append_at_head("s4", ExpectedVersion::Exact(0), vec![event("c4", 4)], 1)
            .await,
        Err(StoreError::HeadMoved { expected: 1, actual: 3 })
    ));
    // At the true head: appended.
    let ok = a
        .append_at_head("s4", ExpectedVersion::Exact(0), vec![event("c4", 4)], 3)
        .await
        .unwrap();
    assert_eq!((ok.first_position, ok.deduplicated), (4, false));
    // The same command again with its old head: a duplicate, not a refusal.
    let again = a
        .append_at_head("s4", ExpectedVersion::Exact(0), vec![event("c4", 4)], 3)
        .await
        .unwrap();
    assert_eq!((again.first_position, again.deduplicated), (4, true));
    let report = a.verify().await.unwrap();
    assert_eq!((report.events, report.streams), (4, 4));
    drop((a, b));
    schema.drop().await;
}

/// The writer's session opens at the first append, not at `connect` (wave 9): a store that
/// only reads holds one pooled session on the server, no idle writer backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_only_reads_holds_no_writer_session() {
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "lazy").await;
    let raw = schema.raw().await;
    // A name of this store's own (the migration's session, under the schema's, may still be
    // closing).
    let mut options = schema.options.clone();
    options.application_name = format!("{}_r", options.application_name);
    let sessions = || async {
        let row = raw
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&options.application_name],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    };
    let store = PgStore::connect(&schema.url, options.clone()).await.unwrap();
    assert_eq!(store.head_position().await.unwrap(), 0);
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 0);
    assert_eq!(sessions().await, 1, "the pool's one session, no writer's");
    store
        .append("s", ExpectedVersion::Exact(0), vec![event("c1", 1)])
        .await
        .unwrap();
    assert!(sessions().await >= 2, "the writer's session opened at the append");
    drop(store);
    schema.drop().await;
}

/// An append of one event on `stream`, sealed under the existing key `key` only.
async fn sealed_only(
    store: &PgStore,
    stream: &str,
    expected: u64,
    command: &str,
    n: u64,
    key: &str,
) -> Result<Vec<plaint_store::AppendResult>, StoreError> {
    use plaint_store::vault::{Vault, VaultWrite};
    let request = AppendRequest {
        stream: stream.to_owned(),
        expected: ExpectedVersion::Exact(expected),
        events: vec![event(command, n)],
    };
    let write = VaultWrite {
        keys: Vec::new(),
        links: Vec::new(),
        sealed: vec![key.to_owned()],
    };
    store.append_with_vault(vec![request], write).await
}

/// Review finding 4 (wave 14): the sealed-key check inside each fast-path statement refuses on
/// its own. The fast path is warm (head remembered; for the ids statement, the stream's names
/// too), another store destroys the key with a plain `Vault::erase` (the head does not move, so
/// no other check of the statement can refuse), and a sealed-only append is refused with
/// `KeyErased`: the statement missed (`fast_misses` + 1), the full path found the key erased,
/// nothing was written. Once through the names statement, once through the ids statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fast_path_statement_refuses_a_key_erased_by_another_store() {
    use plaint_store::vault::{random_secret, NewKey, Vault, VaultWrite};
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "sealedfast").await;
    let eraser = schema.connect().await;
    for (case, key_id) in [("names", "aaaa.k1"), ("ids", "bbbb.k2")] {
        // A fresh store: its fast path is not backing off from the other case's miss.
        let a = schema.connect().await;
        let stream = format!("s-{case}");
        let key = NewKey {
            id: key_id.to_owned(),
            secret: random_secret().unwrap(),
        };
        let write = VaultWrite {
            keys: vec![key],
            links: Vec::new(),
            sealed: Vec::new(),
        };
        let request = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Exact(0),
            events: vec![event(&format!("{case}/1"), 1)],
        };
        a.append_with_vault(vec![request], write).await.unwrap();
        // Learns the stream's and the names' ids (names statement).
        a.append(&stream, ExpectedVersion::Exact(1), vec![event(&format!("{case}/2"), 2)])
            .await
            .unwrap();
        let (target, expected) = if case == "ids" {
            // Warm: the ids statement commits a sealed-only append while the key lives.
            sealed_only(&a, &stream, 2, &format!("{case}/3"), 3, key_id)
                .await
                .unwrap();
            assert_eq!(a.stats().id_transactions, 1, "{case}: {:?}", a.stats());
            (stream.clone(), 3)
        } else {
            // A stream whose name is not known: the names statement.
            (format!("s-{case}-new"), 0)
        };
        assert_eq!(eraser.erase(&[key_id.to_owned()]).await.unwrap(), 1);
        let (head, before) = (a.head_position().await.unwrap(), a.stats());
        let refused = sealed_only(&a, &target, expected, &format!("{case}/4"), 4, key_id)
            .await
            .expect_err("sealed under an erased key");
        assert!(
            matches!(&refused, StoreError::KeyErased { key_id: k } if k == key_id),
            "{case}: {refused:?}"
        );
        assert_eq!(a.head_position().await.unwrap(), head, "{case}: nothing written");
        let after = a.stats();
        assert_eq!(after.fast_misses, before.fast_misses + 1, "{case}: {after:?}");
        assert_eq!(after.id_transactions, before.id_transactions, "{case}");
    }
    schema.drop().await;
}

//! The complaint aggregate under cqrs-es's `CqrsFramework` over postgres-es, on a real
//! PostgreSQL (env `PLAINT_TEST_DATABASE_URL`, set up by `.ci/pg-setup.sh`).

mod support;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateContext, AggregateError, EventStore};
use plaint_cqrs::postgres::{create_tables, framework, load_prior_index, repository};
use plaint_cqrs::ComplaintAggregate;
use plaint_domain::state::{Rejection, Status};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use support::*;

fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but PLAINT_TEST_DATABASE_URL is unset: .ci/run must start PostgreSQL")
        }
        Err(_) => {
            eprintln!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
            None
        }
    }
}

#[tokio::test]
async fn lifecycle_through_postgres_es() {
    let Some(url) = database_url() else { return };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    let prefix = format!("plaint_cqrs_test_{}", std::process::id());
    create_tables(&pool, &prefix).await.unwrap();

    let now = Arc::new(AtomicI64::new(t0().as_millis()));
    let clock_now = now.clone();
    let mut services = services_at(t0());
    services.clock = Arc::new(move || plaint_domain::Timestamp::from_millis(clock_now.load(Ordering::SeqCst)));
    let cqrs = framework(pool.clone(), &prefix, services);

    for cmd in lifecycle() {
        now.fetch_add(3_600_000, Ordering::SeqCst);
        cqrs.execute(COMPLAINT, cmd).await.unwrap();
    }
    // The stored events replay into a fresh repeat index (what a restarted process does).
    let fresh = plaint_cqrs::PriorIndex::new();
    let n = load_prior_index(&pool, &prefix, &fresh).await.unwrap();
    assert_eq!(n, 7, "the lifecycle's seven events");
    assert_eq!(fresh.len(), 1);
    // A retried command id appends nothing; an illegal command is the domain's typed rejection.
    cqrs.execute(COMPLAINT, close()).await.unwrap();
    let err = cqrs.execute(COMPLAINT, verify_again()).await.unwrap_err();
    assert!(
        matches!(
            err,
            AggregateError::UserError(Rejection::IllegalTransition {
                status: Status::Closed,
                ..
            })
        ),
        "{err}"
    );

    let store: PersistedEventStore<_, ComplaintAggregate> =
        PersistedEventStore::new_event_store(repository(pool.clone(), &prefix));
    let events = store.load_events(COMPLAINT).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.payload.0.data.type_name()).collect();
    assert_eq!(
        names,
        [
            "Received",
            "Verified",
            "Classified",
            "Dispatched",
            "Responded",
            "Revisited",
            "Closed"
        ]
    );
    let seqs: Vec<usize> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    let mut ctx = store.load_aggregate(COMPLAINT).await.unwrap();
    assert_eq!(ctx.aggregate().state().status, Status::Closed);

    // The rows carry plaint's catalogue names and versions, readable without the program.
    let (table, snapshots) = plaint_cqrs::postgres::table_names(&prefix);
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT event_type, event_version FROM {table} ORDER BY sequence"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows[0],
        (
            "Received".to_owned(),
            plaint_domain::codec::schema_version("Received").unwrap().to_string()
        )
    );
    sqlx::query(&format!("DROP TABLE {table}, {snapshots}"))
        .execute(&pool)
        .await
        .unwrap();
}

fn verify_again() -> plaint_domain::Command {
    command(
        "c9-verify-again",
        serde_json::json!({ "command": "verify", "claim": "passed", "evidence": "passed", "history": "passed" }),
    )
}

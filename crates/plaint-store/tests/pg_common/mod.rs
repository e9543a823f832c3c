//! Shared helpers of the PostgreSQL tests: the skip rule, one throw-away schema per test, events.
#![allow(dead_code)]

use plaint_store::pg::{PgOptions, PgStore};
use plaint_store::NewEvent;

/// The test database URL, or `None` (after printing the skip line) when it is unset outside CI.
/// Under `CI=true` a missing URL fails the test.
pub fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PLAINT_TEST_DATABASE_URL is not set and CI=true: the PostgreSQL tests must run in CI");
            }
            println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
            None
        }
    }
}

/// A schema with a random name, migrated; drop it with [`TestSchema::drop`] at the end (a failed
/// test leaves it behind for inspection; names start with `plaint_t_`).
pub struct TestSchema {
    pub url: String,
    pub options: PgOptions,
}

impl TestSchema {
    pub async fn create(url: &str, tag: &str) -> TestSchema {
        let schema = format!("plaint_t_{tag}_{:08x}", rand::random::<u32>());
        let mut options = PgOptions::with_schema(schema.clone());
        // Lets a test find (and terminate) exactly its own connections.
        options.application_name = schema;
        // Tests run in parallel against one server (max_connections 100 by default).
        options.pool_size_max = 4;
        PgStore::migrate(url, &options).await.expect("migrate");
        TestSchema {
            url: url.to_string(),
            options,
        }
    }

    pub async fn connect(&self) -> PgStore {
        PgStore::connect(&self.url, self.options.clone())
            .await
            .expect("connect")
    }

    /// A plain connection for raw SQL (tampering, inspection, terminating backends).
    pub async fn raw(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("raw connect");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    pub async fn drop(self) {
        PgStore::drop_schema(&self.url, &self.options)
            .await
            .expect("drop schema");
    }
}

/// An event with a recognisable payload.
pub fn event(command_id: &str, n: u64) -> NewEvent {
    NewEvent {
        event_type: "Received".to_string(),
        schema_version: 1,
        occurred_at_ms: 1_700_000_000_000 + n as i64,
        recorded_at_ms: 1_700_000_000_500 + n as i64,
        actor: "clerk-7".to_string(),
        command_id: command_id.to_string(),
        payload: format!("payload {n} {}", "x".repeat((n % 150) as usize)).into_bytes(),
    }
}

//! cqrs-es over postgres-es: the complaint aggregate stored in PostgreSQL by cqrs-es's own
//! repository (JSON payloads, one row per event), for back offices that already run it.

use crate::{ComplaintAggregate, ComplaintServices};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::CqrsFramework;
use postgres_es::PostgresEventRepository;
use sqlx::{Pool, Postgres};

/// The framework type: cqrs-es with postgres-es's event repository.
pub type PostgresComplaintCqrs =
    CqrsFramework<ComplaintAggregate, PersistedEventStore<PostgresEventRepository, ComplaintAggregate>>;

/// Table names for a given prefix: `<prefix>_events`, `<prefix>_snapshots`.
pub fn table_names(prefix: &str) -> (String, String) {
    (format!("{prefix}_events"), format!("{prefix}_snapshots"))
}

/// Creates postgres-es's tables (its `db/init.sql` layout) under the given prefix, if missing.
pub async fn create_tables(pool: &Pool<Postgres>, prefix: &str) -> Result<(), sqlx::Error> {
    let (events, snapshots) = table_names(prefix);
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {events} (
            aggregate_type text NOT NULL,
            aggregate_id   text NOT NULL,
            sequence       bigint CHECK (sequence >= 0) NOT NULL,
            event_type     text NOT NULL,
            event_version  text NOT NULL,
            payload        json NOT NULL,
            metadata       json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, sequence))"
    ))
    .execute(pool)
    .await?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {snapshots} (
            aggregate_type   text NOT NULL,
            aggregate_id     text NOT NULL,
            last_sequence    bigint CHECK (last_sequence >= 0) NOT NULL,
            current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
            payload          json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))"
    ))
    .execute(pool)
    .await?;
    Ok(())
}

/// The postgres-es repository over the prefixed tables.
pub fn repository(pool: Pool<Postgres>, prefix: &str) -> PostgresEventRepository {
    let (events, snapshots) = table_names(prefix);
    PostgresEventRepository::new(pool).with_tables(&events, &snapshots)
}

/// An event-sourced cqrs-es framework over postgres-es for complaints.
pub fn framework(pool: Pool<Postgres>, prefix: &str, services: ComplaintServices) -> PostgresComplaintCqrs {
    let store = PersistedEventStore::new_event_store(repository(pool, prefix));
    CqrsFramework::new(store, vec![], services)
}

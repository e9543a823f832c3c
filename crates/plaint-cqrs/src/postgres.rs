//! cqrs-es over postgres-es: the complaint aggregate stored in PostgreSQL by cqrs-es's own
//! repository (JSON payloads, one row per event), for back offices that already run it.

use crate::{ComplaintAggregate, ComplaintServices, PriorIndex};
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

/// An event-sourced cqrs-es framework over postgres-es for complaints, with the services'
/// queries (the default [`PriorIndex`]) registered. Replay the stored events into the index
/// first with [`load_prior_index`].
pub fn framework(pool: Pool<Postgres>, prefix: &str, services: ComplaintServices) -> PostgresComplaintCqrs {
    let store = PersistedEventStore::new_event_store(repository(pool, prefix));
    let queries = services.queries();
    CqrsFramework::new(store, queries, services)
}

/// Why the stored events could not be replayed into a [`PriorIndex`].
#[derive(Debug, thiserror::Error)]
pub enum LoadIndexError {
    #[error("reading table {table}: {source}")]
    Read { table: String, source: sqlx::Error },
    #[error("table {table}, complaint {aggregate_id}, sequence {sequence}: payload is not a plaint event: {source}")]
    Payload {
        table: String,
        aggregate_id: String,
        sequence: i64,
        source: serde_json::Error,
    },
}

/// Replays every complaint event stored under `prefix` into `index` (each complaint in stream
/// order), so the repeat rule sees complaints committed before this process started. Returns
/// the number of events read.
pub async fn load_prior_index(pool: &Pool<Postgres>, prefix: &str, index: &PriorIndex) -> Result<u64, LoadIndexError> {
    use sqlx::Row;
    let (events, _) = table_names(prefix);
    let rows = sqlx::query(&format!(
        "SELECT aggregate_id, sequence, payload FROM {events} WHERE aggregate_type = $1 \
         ORDER BY aggregate_id, sequence"
    ))
    .bind(crate::AGGREGATE_TYPE)
    .fetch_all(pool)
    .await
    .map_err(|source| LoadIndexError::Read {
        table: events.clone(),
        source,
    })?;
    let mut n = 0;
    for row in rows {
        let aggregate_id: String = row.get(0);
        let sequence: i64 = row.get(1);
        let payload: serde_json::Value = row.get(2);
        let event: plaint_domain::Event =
            serde_json::from_value(payload).map_err(|source| LoadIndexError::Payload {
                table: events.clone(),
                aggregate_id: aggregate_id.clone(),
                sequence,
                source,
            })?;
        index.apply(&event);
        n += 1;
    }
    Ok(n)
}

//! The PostgreSQL event store: the server backend, safe with many engine processes.
//!
//! Design (the full text, with the schema and the operations guide, is `docs/postgres.md`):
//!
//! * **One row, one lock, no skipped events.** Every append transaction first locks the single
//!   row of the `head` table (`SELECT … FOR UPDATE`), assigns positions `head + 1 ..`, inserts,
//!   advances the head and commits. Position assignment is therefore serialised across every
//!   process that shares the database: positions are gapless and *commit order equals position
//!   order*. A reader that sees position `p` committed also sees every position below `p`, so a
//!   subscriber reading `position >= next` in order can never skip an event that commits later
//!   with a lower position (the trap of sequence-based event stores).
//! * **Group commit.** Serialising appends costs throughput, so each process runs one writer task
//!   that takes every append waiting in its queue and commits them in one transaction (one lock,
//!   one WAL flush). Statements of a transaction are pipelined: two round trips per batch, or,
//!   when this process wrote last, one statement in its implicit transaction (a server-checked
//!   fast path, [`append_fast_sql`], or [`append_ids_sql`] once the writer knows the dictionary
//!   ids of every name of the batch; see `docs/postgres.md`).
//! * **Idempotency and retry.** A command id already present in a stream returns the original
//!   positions. Because of that, the writer retries a batch whose connection was lost (the commit
//!   may or may not have happened; the retry either finds the command ids or appends them).
//! * **Hash chain.** Each row stores the [`chain_next`] value over its event, computed by the
//!   writer from the chain value kept in the head row. The chain is the same as the file log's for
//!   the same events, so a log copied between backends has the same head hash.
//! * **Live subscriptions.** Each commit runs `pg_notify`; one listener connection per store
//!   wakes the subscriptions, which also poll every [`PgOptions::poll_interval_ms`] as a
//!   fallback. Subscriptions read by position from committed rows only, so catch-up and live are
//!   the same loop and the hand-over has no gap and no duplicate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), plaint_store::StoreError> {
//! use plaint_store::pg::{PgOptions, PgStore};
//! use plaint_store::EventStore;
//! let url = "postgres://plaint:plaint@127.0.0.1:5432/plaint";
//! let options = PgOptions::default();
//! PgStore::migrate(url, &options).await?; // `plaint init --pg URL`: explicit and idempotent
//! let store = PgStore::connect(url, options).await?;
//! println!("head at {}", store.head_position().await?);
//! # Ok(()) }
//! ```

use crate::chain::{chain_next, ChainHash, CHAIN_GENESIS};
use crate::types::*;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{AsyncMessage, NoTls, Row};

#[path = "pg_vault.rs"]
mod vault;

/// The schema version this program writes and reads (the `schema_migrations` table).
pub const PG_SCHEMA_VERSION: i32 = 6;
/// Longest schema name accepted, in bytes (the NOTIFY channel `plaint_<schema>` must stay under
/// PostgreSQL's 63-byte identifier limit).
pub const SCHEMA_NAME_LEN_MAX: usize = 40;
/// Most append calls waiting for the writer task of one store.
pub const WRITER_QUEUE_MAX: usize = 4096;
/// Most events committed in one writer transaction (one append call may reach it alone).
pub const WRITER_BATCH_EVENTS_MAX: usize = APPEND_EVENTS_MAX;
/// Drain-and-yield rounds the writer makes to let answered callers queue their next append before
/// it commits a batch.
pub const WRITER_COLLECT_ROUNDS_MAX: u32 = 4;
/// Stream versions the writer remembers for its one-round-trip fast path (cleared when full).
pub const WRITER_CACHE_STREAMS_MAX: usize = 100_000;
/// Batches that skip the fast path after it failed (another process had written).
const FAST_PATH_BACKOFF_BATCHES: u32 = 16;
/// Most append calls committed in one writer transaction.
pub const WRITER_BATCH_CALLS_MAX: usize = 1024;
/// Batches with at least this many rows are written with `COPY … (FORMAT binary)`; smaller ones
/// with one multi-row `INSERT … SELECT FROM unnest(…)`.
pub const COPY_ROWS_MIN: usize = 256;
/// Events a read of the log takes through the probing statement before the joining one (see
/// `read_all_on`): more than a catch-up at the log's end or a live subscription usually finds.
pub const TAIL_READ_MAX: usize = 256;
/// Events a subscription reads per query.
pub const SUBSCRIPTION_READ_BATCH_MAX: usize = 1000;
/// Events buffered between a subscription's reader task and its consumer.
pub const SUBSCRIPTION_BUFFER_MAX: usize = 1024;
/// Consecutive failed reads after which a subscription reports the error and ends.
pub const SUBSCRIPTION_READ_FAILURES_MAX: u32 = 20;
/// Rows `verify` reads per query.
const VERIFY_READ_BATCH: i64 = 10_000;
/// First delay before retrying after a lost connection.
pub const RECONNECT_DELAY_MIN_MS: u64 = 50;
/// Longest delay between two attempts after a lost connection.
pub const RECONNECT_DELAY_MAX_MS: u64 = 1_000;
/// Interval between two TCP keepalive probes (see `PgOptions::dead_server_timeout_ms`).
pub const KEEPALIVE_INTERVAL_MS: u64 = 1_000;
/// Unanswered TCP keepalive probes after which a connection is dead.
pub const KEEPALIVE_PROBES: u32 = 5;

/// Earliest business/recording time shown in the `occurred_at`/`recorded_at` columns
/// (0001-01-01T00:00:00Z); outside the range the exact `*_ms` columns still hold the value and the
/// readable column is NULL.
const TIMESTAMP_MS_MIN: i64 = -62_135_596_800_000;
/// Latest time shown in the readable timestamp columns (9999-12-31T23:59:59.999Z).
const TIMESTAMP_MS_MAX: i64 = 253_402_300_799_999;

/// How to connect and which schema to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The PostgreSQL schema holding the tables; lower-case ASCII letters, digits and `_`,
    /// starting with a letter or `_`, at most [`SCHEMA_NAME_LEN_MAX`] bytes. Several logs can
    /// live in one database under different schemas (tests use one random schema each).
    pub schema: String,
    /// Connections in the pool of reads and subscriptions; the writer has its own session (a
    /// lost one is replaced in its slot), and the notifier and the listener one each.
    pub pool_size_max: usize,
    /// `application_name` of every connection, visible in `pg_stat_activity`.
    pub application_name: String,
    /// How often a subscription polls when no notification arrives (fallback for lost
    /// notifications and listener reconnects).
    pub poll_interval_ms: u64,
    /// Attempts of one writer batch (or one read) when the connection is lost (1 = no retry).
    pub write_attempts_max: u32,
    /// How long a lost connection is retried: the retries stop once their back-off delays
    /// (exponential from 50 ms, at most 1 s each, with jitter) add up to this many milliseconds,
    /// or the attempts are spent, whichever comes first. It should cover a failover: the time
    /// from the primary's loss until a standby is promoted and accepts writes.
    pub reconnect_timeout_ms: u64,
    /// Timeout to establish a connection (per host of a multi-host URL); a `connect_timeout` in
    /// the URL wins.
    pub connect_timeout_ms: u64,
    /// How long a connection to a server that vanished without closing it (a machine lost, a
    /// network cut) may go unnoticed: sent data unacknowledged for this long
    /// (`tcp_user_timeout`), or an idle connection whose keepalive probes go unanswered
    /// (first probe after a third of it, then every [`KEEPALIVE_INTERVAL_MS`], [`KEEPALIVE_PROBES`]
    /// probes), ends the connection, and
    /// the store retries as after any lost connection. 0 leaves the system defaults (minutes to
    /// hours). `tcp_user_timeout` in the URL wins.
    pub dead_server_timeout_ms: u64,
    /// `idle_in_transaction_session_timeout` of the store's sessions: a process stuck inside an
    /// append transaction releases the head lock after this long. 0 leaves the server default.
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: "plaint".to_string(),
            pool_size_max: 16,
            application_name: "plaint".to_string(),
            poll_interval_ms: 500,
            write_attempts_max: 100,
            reconnect_timeout_ms: 30_000,
            connect_timeout_ms: 10_000,
            dead_server_timeout_ms: 15_000,
            idle_in_transaction_timeout_ms: 60_000,
        }
    }
}

impl PgOptions {
    /// Default options with another schema.
    pub fn with_schema(schema: impl Into<String>) -> Self {
        PgOptions {
            schema: schema.into(),
            ..PgOptions::default()
        }
    }
}

/// What [`PgStore::migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    /// Schema version found before the migration (0: none).
    pub version_before: i32,
    /// Schema version after it ([`PG_SCHEMA_VERSION`]).
    pub version_after: i32,
}

/// The PostgreSQL implementation of [`EventStore`]. Create the schema once with
/// [`PgStore::migrate`], then [`PgStore::connect`]. Must be created inside a Tokio runtime (it
/// spawns its writer task). Dropping the store ends its subscriptions.
pub struct PgStore {
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Job>,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Never sent on; dropped with the store, which ends its subscriptions.
    alive: watch::Sender<()>,
}

/// What the store's tasks share.
struct Shared {
    pool: Pool,
    /// The writer's sessions (`force_generic_plan`, see [`writer_pool`]).
    writer_pool: Pool,
    pg_config: tokio_postgres::Config,
    options: PgOptions,
    sql: Sql,
    /// Bumped after every local commit and every notification from another process.
    wake: watch::Sender<u64>,
    /// The head after this process's last commit, for the notifier task.
    committed_head: watch::Sender<u64>,
    stats: StatsCounters,
}

#[derive(Default)]
struct StatsCounters {
    transactions: std::sync::atomic::AtomicU64,
    calls: std::sync::atomic::AtomicU64,
    events: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    fast_misses: std::sync::atomic::AtomicU64,
    fast_transactions: std::sync::atomic::AtomicU64,
    id_transactions: std::sync::atomic::AtomicU64,
}

/// Counters of one store's writer since it connected (for benchmarks and monitoring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PgStats {
    /// Append transactions committed (one per writer batch).
    pub transactions: u64,
    /// Append calls answered by those transactions (`append` and `append_many` calls).
    pub calls: u64,
    /// Events written by them.
    pub events: u64,
    /// Batches retried after a lost connection.
    pub retries: u64,
    /// One-round-trip attempts that found another process had written (then the full path ran).
    pub fast_misses: u64,
    /// Transactions committed through the one-round-trip path (included in `transactions`).
    pub fast_transactions: u64,
    /// Of those, the ones that sent dictionary ids instead of names ([`append_ids_sql`]: every
    /// stream, actor and event type of the batch already known to the writer).
    pub id_transactions: u64,
}

/// Where a server stands in replication, as [`PgStore::replication_status`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationStatus {
    /// The server is a standby replaying a primary's WAL (`pg_is_in_recovery()`).
    pub in_recovery: bool,
    /// The log's head as this server sees it.
    pub head_position: u64,
    /// On a standby: milliseconds between the server's clock now and the commit time of the
    /// last transaction it replayed (`pg_last_xact_replay_timestamp()`); grows while the
    /// primary is idle too. `None` on a primary or before anything was replayed.
    pub last_replay_age_ms: Option<i64>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Ok(mut guard) = self.listener.lock() {
            if let Some(handle) = guard.take() {
                handle.abort();
            }
        }
    }
}

/// One append call waiting for the writer.
struct Job {
    requests: Vec<AppendRequest>,
    /// Keys and links to create in the transaction that commits `requests`.
    vault: crate::vault::VaultWrite,
    /// The log head the call requires its transaction to start at
    /// ([`EventStore::append_at_head`]), if any.
    head: Option<u64>,
    events: usize,
    reply: oneshot::Sender<Result<Vec<AppendResult>, StoreError>>,
}

/// The SQL text of every statement, with the schema name filled in.
struct Sql {
    schema: String,
    channel: String,
    begin: String,
    lock_head: String,
    stream_versions: String,
    find_commands: String,
    write_rows: String,
    append_fast: String,
    append_fast_plain: String,
    append_ids: String,
    intern_streams: String,
    intern_names: String,
    vault_rows: String,
    erased_keys: String,
    copy_in: String,
    advance_head: String,
    touch_head: String,
    commit: String,
    read_all: String,
    read_tail: String,
    read_stream: String,
    head: String,
    stream_version: String,
}

/// The event columns in the order [`event_from_row`] reads them, from `events e`, with each
/// name given by an expression (a joined dictionary's column, or a probe): the one column list
/// of [`event_select`] and [`event_select_probed`].
fn event_columns(stream: &str, event_type: &str, actor: &str) -> String {
    format!(
        "e.position, {stream}, e.stream_version::bigint, e.command_tail, e.command_id, {event_type}, \
         e.schema_version, e.occurred_at_ms, e.recorded_at_ms, {actor}, e.payload, e.chain_tag"
    )
}

/// The event columns as [`event_from_row`] reads them: names resolved through the dictionaries
/// (a `LEFT JOIN`, so a row whose id has no name is reported as damage rather than skipped).
fn event_select(s: &str) -> String {
    format!(
        "SELECT {} FROM {s}.events e LEFT JOIN {s}.streams x ON x.id = e.stream_id \
         LEFT JOIN {s}.names a ON a.id = e.actor_id LEFT JOIN {s}.names t ON t.id = e.event_type_id",
        event_columns("x.name", "t.name", "a.name")
    )
}

/// [`event_select`] with the names looked up per row by scalar subqueries on the dictionaries'
/// primary keys instead of joined: every plan answers them from the index, whatever the tables'
/// statistics say. For reads of a few rows (a catch-up at the log's end, one stream's events):
/// the joins of [`event_select`], planned on young or missing statistics, hash whole dictionaries
/// on each read (0.02 → 0.42 ms per catch-up read once `streams` held 2,000 names, measured in
/// `docs/PERFORMANCE.md`, wave 8); a bulk read of thousands of rows is cheaper joined.
fn event_select_probed(s: &str) -> String {
    let columns = event_columns(
        &format!("(SELECT x.name FROM {s}.streams x WHERE x.id = e.stream_id)"),
        &format!("(SELECT t.name FROM {s}.names t WHERE t.id = e.event_type_id)"),
        &format!("(SELECT a.name FROM {s}.names a WHERE a.id = e.actor_id)"),
    );
    format!("SELECT {columns} FROM {s}.events e")
}

/// The dictionary part shared by the two statements that intern names ([`write_rows_sql`],
/// [`append_fast_sql_with`]): `new_streams` and `new_names` insert the batch's names that are not
/// in the dictionaries yet (only if `{gate}` holds), `st` and `nm` give each of the batch's names
/// its id (new or old). Every dictionary access is a scalar subquery by name, answered from the
/// name's unique index in every plan: written as joins (`IN`, `NOT EXISTS`), a plan made on young
/// statistics hashed or scanned the whole dictionary per append, which grew with the number of
/// complaints (0.54 → 1.5 ms per statement over 2,000 complaints, `docs/PERFORMANCE.md`, wave 8).
fn interned_names_sql(s: &str, gate: &str) -> String {
    format!(
        "new_streams AS (INSERT INTO {s}.streams (name) SELECT DISTINCT k.stream FROM k WHERE {gate} \
         AND (SELECT x.id FROM {s}.streams x WHERE x.name = k.stream) IS NULL RETURNING id, name), \
         new_names AS (INSERT INTO {s}.names (name) SELECT n.name FROM (SELECT actor AS name FROM k UNION \
         SELECT event_type FROM k) AS n WHERE {gate} \
         AND (SELECT x.id FROM {s}.names x WHERE x.name = n.name) IS NULL RETURNING id, name), \
         st AS (SELECT coalesce((SELECT w.id FROM new_streams w WHERE w.name = b.name), \
         (SELECT x.id FROM {s}.streams x WHERE x.name = b.name)) AS id, b.name \
         FROM (SELECT DISTINCT stream AS name FROM k) AS b), \
         nm AS (SELECT coalesce((SELECT w.id FROM new_names w WHERE w.name = b.name), \
         (SELECT x.id FROM {s}.names x WHERE x.name = b.name)) AS id, b.name \
         FROM (SELECT actor AS name FROM k UNION SELECT event_type FROM k) AS b), "
    )
}

/// The check shared by the write statements that name their streams: no row's command id is in
/// its stream yet (a probe per row through the stream's id, a scalar subquery on the name index,
/// and the `(stream_id, stream_version)` index), and each stream's first new row follows its last
/// stored version.
fn named_checks_sql(s: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM k CROSS JOIN LATERAL (SELECT 1 FROM {s}.events e \
         WHERE e.stream_id = (SELECT x.id FROM {s}.streams x WHERE x.name = k.stream) \
         AND e.command_id = k.command_id AND e.command_tail = k.command_tail LIMIT 1) AS hit) \
         AND NOT EXISTS (SELECT 1 FROM (SELECT k.stream, min(k.stream_version) AS first FROM k GROUP BY k.stream) AS f \
         WHERE coalesce((SELECT max(e.stream_version) FROM {s}.events e WHERE e.stream_id = \
         (SELECT x.id FROM {s}.streams x WHERE x.name = f.stream)), 0) <> f.first - 1)"
    )
}

/// The write statement of both append paths: the rows as column arrays ($1..$12, `UNNEST`: one
/// statement whatever the row count), stream, actor and event-type names interned on the server
/// (new names get ids in the same statement), the rows inserted and the head advanced from $13 to
/// $14 with chain value $15. It writes nothing (no name, no row, no head) unless
/// the head is still at $13, each stream's first row follows the stream's last stored version and
/// none of the rows' command ids exists in its stream, and advances
/// the head only if all $16 rows went in; it returns one row exactly when it wrote.
fn write_rows_sql(s: &str) -> String {
    let checks = named_checks_sql(s);
    let names = interned_names_sql(s, "(SELECT ok FROM go)");
    format!(
        "WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::bool[], $6::text[], \
         $7::int[], $8::bigint[], $9::bigint[], $10::text[], $11::bytea[], $12::bigint[]) AS k(position, stream, \
         stream_version, command_id, command_tail, event_type, schema_version, occurred_at_ms, recorded_at_ms, actor, \
         payload, chain_tag)), \
         go AS (SELECT (SELECT h.position FROM {s}.head h WHERE h.id) = $13 AND {checks} AS ok), \
         {names}\
         ins AS (INSERT INTO {s}.events ({WRITE_COLUMNS}) SELECT k.position, k.occurred_at_ms, k.recorded_at_ms, \
         st.id, k.stream_version, a.id, t.id, k.schema_version, k.command_tail, k.command_id, k.payload, k.chain_tag \
         FROM k JOIN st ON st.name = k.stream JOIN nm AS a ON a.name = k.actor JOIN nm AS t ON t.name = k.event_type \
         WHERE (SELECT ok FROM go) RETURNING 1), \
         upd AS (UPDATE {s}.head SET position = $14, chain_hash = $15 WHERE id AND position = $13 \
         AND (SELECT count(*) FROM ins) = $16 RETURNING position) \
         SELECT position FROM upd"
    )
}

/// The check that no key the batch's events are sealed under (existing or new, $17) is erased
/// (`secret IS NULL`): part of every fast-path statement's `go`, so a batch sealing under a key
/// an erasure destroyed writes nothing and the writer decides it again on the full path
/// ([`erased_keys_sql`]). Sound on the statement's snapshot for the same reason as the other
/// checks: an erasure destroys its keys in the transaction of its audit event, which moves the
/// head (docs/postgres.md, "Erasure across processes").
fn sealed_check_sql(s: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM {s}.vault_keys v WHERE v.key_id = ANY($17::text[]) AND v.secret IS NULL)")
}

/// The full path's look-up of the erased keys among those a batch's events are sealed under
/// ($1), sent after the head lock (so it sees every erasure committed before the lock: an
/// erasure holds that lock too).
fn erased_keys_sql(s: &str) -> String {
    format!("SELECT v.key_id FROM {s}.vault_keys v WHERE v.key_id = ANY($1::text[]) AND v.secret IS NULL")
}

/// The fast path's one statement (schema version 4), sent outside any explicit transaction: its
/// implicit transaction commits at the `Sync` that ends the exchange, and tokio-postgres answers
/// only at the `ReadyForQuery` after that commit. Parameters: the rows as column arrays
/// ($1..$12), the remembered head $13, the new head $14 and its chain value $15, the row count
/// $16, the ids of every key the batch's events are sealed under ($17, [`sealed_check_sql`]),
/// the batch's customer keys ($18..$21: ids, owners, secrets, checksums) and links ($22, $23).
///
/// Order of work: `go` checks, on the statement's snapshot, that none of the batch's command ids
/// exists in its stream and that each stream's first new row follows its last stored version;
/// `upd` then advances the head only if `go` holds and the head is still at $13. `upd` takes the
/// head-row lock; if another transaction holds it, it waits and PostgreSQL re-checks
/// `position = $13` on the newest committed head (READ COMMITTED). Checking before the lock is
/// safe: every transaction that writes events also moves the head, so one that committed after
/// the snapshot makes `upd` find no row, and one that committed before it is in the snapshot.
/// Every insert (names, rows, keys, links) runs only if `upd` wrote, so a refused statement
/// writes nothing and returns no row. The row count is checked in the statement itself: a
/// mismatch (impossible: the names are interned in the same statement) divides by zero, which
/// fails the statement and rolls its transaction back instead of committing a head without its
/// rows. Columns returned: the head, the row-count check, then the names and ids of the batch's
/// streams and of its actor and event-type names (the writer remembers them, [`NameIds`], and
/// sends ids next time: [`append_ids_sql`]), then, with keys, the key and link counts.
fn append_fast_sql(s: &str) -> String {
    append_fast_sql_with(s, true)
}

/// [`append_fast_sql`], or with `keys == false` the same without the keys and links (no
/// parameters $18..$23): the statement of batches that create no customer key, which is smaller to
/// plan and run.
fn append_fast_sql_with(s: &str, keys: bool) -> String {
    let vault = if keys {
        format!(
            ", keys AS (INSERT INTO {s}.vault_keys (key_id, owner, secret, checksum) \
             SELECT * FROM unnest($18::text[], $19::text[], $20::bytea[], $21::bytea[]) WHERE EXISTS (SELECT 1 FROM upd) \
             ON CONFLICT (key_id) DO NOTHING RETURNING 1), \
             links AS (INSERT INTO {s}.vault_links (a, b) SELECT * FROM unnest($22::text[], $23::text[]) \
             WHERE EXISTS (SELECT 1 FROM upd) ON CONFLICT DO NOTHING RETURNING 1)"
        )
    } else {
        String::new()
    };
    let counts = if keys {
        ", (SELECT count(*) FROM keys), (SELECT count(*) FROM links)"
    } else {
        ""
    };
    let checks = named_checks_sql(s);
    let sealed = sealed_check_sql(s);
    let names = interned_names_sql(s, "EXISTS (SELECT 1 FROM upd)");
    format!(
        "WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::bool[], $6::text[], \
         $7::int[], $8::bigint[], $9::bigint[], $10::text[], $11::bytea[], $12::bigint[]) AS k(position, stream, \
         stream_version, command_id, command_tail, event_type, schema_version, occurred_at_ms, recorded_at_ms, actor, \
         payload, chain_tag)), \
         go AS (SELECT {checks} AND {sealed} AS ok), \
         upd AS (UPDATE {s}.head SET position = $14, chain_hash = $15 WHERE id AND position = $13 \
         AND (SELECT ok FROM go) RETURNING position), \
         {names}\
         ins AS (INSERT INTO {s}.events ({WRITE_COLUMNS}) SELECT k.position, k.occurred_at_ms, k.recorded_at_ms, \
         st.id, k.stream_version, a.id, t.id, k.schema_version, k.command_tail, k.command_id, k.payload, k.chain_tag \
         FROM k JOIN st ON st.name = k.stream JOIN nm AS a ON a.name = k.actor JOIN nm AS t ON t.name = k.event_type \
         WHERE EXISTS (SELECT 1 FROM upd) RETURNING 1){vault} \
         SELECT upd.position, 1 / (CASE WHEN (SELECT count(*) FROM ins) = $16 THEN 1 ELSE 0 END), \
         (SELECT array_agg(name) FROM st), (SELECT array_agg(id) FROM st), \
         (SELECT array_agg(name) FROM nm), (SELECT array_agg(id) FROM nm){counts} FROM upd"
    )
}

/// The fast path's statement for a batch whose every stream, actor and event-type name the
/// writer already knows the dictionary id of ([`NameIds`]), and which creates no customer key:
/// [`append_fast_sql`] without the dictionaries (no interning, no name joins), so the server
/// plans and runs a third of the work (0.32 → 0.11 ms per one-event statement in `pgbench`, see
/// `docs/PERFORMANCE.md`, wave 5). Parameters as there, except that $2, $6 and $10 are the
/// `integer` ids of the stream, event type and actor. The same checks, in the same order: no
/// command id of the batch in its stream, each stream's first new row right after its last
/// stored version, then the head moved from $13 (the lock), then the rows, gated on the head.
/// An id is never stale: the dictionaries only grow (nothing deletes or renames an entry), so
/// the id a committed statement returned for a name stays that name's id.
fn append_ids_sql(s: &str) -> String {
    let sealed = sealed_check_sql(s);
    format!(
        "WITH k AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::bool[], $6::int[], \
         $7::int[], $8::bigint[], $9::bigint[], $10::int[], $11::bytea[], $12::bigint[]) AS k(position, stream_id, \
         stream_version, command_id, command_tail, event_type_id, schema_version, occurred_at_ms, recorded_at_ms, \
         actor_id, payload, chain_tag)), \
         go AS (SELECT NOT EXISTS (SELECT 1 FROM k CROSS JOIN LATERAL (SELECT 1 FROM {s}.events e \
         WHERE e.stream_id = k.stream_id AND e.command_id = k.command_id AND e.command_tail = k.command_tail \
         LIMIT 1) AS hit) \
         AND NOT EXISTS (SELECT 1 FROM (SELECT k.stream_id, min(k.stream_version) AS first FROM k GROUP BY k.stream_id) \
         AS f WHERE coalesce((SELECT max(e.stream_version) FROM {s}.events e WHERE e.stream_id = f.stream_id), 0) \
         <> f.first - 1) AND {sealed} AS ok), \
         upd AS (UPDATE {s}.head SET position = $14, chain_hash = $15 WHERE id AND position = $13 \
         AND (SELECT ok FROM go) RETURNING position), \
         ins AS (INSERT INTO {s}.events ({WRITE_COLUMNS}) SELECT k.position, k.occurred_at_ms, k.recorded_at_ms, \
         k.stream_id, k.stream_version, k.actor_id, k.event_type_id, k.schema_version, k.command_tail, k.command_id, \
         k.payload, k.chain_tag FROM k WHERE EXISTS (SELECT 1 FROM upd) RETURNING 1) \
         SELECT upd.position, 1 / (CASE WHEN (SELECT count(*) FROM ins) = $16 THEN 1 ELSE 0 END) FROM upd"
    )
}

/// Interns names into a dictionary table (`streams` or `names`), returning `(id, name)` for each
/// distinct name of $1. Only the writer inserts, under the head lock. Every dictionary access is
/// a scalar subquery by name (the unique index in every plan; see [`interned_names_sql`]).
fn intern_sql(s: &str, table: &str) -> String {
    format!(
        "WITH want AS (SELECT DISTINCT w.name FROM unnest($1::text[]) AS w(name)), \
         ins AS (INSERT INTO {s}.{table} (name) SELECT want.name FROM want WHERE \
         (SELECT x.id FROM {s}.{table} x WHERE x.name = want.name) IS NULL RETURNING id, name) \
         SELECT id, name FROM ins UNION ALL SELECT o.id, o.name FROM (SELECT \
         (SELECT x.id FROM {s}.{table} x WHERE x.name = want.name) AS id, want.name FROM want) AS o \
         WHERE o.id IS NOT NULL"
    )
}

/// The columns an append writes, in table order (fixed-width first: no alignment padding).
const WRITE_COLUMNS: &str = "position, occurred_at_ms, recorded_at_ms, stream_id, stream_version, actor_id, \
     event_type_id, schema_version, command_tail, command_id, payload, chain_tag";

/// How a command id is stored: `(true, tail)` when it is `<stream>/<tail>` (the engine's
/// convention, so the stream name is not stored twice), else `(false, id)`.
fn stored_command<'a>(stream: &str, command_id: &'a str) -> (bool, &'a str) {
    match command_id.strip_prefix(stream).and_then(|rest| rest.strip_prefix('/')) {
        Some(tail) => (true, tail),
        None => (false, command_id),
    }
}

impl Sql {
    fn new(schema: &str) -> Sql {
        let s = quote_ident(schema);
        let select = event_select(&s);
        let probed = event_select_probed(&s);
        Sql {
            schema: schema.to_string(),
            channel: channel_name(schema),
            begin: "BEGIN".to_string(),
            lock_head: format!("SELECT position, chain_hash FROM {s}.head WHERE id FOR UPDATE"),
            stream_versions: format!(
                "SELECT k.stream, (SELECT max(e.stream_version)::bigint FROM {s}.events e WHERE e.stream_id = \
                 (SELECT x.id FROM {s}.streams x WHERE x.name = k.stream)) FROM unnest($1::text[]) AS k(stream)"
            ),
            find_commands: format!(
                "SELECT DISTINCT k.stream, k.command_id, f.first, f.last, f.version \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) AS k(stream, command_id, stored, tail) \
                 CROSS JOIN LATERAL (SELECT min(e.position) AS first, max(e.position) AS last, \
                 max(e.stream_version)::bigint AS version FROM {s}.events e \
                 WHERE e.stream_id = (SELECT x.id FROM {s}.streams x WHERE x.name = k.stream) \
                 AND e.command_id = k.stored AND e.command_tail = k.tail) AS f WHERE f.first IS NOT NULL"
            ),
            write_rows: write_rows_sql(&s),
            append_fast: append_fast_sql(&s),
            append_fast_plain: append_fast_sql_with(&s, false),
            append_ids: append_ids_sql(&s),
            intern_streams: intern_sql(&s, "streams"),
            intern_names: intern_sql(&s, "names"),
            vault_rows: vault::insert_rows_sql(schema),
            erased_keys: erased_keys_sql(&s),
            copy_in: format!("COPY {s}.events ({WRITE_COLUMNS}) FROM STDIN (FORMAT binary)"),
            advance_head: format!(
                "UPDATE {s}.head SET position = $1, chain_hash = $2 WHERE id AND position = $3 RETURNING position"
            ),
            touch_head: format!("UPDATE {s}.head SET position = position WHERE id"),
            commit: "COMMIT".to_string(),
            read_all: format!("{select} WHERE e.position >= $1 ORDER BY e.position LIMIT $2"),
            read_tail: format!("{probed} WHERE e.position >= $1 ORDER BY e.position LIMIT $2"),
            read_stream: format!(
                "{probed} WHERE e.stream_id = (SELECT x.id FROM {s}.streams x WHERE x.name = $1) \
                 AND e.stream_version >= $2::bigint ORDER BY e.stream_version LIMIT $3"
            ),
            head: format!("SELECT position, chain_hash FROM {s}.head WHERE id"),
            stream_version: format!(
                "SELECT coalesce(max(e.stream_version), 0)::bigint FROM {s}.events e \
                 WHERE e.stream_id = (SELECT x.id FROM {s}.streams x WHERE x.name = $1)"
            ),
        }
    }
}

/// `"name"`, with embedded quotes doubled (schema names are validated anyway).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn channel_name(schema: &str) -> String {
    format!("plaint_{schema}")
}

fn validate_schema_name(schema: &str) -> Result<(), StoreError> {
    let bad = |reason: &str| {
        Err(StoreError::Database(format!(
            "invalid PostgreSQL schema name {schema:?}: {reason}; hint: use lower-case ASCII letters, digits and '_'"
        )))
    };
    if schema.is_empty() {
        return bad("empty");
    }
    if schema.len() > SCHEMA_NAME_LEN_MAX {
        return Err(StoreError::Limit {
            what: format!("length of PostgreSQL schema name {schema:?}"),
            actual: schema.len() as u64,
            max: SCHEMA_NAME_LEN_MAX as u64,
        });
    }
    let first = schema.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first == b'_') {
        return bad("must start with a lower-case letter or '_'");
    }
    if !schema
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return bad("contains a character other than a-z, 0-9, '_'");
    }
    if schema.starts_with("pg_") {
        return bad("names starting with pg_ are reserved by PostgreSQL");
    }
    Ok(())
}

/// A database error, naming what was being done. Connection-level failures say so, since the
/// outcome of an interrupted commit is unknown until the command id is looked up again.
fn db_err(context: &str, e: &tokio_postgres::Error) -> StoreError {
    let detail = match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.message(), db.code().code(), db.detail().unwrap_or("")),
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                source = inner.source();
            }
            s
        }
    };
    let hint = if is_connection_error(e) {
        "; the connection to the server was lost"
    } else {
        ""
    };
    let text = format!("{context}: {}{hint}", detail.trim_end_matches([' ', ':']));
    match environment_kind(e) {
        Some(kind) => StoreError::Environment { kind, detail: text },
        None => StoreError::Database(text),
    }
}

/// The server's refusals an operator fixes in the settings (SQLSTATE 3D000 unknown database,
/// 28P01/28000 authentication, 42501 insufficient privilege).
fn environment_kind(e: &tokio_postgres::Error) -> Option<crate::EnvironmentKind> {
    use crate::EnvironmentKind;
    match e.as_db_error()?.code().code() {
        "3D000" => Some(EnvironmentKind::UnknownDatabase),
        "28P01" | "28000" => Some(EnvironmentKind::Authentication),
        "42501" => Some(EnvironmentKind::PermissionDenied),
        _ => None,
    }
}

/// A store's first connection ([`PgStore::connect`], [`PgStore::migrate`]): a failure below the
/// protocol (refused, unknown host, no route) means no server is reachable at the URL; nothing
/// was connected, so nothing was lost.
fn first_connect_err(e: &tokio_postgres::Error) -> StoreError {
    match db_err("connecting to PostgreSQL", e) {
        StoreError::Database(detail) if e.as_db_error().is_none() => StoreError::Environment {
            kind: crate::EnvironmentKind::Unreachable,
            detail: detail
                .trim_end_matches("; the connection to the server was lost")
                .to_owned(),
        },
        other => other,
    }
}

fn open_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => first_connect_err(&e),
        other => pool_err("connecting to PostgreSQL", other),
    }
}

fn pool_err(context: &str, e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(context, &e),
        other => StoreError::Database(format!("{context}: connection pool: {other}")),
    }
}

/// Whether `e` means the session is gone (closed socket, server shutdown, terminated backend), as
/// opposed to an error of the statement.
fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // 08: connection exception; 57P01..03: admin shutdown, crash shutdown, cannot connect now.
        return code.starts_with("08") || code == "57P01" || code == "57P02" || code == "57P03";
    }
    // No server error: an I/O error on the socket.
    std::error::Error::source(e).is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
}

fn pool_is_connection_error(e: &deadpool_postgres::PoolError) -> bool {
    match e {
        deadpool_postgres::PoolError::Backend(e) => is_connection_error(e),
        // Timeouts or a closed pool: nothing was sent, so a retry is safe.
        _ => true,
    }
}

/// The delays between attempts after a lost connection: exponential from
/// [`RECONNECT_DELAY_MIN_MS`] to [`RECONNECT_DELAY_MAX_MS`] with jitter, at most
/// `write_attempts_max - 1` of them, adding up to at most `reconnect_timeout_ms`.
fn reconnect_delays(options: &PgOptions) -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(RECONNECT_DELAY_MIN_MS))
        .with_max_delay(Duration::from_millis(RECONNECT_DELAY_MAX_MS))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(options.write_attempts_max.saturating_sub(1) as usize)
        .with_total_delay(Some(Duration::from_millis(options.reconnect_timeout_ms)))
        .build()
}

fn pg_config_from(url: &str, options: &PgOptions) -> Result<tokio_postgres::Config, StoreError> {
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?;
    if config.get_application_name().is_none() {
        config.application_name(options.application_name.clone());
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_millis(options.connect_timeout_ms));
    }
    if options.dead_server_timeout_ms > 0 {
        let timeout = Duration::from_millis(options.dead_server_timeout_ms);
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(timeout);
        }
        config
            .keepalives(true)
            .keepalives_idle((timeout / 3).max(Duration::from_secs(1)))
            .keepalives_interval(Duration::from_millis(KEEPALIVE_INTERVAL_MS))
            .keepalives_retries(KEEPALIVE_PROBES);
    }
    if options.idle_in_transaction_timeout_ms > 0 && config.get_options().is_none() {
        config.options(format!(
            "-c idle_in_transaction_session_timeout={}",
            options.idle_in_transaction_timeout_ms
        ));
    }
    Ok(config)
}

/// Sessions the writer task holds: one at a time (`commit_batch`); a lost one is dropped when the
/// pool next checks it and a new one is made in its slot.
const WRITER_SESSIONS_MAX: usize = 1;

/// The settings of the writer's sessions ([`writer_pool`]), each unless the URL's `options` set it.
const WRITER_SETTINGS: [(&str, &str); 2] = [("plan_cache_mode", "force_generic_plan"), ("enable_seqscan", "off")];

/// The startup options of the writer's sessions: the URL's (`given`), then each of
/// [`WRITER_SETTINGS`] the URL does not set (a setting in the URL wins).
fn writer_options(given: &str) -> String {
    let mut options = given.trim().to_string();
    for (name, value) in WRITER_SETTINGS {
        if !given.contains(name) {
            options = format!("{options} -c {name}={value}").trim_start().to_string();
        }
    }
    options
}

/// The writer's own sessions, with `plan_cache_mode = force_generic_plan`: each write statement
/// is planned once per session and never again. Under the default (`auto`) PostgreSQL compares
/// the generic plan's estimated cost with the custom plans' after five executions, and once
/// autovacuum had analysed the young tables it chose custom plans for good: every append paid
/// ≈ 0.3 ms of planning (its `Bind`) for ≈ 0.19 ms of execution (`docs/PERFORMANCE.md`, wave 8).
/// A plan made once must not scan a table that grows: every write statement reaches `events`
/// and the dictionaries through probes by key (scalar subqueries, `LATERAL … LIMIT 1` or
/// aggregate probes) that an index answers, and the sessions also set `enable_seqscan = off`,
/// because on tables analysed while small (a few pages) the planner prefers a sequential scan
/// even for those probes, and a generic plan made then kept scanning for the session's life
/// (wave 9: `every_write_statement_reaches_its_tables_by_index_under_a_generic_plan` found
/// `stream_versions` scanning `streams` and `events` at 40 events). Reads keep `auto` and
/// sequential scans on the shared pool: a bulk read is better planned on its bounds.
fn writer_pool(config: &tokio_postgres::Config) -> Result<Pool, StoreError> {
    let mut config = config.clone();
    let options = writer_options(config.get_options().unwrap_or_default());
    config.options(options);
    session_pool(config, WRITER_SESSIONS_MAX)
        .map_err(|e| StoreError::Database(format!("creating the PostgreSQL writer's connection pool: {e}")))
}

/// Opens the pools' sessions on the runtime the store was connected on, whichever runtime asks
/// the pool for one. deadpool's own connector opens a session and spawns its driver on the
/// *asking* task's runtime; a session opened from a runtime that then sits idle (a
/// current-thread runtime outside `block_on`) is returned to the shared pool undriven, and the
/// next task to take it, on any runtime, waits for ever (`plaint demo` hit this with a second
/// runtime; `tests/pg_runtimes.rs`). The store's own tasks (writer, notifier, listener) run on
/// the connecting runtime already; a session now lives as long as they do. When that runtime
/// has shut down, the session is opened where it is asked for, as before.
struct ConnectOnStoreRuntime {
    runtime: tokio::runtime::Handle,
}

type SessionFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>,
            > + Send
            + 'a,
    >,
>;

impl ConnectOnStoreRuntime {
    fn here() -> ConnectOnStoreRuntime {
        ConnectOnStoreRuntime {
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

/// Opens one session and spawns its driver on the current runtime.
async fn open_session(
    config: tokio_postgres::Config,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    Ok((client, spawn_driver(connection)))
}

impl deadpool_postgres::Connect for ConnectOnStoreRuntime {
    fn connect(&self, pg_config: &tokio_postgres::Config) -> SessionFuture<'_> {
        let config = pg_config.clone();
        let opened = self.runtime.spawn(open_session(config.clone()));
        Box::pin(async move {
            match opened.await {
                Ok(session) => session,
                // The store's runtime is gone (shut down): open it on the asking runtime.
                Err(_) => open_session(config).await,
            }
        })
    }
}

/// A pool of `size` sessions over `config`, last in first out, sessions opened on the store's
/// runtime ([`ConnectOnStoreRuntime`]).
fn session_pool(config: tokio_postgres::Config, size: usize) -> Result<Pool, deadpool_postgres::BuildError> {
    let manager = Manager::from_connect(
        config,
        ConnectOnStoreRuntime::here(),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .queue_mode(deadpool_postgres::QueueMode::Lifo)
        .build()
}

async fn connect_raw(
    config: &tokio_postgres::Config,
) -> Result<
    (
        tokio_postgres::Client,
        tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    ),
    StoreError,
> {
    config.connect(NoTls).await.map_err(|e| first_connect_err(&e))
}

/// Runs a plain connection's driver until it ends.
fn spawn_driver(
    connection: tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = connection.await;
    })
}

/// The schema, version 1. Every statement is idempotent on its own; the whole runs in one
/// transaction under an advisory lock.
fn migration_v1(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        r#"
CREATE TABLE IF NOT EXISTS {s}.head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL CHECK (position >= 0),
    chain_hash bytea NOT NULL CHECK (octet_length(chain_hash) = 32)
);
COMMENT ON TABLE {s}.head IS 'plaint: the single row locked FOR UPDATE by every append; last committed position and chain value';
INSERT INTO {s}.head (id, position, chain_hash) VALUES (true, 0, '\x{genesis}') ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS {s}.events (
    position bigint PRIMARY KEY CHECK (position >= 1),
    stream text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version >= 1),
    command_id text NOT NULL,
    event_type text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version BETWEEN 0 AND 65535),
    occurred_at_ms bigint NOT NULL,
    recorded_at_ms bigint NOT NULL,
    occurred_at timestamptz,
    recorded_at timestamptz,
    actor text NOT NULL,
    payload bytea NOT NULL,
    chain_hash bytea NOT NULL CHECK (octet_length(chain_hash) = 32),
    UNIQUE (stream, stream_version)
);
CREATE INDEX IF NOT EXISTS events_stream_command_id ON {s}.events (stream, command_id);
COMMENT ON TABLE {s}.events IS 'plaint: committed events, append-only; position gapless from 1 in commit order';
COMMENT ON COLUMN {s}.events.position IS 'global position, gapless, commit order';
COMMENT ON COLUMN {s}.events.stream_version IS 'version within the stream, gapless from 1';
COMMENT ON COLUMN {s}.events.command_id IS 'command that caused the event (idempotency key within the stream)';
COMMENT ON COLUMN {s}.events.occurred_at_ms IS 'business time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.recorded_at_ms IS 'recording time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.occurred_at IS 'business time, readable; written with occurred_at_ms (NULL outside years 1..9999)';
COMMENT ON COLUMN {s}.events.recorded_at IS 'recording time, readable; written with recorded_at_ms (NULL outside years 1..9999)';
COMMENT ON COLUMN {s}.events.payload IS 'event body, postcard-encoded by plaint-domain';
COMMENT ON COLUMN {s}.events.chain_hash IS 'BLAKE3 hash chain value after this event (plaint_store::chain)';

CREATE OR REPLACE VIEW {s}.events_readable AS
SELECT position, stream, stream_version, event_type, schema_version, occurred_at, recorded_at, actor,
       command_id, octet_length(payload) AS payload_bytes, encode(chain_hash, 'hex') AS chain_hash_hex
FROM {s}.events;
COMMENT ON VIEW {s}.events_readable IS 'plaint: events without the binary payload, for people';
"#,
        genesis = crate::chain::to_hex(&CHAIN_GENESIS),
    )
}

/// Version 3: smaller rows. Stream, actor and event-type names move into dictionaries (`streams`,
/// `names`) and the events refer to them by `integer` id; a command id of the form
/// `<stream>/<tail>` keeps only its tail; the readable times become columns of the view instead
/// of the table; the `(stream, command_id)` index goes (idempotency lookups scan the stream's rows
/// through the `(stream_id, stream_version)` index). Existing rows are converted in place, in the
/// migration's transaction, keeping every position, version, time, payload and chain value.
fn migration_v3(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        r#"
CREATE TABLE {s}.streams (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
COMMENT ON TABLE {s}.streams IS 'plaint: stream names, interned; events.stream_id refers to id';
CREATE TABLE {s}.names (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
COMMENT ON TABLE {s}.names IS 'plaint: actor and event-type names, interned; events.actor_id and events.event_type_id refer to id';
INSERT INTO {s}.streams (name) SELECT stream FROM {s}.events GROUP BY stream ORDER BY min(position);
INSERT INTO {s}.names (name)
    SELECT n FROM (SELECT actor AS n, position FROM {s}.events UNION ALL SELECT event_type, position FROM {s}.events) AS u
    GROUP BY n ORDER BY min(position);

CREATE TABLE {s}.events_v3 (
    position bigint NOT NULL CHECK (position >= 1),
    occurred_at_ms bigint NOT NULL,
    recorded_at_ms bigint NOT NULL,
    stream_id integer NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version >= 1),
    actor_id integer NOT NULL,
    event_type_id integer NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version BETWEEN 0 AND 65535),
    command_tail boolean NOT NULL,
    command_id text NOT NULL,
    payload bytea NOT NULL,
    chain_hash bytea NOT NULL CHECK (octet_length(chain_hash) = 32)
);
INSERT INTO {s}.events_v3
SELECT e.position, e.occurred_at_ms, e.recorded_at_ms, x.id, e.stream_version, a.id, t.id, e.schema_version,
       starts_with(e.command_id, e.stream || '/'),
       CASE WHEN starts_with(e.command_id, e.stream || '/') THEN substr(e.command_id, char_length(e.stream) + 2)
            ELSE e.command_id END,
       e.payload, e.chain_hash
FROM {s}.events e JOIN {s}.streams x ON x.name = e.stream JOIN {s}.names a ON a.name = e.actor
     JOIN {s}.names t ON t.name = e.event_type
ORDER BY e.position;
DROP VIEW {s}.events_readable;
DROP TABLE {s}.events;
ALTER TABLE {s}.events_v3 RENAME TO events;
ALTER TABLE {s}.events ADD CONSTRAINT events_pkey PRIMARY KEY (position);
ALTER TABLE {s}.events ADD CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version);
COMMENT ON TABLE {s}.events IS 'plaint: committed events, append-only; position gapless from 1 in commit order';
COMMENT ON COLUMN {s}.events.position IS 'global position, gapless, commit order';
COMMENT ON COLUMN {s}.events.occurred_at_ms IS 'business time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.recorded_at_ms IS 'recording time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.stream_id IS 'the stream: streams.id';
COMMENT ON COLUMN {s}.events.stream_version IS 'version within the stream, gapless from 1';
COMMENT ON COLUMN {s}.events.actor_id IS 'who: names.id';
COMMENT ON COLUMN {s}.events.event_type_id IS 'event type: names.id';
COMMENT ON COLUMN {s}.events.command_tail IS 'true: the command id is the stream name, a slash, then command_id';
COMMENT ON COLUMN {s}.events.command_id IS 'command that caused the event (idempotency key within the stream), or its tail (command_tail)';
COMMENT ON COLUMN {s}.events.payload IS 'event body, postcard-encoded by plaint-domain';
COMMENT ON COLUMN {s}.events.chain_hash IS 'BLAKE3 hash chain value after this event (plaint_store::chain)';

CREATE VIEW {s}.events_readable AS
SELECT e.position, x.name AS stream, e.stream_version, t.name AS event_type, e.schema_version,
       CASE WHEN e.occurred_at_ms BETWEEN {min} AND {max}
            THEN timestamptz 'epoch' + e.occurred_at_ms * interval '1 millisecond' END AS occurred_at,
       CASE WHEN e.recorded_at_ms BETWEEN {min} AND {max}
            THEN timestamptz 'epoch' + e.recorded_at_ms * interval '1 millisecond' END AS recorded_at,
       a.name AS actor,
       CASE WHEN e.command_tail THEN x.name || '/' || e.command_id ELSE e.command_id END AS command_id,
       octet_length(e.payload) AS payload_bytes, encode(e.chain_hash, 'hex') AS chain_hash_hex,
       e.occurred_at_ms, e.recorded_at_ms
FROM {s}.events e LEFT JOIN {s}.streams x ON x.id = e.stream_id LEFT JOIN {s}.names a ON a.id = e.actor_id
     LEFT JOIN {s}.names t ON t.id = e.event_type_id;
COMMENT ON VIEW {s}.events_readable IS 'plaint: events with their names and readable times, without the binary payload, for people';
"#,
        min = TIMESTAMP_MS_MIN,
        max = TIMESTAMP_MS_MAX,
    )
}

/// Version 4: smaller rows. The per-row chain value becomes `chain_tag`, its first 8 bytes as a
/// `bigint` (the head row keeps the whole 32-byte value, so `verify` still recomputes and
/// compares the full chain at the head, and a changed row is still found at its position unless
/// its tag collides, odds 2^-64), placed among the 8-byte columns so the row has no alignment
/// padding; the primary key is built with `fillfactor = 100` (positions only ever append at its
/// right edge). 256 → 232 bytes per row of the engine workload. Existing rows are converted in
/// the migration's transaction, keeping every position, version, time and payload. (The
/// one-statement append of this version, [`append_fast_sql`], needs no schema object.)
fn migration_v4(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        r#"
CREATE TABLE {s}.events_v4 (
    position bigint NOT NULL CHECK (position >= 1),
    occurred_at_ms bigint NOT NULL,
    recorded_at_ms bigint NOT NULL,
    chain_tag bigint NOT NULL,
    stream_id integer NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version >= 1),
    actor_id integer NOT NULL,
    event_type_id integer NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version BETWEEN 0 AND 65535),
    command_tail boolean NOT NULL,
    command_id text NOT NULL,
    payload bytea NOT NULL
);
INSERT INTO {s}.events_v4
SELECT position, occurred_at_ms, recorded_at_ms, ('x' || encode(substr(chain_hash, 1, 8), 'hex'))::bit(64)::bigint,
       stream_id, stream_version, actor_id, event_type_id, schema_version, command_tail, command_id, payload
FROM {s}.events ORDER BY position;
DROP VIEW {s}.events_readable;
DROP TABLE {s}.events;
ALTER TABLE {s}.events_v4 RENAME TO events;
ALTER TABLE {s}.events ADD CONSTRAINT events_pkey PRIMARY KEY (position) WITH (fillfactor = 100);
ALTER TABLE {s}.events ADD CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version);
COMMENT ON TABLE {s}.events IS 'plaint: committed events, append-only; position gapless from 1 in commit order';
COMMENT ON COLUMN {s}.events.position IS 'global position, gapless, commit order';
COMMENT ON COLUMN {s}.events.occurred_at_ms IS 'business time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.recorded_at_ms IS 'recording time, ms since Unix epoch UTC (exact)';
COMMENT ON COLUMN {s}.events.chain_tag IS 'first 8 bytes (big-endian) of the BLAKE3 hash chain value after this event; head.chain_hash holds the whole value';
COMMENT ON COLUMN {s}.events.stream_id IS 'the stream: streams.id';
COMMENT ON COLUMN {s}.events.stream_version IS 'version within the stream, gapless from 1';
COMMENT ON COLUMN {s}.events.actor_id IS 'who: names.id';
COMMENT ON COLUMN {s}.events.event_type_id IS 'event type: names.id';
COMMENT ON COLUMN {s}.events.command_tail IS 'true: the command id is the stream name, a slash, then command_id';
COMMENT ON COLUMN {s}.events.command_id IS 'command that caused the event (idempotency key within the stream), or its tail (command_tail)';
COMMENT ON COLUMN {s}.events.payload IS 'event body, postcard-encoded by plaint-domain';

CREATE VIEW {s}.events_readable AS
SELECT e.position, x.name AS stream, e.stream_version, t.name AS event_type, e.schema_version,
       CASE WHEN e.occurred_at_ms BETWEEN {min} AND {max}
            THEN timestamptz 'epoch' + e.occurred_at_ms * interval '1 millisecond' END AS occurred_at,
       CASE WHEN e.recorded_at_ms BETWEEN {min} AND {max}
            THEN timestamptz 'epoch' + e.recorded_at_ms * interval '1 millisecond' END AS recorded_at,
       a.name AS actor,
       CASE WHEN e.command_tail THEN x.name || '/' || e.command_id ELSE e.command_id END AS command_id,
       octet_length(e.payload) AS payload_bytes, lpad(to_hex(e.chain_tag), 16, '0') AS chain_tag_hex,
       e.occurred_at_ms, e.recorded_at_ms
FROM {s}.events e LEFT JOIN {s}.streams x ON x.id = e.stream_id LEFT JOIN {s}.names a ON a.id = e.actor_id
     LEFT JOIN {s}.names t ON t.id = e.event_type_id;
COMMENT ON VIEW {s}.events_readable IS 'plaint: events with their names and readable times, without the binary payload, for people';

"#,
        min = TIMESTAMP_MS_MIN,
        max = TIMESTAMP_MS_MAX,
    )
}

impl PgStore {
    /// Creates or upgrades the schema named in `options` (`plaint init --pg URL`). Idempotent and
    /// safe to run from several processes at once (an advisory lock serialises it). Fails when
    /// the database holds a newer schema version than this program knows.
    pub async fn migrate(url: &str, options: &PgOptions) -> Result<MigrationReport, StoreError> {
        validate_schema_name(&options.schema)?;
        let config = pg_config_from(url, options)?;
        let (mut client, connection) = connect_raw(&config).await?;
        let driver = spawn_driver(connection);
        let result = migrate_on(&mut client, &options.schema, PG_SCHEMA_VERSION).await;
        drop(client);
        let _ = driver.await;
        result
    }

    /// Like [`PgStore::migrate`], but stops at schema version `target` (1..=[`PG_SCHEMA_VERSION`]).
    /// For tests of the upgrade from an older version; a store cannot connect to an older schema.
    #[doc(hidden)]
    pub async fn migrate_to_version(
        url: &str,
        options: &PgOptions,
        target: i32,
    ) -> Result<MigrationReport, StoreError> {
        assert!(
            (1..=PG_SCHEMA_VERSION).contains(&target),
            "schema version {target} is not one this program can create"
        );
        validate_schema_name(&options.schema)?;
        let config = pg_config_from(url, options)?;
        let (mut client, connection) = connect_raw(&config).await?;
        let driver = spawn_driver(connection);
        let result = migrate_on(&mut client, &options.schema, target).await;
        drop(client);
        let _ = driver.await;
        result
    }

    /// Drops the schema named in `options` and every event in it. For tests and benchmarks;
    /// irreversible.
    pub async fn drop_schema(url: &str, options: &PgOptions) -> Result<(), StoreError> {
        validate_schema_name(&options.schema)?;
        let config = pg_config_from(url, options)?;
        let (client, connection) = connect_raw(&config).await?;
        let driver = spawn_driver(connection);
        let result = client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quote_ident(&options.schema)
            ))
            .await
            .map_err(|e| db_err(&format!("dropping schema {:?}", options.schema), &e));
        drop(client);
        let _ = driver.await;
        result
    }

    /// Connects a pool to a migrated schema and starts the writer task. Fails with a hint when
    /// the schema was not created by [`PgStore::migrate`] or has another version.
    pub async fn connect(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        validate_schema_name(&options.schema)?;
        assert!(options.pool_size_max >= 1, "pool_size_max must be at least 1");
        assert!(options.write_attempts_max >= 1, "write_attempts_max must be at least 1");
        let pg_config = pg_config_from(url, &options)?;
        // Last in, first out: the writer's next batch (and the next read) gets the session used
        // last, whose server backend has its statements prepared, their plans cached (a generic
        // plan after five executions) and its caches warm. First in, first out, the default,
        // rotated the writer over every pooled session: each prepared and custom-planned the
        // append statement again (1.3–1.6 ms of planning against 0.06–0.08 ms for a cached
        // plan, `docs/PERFORMANCE.md`, wave 5).
        let pool = session_pool(pg_config.clone(), options.pool_size_max)
            .map_err(|e| StoreError::Database(format!("creating the PostgreSQL connection pool: {e}")))?;
        {
            let client = pool.get().await.map_err(open_err)?;
            let exists: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'schema_migrations')",
                    &[&options.schema],
                )
                .await
                .map_err(|e| db_err("checking the plaint schema", &e))?
                .get(0);
            if !exists {
                return Err(StoreError::Database(format!(
                    "PostgreSQL schema {:?} is not initialised; hint: run `plaint init --pg URL` (PgStore::migrate)",
                    options.schema
                )));
            }
            let version: Option<i32> = client
                .query_one(
                    &format!(
                        "SELECT max(version) FROM {}.schema_migrations",
                        quote_ident(&options.schema)
                    ),
                    &[],
                )
                .await
                .map_err(|e| db_err("reading the plaint schema version", &e))?
                .get(0);
            if version != Some(PG_SCHEMA_VERSION) {
                return Err(StoreError::Database(format!(
                    "PostgreSQL schema {:?} has version {}, this program needs version {PG_SCHEMA_VERSION}; hint: run `plaint init --pg URL` with this program's version",
                    options.schema,
                    version.unwrap_or(0)
                )));
            }
        }
        let (wake, _) = watch::channel(0u64);
        let (committed_head, committed_rx) = watch::channel(0u64);
        // The writer's sessions open on the first append: a store that only reads (`--pg-read`,
        // `verify`, `export`) holds no idle writer backend on the server.
        let writer_pool = writer_pool(&pg_config)?;
        let shared = Arc::new(Shared {
            pool,
            writer_pool,
            pg_config,
            sql: Sql::new(&options.schema),
            options,
            wake,
            committed_head,
            stats: StatsCounters::default(),
        });
        tokio::spawn(notifier_loop(
            shared.pg_config.clone(),
            shared.sql.channel.clone(),
            committed_rx,
        ));
        let (jobs, rx) = mpsc::channel(WRITER_QUEUE_MAX);
        tokio::spawn(writer_loop(shared.clone(), rx));
        Ok(PgStore {
            shared,
            jobs,
            listener: std::sync::Mutex::new(None),
            alive: watch::channel(()).0,
        })
    }

    /// What the writer did so far; `calls / transactions` is the mean group-commit batch size.
    pub fn stats(&self) -> PgStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.shared.stats;
        PgStats {
            transactions: c.transactions.load(Relaxed),
            calls: c.calls.load(Relaxed),
            events: c.events.load(Relaxed),
            retries: c.retries.load(Relaxed),
            fast_misses: c.fast_misses.load(Relaxed),
            fast_transactions: c.fast_transactions.load(Relaxed),
            id_transactions: c.id_transactions.load(Relaxed),
        }
    }

    /// The options this store was connected with.
    pub fn options(&self) -> &PgOptions {
        &self.shared.options
    }

    /// Whether this server is a standby, its head, and how old its last replayed transaction
    /// is (by the server's clock). A store opened on a hot standby (read-only) serves reads;
    /// its appends fail as the server refuses writes.
    pub async fn replication_status(&self) -> Result<ReplicationStatus, StoreError> {
        let sql = format!(
            "SELECT pg_is_in_recovery(), (SELECT position FROM {}.head WHERE id), \
             (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint",
            quote_ident(&self.shared.options.schema)
        );
        let rows = query_rows(&self.shared, &sql, &[], "reading the replication status").await?;
        let row = rows.first().ok_or_else(|| {
            StoreError::Database("reading the replication status: the query returned no row".to_owned())
        })?;
        let in_recovery: bool = row.get(0);
        let head: i64 = row.get(1);
        let age: Option<i64> = row.get(2);
        Ok(ReplicationStatus {
            in_recovery,
            head_position: u64::try_from(head).unwrap_or(0),
            last_replay_age_ms: if in_recovery { age } else { None },
        })
    }

    /// Starts the LISTEN connection on first use.
    fn ensure_listener(&self) {
        let mut guard = self.listener.lock().expect("listener mutex poisoned");
        if guard.as_ref().is_none_or(|h| h.is_finished()) {
            *guard = Some(tokio::spawn(listener_loop(self.shared.clone())));
        }
    }

    async fn submit(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError> {
        self.submit_with_vault(requests, crate::vault::VaultWrite::default())
            .await
    }

    async fn submit_with_vault(
        &self,
        requests: Vec<AppendRequest>,
        vault: crate::vault::VaultWrite,
    ) -> Result<Vec<AppendResult>, StoreError> {
        self.submit_job(requests, vault, None).await
    }

    /// One request as one writer call; `head`: see [`Job::head`].
    async fn append_one(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        head: Option<u64>,
    ) -> Result<AppendResult, StoreError> {
        let request = AppendRequest {
            stream: stream.to_string(),
            expected,
            events,
        };
        let mut results = self
            .submit_job(vec![request], crate::vault::VaultWrite::default(), head)
            .await?;
        assert_eq!(results.len(), 1);
        Ok(results.pop().expect("one result per request"))
    }

    /// Queues one call for the writer; `head`: see [`Job::head`].
    async fn submit_job(
        &self,
        requests: Vec<AppendRequest>,
        vault: crate::vault::VaultWrite,
        head: Option<u64>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let mut events = 0usize;
        for request in &requests {
            validate_request(request)?;
            events += request.events.len();
        }
        if events > APPEND_EVENTS_MAX {
            return Err(StoreError::Limit {
                what: "events in one append_many".to_string(),
                actual: events as u64,
                max: APPEND_EVENTS_MAX as u64,
            });
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job {
                requests,
                vault,
                head,
                events,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

async fn migrate_on(
    client: &mut tokio_postgres::Client,
    schema: &str,
    target: i32,
) -> Result<MigrationReport, StoreError> {
    let ctx = |what: &str| format!("migrating PostgreSQL schema {schema:?}: {what}");
    let s = quote_ident(schema);
    let tx = client.transaction().await.map_err(|e| db_err(&ctx("begin"), &e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('plaint.migrate.' || $1, 0))",
        &[&schema],
    )
    .await
    .map_err(|e| db_err(&ctx("advisory lock"), &e))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
             version integer PRIMARY KEY,
             description text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );
         COMMENT ON TABLE {s}.schema_migrations IS 'plaint: schema versions applied by plaint init';"
    ))
    .await
    .map_err(|e| db_err(&ctx("schema_migrations table"), &e))?;
    let before: Option<i32> = tx
        .query_one(&format!("SELECT max(version) FROM {s}.schema_migrations"), &[])
        .await
        .map_err(|e| db_err(&ctx("read version"), &e))?
        .get(0);
    let before = before.unwrap_or(0);
    if before > PG_SCHEMA_VERSION {
        return Err(StoreError::Database(format!(
            "PostgreSQL schema {schema:?} has version {before}, newer than this program's {PG_SCHEMA_VERSION}; hint: use a newer plaint"
        )));
    }
    let steps = [
        (1, migration_v1(schema), "events, head, events_readable"),
        (2, vault::migration_v2(schema), "vault_meta, vault_keys, vault_links"),
        (
            3,
            migration_v3(schema),
            "smaller rows: streams and names interned, command id tails, times readable in the view",
        ),
        (
            4,
            migration_v4(schema),
            "chain tags instead of per-row chain values, no row padding",
        ),
        (
            5,
            vault::migration_v5(schema),
            "vault_links indexed from its second column",
        ),
        (
            6,
            // Nothing changes in the tables: the version makes older programs refuse the schema.
            // Erasure across processes is safe only when every writer checks the keys its
            // events are sealed under and erases in one transaction under the head lock.
            "SELECT 1".to_owned(),
            "every writer checks sealed keys and erases under the head lock (older writers refused)",
        ),
    ];
    for (version, sql, description) in steps {
        if before < version && target >= version {
            tx.batch_execute(&sql)
                .await
                .map_err(|e| db_err(&ctx(&format!("version {version}")), &e))?;
            tx.execute(
                &format!("INSERT INTO {s}.schema_migrations (version, description) VALUES ($1, $2)"),
                &[&version, &description],
            )
            .await
            .map_err(|e| db_err(&ctx(&format!("record version {version}")), &e))?;
        }
    }
    if target >= 2 {
        vault::ensure_match_secret(&tx, schema).await?;
    }
    tx.commit().await.map_err(|e| db_err(&ctx("commit"), &e))?;
    Ok(MigrationReport {
        version_before: before,
        version_after: target.max(before),
    })
}

fn limit(what: String, actual: usize, max: usize) -> Result<(), StoreError> {
    if actual > max {
        Err(StoreError::Limit {
            what,
            actual: actual as u64,
            max: max as u64,
        })
    } else {
        Ok(())
    }
}

/// Checks an append request before it reaches the writer.
fn validate_request(request: &AppendRequest) -> Result<(), StoreError> {
    let stream = &request.stream;
    let invalid = |reason: String| StoreError::InvalidAppend {
        stream: stream.clone(),
        reason,
    };
    if stream.is_empty() {
        return Err(invalid("the stream name is empty".to_string()));
    }
    limit(
        format!("length of stream name {stream:?}"),
        stream.len(),
        STREAM_NAME_LEN_MAX,
    )?;
    if request.events.is_empty() {
        return Err(invalid("no events to append".to_string()));
    }
    limit(
        format!("events in one append to stream {stream:?}"),
        request.events.len(),
        APPEND_EVENTS_MAX,
    )?;
    let command_id = &request.events[0].command_id;
    if command_id.is_empty() {
        return Err(invalid("the command id is empty".to_string()));
    }
    for (i, event) in request.events.iter().enumerate() {
        if &event.command_id != command_id {
            return Err(invalid(format!(
                "event {i} has command id {:?}, the append's first event has {command_id:?}",
                event.command_id
            )));
        }
        if event.event_type.is_empty() {
            return Err(invalid(format!("event {i} has an empty event type")));
        }
        limit(
            format!("length of event type of event {i} in stream {stream:?}"),
            event.event_type.len(),
            EVENT_TYPE_LEN_MAX,
        )?;
        limit(
            format!("length of actor of event {i} in stream {stream:?}"),
            event.actor.len(),
            ACTOR_LEN_MAX,
        )?;
        limit(
            format!("length of command id in stream {stream:?}"),
            event.command_id.len(),
            COMMAND_ID_LEN_MAX,
        )?;
        limit(
            format!("payload size of event {i} in stream {stream:?}"),
            event.payload.len(),
            EVENT_PAYLOAD_SIZE_MAX,
        )?;
        // PostgreSQL text cannot hold NUL bytes.
        for (field, value) in [
            ("stream", stream),
            ("event type", &event.event_type),
            ("actor", &event.actor),
            ("command id", &event.command_id),
        ] {
            if value.contains('\0') {
                return Err(invalid(format!("the {field} of event {i} contains a NUL character")));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The writer: group commit under the head lock.

async fn writer_loop(shared: Arc<Shared>, mut rx: mpsc::Receiver<Job>) {
    let mut pending: Option<Job> = None;
    let mut cache = WriterCache::default();
    loop {
        let first = match pending.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut events = first.events;
        let mut batch = vec![first];
        // Drain the queue; then let callers that were just answered run and queue their next
        // append (a few scheduler yields, microseconds), and drain again while that brings more.
        // Without it, N closed-loop callers split into two alternating batches of N/2.
        let mut rounds = 0;
        'collect: while batch.len() < WRITER_BATCH_CALLS_MAX && pending.is_none() {
            let before = batch.len();
            while batch.len() < WRITER_BATCH_CALLS_MAX {
                match rx.try_recv() {
                    Ok(job) => {
                        if events + job.events > WRITER_BATCH_EVENTS_MAX {
                            pending = Some(job);
                            break 'collect;
                        }
                        events += job.events;
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            rounds += 1;
            if rounds > WRITER_COLLECT_ROUNDS_MAX || (rounds > 1 && batch.len() == before) {
                break;
            }
            tokio::task::yield_now().await;
        }
        let requests: Vec<&[AppendRequest]> = batch.iter().map(|j| j.requests.as_slice()).collect();
        let vaults: Vec<&crate::vault::VaultWrite> = batch.iter().map(|j| &j.vault).collect();
        let heads: Vec<Option<u64>> = batch.iter().map(|j| j.head).collect();
        let calls = Calls::new(&requests, &heads, &vaults);
        let outcomes = commit_with_retry(&shared, &calls, &mut cache).await;
        match outcomes {
            Ok(outcomes) => {
                assert_eq!(outcomes.len(), batch.len());
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                let text = e.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Database(text.clone())));
                }
            }
        }
    }
}

/// What the writer knows of the log as of its last transaction: the head and some streams'
/// versions. Valid only while nobody else has written (the head is unchanged); the fast path
/// checks that on the server under the lock and falls back to the full path when it moved.
#[derive(Default)]
struct WriterCache {
    head: Option<(i64, ChainHash)>,
    versions: HashMap<String, u64>,
    /// Batches left before the fast path is tried again.
    skip: u32,
    /// Dictionary ids returned by the fast path's statement.
    ids: NameIds,
}

/// Dictionary ids the writer has seen a committed statement return: stream names (`streams`)
/// and actor and event-type names (`names`). Always true (the dictionaries only grow), but kept
/// only as long as the versions, so a schema dropped and created again under a running store
/// cannot leave an id of the old one behind.
#[derive(Default)]
struct NameIds {
    streams: HashMap<String, i32>,
    names: HashMap<String, i32>,
}

impl NameIds {
    fn clear(&mut self) {
        self.streams.clear();
        self.names.clear();
    }

    /// Remembers the `(names, ids)` column pairs the names statement returned from column
    /// `first` on: streams, then actor and event-type names.
    fn learn(&mut self, row: &Row, first: usize) -> Result<(), tokio_postgres::Error> {
        if self.streams.len() + self.names.len() > WRITER_CACHE_STREAMS_MAX {
            self.clear();
        }
        for (offset, map) in [(0, &mut self.streams), (2, &mut self.names)] {
            let names: Option<Vec<String>> = row.try_get(first + offset)?;
            let ids: Option<Vec<i32>> = row.try_get(first + offset + 1)?;
            let (names, ids) = (names.unwrap_or_default(), ids.unwrap_or_default());
            assert_eq!(
                names.len(),
                ids.len(),
                "array_agg of one CTE gives as many names as ids"
            );
            map.extend(names.into_iter().zip(ids));
        }
        Ok(())
    }
}

impl WriterCache {
    fn forget(&mut self) {
        self.head = None;
        self.versions.clear();
        self.ids.clear();
    }

    /// Records the state after a transaction that found the log at `before` and left it at
    /// `after`, with the versions of the streams it looked at.
    fn learn(&mut self, before: (i64, ChainHash), after: (i64, ChainHash), versions: &HashMap<&str, u64>) {
        if self.head != Some(before) || self.versions.len() + versions.len() > WRITER_CACHE_STREAMS_MAX {
            self.versions.clear();
            self.ids.clear();
        }
        self.head = Some(after);
        for (stream, version) in versions {
            self.versions.insert(stream.to_string(), *version);
        }
    }
}

/// Commits a batch, retrying on a lost connection. The retry is safe: a batch either committed
/// whole or not at all, and on retry its command ids are found again (deduplicated).
async fn commit_with_retry(
    shared: &Shared,
    calls: &Calls<'_>,
    cache: &mut WriterCache,
) -> Result<Vec<Result<Vec<AppendResult>, StoreError>>, StoreError> {
    let mut delays = reconnect_delays(&shared.options);
    let started = std::time::Instant::now();
    let mut attempt = 1u32;
    loop {
        // A retry may find its command ids committed by the attempt whose connection was lost;
        // it then confirms they are durable as the server promises (see `commit_batch`).
        match commit_batch(shared, calls, cache, attempt > 1).await {
            Ok(outcomes) => return Ok(outcomes),
            Err(BatchError::Connection(e)) => match delays.next() {
                Some(delay) => {
                    shared.stats.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    return Err(StoreError::Database(format!(
                        "append not acknowledged after {attempt} attempts over {:.1} s: {e}; the last attempt's \
                         outcome is unknown: retrying with the same command id is safe (it returns the original \
                         positions if the append committed)",
                        started.elapsed().as_secs_f64()
                    )))
                }
            },
            Err(BatchError::Other(e)) => return Err(e),
        }
    }
}

/// The calls of one writer batch, in queue order: each call's requests, the head it requires
/// ([`Job::head`]) and the vault rows to write with it (three slices of one length).
struct Calls<'a> {
    requests: &'a [&'a [AppendRequest]],
    heads: &'a [Option<u64>],
    vaults: &'a [&'a crate::vault::VaultWrite],
}

impl<'a> Calls<'a> {
    /// The calls whose `i`-th parts are `requests[i]`, `heads[i]` and `vaults[i]`.
    fn new(
        requests: &'a [&'a [AppendRequest]],
        heads: &'a [Option<u64>],
        vaults: &'a [&'a crate::vault::VaultWrite],
    ) -> Calls<'a> {
        assert_eq!(requests.len(), heads.len(), "one required head per call");
        assert_eq!(requests.len(), vaults.len(), "one vault write per call");
        Calls {
            requests,
            heads,
            vaults,
        }
    }
}

enum BatchError {
    /// The session was lost; the transaction may or may not have committed.
    Connection(String),
    /// Anything else; the transaction did not commit.
    Other(StoreError),
}

impl BatchError {
    fn from_pg(context: &str, e: tokio_postgres::Error) -> BatchError {
        if is_connection_error(&e) {
            BatchError::Connection(db_err(context, &e).to_string())
        } else {
            BatchError::Other(db_err(context, &e))
        }
    }
}

/// One row about to be inserted.
struct NewRow<'a> {
    position: u64,
    stream: &'a str,
    stream_version: u64,
    event: &'a NewEvent,
}

/// The rows of one transaction as column arrays, parameters $1..$12 of the write statement.
/// `K` is how a stream, actor or event type is sent: its name (`&str`, [`append_fast_sql`],
/// [`write_rows_sql`]) or its dictionary id (`i32`, [`append_ids_sql`]).
struct RowColumns<'a, K> {
    positions: Vec<i64>,
    streams: Vec<K>,
    versions: Vec<i32>,
    commands: Vec<&'a str>,
    tails: Vec<bool>,
    types: Vec<K>,
    schema_versions: Vec<i32>,
    occurred: Vec<i64>,
    recorded: Vec<i64>,
    actors: Vec<K>,
    payloads: Vec<&'a [u8]>,
    chains: Vec<i64>,
}

impl<'a> RowColumns<'a, &'a str> {
    fn new(rows: &'a [NewRow<'a>], hashes: &'a [ChainHash]) -> Self {
        RowColumns::keyed(rows, hashes, Some, Some).expect("every row has names")
    }
}

impl<'a> RowColumns<'a, i32> {
    /// The columns with dictionary ids, or `None` when `ids` lacks one of the batch's names.
    fn with_ids(rows: &'a [NewRow<'a>], hashes: &'a [ChainHash], ids: &NameIds) -> Option<Self> {
        RowColumns::keyed(
            rows,
            hashes,
            |stream| ids.streams.get(stream).copied(),
            |name| ids.names.get(name).copied(),
        )
    }
}

impl<'a, K: ToSql + Sync> RowColumns<'a, K> {
    /// The columns, each stream sent as `stream_key(name)` and each actor and event type as
    /// `name_key(name)`; `None` when a key is `None`.
    fn keyed(
        rows: &'a [NewRow<'a>],
        hashes: &'a [ChainHash],
        stream_key: impl Fn(&'a str) -> Option<K>,
        name_key: impl Fn(&'a str) -> Option<K>,
    ) -> Option<Self> {
        assert_eq!(rows.len(), hashes.len(), "one chain value per row");
        let stored: Vec<(bool, &'a str)> = rows
            .iter()
            .map(|r| stored_command(r.stream, r.event.command_id.as_str()))
            .collect();
        Some(RowColumns {
            positions: rows.iter().map(|r| r.position as i64).collect(),
            streams: rows.iter().map(|r| stream_key(r.stream)).collect::<Option<_>>()?,
            versions: rows.iter().map(|r| version_i32(r.stream_version)).collect(),
            commands: stored.iter().map(|(_, c)| *c).collect(),
            tails: stored.iter().map(|(t, _)| *t).collect(),
            types: rows
                .iter()
                .map(|r| name_key(r.event.event_type.as_str()))
                .collect::<Option<_>>()?,
            schema_versions: rows.iter().map(|r| i32::from(r.event.schema_version)).collect(),
            occurred: rows.iter().map(|r| r.event.occurred_at_ms).collect(),
            recorded: rows.iter().map(|r| r.event.recorded_at_ms).collect(),
            actors: rows
                .iter()
                .map(|r| name_key(r.event.actor.as_str()))
                .collect::<Option<_>>()?,
            payloads: rows.iter().map(|r| r.event.payload.as_slice()).collect(),
            chains: hashes.iter().map(chain_tag).collect(),
        })
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 12] {
        [
            &self.positions,
            &self.streams,
            &self.versions,
            &self.commands,
            &self.tails,
            &self.types,
            &self.schema_versions,
            &self.occurred,
            &self.recorded,
            &self.actors,
            &self.payloads,
            &self.chains,
        ]
    }
}

/// The chain tag stored with each row (schema version 4): the first 8 bytes of the chain value
/// after the event, big-endian, as a `bigint`. The head row keeps the whole 32-byte value.
fn chain_tag(chain: &ChainHash) -> i64 {
    i64::from_be_bytes(chain[..8].try_into().expect("a chain value has 32 bytes"))
}

/// A stream version as stored (`integer`); the planner refuses versions above `i32::MAX`.
fn version_i32(version: u64) -> i32 {
    i32::try_from(version).expect("stream versions above i32::MAX are refused by the planner")
}

/// Decides each job against the stream versions and command ids found under the head lock,
/// assigning positions to the accepted ones. A job is all or nothing.
struct Planner<'a> {
    versions: HashMap<&'a str, u64>,
    commands: HashMap<(&'a str, &'a str), AppendResult>,
    /// The head the transaction starts at (what a call's required head is compared with).
    base: u64,
    next_position: u64,
    rows: Vec<NewRow<'a>>,
}

impl<'a> Planner<'a> {
    /// Whether every request of a call was committed before (its command id is in its stream):
    /// a retry, answered with the original positions whatever happened since.
    fn all_committed(&self, job: &'a [AppendRequest]) -> bool {
        job.iter().all(|r| {
            self.commands
                .contains_key(&(r.stream.as_str(), r.events[0].command_id.as_str()))
        })
    }

    /// Plans one call; `head`, when given, must be the transaction's starting head
    /// ([`EventStore::append_at_head`]), checked after the command ids as a version is.
    fn plan_job(&mut self, job: &'a [AppendRequest], head: Option<u64>) -> Result<Vec<AppendResult>, StoreError> {
        let mut versions: HashMap<&'a str, u64> = HashMap::new();
        let mut commands: HashMap<(&'a str, &'a str), AppendResult> = HashMap::new();
        let rows_before = self.rows.len();
        let position_before = self.next_position;
        let mut results = Vec::with_capacity(job.len());
        for request in job {
            let stream = request.stream.as_str();
            let command_id = request.events[0].command_id.as_str();
            let key = (stream, command_id);
            if let Some(original) = commands.get(&key).or_else(|| self.commands.get(&key)) {
                results.push(AppendResult {
                    deduplicated: true,
                    ..*original
                });
                continue;
            }
            if let Some(expected) = head.filter(|h| *h != self.base) {
                self.rows.truncate(rows_before);
                self.next_position = position_before;
                return Err(StoreError::HeadMoved {
                    expected,
                    actual: self.base,
                });
            }
            let current = *versions
                .get(stream)
                .or_else(|| self.versions.get(stream))
                .expect("every stream of the batch was looked up");
            if let ExpectedVersion::Exact(expected) = request.expected {
                if expected != current {
                    self.rows.truncate(rows_before);
                    self.next_position = position_before;
                    return Err(StoreError::Conflict {
                        stream: stream.to_string(),
                        expected: request.expected,
                        actual: current,
                    });
                }
            }
            let last_version = current + request.events.len() as u64;
            if last_version > i32::MAX as u64 {
                self.rows.truncate(rows_before);
                self.next_position = position_before;
                return Err(StoreError::Limit {
                    what: format!("version of stream {stream:?} after this append"),
                    actual: last_version,
                    max: i32::MAX as u64,
                });
            }
            let first_position = self.next_position;
            for (i, event) in request.events.iter().enumerate() {
                self.rows.push(NewRow {
                    position: self.next_position,
                    stream,
                    stream_version: current + 1 + i as u64,
                    event,
                });
                self.next_position += 1;
            }
            let result = AppendResult {
                first_position,
                last_position: self.next_position - 1,
                stream_version: current + request.events.len() as u64,
                deduplicated: false,
            };
            versions.insert(stream, result.stream_version);
            commands.insert(key, result);
            results.push(result);
        }
        self.versions.extend(versions);
        self.commands.extend(commands);
        Ok(results)
    }
}

async fn commit_batch(
    shared: &Shared,
    calls: &Calls<'_>,
    cache: &mut WriterCache,
    is_retry: bool,
) -> Result<Vec<Result<Vec<AppendResult>, StoreError>>, BatchError> {
    let (jobs, vaults) = (calls.requests, calls.vaults);
    let sql = &shared.sql;
    let client = shared.writer_pool.get().await.map_err(|e| {
        if pool_is_connection_error(&e) {
            BatchError::Connection(pool_err("append: getting a connection", e).to_string())
        } else {
            BatchError::Other(pool_err("append: getting a connection", e))
        }
    })?;
    let prepare = |q: &str| {
        let client = &client;
        let q = q.to_string();
        async move { client.prepare_cached(&q).await }
    };
    let (
        begin,
        lock_head,
        stream_versions,
        find_commands,
        write_rows,
        vault_rows,
        erased_keys,
        commit,
        append_fast,
        append_fast_plain,
        append_ids,
    ) = tokio::try_join!(
        prepare(&sql.begin),
        prepare(&sql.lock_head),
        prepare(&sql.stream_versions),
        prepare(&sql.find_commands),
        prepare(&sql.write_rows),
        prepare(&sql.vault_rows),
        prepare(&sql.erased_keys),
        prepare(&sql.commit),
        prepare(&sql.append_fast),
        prepare(&sql.append_fast_plain),
        prepare(&sql.append_ids),
    )
    .map_err(|e| BatchError::from_pg("append: preparing statements", e))?;

    // The distinct streams and (stream, command id) pairs of the batch.
    let mut streams: Vec<&str> = Vec::new();
    let mut seen_streams: HashSet<&str> = HashSet::new();
    let mut command_streams: Vec<&str> = Vec::new();
    let mut command_ids: Vec<&str> = Vec::new();
    let mut command_stored: Vec<&str> = Vec::new();
    let mut command_tails: Vec<bool> = Vec::new();
    let mut seen_commands: HashSet<(&str, &str)> = HashSet::new();
    for job in jobs {
        for request in job.iter() {
            let stream = request.stream.as_str();
            if seen_streams.insert(stream) {
                streams.push(stream);
            }
            let command_id = request.events[0].command_id.as_str();
            if seen_commands.insert((stream, command_id)) {
                let (tail, stored) = stored_command(stream, command_id);
                command_streams.push(stream);
                command_ids.push(command_id);
                command_stored.push(stored);
                command_tails.push(tail);
            }
        }
    }

    // Pipelined: BEGIN, the head lock, then the lookups. They run in this order on the server, and
    // the lookups (separate statements, so fresh snapshots in READ COMMITTED) see everything
    // committed before the lock was granted.
    let outcome = async {
        let fast = try_fast_commit(
            shared,
            &client,
            [&append_fast, &append_fast_plain, &append_ids],
            calls,
            cache,
        )
        .await?;
        if let Some(outcomes) = fast {
            return Ok(outcomes);
        }
        let version_params: [&(dyn ToSql + Sync); 1] = [&streams];
        let command_params: [&(dyn ToSql + Sync); 4] =
            [&command_streams, &command_ids, &command_stored, &command_tails];
        let sealing: Vec<&str> = vaults.iter().flat_map(|v| v.sealing_ids()).collect();
        let sealing_params: [&(dyn ToSql + Sync); 1] = [&sealing];
        let (_, head, version_rows, command_rows, erased_rows) = tokio::try_join!(
            client.execute(&begin, &[]),
            client.query_one(&lock_head, &[]),
            client.query(&stream_versions, &version_params),
            client.query(&find_commands, &command_params),
            query_if(
                &client,
                &erased_keys,
                (!sealing.is_empty()).then_some(&sealing_params[..])
            ),
        )
        .map_err(|e| BatchError::from_pg("append: locking the head", e))?;
        let erased: HashSet<String> = erased_rows.iter().map(|r| r.get(0)).collect();
        let head_position: i64 = head.get(0);
        let head_chain: Vec<u8> = head.get(1);
        let head_chain: ChainHash = head_chain.as_slice().try_into().map_err(|_| {
            BatchError::Other(StoreError::Corrupt {
                file: format!("{}.head", sql.schema),
                offset: 0,
                detail: format!("chain_hash has {} bytes, expected 32", head_chain.len()),
            })
        })?;
        assert!(head_position >= 0, "head position {head_position} is negative");
        let mut planner = Planner {
            versions: HashMap::with_capacity(streams.len()),
            commands: HashMap::with_capacity(command_rows.len()),
            base: head_position as u64,
            next_position: head_position as u64 + 1,
            rows: Vec::new(),
        };
        for row in &version_rows {
            let stream: &str = row.get(0);
            let version: Option<i64> = row.get(1);
            let stream = *seen_streams.get(stream).expect("lookup returns the streams asked for");
            planner.versions.insert(stream, version.unwrap_or(0) as u64);
        }
        for row in &command_rows {
            let stream: &str = row.get(0);
            let command_id: &str = row.get(1);
            let key = *seen_commands
                .get(&(stream, command_id))
                .expect("lookup returns the command ids asked for");
            let (first, last, version): (i64, i64, i64) = (row.get(2), row.get(3), row.get(4));
            planner.commands.insert(
                key,
                AppendResult {
                    first_position: first as u64,
                    last_position: last as u64,
                    stream_version: version as u64,
                    deduplicated: true,
                },
            );
        }
        let outcomes: Vec<_> = jobs
            .iter()
            .zip(calls.heads)
            .zip(vaults)
            .map(|((job, head), vault)| match erased_key_of(vault, &erased) {
                // Sealed under a key an erasure destroyed, committed before this lock: refused
                // (nothing of the job is written), unless the job committed before (a retry).
                Some(key_id) if !planner.all_committed(job) => Err(StoreError::KeyErased { key_id }),
                _ => planner.plan_job(job, *head),
            })
            .collect();
        let rows = std::mem::take(&mut planner.rows);
        let found_committed = outcomes
            .iter()
            .any(|o| o.as_ref().is_ok_and(|results| results.iter().any(|r| r.deduplicated)));
        if rows.is_empty() && is_retry && found_committed {
            // The lost attempt committed, but its session may have been cut while the server
            // waited for the synchronous standby, and such a commit is visible here before it
            // is replicated. Writing (a no-op update of the head row, already locked) and
            // committing waits for the standby to confirm everything up to this commit, so the
            // command is acknowledged only once it is as durable as a first-time append.
            let (_, _) = tokio::try_join!(client.execute(&sql.touch_head, &[]), client.execute(&commit, &[]),)
                .map_err(|e| BatchError::from_pg("append: confirming a retried commit", e))?;
            let at = (head_position, head_chain);
            cache.learn(at, at, &planner.versions);
            return Ok(outcomes);
        }
        if rows.is_empty() {
            client
                .batch_execute("ROLLBACK")
                .await
                .map_err(|e| BatchError::from_pg("append: ending a transaction with nothing to write", e))?;
            let at = (head_position, head_chain);
            cache.learn(at, at, &planner.versions);
            return Ok(outcomes);
        }
        // The keys of the jobs that commit events, in this transaction (a refused or fully
        // deduplicated job creates none).
        let keyed: Vec<&crate::vault::VaultWrite> = outcomes
            .iter()
            .zip(vaults)
            .filter(|(o, _)| o.as_ref().is_ok_and(|r| r.iter().any(|r| !r.deduplicated)))
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
            .collect();
        let keys = vault::VaultRows::new(&keyed);
        // The chain, in position order, from the head's value.
        let mut chain = head_chain;
        let mut hashes: Vec<ChainHash> = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                row.position,
                head_position as u64 + 1 + i as u64,
                "positions are gapless"
            );
            chain = chain_next(&chain, &recorded_from(row));
            hashes.push(chain);
        }
        let new_head = rows.last().expect("rows is not empty").position as i64;
        let chain_bytes: &[u8] = &chain;
        if rows.len() >= COPY_ROWS_MIN {
            // Bulk: intern the names first (one round trip), then COPY the rows with their ids.
            let mut stream_names: Vec<&str> = Vec::new();
            let mut other_names: Vec<&str> = Vec::new();
            for row in &rows {
                stream_names.push(row.stream);
                other_names.push(row.event.actor.as_str());
                other_names.push(row.event.event_type.as_str());
            }
            let stream_params: [&(dyn ToSql + Sync); 1] = [&stream_names];
            let name_params: [&(dyn ToSql + Sync); 1] = [&other_names];
            let (stream_rows, name_rows) = tokio::try_join!(
                client.query(sql.intern_streams.as_str(), &stream_params),
                client.query(sql.intern_names.as_str(), &name_params),
            )
            .map_err(|e| BatchError::from_pg("append: interning stream and actor names", e))?;
            let ids = |rows: &[Row]| -> HashMap<String, i32> {
                rows.iter()
                    .map(|r| (r.get::<_, String>(1), r.get::<_, i32>(0)))
                    .collect()
            };
            let (stream_ids, name_ids) = (ids(&stream_rows), ids(&name_rows));
            let id_of = |map: &HashMap<String, i32>, name: &str| -> Result<i32, BatchError> {
                map.get(name).copied().ok_or_else(|| {
                    BatchError::Other(StoreError::Database(format!(
                        "append: the name {name:?} was not interned (no id returned); nothing was committed"
                    )))
                })
            };
            let sink = client
                .copy_in(&sql.copy_in)
                .await
                .map_err(|e| BatchError::from_pg("append: COPY into events", e))?;
            let writer = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT4,
                    Type::INT4,
                    Type::INT4,
                    Type::INT4,
                    Type::INT4,
                    Type::BOOL,
                    Type::TEXT,
                    Type::BYTEA,
                    Type::INT8,
                ],
            );
            tokio::pin!(writer);
            for (row, hash) in rows.iter().zip(&hashes) {
                let position = row.position as i64;
                let stream_id = id_of(&stream_ids, row.stream)?;
                let version = version_i32(row.stream_version);
                let actor_id = id_of(&name_ids, &row.event.actor)?;
                let type_id = id_of(&name_ids, &row.event.event_type)?;
                let schema_version = i32::from(row.event.schema_version);
                let (tail, command) = stored_command(row.stream, &row.event.command_id);
                let tag = chain_tag(hash);
                writer
                    .as_mut()
                    .write(&[
                        &position,
                        &row.event.occurred_at_ms,
                        &row.event.recorded_at_ms,
                        &stream_id,
                        &version,
                        &actor_id,
                        &type_id,
                        &schema_version,
                        &tail,
                        &command,
                        &row.event.payload.as_slice(),
                        &tag,
                    ])
                    .await
                    .map_err(|e| BatchError::from_pg("append: COPY into events", e))?;
            }
            let copied = writer
                .as_mut()
                .finish()
                .await
                .map_err(|e| BatchError::from_pg("append: COPY into events", e))?;
            assert_eq!(copied, rows.len() as u64, "COPY wrote every row");
            // Prepared before the pipeline: an unprepared statement would wait for its parse
            // round trip while the keys statement behind it ran first, before the head moved.
            let advance_head = client
                .prepare_cached(&sql.advance_head)
                .await
                .map_err(|e| BatchError::from_pg("append: preparing the head update", e))?;
            let advance_params: [&(dyn ToSql + Sync); 3] = [&new_head, &chain_bytes, &head_position];
            let key_params = keys.params(&new_head);
            let (advanced, _, _) = tokio::try_join!(
                client.query(&advance_head, &advance_params),
                insert_keys(&client, &vault_rows, &keys, &key_params),
                client.execute(&commit, &[]),
            )
            .map_err(|e| BatchError::from_pg("append: commit", e))?;
            check_advanced(advanced.len())?;
        } else {
            // Under the lock the head is `head_position` and the planner excluded existing
            // command ids, so the statement's own checks pass and it writes every row.
            let columns = RowColumns::new(&rows, &hashes);
            let row_count = rows.len() as i64;
            let params = write_params(&columns, &head_position, &new_head, &chain_bytes, &row_count);
            let key_params = keys.params(&new_head);
            let (advanced, _, _) = tokio::try_join!(
                client.query(&write_rows, &params),
                insert_keys(&client, &vault_rows, &keys, &key_params),
                client.execute(&commit, &[]),
            )
            .map_err(|e| BatchError::from_pg("append: insert and commit", e))?;
            check_advanced(advanced.len())?;
        }
        cache.learn((head_position, head_chain), (new_head, chain), &planner.versions);
        committed(shared, new_head, jobs.len(), rows.len());
        Ok(outcomes)
    }
    .await;
    if outcome.is_err() {
        cache.forget();
    }
    if outcome.is_err() && !client.is_closed() {
        // Leave no transaction open on a pooled connection; if even that fails, keep the
        // connection out of the pool.
        if client.batch_execute("ROLLBACK").await.is_err() {
            let _ = deadpool_postgres::Object::take(client);
        }
    }
    outcome
}

/// After a commit: wake the subscriptions, count.
fn committed(shared: &Shared, new_head: i64, calls: usize, events: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    shared.wake.send_modify(|v| *v = new_head as u64);
    shared.committed_head.send_replace(new_head as u64);
    let stats = &shared.stats;
    stats.transactions.fetch_add(1, Relaxed);
    stats.calls.fetch_add(calls as u64, Relaxed);
    stats.events.fetch_add(events as u64, Relaxed);
}

/// Sends the vault statement when there are keys or links to insert (pipelined with the
/// statements around it).
async fn insert_keys(
    client: &deadpool_postgres::Object,
    statement: &tokio_postgres::Statement,
    keys: &vault::VaultRows<'_>,
    params: &[&(dyn ToSql + Sync)],
) -> Result<(), tokio_postgres::Error> {
    if !keys.is_empty() {
        client.query(statement, params).await?;
    }
    Ok(())
}

/// The one-statement path, for a process that wrote last: one execution of [`append_fast_sql`]
/// outside any explicit transaction, so the whole exchange is `Bind`/`Execute`/`Sync` and the
/// `Sync` commits. The statement writes the rows, advances the head and inserts the batch's customer keys only if the head is still the
/// cached one, every stream is at the version assumed (cached, or else the call's expected
/// version) and none of the batch's command ids exists. Returns `None` (nothing written) when
/// the path does not apply or the server-side check failed; the caller then runs the full path,
/// which decides from freshly read state. Only batches in which every call appends (no conflict,
/// no duplicate by the cached state) take it, so cached state never decides an outcome alone.
async fn try_fast_commit(
    shared: &Shared,
    client: &deadpool_postgres::Object,
    [append_fast, append_fast_plain, append_ids]: [&tokio_postgres::Statement; 3],
    calls: &Calls<'_>,
    cache: &mut WriterCache,
) -> Result<Option<Vec<Result<Vec<AppendResult>, StoreError>>>, BatchError> {
    let (jobs, vaults) = (calls.requests, calls.vaults);
    if cache.skip > 0 {
        cache.skip -= 1;
        return Ok(None);
    }
    let Some((head_position, head_chain)) = cache.head else {
        return Ok(None);
    };
    let mut planner = Planner {
        versions: HashMap::new(),
        commands: HashMap::new(),
        base: head_position as u64,
        next_position: head_position as u64 + 1,
        rows: Vec::new(),
    };
    // A stream the writer has not seen is assumed to be at the version the call expects (a new
    // complaint's stream: 0); the statement checks every stream's version on the server.
    for job in jobs {
        for request in job.iter() {
            let version = match (cache.versions.get(request.stream.as_str()), request.expected) {
                (Some(version), _) => *version,
                (None, ExpectedVersion::Exact(expected)) => expected,
                (None, ExpectedVersion::Any) => return Ok(None),
            };
            planner.versions.entry(request.stream.as_str()).or_insert(version);
        }
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    // A call whose required head is not the remembered one is decided by the full path (the
    // remembered head may be stale; the statement's head check makes it the true one).
    for (job, head) in jobs.iter().zip(calls.heads) {
        match planner.plan_job(job, *head) {
            Ok(results) if results.iter().all(|r| !r.deduplicated) => outcomes.push(Ok(results)),
            _ => return Ok(None),
        }
    }
    let rows = std::mem::take(&mut planner.rows);
    if rows.is_empty() || rows.len() >= COPY_ROWS_MIN {
        return Ok(None);
    }
    let mut chain = head_chain;
    let mut hashes: Vec<ChainHash> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.position,
            head_position as u64 + 1 + i as u64,
            "positions are gapless"
        );
        chain = chain_next(&chain, &recorded_from(row));
        hashes.push(chain);
    }
    let new_head = rows.last().expect("rows is not empty").position as i64;
    let chain_bytes: &[u8] = &chain;
    let row_count = rows.len() as i64;
    // Every job of this batch appends, so every job's keys go in (only if its events do).
    let keyed: Vec<&crate::vault::VaultWrite> = vaults.iter().copied().filter(|v| !v.is_empty()).collect();
    let keys = vault::VaultRows::new(&keyed);
    let sealing: Vec<&str> = vaults.iter().flat_map(|v| v.sealing_ids()).collect();
    let by_id = if keys.is_empty() {
        RowColumns::with_ids(&rows, &hashes, &cache.ids)
    } else {
        None
    };
    // One statement, outside any explicit transaction: its implicit transaction commits at the
    // `Sync` that ends the exchange, and the answer arrives only after that commit.
    let result = match &by_id {
        Some(columns) => {
            let params = write_params(columns, &head_position, &new_head, &chain_bytes, &row_count);
            client.query(append_ids, &with_sealing(&params, &sealing)).await
        }
        None => {
            let columns = RowColumns::new(&rows, &hashes);
            let params = write_params(&columns, &head_position, &new_head, &chain_bytes, &row_count);
            if keys.is_empty() {
                client.query(append_fast_plain, &with_sealing(&params, &sealing)).await
            } else {
                let [k_id, k_owner, k_secret, k_sum, l_a, l_b, _] = keys.params(&new_head);
                let mut all = with_sealing(&params, &sealing);
                all.extend_from_slice(&[k_id, k_owner, k_secret, k_sum, l_a, l_b]);
                client.query(append_fast, &all).await
            }
        }
    };
    match result {
        Ok(answer) if answer.len() == 1 && answer[0].get::<_, i64>(0) == new_head => {
            cache.learn((head_position, head_chain), (new_head, chain), &planner.versions);
            use std::sync::atomic::Ordering::Relaxed;
            if by_id.is_some() {
                shared.stats.id_transactions.fetch_add(1, Relaxed);
            } else if cache.ids.learn(&answer[0], 2).is_err() {
                // Committed all the same; only the ids are not remembered (the next batch
                // sends names again).
                cache.ids.clear();
            }
            committed(shared, new_head, jobs.len(), rows.len());
            shared.stats.fast_transactions.fetch_add(1, Relaxed);
            Ok(Some(outcomes))
        }
        Ok(_) => {
            // Another process wrote, or a command id exists: nothing was written.
            cache.forget();
            cache.skip = FAST_PATH_BACKOFF_BATCHES;
            shared
                .stats
                .fast_misses
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
        Err(e) if is_connection_error(&e) => Err(BatchError::from_pg("append: insert and commit", e)),
        Err(_) => {
            // The statement failed: its implicit transaction rolled back, nothing was written.
            cache.forget();
            cache.skip = FAST_PATH_BACKOFF_BATCHES;
            shared
                .stats
                .fast_misses
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
    }
}

/// The fast path's parameters $1..$17: the write statement's 16 and the sealing key ids.
fn with_sealing<'b>(
    params: &[&'b (dyn ToSql + Sync); 16],
    sealing: &'b (dyn ToSql + Sync),
) -> Vec<&'b (dyn ToSql + Sync)> {
    let mut all: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(23);
    all.extend_from_slice(params);
    all.push(sealing);
    all
}

/// A query sent only when it has parameters (pipelined with the statements around it); no rows
/// otherwise.
async fn query_if(
    client: &deadpool_postgres::Object,
    statement: &tokio_postgres::Statement,
    params: Option<&[&(dyn ToSql + Sync)]>,
) -> Result<Vec<Row>, tokio_postgres::Error> {
    match params {
        Some(params) => client.query(statement, params).await,
        None => Ok(Vec::new()),
    }
}

/// The first key a job's events are sealed under that is in `erased`.
fn erased_key_of(vault: &crate::vault::VaultWrite, erased: &HashSet<String>) -> Option<String> {
    if erased.is_empty() {
        return None;
    }
    vault.sealing_ids().find(|id| erased.contains(*id)).map(str::to_owned)
}

/// The 16 parameters of the write statement.
fn write_params<'b, K: ToSql + Sync>(
    columns: &'b RowColumns<'_, K>,
    head_position: &'b i64,
    new_head: &'b i64,
    chain: &'b &[u8],
    row_count: &'b i64,
) -> [&'b (dyn ToSql + Sync); 16] {
    let [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11] = columns.params();
    [
        c0,
        c1,
        c2,
        c3,
        c4,
        c5,
        c6,
        c7,
        c8,
        c9,
        c10,
        c11,
        head_position,
        new_head,
        chain,
        row_count,
    ]
}

fn check_advanced(rows: usize) -> Result<(), BatchError> {
    if rows == 1 {
        Ok(())
    } else {
        // Impossible while the head row is locked; never commit over it.
        Err(BatchError::Other(StoreError::Database(
            "append: the head row moved while locked (no row updated); nothing was committed".to_string(),
        )))
    }
}

fn recorded_from(row: &NewRow<'_>) -> RecordedEvent {
    RecordedEvent {
        position: row.position,
        stream: row.stream.to_string(),
        stream_version: row.stream_version,
        event_type: row.event.event_type.clone(),
        schema_version: row.event.schema_version,
        occurred_at_ms: row.event.occurred_at_ms,
        recorded_at_ms: row.event.recorded_at_ms,
        actor: row.event.actor.clone(),
        command_id: row.event.command_id.clone(),
        payload: row.event.payload.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading.

fn event_from_row(schema: &str, row: &Row) -> Result<(RecordedEvent, i64), StoreError> {
    let position: i64 = row.get(0);
    let stream_version: i64 = row.get(2);
    let schema_version: i32 = row.get(6);
    let corrupt = |detail: String| StoreError::Corrupt {
        file: format!("{schema}.events"),
        offset: position.max(0) as u64,
        detail: format!("row at position {position}: {detail}"),
    };
    if position < 1 {
        return Err(corrupt("position below 1".to_string()));
    }
    if stream_version < 1 {
        return Err(corrupt(format!("stream version {stream_version} below 1")));
    }
    let schema_version =
        u16::try_from(schema_version).map_err(|_| corrupt(format!("schema version {schema_version} out of range")))?;
    let name = |index: usize, what: &str, table: &str| -> Result<String, StoreError> {
        row.get::<_, Option<String>>(index)
            .ok_or_else(|| corrupt(format!("its {what} id has no row in {schema}.{table}")))
    };
    let stream = name(1, "stream", "streams")?;
    let command_tail: bool = row.get(3);
    let command_id: String = row.get(4);
    let command_id = if command_tail {
        format!("{stream}/{command_id}")
    } else {
        command_id
    };
    Ok((
        RecordedEvent {
            position: position as u64,
            stream_version: stream_version as u64,
            command_id,
            event_type: name(5, "event type", "names")?,
            schema_version,
            occurred_at_ms: row.get(7),
            recorded_at_ms: row.get(8),
            actor: name(9, "actor", "names")?,
            payload: row.get(10),
            stream,
        },
        row.get(11),
    ))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Runs one read statement on a pooled connection, retrying on a fresh connection when the session
/// was lost (a read has no side effect, so the retry is always safe).
async fn query_rows(
    shared: &Shared,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    context: &str,
) -> Result<Vec<Row>, StoreError> {
    let mut delays = reconnect_delays(&shared.options);
    loop {
        let outcome = async {
            let client = shared
                .pool
                .get()
                .await
                .map_err(|e| (pool_is_connection_error(&e), pool_err(context, e)))?;
            let stmt = client
                .prepare_cached(sql)
                .await
                .map_err(|e| (is_connection_error(&e), db_err(context, &e)))?;
            client
                .query(&stmt, params)
                .await
                .map_err(|e| (is_connection_error(&e), db_err(context, &e)))
        }
        .await;
        match outcome {
            Ok(rows) => return Ok(rows),
            Err((true, e)) => match delays.next() {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(e),
            },
            Err((false, e)) => return Err(e),
        }
    }
}

/// Reads up to `max` events from `from_position`. The first [`TAIL_READ_MAX`] rows come from the
/// probing statement (`read_tail`, names by index per row), which is all a read at the log's end
/// (the engine's catch-up, a live subscription) needs; only when that many come back does the
/// rest come from the joining statement (`read_all`), which is cheaper for bulk reads. Both
/// answer the same rows. The two parts may see two snapshots; each is a gapless prefix of the
/// log (docs/postgres.md) and the second's holds the first's, so the answer is still the log's
/// events from `from_position` in order, and a short answer still means the end of what the
/// last query's snapshot held.
async fn read_all_on(shared: &Shared, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
    let max = max.min(READ_BATCH_MAX);
    if max == 0 {
        return Ok(Vec::new());
    }
    let tail = max.min(TAIL_READ_MAX);
    let mut events = read_rows(shared, &shared.sql.read_tail, from_position, tail).await?;
    if events.len() == tail && max > tail {
        // From the last row read, not from `from_position + tail`: a read from 0 starts at 1,
        // and a damaged log's first rows may be missing (check_gapless then names the gap).
        let next = events.last().expect("the tail read returned rows").position + 1;
        events.extend(read_rows(shared, &shared.sql.read_all, next, max - tail).await?);
    }
    check_gapless(&shared.sql.schema, &events)?;
    Ok(events)
}

/// One read statement (`read_tail` or `read_all`) from `from_position`, at most `max` rows.
async fn read_rows(
    shared: &Shared,
    sql: &str,
    from_position: u64,
    max: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let context = format!("read_all from position {from_position}");
    let rows = query_rows(shared, sql, &[&to_i64(from_position), &(max as i64)], &context).await?;
    rows.iter()
        .map(|row| event_from_row(&shared.sql.schema, row).map(|(e, _)| e))
        .collect()
}

/// Fails on a hole in a read's positions (damage: positions are gapless).
fn check_gapless(schema: &str, events: &[RecordedEvent]) -> Result<(), StoreError> {
    for pair in events.windows(2) {
        let (prev, next) = (pair[0].position, pair[1].position);
        if next != prev + 1 {
            return Err(StoreError::Corrupt {
                file: format!("{schema}.events"),
                offset: prev + 1,
                detail: format!("position {} missing (next row has {next})", prev + 1),
            });
        }
    }
    Ok(())
}

#[async_trait]
impl EventStore for PgStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.append_one(stream, expected, events, None).await
    }

    /// Refused unless the transaction starts at `head` (checked under the head lock by the
    /// full path, or by the one-statement path's own head check), whoever wrote since.
    async fn append_at_head(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        head: u64,
    ) -> Result<AppendResult, StoreError> {
        self.append_one(stream, expected, events, Some(head)).await
    }

    async fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError> {
        let count = requests.len();
        let results = self.submit(requests).await?;
        assert_eq!(results.len(), count);
        Ok(results)
    }

    async fn read_stream(&self, stream: &str, from_version: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let max = max.min(READ_BATCH_MAX);
        if max == 0 {
            return Ok(Vec::new());
        }
        let shared = &self.shared;
        let context = format!("read_stream {stream:?} from version {from_version}");
        let params: [&(dyn ToSql + Sync); 3] = [&stream, &to_i64(from_version), &(max as i64)];
        let rows = query_rows(shared, &shared.sql.read_stream, &params, &context).await?;
        rows.iter()
            .map(|row| event_from_row(&shared.sql.schema, row).map(|(e, _)| e))
            .collect()
    }

    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        read_all_on(&self.shared, from_position, max).await
    }

    /// A `LIMIT` query answers short only at the end of what its snapshot holds.
    fn short_read_is_end(&self) -> bool {
        true
    }

    /// `append_at_head` refuses a stale head (see [`Planner::plan_job`]).
    fn head_check(&self) -> HeadCheck {
        HeadCheck::AtAppend
    }

    async fn subscribe(&self, from_position: u64) -> Result<Subscription, StoreError> {
        self.ensure_listener();
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_BUFFER_MAX);
        // Subscribe to wake-ups before the first read so that no commit falls between them.
        let wake = self.shared.wake.subscribe();
        let alive = self.alive.subscribe();
        tokio::spawn(subscription_loop(
            self.shared.clone(),
            from_position.max(1),
            wake,
            alive,
            tx,
        ));
        Ok(Subscription::new(rx))
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        let rows = query_rows(&self.shared, &self.shared.sql.head, &[], "head_position").await?;
        let row = rows.first().ok_or_else(|| {
            StoreError::Database(format!(
                "the head row of schema {:?} is missing",
                self.shared.sql.schema
            ))
        })?;
        let position: i64 = row.get(0);
        Ok(position as u64)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let context = format!("stream_version of {stream:?}");
        let rows = query_rows(&self.shared, &self.shared.sql.stream_version, &[&stream], &context).await?;
        let row = rows.first().expect("an aggregate returns one row");
        let version: i64 = row.get(0);
        Ok(version as u64)
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify_on(&self.shared).await
    }
}

/// Reads every row in position order inside one snapshot and recomputes everything.
async fn verify_on(shared: &Shared) -> Result<VerifyReport, StoreError> {
    let schema = &shared.sql.schema;
    let mut client = shared.pool.get().await.map_err(|e| pool_err("verify", e))?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(|e| db_err("verify: begin", &e))?;
    let head = tx
        .query_one(&shared.sql.head, &[])
        .await
        .map_err(|e| db_err("verify: head", &e))?;
    let head_position: i64 = head.get(0);
    let head_chain: Vec<u8> = head.get(1);
    let stmt = tx
        .prepare(&shared.sql.read_all)
        .await
        .map_err(|e| db_err("verify: prepare", &e))?;
    let mut chain = CHAIN_GENESIS;
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut next: u64 = 1;
    let mut bytes: u64 = 0;
    loop {
        let rows = tx
            .query(&stmt, &[&to_i64(next), &VERIFY_READ_BATCH])
            .await
            .map_err(|e| db_err(&format!("verify: reading from position {next}"), &e))?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let (event, stored) = event_from_row(schema, row)?;
            if event.position != next {
                return Err(StoreError::ChainBroken {
                    position: next,
                    detail: format!(
                        "position {next} is missing from {schema}.events (next row has {})",
                        event.position
                    ),
                });
            }
            let version = versions.entry(event.stream.clone()).or_insert(0);
            if event.stream_version != *version + 1 {
                return Err(StoreError::ChainBroken {
                    position: next,
                    detail: format!(
                        "stream {:?} jumps from version {} to {}",
                        event.stream, version, event.stream_version
                    ),
                });
            }
            *version = event.stream_version;
            chain = chain_next(&chain, &event);
            if stored != chain_tag(&chain) {
                return Err(StoreError::ChainBroken {
                    position: next,
                    detail: format!(
                        "stored chain tag {:016x} differs from the recomputed {:016x} (chain value {}; the row or an earlier one was changed)",
                        stored,
                        chain_tag(&chain),
                        crate::chain::to_hex(&chain)
                    ),
                });
            }
            bytes += event.payload.len() as u64;
            next += 1;
        }
    }
    let last = next - 1;
    if last != head_position as u64 {
        return Err(StoreError::ChainBroken {
            position: last.min(head_position as u64) + 1,
            detail: format!("{schema}.head says position {head_position}, the last event is at {last}"),
        });
    }
    if head_chain.as_slice() != chain.as_slice() {
        return Err(StoreError::ChainBroken {
            position: last,
            detail: format!(
                "{schema}.head holds chain hash {}, the events give {}",
                hex(&head_chain),
                crate::chain::to_hex(&chain)
            ),
        });
    }
    tx.commit().await.map_err(|e| db_err("verify: end", &e))?;
    Ok(VerifyReport {
        events: last,
        head_position: last,
        streams: versions.len() as u64,
        chain_head: chain,
        bytes,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Subscriptions.

async fn subscription_loop(
    shared: Arc<Shared>,
    mut next: u64,
    mut wake: watch::Receiver<u64>,
    mut alive: watch::Receiver<()>,
    tx: mpsc::Sender<Result<RecordedEvent, StoreError>>,
) {
    let poll = Duration::from_millis(shared.options.poll_interval_ms.max(1));
    let mut failures = 0u32;
    loop {
        if tx.is_closed() || alive.has_changed().is_err() {
            return;
        }
        wake.borrow_and_update();
        match read_all_on(&shared, next, SUBSCRIPTION_READ_BATCH_MAX).await {
            Ok(events) => {
                failures = 0;
                if events.is_empty() {
                    tokio::select! {
                        changed = wake.changed() => if changed.is_err() { return },
                        _ = tokio::time::sleep(poll) => {},
                        _ = tx.closed() => return,
                        _ = alive.changed() => return,
                    }
                    continue;
                }
                for event in events {
                    assert_eq!(event.position, next, "subscription reads are gapless");
                    next += 1;
                    if tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                failures += 1;
                if failures >= SUBSCRIPTION_READ_FAILURES_MAX {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                let backoff = Duration::from_millis((50u64 << failures.min(5)).min(1000));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {},
                    _ = tx.closed() => return,
                    _ = alive.changed() => return,
                }
            }
        }
    }
}

/// Tells other processes about this process's commits: `pg_notify` on the store's channel with
/// the new head, sent after the commit from a session of its own, so the writer's transactions
/// carry no notification work (PostgreSQL queues notifications under a global lock at commit).
/// The session is dedicated (not pooled) so it can run with `synchronous_commit = off` for the
/// whole session (a notification's transaction holds no data, so it need not wait for a WAL
/// flush) and send one prepared statement per notification: one `Bind`/`Execute`/`Sync` instead
/// of a four-statement simple query (`BEGIN; SET LOCAL …; SELECT pg_notify(…); COMMIT`), which
/// cost 179 against 76 µs of server CPU per notification in a pgbench probe. Commits that follow
/// each other while a notification is being sent are covered by the next one (the watch channel
/// keeps the latest head). A lost notification is covered by the subscribers' polling
/// (`poll_interval_ms`); a lost session is reconnected at the next commit. Ends when the store is
/// dropped.
async fn notifier_loop(config: tokio_postgres::Config, channel: String, mut heads: watch::Receiver<u64>) {
    let mut session: Option<(tokio_postgres::Client, tokio_postgres::Statement)> = None;
    while heads.changed().await.is_ok() {
        let head = *heads.borrow_and_update();
        if session.as_ref().is_none_or(|(client, _)| client.is_closed()) {
            session = notifier_session(&config).await;
            if session.is_none() {
                tokio::time::sleep(Duration::from_millis(RECONNECT_DELAY_MIN_MS)).await;
                continue;
            }
        }
        let (client, statement) = session.as_ref().expect("connected above");
        if client.execute(statement, &[&channel, &head.to_string()]).await.is_err() {
            session = None;
        }
    }
}

/// The notifier's session: `synchronous_commit = off` for it alone, `pg_notify` prepared.
async fn notifier_session(
    config: &tokio_postgres::Config,
) -> Option<(tokio_postgres::Client, tokio_postgres::Statement)> {
    let (client, connection) = config.connect(NoTls).await.ok()?;
    spawn_driver(connection);
    client.batch_execute("SET synchronous_commit = off").await.ok()?;
    let statement = client.prepare("SELECT pg_notify($1, $2)").await.ok()?;
    Some((client, statement))
}

/// Holds a LISTEN connection and turns notifications of commits by other processes into wake-ups;
/// reconnects when the connection drops (subscriptions poll meanwhile).
async fn listener_loop(shared: Arc<Shared>) {
    let mut backoff_ms = 100u64;
    loop {
        if let Ok((client, mut connection)) = shared.pg_config.connect(NoTls).await {
            let wake = shared.clone();
            let driver = tokio::spawn(async move {
                loop {
                    match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        Some(Ok(AsyncMessage::Notification(n))) => {
                            let head = n.payload().parse::<u64>().unwrap_or(0);
                            wake.wake.send_modify(|v| *v = (*v).max(head));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => return,
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {}", quote_ident(&shared.sql.channel)))
                .await
                .is_ok()
            {
                backoff_ms = 100;
                // Anything committed while we were not listening is picked up by this wake-up.
                shared.wake.send_modify(|_| {});
            }
            let _ = driver.await;
            drop(client);
        }
        tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
        backoff_ms = (backoff_ms * 2).min(2000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Sql {
        /// The statements the writer's sessions run under `force_generic_plan` (all but
        /// `BEGIN`, `COMMIT` and the `COPY`, which have no plan), by field name. The pattern
        /// names every field, so a new statement cannot be added to `Sql` without deciding here
        /// whether the writer runs it.
        fn write_statements(&self) -> Vec<(&'static str, &str)> {
            let Sql {
                schema: _,
                channel: _,
                begin: _,
                lock_head,
                stream_versions,
                find_commands,
                write_rows,
                append_fast,
                append_fast_plain,
                append_ids,
                intern_streams,
                intern_names,
                vault_rows,
                erased_keys,
                copy_in: _,
                advance_head,
                touch_head,
                commit: _,
                read_all: _,
                read_tail: _,
                read_stream: _,
                head: _,
                stream_version: _,
            } = self;
            vec![
                ("lock_head", lock_head),
                ("stream_versions", stream_versions),
                ("find_commands", find_commands),
                ("write_rows", write_rows),
                ("append_fast", append_fast),
                ("append_fast_plain", append_fast_plain),
                ("append_ids", append_ids),
                ("intern_streams", intern_streams),
                ("intern_names", intern_names),
                ("vault_rows", vault_rows),
                ("erased_keys", erased_keys),
                ("advance_head", advance_head),
                ("touch_head", touch_head),
            ]
        }
    }

    /// The safety argument of the writer's `force_generic_plan` (see [`writer_pool`]): every
    /// write statement, planned generically with the writer's settings ([`WRITER_SETTINGS`])
    /// on tables analysed while small (the statistics most likely to make a scan look cheap;
    /// the plan is then kept for the session's life), reaches `events`, the dictionaries and
    /// the vault only through their indexes, each index scan with an `Index Cond` (a probe, not
    /// a walk of the whole index): no sequential scan of any table but the one-row `head`; and
    /// the writer's sessions really run with those settings (`SHOW`). Without
    /// `enable_seqscan = off` it fails (`stream_versions` scans `streams` and `events`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_write_statement_reaches_its_tables_by_index_under_a_generic_plan() {
        let url = match std::env::var("PLAINT_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "PLAINT_TEST_DATABASE_URL under CI"
                );
                println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
                return;
            }
        };
        let schema = format!("plaint_t_plans_{}", std::process::id());
        let mut options = PgOptions::with_schema(schema.clone());
        options.pool_size_max = 2;
        PgStore::migrate(&url, &options).await.unwrap();
        let store = PgStore::connect(&url, options.clone()).await.unwrap();
        for i in 0..40u64 {
            let event = NewEvent {
                event_type: format!("T{}", i % 3),
                schema_version: 1,
                occurred_at_ms: i as i64,
                recorded_at_ms: i as i64,
                actor: format!("actor-{}", i % 5),
                command_id: format!("CMP-{}/c{i}", i % 20),
                payload: vec![7; 100],
            };
            let stream = format!("CMP-{}", i % 20);
            store.append(&stream, ExpectedVersion::Any, vec![event]).await.unwrap();
        }
        let writer = store.shared.writer_pool.get().await.unwrap();
        for (name, value) in WRITER_SETTINGS {
            let shown: String = writer.query_one(&format!("SHOW {name}"), &[]).await.unwrap().get(0);
            assert_eq!(shown, value, "the writer's session runs with {name} = {value}");
        }
        drop(writer);
        drop(store);
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        tokio::spawn(connection);
        let s = quote_ident(&schema);
        let settings: String = WRITER_SETTINGS
            .iter()
            .map(|(name, value)| format!("SET {name} = {value}; "))
            .collect();
        client
            .batch_execute(&format!(
                "ANALYZE {s}.events, {s}.streams, {s}.names, {s}.head, {s}.vault_keys, {s}.vault_links; {settings}"
            ))
            .await
            .unwrap();
        for (name, text) in Sql::new(&schema).write_statements() {
            let params = client.prepare(text).await.unwrap().params().len();
            client.batch_execute(&format!("PREPARE p AS {text}")).await.unwrap();
            let args = match params {
                0 => String::new(),
                n => format!("({})", vec!["NULL"; n].join(", ")),
            };
            let plan: Vec<String> = client
                .simple_query(&format!("EXPLAIN EXECUTE p{args}"))
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
                .collect();
            client.batch_execute("DEALLOCATE p").await.unwrap();
            assert!(!plan.is_empty(), "{name}: no plan");
            let scans: Vec<&String> = plan
                .iter()
                .filter(|line| line.contains("Seq Scan on") && !line.contains("Seq Scan on head"))
                .collect();
            assert!(scans.is_empty(), "{name} scans a table:\n{}", plan.join("\n"));
            let unbounded = index_scans_without_a_condition(&plan);
            assert!(
                unbounded.is_empty(),
                "{name} reads a whole index ({unbounded:?}):\n{}",
                plan.join("\n")
            );
        }
        PgStore::drop_schema(&url, &options).await.unwrap();
    }

    /// The index scans (plain, index-only, bitmap) of an `EXPLAIN` (its lines) with no
    /// `Index Cond` among their details: scans that walk a whole index (a `Filter` alone
    /// keeps them O(n)).
    fn index_scans_without_a_condition(plan: &[String]) -> Vec<String> {
        let mut unbounded = Vec::new();
        for (i, line) in plan.iter().enumerate() {
            if !line.contains("Index Scan") && !line.contains("Index Only Scan") {
                continue;
            }
            let details = plan[i + 1..].iter().take_while(|l| !l.contains("->"));
            if !details.into_iter().any(|l| l.contains("Index Cond:")) {
                unbounded.push(line.trim().to_string());
            }
        }
        unbounded
    }

    #[test]
    fn an_index_scan_without_a_condition_is_found() {
        let plan: Vec<String> = [
            "Nested Loop",
            "  ->  Index Scan using events_pkey on events e  (cost=0.1..8.2 rows=1 width=8)",
            "        Index Cond: (position = $1)",
            "  ->  Index Only Scan using streams_name_key on streams x  (cost=0.1..40.2 rows=1 width=8)",
            "        Filter: (name = $2)",
            "  ->  Bitmap Index Scan on names_name_key  (cost=0.1..4.2 rows=1 width=0)",
            "        Index Cond: (name = $3)",
        ]
        .map(String::from)
        .to_vec();
        let found = index_scans_without_a_condition(&plan);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("streams_name_key"), "{found:?}");
    }

    #[test]
    #[should_panic(expected = "one required head per call")]
    fn calls_of_unequal_lengths_are_refused() {
        let requests: [&[AppendRequest]; 2] = [&[], &[]];
        let vault = crate::vault::VaultWrite::default();
        Calls::new(&requests, &[None], &[&vault, &vault]);
    }

    #[test]
    fn the_writers_settings_unless_the_url_sets_them() {
        assert_eq!(
            writer_options(""),
            "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"
        );
        assert_eq!(
            writer_options("-c work_mem=8MB"),
            "-c work_mem=8MB -c plan_cache_mode=force_generic_plan -c enable_seqscan=off"
        );
        assert_eq!(
            writer_options("-c enable_seqscan=on"),
            "-c enable_seqscan=on -c plan_cache_mode=force_generic_plan",
            "a setting in the URL wins"
        );
        assert_eq!(
            writer_options("-c plan_cache_mode=auto --enable_seqscan=on"),
            "-c plan_cache_mode=auto --enable_seqscan=on"
        );
    }

    #[test]
    fn connection_settings_from_options_unless_the_url_sets_them() {
        let options = PgOptions::default();
        let config = pg_config_from(
            "postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write",
            &options,
        )
        .unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_millis(10_000)));
        assert_eq!(config.get_tcp_user_timeout(), Some(&Duration::from_millis(15_000)));
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(5));
        assert_eq!(config.get_hosts().len(), 2);
        let config = pg_config_from("postgres://u:p@h1,h2/db?connect_timeout=3&tcp_user_timeout=4", &options).unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        // tokio-postgres reads tcp_user_timeout in seconds (libpq: milliseconds).
        assert_eq!(config.get_tcp_user_timeout(), Some(&Duration::from_secs(4)));
        let off = PgOptions {
            dead_server_timeout_ms: 0,
            ..PgOptions::default()
        };
        assert_eq!(
            pg_config_from("postgres://u@h/db", &off)
                .unwrap()
                .get_tcp_user_timeout(),
            None
        );
    }

    #[test]
    fn reconnect_delays_are_bounded_by_attempts_and_time() {
        let options = PgOptions::default();
        let delays: Vec<Duration> = reconnect_delays(&options).collect();
        let total: Duration = delays.iter().sum();
        assert!(
            total <= Duration::from_millis(options.reconnect_timeout_ms),
            "{total:?}"
        );
        assert!(
            total >= Duration::from_millis(options.reconnect_timeout_ms / 2),
            "{total:?}"
        );
        assert!(delays
            .iter()
            .all(|d| *d <= Duration::from_millis(2 * RECONNECT_DELAY_MAX_MS)));
        let once = PgOptions {
            write_attempts_max: 1,
            ..PgOptions::default()
        };
        assert_eq!(reconnect_delays(&once).count(), 0);
        let three = PgOptions {
            write_attempts_max: 3,
            ..PgOptions::default()
        };
        assert_eq!(reconnect_delays(&three).count(), 2);
    }
}

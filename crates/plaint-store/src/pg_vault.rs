//! The PostgreSQL store's vault (see [`crate::vault`]): tables `vault_meta` (the match
//! secret), `vault_keys` and `vault_links` in plaint's schema (schema version 2).
//!
//! Keys are inserted by the writer in the same transaction as the events of the append that
//! needs them ([`insert_rows`]), so a key exists exactly when its events committed, and every
//! process sharing the database sees the same keys. Every key row carries a checksum (BLAKE3
//! of its id and secret) that [`Vault::verify_vault`] checks; an erased key keeps its row with
//! the secret set to NULL.
//!
//! Erasure ([`Vault::erase_recorded`]) appends its audit event and sets the secrets to NULL in
//! one transaction holding the head lock; an append sealing under an erased key is refused
//! (`StoreError::KeyErased`, docs/postgres.md "Erasure across processes"). PostgreSQL keeps the old row
//! version until `VACUUM` reclaims it (and in WAL and base backups until they expire): see the
//! threat model in `docs/security.md`.

use super::{db_err, pool_err, quote_ident, PgStore};
use crate::vault::{
    check_key_id, check_owner, key_owner, DumpedKey, ErasureRecord, KeyState, RecordedErasure, Secret, Vault,
    VaultDump, VaultReport, VaultWrite,
};
use crate::{AppendRequest, AppendResult, ExpectedVersion, StoreError};
use async_trait::async_trait;
use zeroize::Zeroizing;

/// The schema-version-2 tables.
pub(super) fn migration_v2(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        r#"
CREATE TABLE IF NOT EXISTS {s}.vault_meta (
    name text PRIMARY KEY,
    value bytea NOT NULL
);
COMMENT ON TABLE {s}.vault_meta IS 'plaint vault: the match secret (key of the match-key hash); never readable by other roles';
CREATE TABLE IF NOT EXISTS {s}.vault_keys (
    seq bigserial NOT NULL,
    key_id text PRIMARY KEY,
    owner text NOT NULL,
    secret bytea CHECK (secret IS NULL OR octet_length(secret) = 32),
    erased_at timestamptz,
    checksum bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_keys_owner ON {s}.vault_keys (owner, seq);
COMMENT ON TABLE {s}.vault_keys IS 'plaint vault: per-customer keys; secret NULL once erased; created in the transaction of the first event sealed under them';
CREATE TABLE IF NOT EXISTS {s}.vault_links (
    a text NOT NULL,
    b text NOT NULL,
    PRIMARY KEY (a, b)
);
COMMENT ON TABLE {s}.vault_links IS 'plaint vault: two owners (match keys) of one customer; erasing either erases both';
REVOKE ALL ON {s}.vault_meta, {s}.vault_keys, {s}.vault_links FROM PUBLIC;
"#
    )
}

/// Schema version 5: an index for the other direction of a link. [`Vault::linked`] asks for the
/// links of an owner on either side (`a = $1 UNION … b = $1`); the primary key `(a, b)` answers
/// the first half, and without this index the second half read the whole table: 0.06 → 0.27 ms
/// per `receive` over 2,000 customers, linear in the customers (`docs/PERFORMANCE.md`, wave 8).
pub(super) fn migration_v5(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        r#"
CREATE INDEX IF NOT EXISTS vault_links_b ON {s}.vault_links (b, a);
COMMENT ON INDEX {s}.vault_links_b IS 'plaint vault: the links of an owner found from the second side';
"#
    )
}

/// Inserts the match secret if the schema has none yet (run by the migration).
pub(super) async fn ensure_match_secret(tx: &tokio_postgres::Transaction<'_>, schema: &str) -> Result<(), StoreError> {
    let secret = crate::vault::random_secret()?;
    let value: &[u8] = &secret[..];
    tx.execute(
        &format!(
            "INSERT INTO {}.vault_meta (name, value) VALUES ('match_secret', $1) ON CONFLICT (name) DO NOTHING",
            quote_ident(schema)
        ),
        &[&value],
    )
    .await
    .map_err(|e| db_err(&format!("creating the vault's match secret in schema {schema:?}"), &e))?;
    Ok(())
}

fn row_checksum(id: &str, secret: Option<&[u8]>) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(id.as_bytes());
    match secret {
        Some(s) => {
            h.update(b"\x01");
            h.update(s);
        }
        None => {
            h.update(b"\x00erased");
        }
    }
    h.finalize().as_bytes()[..16].to_vec()
}

/// The keys and links of the jobs of a writer transaction, as the column arrays of
/// [`insert_rows_sql`].
pub(super) struct VaultRows<'a> {
    ids: Vec<&'a str>,
    owners: Vec<&'a str>,
    secrets: Vec<&'a [u8]>,
    sums: Vec<Vec<u8>>,
    link_a: Vec<&'a str>,
    link_b: Vec<&'a str>,
}

impl<'a> VaultRows<'a> {
    pub(super) fn new(writes: &[&'a VaultWrite]) -> Self {
        let mut rows = VaultRows {
            ids: Vec::new(),
            owners: Vec::new(),
            secrets: Vec::new(),
            sums: Vec::new(),
            link_a: Vec::new(),
            link_b: Vec::new(),
        };
        for w in writes {
            for k in &w.keys {
                rows.ids.push(&k.id);
                rows.owners.push(key_owner(&k.id));
                rows.secrets.push(&k.secret[..]);
                rows.sums.push(row_checksum(&k.id, Some(&k.secret[..])));
            }
            for (a, b) in &w.links {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                rows.link_a.push(a);
                rows.link_b.push(b);
            }
        }
        rows
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.link_a.is_empty()
    }

    /// The parameters of [`insert_rows_sql`]; `written_head` is the head position the
    /// transaction's events leave.
    pub(super) fn params<'b>(&'b self, written_head: &'b i64) -> [&'b (dyn tokio_postgres::types::ToSql + Sync); 7] {
        [
            &self.ids,
            &self.owners,
            &self.secrets,
            &self.sums,
            &self.link_a,
            &self.link_b,
            written_head,
        ]
    }
}

/// Inserts the keys and links of a writer transaction, after its events and before its commit,
/// in one statement that writes only if the head is at $7, i.e. only if the transaction's events
/// went in (the one-round-trip path sends it before knowing): a refused append creates no key.
pub(super) fn insert_rows_sql(schema: &str) -> String {
    let s = quote_ident(schema);
    format!(
        "WITH written AS (SELECT (SELECT h.position FROM {s}.head h WHERE h.id) = $7 AS ok), \
         keys AS (INSERT INTO {s}.vault_keys (key_id, owner, secret, checksum) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[]) WHERE (SELECT ok FROM written) \
         ON CONFLICT (key_id) DO NOTHING RETURNING 1), \
         links AS (INSERT INTO {s}.vault_links (a, b) SELECT * FROM unnest($5::text[], $6::text[]) \
         WHERE (SELECT ok FROM written) ON CONFLICT DO NOTHING RETURNING 1) \
         SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM links)"
    )
}

/// A statement prepared once per pooled session (deadpool's statement cache): one round trip
/// per vault read instead of a parse round trip before each.
async fn cached(client: &deadpool_postgres::Object, sql: String) -> Result<tokio_postgres::Statement, StoreError> {
    client
        .prepare_cached(&sql)
        .await
        .map_err(|e| db_err(&format!("vault: preparing {sql:?}"), &e))
}

/// The live keys of an erasure (named, or of its owners), locked `FOR UPDATE`, sorted.
async fn live_keys_locked(
    tx: &tokio_postgres::Transaction<'_>,
    schema: &str,
    erasure: &ErasureRecord<'_>,
) -> Result<Vec<String>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT key_id FROM {schema}.vault_keys WHERE (key_id = ANY($1) OR owner = ANY($2)) \
                 AND secret IS NOT NULL ORDER BY key_id FOR UPDATE"
            ),
            &[&erasure.key_ids, &erasure.owners],
        )
        .await
        .map_err(|e| db_err("vault: erase: live keys", &e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Appends the audit event in the erasure's transaction, the head locked (`head`: its row):
/// positions after the head, the chain from its value, written by the writer's own statement.
async fn append_locked(
    shared: &super::Shared,
    tx: &tokio_postgres::Transaction<'_>,
    head: &tokio_postgres::Row,
    request: &AppendRequest,
) -> Result<AppendResult, StoreError> {
    super::validate_request(request)?;
    let sql = &shared.sql;
    let head_position: i64 = head.get(0);
    let chain: Vec<u8> = head.get(1);
    let chain: crate::chain::ChainHash = chain.as_slice().try_into().map_err(|_| StoreError::Corrupt {
        file: format!("{}.head", sql.schema),
        offset: 0,
        detail: format!("chain_hash has {} bytes, expected 32", chain.len()),
    })?;
    let streams = vec![request.stream.as_str()];
    let version = tx
        .query_one(sql.stream_versions.as_str(), &[&streams])
        .await
        .map_err(|e| db_err("vault: erase: the audit stream's version", &e))?;
    let current = version.get::<_, Option<i64>>(1).unwrap_or(0) as u64;
    if let ExpectedVersion::Exact(expected) = request.expected {
        if expected != current {
            return Err(StoreError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual: current,
            });
        }
    }
    let rows: Vec<super::NewRow<'_>> = request
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| super::NewRow {
            position: head_position as u64 + 1 + i as u64,
            stream: &request.stream,
            stream_version: current + 1 + i as u64,
            event,
        })
        .collect();
    let mut hashes = Vec::with_capacity(rows.len());
    let mut next = chain;
    for row in &rows {
        next = crate::chain::chain_next(&next, &super::recorded_from(row));
        hashes.push(next);
    }
    let new_head = head_position + rows.len() as i64;
    let chain_bytes: &[u8] = &next;
    let row_count = rows.len() as i64;
    let columns = super::RowColumns::new(&rows, &hashes);
    let params = super::write_params(&columns, &head_position, &new_head, &chain_bytes, &row_count);
    let written = tx
        .query(sql.write_rows.as_str(), &params)
        .await
        .map_err(|e| db_err("vault: erase: appending the audit event", &e))?;
    if written.len() != 1 {
        return Err(StoreError::Database(format!(
            "vault: erase: the audit event was not written to {:?} (its command id exists?); nothing was committed",
            request.stream
        )));
    }
    Ok(AppendResult {
        first_position: head_position as u64 + 1,
        last_position: new_head as u64,
        stream_version: current + rows.len() as u64,
        deduplicated: false,
    })
}

/// Destroys the secrets of locked live keys, in one statement.
async fn destroy_locked(tx: &tokio_postgres::Transaction<'_>, schema: &str, ids: &[String]) -> Result<(), StoreError> {
    let sums: Vec<Vec<u8>> = ids.iter().map(|id| row_checksum(id, None)).collect();
    let n = tx
        .execute(
            &format!(
                "UPDATE {schema}.vault_keys v SET secret = NULL, erased_at = now(), checksum = u.sum \
                 FROM unnest($1::text[], $2::bytea[]) AS u(id, sum) WHERE v.key_id = u.id AND v.secret IS NOT NULL"
            ),
            &[&ids, &sums],
        )
        .await
        .map_err(|e| db_err("vault: erase: destroying the keys", &e))?;
    assert_eq!(n as usize, ids.len(), "every key locked live is destroyed");
    Ok(())
}

impl PgStore {
    async fn vault_client(&self, what: &str) -> Result<deadpool_postgres::Object, StoreError> {
        self.shared
            .pool
            .get()
            .await
            .map_err(|e| pool_err(&format!("vault: {what}: getting a connection"), e))
    }

    fn vault_schema(&self) -> String {
        quote_ident(&self.shared.options.schema)
    }

    fn keys_table(&self) -> String {
        format!("{}.vault_keys", self.shared.options.schema)
    }
}

fn to_secret(table: &str, id: &str, bytes: &[u8]) -> Result<Secret, StoreError> {
    let mut s = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(StoreError::Corrupt {
            file: table.to_owned(),
            offset: 0,
            detail: format!("key {id:?}: secret has {} bytes, expected 32", bytes.len()),
        });
    }
    s.copy_from_slice(bytes);
    Ok(s)
}

#[async_trait]
impl Vault for PgStore {
    fn vault_location(&self) -> String {
        self.keys_table()
    }

    async fn match_secret(&self) -> Result<Secret, StoreError> {
        let client = self.vault_client("match secret").await?;
        let row = client
            .query_opt(
                &cached(
                    &client,
                    format!(
                        "SELECT value FROM {}.vault_meta WHERE name = 'match_secret'",
                        self.vault_schema()
                    ),
                )
                .await?,
                &[],
            )
            .await
            .map_err(|e| db_err("vault: reading the match secret", &e))?;
        let table = format!("{}.vault_meta", self.shared.options.schema);
        let Some(row) = row else {
            return Err(StoreError::Corrupt {
                file: table,
                offset: 0,
                detail: "the match secret row is missing".into(),
            });
        };
        let value: Vec<u8> = row.get(0);
        let value = Zeroizing::new(value);
        to_secret(&table, "match_secret", &value)
    }

    async fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError> {
        let client = self.vault_client("live key").await?;
        let row = client
            .query_opt(
                &cached(
                    &client,
                    format!(
                        "SELECT key_id, secret FROM {}.vault_keys WHERE owner = $1 AND secret IS NOT NULL \
                     ORDER BY seq DESC LIMIT 1",
                        self.vault_schema()
                    ),
                )
                .await?,
                &[&owner],
            )
            .await
            .map_err(|e| db_err(&format!("vault: live key of {owner:?}"), &e))?;
        match row {
            None => Ok(None),
            Some(row) => {
                let id: String = row.get(0);
                let secret = Zeroizing::new(row.get::<_, Vec<u8>>(1));
                let s = to_secret(&self.keys_table(), &id, &secret)?;
                Ok(Some((id, s)))
            }
        }
    }

    async fn key(&self, id: &str) -> Result<KeyState, StoreError> {
        let client = self.vault_client("key").await?;
        let row = client
            .query_opt(
                &cached(
                    &client,
                    format!(
                        "SELECT secret, checksum FROM {}.vault_keys WHERE key_id = $1",
                        self.vault_schema()
                    ),
                )
                .await?,
                &[&id],
            )
            .await
            .map_err(|e| db_err(&format!("vault: key {id:?}"), &e))?;
        let Some(row) = row else {
            return Ok(KeyState::Missing);
        };
        let secret: Option<Vec<u8>> = row.get(0);
        let secret = secret.map(Zeroizing::new);
        let sum: Vec<u8> = row.get(1);
        if sum != row_checksum(id, secret.as_deref().map(|s| &s[..])) {
            return Err(StoreError::Corrupt {
                file: self.keys_table(),
                offset: 0,
                detail: format!("key {id:?}: row checksum does not match (damaged row)"),
            });
        }
        match secret {
            None => Ok(KeyState::Erased),
            Some(s) => Ok(KeyState::Live(to_secret(&self.keys_table(), id, &s)?)),
        }
    }

    async fn keys_of(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        let client = self.vault_client("keys of owner").await?;
        let rows = client
            .query(
                &cached(
                    &client,
                    format!(
                        "SELECT key_id FROM {}.vault_keys WHERE owner = $1 ORDER BY seq",
                        self.vault_schema()
                    ),
                )
                .await?,
                &[&owner],
            )
            .await
            .map_err(|e| db_err(&format!("vault: keys of {owner:?}"), &e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn linked(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        let client = self.vault_client("links").await?;
        let rows = client
            .query(
                &cached(
                    &client,
                    format!(
                        "SELECT b FROM {s}.vault_links WHERE a = $1 UNION SELECT a FROM {s}.vault_links WHERE b = $1",
                        s = self.vault_schema()
                    ),
                )
                .await?,
                &[&owner],
            )
            .await
            .map_err(|e| db_err(&format!("vault: links of {owner:?}"), &e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn append_with_vault(
        &self,
        requests: Vec<AppendRequest>,
        write: VaultWrite,
    ) -> Result<Vec<AppendResult>, StoreError> {
        crate::vault::check_write(&write)?;
        let count = requests.len();
        let results = self.submit_with_vault(requests, write).await?;
        assert_eq!(results.len(), count);
        Ok(results)
    }

    async fn erase(&self, ids: &[String]) -> Result<usize, StoreError> {
        let mut client = self.vault_client("erase").await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_err("vault: erase: begin", &e))?;
        // The head lock first, as every append and `erase_recorded` take it: a destruction is
        // never concurrent with an append's check of its sealing keys.
        tx.query_one(self.shared.sql.lock_head.as_str(), &[])
            .await
            .map_err(|e| db_err("vault: erase: locking the head", &e))?;
        // Which of them are still live, in one round trip (locked until the commit): erasures
        // completed at every writable open name every key ever erased, nearly all gone already.
        let ids: Vec<String> = ids.to_vec();
        let live: Vec<String> = tx
            .query(
                &format!(
                    "SELECT key_id FROM {}.vault_keys WHERE key_id = ANY($1) AND secret IS NOT NULL \
                     ORDER BY key_id FOR UPDATE",
                    self.vault_schema()
                ),
                &[&ids],
            )
            .await
            .map_err(|e| db_err("vault: erase: live keys", &e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut n = 0;
        for id in &live {
            let sum = row_checksum(id, None);
            n += tx
                .execute(
                    &format!(
                        "UPDATE {}.vault_keys SET secret = NULL, erased_at = now(), checksum = $2 \
                         WHERE key_id = $1 AND secret IS NOT NULL",
                        self.vault_schema()
                    ),
                    &[id, &sum],
                )
                .await
                .map_err(|e| db_err(&format!("vault: erasing key {id:?}"), &e))? as usize;
        }
        tx.commit().await.map_err(|e| db_err("vault: erase: commit", &e))?;
        Ok(n)
    }

    async fn erase_recorded(&self, erasure: ErasureRecord<'_>) -> Result<Option<RecordedErasure>, StoreError> {
        let mut client = self.vault_client("erase").await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_err("vault: erase: begin", &e))?;
        // The head first, as every append takes it: an append sealing under one of these keys
        // either committed before (its events precede the audit event, and the keys are found
        // below) or waits for this commit and then finds its key erased (`sealed_check_sql`).
        let head = tx
            .query_one(self.shared.sql.lock_head.as_str(), &[])
            .await
            .map_err(|e| db_err("vault: erase: locking the head", &e))?;
        let ids = live_keys_locked(&tx, &self.vault_schema(), &erasure).await?;
        if ids.is_empty() {
            tx.rollback().await.map_err(|e| db_err("vault: erase: rollback", &e))?;
            return Ok(Some(RecordedErasure {
                key_ids: ids,
                appended: None,
            }));
        }
        let request = (erasure.audit)(&ids)?;
        let appended = append_locked(&self.shared, &tx, &head, &request).await?;
        destroy_locked(&tx, &self.vault_schema(), &ids).await?;
        tx.commit().await.map_err(|e| db_err("vault: erase: commit", &e))?;
        super::committed(&self.shared, appended.last_position as i64, 1, request.events.len());
        Ok(Some(RecordedErasure {
            key_ids: ids,
            appended: Some(appended),
        }))
    }

    async fn verify_vault(&self) -> Result<VaultReport, StoreError> {
        // The match secret first: a vault without it cannot be used.
        self.match_secret().await?;
        let client = self.vault_client("verify").await?;
        let rows = client
            .query(
                &format!(
                    "SELECT seq, key_id, owner, secret, checksum FROM {}.vault_keys ORDER BY seq",
                    self.vault_schema()
                ),
                &[],
            )
            .await
            .map_err(|e| db_err("vault: verify: reading keys", &e))?;
        let mut report = VaultReport::default();
        for row in &rows {
            let seq: i64 = row.get(0);
            let id: String = row.get(1);
            let owner: String = row.get(2);
            let secret: Option<Vec<u8>> = row.get(3);
            let secret = secret.map(Zeroizing::new);
            let sum: Vec<u8> = row.get(4);
            let bad = |detail: String| StoreError::Corrupt {
                file: self.keys_table(),
                offset: seq as u64,
                detail: format!("key {id:?} (seq {seq}): {detail}"),
            };
            check_key_id(&id).map_err(|e| bad(e.to_string()))?;
            if owner != key_owner(&id) {
                return Err(bad(format!("owner {owner:?} does not match the key id")));
            }
            if sum != row_checksum(&id, secret.as_deref().map(|s| &s[..])) {
                return Err(bad("row checksum does not match (damaged row)".into()));
            }
            match secret {
                Some(s) if s.len() == 32 => report.live += 1,
                Some(s) => return Err(bad(format!("secret has {} bytes, expected 32", s.len()))),
                None => report.erased += 1,
            }
        }
        let links = client
            .query_one(
                &format!("SELECT count(*) FROM {}.vault_links", self.vault_schema()),
                &[],
            )
            .await
            .map_err(|e| db_err("vault: verify: counting links", &e))?;
        report.links = links.get::<_, i64>(0) as u64;
        Ok(report)
    }

    async fn dump(&self) -> Result<VaultDump, StoreError> {
        self.verify_vault().await?;
        let match_secret = self.match_secret().await?;
        let client = self.vault_client("dump").await?;
        let rows = client
            .query(
                &format!(
                    "SELECT key_id, secret FROM {}.vault_keys ORDER BY seq",
                    self.vault_schema()
                ),
                &[],
            )
            .await
            .map_err(|e| db_err("vault: dump: reading keys", &e))?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.get(0);
            let secret: Option<Vec<u8>> = row.get(1);
            let secret = match secret.map(Zeroizing::new) {
                Some(s) => Some(to_secret(&self.keys_table(), &id, &s)?),
                None => None,
            };
            keys.push(DumpedKey { id, secret });
        }
        let links = client
            .query(
                &format!("SELECT a, b FROM {}.vault_links ORDER BY a, b", self.vault_schema()),
                &[],
            )
            .await
            .map_err(|e| db_err("vault: dump: reading links", &e))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(VaultDump {
            match_secret,
            keys,
            links,
        })
    }

    async fn restore(&self, dump: &VaultDump) -> Result<(), StoreError> {
        for k in &dump.keys {
            check_key_id(&k.id)?;
        }
        for (a, b) in &dump.links {
            check_owner(a)?;
            check_owner(b)?;
        }
        let s = self.vault_schema();
        let mut client = self.vault_client("restore").await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_err("vault: restore: begin", &e))?;
        let held = tx
            .query_one(
                &format!("SELECT (SELECT count(*) FROM {s}.vault_keys) + (SELECT count(*) FROM {s}.vault_links)"),
                &[],
            )
            .await
            .map_err(|e| db_err("vault: restore: counting", &e))?;
        if held.get::<_, i64>(0) > 0 {
            return Err(StoreError::InvalidAppend {
                stream: "<vault>".into(),
                reason: format!(
                    "{} already holds keys; a vault is restored only into an empty one",
                    self.keys_table()
                ),
            });
        }
        let ms: &[u8] = &dump.match_secret[..];
        tx.execute(
            &format!(
                "INSERT INTO {s}.vault_meta (name, value) VALUES ('match_secret', $1) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            ),
            &[&ms],
        )
        .await
        .map_err(|e| db_err("vault: restore: match secret", &e))?;
        for k in &dump.keys {
            let secret: Option<&[u8]> = k.secret.as_ref().map(|s| &s[..]);
            let sum = row_checksum(&k.id, secret);
            tx.execute(
                &format!(
                    "INSERT INTO {s}.vault_keys (key_id, owner, secret, checksum, erased_at) \
                     VALUES ($1, $2, $3, $4, CASE WHEN $3::bytea IS NULL THEN now() END) ON CONFLICT (key_id) DO NOTHING"
                ),
                &[&k.id, &key_owner(&k.id), &secret, &sum],
            )
            .await
            .map_err(|e| db_err(&format!("vault: restore: key {:?}", k.id), &e))?;
        }
        for (a, b) in &dump.links {
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            tx.execute(
                &format!("INSERT INTO {s}.vault_links (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING"),
                &[a, b],
            )
            .await
            .map_err(|e| db_err("vault: restore: link", &e))?;
        }
        tx.commit().await.map_err(|e| db_err("vault: restore: commit", &e))?;
        Ok(())
    }
}

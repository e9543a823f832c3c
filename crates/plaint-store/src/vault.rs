//! The customer vault: the secrets behind crypto-shredding, kept inside each backend.
//!
//! Personal fields are sealed in events under a per-customer key (docs/domain.md §9). The vault
//! keeps those keys where the log lives — the file log's directory (`vault.pvlt`, written
//! through the same I/O seam, under the same lock) or plaint's PostgreSQL schema (tables
//! `vault_keys`, `vault_links`, `vault_meta`) — so that every process writing one log agrees
//! on every key, and a key exists exactly when an event sealed under it was committed:
//! [`Vault::append_with_vault`] creates the keys a batch needs together with the batch (the
//! same transaction on PostgreSQL; durable before the events on the file log), and creates
//! nothing when the append is refused.
//!
//! The vault also holds the store's **match secret**: the key of the keyed hash that turns a
//! phone number or customer id into the pseudonymous match key recorded in events. Without it
//! the match keys in the log cannot be tested against guessed phone numbers.
//!
//! The store knows no domain type: a key is an id (`<owner>.<suffix>`, where the owner is the
//! customer's match key) and 32 secret bytes. Erasure ([`Vault::erase`]) destroys secrets; the
//! key ids stay, marked erased, so a reader can tell "erased" from "missing" (damage).
//!
//! Secrets are [`Secret`]s: wiped from memory when dropped.

use crate::{AppendRequest, AppendResult, StoreError};
use async_trait::async_trait;
use zeroize::Zeroizing;

/// 32 secret bytes, zeroed in memory when dropped.
pub type Secret = Zeroizing<[u8; 32]>;

/// Longest key id, in bytes.
pub const VAULT_KEY_ID_LEN_MAX: usize = 128;
/// Longest key owner (match key), in bytes.
pub const VAULT_OWNER_LEN_MAX: usize = 96;
/// Most items (keys and links to create, key ids sealed under) one [`Vault::append_with_vault`]
/// call may name.
pub const VAULT_WRITE_ITEMS_MAX: usize = 20_000;

/// A key to create with an append.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    /// `<owner>.<suffix>`: the owner is the customer's match key, the suffix makes the id unique
    /// (random), so two processes creating a key for one new customer at once never collide.
    pub id: String,
    /// The key itself.
    pub secret: Secret,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl NewKey {
    /// The owner part of the id (before the last `.`).
    pub fn owner(&self) -> &str {
        key_owner(&self.id)
    }
}

/// The owner part of a key id (everything before the last `.`; the whole id when none).
pub fn key_owner(id: &str) -> &str {
    id.rsplit_once('.').map_or(id, |(o, _)| o)
}

/// What a vault writes together with an append: new keys, and links between two owners of one
/// customer (a phone's match key and a customer id's), so erasing either erases both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultWrite {
    /// Keys to create.
    pub keys: Vec<NewKey>,
    /// Pairs of owners to link (order does not matter).
    pub links: Vec<(String, String)>,
    /// Ids of keys that exist already and that the append's events are sealed under: the
    /// append is refused ([`StoreError::KeyErased`]) if one of them was erased before it could
    /// commit (on PostgreSQL checked in the append's own transaction, after the head lock that
    /// an erasure holds too; docs/security.md, "Erasure and concurrent intake").
    pub sealed: Vec<String>,
}

impl VaultWrite {
    /// Nothing to write (keys sealed under are checked, not written).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.links.is_empty()
    }

    /// Every key id the append's events are sealed under: the existing ones and the new ones.
    pub fn sealing_ids(&self) -> impl Iterator<Item = &str> {
        self.sealed
            .iter()
            .map(String::as_str)
            .chain(self.keys.iter().map(|k| k.id.as_str()))
    }
}

/// A key as the vault holds it.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key exists.
    Live(Secret),
    /// The key existed and was destroyed by an erasure.
    Erased,
    /// The vault holds no such key (never created — or lost: damage, not erasure).
    Missing,
}

impl std::fmt::Debug for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyState::Live(_) => f.write_str("Live(<redacted>)"),
            KeyState::Erased => f.write_str("Erased"),
            KeyState::Missing => f.write_str("Missing"),
        }
    }
}

/// One key of a [`VaultDump`]: `None` once erased.
#[derive(Clone, PartialEq, Eq)]
pub struct DumpedKey {
    /// The key id.
    pub id: String,
    /// The secret, `None` when erased.
    pub secret: Option<Secret>,
}

impl std::fmt::Debug for DumpedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpedKey")
            .field("id", &self.id)
            .field("erased", &self.secret.is_none())
            .finish()
    }
}

/// Everything a vault holds, for copying it to another backend ([`Vault::restore`]).
#[derive(Clone, PartialEq, Eq)]
pub struct VaultDump {
    /// The match secret.
    pub match_secret: Secret,
    /// Every key, live and erased, in creation order.
    pub keys: Vec<DumpedKey>,
    /// Every link.
    pub links: Vec<(String, String)>,
}

impl std::fmt::Debug for VaultDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultDump")
            .field("keys", &self.keys.len())
            .field("links", &self.links.len())
            .finish_non_exhaustive()
    }
}

/// What [`Vault::verify_vault`] found on a sound vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VaultReport {
    /// Live keys.
    pub live: u64,
    /// Erased keys.
    pub erased: u64,
    /// Links.
    pub links: u64,
}

/// The vault of a backend. Implemented by every [`crate::EventStore`] backend on the same
/// object, so the vault and the log are one store.
#[async_trait]
pub trait Vault: Send + Sync {
    /// Where the vault lives, for messages (`<dir>/vault.pvlt`, or `<schema>.vault_keys`).
    fn vault_location(&self) -> String;

    /// The store's match secret (created with the vault, never changed).
    async fn match_secret(&self) -> Result<Secret, StoreError>;

    /// A live key of `owner` (the newest), if any.
    async fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError>;

    /// [`Vault::live_key`] when it can be answered at once, without waiting for a lock or a
    /// round trip; `None` otherwise (the default: a backend offers it only where it is cheap).
    /// For work done ahead that can do without it (`Engine::prepare`).
    fn live_key_at_once(&self, _owner: &str) -> Option<Result<Option<(String, Secret)>, StoreError>> {
        None
    }

    /// The key with this id.
    async fn key(&self, id: &str) -> Result<KeyState, StoreError>;

    /// The ids of every key of `owner`, live and erased.
    async fn keys_of(&self, owner: &str) -> Result<Vec<String>, StoreError>;

    /// The owners linked to `owner` (see [`VaultWrite::links`]).
    async fn linked(&self, owner: &str) -> Result<Vec<String>, StoreError>;

    /// Appends `requests` (as [`crate::EventStore::append_many`]) and creates `write`'s keys
    /// and links with them: on PostgreSQL in the same transaction; on the file log durable
    /// before the events are written. When the append fails, no key is created (file log: a
    /// refusal found before anything is written; a failure after that leaves keys no event
    /// references, which is harmless).
    async fn append_with_vault(
        &self,
        requests: Vec<AppendRequest>,
        write: VaultWrite,
    ) -> Result<Vec<AppendResult>, StoreError>;

    /// Destroys the secrets of these keys (durably before this returns). Returns how many were
    /// live. Unknown ids are ignored.
    async fn erase(&self, ids: &[String]) -> Result<usize, StoreError>;

    /// Records an erasure and destroys its keys in **one** transaction, where the backend can:
    /// the keys are found under the locks (`erasure.key_ids` and every live key of
    /// `erasure.owners`), the audit event is built from them and appended, and their secrets are
    /// destroyed, all committed together. So an append sealing under one of them either
    /// committed before (and is erased with the rest) or is refused
    /// ([`StoreError::KeyErased`]): the rule across processes (docs/security.md, "Erasure and
    /// concurrent intake"). `Ok(None)`: the backend records and destroys in two steps (the file
    /// log, whose single writer process keeps them apart with its erasure gate) and the caller
    /// does both. No default: each backend says which, and a wrapper forwards it (a default
    /// `None` made a wrapped PostgreSQL store erase in two steps without a word).
    async fn erase_recorded(&self, erasure: ErasureRecord<'_>) -> Result<Option<RecordedErasure>, StoreError>;

    /// Re-reads every record: checksums, sizes. Damage is [`StoreError::Corrupt`] naming the
    /// file and offset (or table and key id).
    async fn verify_vault(&self) -> Result<VaultReport, StoreError>;

    /// Everything the vault holds.
    async fn dump(&self) -> Result<VaultDump, StoreError>;

    /// Fills an **empty** vault (no key, no link) with `dump`, match secret included. Refused
    /// when the vault already holds a key or link.
    async fn restore(&self, dump: &VaultDump) -> Result<(), StoreError>;
}

/// What [`Vault::erase_recorded`] erases and how it records it.
pub struct ErasureRecord<'a> {
    /// The keys found before the transaction.
    pub key_ids: &'a [String],
    /// Their owners (the customer's match keys and the owners linked to them): their keys
    /// live when the locks are taken are erased too (a key made meanwhile by another process).
    pub owners: &'a [String],
    /// The audit event's append, given the ids of the keys it destroys (sorted, not empty).
    pub audit: &'a (dyn Fn(&[String]) -> Result<AppendRequest, StoreError> + Send + Sync),
}

/// What [`Vault::erase_recorded`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedErasure {
    /// The keys destroyed (empty: none was live any more; nothing recorded).
    pub key_ids: Vec<String>,
    /// Where the audit event went (`None` when nothing was recorded).
    pub appended: Option<AppendResult>,
}

/// A backend: the event log and its vault.
pub trait VaultStore: crate::EventStore + Vault {}

impl<T: crate::EventStore + Vault> VaultStore for T {}

/// Checks a [`VaultWrite`] before anything is written.
pub fn check_write(write: &VaultWrite) -> Result<(), StoreError> {
    let n = write.keys.len() + write.links.len() + write.sealed.len();
    if n > VAULT_WRITE_ITEMS_MAX {
        return Err(StoreError::Limit {
            what: "keys, links and sealing keys in one vault write".into(),
            actual: n as u64,
            max: VAULT_WRITE_ITEMS_MAX as u64,
        });
    }
    for id in write.sealing_ids() {
        check_key_id(id)?;
    }
    for (a, b) in &write.links {
        check_owner(a)?;
        check_owner(b)?;
    }
    Ok(())
}

fn id_char_ok(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase() || matches!(b, b':' | b'_' | b'-' | b'.')
}

/// A key id is `<owner>.<suffix>`, at most [`VAULT_KEY_ID_LEN_MAX`] bytes of `[0-9a-z:_.-]`.
pub fn check_key_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= VAULT_KEY_ID_LEN_MAX
        && id.bytes().all(id_char_ok)
        && id.rsplit_once('.').is_some_and(|(o, s)| !o.is_empty() && !s.is_empty());
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidAppend {
            stream: "<vault>".into(),
            reason: format!(
                "key id {id:?} is not <owner>.<suffix> of at most {VAULT_KEY_ID_LEN_MAX} bytes [0-9a-z:_.-]"
            ),
        })
    }
}

/// An owner is at most [`VAULT_OWNER_LEN_MAX`] bytes of `[0-9a-z:_-]`.
pub fn check_owner(owner: &str) -> Result<(), StoreError> {
    let ok =
        !owner.is_empty() && owner.len() <= VAULT_OWNER_LEN_MAX && owner.bytes().all(|b| b != b'.' && id_char_ok(b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidAppend {
            stream: "<vault>".into(),
            reason: format!("key owner {owner:?} is not at most {VAULT_OWNER_LEN_MAX} bytes of [0-9a-z:_-]"),
        })
    }
}

/// A fresh random secret from the operating system.
pub fn random_secret() -> Result<Secret, StoreError> {
    use rand::RngCore;
    let mut s = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(s.as_mut());
    Ok(s)
}

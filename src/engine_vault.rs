//! The engine's side of the customer vault (see [`plaint_store::vault`] and
//! `docs/security.md`): which key seals a command's personal fields, erasure as an audited
//! event, the vault's part of `verify`, copying a store with its vault, and importing the key
//! file of stores made before the vault.

use super::*;
use plaint_domain::codec;
use plaint_domain::personal::{legacy_match_key, CustomerKey, MatchSecret};
use plaint_domain::prepare::PreparedCommand as DomainPrepared;
use plaint_domain::{CustomerErased, EventMeta, ERASURE_STREAM};
use plaint_store::vault::{key_owner, random_secret, ErasureRecord, KeyState, NewKey, Vault, VaultDump, VaultWrite};
use plaint_store::{NewEvent, RecordedEvent};
use std::collections::HashMap;

/// Who asks for an erasure, and on what legal basis (both recorded in the audit event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRequest {
    /// Who asked (the event's actor).
    pub actor: Actor,
    /// Why it is lawful and required (e.g. `PIPL art. 47 request 2026-118`). Not empty.
    pub legal_basis: String,
}

/// Longest legal basis text, in bytes.
pub const LEGAL_BASIS_LEN_MAX: usize = 512;

/// What [`Engine::erase_customer`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// Keys whose secrets are destroyed: all the erasure names once its audit event is recorded
    /// (by this call; on PostgreSQL in the audit event's transaction). 0: the customer had no
    /// live key; nothing recorded.
    pub keys_destroyed: usize,
    /// Their ids.
    pub key_ids: Vec<String>,
    /// Position of the `CustomerErased` audit event (`None` when nothing was erased).
    pub position: Option<u64>,
}

/// What [`Engine::copy_into`] copied and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Events copied.
    pub events: u64,
    /// Streams in the copy.
    pub streams: u64,
    /// The copy's head position (the source's).
    pub head_position: u64,
    /// The hash chain's head, equal on both sides (hex).
    pub chain_head: String,
    /// Keys carried (live and erased) and links.
    pub keys: usize,
    /// Links between owners carried.
    pub links: usize,
}

/// What [`Engine::verify_vault`] found: every key an event references is in the vault or was
/// erased by a recorded erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct VaultCoverage {
    /// Live keys in the vault.
    pub live_keys: u64,
    /// Erased keys in the vault.
    pub erased_keys: u64,
    /// Distinct keys referenced by events.
    pub referenced_keys: u64,
    /// Erasure events in the log.
    pub erasures: u64,
}

/// Erasure and sealing take turns (issue 13): a command sealing personal fields holds the
/// gate shared from the choice of its key to its append's answer; an erasure holds it alone
/// from finding the customer's keys to destroying them. So a `receive` committed after an
/// erasure's audit event never seals under a key that erasure destroys: it chose its key after
/// the destruction and finds no live key (a new one is made). One process: across processes on
/// one PostgreSQL log the store holds the rule ([`Vault::erase_recorded`] and
/// `VaultWrite::sealed`; docs/security.md, "Erasure and concurrent intake").
#[derive(Debug, Default)]
pub(super) struct ErasureGate {
    turn: tokio::sync::RwLock<()>,
    /// Erasures waiting for their turn (tests: to release a held batch deterministically).
    waiting: std::sync::atomic::AtomicUsize,
    /// Keys an erasure recorded (its audit event is in the log) but failed to destroy (a disk
    /// error in this running process): destroyed before any command seals again. Changed only
    /// under the exclusive turn, read under either.
    pending: std::sync::Mutex<Vec<String>>,
}

impl ErasureGate {
    /// The shared turn of a command that may seal personal fields (`None`: it seals nothing).
    /// Keys a recorded erasure failed to destroy are destroyed first, alone; while that fails,
    /// no command sealing personal fields goes on (its error is the command's).
    pub(super) async fn for_sealing(
        &self,
        seals: bool,
        vault: &dyn Vault,
    ) -> Result<Option<tokio::sync::RwLockReadGuard<'_, ()>>, EngineError> {
        if !seals {
            return Ok(None);
        }
        loop {
            let turn = self.turn.read().await;
            if self.pending_ids().is_empty() {
                return Ok(Some(turn));
            }
            drop(turn);
            let _alone = self.turn.write().await;
            self.complete_pending(vault).await?;
        }
    }

    fn pending_ids(&self) -> Vec<String> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Destroys the keys of recorded erasures not destroyed yet. Under the exclusive turn.
    async fn complete_pending(&self, vault: &dyn Vault) -> Result<(), EngineError> {
        let ids = self.pending_ids();
        if !ids.is_empty() {
            vault.erase(&ids).await?;
            self.pending.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        Ok(())
    }

    /// Keys whose erasure is recorded but whose destruction failed. Under the exclusive turn.
    fn keep_pending(&self, ids: &[String]) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if !pending.contains(id) {
                pending.push(id.clone());
            }
        }
    }

    /// The exclusive turn of an erasure.
    async fn for_erasure(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let turn = self.turn.write().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        turn
    }
}

/// The `receive` a command is, when it gives personal fields (the one rule both
/// [`seals_personal`] and [`key_owner_of`] read).
fn personal_receive(cmd: &Command) -> Option<&plaint_domain::Receive> {
    match &cmd.body {
        CommandBody::Receive(r) if r.customer.has_personal_fields() => Some(r),
        _ => None,
    }
}

/// Whether a command seals personal fields (a `receive` giving some): it takes the erasure
/// gate's shared turn. The same predicate as [`key_owner_of`]'s: a command that chooses a key
/// always takes the gate.
pub(super) fn seals_personal(cmd: &Command) -> bool {
    personal_receive(cmd).is_some()
}

/// Length of the random suffix of a new key id, in hex digits.
const KEY_SUFFIX_HEX: usize = 16;

pub(super) fn key_owner_of(secret: &MatchSecret, cmd: &Command) -> Option<String> {
    let r = personal_receive(cmd)?;
    let CustomerInput { customer_id, phone, .. } = &r.customer;
    Some(
        match_key(secret, customer_id.as_deref(), phone.as_deref()).unwrap_or_else(|| {
            let h = blake3::hash(cmd.complaint_id.as_str().as_bytes());
            format!("complaint-{}", &h.to_hex()[..32])
        }),
    )
}

fn corrupt(location: String, detail: String) -> EngineError {
    EngineError::Store(StoreError::Corrupt {
        file: location,
        offset: 0,
        detail,
    })
}

/// A new key of `owner`: a random secret, its id the owner and a suffix of the secret's hash.
fn new_key(owner: &str) -> Result<CustomerKey, EngineError> {
    let secret = random_secret()?;
    let suffix = &blake3::hash(&secret[..]).to_hex()[..KEY_SUFFIX_HEX];
    Ok(CustomerKey {
        id: format!("{owner}.{suffix}"),
        secret: *secret,
    })
}

/// A command prepared ahead of its batch ([`Engine::prepare`]): the domain's preparation
/// (digest, a `receive`'s sealing), and whether the key it sealed under is a new key proposed
/// (the vault named no live key of the customer then) or the customer's live key. Only a
/// proposal may become a new key: a live key sealed under ahead may have been erased since,
/// and an erased key is never made again.
#[derive(Debug)]
pub struct PreparedCommand {
    domain: DomainPrepared,
    sealed_under: SealedUnder,
    /// The owner of the customer's key ([`key_owner_of`]: a pure function of the command and
    /// the engine's match secret), found once here, not again in the batch.
    owner: Option<String>,
    /// The engine that prepared it (its `instance`): another engine finds the owner again.
    prepared_by: u64,
}

/// The key a preparation sealed under, as the vault named it then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SealedUnder {
    /// Nothing sealed ahead, or sealed under the customer's live key.
    NoNewKey,
    /// Sealed under a new key proposed for the customer.
    ProposedKey,
}

impl PreparedCommand {
    /// The command.
    pub fn command(&self) -> &Command {
        self.domain.command()
    }

    /// The command back, with what was prepared dropped.
    pub fn into_command(self) -> Command {
        self.domain.into_command()
    }

    /// The domain's preparation.
    pub(super) fn domain(&self) -> &DomainPrepared {
        &self.domain
    }

    /// The owner of the customer's key, as [`key_owner_of`] finds it under the match secret
    /// of the engine that prepared the command ([`PreparedCommand::prepared_by`]).
    pub(super) fn key_owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The engine that prepared the command (its `instance`).
    pub(super) fn prepared_by(&self) -> u64 {
        self.prepared_by
    }

    /// The new key proposed ahead for this command, if the vault named no live key then.
    pub(super) fn proposal(&self) -> Option<&CustomerKey> {
        match self.sealed_under {
            SealedUnder::ProposedKey => self.domain.sealing_key(),
            SealedUnder::NoNewKey => None,
        }
    }

    /// The id of the new key proposed ahead, if any (for tests: what the batch must take).
    #[doc(hidden)]
    pub fn proposed_key_id(&self) -> Option<&str> {
        self.proposal().map(|key| key.id.as_str())
    }

    /// The id of the key sealed under ahead, if any (for tests).
    #[doc(hidden)]
    pub fn sealing_key_id(&self) -> Option<&str> {
        self.domain.sealing_key().map(|key| key.id.as_str())
    }
}

/// The two owners a `receive` links (the customer id's, the phone's), when it gives both.
fn receive_link(secret: &MatchSecret, cmd: &Command) -> Option<(String, String)> {
    let CommandBody::Receive(r) = &cmd.body else {
        return None;
    };
    // The id's first: most receives give a phone alone, and then nothing is hashed.
    let by_id = match_key(secret, r.customer.customer_id.as_deref(), None)?;
    let by_phone = match_key(secret, None, r.customer.phone.as_deref())?;
    Some((by_id, by_phone))
}

impl Engine {
    /// The key a command's personal fields are sealed under: the customer's live key, one made
    /// earlier in this batch (`write`), or a new one added to `write` (created in the vault
    /// only with the events that use it). Links the phone's and the customer id's owners.
    ///
    /// `proposed`: a new key made ahead for this command ([`Engine::prepare`]), taken instead
    /// of drawing another when a new key is needed and it is the same owner's (as random: it
    /// was drawn by [`random_secret`] too).
    pub(super) async fn customer_key_for(
        &self,
        cmd: &Command,
        write: &mut VaultWrite,
        proposed: Option<&CustomerKey>,
    ) -> Result<Option<CustomerKey>, EngineError> {
        let owner = key_owner_of(&self.match_secret, cmd);
        self.customer_key_of(cmd, owner.as_deref(), write, proposed).await
    }

    /// [`Engine::customer_key_for`] with the key's owner found already (`owner`: what
    /// [`key_owner_of`] gives for `cmd`; a prepared command carries it).
    pub(super) async fn customer_key_of(
        &self,
        cmd: &Command,
        owner: Option<&str>,
        write: &mut VaultWrite,
        proposed: Option<&CustomerKey>,
    ) -> Result<Option<CustomerKey>, EngineError> {
        let Some(owner) = owner else {
            return Ok(None);
        };
        debug_assert_eq!(
            key_owner_of(&self.match_secret, cmd).as_deref(),
            Some(owner),
            "the owner is the command's"
        );
        // The link to check (a phone and a customer id given together, not linked earlier in
        // this batch) and the live key to look up (none made earlier in this batch) are read
        // concurrently: one round trip of the vault's instead of two, on separate sessions.
        let link = receive_link(&self.match_secret, cmd).filter(|(i, p)| {
            !write
                .links
                .iter()
                .any(|(a, b)| (a == i && b == p) || (a == p && b == i))
        });
        let made = write
            .keys
            .iter()
            .rev()
            .find(|k| k.owner() == owner)
            .map(|k| CustomerKey {
                id: k.id.clone(),
                secret: *k.secret,
            });
        let (linked, live) = tokio::try_join!(
            async {
                match &link {
                    Some((i, _)) => self.vault.linked(i).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                if made.is_some() {
                    Ok(None)
                } else {
                    self.vault.live_key(owner).await
                }
            },
        )?;
        if let (Some((i, p)), Some(linked)) = (link, linked) {
            if !linked.contains(&p) {
                write.links.push((i, p));
            }
        }
        if let Some(key) = made {
            return Ok(Some(key));
        }
        if let Some((id, secret)) = live {
            // Named to the store: the append is refused if an erasure destroyed the key before
            // it could commit (another process's, on PostgreSQL: docs/security.md).
            if !write.sealed.contains(&id) {
                write.sealed.push(id.clone());
            }
            return Ok(Some(CustomerKey { id, secret: *secret }));
        }
        let key = match proposed.filter(|key| key_owner(&key.id) == owner) {
            Some(key) => key.clone(),
            None => new_key(owner)?,
        };
        write.keys.push(NewKey {
            id: key.id.clone(),
            secret: zeroize::Zeroizing::new(key.secret),
        });
        Ok(Some(key))
    }

    /// Does a command's state-free part ahead of its decision ([`plaint_domain::prepare`]):
    /// its digest and, for a `receive` with personal fields, their sealing under the key the
    /// vault most likely names then (the customer's live key, or a new one proposed). Never
    /// waits: when the vault cannot answer at once (the file vault's table held by a write
    /// through its `fdatasync`; PostgreSQL, a round trip), or fails, only the digest (the
    /// batch seals). Writes nothing. `plaint serve` prepares each request's command on the
    /// request's own task, so its group commit ([`Engine::execute_batch_prepared`]) does less.
    pub fn prepare(&self, cmd: Command) -> PreparedCommand {
        let owner = key_owner_of(&self.match_secret, &cmd);
        let (key, sealed_under) = match &owner {
            Some(owner) => self.key_ahead(owner),
            None => (None, SealedUnder::NoNewKey),
        };
        PreparedCommand {
            domain: plaint_domain::prepare::prepare(cmd, key),
            sealed_under,
            owner,
            prepared_by: self.instance,
        }
    }

    /// The key to seal `owner`'s fields under ahead: the live key, or a new one proposed
    /// (made, not stored: [`Engine::customer_key_for`] takes it if a new key is still needed).
    fn key_ahead(&self, owner: &str) -> (Option<CustomerKey>, SealedUnder) {
        match self.vault.live_key_at_once(owner) {
            Some(Ok(Some((id, secret)))) => (Some(CustomerKey { id, secret: *secret }), SealedUnder::NoNewKey),
            Some(Ok(None)) => match new_key(owner) {
                Ok(key) => (Some(key), SealedUnder::ProposedKey),
                Err(_) => (None, SealedUnder::NoNewKey),
            },
            Some(Err(_)) | None => (None, SealedUnder::NoNewKey),
        }
    }

    /// Erases a customer (docs/domain.md §9, PIPL art. 47): appends a `CustomerErased` audit event
    /// (who, when, legal basis, which keys) to the log, then destroys the keys in the vault. The
    /// events stay and replay; every figure stays the same; their personal fields read as
    /// [`PersonalFields::Erased`] from now on. `customer` is a phone number or a customer id
    /// (as given at intake), or the match key itself. A customer without a live key erases
    /// nothing and records nothing (`keys_destroyed` 0).
    ///
    /// ```
    /// use plaint::{Engine, EngineConfig, PersonalFields, Reveal};
    /// use plaint::engine::ErasureRequest;
    /// use plaint::domain::{Actor, Command, ComplaintId};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    /// let cmd: Command = serde_json::from_str(r#"{"command_id": "c-1", "complaint_id": "CMP-9",
    ///     "actor": "cs-001", "command": "receive", "channel": "counter", "region": "南京",
    ///     "description": "柜台拒收包裹", "customer": {"name": "周平", "phone": "13900001111"}}"#).unwrap();
    /// engine.execute(cmd).await.unwrap();
    /// let request = ErasureRequest { actor: Actor::person("dpo-1").unwrap(), legal_basis: "PIPL art. 47".into() };
    /// assert_eq!(engine.erase_customer("+86 139 0000 1111", &request).await.unwrap().keys_destroyed, 1);
    /// let t = engine.ticket(&ComplaintId::new("CMP-9").unwrap(), Reveal::Clear).await.unwrap();
    /// assert_eq!(t.personal, PersonalFields::Erased);
    /// # });
    /// ```
    pub async fn erase_customer(&self, customer: &str, request: &ErasureRequest) -> Result<Erasure, EngineError> {
        let basis = request.legal_basis.trim();
        if basis.is_empty() || basis.len() > LEGAL_BASIS_LEN_MAX {
            return Err(EngineError::bad_input(
                "legal basis",
                format!("must be 1 to {LEGAL_BASIS_LEN_MAX} bytes (the law and request the erasure rests on)"),
            ));
        }
        let mut owners: Vec<String> = Vec::new();
        if customer.len() == 64 && customer.bytes().all(|b| b.is_ascii_hexdigit()) {
            owners.push(customer.to_ascii_lowercase());
        } else {
            // Read as a phone (or, without digits, a customer id), and as a customer id; also
            // the unkeyed match keys of keys imported from a store made before the vault.
            let readings = [
                match_key(&self.match_secret, Some(customer), Some(customer)),
                match_key(&self.match_secret, Some(customer), None),
                legacy_match_key(Some(customer), Some(customer)),
                legacy_match_key(Some(customer), None),
            ];
            owners.extend(readings.into_iter().flatten());
            if owners.is_empty() {
                return Err(EngineError::bad_input(
                    "customer",
                    "neither a phone number nor a customer id",
                ));
            }
        }
        // Alone from here to the keys' destruction: no command chooses a key meanwhile.
        let _turn = self.erasure_gate.for_erasure().await;
        self.erasure_gate.complete_pending(self.vault.as_ref()).await?;
        let mut all: Vec<String> = Vec::new();
        for owner in &owners {
            for o in std::iter::once(owner.clone()).chain(self.vault.linked(owner).await?) {
                if !all.contains(&o) {
                    all.push(o);
                }
            }
        }
        let mut ids = Vec::new();
        for owner in &all {
            for id in self.vault.keys_of(owner).await? {
                if matches!(self.vault.key(&id).await?, KeyState::Live(_)) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        if ids.is_empty() {
            return Ok(Erasure {
                keys_destroyed: 0,
                key_ids: ids,
                position: None,
            });
        }
        let now = self.now();
        let audit = |ids: &[String]| {
            erasure_audit(now, ids, basis, &request.actor).map_err(|e| StoreError::InvalidAppend {
                stream: ERASURE_STREAM.to_owned(),
                reason: e.to_string(),
            })
        };
        // PostgreSQL: the audit event and the destruction in one transaction, the keys found
        // again under its locks, so no other process's append commits data sealed under a key
        // destroyed before it (docs/security.md, "Erasure and concurrent intake").
        let record = ErasureRecord {
            key_ids: &ids,
            owners: &all,
            audit: &audit,
        };
        if let Some(done) = self.vault.erase_recorded(record).await? {
            return Ok(Erasure {
                keys_destroyed: done.key_ids.len(),
                key_ids: done.key_ids,
                position: done.appended.map(|a| a.first_position),
            });
        }
        // The file log: the audit event first: a crash before the keys are destroyed leaves an
        // erasure that `verify` reports as incomplete and the next writable open completes
        // ([`complete_erasures`]) before any command, never keys destroyed without a record.
        let audited = audit(&ids)?;
        let r = self
            .store
            .append(&audited.stream, audited.expected, audited.events)
            .await?;
        // Recorded: if the destruction fails now (a disk error), the keys stay pending in this
        // engine, destroyed before any command seals again ([`ErasureGate::for_sealing`]), or at
        // the next writable open after a crash.
        if let Err(e) = self.vault.erase(&ids).await {
            self.erasure_gate.keep_pending(&ids);
            return Err(e.into());
        }
        // Every key named is destroyed now, by this call (the file log's one writer process:
        // no other process completes it meanwhile).
        Ok(Erasure {
            keys_destroyed: ids.len(),
            key_ids: ids,
            position: Some(r.first_position),
        })
    }

    /// The vault's part of a verification: every record checks ([`Vault::verify_vault`]),
    /// every key an event references exists or was erased by a recorded `CustomerErased`
    /// event, and every recorded erasure destroyed its keys. A missing or damaged key is
    /// corruption ([`crate::ErrorKind::Damaged`]) naming the vault and the key, never "erased".
    pub async fn verify_vault(&self) -> Result<VaultCoverage, EngineError> {
        verify_vault_on(self.vault.as_ref(), self.store.as_ref()).await
    }

    /// Copies this store — every event with its position, stream version, times and payload,
    /// and the whole vault (match secret, keys, erasures, links) — into `target`, which must be
    /// empty (no event, no key). Then verifies both sides, vaults included, and compares their
    /// event counts, heads and chain heads. `progress` gets the last copied position. The
    /// target now has the source's match secret: reopen it before executing commands on it.
    pub async fn copy_into(
        &self,
        target: &Engine,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<CopyReport, EngineError> {
        let (src, dst) = (&self.store, &target.store);
        let target_head = dst.head_position().await?;
        if target_head > 0 {
            return Err(EngineError::bad_input(
                "copy target",
                format!(
                    "{} already holds {target_head} events; copy into an empty store",
                    target.vault.vault_location()
                ),
            ));
        }
        // The vault first, so the target never holds an event whose key it lacks.
        let dump: VaultDump = self.vault.dump().await?;
        target.vault.restore(&dump).await?;
        let head = src.head_position().await?;
        let mut next = 1u64;
        while next <= head {
            let batch = src.read_all(next, APPEND_EVENTS_MAX).await?;
            if batch.is_empty() {
                break;
            }
            let requests = requests_of(&batch);
            let results = dst.append_many(requests.clone()).await?;
            let mut expected_first = next;
            for (request, result) in requests.iter().zip(&results) {
                let n = request.events.len() as u64;
                if result.first_position != expected_first || result.last_position != expected_first + n - 1 {
                    return Err(EngineError::Store(StoreError::InvalidAppend {
                        stream: request.stream.clone(),
                        reason: format!(
                            "copy: the target gave positions {}..={} to events at source positions {}..={}; is \
                             another process writing to the target? remove the partial copy and start again",
                            result.first_position,
                            result.last_position,
                            expected_first,
                            expected_first + n - 1
                        ),
                    }));
                }
                expected_first += n;
            }
            next = batch.last().map_or(next, |e| e.position + 1);
            progress(next - 1);
        }
        let a = src.verify().await?;
        let b = dst.verify().await?;
        self.verify_vault().await?;
        target.verify_vault().await?;
        if (a.events, a.head_position, a.chain_head) != (b.events, b.head_position, b.chain_head) {
            return Err(corrupt(
                target.vault.vault_location(),
                format!(
                    "the copy differs from the source: {} events, head {}, chain {} versus {} events, head {}, chain {}",
                    b.events,
                    b.head_position,
                    plaint_store::chain::to_hex(&b.chain_head),
                    a.events,
                    a.head_position,
                    plaint_store::chain::to_hex(&a.chain_head)
                ),
            ));
        }
        Ok(CopyReport {
            events: b.events,
            streams: b.streams,
            head_position: b.head_position,
            chain_head: plaint_store::chain::to_hex(&b.chain_head),
            keys: dump.keys.len(),
            links: dump.links.len(),
        })
    }

    /// Erasures waiting for their turn ([`ErasureGate`]): an erasure is waiting while commands
    /// sealing personal fields hold theirs (tests).
    #[doc(hidden)]
    pub fn erasures_waiting(&self) -> usize {
        self.erasure_gate.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The note of a one-time import of a legacy `keys/keys.log` made at open, if any.
    pub fn vault_migration(&self) -> Option<&str> {
        self.vault_migration.as_deref()
    }
}

/// The append of an erasure's `CustomerErased` audit event (who, when, legal basis, which keys)
/// to the erasure stream; its command id is derived from the time and the keys.
fn erasure_audit(now: Timestamp, ids: &[String], basis: &str, actor: &Actor) -> Result<AppendRequest, EngineError> {
    let mut h = blake3::Hasher::new();
    h.update(&now.as_millis().to_le_bytes());
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    let command_id = CommandId::new(format!("erase-{}", &h.finalize().to_hex()[..32]))
        .map_err(|e| EngineError::bad_input("erasure command id", e.to_string()))?;
    let data = EventData::CustomerErased(CustomerErased {
        key_ids: ids.to_vec(),
        legal_basis: basis.to_owned(),
    });
    let event = Event {
        meta: EventMeta {
            complaint_id: ComplaintId::new(ERASURE_STREAM)
                .map_err(|e| EngineError::bad_input("erasure stream", e.to_string()))?,
            stream_version: 0,
            position: 0,
            occurred_at: now,
            recorded_at: now,
            actor: actor.clone(),
            command_id,
            schema_version: codec::schema_version(data.type_name()).unwrap_or(1),
            command_digest: None,
        },
        data,
    };
    Ok(AppendRequest {
        stream: ERASURE_STREAM.to_owned(),
        expected: ExpectedVersion::Any,
        events: vec![to_new_event(&event)],
    })
}

/// Imports `<local dir>/keys/keys.log` (stores made before the vault) into an empty vault,
/// once: the file is deleted afterwards (the vault now holds its keys, and a leftover copy
/// would outlive later erasures). Returns the note to show the operator.
pub(super) async fn import_legacy_keys(vault: &dyn Vault, local: &Path) -> Result<Option<String>, EngineError> {
    let path = crate::legacy_keys::path_in(local);
    if !path.is_file() {
        return Ok(None);
    }
    let legacy = crate::legacy_keys::read(&path)?;
    let dump = VaultDump {
        match_secret: vault.match_secret().await?,
        keys: legacy.keys,
        links: legacy.links,
    };
    vault.restore(&dump).await.map_err(|e| {
        EngineError::bad_input(
            "legacy key file",
            format!(
                "cannot import {} into the vault {}: {e}; a legacy key file is imported only into an empty vault",
                path.display(),
                vault.vault_location()
            ),
        )
    })?;
    std::fs::remove_file(&path).map_err(|source| EngineError::Io {
        path: path.clone(),
        source,
    })?;
    let erased = dump.keys.iter().filter(|k| k.secret.is_none()).count();
    Ok(Some(format!(
        "imported {} customer keys ({erased} erased) and {} links from {} into the vault {}; the old key file was \
         removed (the vault holds its keys now: back the vault up with the log)",
        dump.keys.len(),
        dump.links.len(),
        path.display(),
        vault.vault_location()
    )))
}

/// Completes the erasures a crash interrupted (issue 13): destroys every key a recorded
/// `CustomerErased` event names that is still live (the audit event is durable before the
/// keys are destroyed). Run at every writable open, before any command, so no `receive` seals
/// under a key an erasure already recorded. Returns how many keys it destroyed.
pub(super) async fn complete_erasures(vault: &dyn Vault, store: &dyn EventStore) -> Result<usize, EngineError> {
    let mut ids: Vec<String> = Vec::new();
    let mut from = 1u64;
    loop {
        let batch = store.read_stream(ERASURE_STREAM, from, READ_BATCH).await?;
        let n = batch.len();
        for r in batch {
            from = r.stream_version + 1;
            if let EventData::CustomerErased(x) = from_recorded_owned(r)?.data {
                ids.extend(x.key_ids);
            }
        }
        if n < READ_BATCH {
            break;
        }
    }
    if ids.is_empty() {
        return Ok(0);
    }
    let destroyed = vault.erase(&ids).await?;
    if destroyed > 0 {
        tracing::warn!(
            keys = destroyed,
            vault = %vault.vault_location(),
            "completed an erasure a crash interrupted: its audit event was recorded, its keys are destroyed now"
        );
    }
    Ok(destroyed)
}

/// One append request per run of events sharing stream and command id (one original append),
/// expecting the stream version the source had before it.
fn requests_of(batch: &[RecordedEvent]) -> Vec<AppendRequest> {
    let mut requests: Vec<AppendRequest> = Vec::new();
    let mut last: Option<(&str, &str)> = None;
    for e in batch {
        let event = NewEvent {
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            occurred_at_ms: e.occurred_at_ms,
            recorded_at_ms: e.recorded_at_ms,
            actor: e.actor.clone(),
            command_id: e.command_id.clone(),
            payload: e.payload.clone(),
        };
        match (last, requests.last_mut()) {
            (Some((stream, command)), Some(request)) if stream == e.stream && command == e.command_id => {
                request.events.push(event)
            }
            _ => requests.push(AppendRequest {
                stream: e.stream.clone(),
                expected: ExpectedVersion::Exact(e.stream_version - 1),
                events: vec![event],
            }),
        }
        last = Some((&e.stream, &e.command_id));
    }
    requests
}

/// [`Engine::verify_vault`] on any store and its vault (`Engine::verify_store` opens the store
/// read-only and calls this too).
pub(crate) async fn verify_vault_on(vault: &dyn Vault, store: &dyn EventStore) -> Result<VaultCoverage, EngineError> {
    let report = vault.verify_vault().await?;
    let dump = vault.dump().await?;
    let location = vault.vault_location();
    let states: HashMap<&str, bool> = dump.keys.iter().map(|k| (k.id.as_str(), k.secret.is_some())).collect();
    let mut referenced: HashMap<String, u64> = HashMap::new();
    // Key id → the last position of an event sealed under it.
    let mut last_sealed: HashMap<String, u64> = HashMap::new();
    let mut erased: HashMap<String, u64> = HashMap::new();
    let mut erasures = 0u64;
    let mut from = 1u64;
    loop {
        let batch = store.read_all(from, READ_BATCH).await?;
        let len = batch.len();
        for r in batch {
            from = r.position + 1;
            if r.event_type != "Received" && r.event_type != "CustomerErased" {
                continue;
            }
            let e = from_recorded_owned(r)?;
            match &e.data {
                EventData::Received(rc) => {
                    if let Some(p) = &rc.customer.personal {
                        referenced.entry(p.key_id.clone()).or_insert(e.meta.position);
                        last_sealed.insert(p.key_id.clone(), e.meta.position);
                    }
                }
                EventData::CustomerErased(x) => {
                    erasures += 1;
                    for id in &x.key_ids {
                        erased.entry(id.clone()).or_insert(e.meta.position);
                    }
                }
                _ => {}
            }
        }
        if len < READ_BATCH {
            break;
        }
    }
    let mut ids: Vec<(&String, &u64)> = referenced.iter().collect();
    ids.sort_by_key(|(_, p)| **p);
    for (id, position) in ids {
        match (states.get(id.as_str()), erased.get(id)) {
            (Some(true), _) | (_, Some(_)) => {}
            (Some(false), None) => {
                return Err(corrupt(
                    location,
                    format!(
                        "key {id:?} (sealing the personal fields of the event at position {position}) is erased, \
                         but the log records no erasure of it"
                    ),
                ))
            }
            (None, None) => {
                return Err(corrupt(
                    location,
                    format!(
                        "key {id:?} (sealing the personal fields of the event at position {position}) is missing \
                         from the vault, and the log records no erasure of it: the vault lost it (restore the \
                         vault from a backup)"
                    ),
                ))
            }
        }
    }
    // Key id → the position of the first event sealed under it after its erasure.
    let late: HashMap<&String, (u64, u64)> = last_sealed
        .iter()
        .filter_map(|(id, &sealed)| erased.get(id).filter(|&&at| at < sealed).map(|&at| (id, (sealed, at))))
        .collect();
    // An erasure not completed first (its key still live: the data is readable now, and the
    // next writable open destroys it), naming what was sealed under the key after it.
    let mut incomplete: Vec<(&u64, &String)> = erased
        .iter()
        .filter(|(id, _)| states.get(id.as_str()) == Some(&true))
        .map(|(id, at)| (at, id))
        .collect();
    incomplete.sort();
    if let Some((position, id)) = incomplete.first() {
        let after = match late.get(id) {
            Some((sealed, _)) => format!(
                "; the event at position {sealed} was sealed under it after the erasure: its personal fields read \
                 now and will read as erased once the erasure completes"
            ),
            None => String::new(),
        };
        return Err(corrupt(
            location,
            format!(
                "the erasure recorded at position {position} did not complete: key {id:?} still exists; it is \
                 destroyed when the store is next opened for writing (or by this process before it seals again), \
                 or run the erasure again{after} ({} incomplete key(s))",
                incomplete.len()
            ),
        ));
    }
    // Sealed after its key's erasure (issue 13), the key destroyed: personal data given after
    // the erasure, lost at once although the log accepted it. The erasure race this names
    // cannot happen in one process since the erasure gate, nor across processes on PostgreSQL
    // since wave 13; a store written before them (docs/security.md) may hold such events.
    let mut late: Vec<(u64, &String, u64)> = late.into_iter().map(|(id, (sealed, at))| (sealed, id, at)).collect();
    late.sort();
    if let Some((sealed, id, at)) = late.first() {
        return Err(corrupt(
            location,
            format!(
                "sealed after its key's erasure: the event at position {sealed} seals personal fields under key \
                 {id:?}, which the erasure recorded at position {at} (before it) destroyed; those fields were \
                 unreadable from the start ({} such key(s))",
                late.len()
            ),
        ));
    }
    Ok(VaultCoverage {
        live_keys: report.live,
        erased_keys: report.erased,
        referenced_keys: referenced.len() as u64,
        erasures,
    })
}

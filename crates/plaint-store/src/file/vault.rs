//! The file log's vault: `vault.pvlt` in the log's directory (see [`crate::vault`]).
//!
//! Written only by the process holding the log's lock, through the log's I/O seam (so the
//! power-cut tests cut through it too), mode 0600.
//!
//! ## Format (version 1, little-endian)
//!
//! A [`VAULT_HEADER_LEN`]-byte header: `PLAINTVAULT\0`, format version u32, the match secret
//! (32 bytes), the first 16 bytes of the BLAKE3 hash of the 48 bytes before. Then records of
//! [`VAULT_RECORD_LEN`] bytes: kind u8 (1 key, 2 erased key, 3 link), text length u8, text
//! (208 bytes, zero padded: a key id, or two owners separated by a space for a link), secret
//! (32 bytes; zeros when erased or a link), 6 zero bytes, checksum: the first 8 bytes of the
//! BLAKE3 hash of the record's number (u64) and its first 248 bytes. A record moved, altered
//! or cut is therefore detected.
//!
//! Keys are appended and `fdatasync`ed before the events sealed under them are handed to the
//! log's writer, so a key is durable before any event that needs it is acknowledged; a record
//! cut by a power cut at the end of the file belongs to no acknowledged event and is cut off at
//! open. Anything else that does not check is damage ([`StoreError::Corrupt`] with the file and
//! offset), never "erased".
//!
//! Erasure rewrites the file without the destroyed secrets (a new file, synced, renamed over
//! the old one, directory synced): the secret is gone from the live file when
//! [`FileVault::erase`] returns, and a crash leaves either the old or the new file, never a
//! torn record.

use crate::io::{AppendFile, LogIo};
use crate::vault::{
    check_key_id, check_owner, key_owner, random_secret, DumpedKey, KeyState, Secret, VaultDump, VaultReport,
    VaultWrite,
};
use crate::StoreError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zeroize::{Zeroize, Zeroizing};

/// The vault's file name in the log directory.
pub const VAULT_FILE: &str = "vault.pvlt";
const VAULT_TMP_FILE: &str = "vault.pvlt.tmp";
const MAGIC: &[u8; 12] = b"PLAINTVAULT\0";
const FORMAT_VERSION: u32 = 1;
/// Bytes of the header.
pub const VAULT_HEADER_LEN: usize = 64;
/// Bytes of one record.
pub const VAULT_RECORD_LEN: usize = 256;
/// Most records one vault file holds (bounds memory: a few hundred bytes each).
pub const VAULT_RECORDS_MAX: u64 = 50_000_000;

const KIND_KEY: u8 = 1;
const KIND_ERASED: u8 = 2;
const KIND_LINK: u8 = 3;
const TEXT_AT: usize = 2;
const TEXT_LEN: usize = 208;
const SECRET_AT: usize = TEXT_AT + TEXT_LEN;
const CHECKSUM_AT: usize = SECRET_AT + 32 + 6;
const _: () = assert!(CHECKSUM_AT + 8 == VAULT_RECORD_LEN);

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn record_checksum(index: u64, r: &[u8]) -> [u8; 8] {
    let mut h = blake3::Hasher::new();
    h.update(&index.to_le_bytes());
    h.update(&r[..CHECKSUM_AT]);
    let mut c = [0u8; 8];
    c.copy_from_slice(&h.finalize().as_bytes()[..8]);
    c
}

fn encode(index: u64, kind: u8, text: &str, secret: Option<&[u8; 32]>) -> Zeroizing<[u8; VAULT_RECORD_LEN]> {
    assert!(text.len() <= TEXT_LEN, "vault text checked before encoding");
    let mut r = Zeroizing::new([0u8; VAULT_RECORD_LEN]);
    r[0] = kind;
    r[1] = text.len() as u8;
    r[TEXT_AT..TEXT_AT + text.len()].copy_from_slice(text.as_bytes());
    if let Some(s) = secret {
        r[SECRET_AT..SECRET_AT + 32].copy_from_slice(s);
    }
    let c = record_checksum(index, &r[..]);
    r[CHECKSUM_AT..].copy_from_slice(&c);
    r
}

fn header(match_secret: &[u8; 32]) -> Zeroizing<[u8; VAULT_HEADER_LEN]> {
    let mut h = Zeroizing::new([0u8; VAULT_HEADER_LEN]);
    h[..12].copy_from_slice(MAGIC);
    h[12..16].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[16..48].copy_from_slice(match_secret);
    let c = blake3::hash(&h[..48]);
    h[48..].copy_from_slice(&c.as_bytes()[..16]);
    h
}

enum Decoded {
    Key { id: String, secret: Option<Secret> },
    Link(String, String),
}

fn decode(index: u64, r: &[u8]) -> Option<Decoded> {
    if r[CHECKSUM_AT..] != record_checksum(index, r) {
        return None;
    }
    let len = r[1] as usize;
    if len == 0 || len > TEXT_LEN {
        return None;
    }
    let text = std::str::from_utf8(&r[TEXT_AT..TEXT_AT + len]).ok()?.to_owned();
    match r[0] {
        KIND_KEY => {
            let mut s = Zeroizing::new([0u8; 32]);
            s.copy_from_slice(&r[SECRET_AT..SECRET_AT + 32]);
            Some(Decoded::Key {
                id: text,
                secret: Some(s),
            })
        }
        KIND_ERASED => Some(Decoded::Key { id: text, secret: None }),
        KIND_LINK => {
            let (a, b) = text.split_once(' ')?;
            Some(Decoded::Link(a.to_owned(), b.to_owned()))
        }
        _ => None,
    }
}

/// What the file holds, in memory.
#[derive(Default)]
struct Table {
    match_secret: Option<Secret>,
    /// Complete records read or written.
    records: u64,
    /// Key id → (record number, secret; `None` once erased).
    keys: HashMap<String, (u64, Option<Secret>)>,
    /// Owner → key ids in creation order.
    by_owner: HashMap<String, Vec<String>>,
    links: HashMap<String, Vec<String>>,
    link_list: Vec<(String, String)>,
    /// Damaged records: (byte offset, what).
    damaged: Vec<(u64, String)>,
    /// The file does not exist (a read-only open of a store without a vault).
    missing: bool,
}

/// A write that would make an erased key again (its id names a destroyed secret), or seal
/// under one: the same error as the PostgreSQL vault's.
fn erased_again(id: &str) -> StoreError {
    StoreError::KeyErased { key_id: id.to_owned() }
}

impl Table {
    /// The newest live key of `owner`.
    fn live_key(&self, owner: &str) -> Option<(String, Secret)> {
        let ids = self.by_owner.get(owner)?;
        ids.iter().rev().find_map(|id| match self.keys.get(id) {
            Some((_, Some(s))) => Some((id.clone(), s.clone())),
            _ => None,
        })
    }

    fn add_key(&mut self, record: u64, id: String, secret: Option<Secret>) {
        let owner = key_owner(&id).to_owned();
        let list = self.by_owner.entry(owner).or_default();
        if !list.contains(&id) {
            list.push(id.clone());
        }
        self.keys.insert(id, (record, secret));
    }

    fn add_link(&mut self, a: String, b: String) -> bool {
        if self.links.get(&a).is_some_and(|l| l.contains(&b)) {
            return false;
        }
        self.links.entry(a.clone()).or_default().push(b.clone());
        self.links.entry(b.clone()).or_default().push(a.clone());
        self.link_list.push((a, b));
        true
    }
}

struct Inner {
    table: Table,
    append: Option<Box<dyn AppendFile>>,
}

/// The vault file of one log directory.
pub struct FileVault {
    io: Arc<dyn LogIo>,
    dir: PathBuf,
    path: PathBuf,
    read_only: bool,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for FileVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileVault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileVault {
    /// Opens the vault of the log in `dir`, creating it (with a fresh match secret) when the
    /// log is writable and has none. A read-only open of a directory without a vault sees an
    /// empty vault ([`crate::vault::Vault::verify_vault`] then reports it missing when events
    /// need keys).
    pub fn open(io: Arc<dyn LogIo>, dir: &Path, read_only: bool) -> Result<FileVault, StoreError> {
        let path = dir.join(VAULT_FILE);
        let vault = FileVault {
            io,
            dir: dir.to_path_buf(),
            path,
            read_only,
            inner: Mutex::new(Inner {
                table: Table::default(),
                append: None,
            }),
        };
        let exists = match vault.io.file_len(&vault.path) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io_err(&vault.path, e)),
        };
        if !exists && !read_only {
            let secret = random_secret()?;
            vault.replace_file(&header(&secret)[..], &[])?;
        }
        let table = vault.load(!read_only)?;
        let mut inner = vault.lock();
        inner.table = table;
        if !read_only {
            inner.append = Some(
                vault
                    .io
                    .open_append(&vault.path, false)
                    .map_err(|e| io_err(&vault.path, e))?,
            );
        }
        drop(inner);
        Ok(vault)
    }

    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn corrupt(&self, offset: u64, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            file: self.path.display().to_string(),
            offset,
            detail: detail.into(),
        }
    }

    /// Reads the whole file. `repair`: cut a record torn at the end by a crash.
    fn load(&self, repair: bool) -> Result<Table, StoreError> {
        let mut table = Table::default();
        let bytes = match self.io.read_whole(&self.path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                table.missing = true;
                return Ok(table);
            }
            Err(e) => return Err(io_err(&self.path, e)),
        };
        if bytes.len() < VAULT_HEADER_LEN {
            return Err(self.corrupt(0, format!("{} bytes, shorter than the vault header", bytes.len())));
        }
        if &bytes[..12] != MAGIC {
            return Err(self.corrupt(0, "not a plaint vault (bad magic)"));
        }
        let version = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(self.corrupt(
                12,
                format!("vault format version {version}; this program reads {FORMAT_VERSION}"),
            ));
        }
        if bytes[48..64] != blake3::hash(&bytes[..48]).as_bytes()[..16] {
            return Err(self.corrupt(0, "vault header checksum does not match (match secret damaged)"));
        }
        let mut ms = Zeroizing::new([0u8; 32]);
        ms.copy_from_slice(&bytes[16..48]);
        table.match_secret = Some(ms);
        let body = &bytes[VAULT_HEADER_LEN..];
        let complete = body.len() / VAULT_RECORD_LEN;
        if complete as u64 > VAULT_RECORDS_MAX {
            return Err(StoreError::Limit {
                what: format!("records in {}", self.path.display()),
                actual: complete as u64,
                max: VAULT_RECORDS_MAX,
            });
        }
        let mut keep = complete;
        for (i, r) in body.chunks_exact(VAULT_RECORD_LEN).enumerate() {
            let index = i as u64;
            let offset = (VAULT_HEADER_LEN + i * VAULT_RECORD_LEN) as u64;
            match decode(index, r) {
                Some(Decoded::Key { id, secret }) => table.add_key(index, id, secret),
                Some(Decoded::Link(a, b)) => {
                    table.add_link(a, b);
                }
                // The last record, torn by a power cut while being appended (its key belongs to
                // no acknowledged event), or still being written by the writing process.
                None if i + 1 == complete => keep = i,
                None => table.damaged.push((offset, "record checksum does not match".into())),
            }
        }
        table.records = keep as u64;
        let good = (VAULT_HEADER_LEN + keep * VAULT_RECORD_LEN) as u64;
        if repair && good != bytes.len() as u64 {
            self.io.truncate(&self.path, good).map_err(|e| io_err(&self.path, e))?;
        }
        Ok(table)
    }

    /// Writes `header` + `records` to a new file and renames it over the vault.
    fn replace_file(&self, header: &[u8], records: &[u8]) -> Result<(), StoreError> {
        let tmp = self.dir.join(VAULT_TMP_FILE);
        match self.io.remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&tmp, e)),
        }
        let mut f = self.io.open_append(&tmp, true).map_err(|e| io_err(&tmp, e))?;
        self.io.make_private(&tmp).map_err(|e| io_err(&tmp, e))?;
        let mut all = Zeroizing::new(Vec::with_capacity(header.len() + records.len()));
        all.extend_from_slice(header);
        all.extend_from_slice(records);
        f.write_all(&all).map_err(|e| io_err(&tmp, e))?;
        f.sync_data().map_err(|e| io_err(&tmp, e))?;
        drop(f);
        self.io.rename(&tmp, &self.path).map_err(|e| io_err(&self.path, e))?;
        self.io.sync_dir(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        Ok(())
    }

    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.dir.display().to_string(),
            });
        }
        Ok(())
    }

    /// Re-reads the file when a key is not known (a read-only reader beside a writer).
    fn refresh_on_miss(&self, inner: &mut Inner, id: &str) -> Result<(), StoreError> {
        if self.read_only && !inner.table.keys.contains_key(id) {
            inner.table = self.load(false)?;
        }
        Ok(())
    }

    /// The match secret.
    pub fn match_secret(&self) -> Result<Secret, StoreError> {
        let inner = self.lock();
        inner
            .table
            .match_secret
            .clone()
            .ok_or_else(|| self.corrupt(0, "the vault file is missing"))
    }

    /// A live key of `owner` (the newest).
    pub fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError> {
        Ok(self.lock().table.live_key(owner))
    }

    /// [`FileVault::live_key`] when the table is free now; `None` while another thread holds
    /// it (a write holds it through its `fdatasync`).
    pub fn live_key_at_once(&self, owner: &str) -> Option<Result<Option<(String, Secret)>, StoreError>> {
        let inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(Ok(inner.table.live_key(owner)))
    }

    /// The key with this id.
    pub fn key(&self, id: &str) -> Result<KeyState, StoreError> {
        let mut inner = self.lock();
        self.refresh_on_miss(&mut inner, id)?;
        Ok(match inner.table.keys.get(id) {
            Some((_, Some(s))) => KeyState::Live(s.clone()),
            Some((_, None)) => KeyState::Erased,
            None => match inner.table.damaged.first() {
                // A key that is not there while records are damaged may be one of them.
                Some((offset, detail)) => {
                    return Err(self.corrupt(*offset, format!("{detail}; key {id:?} may be in it")));
                }
                None => KeyState::Missing,
            },
        })
    }

    /// Every key id of `owner`.
    pub fn keys_of(&self, owner: &str) -> Vec<String> {
        self.lock().table.by_owner.get(owner).cloned().unwrap_or_default()
    }

    /// The owners linked to `owner`.
    pub fn linked(&self, owner: &str) -> Vec<String> {
        self.lock().table.links.get(owner).cloned().unwrap_or_default()
    }

    /// Refuses a write sealing under a key that is erased ([`VaultWrite::sealed`]). The file
    /// log has one writer process, whose erasure gate keeps erasures and sealing commands apart:
    /// this holds the vault to the same contract as the PostgreSQL one.
    pub fn check_sealed(&self, write: &VaultWrite) -> Result<(), StoreError> {
        if write.sealed.is_empty() {
            return Ok(());
        }
        Self::sealed_in(&self.lock(), write)
    }

    /// [`check_sealed`](Self::check_sealed) without waiting: `None` while a write holds the
    /// table (through its `fdatasync`), so a runtime worker never waits on it.
    pub fn check_sealed_at_once(&self, write: &VaultWrite) -> Option<Result<(), StoreError>> {
        if write.sealed.is_empty() {
            return Some(Ok(()));
        }
        let inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(Self::sealed_in(&inner, write))
    }

    fn sealed_in(inner: &Inner, write: &VaultWrite) -> Result<(), StoreError> {
        match write
            .sealed
            .iter()
            .find(|id| matches!(inner.table.keys.get(*id), Some((_, None))))
        {
            Some(id) => Err(erased_again(id)),
            None => Ok(()),
        }
    }

    /// Appends `write`'s keys and links and makes them durable (one `fdatasync`). Keys and
    /// links already present are skipped.
    pub fn write(&self, write: &VaultWrite) -> Result<(), StoreError> {
        self.writable()?;
        crate::vault::check_write(write)?;
        if write.is_empty() {
            return Ok(());
        }
        let mut inner = self.lock();
        if let Some((offset, detail)) = inner.table.damaged.first() {
            return Err(self.corrupt(*offset, format!("{detail}; refusing to add keys to a damaged vault")));
        }
        let mut buf = Zeroizing::new(Vec::new());
        let mut next = inner.table.records;
        let mut new_keys = Vec::new();
        for k in &write.keys {
            match inner.table.keys.get(&k.id) {
                // An erased key is never made again: its owner's next key is a new one.
                Some((_, None)) => return Err(erased_again(&k.id)),
                Some(_) => continue,
                None if new_keys.iter().any(|(_, id, _)| id == &k.id) => continue,
                None => {}
            }
            buf.extend_from_slice(&encode(next, KIND_KEY, &k.id, Some(&k.secret))[..]);
            new_keys.push((next, k.id.clone(), k.secret.clone()));
            next += 1;
        }
        let mut new_links = Vec::new();
        for (a, b) in &write.links {
            if a == b || inner.table.links.get(a).is_some_and(|l| l.contains(b)) {
                continue;
            }
            buf.extend_from_slice(&encode(next, KIND_LINK, &format!("{a} {b}"), None)[..]);
            new_links.push((a.clone(), b.clone()));
            next += 1;
        }
        if next > VAULT_RECORDS_MAX {
            return Err(StoreError::Limit {
                what: format!("records in {}", self.path.display()),
                actual: next,
                max: VAULT_RECORDS_MAX,
            });
        }
        if buf.is_empty() {
            return Ok(());
        }
        let append = inner.append.as_mut().expect("a writable vault has its file open");
        append.write_all(&buf).map_err(|e| io_err(&self.path, e))?;
        append.sync_data().map_err(|e| io_err(&self.path, e))?;
        inner.table.records = next;
        for (record, id, secret) in new_keys {
            inner.table.add_key(record, id, Some(secret));
        }
        for (a, b) in new_links {
            inner.table.add_link(a, b);
        }
        Ok(())
    }

    /// Destroys these keys' secrets: rewrites the file without them. Returns how many were live.
    pub fn erase(&self, ids: &[String]) -> Result<usize, StoreError> {
        self.writable()?;
        let mut inner = self.lock();
        let live: Vec<&String> = ids
            .iter()
            .filter(|id| matches!(inner.table.keys.get(*id), Some((_, Some(_)))))
            .collect();
        if live.is_empty() {
            return Ok(0);
        }
        if let Some((offset, detail)) = inner.table.damaged.first() {
            return Err(self.corrupt(
                *offset,
                format!("{detail}; repair the vault from a backup before erasing"),
            ));
        }
        let n = live.len();
        let live: Vec<String> = live.into_iter().cloned().collect();
        // The new image: every record as it is, the erased keys' secrets gone.
        let old = Zeroizing::new(self.io.read_whole(&self.path).map_err(|e| io_err(&self.path, e))?);
        let end = VAULT_HEADER_LEN + inner.table.records as usize * VAULT_RECORD_LEN;
        if old.len() < end {
            return Err(self.corrupt(old.len() as u64, "vault file shorter than the records it held"));
        }
        let mut body = Zeroizing::new(old[VAULT_HEADER_LEN..end].to_vec());
        for id in &live {
            let (record, _) = inner.table.keys.get(id).expect("live key");
            let at = *record as usize * VAULT_RECORD_LEN;
            let erased = encode(*record, KIND_ERASED, id, None);
            body[at..at + VAULT_RECORD_LEN].copy_from_slice(&erased[..]);
        }
        // Close the append handle: the file it points to is replaced.
        inner.append = None;
        self.replace_file(&old[..VAULT_HEADER_LEN], &body)?;
        inner.append = Some(
            self.io
                .open_append(&self.path, false)
                .map_err(|e| io_err(&self.path, e))?,
        );
        for id in live {
            if let Some((_, secret)) = inner.table.keys.get_mut(&id) {
                if let Some(mut s) = secret.take() {
                    s.zeroize();
                }
            }
        }
        Ok(n)
    }

    /// Re-reads the whole file and checks every record.
    pub fn verify(&self) -> Result<VaultReport, StoreError> {
        let table = self.load(false)?;
        if table.missing {
            return Err(self.corrupt(0, "the vault file is missing"));
        }
        if let Some((offset, detail)) = table.damaged.first() {
            return Err(self.corrupt(*offset, detail.clone()));
        }
        let erased = table.keys.values().filter(|(_, s)| s.is_none()).count() as u64;
        Ok(VaultReport {
            live: table.keys.len() as u64 - erased,
            erased,
            links: table.link_list.len() as u64,
        })
    }

    /// Everything the vault holds.
    pub fn dump(&self) -> Result<VaultDump, StoreError> {
        let inner = self.lock();
        if let Some((offset, detail)) = inner.table.damaged.first() {
            return Err(self.corrupt(*offset, detail.clone()));
        }
        let match_secret = inner
            .table
            .match_secret
            .clone()
            .ok_or_else(|| self.corrupt(0, "the vault file is missing"))?;
        let mut keys: Vec<(u64, DumpedKey)> = inner
            .table
            .keys
            .iter()
            .map(|(id, (record, secret))| {
                (
                    *record,
                    DumpedKey {
                        id: id.clone(),
                        secret: secret.clone(),
                    },
                )
            })
            .collect();
        keys.sort_by_key(|(r, _)| *r);
        Ok(VaultDump {
            match_secret,
            keys: keys.into_iter().map(|(_, k)| k).collect(),
            links: inner.table.link_list.clone(),
        })
    }

    /// Fills an empty vault with `dump` (the file is rewritten with its match secret).
    pub fn restore(&self, dump: &VaultDump) -> Result<(), StoreError> {
        self.writable()?;
        let mut inner = self.lock();
        if !inner.table.keys.is_empty() || !inner.table.link_list.is_empty() {
            return Err(StoreError::InvalidAppend {
                stream: "<vault>".into(),
                reason: format!(
                    "{} already holds keys; a vault is restored only into an empty one",
                    self.path.display()
                ),
            });
        }
        let mut table = Table {
            match_secret: Some(dump.match_secret.clone()),
            ..Table::default()
        };
        let mut body = Zeroizing::new(Vec::new());
        let mut next = 0u64;
        for k in &dump.keys {
            check_key_id(&k.id)?;
            if table.keys.contains_key(&k.id) {
                continue;
            }
            let kind = if k.secret.is_some() { KIND_KEY } else { KIND_ERASED };
            body.extend_from_slice(&encode(next, kind, &k.id, k.secret.as_deref())[..]);
            table.add_key(next, k.id.clone(), k.secret.clone());
            next += 1;
        }
        for (a, b) in &dump.links {
            check_owner(a)?;
            check_owner(b)?;
            if table.add_link(a.clone(), b.clone()) {
                body.extend_from_slice(&encode(next, KIND_LINK, &format!("{a} {b}"), None)[..]);
                next += 1;
            }
        }
        table.records = next;
        inner.append = None;
        self.replace_file(&header(&dump.match_secret)[..], &body)?;
        inner.append = Some(
            self.io
                .open_append(&self.path, false)
                .map_err(|e| io_err(&self.path, e))?,
        );
        inner.table = table;
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::vault::Vault for super::FileLog {
    fn vault_location(&self) -> String {
        self.vault.path().display().to_string()
    }

    async fn match_secret(&self) -> Result<Secret, StoreError> {
        self.vault.match_secret()
    }

    async fn live_key(&self, owner: &str) -> Result<Option<(String, Secret)>, StoreError> {
        self.vault.live_key(owner)
    }

    fn live_key_at_once(&self, owner: &str) -> Option<Result<Option<(String, Secret)>, StoreError>> {
        self.vault.live_key_at_once(owner)
    }

    async fn key(&self, id: &str) -> Result<KeyState, StoreError> {
        let vault = self.vault.clone();
        let id = id.to_owned();
        super::blocking(move || vault.key(&id)).await
    }

    async fn keys_of(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.vault.keys_of(owner))
    }

    async fn linked(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.vault.linked(owner))
    }

    async fn append_with_vault(
        &self,
        requests: Vec<crate::AppendRequest>,
        write: VaultWrite,
    ) -> Result<Vec<crate::AppendResult>, StoreError> {
        // Never on the runtime worker while a write holds the vault through its `fdatasync`.
        match self.vault.check_sealed_at_once(&write) {
            Some(checked) => checked?,
            None => {
                let (vault, sealed) = (self.vault.clone(), write.sealed.clone());
                let sealed_only = VaultWrite {
                    keys: Vec::new(),
                    links: Vec::new(),
                    sealed,
                };
                super::blocking(move || vault.check_sealed(&sealed_only)).await?
            }
        }
        if write.is_empty() {
            return crate::EventStore::append_many(self, requests).await;
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let bytes = super::check_requests(&requests)?;
        crate::vault::check_write(&write)?;
        let n = requests.len();
        // The writer thread writes the keys durably once it accepted the append and before
        // it writes the events: nothing is created for a refused append, and an event never
        // references a key a crash could lose.
        let results = self
            .check_writable()?
            .submit_with_vault(requests, bytes, Some((self.vault.clone(), write)))
            .await?;
        assert_eq!(results.len(), n);
        Ok(results)
    }

    async fn erase(&self, ids: &[String]) -> Result<usize, StoreError> {
        let vault = self.vault.clone();
        let ids = ids.to_vec();
        super::blocking(move || vault.erase(&ids)).await
    }

    /// Two steps (the caller's): the file log's one writer process keeps erasures and sealing
    /// commands apart with its erasure gate.
    async fn erase_recorded(
        &self,
        _erasure: crate::vault::ErasureRecord<'_>,
    ) -> Result<Option<crate::vault::RecordedErasure>, StoreError> {
        Ok(None)
    }

    async fn verify_vault(&self) -> Result<VaultReport, StoreError> {
        let vault = self.vault.clone();
        super::blocking(move || vault.verify()).await
    }

    async fn dump(&self) -> Result<VaultDump, StoreError> {
        let vault = self.vault.clone();
        super::blocking(move || vault.dump()).await
    }

    async fn restore(&self, dump: &VaultDump) -> Result<(), StoreError> {
        let vault = self.vault.clone();
        let dump = dump.clone();
        super::blocking(move || vault.restore(&dump)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{random_secret, NewKey};

    fn write_of(id: &str) -> VaultWrite {
        VaultWrite {
            keys: vec![NewKey {
                id: id.to_owned(),
                secret: random_secret().unwrap(),
            }],
            links: Vec::new(),
            sealed: Vec::new(),
        }
    }

    /// The preparation's read never waits: while a write holds the table (through its
    /// `fdatasync`), it answers `None`; otherwise what `live_key` answers.
    #[test]
    fn the_read_at_once_never_waits_for_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let vault = FileVault::open(Arc::new(crate::io::RealIo), dir.path(), false).unwrap();
        vault.write(&write_of("owner.k1")).unwrap();
        let held = vault.lock();
        assert!(
            vault.live_key_at_once("owner").is_none(),
            "the table is held: no answer"
        );
        drop(held);
        let (id, _) = vault.live_key_at_once("owner").unwrap().unwrap().unwrap();
        assert_eq!(id, "owner.k1");
        assert!(vault.live_key_at_once("other").unwrap().unwrap().is_none());
    }

    /// A sealed-only append (a known customer's receive) never waits on a runtime worker for
    /// the vault a write holds through its `fdatasync`: another task on the one worker runs.
    #[test]
    fn a_sealed_append_does_not_block_the_runtime_on_the_vault() {
        use crate::vault::Vault as _;
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(super::super::FileLog::open(dir.path(), Default::default()).unwrap());
        log.vault.write(&write_of("owner.k1")).unwrap();
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let vault = log.vault.clone();
        let holder = std::thread::spawn(move || {
            let _held = vault.lock();
            held_tx.send(()).unwrap();
            // Released by the runtime's other task, or after 3 s if the worker is blocked.
            release_rx.recv_timeout(std::time::Duration::from_secs(3)).is_ok()
        });
        held_rx.recv().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let appending = tokio::spawn({
                let log = log.clone();
                async move {
                    let write = VaultWrite {
                        keys: Vec::new(),
                        links: Vec::new(),
                        sealed: vec!["owner.k1".to_owned()],
                    };
                    let request = crate::AppendRequest {
                        stream: "complaint-1".to_owned(),
                        expected: crate::ExpectedVersion::Any,
                        events: vec![crate::conformance::sample_event("c1", 0)],
                    };
                    log.append_with_vault(vec![request], write).await
                }
            });
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            release_tx.send(()).unwrap();
            appending.await.unwrap().unwrap();
        });
        assert!(holder.join().unwrap(), "the runtime's one worker waited on the vault");
    }

    /// An erased key is never made again (its owner's next key is a new one): a write naming
    /// it is refused, not skipped; a live key named again is skipped (a write repeated).
    #[test]
    fn a_write_naming_an_erased_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = FileVault::open(Arc::new(crate::io::RealIo), dir.path(), false).unwrap();
        vault.write(&write_of("owner.k1")).unwrap();
        vault.write(&write_of("owner.k1")).unwrap();
        assert_eq!(vault.erase(&["owner.k1".to_owned()]).unwrap(), 1);
        let refused = vault.write(&write_of("owner.k1")).unwrap_err();
        assert!(matches!(refused, StoreError::KeyErased { .. }), "{refused:?}");
        assert!(matches!(vault.key("owner.k1").unwrap(), KeyState::Erased));
    }
}

//! The customer key store behind crypto-shredding (DOMAIN.md §9).
//!
//! Personal fields (name, phone, address) are sealed in the log under a key of their customer's
//! own. The key store keeps those keys outside the log, in `<store dir>/keys/keys.log`; erasing
//! a customer destroys their key, after which every event still replays and every figure stays
//! the same, but the personal fields can no longer be opened: they read as erased.
//!
//! Keys are found by the customer's pseudonymous match key (see
//! [`plaint_domain::personal::match_key`]). A key's id is `<match key>.<generation>`: after an
//! erasure the same customer may complain again and gets a fresh key of the next generation,
//! so erased data never becomes readable again and new data is never sealed under a dead key.
//!
//! ## File format (`keys.log`, version 1, little-endian)
//!
//! A 16-byte header (`PLAINTKEYS` + 2 zero bytes + format version u32), then fixed-size
//! records of [`KEY_RECORD_LEN`] bytes: state u8 (1 live, 2 erased), key id length u8, key id
//! (128 bytes, zero padded), secret (32 bytes; zeros once erased), the first 4 bytes of the
//! BLAKE3 hash of everything before (checksum), 2 zero bytes.
//!
//! Why one record file and not a file per key: a new key must be durable before an event
//! sealed under it commits. With a file per key that is one fsync per new customer; measured
//! on this project's 2-core machine under a concurrent build, 10,000 new customers took 51 s of
//! fsyncs alone (plus 7 s to create the files). New records are appended and made durable with
//! one fsync per batch ([`KeyStore::sync`]).
//!
//! Erasure overwrites the record in place (secret zeroed, state erased, new checksum) and
//! fsyncs before it returns, as overwriting a key file before unlinking it would. The only
//! in-place write is an erasure, so a record with a bad checksum before the last one can only be
//! a torn erasure and reads as erased; a torn record at the very end is a key creation cut by a
//! crash (never referenced by a committed event, since keys are synced before the log append)
//! and is cut off at open.
//!
//! ```
//! use plaint::keys::KeyStore;
//! let dir = tempfile::tempdir().unwrap();
//! let keys = KeyStore::open(dir.path().join("keys")).unwrap();
//! let k = keys.key_for("c0ffee").unwrap();
//! assert_eq!(keys.get(&k.id).unwrap(), Some(k.clone()));
//! assert_eq!(keys.erase_customer("c0ffee").unwrap(), 1);
//! assert_eq!(keys.get(&k.id).unwrap(), None);
//! assert!(keys.is_erased(&k.id));
//! ```

use plaint_domain::personal::{validate_key_id, CustomerKey, KEY_ID_LEN_MAX};
use rand::RngCore;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most key generations one customer can go through (each erasure starts a new one).
pub const KEY_GENERATIONS_MAX: u32 = 1_000;
/// Size of one key record in `keys.log`.
pub const KEY_RECORD_LEN: usize = 168;
/// Most keys one store holds (bounds the in-memory table: about 200 bytes each).
pub const KEYS_MAX: usize = 50_000_000;

const FILE_NAME: &str = "keys.log";
const MAGIC: &[u8; 12] = b"PLAINTKEYS\0\0";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 16;
const STATE_LIVE: u8 = 1;
const STATE_ERASED: u8 = 2;
/// A link between two match keys of one customer (phone and customer id): erasing either
/// erases the keys of both. The id field holds one match key, the secret field the other's 32
/// bytes (match keys linked are 64 hex digits).
const STATE_ALIAS: u8 = 3;
const ID_FIELD_LEN: usize = 128;
const SECRET_AT: usize = 2 + ID_FIELD_LEN;
const CHECKSUM_AT: usize = SECRET_AT + 32;

const _: () = assert!(CHECKSUM_AT + 4 + 2 == KEY_RECORD_LEN);
const _: () = assert!(KEY_ID_LEN_MAX <= ID_FIELD_LEN);

/// Errors of the key store. Each names the file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// Reading or writing the key file failed.
    #[error("key store I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file does not start with the key store's magic.
    #[error("key store {path} is not a plaint key file (bad header)")]
    BadHeader {
        /// The key file.
        path: PathBuf,
    },
    /// The file was written by another format version.
    #[error("key store {path} has format version {version}; this program reads version {FORMAT_VERSION}")]
    UnknownVersion {
        /// The key file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// The match key cannot name a key.
    #[error("match key {match_key:?} is not usable as a key id (empty, too long, or not [0-9a-z:_-])")]
    BadMatchKey {
        /// The match key given.
        match_key: String,
    },
    /// The customer was erased too often.
    #[error("customer {match_key:?} went through {KEY_GENERATIONS_MAX} key generations; refusing more")]
    TooManyGenerations {
        /// The customer's match key.
        match_key: String,
    },
    /// The store holds [`KEYS_MAX`] keys.
    #[error("key store {path} holds {KEYS_MAX} keys, its limit")]
    Full {
        /// The key file.
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Record number in the file.
    record: u64,
    /// `None` once erased.
    secret: Option<[u8; 32]>,
}

#[derive(Debug)]
struct Inner {
    file: fs::File,
    /// Complete records in the file (the next record number).
    records: u64,
    slots: HashMap<String, Slot>,
    /// Match keys linked to each match key, both directions.
    aliases: HashMap<String, Vec<String>>,
    /// Records appended since the last sync.
    unsynced: bool,
}

/// Per-customer keys in one record file (see the module docs).
///
/// Safe to share between tasks: every operation takes an internal lock. One process writes
/// (the store's own lock keeps other writers away); a reader in another process sees keys
/// created after it opened (it re-reads the file's tail on a miss) but not later erasures.
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    path: PathBuf,
    inner: Mutex<Inner>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyStoreError + '_ {
    move |source| KeyStoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn checksum(record: &[u8]) -> [u8; 4] {
    let h = blake3::hash(&record[..CHECKSUM_AT]);
    let mut c = [0u8; 4];
    c.copy_from_slice(&h.as_bytes()[..4]);
    c
}

fn encode(key_id: &str, secret: Option<&[u8; 32]>) -> [u8; KEY_RECORD_LEN] {
    assert!(key_id.len() <= ID_FIELD_LEN, "key id checked before encoding");
    let mut r = [0u8; KEY_RECORD_LEN];
    r[0] = if secret.is_some() { STATE_LIVE } else { STATE_ERASED };
    r[1] = key_id.len() as u8;
    r[2..2 + key_id.len()].copy_from_slice(key_id.as_bytes());
    if let Some(s) = secret {
        r[SECRET_AT..CHECKSUM_AT].copy_from_slice(s);
    }
    let c = checksum(&r);
    r[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&c);
    r
}

fn encode_alias(from: &str, to: &[u8; 32]) -> [u8; KEY_RECORD_LEN] {
    let mut r = encode(from, Some(to));
    r[0] = STATE_ALIAS;
    let c = checksum(&r);
    r[CHECKSUM_AT..CHECKSUM_AT + 4].copy_from_slice(&c);
    r
}

/// What a record holds.
enum Record {
    Key { id: String, secret: Option<[u8; 32]> },
    Alias { from: String, to: String },
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn to_hex(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A record read back: `None` when its checksum or fields do not hold.
fn decode(r: &[u8]) -> Option<Record> {
    debug_assert_eq!(r.len(), KEY_RECORD_LEN);
    if r[CHECKSUM_AT..CHECKSUM_AT + 4] != checksum(r) {
        return None;
    }
    let len = r[1] as usize;
    if len == 0 || len > ID_FIELD_LEN {
        return None;
    }
    let id = std::str::from_utf8(&r[2..2 + len]).ok()?.to_owned();
    let mut s = [0u8; 32];
    s.copy_from_slice(&r[SECRET_AT..CHECKSUM_AT]);
    match r[0] {
        STATE_LIVE => Some(Record::Key { id, secret: Some(s) }),
        STATE_ERASED => Some(Record::Key { id, secret: None }),
        STATE_ALIAS => Some(Record::Alias {
            from: id,
            to: to_hex(&s),
        }),
        _ => None,
    }
}

impl KeyStore {
    /// Opens (creating it if needed) the key store in directory `dir`. Cuts off a torn final
    /// record left by a crash.
    pub fn open(dir: impl Into<PathBuf>) -> Result<KeyStore, KeyStoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(FILE_NAME);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        let len = file.metadata().map_err(io_err(&path))?.len();
        if len < HEADER_LEN as u64 {
            // New (or a header torn while being created: nothing can follow it).
            let mut header = [0u8; HEADER_LEN];
            header[..12].copy_from_slice(MAGIC);
            header[12..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
            file.set_len(0).map_err(io_err(&path))?;
            file.write_all(&header).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            sync_dir(&dir)?;
        }
        let mut store = KeyStore {
            dir,
            path,
            inner: Mutex::new(Inner {
                file,
                records: 0,
                slots: HashMap::new(),
                aliases: HashMap::new(),
                unsynced: false,
            }),
        };
        store.check_header()?;
        {
            let inner = store.inner.get_mut().unwrap_or_else(|p| p.into_inner());
            Self::read_tail(&store.path, inner, true)?;
        }
        Ok(store)
    }

    fn check_header(&mut self) -> Result<(), KeyStoreError> {
        let path = self.path.clone();
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        let mut header = [0u8; HEADER_LEN];
        inner.file.seek(SeekFrom::Start(0)).map_err(io_err(&path))?;
        inner.file.read_exact(&mut header).map_err(io_err(&path))?;
        if &header[..12] != MAGIC {
            return Err(KeyStoreError::BadHeader { path });
        }
        let version = u32::from_le_bytes(header[12..].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(KeyStoreError::UnknownVersion { path, version });
        }
        Ok(())
    }

    /// Reads the records after the ones already known. At open (`repair`), a torn final record
    /// is cut off; otherwise an incomplete tail is left for the writer to finish.
    fn read_tail(path: &Path, inner: &mut Inner, repair: bool) -> Result<(), KeyStoreError> {
        let start = HEADER_LEN as u64 + inner.records * KEY_RECORD_LEN as u64;
        let len = inner.file.metadata().map_err(io_err(path))?.len();
        if len <= start {
            return Ok(());
        }
        let mut buf = vec![0u8; (len - start) as usize];
        inner.file.seek(SeekFrom::Start(start)).map_err(io_err(path))?;
        inner.file.read_exact(&mut buf).map_err(io_err(path))?;
        let complete = buf.len() / KEY_RECORD_LEN;
        let mut keep = complete;
        for (i, r) in buf.chunks_exact(KEY_RECORD_LEN).enumerate() {
            let record = inner.records + i as u64;
            match decode(r) {
                Some(Record::Key { id, secret }) => {
                    inner.slots.insert(id, Slot { record, secret });
                }
                Some(Record::Alias { from, to }) => add_alias(&mut inner.aliases, from, to),
                // The last record, torn by a crash while it was being created (cut at open), or
                // still being written by the writing process (read again later).
                None if i + 1 == complete => keep = i,
                // A torn erasure (the only in-place write): the key is gone. The id may be
                // unreadable; a reader then finds no key, which also reads as erased.
                None => {
                    let len = (r[1] as usize).min(ID_FIELD_LEN);
                    if let Ok(id) = std::str::from_utf8(&r[2..2 + len]) {
                        if !id.is_empty() {
                            inner.slots.insert(id.to_owned(), Slot { record, secret: None });
                        }
                    }
                }
            }
        }
        inner.records += keep as u64;
        if repair && (keep != complete || buf.len() % KEY_RECORD_LEN != 0) {
            let good = HEADER_LEN as u64 + inner.records * KEY_RECORD_LEN as u64;
            inner.file.set_len(good).map_err(io_err(path))?;
            inner.file.sync_all().map_err(io_err(path))?;
        }
        Ok(())
    }

    /// The directory holding the key file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_match_key(match_key: &str) -> Result<(), KeyStoreError> {
        let ok = validate_key_id(match_key)
            && match_key.len() + 1 + 4 <= KEY_ID_LEN_MAX
            && match_key
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || matches!(b, b':' | b'_' | b'-'));
        if ok {
            Ok(())
        } else {
            Err(KeyStoreError::BadMatchKey {
                match_key: match_key.to_owned(),
            })
        }
    }

    /// The current key of the customer with this match key, created (random, 256 bits) and
    /// made durable if the customer has none yet or their last one was erased.
    pub fn key_for(&self, match_key: &str) -> Result<CustomerKey, KeyStoreError> {
        let key = self.key_for_deferred(match_key)?;
        self.sync()?;
        Ok(key)
    }

    /// Like [`KeyStore::key_for`], but a newly created key is not fsynced yet: the caller must
    /// call [`KeyStore::sync`] before anything sealed under it is committed. Lets a bulk import
    /// pay one fsync for many new customers.
    pub fn key_for_deferred(&self, match_key: &str) -> Result<CustomerKey, KeyStoreError> {
        Self::check_match_key(match_key)?;
        let mut inner = self.lock();
        for generation in 1..=KEY_GENERATIONS_MAX {
            let id = format!("{match_key}.{generation}");
            match inner.slots.get(&id) {
                Some(Slot { secret: Some(s), .. }) => return Ok(CustomerKey { id, secret: *s }),
                Some(Slot { secret: None, .. }) => continue,
                None => {}
            }
            if inner.slots.len() >= KEYS_MAX {
                return Err(KeyStoreError::Full {
                    path: self.path.clone(),
                });
            }
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let record = inner.records;
            let at = HEADER_LEN as u64 + record * KEY_RECORD_LEN as u64;
            let bytes = encode(&id, Some(&secret));
            write_at(&mut inner.file, at, &bytes).map_err(io_err(&self.path))?;
            inner.records += 1;
            inner.unsynced = true;
            inner.slots.insert(
                id.clone(),
                Slot {
                    record,
                    secret: Some(secret),
                },
            );
            return Ok(CustomerKey { id, secret });
        }
        Err(KeyStoreError::TooManyGenerations {
            match_key: match_key.to_owned(),
        })
    }

    /// Records that two match keys belong to one customer (the phone's and the customer id's),
    /// so erasing by either destroys the keys of both. Not durable until [`KeyStore::sync`].
    /// Match keys that are not 64 hex digits (per-complaint owners) are not linked.
    pub fn link(&self, a: &str, b: &str) -> Result<(), KeyStoreError> {
        let (Some(_), Some(to)) = (hex32(a), hex32(b)) else {
            return Ok(());
        };
        if a == b {
            return Ok(());
        }
        let mut inner = self.lock();
        if inner.aliases.get(a).is_some_and(|l| l.iter().any(|x| x == b)) {
            return Ok(());
        }
        let record = inner.records;
        let at = HEADER_LEN as u64 + record * KEY_RECORD_LEN as u64;
        write_at(&mut inner.file, at, &encode_alias(a, &to)).map_err(io_err(&self.path))?;
        inner.records += 1;
        inner.unsynced = true;
        add_alias(&mut inner.aliases, a.to_owned(), b.to_owned());
        Ok(())
    }

    /// The match keys linked to this one (see [`KeyStore::link`]).
    pub fn linked(&self, match_key: &str) -> Vec<String> {
        self.lock().aliases.get(match_key).cloned().unwrap_or_default()
    }

    /// Makes every key created so far durable (one fsync; nothing to do when none is new).
    pub fn sync(&self) -> Result<(), KeyStoreError> {
        let mut inner = self.lock();
        if inner.unsynced {
            inner.file.sync_data().map_err(io_err(&self.path))?;
            inner.unsynced = false;
        }
        Ok(())
    }

    /// The key with this id, if it exists and was not erased.
    pub fn get(&self, key_id: &str) -> Result<Option<CustomerKey>, KeyStoreError> {
        let mut inner = self.lock();
        if !inner.slots.contains_key(key_id) {
            // Created by the writing process after this one opened the file?
            Self::read_tail(&self.path, &mut inner, false)?;
        }
        Ok(match inner.slots.get(key_id) {
            Some(Slot { secret: Some(s), .. }) => Some(CustomerKey {
                id: key_id.to_owned(),
                secret: *s,
            }),
            _ => None,
        })
    }

    /// Whether the key with this id was destroyed by an erasure.
    pub fn is_erased(&self, key_id: &str) -> bool {
        matches!(self.lock().slots.get(key_id), Some(Slot { secret: None, .. }))
    }

    /// Destroys every key of the customer with this match key, and of the match keys linked to
    /// it (crypto-shredding): each record is overwritten in place and fsynced before this
    /// returns. Returns how many keys were destroyed (0 when the customer had none or was
    /// erased already).
    pub fn erase_customer(&self, match_key: &str) -> Result<usize, KeyStoreError> {
        Self::check_match_key(match_key)?;
        let mut owners = vec![match_key.to_owned()];
        owners.extend(self.linked(match_key));
        let mut destroyed = 0;
        for owner in &owners {
            destroyed += self.erase_owner(owner)?;
        }
        Ok(destroyed)
    }

    fn erase_owner(&self, match_key: &str) -> Result<usize, KeyStoreError> {
        let mut inner = self.lock();
        // Pending creations first, so an erasure never precedes its key on disk.
        if inner.unsynced {
            inner.file.sync_data().map_err(io_err(&self.path))?;
            inner.unsynced = false;
        }
        let mut destroyed = 0;
        for generation in 1..=KEY_GENERATIONS_MAX {
            let id = format!("{match_key}.{generation}");
            let Some(slot) = inner.slots.get(&id).copied() else {
                break;
            };
            if slot.secret.is_none() {
                continue;
            }
            let at = HEADER_LEN as u64 + slot.record * KEY_RECORD_LEN as u64;
            write_at(&mut inner.file, at, &encode(&id, None)).map_err(io_err(&self.path))?;
            inner.file.sync_data().map_err(io_err(&self.path))?;
            inner.slots.insert(id, Slot { secret: None, ..slot });
            destroyed += 1;
        }
        Ok(destroyed)
    }
}

fn add_alias(aliases: &mut HashMap<String, Vec<String>>, a: String, b: String) {
    let list = aliases.entry(a.clone()).or_default();
    if !list.contains(&b) {
        list.push(b.clone());
    }
    let back = aliases.entry(b).or_default();
    if !back.contains(&a) {
        back.push(a);
    }
}

fn write_at(file: &mut fs::File, at: u64, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.write_all(bytes)
}

fn sync_dir(dir: &Path) -> Result<(), KeyStoreError> {
    // Directories can be fsynced on Unix; elsewhere the file's own sync is as durable as it gets.
    #[cfg(unix)]
    {
        let d = fs::File::open(dir).map_err(io_err(dir))?;
        d.sync_all().map_err(io_err(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_across_reopen_and_differ_per_customer() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeyStore::open(dir.path()).unwrap().key_for("aa").unwrap();
        let b = KeyStore::open(dir.path()).unwrap().key_for("bb").unwrap();
        let again = KeyStore::open(dir.path()).unwrap().key_for("aa").unwrap();
        assert_eq!(a, again);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.id, "aa.1");
    }

    #[test]
    fn erasure_is_permanent_and_a_new_generation_follows() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        let first = keys.key_for("cafe").unwrap();
        assert_eq!(keys.erase_customer("cafe").unwrap(), 1);
        assert_eq!(keys.erase_customer("cafe").unwrap(), 0);
        assert_eq!(keys.get(&first.id).unwrap(), None);
        assert!(keys.is_erased(&first.id));
        let second = keys.key_for("cafe").unwrap();
        assert_eq!(second.id, "cafe.2");
        assert_ne!(second.secret, first.secret);
        // Reopening does not resurrect the first generation, and the secret is gone from disk.
        drop(keys);
        let keys = KeyStore::open(dir.path()).unwrap();
        assert_eq!(keys.get(&first.id).unwrap(), None);
        assert_eq!(keys.key_for("cafe").unwrap(), second);
        let bytes = fs::read(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            !bytes.windows(32).any(|w| w == first.secret),
            "erased secret overwritten"
        );
        assert!(bytes.windows(32).any(|w| w == second.secret));
    }

    #[test]
    fn a_torn_final_record_is_cut_and_a_torn_erasure_reads_erased() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        let a = keys.key_for("aa").unwrap();
        let b = keys.key_for("bb").unwrap();
        drop(keys);
        let path = dir.path().join(FILE_NAME);
        // A crash while appending a third record: half of it on disk.
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&encode("cc.1", Some(&[7u8; 32]))[..100]).unwrap();
        drop(f);
        // A crash in the middle of erasing the first: its checksum no longer holds.
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER_LEN + SECRET_AT] ^= 0xff;
        fs::write(&path, &bytes).unwrap();

        let keys = KeyStore::open(dir.path()).unwrap();
        assert_eq!(keys.get(&a.id).unwrap(), None);
        assert!(keys.is_erased(&a.id));
        assert_eq!(keys.get(&b.id).unwrap(), Some(b));
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            (HEADER_LEN + 2 * KEY_RECORD_LEN) as u64,
            "torn tail cut"
        );
        let c = keys.key_for("cc").unwrap();
        assert_eq!(c.id, "cc.1");
        assert_ne!(c.secret, [7u8; 32]);
    }

    #[test]
    fn a_reader_sees_keys_created_after_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let writer = KeyStore::open(dir.path()).unwrap();
        let reader = KeyStore::open(dir.path()).unwrap();
        let k = writer.key_for("dd").unwrap();
        assert_eq!(reader.get(&k.id).unwrap(), Some(k));
    }

    #[test]
    fn erasing_one_linked_match_key_erases_both() {
        let dir = tempfile::tempdir().unwrap();
        let (phone, id) = ("a".repeat(64), "b".repeat(64));
        let keys = KeyStore::open(dir.path()).unwrap();
        let by_phone = keys.key_for(&phone).unwrap();
        let by_id = keys.key_for(&id).unwrap();
        keys.link(&id, &phone).unwrap();
        keys.link(&phone, &id).unwrap(); // once is enough; no second record
        keys.sync().unwrap();
        drop(keys);
        let keys = KeyStore::open(dir.path()).unwrap();
        assert_eq!(keys.linked(&phone), vec![id.clone()]);
        assert_eq!(keys.erase_customer(&id).unwrap(), 2);
        assert!(keys.is_erased(&by_phone.id) && keys.is_erased(&by_id.id));
        assert_eq!(
            fs::metadata(dir.path().join(FILE_NAME)).unwrap().len(),
            (HEADER_LEN + 3 * KEY_RECORD_LEN) as u64
        );
    }

    #[test]
    fn hostile_match_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        assert!(matches!(keys.key_for("../x"), Err(KeyStoreError::BadMatchKey { .. })));
        assert!(matches!(
            keys.key_for(&"a".repeat(200)),
            Err(KeyStoreError::BadMatchKey { .. })
        ));
        assert_eq!(keys.get("../../etc/passwd").unwrap(), None);
        assert!(!keys.is_erased("../x"));
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"definitely not a key file").unwrap();
        assert!(matches!(
            KeyStore::open(dir.path()),
            Err(KeyStoreError::BadHeader { .. })
        ));
    }
}

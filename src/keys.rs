//! The customer key store behind crypto-shredding (DOMAIN.md §9).
//!
//! Personal fields (name, phone, address) are sealed in the log under a key of their customer's
//! own. The key store keeps those keys outside the log, one file per key in `<store dir>/keys/`;
//! erasing a customer destroys their key, after which every event still replays and every figure
//! stays the same, but the personal fields can no longer be opened: they read as erased.
//!
//! Keys are found by the customer's pseudonymous match key (see
//! [`plaint_domain::personal::match_key`]). A key's id is `<match key>.<generation>`: after an
//! erasure the same customer may complain again, and gets a fresh key of the next generation,
//! so erased data never becomes readable again and new data is never sealed under a dead key.
//!
//! Files: `<key id>.key` holds the 32 secret bytes; `<key id>.erased` is the tombstone left by
//! an erasure. Both are written to a temporary file, fsynced, renamed into place, and the
//! directory fsynced, so a crash never leaves a torn key.
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

use plaint_domain::personal::{validate_key_id, CustomerKey};
use rand::RngCore;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most key generations one customer can go through (each erasure starts a new one).
pub const KEY_GENERATIONS_MAX: u32 = 1_000;
/// Size of a key file: exactly the secret.
const KEY_FILE_LEN: usize = 32;

/// Errors of the key store. Each names the file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    #[error("key store I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("key file {path} is {len} bytes long; a key file holds exactly {KEY_FILE_LEN} bytes")]
    BadKeyFile { path: PathBuf, len: usize },
    #[error("match key {match_key:?} is not usable as a key id (empty, too long, or not [0-9a-z:._-])")]
    BadMatchKey { match_key: String },
    #[error("customer {match_key:?} went through {KEY_GENERATIONS_MAX} key generations; refusing more")]
    TooManyGenerations { match_key: String },
}

/// Per-customer keys in a directory, one file per key.
///
/// Safe to share between tasks: creation and erasure are serialised by an internal lock (within
/// one process; the store's own lock keeps other writers away).
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    lock: Mutex<()>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyStoreError + '_ {
    move |source| KeyStoreError::Io {
        path: path.to_owned(),
        source,
    }
}

impl KeyStore {
    /// Opens (creating it if needed) the key directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<KeyStore, KeyStoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(KeyStore {
            dir,
            lock: Mutex::new(()),
        })
    }

    /// The directory holding the keys.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check_match_key(match_key: &str) -> Result<(), KeyStoreError> {
        let ok = validate_key_id(match_key)
            && match_key.len() + 8 <= plaint_domain::personal::KEY_ID_LEN_MAX
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

    fn key_path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("{key_id}.key"))
    }

    fn tombstone_path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("{key_id}.erased"))
    }

    /// A key id is a file name here; refuse anything that could leave the directory.
    fn safe_key_id(key_id: &str) -> bool {
        validate_key_id(key_id)
            && key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'))
            && !key_id.starts_with('.')
    }

    /// The current key of the customer with this match key, created (random, 256 bits) if the
    /// customer has none yet or their last one was erased.
    pub fn key_for(&self, match_key: &str) -> Result<CustomerKey, KeyStoreError> {
        self.key_for_inner(match_key, None)
    }

    /// Like [`KeyStore::key_for`], but a newly created key file is not fsynced yet: its path is
    /// pushed to `created`, and the caller must call [`KeyStore::sync_created`] before anything
    /// sealed under it is committed. Lets a bulk import pay one directory sync for many keys.
    pub fn key_for_deferred(&self, match_key: &str, created: &mut Vec<PathBuf>) -> Result<CustomerKey, KeyStoreError> {
        self.key_for_inner(match_key, Some(created))
    }

    /// Makes the key files created by [`KeyStore::key_for_deferred`] durable: fsyncs each, then
    /// the directory once.
    pub fn sync_created(&self, created: &[PathBuf]) -> Result<(), KeyStoreError> {
        if created.is_empty() {
            return Ok(());
        }
        for path in created {
            let f = fs::File::open(path).map_err(io_err(path))?;
            f.sync_all().map_err(io_err(path))?;
        }
        self.sync_dir()
    }

    fn key_for_inner(
        &self,
        match_key: &str,
        deferred: Option<&mut Vec<PathBuf>>,
    ) -> Result<CustomerKey, KeyStoreError> {
        Self::check_match_key(match_key)?;
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        for generation in 1..=KEY_GENERATIONS_MAX {
            let id = format!("{match_key}.{generation}");
            if let Some(key) = self.read_key(&id)? {
                return Ok(key);
            }
            if self.tombstone_path(&id).exists() {
                continue;
            }
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let path = self.key_path(&id);
            match deferred {
                None => self.write_atomically(&path, &secret)?,
                Some(created) => {
                    self.write_file(&path, &secret, false)?;
                    created.push(path);
                }
            }
            return Ok(CustomerKey { id, secret });
        }
        Err(KeyStoreError::TooManyGenerations {
            match_key: match_key.to_owned(),
        })
    }

    /// The key with this id, if it exists and was not erased.
    pub fn get(&self, key_id: &str) -> Result<Option<CustomerKey>, KeyStoreError> {
        if !Self::safe_key_id(key_id) {
            return Ok(None);
        }
        self.read_key(key_id)
    }

    /// Whether the key with this id was destroyed by an erasure.
    pub fn is_erased(&self, key_id: &str) -> bool {
        Self::safe_key_id(key_id) && self.tombstone_path(key_id).exists()
    }

    fn read_key(&self, key_id: &str) -> Result<Option<CustomerKey>, KeyStoreError> {
        let path = self.key_path(key_id);
        match fs::read(&path) {
            Ok(bytes) => {
                let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyStoreError::BadKeyFile {
                    path: path.clone(),
                    len: bytes.len(),
                })?;
                Ok(Some(CustomerKey {
                    id: key_id.to_owned(),
                    secret,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Destroys every key of the customer with this match key (crypto-shredding). Returns how
    /// many keys were destroyed (0 when the customer had none or was erased already).
    ///
    /// The tombstone is made durable before the key file is overwritten and removed, so a crash
    /// in between never lets [`KeyStore::key_for`] hand the erased generation out again.
    pub fn erase_customer(&self, match_key: &str) -> Result<usize, KeyStoreError> {
        Self::check_match_key(match_key)?;
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut destroyed = 0;
        for generation in 1..=KEY_GENERATIONS_MAX {
            let id = format!("{match_key}.{generation}");
            let key_path = self.key_path(&id);
            let tomb = self.tombstone_path(&id);
            let has_key = key_path.exists();
            if !has_key && !tomb.exists() {
                break;
            }
            if has_key {
                self.write_atomically(&tomb, b"")?;
                // Overwrite before unlinking: a plain unlink leaves the bytes on many disks.
                self.write_in_place(&key_path, &[0u8; KEY_FILE_LEN])?;
                fs::remove_file(&key_path).map_err(io_err(&key_path))?;
                self.sync_dir()?;
                destroyed += 1;
            }
        }
        Ok(destroyed)
    }

    fn write_in_place(&self, path: &Path, bytes: &[u8]) -> Result<(), KeyStoreError> {
        let mut f = fs::OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
        f.write_all(bytes).map_err(io_err(path))?;
        f.sync_all().map_err(io_err(path))
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), KeyStoreError> {
        self.write_file(path, bytes, true)?;
        self.sync_dir()
    }

    /// Writes a temporary file and renames it into place, so the file is either absent or
    /// whole; with `sync`, the content is fsynced before the rename.
    fn write_file(&self, path: &Path, bytes: &[u8], sync: bool) -> Result<(), KeyStoreError> {
        let tmp = path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(bytes).map_err(io_err(&tmp))?;
            if sync {
                f.sync_all().map_err(io_err(&tmp))?;
            }
        }
        fs::rename(&tmp, path).map_err(io_err(path))
    }

    fn sync_dir(&self) -> Result<(), KeyStoreError> {
        // Directories can be fsynced on Unix; elsewhere the rename is as durable as it gets.
        #[cfg(unix)]
        {
            let d = fs::File::open(&self.dir).map_err(io_err(&self.dir))?;
            d.sync_all().map_err(io_err(&self.dir))?;
        }
        Ok(())
    }
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
        // Reopening does not resurrect the first generation.
        let keys = KeyStore::open(dir.path()).unwrap();
        assert_eq!(keys.get(&first.id).unwrap(), None);
        assert_eq!(keys.key_for("cafe").unwrap(), second);
    }

    #[test]
    fn hostile_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        assert!(matches!(keys.key_for("../x"), Err(KeyStoreError::BadMatchKey { .. })));
        assert_eq!(keys.get("../../etc/passwd").unwrap(), None);
        assert!(!keys.is_erased("../x"));
    }
}

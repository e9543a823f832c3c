//! Reading the key store of stores made before the vault (`<dir>/keys/keys.log`, format
//! version 1), once, to import it into the store's vault (see [`crate::Engine::open`]).
//!
//! Format: a 16-byte header (`PLAINTKEYS` + 2 zero bytes + version u32), then 168-byte records:
//! state u8 (1 live, 2 erased, 3 link), id length u8, id (128 bytes), secret (32 bytes; for a
//! link the other match key's 32 bytes), the first 4 bytes of the BLAKE3 hash of the 162 bytes
//! before, 2 zero bytes. The old store overwrote a record in place to erase it, so a record
//! whose checksum fails before the last one was a torn erasure: it imports as erased.

use crate::EngineError;
use plaint_store::vault::{DumpedKey, Secret};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 12] = b"PLAINTKEYS\0\0";
const HEADER_LEN: usize = 16;
const RECORD_LEN: usize = 168;
const ID_FIELD_LEN: usize = 128;
const SECRET_AT: usize = 2 + ID_FIELD_LEN;
const CHECKSUM_AT: usize = SECRET_AT + 32;

/// What a legacy key file held.
pub(crate) struct LegacyKeys {
    pub keys: Vec<DumpedKey>,
    pub links: Vec<(String, String)>,
}

/// The legacy key file of a store's local directory.
pub(crate) fn path_in(local_dir: &Path) -> PathBuf {
    local_dir.join("keys").join("keys.log")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Reads `path`. A bad header is an error naming the file; a torn final record is skipped.
pub(crate) fn read(path: &Path) -> Result<LegacyKeys, EngineError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| EngineError::Io {
        path: path.to_owned(),
        source,
    })?);
    let bad = |detail: String| {
        EngineError::Store(plaint_store::StoreError::Corrupt {
            file: path.display().to_string(),
            offset: 0,
            detail,
        })
    };
    if bytes.len() < HEADER_LEN || &bytes[..12] != MAGIC {
        return Err(bad(
            "not a plaint key file (bad header); cannot import it into the vault".into(),
        ));
    }
    let version = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    if version != 1 {
        return Err(bad(format!(
            "key file format version {version}; only version 1 is imported"
        )));
    }
    let body = &bytes[HEADER_LEN..];
    let complete = body.len() / RECORD_LEN;
    let mut out = LegacyKeys {
        keys: Vec::new(),
        links: Vec::new(),
    };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (i, r) in body.chunks_exact(RECORD_LEN).enumerate() {
        let sum_ok = r[CHECKSUM_AT..CHECKSUM_AT + 4] == blake3::hash(&r[..CHECKSUM_AT]).as_bytes()[..4];
        let len = (r[1] as usize).min(ID_FIELD_LEN);
        let Ok(id) = std::str::from_utf8(&r[2..2 + len]) else {
            continue;
        };
        if id.is_empty() {
            continue;
        }
        if !sum_ok && i + 1 == complete {
            // A creation torn by a crash: never referenced by a committed event.
            continue;
        }
        let secret: Option<Secret> = match (sum_ok, r[0]) {
            (true, 1) => {
                let mut s = Zeroizing::new([0u8; 32]);
                s.copy_from_slice(&r[SECRET_AT..SECRET_AT + 32]);
                Some(s)
            }
            (true, 3) => {
                out.links.push((id.to_owned(), hex(&r[SECRET_AT..SECRET_AT + 32])));
                continue;
            }
            // Erased, or an erasure torn while overwriting the record.
            _ => None,
        };
        match seen.get(id) {
            Some(&at) => out.keys[at].secret = secret,
            None => {
                seen.insert(id.to_owned(), out.keys.len());
                out.keys.push(DumpedKey {
                    id: id.to_owned(),
                    secret,
                });
            }
        }
    }
    Ok(out)
}

//! Personal information (docs/domain.md §3, §9): phone normalisation, the pseudonymous matching key,
//! sealing under a per-customer key ("crypto-shredding"), and masking for reports.
//!
//! The log is immutable, yet a customer may demand erasure. Personal fields (name, phone,
//! address) are therefore never written in clear: `decide` seals them with the customer's own
//! key ([`CustomerKey`]); destroying that key erases them while every event still replays.
//! Matching (repeat complaints, docs/domain.md §8) uses [`match_key`], a keyed BLAKE3 hash of the
//! normalised phone number under the store's [`MatchSecret`] (held in the vault, never in the
//! log): it survives erasure, so repeat figures never change after it, yet someone holding the
//! log without the vault cannot test guessed phone numbers against it.
//!
//! Nothing here reads the clock or draws random numbers: the nonce comes in as an argument
//! ([`seal`]) or is derived deterministically from the key and the sealed content
//! ([`derive_nonce`]), which makes sealing a pure function.

use crate::event::{PersonalData, SealedPersonal};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Longest phone number accepted, in digits after normalisation (E.164 allows 15).
pub const PHONE_DIGITS_MAX: usize = 20;
/// Longest customer key id, in bytes.
pub const KEY_ID_LEN_MAX: usize = 128;

/// BLAKE3 derive-key context of the unkeyed match keys of stores made before the vault
/// ([`legacy_match_key`]). Never change: stored match keys depend on it.
const MATCH_KEY_PHONE_CONTEXT: &str = "plaint 2026-11 match key: normalised phone v1";
/// BLAKE3 derive-key context of legacy customer-id match keys.
const MATCH_KEY_ID_CONTEXT: &str = "plaint 2026-11 match key: customer id v1";
/// BLAKE3 derive-key contexts of the keyed match keys' subkeys. Never change.
const KEYED_PHONE_CONTEXT: &str = "plaint 2026-11 keyed match key: normalised phone v2";
const KEYED_ID_CONTEXT: &str = "plaint 2026-11 keyed match key: customer id v2";

/// The store's secret key of the match-key hash ([`match_key`]). Created with the store's
/// vault and kept there; the engine passes it to `decide` in the context. Wiped from memory
/// when dropped; never printed.
#[derive(Clone)]
pub struct MatchSecret {
    bytes: [u8; 32],
    /// The keyed match key's two subkeys (phone, customer id), derived from `bytes` at first
    /// use and kept: a match key is made several times a receive (issue 15, wave 12).
    subkeys: std::sync::OnceLock<MatchSubkeys>,
}

/// The subkeys [`match_key`] hashes under, derived from a [`MatchSecret`].
#[derive(Clone)]
struct MatchSubkeys {
    phone: [u8; 32],
    id: [u8; 32],
}

impl MatchSecret {
    /// The secret from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> MatchSecret {
        MatchSecret {
            bytes,
            subkeys: std::sync::OnceLock::new(),
        }
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The subkeys, derived once (a pure function of the bytes).
    fn subkeys(&self) -> &MatchSubkeys {
        self.subkeys.get_or_init(|| MatchSubkeys {
            phone: blake3::derive_key(KEYED_PHONE_CONTEXT, &self.bytes),
            id: blake3::derive_key(KEYED_ID_CONTEXT, &self.bytes),
        })
    }
}

/// Two secrets are the same when their bytes are (the subkeys follow from them).
impl PartialEq for MatchSecret {
    fn eq(&self, other: &MatchSecret) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for MatchSecret {}

impl Drop for MatchSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
        if let Some(subkeys) = self.subkeys.get_mut() {
            zeroize::Zeroize::zeroize(&mut subkeys.phone);
            zeroize::Zeroize::zeroize(&mut subkeys.id);
        }
    }
}

impl std::fmt::Debug for MatchSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchSecret(<redacted>)")
    }
}
/// BLAKE3 derive-key context for deterministic seal nonces.
const NONCE_CONTEXT: &str = "plaint 2026-11 personal seal nonce v1";

/// A customer's own key. The key store keeps it by `id`; erasing the customer destroys it.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKey {
    /// Stable id of the key, recorded in every [`SealedPersonal`] it sealed.
    pub id: String,
    /// 256-bit ChaCha20-Poly1305 key.
    pub secret: [u8; 32],
}

impl Drop for CustomerKey {
    // Wipe the secret of every copy dropped (a prepared command's, a batch's), as the vault's.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl std::fmt::Debug for CustomerKey {
    // Never print the secret, not even in a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why sealed personal data could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersonalError {
    /// The data was sealed under another key than the one given.
    #[error("personal data sealed under key {sealed_key_id:?} cannot be opened with key {key_id:?}")]
    WrongKeyId { sealed_key_id: String, key_id: String },
    /// Authentication failed: wrong secret for this key id, or the ciphertext was altered.
    #[error("personal data sealed under key {key_id:?} failed authentication (wrong secret or altered ciphertext)")]
    Authentication { key_id: String },
    /// The plaintext did not decode as personal data.
    #[error("personal data sealed under key {key_id:?} decrypted but did not decode: {reason}")]
    Decode { key_id: String, reason: String },
    /// Encryption failed (only on absurd input sizes).
    #[error("sealing personal data under key {key_id:?} failed")]
    Encrypt { key_id: String },
}

/// Normalises a phone number for matching (docs/domain.md §3): keeps the digits, drops a mainland
/// China country code (`+86`, `0086`, `86` in front of an 11-digit mobile number).
///
/// Returns `None` when there is no digit at all, or more than [`PHONE_DIGITS_MAX`] digits.
///
/// ```
/// use plaint_domain::personal::normalise_phone;
/// assert_eq!(normalise_phone("+86 138-0013-8000").as_deref(), Some("13800138000"));
/// assert_eq!(normalise_phone("138 0013 8000").as_deref(), Some("13800138000"));
/// assert_eq!(normalise_phone("n/a"), None);
/// ```
pub fn normalise_phone(raw: &str) -> Option<String> {
    let mut digits: String = raw
        .chars()
        .filter_map(|c| {
            // Full-width digits (０-９) appear in Chinese forms.
            if c.is_ascii_digit() {
                Some(c)
            } else if ('０'..='９').contains(&c) {
                char::from_u32(c as u32 - '０' as u32 + '0' as u32)
            } else {
                None
            }
        })
        .collect();
    if digits.is_empty() || digits.len() > PHONE_DIGITS_MAX {
        return None;
    }
    // Country code in front of a mainland number (mobile: 11 digits starting with 1).
    for prefix in ["0086", "86"] {
        if digits.len() == prefix.len() + 11 && digits.starts_with(prefix) && digits[prefix.len()..].starts_with('1') {
            digits.drain(..prefix.len());
            break;
        }
    }
    debug_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    Some(digits)
}

/// The pseudonymous matching key of a customer (docs/domain.md §8, §9): hex keyed BLAKE3 under the
/// store's [`MatchSecret`] (domain-separated subkeys) of the normalised phone number, or, when
/// no usable phone is given, of the customer id. `None` when neither is known. Without the
/// secret, a match key reveals nothing that enumerating phone numbers could find.
///
/// ```
/// use plaint_domain::personal::{match_key, MatchSecret};
/// let secret = MatchSecret::from_bytes([7; 32]);
/// let a = match_key(&secret, None, Some("+86 138-0013-8000"));
/// let b = match_key(&secret, Some("C-1"), Some("13800138000"));
/// assert_eq!(a, b); // the phone wins over the customer id
/// assert_ne!(match_key(&secret, Some("C-1"), None), a);
/// assert_ne!(match_key(&MatchSecret::from_bytes([8; 32]), None, Some("13800138000")), a);
/// assert_eq!(match_key(&secret, None, None), None);
/// ```
pub fn match_key(secret: &MatchSecret, customer_id: Option<&str>, phone: Option<&str>) -> Option<String> {
    if let Some(phone) = phone.and_then(normalise_phone) {
        return Some(
            blake3::keyed_hash(&secret.subkeys().phone, phone.as_bytes())
                .to_hex()
                .to_string(),
        );
    }
    let id = customer_id.map(str::trim).filter(|s| !s.is_empty())?;
    Some(
        blake3::keyed_hash(&secret.subkeys().id, id.as_bytes())
            .to_hex()
            .to_string(),
    )
}

/// The unkeyed match key of stores made before the vault (a public hash of the phone: anyone
/// can enumerate it). Only for finding the keys of such a store's customers at erasure.
pub fn legacy_match_key(customer_id: Option<&str>, phone: Option<&str>) -> Option<String> {
    if let Some(phone) = phone.and_then(normalise_phone) {
        let mut h = blake3::Hasher::new_derive_key(MATCH_KEY_PHONE_CONTEXT);
        h.update(phone.as_bytes());
        return Some(h.finalize().to_hex().to_string());
    }
    let id = customer_id.map(str::trim).filter(|s| !s.is_empty())?;
    let mut h = blake3::Hasher::new_derive_key(MATCH_KEY_ID_CONTEXT);
    h.update(b"id:");
    h.update(id.as_bytes());
    Some(h.finalize().to_hex().to_string())
}

/// A deterministic nonce for [`seal`]: derived from the key, a caller-chosen context (e.g. the
/// complaint id and command id) and the plaintext itself, so the same nonce is only ever used
/// again for the very same plaintext under the same key (no keystream reuse), without a random
/// number generator in the domain.
pub fn derive_nonce(personal: &PersonalData, key: &CustomerKey, context: &[&str]) -> [u8; 12] {
    let subkey = blake3::derive_key(NONCE_CONTEXT, &key.secret);
    let mut h = blake3::Hasher::new_keyed(&subkey);
    for part in context {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let plain = postcard::to_allocvec(personal).unwrap_or_default();
    h.update(&(plain.len() as u64).to_le_bytes());
    h.update(&plain);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&h.finalize().as_bytes()[..12]);
    nonce
}

/// Seals personal data under a customer key: ChaCha20-Poly1305 over the postcard encoding, with
/// the key id as associated data. The nonce must never be reused with the same key for another
/// plaintext; [`derive_nonce`] gives one that is safe.
pub fn seal(personal: &PersonalData, key: &CustomerKey, nonce: [u8; 12]) -> SealedPersonal {
    try_seal(personal, key, nonce).expect("ChaCha20-Poly1305 encryption only fails beyond 256 GiB of plaintext")
}

/// [`seal`] that reports failure instead of panicking.
pub fn try_seal(personal: &PersonalData, key: &CustomerKey, nonce: [u8; 12]) -> Result<SealedPersonal, PersonalError> {
    let plain = postcard::to_allocvec(personal).map_err(|_| PersonalError::Encrypt { key_id: key.id.clone() })?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.secret));
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: key.id.as_bytes(),
            },
        )
        .map_err(|_| PersonalError::Encrypt { key_id: key.id.clone() })?;
    Ok(SealedPersonal {
        key_id: key.id.clone(),
        nonce,
        ciphertext,
    })
}

/// The sealing of a `receive`'s personal fields (docs/domain.md §9): `None` when the customer
/// gives no name, phone or address; otherwise the fields sealed under `key` with the nonce
/// [`derive_nonce`] draws from the complaint id and the command id. The one rule `decide` and
/// [`crate::prepare`] both seal by, so a sealing done ahead is the very one `decide` would do.
pub fn seal_customer(
    complaint_id: &str,
    command_id: &str,
    customer: &crate::command::CustomerInput,
    key: &CustomerKey,
) -> Result<Option<SealedPersonal>, PersonalError> {
    if !customer.has_personal_fields() {
        return Ok(None);
    }
    let data = PersonalData {
        name: customer.name.clone(),
        phone: customer.phone.clone(),
        address: customer.address.clone(),
    };
    let nonce = derive_nonce(&data, key, &[complaint_id, command_id]);
    try_seal(&data, key, nonce).map(Some)
}

/// Opens sealed personal data. Fails with a typed error when the key id differs, when the
/// secret is wrong or the ciphertext was altered.
pub fn unseal(sealed: &SealedPersonal, key: &CustomerKey) -> Result<PersonalData, PersonalError> {
    if sealed.key_id != key.id {
        return Err(PersonalError::WrongKeyId {
            sealed_key_id: sealed.key_id.clone(),
            key_id: key.id.clone(),
        });
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.secret));
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: sealed.key_id.as_bytes(),
            },
        )
        .map_err(|_| PersonalError::Authentication {
            key_id: sealed.key_id.clone(),
        })?;
    postcard::from_bytes(&plain).map_err(|e| PersonalError::Decode {
        key_id: sealed.key_id.clone(),
        reason: e.to_string(),
    })
}

/// Masks a phone number for reports: the first 3 and last 4 digits stay, the rest become `*`
/// (`13800138000` → `138****8000`). Shorter numbers keep only their last 2 digits. Input is
/// normalised first; a value without digits masks to `***`.
///
/// ```
/// use plaint_domain::personal::mask_phone;
/// assert_eq!(mask_phone("+86 138-0013-8000"), "138****8000");
/// ```
pub fn mask_phone(raw: &str) -> String {
    let Some(digits) = normalise_phone(raw) else {
        return "***".to_owned();
    };
    let n = digits.len();
    if n >= 8 {
        format!("{}{}{}", &digits[..3], "*".repeat(n - 7), &digits[n - 4..])
    } else if n > 2 {
        format!("{}{}", "*".repeat(n - 2), &digits[n - 2..])
    } else {
        "*".repeat(n.max(3))
    }
}

/// Masks a name for reports: the first character stays, every other one becomes `*`
/// (`张三` → `张*`, `欧阳娜娜` → `欧***`). A one-character name masks to `*`.
///
/// ```
/// use plaint_domain::personal::mask_name;
/// assert_eq!(mask_name("张三"), "张*");
/// ```
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            if rest == 0 {
                "*".to_owned()
            } else {
                let mut out = String::with_capacity(first.len_utf8() + rest);
                out.push(first);
                out.extend(std::iter::repeat_n('*', rest));
                out
            }
        }
    }
}

/// Masks an address for reports: keeps the first 6 characters (province and city, usually) and
/// replaces the rest with `****`.
pub fn mask_address(address: &str) -> String {
    let address = address.trim();
    let keep: String = address.chars().take(6).collect();
    if keep.chars().count() == address.chars().count() {
        return "****".to_owned();
    }
    format!("{keep}****")
}

/// The key id length is bounded; a caller building a key store can check it here.
pub fn validate_key_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= KEY_ID_LEN_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15, wave 12: the subkeys are derived once and kept in the secret. Stored match
    /// keys depend on them, so the kept ones must be what each call derived before: the phone's
    /// under the phone context, the id's under the id context, whichever is asked first.
    #[test]
    fn the_kept_subkeys_give_the_match_keys_derived_per_call() {
        let bytes = [7; 32];
        let derived = |context: &str, text: &str| {
            let subkey = blake3::derive_key(context, &bytes);
            Some(blake3::keyed_hash(&subkey, text.as_bytes()).to_hex().to_string())
        };
        let by_id_first = MatchSecret::from_bytes(bytes);
        assert_eq!(
            match_key(&by_id_first, Some("C-9"), None),
            derived(KEYED_ID_CONTEXT, "C-9")
        );
        assert_eq!(
            match_key(&by_id_first, None, Some("+86 138-0013-8000")),
            derived(KEYED_PHONE_CONTEXT, "13800138000")
        );
        let by_phone_first = MatchSecret::from_bytes(bytes);
        assert_eq!(
            match_key(&by_phone_first, None, Some("13800138000")),
            derived(KEYED_PHONE_CONTEXT, "13800138000")
        );
        assert_eq!(
            match_key(&by_phone_first, Some("C-9"), None),
            derived(KEYED_ID_CONTEXT, "C-9")
        );
        // The bytes are the secret: a copy compares equal whether or not its subkeys are made.
        assert!(by_phone_first == MatchSecret::from_bytes(bytes));
        assert!(by_phone_first != MatchSecret::from_bytes([8; 32]));
    }
}

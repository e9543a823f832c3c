//! Personal fields as reads show them (docs/domain.md §9): masked by default, in clear only when the
//! caller asks to [`Reveal`], and "erased" once the customer's key was destroyed.

use crate::EngineError;
use plaint_domain::personal::{mask_address, mask_name, mask_phone, unseal, CustomerKey};
use plaint_domain::{PersonalData, SealedPersonal};
use plaint_store::vault::{KeyState, Vault};
use serde::Serialize;

/// Whether a read shows personal fields in clear. Masked is the default; revealing is an
/// explicit choice of a caller allowed to see them (the engine does not authenticate: the
/// embedding application decides who may pass [`Reveal::Clear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reveal {
    /// Names, phones and addresses masked (`张*`, `138****8000`, `上海市浦东新****`).
    #[default]
    Masked,
    /// In clear.
    Clear,
}

/// A customer's personal fields as a read shows them.
///
/// JSON: `{"state": "masked", "name": "张*", "phone": "138****8000", "address": "…"}`,
/// `{"state": "clear", …}`, `{"state": "erased"}` or `{"state": "none"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PersonalFields {
    /// The complaint recorded no personal fields.
    None,
    /// Masked for display.
    Masked {
        /// The customer's name.
        name: Option<String>,
        /// The phone number as given at intake.
        phone: Option<String>,
        /// The address.
        address: Option<String>,
    },
    /// In clear (only with [`Reveal::Clear`]).
    Clear {
        /// The customer's name.
        name: Option<String>,
        /// The phone number as given at intake.
        phone: Option<String>,
        /// The address.
        address: Option<String>,
    },
    /// The customer was erased: the key is gone and the fields can never be read again.
    Erased,
}

impl PersonalFields {
    /// Whether the fields read as erased.
    pub fn is_erased(&self) -> bool {
        matches!(self, PersonalFields::Erased)
    }

    fn from_data(d: PersonalData, reveal: Reveal) -> PersonalFields {
        match reveal {
            Reveal::Clear => PersonalFields::Clear {
                name: d.name,
                phone: d.phone,
                address: d.address,
            },
            Reveal::Masked => PersonalFields::Masked {
                name: d.name.as_deref().map(mask_name),
                phone: d.phone.as_deref().map(mask_phone),
                address: d.address.as_deref().map(mask_address),
            },
        }
    }
}

/// Opens sealed personal fields with the vault. A key destroyed by an erasure reads as
/// [`PersonalFields::Erased`]; a key the vault does not hold (lost) or that does not open the
/// data (a damaged key or ciphertext) is an error of kind [`crate::ErrorKind::Damaged`], never
/// silently "erased".
pub(crate) async fn open(
    vault: &dyn Vault,
    sealed: Option<&SealedPersonal>,
    reveal: Reveal,
) -> Result<PersonalFields, EngineError> {
    let Some(sealed) = sealed else {
        return Ok(PersonalFields::None);
    };
    let secret = match vault.key(&sealed.key_id).await? {
        KeyState::Live(secret) => secret,
        KeyState::Erased => return Ok(PersonalFields::Erased),
        KeyState::Missing => {
            return Err(EngineError::Store(plaint_store::StoreError::Corrupt {
                file: vault.vault_location(),
                offset: 0,
                detail: format!(
                    "key {:?} sealing personal fields is missing from the vault (lost, not erased)",
                    sealed.key_id
                ),
            }))
        }
    };
    let key = CustomerKey {
        id: sealed.key_id.clone(),
        secret: *secret,
    };
    let data = unseal(sealed, &key).map_err(|e| EngineError::PersonalData {
        key_id: sealed.key_id.clone(),
        reason: e.to_string(),
    })?;
    Ok(PersonalFields::from_data(data, reveal))
}

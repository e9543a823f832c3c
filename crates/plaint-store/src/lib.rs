//! plaint's event stores.
//!
//! The store knows nothing of complaints: it stores envelopes of metadata and opaque payload
//! bytes ([`NewEvent`], [`RecordedEvent`]) in streams, gives each committed event a gapless
//! global position, and proves with a hash chain ([`chain`]) that nothing committed was changed.
//! Every backend implements [`EventStore`] and runs the same [`conformance`] suite.

pub mod chain;
pub mod conformance;
pub mod file;
pub mod io;
pub mod pg;
#[doc(hidden)] // internal: shared with plaint-projections, not part of the facade's API
pub mod sharded;
mod types;
pub mod vault;
pub mod vault_conformance;

pub use types::*;
pub use vault::{Vault, VaultStore};

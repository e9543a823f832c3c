//! plaint: an event-sourced complaint lifecycle engine for postal and courier back offices.
//!
//! This is the facade crate: what a back office depends on. [`Engine`] turns commands into
//! committed events on the embedded file log (or PostgreSQL), keeps the projections current,
//! runs the SLA watchdog and erases customers by destroying their keys in the store's vault. The domain, store and
//! projection crates are re-exported as [`domain`], [`store`] and [`projections`]. See
//! `docs/ARCHITECTURE.md` and `docs/embedding.md`.
//!
//! ```
//! use plaint::{Engine, EngineConfig};
//! use plaint::workload::{generate, WorkloadConfig};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
//! for cmd in generate(&WorkloadConfig { complaints: 20, ..Default::default() }) {
//!     engine.execute(cmd).await.unwrap();
//! }
//! assert_eq!(engine.stats().await.unwrap().streams, 20);
//! # });
//! ```

#![warn(missing_docs)]

pub use plaint_domain as domain;
pub use plaint_projections as projections;
pub use plaint_store as store;

mod backend;
pub mod engine;
mod error;
pub mod import;
mod legacy_keys;
pub mod personal;
pub mod workload;

pub use engine::{
    AuditFilter, BatchOutcome, Clock, CommandOutcome, Durability, Engine, EngineConfig, EventSubscription, Executed,
    Stats, StoreConfig, TickOutcome, Ticket,
};
pub use error::{EngineError, ErrorKind};
pub use personal::{PersonalFields, Reveal};
pub use plaint_projections::runner::RebuildTarget;

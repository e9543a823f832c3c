//! plaint: an event-sourced complaint lifecycle engine for postal and courier back offices.
//!
//! This is the facade crate. See `docs/ARCHITECTURE.md`.

pub use plaint_domain as domain;
pub use plaint_projections as projections;
pub use plaint_store as store;

pub mod keys;
pub mod workload;

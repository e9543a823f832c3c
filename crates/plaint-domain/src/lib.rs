//! The complaint domain: the pure heart of plaint.
//!
//! Everything here is a pure function of its arguments: this crate never reads the wall clock,
//! never touches a file or the network, and never draws a random number. Time ("now"), ids,
//! keys and policies come in as arguments. See docs/domain.md (the specification) and
//! `docs/ARCHITECTURE.md`.

pub mod access;
pub mod build;
pub mod calendar;
pub mod closed_loop;
pub mod codec;
pub mod command;
mod command_de;
pub use command_de::Key as JsonKey;
pub mod compensation;
pub mod event;
pub mod ids;
pub mod lifecycle;
pub mod personal;
pub mod policy;
pub mod prepare;
pub mod repeat;
pub mod sla;
pub mod state;
pub mod time;
pub mod watchdog;
pub mod zone;

pub use command::*;
pub use event::*;
pub use ids::*;
pub use time::*;

//! plaint: an event-sourced complaint lifecycle engine for postal and courier back offices.
//!
//! This is the facade crate: what a back office depends on. [`Engine`] turns commands into
//! committed events on the embedded file log (or PostgreSQL), keeps the projections current,
//! runs the SLA watchdog and erases customers by destroying their keys in the store's vault. Everything a client
//! names is re-exported here by name: ids and [`Timestamp`], [`Command`] and [`command`],
//! [`Event`] and [`event`], [`Rejection`], [`Policy`], [`Calendar`], and the views and reports
//! in [`reports`]; the `plaint` CLI uses nothing else. The domain, store and projection crates
//! are also re-exported whole as [`domain`], [`store`] and [`projections`], for tools that work
//! below the engine (benchmarks, store migrations). See `docs/ARCHITECTURE.md` and
//! `docs/embedding.md`.
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
pub mod desk;
pub mod engine;
mod error;
mod export;
pub mod import;
mod legacy_keys;
pub mod maintenance;
pub mod personal;
pub mod report;
pub mod report_casework;
pub mod report_csv;
pub mod report_html;
pub mod workload;

pub use engine::{
    AuditFilter, BatchOutcome, CalendarCoverage, Clock, CommandOutcome, Durability, Engine, EngineConfig,
    EventSubscription, Executed, ReplicaLag, Stats, StoreConfig, TickOutcome, Ticket,
};
pub use engine::{CopyReport, Erasure, ErasureRequest, VaultCoverage, LEGAL_BASIS_LEN_MAX};
pub use error::{EngineError, ErrorKind};
pub use export::{EventRecord, ExportOptions, JSON_FORMAT_VERSION};
pub use personal::{PersonalFields, Reveal};
pub use plaint_projections::runner::RebuildTarget;
pub use plaint_store::EnvironmentKind;

// The vocabulary of the facade's API, re-exported by name: what a caller (the `plaint` CLI
// among them) writes down to call the engine and read its answers. A caller needs no other
// plaint crate (docs/ARCHITECTURE.md).

// Ids and time.
pub use plaint_domain::{Actor, CommandId, ComplaintId, Timestamp, MS_PER_DAY, MS_PER_HOUR};
// The domain's refusal of a command (inside [`EngineError::Rejected`]).
pub use plaint_domain::state::Rejection;
// The policy and the business calendar an [`EngineConfig`] carries.
pub use plaint_domain::{calendar::Calendar, policy::Policy};
// The office's time zone (an IANA zone, or a fixed offset), the calendar's.
pub use plaint_domain::zone::BusinessZone;
// A command and its body (`plaint::command::Receive`, …: the import format, `docs/import-format.md`).
pub use plaint_domain::{Command, CommandBody};
// A JSON object key as the command reading reads it (`plaint import`'s duplicate-key scan).
pub use plaint_domain::JsonKey;
// An event as the engine returns it (`plaint::event::EventData`, …: `docs/events.md`).
pub use plaint_domain::{Event, EventData};
// The hash-chain value of a verification as lower-case hex.
pub use plaint_store::chain::to_hex as chain_hex;

/// The commands (docs/domain.md R-LIFE-3): one struct per command body, as the import format spells them.
pub mod command {
    pub use plaint_domain::command::*;
}

/// The event catalogue (`docs/events.md`): event payloads and the enums they use.
pub mod event {
    pub use plaint_domain::event::*;
}

/// The reports and views the engine's reads return.
pub mod reports {
    pub use crate::desk::{Appeals, Queue, QueueFilter, SlaExplanation, Urgency};
    pub use crate::report::{Period, PeriodReport};
    pub use plaint_domain::sla::{AppealEligibility, AppealReason, ClockSla, TicketSla, Verdict};
    pub use plaint_projections::analysis::{AlertsReport, HeatMap, WeeklyReport};
    pub use plaint_projections::casework::{
        AssessBy, AssessmentReport, AssessmentRow, CategoryAnalysis, ComplaintAnalysis, FinanceTotals,
        ImprovementOutcome, IncidentSummary, ProcessTotals,
    };
    pub use plaint_projections::repeats::RepeatReport;
    pub use plaint_projections::sla::{AtRiskList, GroupBy, SlaReport};
    pub use plaint_projections::tickets::{TicketStatus, TicketView};
    pub use plaint_projections::util::{week_of_date, DurationStats, IsoWeek, Month};
}
pub use maintenance::{RepairReport, StoreCheck};

/// Access control (docs/serve.md): roles, the one table of their rights, API tokens and the
/// audit record of reveals.
pub mod access {
    pub use crate::engine::{NewToken, RevealRequest};
    pub use plaint_domain::access::*;
}
pub use plaint_store::chain::HeadMark;
pub use plaint_store::file::Recovery;
// What the file log's writer did (`Engine::writer_stats`): fsync counts and latency buckets.
pub use plaint_store::file::{WriterStats, SYNC_BUCKET_BOUNDS_MICROS};

/// The README's code blocks, compiled as doctests so its embedding example cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

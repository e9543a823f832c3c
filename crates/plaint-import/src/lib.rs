//! Legacy import: CSV histories into plaint commands through a mapping file.
//!
//! A back office adopting plaint brings its old tickets in as events. A mapping file
//! ([`Mapping`], reference in `docs/import-csv.md`) says which columns hold the ticket id, the
//! created / due / dispatched / closed timestamps (format and time zone), the status and what
//! each status value means, and how the rest of a row fills the commands. [`plan_csv`] turns
//! each row into the commands of that ticket's history, in business-time order:
//!
//! | legacy status means | commands |
//! |---|---|
//! | `new` | Receive, Verify, Classify |
//! | `open` | Receive, Verify, Classify, Dispatch |
//! | `closed` | … Dispatch, Respond (final), Close |
//! | `transferred` | … Dispatch, Redispatch, Respond (final), Close |
//! | `duplicate` | Receive, Verify, MergeAsDuplicate, Close |
//!
//! Every command carries the historic business time as `occurred_at`, Classify carries the
//! legacy due date as a *recorded* resolution deadline, and the command ids are derived from
//! the record id (`import:<source>:<record id>:<step>`), so importing a file twice adds nothing.
//!
//! Every anomalous row is reported ([`Anomaly`]: line, reason, the mapping's decision and the
//! fix applied); nothing is fixed silently. This crate is pure: it reads bytes and produces
//! commands; the engine executes them.

pub mod anomaly;
pub mod mapping;
pub mod open311;
pub mod plan;
pub mod report;

pub use anomaly::{Anomaly, AnomalyKind, AnomalySummary, Decision, KindCount};
pub use mapping::{Mapping, MappingError, StatusMeaning};
pub use plan::{
    import_command_id, plan_csv, plan_csv_for_policy, ImportError, ImportPlan, TicketPlan, IMPORT_ROWS_MAX,
};

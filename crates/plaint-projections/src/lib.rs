//! Projections: everything a back office reads, rebuilt from the log (issue 4; docs/domain.md §7–§8).
//!
//! Each projection is pure state folded event by event ([`Projection::apply`]) over its
//! [`records::RecordTable`], plus its reports; it never reads the wall clock ("now" is a
//! parameter of every query), never touches a file, and never re-decides a domain rule: status,
//! holds, reopens, escalation and compensation come from `plaint_domain::lifecycle`, SLA verdicts
//! from `plaint_domain::sla::evaluate_ticket` over the domain's per-ticket `SlaTrail`. The
//! [`runner`] feeds projections from any [`plaint_store::EventStore`], keeping each one's
//! checkpoint atomically beside its state, and [`envelope`] is the one bridge between domain
//! events and store envelopes.
//!
//! - [`tickets::Tickets`]: the current state of every complaint.
//! - [`sla::SlaProjection`]: per ticket and clock verdicts as of a `now`, and their aggregates.
//! - [`repeats::Repeats`]: customer and waybill indexes, repeat links, the intake judgement.
//! - [`analysis::Analysis`]: the weekly report, the monthly heat map, the alerts.
//!
//! Determinism: the serialised state of a projection depends only on the events applied, never
//! on how the log was read (one rebuild or many restarts). Lookup maps are never iterated into
//! output; what is serialised is ordered by first appearance in the log or sorted.
//!
//! ```
//! use plaint_domain::policy::Policy;
//! use plaint_domain::time::Timestamp;
//! use plaint_projections::runner::ProjectionSet;
//! use plaint_projections::synth::{SynthConfig, SynthLog};
//! use plaint_projections::util::IsoWeek;
//!
//! // Fold a (synthetic) log into every projection, then read.
//! let mut set = ProjectionSet::default();
//! for event in SynthLog::new(SynthConfig { complaints: 200, ..SynthConfig::default() }) {
//!     set.apply(&event);
//! }
//! let id = set.tickets.state.ids().next().unwrap();
//! let ticket = set.tickets.state.view(&id).unwrap();
//! assert_eq!(ticket.id, id);
//!
//! let now = Timestamp::parse_rfc3339("2026-12-31T00:00:00+08:00").unwrap();
//! let policy = Policy::default();
//! let sla = set.sla.state.report(now, &policy, None, None);
//! assert_eq!(sla.overall.tickets, 200);
//! let week = IsoWeek { year: 2026, week: 36 };
//! let weekly = set.analysis.state.weekly_report(week, &set.sla.state, now, &policy);
//! assert!(weekly.received > 0);
//! ```

pub mod analysis;
pub mod casework;
pub mod checkpoint;
mod compact;
pub mod envelope;
pub mod records;
pub mod repeats;
pub mod runner;
pub mod shared;
pub mod sla;
pub mod synth;
pub mod tickets;
pub mod util;

use plaint_domain::event::Event;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A projection: state folded from events in global order.
pub trait Projection: Serialize + DeserializeOwned + Default + Send + 'static {
    /// Stable name; the checkpoint file is named after it.
    const NAME: &'static str;
    /// Folds one committed event in. Must be deterministic and must not panic on any event
    /// sequence the domain can produce (unknown complaints are counted, not fatal).
    fn apply(&mut self, event: &Event) {
        self.apply_hinted(event, None);
    }
    /// Like [`Projection::apply`], with a hint: the record number the complaint probably has
    /// (every projection numbers complaints in the order their first `Received` appears in the
    /// log, so the runner can look the id up once for all of them). A projection checks the
    /// hint against the record's id and falls back to a lookup when it does not match (in the
    /// set's numbering index when the projection is in a set, else in its own index), so a
    /// wrong hint costs time, never correctness.
    fn apply_hinted(&mut self, event: &Event, hint: Option<u32>);
    /// Checks a deserialised state and rebuilds its lookup indexes (never serialised). A
    /// checkpoint's hash proves only that its bytes are the ones written; a crafted or buggy
    /// writer can still hand over a state this code never builds (a symbol beyond the interner,
    /// a record number beyond the table, an id twice). Every cross-reference is checked here, so
    /// such a state is refused at load, naming what is wrong, and never panics or answers wrongly
    /// at query time.
    fn after_load(&mut self) -> Result<(), InvalidState>;
    /// The projection's record table, whatever its record type: what the set needs of it
    /// (the ids and their lookups, below).
    #[doc(hidden)]
    fn id_table(&self) -> &dyn records::IdTable;
    /// [`Projection::id_table`], to change its ids' sharing and lookups.
    #[doc(hidden)]
    fn id_table_mut(&mut self) -> &mut dyn records::IdTable;
    /// The complaint ids of the records, in log order of first receipt: lets the runner seed
    /// its shared numbering after loading checkpoints and check every projection against it.
    fn record_ids(&self) -> &records::IdColumn {
        self.id_table().ids()
    }
    /// Makes the full chunks of [`Projection::record_ids`] that equal `from`'s (the runner's
    /// numbering) the same allocation, so a set of projections holds each id once (issue 13,
    /// wave 8). Changes no id and nothing serialised.
    fn share_record_ids(&mut self, from: &records::IdColumn) {
        self.id_table_mut().share_ids_from(from);
    }
    /// Looks complaints up in the set's numbering (`index`, numbering the ids of `numbered`)
    /// from now on instead of an index of its own (issue 13, wave 8: one lookup table per set),
    /// when its records are the numbering's first complaints, numbered alike; otherwise keeps an
    /// index of its own. Says which. A record pushed that the numbering does not number alike
    /// sends the projection back to an index of its own. For the set (and its tests).
    #[doc(hidden)]
    fn use_numbering(&mut self, index: &records::SharedIndex, numbered: &records::IdColumn) -> records::Lookups {
        self.id_table_mut().use_numbering(index, numbered)
    }
    /// Whether lookups go through `numbering` ([`Projection::use_numbering`]).
    #[doc(hidden)]
    fn uses_numbering(&self, numbering: &records::SharedIndex) -> bool {
        self.id_table().uses_numbering(numbering)
    }
    /// Where the projection reads its complaints' receipts (issue 13, wave 11: the set's shared
    /// record, [`shared`]), if it reads any.
    fn receipts(&self) -> Option<&shared::ReceiptColumn> {
        None
    }
    /// Checks the state against the receipts it reads (what it derived from them at receipt),
    /// once the set lent it its shared record after a load ([`Projection::after_load`] checks
    /// the rest).
    fn check_receipts(&self) -> Result<(), InvalidState> {
        Ok(())
    }
    /// [`Projection::receipts`], for the set to lend its record.
    #[doc(hidden)]
    fn receipts_mut(&mut self) -> Option<&mut shared::ReceiptColumn> {
        None
    }
}

/// What is wrong with a deserialised projection state (see [`Projection::after_load`]): the
/// checkpoint loader reports it as damage of the named file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct InvalidState {
    detail: String,
}

impl InvalidState {
    pub fn new(detail: impl Into<String>) -> InvalidState {
        InvalidState { detail: detail.into() }
    }
    /// The same fault, with where it was found in front (`record 7 ("C-1"): ...`).
    #[must_use]
    pub fn within(self, place: impl std::fmt::Display) -> InvalidState {
        InvalidState {
            detail: format!("{place}: {}", self.detail),
        }
    }
}

/// `Ok` when `ok`, else the fault `detail()` describes.
pub(crate) fn ensure(ok: bool, detail: impl FnOnce() -> String) -> Result<(), InvalidState> {
    if ok {
        Ok(())
    } else {
        Err(InvalidState::new(detail()))
    }
}

pub use analysis::Analysis;
pub use envelope::{from_recorded, from_recorded_owned, to_new_event, DecodeError};
pub use repeats::Repeats;
pub use runner::{ProjectionSet, Runner};
pub use sla::SlaProjection;
pub use tickets::{TicketView, Tickets};

#[cfg(test)]
mod record_sizes {
    /// A million tickets: every byte of a per-ticket record is a megabyte of resident memory.
    /// These bounds catch a field added carelessly (docs/PERFORMANCE.md has the budget).
    #[test]
    fn a_receipt_is_13_bytes() {
        // Issue 13, wave 11: held once per complaint by the set, for all five projections.
        // 20 until the review of wave 12 (its two times with alignment 4), 17 until wave 13
        // (its two times in 6 bytes each, not 8).
        assert_eq!(std::mem::size_of::<crate::shared::Receipt>(), 13);
    }

    #[test]
    fn small_id_is_16_bytes() {
        // Issue 13, wave 7: 24 before. Wave 8: held once per complaint (the shared id column,
        // `records::IdColumn`), no longer in every record.
        assert_eq!(std::mem::size_of::<crate::util::SmallId>(), 16);
    }

    #[test]
    fn per_ticket_records_stay_small() {
        // 184 (issue 13, wave 13): `PackedTimestamp` in 6 bytes (the verification, revisit
        // and close records' times) and the update time packed too.
        // 192 (issue 13, wave 12): the flags, `has_personal` and the claimed amount's presence in
        // one byte (`util::FlagBits` and two marks), the amount a bare `i64`.
        // 208 (issue 13, wave 11): the time of receipt, first contact and channel in the set's
        // shared record (`shared::Receipt`, 20 bytes a complaint for all five projections).
        // 224 (issue 13, wave 9): the verification, the latest revisit and the close with their
        // time packed (`PackedTimestamp`), 12 bytes each instead of 16.
        // 240 (issue 13, wave 8): the id out of the record, into the table's shared id column.
        // 256 (issue 13, wave 7): the complaint id in 16 bytes, not 24 (`small_id_is_16_bytes`).
        // 264 (issue 17): + the owner (首问负责制), 4 bytes and their alignment; every ticket
        // has one, so it is not a rare extra. 264 (issue 13, wave 2 session 3): per-ticket lists
        // as exact boxed slices (16 bytes, not 24) and optional symbols in 4 bytes, not 8.
        assert!(
            crate::tickets::record_size() <= 184,
            "{}",
            crate::tickets::record_size()
        );
        // 7 (wave 13): a deadline's 6 bytes of time (`PackedTimestamp`), its clock and flag in
        // one byte, alignment 1. 10 in wave 12 (8 bytes of time, the clock, the flag).
        assert_eq!(crate::tickets::deadline_size(), 7);
        // 24 (wave 7): the links' complaint ids are 16-byte `SmallId`s.
        assert!(crate::tickets::extra_size() <= 24, "{}", crate::tickets::extra_size());
        // 32 (issue 13, wave 10; 40 before): the handler an `OptSym`, the time packed, the rare
        // reason behind a thin pointer (about one assignment a ticket).
        assert!(
            crate::tickets::assignment_size() <= 32,
            "{}",
            crate::tickets::assignment_size()
        );
        // 112 (wave 7): the id, and the domain `SlaTrail`'s two lists as boxed slices. Wave 8:
        // every record 16 bytes less, the id in the shared column.
        // 80 (wave 11): the receipt in the shared record.
        // 72 (wave 12): the flags in one byte (`util::FlagBits`); 64: the attributes a
        // `util::RareList`.
        assert!(crate::sla::record_size() <= 64, "{}", crate::sla::record_size());
        // 40 (wave 11): the time of receipt and channel in the shared record.
        assert!(crate::repeats::record_size() <= 40, "{}", crate::repeats::record_size());
        // 136 (issue 17): every revisit counted (the domain's 20-byte RevisitTally); 128 with
        // the department as a 4-byte optional symbol; 120 with the 16-byte id (wave 7).
        // 96 (wave 9): the first response and first final response times packed.
        // 88 (wave 11): the time of receipt and channel in the shared record.
        // 72 (wave 12): the four yes/no fields, the liability and the two first times' tags in
        // one byte.
        assert!(
            crate::analysis::record_size() <= 72,
            "{}",
            crate::analysis::record_size()
        );
        // 112 (wave 7; 128 before): the 16-byte id, the disputes as a boxed slice.
        // 80 (wave 11): the time of receipt and channel in the shared record.
        // 72 (wave 12): the rare disputes behind a thin pointer (`util::RareList`).
        assert!(
            crate::casework::record_size() <= 72,
            "{}",
            crate::casework::record_size()
        );
    }

    /// Where the bytes of a projection set go, by projection and field group, per complaint
    /// (issue 13, wave 9: docs/PERFORMANCE.md's table). A measuring tool, not a check:
    /// `PLAINT_BREAKDOWN_COMPLAINTS=20000 cargo test -p plaint-projections --lib
    /// bytes_by_field_group -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bytes_by_field_group() {
        use crate::Projection;
        let complaints: u64 = std::env::var("PLAINT_BREAKDOWN_COMPLAINTS").map_or(20_000, |v| v.parse().unwrap());
        let mut set = crate::runner::ProjectionSet::default();
        let config = crate::synth::SynthConfig {
            complaints,
            ..crate::synth::SynthConfig::default()
        };
        for e in crate::synth::SynthLog::new(config) {
            set.apply(&e);
        }
        let groups = [
            set.tickets.state.bytes_by_group(),
            set.sla.state.bytes_by_group(),
            set.repeats.state.bytes_by_group(),
            set.analysis.state.bytes_by_group(),
            set.casework.state.bytes_by_group(),
        ];
        let receipts = set.tickets.state.receipts().expect("tickets read receipts");
        let shared = receipts.with(|r| r.len()) * std::mem::size_of::<crate::shared::Receipt>();
        println!("| shared record: receipts | {:.1} |", shared as f64 / complaints as f64);
        for (name, bytes) in groups.iter().flatten() {
            println!("| {name} | {:.1} |", *bytes as f64 / complaints as f64);
        }
        // Review of wave 12: the tickets' state as a checkpoint load gives it back (its
        // compensations' texts shared again by `after_load`).
        let bytes = postcard::to_allocvec(&set.tickets.state).unwrap();
        let loaded: crate::Tickets =
            crate::checkpoint::decode_state(std::path::Path::new("breakdown"), &bytes).unwrap();
        for (name, bytes) in loaded.bytes_by_group() {
            if name.starts_with("compensation texts") {
                println!(
                    "| tickets after a load: {name} | {:.1} |",
                    bytes as f64 / complaints as f64
                );
            }
        }
    }
}

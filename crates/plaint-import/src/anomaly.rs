//! Anomalies: what is wrong with a row, and what the mapping decided to do about it.
//!
//! Real exports are messy. The importer never fixes a row silently: every deviation becomes an
//! [`Anomaly`] naming the input line, the reason, and the decision the mapping's `[anomalies]`
//! table took for its kind. A kind's decision is `reject` (the row is not imported) or `import`
//! (the row is imported with the fix [`AnomalyKind::fix`] states). Kinds that cannot be fixed
//! are always rejected.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What the mapping does with a row that shows an anomaly of some kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The row is not imported.
    Reject,
    /// The row is imported with the kind's stated fix.
    Import,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Reject => "reject",
            Decision::Import => "import",
        }
    }
}

/// The kinds of anomaly the importer detects. The snake_case name is the key in the mapping's
/// `[anomalies]` table and in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// The row has fewer fields than the header.
    ShortRow,
    /// The row has more fields than the header.
    LongRow,
    /// The row is not valid UTF-8.
    InvalidEncoding,
    /// The record id is blank or cannot form a complaint or command id.
    InvalidId,
    /// The record id appeared on an earlier line of the same file.
    DuplicateId,
    /// The created date is blank.
    BlankCreated,
    /// The created date does not parse with the mapped format.
    UnparsableCreated,
    /// The due date is blank.
    BlankDue,
    /// The due date does not parse.
    UnparsableDue,
    /// The dispatched date is blank.
    BlankDispatched,
    /// The dispatched date does not parse.
    UnparsableDispatched,
    /// The dispatched date lies before the created date.
    DispatchedBeforeCreated,
    /// The close date lies before the dispatch date.
    ClosedBeforeDispatched,
    /// The close date does not parse.
    UnparsableClosed,
    /// The close date lies before the created date.
    ClosedBeforeCreated,
    /// The status means closed, but the close date is blank.
    ClosedWithoutCloseDate,
    /// The status means open, but a close date is present.
    OpenWithCloseDate,
    /// The status value is not in the mapping's `[status.values]`.
    UnknownStatus,
    /// The status means duplicate, but no surviving ticket is named.
    DuplicateWithoutTarget,
    /// A mapped value column is blank.
    BlankValue,
    /// A mapped value is not in the field's `values` table (or not a known name).
    UnknownValue,
    /// The department is not one of the engine policy's departments.
    UnknownDepartment,
    /// A transferred ticket would be redispatched to the department it is already with.
    TransferToSameDepartment,
    /// A value is longer than the domain allows for its field.
    LongValue,
    /// A local time falls in a daylight-saving overlap: it names two instants.
    AmbiguousLocalTime,
    /// A local time falls in a daylight-saving gap: it names no instant.
    NonexistentLocalTime,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 26] = [
        AnomalyKind::ShortRow,
        AnomalyKind::LongRow,
        AnomalyKind::InvalidEncoding,
        AnomalyKind::InvalidId,
        AnomalyKind::DuplicateId,
        AnomalyKind::BlankCreated,
        AnomalyKind::UnparsableCreated,
        AnomalyKind::BlankDue,
        AnomalyKind::UnparsableDue,
        AnomalyKind::BlankDispatched,
        AnomalyKind::UnparsableDispatched,
        AnomalyKind::DispatchedBeforeCreated,
        AnomalyKind::ClosedBeforeDispatched,
        AnomalyKind::UnparsableClosed,
        AnomalyKind::ClosedBeforeCreated,
        AnomalyKind::ClosedWithoutCloseDate,
        AnomalyKind::OpenWithCloseDate,
        AnomalyKind::UnknownStatus,
        AnomalyKind::DuplicateWithoutTarget,
        AnomalyKind::BlankValue,
        AnomalyKind::UnknownValue,
        AnomalyKind::UnknownDepartment,
        AnomalyKind::TransferToSameDepartment,
        AnomalyKind::LongValue,
        AnomalyKind::AmbiguousLocalTime,
        AnomalyKind::NonexistentLocalTime,
    ];

    /// The stable snake_case name (mapping key, summary key).
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::ShortRow => "short_row",
            AnomalyKind::LongRow => "long_row",
            AnomalyKind::InvalidEncoding => "invalid_encoding",
            AnomalyKind::InvalidId => "invalid_id",
            AnomalyKind::DuplicateId => "duplicate_id",
            AnomalyKind::BlankCreated => "blank_created",
            AnomalyKind::UnparsableCreated => "unparsable_created",
            AnomalyKind::BlankDue => "blank_due",
            AnomalyKind::UnparsableDue => "unparsable_due",
            AnomalyKind::BlankDispatched => "blank_dispatched",
            AnomalyKind::UnparsableDispatched => "unparsable_dispatched",
            AnomalyKind::DispatchedBeforeCreated => "dispatched_before_created",
            AnomalyKind::ClosedBeforeDispatched => "closed_before_dispatched",
            AnomalyKind::UnparsableClosed => "unparsable_closed",
            AnomalyKind::ClosedBeforeCreated => "closed_before_created",
            AnomalyKind::ClosedWithoutCloseDate => "closed_without_close_date",
            AnomalyKind::OpenWithCloseDate => "open_with_close_date",
            AnomalyKind::UnknownStatus => "unknown_status",
            AnomalyKind::DuplicateWithoutTarget => "duplicate_without_target",
            AnomalyKind::BlankValue => "blank_value",
            AnomalyKind::UnknownValue => "unknown_value",
            AnomalyKind::UnknownDepartment => "unknown_department",
            AnomalyKind::TransferToSameDepartment => "transfer_to_same_department",
            AnomalyKind::LongValue => "long_value",
            AnomalyKind::AmbiguousLocalTime => "ambiguous_local_time",
            AnomalyKind::NonexistentLocalTime => "nonexistent_local_time",
        }
    }

    /// Parses the snake_case name.
    pub fn from_name(name: &str) -> Option<AnomalyKind> {
        AnomalyKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The fix applied when the mapping says `import`; `None` when the kind cannot be fixed
    /// (such rows are always rejected).
    pub fn fix(self) -> Option<&'static str> {
        match self {
            AnomalyKind::ShortRow => Some("missing trailing fields read as blank"),
            AnomalyKind::LongRow => Some("extra trailing fields ignored"),
            AnomalyKind::InvalidEncoding => Some("invalid bytes replaced with U+FFFD"),
            AnomalyKind::InvalidId | AnomalyKind::DuplicateId => None,
            AnomalyKind::BlankCreated | AnomalyKind::UnparsableCreated => None,
            AnomalyKind::BlankDue | AnomalyKind::UnparsableDue => {
                Some("no deadline recorded for the row: imported history carries only the deadlines the legacy file recorded, and the policy computes none for it")
            }
            AnomalyKind::BlankDispatched | AnomalyKind::UnparsableDispatched => Some("dispatched at the created time"),
            AnomalyKind::DispatchedBeforeCreated => Some("dispatched at the created time"),
            AnomalyKind::ClosedBeforeDispatched => Some("dispatched at the close time"),
            AnomalyKind::UnparsableClosed => Some("close date treated as blank"),
            AnomalyKind::ClosedBeforeCreated => Some("closed at the created time"),
            AnomalyKind::ClosedWithoutCloseDate => Some("imported as still open"),
            AnomalyKind::OpenWithCloseDate => Some("close date ignored; imported as open"),
            AnomalyKind::UnknownStatus => Some("imported as open"),
            AnomalyKind::DuplicateWithoutTarget => {
                Some("closed as a resolved ticket (final response and close at the close date)")
            }
            AnomalyKind::BlankValue | AnomalyKind::UnknownValue | AnomalyKind::UnknownDepartment => {
                Some("the field's `default` from the mapping used")
            }
            AnomalyKind::TransferToSameDepartment => Some("no redispatch recorded; closed by its department"),
            AnomalyKind::LongValue => Some("cut to the longest allowed length (at a character boundary)"),
            AnomalyKind::AmbiguousLocalTime => Some("the earlier instant (before the clocks went back) used"),
            AnomalyKind::NonexistentLocalTime => Some(
                "read with the offset in force before the gap (the instant the wall clock would show one hour later)",
            ),
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One anomalous finding in one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// The input line the record starts on (1 is the header).
    pub line: u64,
    /// The record id, when it could be read.
    pub record_id: Option<String>,
    pub kind: AnomalyKind,
    /// What exactly is wrong, naming the column and value.
    pub reason: String,
    /// What the mapping decided.
    pub decision: Decision,
    /// The fix applied when imported; for a rejection, why it was not fixed.
    pub fix: Option<String>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(id) = &self.record_id {
            write!(f, " (id {id})")?;
        }
        write!(
            f,
            ": {}: {}; decision: {}",
            self.kind,
            self.reason,
            self.decision.as_str()
        )?;
        if let Some(fix) = &self.fix {
            write!(f, " ({fix})")?;
        }
        Ok(())
    }
}

/// Per-kind counts: how many rows showed the kind, and how many of them were rejected because of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KindCount {
    pub rows: u64,
    pub rejected: u64,
    pub imported_with_fix: u64,
}

/// The summary at the end of an import: counts per kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AnomalySummary {
    pub by_kind: BTreeMap<AnomalyKind, KindCount>,
}

impl AnomalySummary {
    pub fn from_anomalies<'a>(anomalies: impl IntoIterator<Item = &'a Anomaly>) -> Self {
        let mut by_kind: BTreeMap<AnomalyKind, KindCount> = BTreeMap::new();
        for a in anomalies {
            let c = by_kind.entry(a.kind).or_default();
            c.rows += 1;
            match a.decision {
                Decision::Reject => c.rejected += 1,
                Decision::Import => c.imported_with_fix += 1,
            }
        }
        AnomalySummary { by_kind }
    }

    /// Rows that showed `kind` (0 when none did).
    pub fn count(&self, kind: AnomalyKind) -> u64 {
        self.by_kind.get(&kind).map_or(0, |c| c.rows)
    }

    pub fn total(&self) -> u64 {
        self.by_kind.values().map(|c| c.rows).sum()
    }
}

impl fmt::Display for AnomalySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.by_kind.is_empty() {
            return writeln!(f, "no anomalies");
        }
        for (kind, c) in &self.by_kind {
            writeln!(
                f,
                "{:<28} {:>7} rows ({} rejected, {} imported with fix)",
                kind.as_str(),
                c.rows,
                c.rejected,
                c.imported_with_fix
            )?;
        }
        Ok(())
    }
}

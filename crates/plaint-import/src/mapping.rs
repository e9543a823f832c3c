//! The mapping file: which columns hold what, how to read them, and what every anomaly kind
//! leads to. The reference is `docs/import-csv.md`; `examples/mappings/` has real ones.

use crate::anomaly::{AnomalyKind, Decision};
use chrono_tz::Tz;
use plaint_domain::{Actor, Category, Channel, Severity};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Longest mapping file accepted, in bytes.
pub const MAPPING_BYTES_MAX: usize = 1024 * 1024;
/// Longest `source.name`, in bytes; it is part of every command id.
pub const SOURCE_NAME_LEN_MAX: usize = 32;

/// Why a mapping file was refused. Every variant names the key it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    #[error("cannot read mapping {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("mapping is {len} bytes; at most {max} are allowed")]
    TooLarge { len: usize, max: usize },
    /// The TOML does not parse or does not fit the schema; toml's message names the key and
    /// the line and column.
    #[error("mapping does not parse: {message}")]
    Syntax { message: String },
    #[error("mapping key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl MappingError {
    fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        MappingError::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The mapping key the error is about, when it names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            MappingError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// What a status value means for the ticket's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusMeaning {
    /// Received and classified, not yet dispatched.
    New,
    /// Dispatched and still open.
    Open,
    /// Closed: a final response and a close at the close date.
    Closed,
    /// Closed as a duplicate of another ticket (`columns.duplicate_of` names it).
    Duplicate,
    /// Transferred to another department (`status.transferred_to`) and closed at the close date.
    Transferred,
}

impl StatusMeaning {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusMeaning::New => "new",
            StatusMeaning::Open => "open",
            StatusMeaning::Closed => "closed",
            StatusMeaning::Duplicate => "duplicate",
            StatusMeaning::Transferred => "transferred",
        }
    }
    /// Whether the status says the ticket is finished (and so needs a close date).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            StatusMeaning::Closed | StatusMeaning::Duplicate | StatusMeaning::Transferred
        )
    }
}

/// A value read from a column (optionally translated through `values`), or a fixed `value`.
/// `default` is what the `blank_value` / `unknown_value` fixes use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field<T> {
    pub column: Option<String>,
    pub value: Option<T>,
    #[serde(default = "BTreeMap::new")]
    pub values: BTreeMap<String, T>,
    pub default: Option<T>,
}

impl<T> Field<T> {
    fn validate(&self, key: &str) -> Result<(), MappingError> {
        match (&self.column, &self.value) {
            (Some(_), Some(_)) => Err(MappingError::invalid(key, "give either `column` or `value`, not both")),
            (None, None) => Err(MappingError::invalid(
                key,
                "give `column` (read per row) or `value` (fixed)",
            )),
            (None, Some(_)) if !self.values.is_empty() || self.default.is_some() => Err(MappingError::invalid(
                key,
                "`values` and `default` apply only with `column`",
            )),
            (Some(c), _) if c.trim().is_empty() => Err(MappingError::invalid(format!("{key}.column"), "is empty")),
            _ => Ok(()),
        }
    }
}

/// `[source]`: where the file comes from and how its cells are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Short name of the legacy system; part of every command id (`import:<name>:<id>:<step>`).
    pub name: String,
    /// The column holding the legacy record id.
    pub id_column: String,
    /// Prepended to the record id to form the complaint id.
    #[serde(default)]
    pub complaint_id_prefix: String,
    /// IANA time zone the legacy timestamps are in, e.g. `America/New_York`.
    pub time_zone: String,
    /// chrono `strftime` format of the date columns, e.g. `%m/%d/%Y %I:%M:%S %p`. A format
    /// without a time of day reads the date at local midnight.
    pub date_format: String,
    /// Per-column overrides of `date_format`.
    #[serde(default)]
    pub date_formats: BTreeMap<String, String>,
    /// Who the imported commands are attributed to (default `system`).
    #[serde(default = "default_actor")]
    pub actor: String,
    /// Field delimiter, a single byte (default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
}

fn default_actor() -> String {
    Actor::SYSTEM.to_owned()
}
fn default_delimiter() -> char {
    ','
}

/// `[columns]`: which columns hold the lifecycle timestamps and status.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// When the ticket was created (Received at this time). Required.
    pub created: String,
    /// The legacy due date: recorded as the resolution deadline at classification.
    pub due: Option<String>,
    /// When it was dispatched; when absent, dispatch happens at the created time.
    pub dispatched: Option<String>,
    /// When it was closed.
    pub closed: Option<String>,
    /// The status column; its values are explained in `[status.values]`.
    pub status: Option<String>,
    /// The record id of the surviving ticket, for duplicates.
    pub duplicate_of: Option<String>,
}

/// `[receive]`: how a row becomes the Receive command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveMap {
    pub channel: Field<Channel>,
    pub region: Field<String>,
    pub description: Field<String>,
}

/// `[classify]`: category and severity; the recorded deadline comes from `columns.due`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyMap {
    pub category: Field<Category>,
    pub severity: Field<Severity>,
}

/// `[dispatch]`: the department the ticket went to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchMap {
    pub department: Field<String>,
}

/// `[status]`: what each status value means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusMap {
    pub values: BTreeMap<String, StatusMeaning>,
    /// The department a `transferred` ticket is redispatched to (the legacy export does not
    /// say which; the mapping states it).
    pub transferred_to: Option<String>,
}

/// A parsed and validated mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub source: Source,
    pub columns: Columns,
    pub receive: ReceiveMap,
    pub classify: ClassifyMap,
    pub dispatch: DispatchMap,
    /// Absent: every row is `open` (dispatched, not closed).
    pub status: Option<StatusMap>,
    /// Attribute name → source column, kept on the Received event for grouping in reports.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Anomaly kind → `reject` or `import`. A kind not listed is rejected.
    #[serde(default)]
    pub anomalies: BTreeMap<String, Decision>,
    #[serde(skip)]
    tz: Option<Tz>,
    #[serde(skip)]
    decisions: BTreeMap<AnomalyKind, Decision>,
}

impl Mapping {
    /// Parses and validates a mapping from TOML text.
    ///
    /// ```
    /// let toml = r#"
    /// [source]
    /// name = "legacy"
    /// id_column = "id"
    /// time_zone = "UTC"
    /// date_format = "%Y-%m-%d %H:%M"
    /// [columns]
    /// created = "created"
    /// [receive]
    /// channel = { value = "hotline" }
    /// region = { value = "north" }
    /// description = { column = "text" }
    /// [classify]
    /// category = { value = "other" }
    /// severity = { value = "ordinary" }
    /// [dispatch]
    /// department = { value = "customer_service" }
    /// "#;
    /// let mapping = plaint_import::Mapping::from_toml_str(toml).unwrap();
    /// assert_eq!(mapping.source.name, "legacy");
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Mapping, MappingError> {
        if text.len() > MAPPING_BYTES_MAX {
            return Err(MappingError::TooLarge {
                len: text.len(),
                max: MAPPING_BYTES_MAX,
            });
        }
        let mut m: Mapping = toml::from_str(text).map_err(|e| MappingError::Syntax { message: e.to_string() })?;
        m.validate()?;
        Ok(m)
    }

    /// Reads and parses a mapping file.
    pub fn from_path(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_owned(),
            source,
        })?;
        Mapping::from_toml_str(&text)
    }

    fn validate(&mut self) -> Result<(), MappingError> {
        let name = &self.source.name;
        if name.is_empty() || name.len() > SOURCE_NAME_LEN_MAX {
            return Err(MappingError::invalid(
                "source.name",
                format!("must be 1 to {SOURCE_NAME_LEN_MAX} bytes"),
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(MappingError::invalid(
                "source.name",
                "may hold only ASCII letters, digits and _ - .",
            ));
        }
        if self.source.id_column.trim().is_empty() {
            return Err(MappingError::invalid("source.id_column", "is empty"));
        }
        let tz: Tz = self.source.time_zone.parse().map_err(|_| {
            MappingError::invalid(
                "source.time_zone",
                format!("{:?} is not an IANA time zone name", self.source.time_zone),
            )
        })?;
        self.tz = Some(tz);
        if !self.source.delimiter.is_ascii() {
            return Err(MappingError::invalid(
                "source.delimiter",
                "must be a single ASCII character",
            ));
        }
        Actor::person(self.source.actor.clone()).map_err(|e| MappingError::invalid("source.actor", e.to_string()))?;
        check_format("source.date_format", &self.source.date_format)?;
        for (col, fmt) in &self.source.date_formats {
            check_format(&format!("source.date_formats.{col}"), fmt)?;
        }
        if self.columns.created.trim().is_empty() {
            return Err(MappingError::invalid("columns.created", "is empty"));
        }
        self.receive.channel.validate("receive.channel")?;
        self.receive.region.validate("receive.region")?;
        self.receive.description.validate("receive.description")?;
        self.classify.category.validate("classify.category")?;
        self.classify.severity.validate("classify.severity")?;
        self.dispatch.department.validate("dispatch.department")?;
        if let Some(status) = &self.status {
            if self.columns.status.is_none() {
                return Err(MappingError::invalid(
                    "columns.status",
                    "`[status]` is given, so name the status column",
                ));
            }
            if status.values.is_empty() {
                return Err(MappingError::invalid("status.values", "is empty"));
            }
            let meanings: Vec<StatusMeaning> = status.values.values().copied().collect();
            if meanings.contains(&StatusMeaning::Transferred) && status.transferred_to.is_none() {
                return Err(MappingError::invalid(
                    "status.transferred_to",
                    "a status means `transferred`, so name the department transferred tickets go to",
                ));
            }
            if meanings.iter().any(|m| m.is_closed()) && self.columns.closed.is_none() {
                return Err(MappingError::invalid(
                    "columns.closed",
                    "a status means closed, so name the close-date column",
                ));
            }
        } else if self.columns.status.is_some() {
            return Err(MappingError::invalid(
                "status.values",
                "`columns.status` is given, so say what each value means",
            ));
        }
        for (attr, col) in &self.attributes {
            if attr.is_empty() || col.trim().is_empty() {
                return Err(MappingError::invalid(
                    format!("attributes.{attr}"),
                    "name and column must not be empty",
                ));
            }
        }
        let mut decisions = BTreeMap::new();
        for (name, decision) in &self.anomalies {
            let kind = AnomalyKind::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = AnomalyKind::ALL.iter().map(|k| k.as_str()).collect();
                MappingError::invalid(
                    format!("anomalies.{name}"),
                    format!("unknown anomaly kind; known: {}", known.join(", ")),
                )
            })?;
            if *decision == Decision::Import && kind.fix().is_none() {
                return Err(MappingError::invalid(
                    format!("anomalies.{name}"),
                    "such rows cannot be fixed; only `reject` is allowed",
                ));
            }
            decisions.insert(kind, *decision);
        }
        self.decisions = decisions;
        Ok(())
    }

    /// The parsed time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz.unwrap_or(Tz::UTC)
    }

    /// The decision for an anomaly kind (`reject` unless the mapping says `import`).
    pub fn decision(&self, kind: AnomalyKind) -> Decision {
        self.decisions.get(&kind).copied().unwrap_or(Decision::Reject)
    }

    /// The date format of `column`.
    pub fn date_format(&self, column: &str) -> &str {
        self.source
            .date_formats
            .get(column)
            .map(String::as_str)
            .unwrap_or(&self.source.date_format)
    }

    /// Every column the mapping reads, with the key that names it (to check against a header).
    pub fn columns_used(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = vec![
            ("source.id_column".into(), self.source.id_column.as_str()),
            ("columns.created".into(), self.columns.created.as_str()),
        ];
        let opt = [
            ("columns.due", &self.columns.due),
            ("columns.dispatched", &self.columns.dispatched),
            ("columns.closed", &self.columns.closed),
            ("columns.status", &self.columns.status),
            ("columns.duplicate_of", &self.columns.duplicate_of),
            ("receive.channel.column", &self.receive.channel.column),
            ("receive.region.column", &self.receive.region.column),
            ("receive.description.column", &self.receive.description.column),
            ("classify.category.column", &self.classify.category.column),
            ("classify.severity.column", &self.classify.severity.column),
            ("dispatch.department.column", &self.dispatch.department.column),
        ];
        for (key, col) in opt {
            if let Some(c) = col {
                out.push((key.into(), c.as_str()));
            }
        }
        for (attr, col) in &self.attributes {
            out.push((format!("attributes.{attr}"), col.as_str()));
        }
        out
    }
}

/// Rejects a format chrono cannot use, by formatting a sample with it.
fn check_format(key: &str, fmt: &str) -> Result<(), MappingError> {
    use std::fmt::Write;
    if fmt.trim().is_empty() {
        return Err(MappingError::invalid(key, "is empty"));
    }
    let sample = chrono::NaiveDate::from_ymd_opt(2020, 1, 2)
        .and_then(|d| d.and_hms_opt(3, 4, 5))
        .expect("valid sample date");
    let mut s = String::new();
    if write!(s, "{}", sample.format(fmt)).is_err() {
        return Err(MappingError::invalid(
            key,
            format!("{fmt:?} is not a valid chrono format"),
        ));
    }
    Ok(())
}

/// Reads a cell as `T` by its serde name (e.g. `hotline` for a [`Channel`]).
pub(crate) fn parse_name<T: DeserializeOwned>(s: &str) -> Option<T> {
    use serde::de::IntoDeserializer;
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(de).ok()
}

//! CSV rows into commands: the pure part of the import. Reading a file yields an [`ImportPlan`]
//! (the commands of every importable row, plus every anomaly); executing it is the engine's job.

use crate::anomaly::{Anomaly, AnomalyKind, AnomalySummary, Decision};
use crate::mapping::{parse_name, Field, Mapping, StatusMeaning};
use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use plaint_domain::policy::Policy;
use plaint_domain::state::{DESCRIPTION_LEN_MAX, SHORT_TEXT_LEN_MAX};
use plaint_domain::{
    Actor, Category, Channel, CheckOutcome, Classify, Clock, ClockDeadline, Close, Command, CommandBody, CommandId,
    ComplaintId, CustomerInput, CustomerTier, DeadlineSource, Department, Dispatch, Flags, MergeAsDuplicate, Receive,
    Redispatch, Respond, ResponseKind, Severity, Timestamp, Verify,
};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

/// Most data rows one import reads; a larger export is split first.
pub const IMPORT_ROWS_MAX: u64 = 10_000_000;
/// Largest input one import reads, in bytes.
pub const IMPORT_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;
/// Most commands one row turns into (receive, verify, classify, dispatch, redispatch, respond,
/// close).
pub const COMMANDS_PER_ROW_MAX: usize = 7;

/// Why a file could not be read at all (row-level trouble is an [`Anomaly`], not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("input line {line}: {source}")]
    Csv { line: u64, source: csv::Error },
    #[error("the input has no header row")]
    NoHeader,
    #[error("mapping key `{key}` names column {column:?}, which the header does not have")]
    MissingColumn { key: String, column: String },
    #[error("the input has more than {max} rows")]
    TooManyRows { max: u64 },
    #[error("the input is larger than {max} bytes; split it first")]
    TooLarge { max: u64 },
    #[error("cannot read the input: {source}")]
    Read { source: std::io::Error },
    #[error("the input is not a JSON array of service requests: {source}")]
    Json { source: serde_json::Error },
}

/// Counts lines up to a record's first byte, incrementally (records come in order).
#[derive(Default)]
struct LineCounter {
    scanned: usize,
    newlines: u64,
}

impl LineCounter {
    /// The 1-based line a record starting at (or just before, on its predecessor's line
    /// terminator) `offset` begins on.
    fn line_at(&mut self, data: &[u8], offset: usize) -> u64 {
        let mut start = offset.min(data.len());
        while start < data.len() && matches!(data[start], b'\r' | b'\n') {
            start += 1;
        }
        assert!(start >= self.scanned, "records are read in order");
        self.newlines += data[self.scanned..start].iter().filter(|&&b| b == b'\n').count() as u64;
        self.scanned = start;
        self.newlines + 1
    }
}

/// The commands of one imported ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPlan {
    /// The input line the record starts on.
    pub line: u64,
    pub record_id: String,
    pub complaint_id: ComplaintId,
    /// What the ticket's history ends in after the fixes.
    pub outcome: StatusMeaning,
    /// In business-time order; ids are `import:<source>:<record id>:<step>`.
    pub commands: Vec<Command>,
}

/// The outcome of reading a whole file.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub tickets: Vec<TicketPlan>,
    /// Every anomaly, in line order.
    pub anomalies: Vec<Anomaly>,
    pub rows_read: u64,
    pub rows_rejected: u64,
}

impl ImportPlan {
    pub fn summary(&self) -> AnomalySummary {
        AnomalySummary::from_anomalies(&self.anomalies)
    }
    /// Total commands across all tickets.
    pub fn command_count(&self) -> usize {
        self.tickets.iter().map(|t| t.commands.len()).sum()
    }
    /// The commands of all tickets in batches of whole tickets holding at most about
    /// `commands_per_batch` commands each (a ticket is never split across batches).
    pub fn batches(&self, commands_per_batch: usize) -> Vec<Vec<Command>> {
        assert!(
            commands_per_batch >= COMMANDS_PER_ROW_MAX,
            "a batch must hold one whole ticket"
        );
        let mut out = Vec::new();
        let mut cur: Vec<Command> = Vec::with_capacity(commands_per_batch);
        for t in &self.tickets {
            if cur.len() + t.commands.len() > commands_per_batch {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend(t.commands.iter().cloned());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// Like [`ImportPlan::batches`], consuming the plan (no copies of the commands).
    pub fn into_batches(self, commands_per_batch: usize) -> Vec<Vec<Command>> {
        assert!(
            commands_per_batch >= COMMANDS_PER_ROW_MAX,
            "a batch must hold one whole ticket"
        );
        let mut out = Vec::new();
        let mut cur: Vec<Command> = Vec::with_capacity(commands_per_batch);
        for t in self.tickets {
            if cur.len() + t.commands.len() > commands_per_batch {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend(t.commands);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

/// Reads a CSV file with a header row and plans its import.
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
/// let csv = "id,created,text\n7,2024-01-02 09:30,parcel late\n";
/// let plan = plaint_import::plan_csv(&mapping, csv.as_bytes()).unwrap();
/// assert_eq!(plan.tickets.len(), 1);
/// assert_eq!(plan.tickets[0].commands.len(), 4); // receive, verify, classify, dispatch
/// ```
pub fn plan_csv<R: Read>(mapping: &Mapping, input: R) -> Result<ImportPlan, ImportError> {
    plan(mapping, input, None)
}

/// Like [`plan_csv`], and also checks every department against the policy the engine will
/// decide with: a department the policy does not know is an `unknown_department` anomaly here,
/// instead of a rejected batch later.
pub fn plan_csv_for_policy<R: Read>(mapping: &Mapping, input: R, policy: &Policy) -> Result<ImportPlan, ImportError> {
    plan(mapping, input, Some(policy))
}

fn plan<R: Read>(mapping: &Mapping, input: R, policy: Option<&Policy>) -> Result<ImportPlan, ImportError> {
    // The whole input is read first: the csv crate's own line numbers are one short on CRLF
    // files (it counts the `\n` of a record's terminator when it reads the next record), so
    // lines are counted here from the bytes themselves.
    let mut data = Vec::new();
    input
        .take(IMPORT_BYTES_MAX + 1)
        .read_to_end(&mut data)
        .map_err(|source| ImportError::Read { source })?;
    if data.len() as u64 > IMPORT_BYTES_MAX {
        return Err(ImportError::TooLarge { max: IMPORT_BYTES_MAX });
    }
    let mut lines = LineCounter::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(mapping.source.delimiter as u8)
        .from_reader(data.as_slice());
    let mut header = csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(ImportError::NoHeader),
        Err(source) => return Err(ImportError::Csv { line: 1, source }),
    }
    let header: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    let planner = Planner::new(mapping, &header, policy)?;
    let mut plan = ImportPlan::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line_hint = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                return Err(ImportError::Csv {
                    line: line_hint,
                    source,
                })
            }
        }
        plan.rows_read += 1;
        if plan.rows_read > IMPORT_ROWS_MAX {
            return Err(ImportError::TooManyRows { max: IMPORT_ROWS_MAX });
        }
        let line = record
            .position()
            .map_or(line_hint, |p| lines.line_at(&data, p.byte() as usize));
        let row = planner.plan_row(line, &record, &mut seen);
        plan.anomalies.extend(row.anomalies);
        match row.ticket {
            Some(t) => plan.tickets.push(t),
            None => plan.rows_rejected += 1,
        }
    }
    Ok(plan)
}

/// Column indexes resolved once against the header.
struct Planner<'m> {
    m: &'m Mapping,
    policy: Option<&'m Policy>,
    tz: Tz,
    actor: Actor,
    header_len: usize,
    index: HashMap<String, usize>,
}

struct RowOutcome {
    ticket: Option<TicketPlan>,
    anomalies: Vec<Anomaly>,
}

/// Anomalies of one row as they are found.
struct RowLog<'m> {
    m: &'m Mapping,
    line: u64,
    record_id: Option<String>,
    anomalies: Vec<Anomaly>,
}

impl RowLog<'_> {
    /// Records an anomaly with the mapping's decision; returns whether the row may go on.
    fn note(&mut self, kind: AnomalyKind, reason: String) -> bool {
        let decision = self.m.decision(kind);
        let fix = match decision {
            Decision::Import => kind.fix().map(str::to_owned),
            Decision::Reject => None,
        };
        self.push(kind, reason, decision, fix);
        decision == Decision::Import
    }
    fn push(&mut self, kind: AnomalyKind, reason: String, decision: Decision, fix: Option<String>) {
        self.anomalies.push(Anomaly {
            line: self.line,
            record_id: self.record_id.clone(),
            kind,
            reason,
            decision,
            fix,
        });
    }
    fn rejected(&self) -> bool {
        self.anomalies.iter().any(|a| a.decision == Decision::Reject)
    }
}

/// A timestamp cell read in the mapping's zone.
enum TimeCell {
    Blank,
    Unparsable,
    At(Timestamp),
}

impl<'m> Planner<'m> {
    fn new(m: &'m Mapping, header: &[String], policy: Option<&'m Policy>) -> Result<Self, ImportError> {
        let mut index = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            index.entry(h.clone()).or_insert(i);
        }
        for (key, column) in m.columns_used() {
            if !index.contains_key(column) {
                return Err(ImportError::MissingColumn {
                    key,
                    column: column.to_owned(),
                });
            }
        }
        let actor = Actor::person(m.source.actor.clone()).unwrap_or(Actor::System);
        Ok(Planner {
            m,
            policy,
            tz: m.time_zone(),
            actor,
            header_len: header.len(),
            index,
        })
    }

    fn plan_row(&self, line: u64, record: &csv::ByteRecord, seen: &mut HashSet<String>) -> RowOutcome {
        let m = self.m;
        let mut log = RowLog {
            m,
            line,
            record_id: None,
            anomalies: Vec::new(),
        };
        // Field count and encoding first: they decide how the rest is read.
        let mut bad_utf8: Vec<usize> = Vec::new();
        let fields: Vec<Cow<'_, str>> = record
            .iter()
            .enumerate()
            .map(|(i, f)| match std::str::from_utf8(f) {
                Ok(s) => Cow::Borrowed(s.trim()),
                Err(_) => {
                    bad_utf8.push(i);
                    Cow::Owned(String::from_utf8_lossy(f).trim().to_owned())
                }
            })
            .collect();
        let cell = |column: &str| -> &str {
            let i = self.index[column];
            fields.get(i).map_or("", |f| f.as_ref())
        };
        let id_raw = cell(&m.source.id_column).to_owned();
        if !id_raw.is_empty() {
            log.record_id = Some(id_raw.clone());
        }
        if fields.len() < self.header_len {
            log.note(
                AnomalyKind::ShortRow,
                format!("{} fields, the header has {}", fields.len(), self.header_len),
            );
        } else if fields.len() > self.header_len {
            log.note(
                AnomalyKind::LongRow,
                format!("{} fields, the header has {}", fields.len(), self.header_len),
            );
        }
        if !bad_utf8.is_empty() {
            log.note(
                AnomalyKind::InvalidEncoding,
                format!("field(s) {bad_utf8:?} are not valid UTF-8"),
            );
        }

        // Identity.
        let complaint_id = if id_raw.is_empty() {
            log.note(AnomalyKind::InvalidId, format!("{} is blank", m.source.id_column));
            None
        } else {
            let cid = ComplaintId::new(format!("{}{}", m.source.complaint_id_prefix, id_raw));
            let probe = CommandId::new(command_id_text(&m.source.name, &id_raw, LONGEST_STEP));
            match (cid, probe) {
                (Ok(cid), Ok(_)) => Some(cid),
                (Err(e), _) | (_, Err(e)) => {
                    log.note(
                        AnomalyKind::InvalidId,
                        format!("{} {id_raw:?}: {e}", m.source.id_column),
                    );
                    None
                }
            }
        };
        if complaint_id.is_some() && !seen.insert(id_raw.clone()) {
            log.note(
                AnomalyKind::DuplicateId,
                format!("{} {id_raw:?} already appeared on an earlier line", m.source.id_column),
            );
        }

        // Created.
        let created_col = &m.columns.created;
        let created = match self.read_time(&mut log, created_col, cell(created_col)) {
            TimeCell::At(t) => Some(t),
            TimeCell::Blank => {
                log.note(AnomalyKind::BlankCreated, format!("{created_col} is blank"));
                None
            }
            TimeCell::Unparsable => {
                log.note(
                    AnomalyKind::UnparsableCreated,
                    format!(
                        "{created_col} {:?} does not match {:?}",
                        cell(created_col),
                        m.date_format(created_col)
                    ),
                );
                None
            }
        };

        // Status.
        let status_raw = m.columns.status.as_deref().map(cell).unwrap_or("");
        let mut meaning = match (&m.status, &m.columns.status) {
            (Some(status), Some(col)) => match status.values.get(status_raw) {
                Some(meaning) => *meaning,
                None => {
                    log.note(
                        AnomalyKind::UnknownStatus,
                        format!("{col} {status_raw:?} is not in [status.values]"),
                    );
                    StatusMeaning::Open
                }
            },
            _ => StatusMeaning::Open,
        };

        // Closed.
        let mut closed = match &m.columns.closed {
            None => None,
            Some(col) => match self.read_time(&mut log, col, cell(col)) {
                TimeCell::At(t) => Some(t),
                TimeCell::Blank => None,
                TimeCell::Unparsable => {
                    log.note(
                        AnomalyKind::UnparsableClosed,
                        format!("{col} {:?} does not match {:?}", cell(col), m.date_format(col)),
                    );
                    None
                }
            },
        };
        if meaning.is_closed() && closed.is_none() {
            log.note(
                AnomalyKind::ClosedWithoutCloseDate,
                format!(
                    "status {status_raw:?} means {} but {} is blank",
                    meaning.as_str(),
                    m.columns.closed.as_deref().unwrap_or("the close date")
                ),
            );
            meaning = StatusMeaning::Open;
        }
        if !meaning.is_closed() && m.status.is_some() {
            if let Some(at) = closed {
                log.note(
                    AnomalyKind::OpenWithCloseDate,
                    format!(
                        "status {status_raw:?} means {} but {} is {at}",
                        meaning.as_str(),
                        m.columns.closed.as_deref().unwrap_or("the close date")
                    ),
                );
                closed = None;
            }
        }
        if let (Some(c), Some(cl)) = (created, closed) {
            if cl < c {
                log.note(
                    AnomalyKind::ClosedBeforeCreated,
                    format!(
                        "{} {cl} is before {created_col} {c}",
                        m.columns.closed.as_deref().unwrap_or("close date")
                    ),
                );
                closed = Some(c);
            }
        }

        // Due.
        let due = match &m.columns.due {
            None => None,
            Some(col) => match self.read_time(&mut log, col, cell(col)) {
                TimeCell::At(t) => Some(t),
                TimeCell::Blank => {
                    log.note(AnomalyKind::BlankDue, format!("{col} is blank"));
                    None
                }
                TimeCell::Unparsable => {
                    log.note(
                        AnomalyKind::UnparsableDue,
                        format!("{col} {:?} does not match {:?}", cell(col), m.date_format(col)),
                    );
                    None
                }
            },
        };

        // Dispatched.
        let mut dispatched = created;
        if let Some(col) = &m.columns.dispatched {
            match self.read_time(&mut log, col, cell(col)) {
                TimeCell::At(t) => match created {
                    Some(c) if t < c => {
                        log.note(
                            AnomalyKind::DispatchedBeforeCreated,
                            format!("{col} {t} is before {created_col} {c}"),
                        );
                    }
                    _ => dispatched = Some(t),
                },
                TimeCell::Blank => {
                    log.note(AnomalyKind::BlankDispatched, format!("{col} is blank"));
                }
                TimeCell::Unparsable => {
                    log.note(
                        AnomalyKind::UnparsableDispatched,
                        format!("{col} {:?} does not match {:?}", cell(col), m.date_format(col)),
                    );
                }
            }
        }
        if let (Some(d), Some(cl)) = (dispatched, closed) {
            if cl < d && meaning.is_closed() {
                log.note(
                    AnomalyKind::ClosedBeforeDispatched,
                    format!(
                        "{} {cl} is before the dispatch time {d}",
                        m.columns.closed.as_deref().unwrap_or("close date")
                    ),
                );
                dispatched = Some(cl);
            }
        }

        // Duplicate target.
        let mut merge_into: Option<ComplaintId> = None;
        if meaning == StatusMeaning::Duplicate {
            let target = m.columns.duplicate_of.as_deref().map(cell).unwrap_or("");
            let parsed = if target.is_empty() {
                None
            } else {
                ComplaintId::new(format!("{}{}", m.source.complaint_id_prefix, target)).ok()
            };
            match parsed {
                Some(t) => merge_into = Some(t),
                None => {
                    let why = match &m.columns.duplicate_of {
                        None => "the mapping names no `columns.duplicate_of`".to_owned(),
                        Some(col) if target.is_empty() => format!("{col} is blank"),
                        Some(col) => format!("{col} {target:?} is not a valid id"),
                    };
                    log.note(
                        AnomalyKind::DuplicateWithoutTarget,
                        format!("status {status_raw:?} means duplicate but {why}"),
                    );
                    meaning = StatusMeaning::Closed;
                }
            }
        }

        // Values.
        let channel: Option<Channel> = self.field(&mut log, "receive.channel", &m.receive.channel, &cell);
        let region = self
            .field::<String>(&mut log, "receive.region", &m.receive.region, &cell)
            .map(|v| fit(&mut log, "receive.region", v, SHORT_TEXT_LEN_MAX));
        let description = self
            .field::<String>(&mut log, "receive.description", &m.receive.description, &cell)
            .map(|v| fit(&mut log, "receive.description", v, DESCRIPTION_LEN_MAX));
        let category: Option<Category> = self.field(&mut log, "classify.category", &m.classify.category, &cell);
        let severity: Option<Severity> = self.field(&mut log, "classify.severity", &m.classify.severity, &cell);
        let mut department = self
            .field::<String>(&mut log, "dispatch.department", &m.dispatch.department, &cell)
            .map(|v| fit(&mut log, "dispatch.department", v, SHORT_TEXT_LEN_MAX));
        if let (Some(policy), Some(dep)) = (self.policy, &department) {
            if !policy.is_department(&Department(dep.clone())) {
                let reason = format!(
                    "department {dep:?} is not in the policy's routing.departments (policy {})",
                    policy.version
                );
                department = match &m.dispatch.department.default {
                    Some(d) if log.m.decision(AnomalyKind::UnknownDepartment) == Decision::Import => {
                        let fix = format!("used `dispatch.department.default` {d:?}");
                        log.push(AnomalyKind::UnknownDepartment, reason, Decision::Import, Some(fix));
                        Some(d.clone())
                    }
                    _ => {
                        log.push(AnomalyKind::UnknownDepartment, reason, Decision::Reject, None);
                        None
                    }
                };
            }
        }
        if meaning == StatusMeaning::Transferred {
            let to = m
                .status
                .as_ref()
                .and_then(|s| s.transferred_to.as_deref())
                .unwrap_or("");
            if let Some(policy) = self.policy {
                if !policy.is_department(&Department(to.to_owned())) {
                    log.push(
                        AnomalyKind::UnknownDepartment,
                        format!(
                            "`status.transferred_to` {to:?} is not in the policy's routing.departments (policy {})",
                            policy.version
                        ),
                        Decision::Reject,
                        Some("cannot fix: the mapping names the department itself".to_owned()),
                    );
                }
            }
            if department.as_deref() == Some(to) {
                log.note(
                    AnomalyKind::TransferToSameDepartment,
                    format!("status {status_raw:?} means transferred, but the ticket is already with {to:?}"),
                );
                meaning = StatusMeaning::Closed;
            }
        }
        let attributes: BTreeMap<String, String> = m
            .attributes
            .iter()
            .map(|(name, col)| {
                let key = format!("attributes.{name}");
                (
                    name.clone(),
                    fit(&mut log, &key, cell(col).to_owned(), SHORT_TEXT_LEN_MAX),
                )
            })
            .collect();

        if log.rejected() {
            return RowOutcome {
                ticket: None,
                anomalies: log.anomalies,
            };
        }
        // Every `None` above was either rejected (returned) or cannot happen once no anomaly
        // rejected the row; the `expect`s state that invariant.
        let complaint_id = complaint_id.expect("id is valid when the row is not rejected");
        let created = created.expect("created is set when the row is not rejected");
        let dispatched = dispatched.unwrap_or(created);
        let ctx = CommandCtx {
            source: &m.source.name,
            record_id: &id_raw,
            complaint_id: &complaint_id,
            actor: &self.actor,
        };
        let mut commands = Vec::with_capacity(COMMANDS_PER_ROW_MAX);
        commands.push(ctx.command(
            "receive",
            created,
            CommandBody::Receive(Receive {
                channel: channel.expect("channel resolved"),
                contact_at: Some(created),
                customer: CustomerInput::default(),
                waybill: None,
                description: description.expect("description resolved"),
                claimed_amount: None,
                evidence: Vec::new(),
                region: region.expect("region resolved"),
                outlet: None,
                attributes,
            }),
        ));
        commands.push(ctx.command(
            "verify",
            created,
            CommandBody::Verify(Verify {
                claim: CheckOutcome::NotApplicable,
                evidence: CheckOutcome::NotApplicable,
                history: CheckOutcome::NotApplicable,
                repeat_of: None,
                flags: Flags::default(),
                note: format!(
                    "imported from {}: the legacy system's checks are not recorded",
                    m.source.name
                ),
            }),
        ));
        let classify = ctx.command(
            "classify",
            created,
            CommandBody::Classify(Classify {
                category: category.expect("category resolved"),
                severity: severity.expect("severity resolved"),
                customer_tier: CustomerTier::Standard,
                flags: Flags::default(),
                recorded_deadlines: due
                    .map(|due_at| ClockDeadline {
                        clock: Clock::Resolution,
                        due_at,
                        pausable: true,
                    })
                    .into_iter()
                    .collect(),
                deadline_source: DeadlineSource::Recorded,
                severity_reason: None,
            }),
        );
        let department = Department(department.expect("department resolved"));
        let status_text = if status_raw.is_empty() {
            "imported".to_owned()
        } else {
            format!("imported; legacy status {status_raw:?}")
        };
        if let Some(into) = merge_into.clone() {
            // docs/domain.md §2: a duplicate is merged at verification, before classification, and
            // then closed; it never runs a resolution clock of its own.
            let at = closed.expect("a duplicate has a close date");
            commands.push(ctx.command(
                "merge",
                at,
                CommandBody::MergeAsDuplicate(MergeAsDuplicate {
                    into,
                    note: status_text.clone(),
                }),
            ));
            commands.push(ctx.command(
                "close",
                at,
                CommandBody::Close(Close {
                    root_cause: None,
                    liable: None,
                    note: status_text.clone(),
                    without_revisit: None,
                }),
            ));
        } else {
            commands.push(classify);
        }
        if merge_into.is_none() && meaning != StatusMeaning::New {
            commands.push(ctx.command(
                "dispatch",
                dispatched,
                CommandBody::Dispatch(Dispatch {
                    department: Some(department),
                    handler: None,
                }),
            ));
            if meaning.is_closed() {
                let at = closed.expect("a closed ticket has a close date");
                if meaning == StatusMeaning::Transferred {
                    let to = m
                        .status
                        .as_ref()
                        .and_then(|s| s.transferred_to.clone())
                        .expect("validated: transferred_to is set when a status means transferred");
                    commands.push(ctx.command(
                        "redispatch",
                        at,
                        CommandBody::Redispatch(Redispatch {
                            to: Department(to),
                            handler: None,
                            reason: status_text.clone(),
                        }),
                    ));
                }
                commands.push(ctx.command(
                    "respond",
                    at,
                    CommandBody::Respond(Respond {
                        kind: ResponseKind::Final,
                        text: status_text.clone(),
                        basis: None,
                        liable: None,
                        root_cause: None,
                        compensation: None,
                    }),
                ));
                commands.push(ctx.command(
                    "close",
                    at,
                    CommandBody::Close(Close {
                        root_cause: None,
                        liable: None,
                        note: status_text,
                        without_revisit: None,
                    }),
                ));
            }
        }
        assert!(commands.len() <= COMMANDS_PER_ROW_MAX);
        RowOutcome {
            ticket: Some(TicketPlan {
                line,
                record_id: id_raw,
                complaint_id,
                outcome: meaning,
                commands,
            }),
            anomalies: log.anomalies,
        }
    }

    /// Reads a timestamp cell; DST trouble is noted here, blank/unparsable by the caller
    /// (who knows which kind applies).
    fn read_time(&self, log: &mut RowLog<'_>, column: &str, raw: &str) -> TimeCell {
        if raw.is_empty() {
            return TimeCell::Blank;
        }
        let fmt = self.m.date_format(column);
        let naive = match NaiveDateTime::parse_from_str(raw, fmt) {
            Ok(n) => n,
            Err(_) => match NaiveDate::parse_from_str(raw, fmt) {
                Ok(d) => d.and_hms_opt(0, 0, 0).expect("midnight exists"),
                Err(_) => return TimeCell::Unparsable,
            },
        };
        // chrono's `%Y` also reads `-014` or `+12345`; plaint's timestamps are RFC 3339, years
        // 0000-9999, and a time it could not write back in its own JSON is no time to import.
        if !(0..=9999).contains(&naive.year()) {
            return TimeCell::Unparsable;
        }
        let cell = self.local_time(log, column, raw, naive);
        match cell {
            TimeCell::At(t) if !(0..=9999).contains(&t.to_datetime().year()) => TimeCell::Unparsable,
            cell => cell,
        }
    }

    /// The instant of a local date-time in the mapping's time zone, noting DST trouble.
    fn local_time(&self, log: &mut RowLog<'_>, column: &str, raw: &str, naive: NaiveDateTime) -> TimeCell {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => TimeCell::At(Timestamp::from_millis(t.timestamp_millis())),
            LocalResult::Ambiguous(early, late) => {
                log.note(
                    AnomalyKind::AmbiguousLocalTime,
                    format!(
                        "{column} {raw:?} is either {} or {} in {}",
                        Timestamp::from_millis(early.timestamp_millis()),
                        Timestamp::from_millis(late.timestamp_millis()),
                        self.tz
                    ),
                );
                TimeCell::At(Timestamp::from_millis(early.timestamp_millis()))
            }
            LocalResult::None => {
                log.note(
                    AnomalyKind::NonexistentLocalTime,
                    format!("{column} {raw:?} does not exist in {} (clocks went forward)", self.tz),
                );
                let shifted = naive + chrono::Duration::hours(1);
                match self.tz.from_local_datetime(&shifted).earliest() {
                    Some(t) => TimeCell::At(Timestamp::from_millis(t.timestamp_millis())),
                    None => TimeCell::Unparsable,
                }
            }
        }
    }

    /// Resolves a value field for a row: fixed value, column value (through `values`), or the
    /// default after a noted anomaly. `None` means the row is rejected.
    fn field<'c, T: DeserializeOwned + Clone + std::fmt::Debug>(
        &self,
        log: &mut RowLog<'_>,
        key: &str,
        f: &Field<T>,
        cell: &impl Fn(&str) -> &'c str,
    ) -> Option<T> {
        if let Some(v) = &f.value {
            return Some(v.clone());
        }
        let col = f.column.as_deref().expect("validated: column or value");
        let raw = cell(col);
        let (kind, reason) = if raw.is_empty() {
            (AnomalyKind::BlankValue, format!("{col} is blank (mapping key `{key}`)"))
        } else if f.values.is_empty() {
            match parse_name::<T>(raw) {
                Some(v) => return Some(v),
                None => (
                    AnomalyKind::UnknownValue,
                    format!("{col} {raw:?} is not a known value (mapping key `{key}`)"),
                ),
            }
        } else {
            match f.values.get(raw) {
                Some(v) => return Some(v.clone()),
                None => (
                    AnomalyKind::UnknownValue,
                    format!("{col} {raw:?} is not in `{key}.values`"),
                ),
            }
        };
        match (log.m.decision(kind), &f.default) {
            (Decision::Import, Some(d)) => {
                log.push(
                    kind,
                    reason,
                    Decision::Import,
                    Some(format!("used `{key}.default` {d:?}")),
                );
                Some(d.clone())
            }
            (Decision::Import, None) => {
                log.push(
                    kind,
                    reason,
                    Decision::Reject,
                    Some(format!("cannot fix: no `{key}.default` in the mapping")),
                );
                None
            }
            (Decision::Reject, _) => {
                log.push(kind, reason, Decision::Reject, None);
                None
            }
        }
    }
}

/// Cuts `value` to at most `max` bytes at a character boundary, noting a `long_value` anomaly
/// when it had to (rejected unless the mapping says import).
fn fit(log: &mut RowLog<'_>, key: &str, mut value: String, max: usize) -> String {
    if value.len() > max {
        log.note(
            AnomalyKind::LongValue,
            format!("`{key}` is {} bytes; at most {max} are allowed", value.len()),
        );
        let mut cut = max;
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        value.truncate(cut);
    }
    value
}

/// The longest step name: an id that fits with it fits with every step.
const LONGEST_STEP: &str = "redispatch";

fn command_id_text(source: &str, record_id: &str, step: &str) -> String {
    format!("import:{source}:{record_id}:{step}")
}

/// The deterministic command id of one step of one imported record: importing the same file
/// again yields the same ids, so the engine appends nothing the second time.
pub fn import_command_id(source: &str, record_id: &str, step: &str) -> Option<CommandId> {
    CommandId::new(command_id_text(source, record_id, step)).ok()
}

struct CommandCtx<'a> {
    source: &'a str,
    record_id: &'a str,
    complaint_id: &'a ComplaintId,
    actor: &'a Actor,
}

impl CommandCtx<'_> {
    fn command(&self, step: &str, at: Timestamp, body: CommandBody) -> Command {
        Command {
            command_id: import_command_id(self.source, self.record_id, step)
                .expect("checked when the id was read: the receive id is valid, so is every step's"),
            complaint_id: self.complaint_id.clone(),
            actor: self.actor.clone(),
            occurred_at: Some(at),
            body,
        }
    }
}

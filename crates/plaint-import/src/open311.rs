//! The JSON variant: Open311 GeoReport v2 service requests with per-request `notes` (as the
//! Chicago 311 export has them), where each note becomes a step of the ticket's history.
//!
//! | note | commands (at the note's time) |
//! |---|---|
//! | the request itself (`requested_datetime`) | Receive, Verify, Classify |
//! | the first note after receipt (any kind but the receipt and the close) | Dispatch, then that note as below |
//! | a note whose type `[notes]` maps to `progress` | Respond `progress` (its summary and description as the text) |
//! | a note whose type maps to `receive` (`opened`, `submitted`) | nothing more: the receipt is the request's own time |
//! | a note whose type maps to `close` | Respond `final`, Close |
//!
//! Anomalies are reported as for CSV ([`Anomaly`]), with the request's position in the array
//! (1-based) as its "line".

use crate::anomaly::{Anomaly, AnomalyKind, Decision};
use crate::mapping::{parse_name, Field, MappingError};
use crate::plan::{import_command_id, ImportError, ImportPlan, TicketPlan};
use crate::StatusMeaning;
use plaint_domain::policy::Policy;
use plaint_domain::{
    Actor, Category, Channel, CheckOutcome, Classify, Close, Command, CommandBody, ComplaintId, CustomerInput,
    CustomerTier, DeadlineSource, Department, Dispatch, Flags, Receive, Respond, ResponseKind, Severity, Timestamp,
    Verify,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;

/// Most notes one request may carry.
pub const NOTES_PER_REQUEST_MAX: usize = 1_000;
/// Longest response text taken from a note, in bytes.
pub const NOTE_TEXT_LEN_MAX: usize = 4 * 1024;

/// What a note type means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteMeaning {
    /// The receipt (the request's own `requested_datetime` is used).
    Receive,
    /// Work on the ticket: a progress response.
    Progress,
    /// The end: final response and close.
    Close,
    /// Not part of the history (stated in the mapping).
    Ignore,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Source {
    pub name: String,
    #[serde(default)]
    pub complaint_id_prefix: String,
    #[serde(default = "default_actor")]
    pub actor: String,
}

fn default_actor() -> String {
    Actor::SYSTEM.to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Receive {
    pub channel: Field<Channel>,
    pub region: Field<String>,
    pub description: Field<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Classify {
    pub category: Field<Category>,
    pub severity: Field<Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Dispatch {
    pub department: Field<String>,
}

/// A mapping for Open311 JSON. `column` in a field is a dotted path into the request object
/// (`extended_attributes.channel`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Mapping {
    pub source: Open311Source,
    pub receive: Open311Receive,
    pub classify: Open311Classify,
    pub dispatch: Open311Dispatch,
    /// Note `type` → meaning.
    pub notes: BTreeMap<String, NoteMeaning>,
    /// Request `status` → `open` or `closed`.
    pub status: BTreeMap<String, StatusMeaning>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub anomalies: BTreeMap<String, Decision>,
}

impl Open311Mapping {
    /// Parses and checks a mapping; errors name the key.
    pub fn from_toml_str(text: &str) -> Result<Open311Mapping, MappingError> {
        let m: Open311Mapping = toml::from_str(text).map_err(|e| MappingError::Syntax { message: e.to_string() })?;
        let invalid = |key: String, reason: &str| MappingError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if m.source.name.is_empty()
            || !m
                .source
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(invalid("source.name".into(), "1 or more ASCII letters, digits, _ - ."));
        }
        for (name, meaning) in &m.status {
            if !matches!(meaning, StatusMeaning::Open | StatusMeaning::Closed) {
                return Err(invalid(
                    format!("status.{name}"),
                    "Open311 statuses mean `open` or `closed`",
                ));
            }
        }
        for name in m.anomalies.keys() {
            let Some(kind) = AnomalyKind::from_name(name) else {
                return Err(invalid(format!("anomalies.{name}"), "unknown anomaly kind"));
            };
            if m.anomalies[name] == Decision::Import && kind.fix().is_none() {
                return Err(invalid(format!("anomalies.{name}"), "only `reject` is allowed"));
            }
        }
        Ok(m)
    }

    fn decision(&self, kind: AnomalyKind) -> Decision {
        self.anomalies.get(kind.as_str()).copied().unwrap_or(Decision::Reject)
    }
}

fn path<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted.split('.').try_fold(v, |v, key| v.get(key))
}

fn text_at(v: &Value, dotted: &str) -> String {
    match path(v, dotted) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn time_at(v: &Value, key: &str) -> Option<Timestamp> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

struct Log<'m> {
    m: &'m Open311Mapping,
    line: u64,
    record_id: Option<String>,
    anomalies: Vec<Anomaly>,
}

impl Log<'_> {
    fn note(&mut self, kind: AnomalyKind, reason: String) -> bool {
        let decision = self.m.decision(kind);
        let fix = (decision == Decision::Import).then(|| kind.fix().unwrap_or_default().to_owned());
        self.anomalies.push(Anomaly {
            line: self.line,
            record_id: self.record_id.clone(),
            kind,
            reason,
            decision,
            fix,
        });
        decision == Decision::Import
    }
    fn rejected(&self) -> bool {
        self.anomalies.iter().any(|a| a.decision == Decision::Reject)
    }
}

fn field<T: DeserializeOwned + Clone + std::fmt::Debug>(
    log: &mut Log<'_>,
    req: &Value,
    key: &str,
    f: &Field<T>,
) -> Option<T> {
    if let Some(v) = &f.value {
        return Some(v.clone());
    }
    let col = f.column.as_deref().unwrap_or("");
    let raw = text_at(req, col);
    let found = if raw.is_empty() {
        None
    } else if f.values.is_empty() {
        parse_name::<T>(&raw)
    } else {
        f.values.get(&raw).cloned()
    };
    if found.is_some() {
        return found;
    }
    let kind = if raw.is_empty() {
        AnomalyKind::BlankValue
    } else {
        AnomalyKind::UnknownValue
    };
    let reason = format!("{col} {raw:?} (mapping key `{key}`)");
    match (log.m.decision(kind), &f.default) {
        (Decision::Import, Some(d)) => {
            log.anomalies.push(Anomaly {
                line: log.line,
                record_id: log.record_id.clone(),
                kind,
                reason,
                decision: Decision::Import,
                fix: Some(format!("used `{key}.default` {d:?}")),
            });
            Some(d.clone())
        }
        _ => {
            log.note(kind, reason);
            None
        }
    }
}

/// Reads an Open311 JSON array of service requests and plans their import. With a policy,
/// departments are checked against it.
pub fn plan_open311_json<R: Read>(
    m: &Open311Mapping,
    input: R,
    policy: Option<&Policy>,
) -> Result<ImportPlan, ImportError> {
    let requests: Vec<Value> = serde_json::from_reader(input).map_err(|e| ImportError::Json { source: e })?;
    let actor = Actor::person(m.source.actor.clone()).unwrap_or(Actor::System);
    let mut plan = ImportPlan::default();
    let mut seen = HashSet::new();
    for (i, req) in requests.iter().enumerate() {
        plan.rows_read += 1;
        let mut log = Log {
            m,
            line: i as u64 + 1,
            record_id: None,
            anomalies: Vec::new(),
        };
        let ticket = plan_request(m, req, &actor, policy, &mut log, &mut seen);
        plan.anomalies.extend(log.anomalies);
        match ticket {
            Some(t) => plan.tickets.push(t),
            None => plan.rows_rejected += 1,
        }
    }
    Ok(plan)
}

fn plan_request(
    m: &Open311Mapping,
    req: &Value,
    actor: &Actor,
    policy: Option<&Policy>,
    log: &mut Log<'_>,
    seen: &mut HashSet<String>,
) -> Option<TicketPlan> {
    let id = text_at(req, "service_request_id");
    if !id.is_empty() {
        log.record_id = Some(id.clone());
    }
    let complaint_id = ComplaintId::new(format!("{}{id}", m.source.complaint_id_prefix)).ok();
    let id_ok =
        !id.is_empty() && complaint_id.is_some() && import_command_id(&m.source.name, &id, "note-999").is_some();
    if !id_ok {
        log.note(AnomalyKind::InvalidId, format!("service_request_id {id:?}"));
    } else if !seen.insert(id.clone()) {
        log.note(
            AnomalyKind::DuplicateId,
            format!("service_request_id {id:?} appeared earlier"),
        );
    }
    let created = time_at(req, "requested_datetime");
    if created.is_none() {
        let raw = text_at(req, "requested_datetime");
        let kind = if raw.is_empty() {
            AnomalyKind::BlankCreated
        } else {
            AnomalyKind::UnparsableCreated
        };
        log.note(kind, format!("requested_datetime {raw:?}"));
    }
    let status_raw = text_at(req, "status");
    let mut meaning = match m.status.get(&status_raw) {
        Some(s) => *s,
        None => {
            log.note(AnomalyKind::UnknownStatus, format!("status {status_raw:?}"));
            StatusMeaning::Open
        }
    };

    // Notes, in time order (stable for equal times).
    let empty = Vec::new();
    let raw_notes = req.get("notes").and_then(Value::as_array).unwrap_or(&empty);
    if raw_notes.len() > NOTES_PER_REQUEST_MAX {
        log.note(
            AnomalyKind::LongValue,
            format!("{} notes; at most {NOTES_PER_REQUEST_MAX}", raw_notes.len()),
        );
    }
    let mut notes: Vec<(usize, Timestamp, NoteMeaning, String)> = Vec::new();
    for (n, note) in raw_notes.iter().enumerate().take(NOTES_PER_REQUEST_MAX) {
        let kind = text_at(note, "type");
        let Some(meaning) = m.notes.get(&kind).copied() else {
            log.note(
                AnomalyKind::UnknownValue,
                format!("note {} type {kind:?} is not in [notes]", n + 1),
            );
            continue;
        };
        let Some(mut at) = time_at(note, "datetime") else {
            log.note(
                AnomalyKind::UnparsableDispatched,
                format!("note {} datetime {:?}", n + 1, text_at(note, "datetime")),
            );
            continue;
        };
        if let Some(c) = created {
            if at < c {
                if meaning == NoteMeaning::Close {
                    log.note(
                        AnomalyKind::ClosedBeforeCreated,
                        format!("note {} ({kind}) at {at} is before {c}", n + 1),
                    );
                } else if meaning != NoteMeaning::Receive {
                    log.note(
                        AnomalyKind::DispatchedBeforeCreated,
                        format!("note {} ({kind}) at {at} is before {c}", n + 1),
                    );
                }
                at = c;
            }
        }
        let summary = text_at(note, "summary");
        let description = text_at(note, "description");
        let mut text = if description.is_empty() {
            summary
        } else {
            format!("{summary}: {description}")
        };
        if text.len() > NOTE_TEXT_LEN_MAX {
            let mut cut = NOTE_TEXT_LEN_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        notes.push((n, at, meaning, text));
    }
    notes.sort_by_key(|(n, at, _, _)| (*at, *n));
    let close_note = notes.iter().position(|(_, _, k, _)| *k == NoteMeaning::Close);
    match (meaning, close_note) {
        (StatusMeaning::Closed, None) => {
            log.note(
                AnomalyKind::ClosedWithoutCloseDate,
                format!("status {status_raw:?} but no closing note"),
            );
            meaning = StatusMeaning::Open;
        }
        (StatusMeaning::Open, Some(_)) => {
            log.note(
                AnomalyKind::OpenWithCloseDate,
                format!("status {status_raw:?} but a closing note"),
            );
        }
        _ => {}
    }
    // Nothing happens after the close.
    if meaning == StatusMeaning::Closed {
        if let Some(ci) = close_note {
            notes.truncate(ci + 1);
        }
    } else {
        notes.retain(|(_, _, k, _)| *k != NoteMeaning::Close);
    }

    let channel = field(log, req, "receive.channel", &m.receive.channel);
    let region = field(log, req, "receive.region", &m.receive.region);
    let description = field(log, req, "receive.description", &m.receive.description);
    let category = field(log, req, "classify.category", &m.classify.category);
    let severity = field(log, req, "classify.severity", &m.classify.severity);
    let department = field(log, req, "dispatch.department", &m.dispatch.department);
    if let (Some(p), Some(d)) = (policy, &department) {
        if !p.is_department(&Department(d.clone())) {
            log.note(
                AnomalyKind::UnknownDepartment,
                format!("department {d:?} is not in the policy's routing.departments"),
            );
        }
    }
    let attributes: BTreeMap<String, String> = m
        .attributes
        .iter()
        .map(|(name, p)| {
            let mut v = text_at(req, p);
            v.truncate(plaint_domain::state::SHORT_TEXT_LEN_MAX.min(v.len()));
            while !v.is_char_boundary(v.len()) {
                v.pop();
            }
            (name.clone(), v)
        })
        .collect();
    if log.rejected() {
        return None;
    }
    let (complaint_id, created) = (complaint_id?, created?);
    let (channel, region, description) = (channel?, region?, description?);
    let (category, severity, department) = (category?, severity?, department?);
    let cmd = |step: String, at: Timestamp, body: CommandBody| Command {
        command_id: import_command_id(&m.source.name, &id, &step).expect("checked with the longest step"),
        complaint_id: complaint_id.clone(),
        actor: actor.clone(),
        occurred_at: Some(at),
        body,
    };
    let mut commands = vec![
        cmd(
            "receive".into(),
            created,
            CommandBody::Receive(Receive {
                channel,
                contact_at: Some(created),
                customer: CustomerInput::default(),
                waybill: None,
                description,
                claimed_amount: None,
                evidence: Vec::new(),
                region,
                outlet: None,
                attributes,
            }),
        ),
        cmd(
            "verify".into(),
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
        ),
        cmd(
            "classify".into(),
            created,
            CommandBody::Classify(Classify {
                category,
                severity,
                customer_tier: CustomerTier::Standard,
                flags: Flags::default(),
                recorded_deadlines: Vec::new(),
                deadline_source: DeadlineSource::Recorded,
                severity_reason: None,
            }),
        ),
    ];
    let mut dispatched = false;
    for (n, at, kind, text) in notes {
        if kind == NoteMeaning::Receive || kind == NoteMeaning::Ignore {
            continue;
        }
        if !dispatched {
            commands.push(cmd(
                "dispatch".into(),
                at,
                CommandBody::Dispatch(Dispatch {
                    department: Some(Department(department.clone())),
                    handler: None,
                }),
            ));
            dispatched = true;
        }
        let respond = |k: ResponseKind| {
            CommandBody::Respond(Respond {
                kind: k,
                text: text.clone(),
                basis: None,
                liable: None,
                root_cause: None,
                compensation: None,
            })
        };
        match kind {
            NoteMeaning::Progress => commands.push(cmd(format!("note-{}", n + 1), at, respond(ResponseKind::Progress))),
            NoteMeaning::Close => {
                commands.push(cmd("respond".into(), at, respond(ResponseKind::Final)));
                commands.push(cmd(
                    "close".into(),
                    at,
                    CommandBody::Close(Close {
                        root_cause: None,
                        liable: None,
                        note: text.clone(),
                        without_revisit: None,
                    }),
                ));
            }
            NoteMeaning::Receive | NoteMeaning::Ignore => {}
        }
    }
    Some(TicketPlan {
        line: log.line,
        record_id: id,
        complaint_id,
        outcome: meaning,
        commands,
    })
}

//! The one JSON shape of a committed event (docs/json-format.md, `event`): what
//! [`Engine::export`] writes, one per line, and what every other reader of events (`plaint
//! history`, `audit`, `submit --json`) prints. One shape, produced here and nowhere else.

use crate::engine::Engine;
use crate::error::EngineError;
use crate::personal::{PersonalFields, Reveal};
use plaint_domain::{Actor, CommandId, ComplaintId, Event, EventData, Timestamp};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Version of every JSON shape plaint writes (docs/json-format.md): the exported events and
/// every `--json` document of the CLI. Bumped when a field changes meaning or disappears;
/// adding a field does not bump it.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Events read per store call while exporting.
const EXPORT_READ_BATCH: usize = 16_384;

/// One committed event as JSON (docs/json-format.md, `event`). `data` is the event's fields
/// without the type tag. The customer's personal fields (`data.customer.personal`, `Received`
/// events only) are never in the log in clear: unless revealed they appear as the sealed marker
/// `{"key_id": "…", "sealed": true}`; revealed they are the [`crate::PersonalFields`] they open
/// to (`{"state": "clear", …}`, or `{"state": "erased"}` once the customer was erased).
///
/// ```
/// use plaint::{Engine, EngineConfig, Reveal};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
/// let cmd: plaint::Command = serde_json::from_str(r#"{"command_id": "c-1", "complaint_id": "CMP-1",
///     "actor": "cs-001", "command": "receive", "channel": "hotline", "region": "上海",
///     "description": "包裹未收到", "customer": {"name": "张三", "phone": "13800138000"}}"#).unwrap();
/// let done = engine.execute(cmd).await.unwrap();
/// let record = engine.event_record(&done.events[0], Reveal::Masked).await.unwrap();
/// let json = serde_json::to_value(&record).unwrap();
/// assert_eq!(json["kind"], "event");
/// assert_eq!(json["type"], "Received");
/// assert_eq!(json["data"]["customer"]["personal"]["sealed"], true);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    /// [`JSON_FORMAT_VERSION`].
    pub format_version: u32,
    /// Always `"event"`.
    pub kind: &'static str,
    /// Global position in the log, gapless from 1.
    pub position: u64,
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Version within the complaint, gapless from 1.
    pub stream_version: u64,
    /// The stable event type name (`Received`, `MergedAsDuplicate`, …).
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The schema version the event was written with.
    pub schema_version: u16,
    /// Business time: when it happened.
    pub occurred_at: Timestamp,
    /// When plaint recorded it.
    pub recorded_at: Timestamp,
    /// Staff id, or `system`.
    pub actor: Actor,
    /// The command that caused it.
    pub command_id: CommandId,
    /// The event's fields (docs/events.md), without the type tag.
    pub data: Value,
}

/// What [`Engine::export_with`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// First global position written (1, or 0, = the beginning).
    pub from_position: u64,
    /// [`Reveal::Clear`] writes personal fields in clear (erased customers as erased); anything
    /// else keeps them sealed.
    pub reveal: Reveal,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            from_position: 1,
            reveal: Reveal::Masked,
        }
    }
}

impl Engine {
    /// The JSON record of one committed event ([`EventRecord`]), personal fields sealed unless
    /// `reveal` is [`Reveal::Clear`] (opening them reads the customer's key from the vault).
    pub async fn event_record(&self, event: &Event, reveal: Reveal) -> Result<EventRecord, EngineError> {
        let clear = match (reveal, &event.data) {
            (Reveal::Clear, EventData::Received(_)) => Some(self.personal_fields(event, Reveal::Clear).await?),
            _ => None,
        };
        record_of(event, clear)
    }

    /// [`Engine::event_record`] with personal fields sealed, without reading the vault.
    pub fn sealed_event_record(&self, event: &Event) -> Result<EventRecord, EngineError> {
        record_of(event, None)
    }

    /// Writes every event of the log as one [`EventRecord`] per line (JSON Lines), in global
    /// order, personal fields sealed unless `reveal` is [`Reveal::Clear`]. Returns the number of
    /// events written. The same as [`Engine::export_with`] from the beginning.
    pub async fn export(&self, out: &mut dyn std::io::Write, reveal: Reveal) -> Result<u64, EngineError> {
        self.export_with(
            out,
            &ExportOptions {
                reveal,
                ..ExportOptions::default()
            },
        )
        .await
    }

    /// Writes the log's events from `options.from_position` on as JSON Lines of
    /// [`EventRecord`]s, in global order; memory stays flat however long the log. An error of
    /// `out` (a closed pipe) comes back as [`EngineError::Io`] holding the `std::io::Error`.
    pub async fn export_with(&self, out: &mut dyn std::io::Write, options: &ExportOptions) -> Result<u64, EngineError> {
        let write_error = |source: std::io::Error| EngineError::Io {
            path: PathBuf::from("<export output>"),
            source,
        };
        let mut n = 0u64;
        let mut from = options.from_position.max(1);
        loop {
            let batch = self.reads().read_all(from, EXPORT_READ_BATCH).await?;
            let len = batch.len();
            for r in batch {
                from = r.position + 1;
                let event = plaint_projections::from_recorded_owned(r)?;
                let record = self.event_record(&event, options.reveal).await?;
                serde_json::to_writer(&mut *out, &record).map_err(|e| write_error(e.into()))?;
                out.write_all(b"\n").map_err(write_error)?;
                n += 1;
            }
            if len < EXPORT_READ_BATCH {
                return Ok(n);
            }
        }
    }
}

/// The record of `event`, its personal fields shown as `clear` when given, else sealed.
fn record_of(event: &Event, clear: Option<PersonalFields>) -> Result<EventRecord, EngineError> {
    let mut data = serde_json::to_value(&event.data).map_err(|e| EngineError::BadInput {
        what: format!("event at position {}", event.meta.position),
        reason: format!("does not serialise as JSON: {e}"),
    })?;
    if let Value::Object(fields) = &mut data {
        fields.remove("type");
        if let Some(Value::Object(customer)) = fields.get_mut("customer") {
            if customer.get("personal").is_some_and(|p| !p.is_null()) {
                let shown = match &clear {
                    Some(personal) => serde_json::to_value(personal).unwrap_or(Value::Null),
                    None => {
                        let key_id = customer
                            .get("personal")
                            .and_then(|p| p.get("key_id"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        json!({"key_id": key_id, "sealed": true})
                    }
                };
                customer.insert("personal".into(), shown);
            }
        }
    }
    let m = &event.meta;
    Ok(EventRecord {
        format_version: JSON_FORMAT_VERSION,
        kind: "event",
        position: m.position,
        complaint_id: m.complaint_id.clone(),
        stream_version: m.stream_version,
        event_type: event.data.type_name(),
        schema_version: m.schema_version,
        occurred_at: m.occurred_at,
        recorded_at: m.recorded_at,
        actor: m.actor.clone(),
        command_id: m.command_id.clone(),
        data,
    })
}

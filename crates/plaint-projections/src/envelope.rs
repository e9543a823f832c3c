//! The bridge between domain events and store envelopes.
//!
//! The store keeps metadata in its envelope and the event data as an opaque payload; the domain
//! codec turns data into `(type name, schema version, bytes)` and back. Everything that writes
//! or reads the log through plaint (the facade, the CLI, the runner here) goes through these two
//! functions, so there is one mapping.

use plaint_domain::codec::{self, CodecError};
use plaint_domain::event::{Event, EventMeta};
use plaint_domain::ids::{Actor, CommandId, ComplaintId, IdError};
use plaint_domain::time::Timestamp;
use plaint_store::file::EventRef;
use plaint_store::{NewEvent, RecordedEvent};

/// A recorded event that does not read as a domain event. Names the position and stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("event at position {position} (stream {stream:?}): stream name is not a complaint id: {source}")]
    StreamName {
        position: u64,
        stream: String,
        #[source]
        source: IdError,
    },
    #[error("event at position {position} (stream {stream:?}): bad actor: {source}")]
    Actor {
        position: u64,
        stream: String,
        #[source]
        source: IdError,
    },
    #[error("event at position {position} (stream {stream:?}): bad command id: {source}")]
    CommandId {
        position: u64,
        stream: String,
        #[source]
        source: IdError,
    },
    #[error("event at position {position} (stream {stream:?}): {source}")]
    Payload {
        position: u64,
        stream: String,
        #[source]
        source: CodecError,
    },
}

impl DecodeError {
    /// The global position of the event that failed to decode.
    pub fn position(&self) -> u64 {
        match self {
            DecodeError::StreamName { position, .. }
            | DecodeError::Actor { position, .. }
            | DecodeError::CommandId { position, .. }
            | DecodeError::Payload { position, .. } => *position,
        }
    }
}

/// The envelope to append for a domain event (its position and stream version are assigned by
/// the store; the stream is `event.meta.complaint_id`).
pub fn to_new_event(event: &Event) -> NewEvent {
    let (event_type, schema_version, mut payload) = codec::encode(&event.data);
    let schema_version = codec::attach_digest(schema_version, &mut payload, event.meta.command_digest.as_ref());
    NewEvent {
        event_type: event_type.to_owned(),
        schema_version,
        occurred_at_ms: event.meta.occurred_at.as_millis(),
        recorded_at_ms: event.meta.recorded_at.as_millis(),
        actor: event.meta.actor.as_str().to_owned(),
        command_id: event.meta.command_id.as_str().to_owned(),
        payload,
    }
}

/// The domain event a recorded envelope holds, upcast to today's schema by the codec.
pub fn from_recorded(r: &RecordedEvent) -> Result<Event, DecodeError> {
    let (data, version, digest) = decode_data(r)?;
    let mut meta = meta(r, r.stream.clone(), r.actor.clone(), r.command_id.clone())?;
    meta.schema_version = version;
    meta.command_digest = digest;
    Ok(Event { meta, data })
}

/// Like [`from_recorded`], taking the envelope by value to save copying its strings.
pub fn from_recorded_owned(mut r: RecordedEvent) -> Result<Event, DecodeError> {
    let (data, version, digest) = decode_data(&r)?;
    let stream = std::mem::take(&mut r.stream);
    let actor = std::mem::take(&mut r.actor);
    let command_id = std::mem::take(&mut r.command_id);
    let mut meta = meta(&r, stream, actor, command_id)?;
    meta.schema_version = version;
    meta.command_digest = digest;
    Ok(Event { meta, data })
}

fn decode_data(r: &RecordedEvent) -> Result<DecodedData, DecodeError> {
    codec::decode_with_digest(&r.event_type, r.schema_version, &r.payload).map_err(|source| DecodeError::Payload {
        position: r.position,
        stream: r.stream.clone(),
        source,
    })
}

/// Event data, the type's schema version and the command digest of an envelope.
type DecodedData = (
    plaint_domain::event::EventData,
    u16,
    Option<plaint_domain::command::CommandDigest>,
);

/// Builds the metadata from `r`'s numbers and the owned strings (`r`'s own may have been taken).
fn meta(r: &RecordedEvent, stream: String, actor: String, command_id: String) -> Result<EventMeta, DecodeError> {
    let position = r.position;
    let complaint_id = ComplaintId::new(stream).map_err(|source| DecodeError::StreamName {
        position,
        stream: match &source {
            IdError::TooLong { value, .. } | IdError::BadChar { value, .. } => value.clone(),
            _ => String::new(),
        },
        source,
    })?;
    let actor = Actor::person(actor).map_err(|source| DecodeError::Actor {
        position,
        stream: complaint_id.as_str().to_owned(),
        source,
    })?;
    let command_id = CommandId::new(command_id).map_err(|source| DecodeError::CommandId {
        position,
        stream: complaint_id.as_str().to_owned(),
        source,
    })?;
    Ok(EventMeta {
        complaint_id,
        stream_version: r.stream_version,
        position,
        occurred_at: Timestamp::from_millis(r.occurred_at_ms),
        recorded_at: Timestamp::from_millis(r.recorded_at_ms),
        actor,
        command_id,
        schema_version: r.schema_version,
        command_digest: None,
    })
}

/// The domain event a borrowed file-log envelope holds (the file log's allocation-free read
/// path, [`plaint_store::file::FileLog::visit_all`]).
pub fn from_event_ref(r: &EventRef<'_>) -> Result<Event, DecodeError> {
    let (data, schema_version, command_digest) = codec::decode_with_digest(r.event_type, r.schema_version, r.payload)
        .map_err(|source| DecodeError::Payload {
        position: r.position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let position = r.position;
    let complaint_id = ComplaintId::new(r.stream).map_err(|source| DecodeError::StreamName {
        position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let actor = Actor::person(r.actor).map_err(|source| DecodeError::Actor {
        position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let command_id = CommandId::new(r.command_id).map_err(|source| DecodeError::CommandId {
        position,
        stream: r.stream.to_owned(),
        source,
    })?;
    Ok(Event {
        meta: EventMeta {
            complaint_id,
            stream_version: r.stream_version,
            position,
            occurred_at: Timestamp::from_millis(r.occurred_at_ms),
            recorded_at: Timestamp::from_millis(r.recorded_at_ms),
            actor,
            command_id,
            schema_version,
            command_digest,
        },
        data,
    })
}

/// Like [`from_event_ref`], decoding into `slot` and reusing the heap buffers of the event it
/// held (complaint id, actor, command id): the rebuild's per-event decode without allocating
/// its metadata again. Validation is the same as [`from_event_ref`]'s. On error `slot` is
/// left empty.
pub fn from_event_ref_into(r: &EventRef<'_>, slot: &mut Option<Event>) -> Result<(), DecodeError> {
    let (mut stream, mut actor, mut command_id) = match slot.take() {
        Some(old) => (
            String::from(old.meta.complaint_id),
            match old.meta.actor {
                Actor::Person(p) => p,
                Actor::System => String::new(),
            },
            String::from(old.meta.command_id),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    let (data, schema_version, command_digest) = codec::decode_with_digest(r.event_type, r.schema_version, r.payload)
        .map_err(|source| DecodeError::Payload {
        position: r.position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let position = r.position;
    let refill = |buf: &mut String, with: &str| {
        buf.clear();
        buf.push_str(with);
        std::mem::take(buf)
    };
    let complaint_id = ComplaintId::new(refill(&mut stream, r.stream)).map_err(|source| DecodeError::StreamName {
        position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let actor = Actor::person(refill(&mut actor, r.actor)).map_err(|source| DecodeError::Actor {
        position,
        stream: r.stream.to_owned(),
        source,
    })?;
    let command_id =
        CommandId::new(refill(&mut command_id, r.command_id)).map_err(|source| DecodeError::CommandId {
            position,
            stream: r.stream.to_owned(),
            source,
        })?;
    *slot = Some(Event {
        meta: EventMeta {
            complaint_id,
            stream_version: r.stream_version,
            position,
            occurred_at: Timestamp::from_millis(r.occurred_at_ms),
            recorded_at: Timestamp::from_millis(r.recorded_at_ms),
            actor,
            command_id,
            schema_version,
            command_digest,
        },
        data,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthConfig, SynthLog};

    fn recorded(e: &Event) -> RecordedEvent {
        let n = to_new_event(e);
        RecordedEvent {
            position: e.meta.position,
            stream: e.meta.complaint_id.as_str().to_owned(),
            stream_version: e.meta.stream_version,
            event_type: n.event_type,
            schema_version: n.schema_version,
            occurred_at_ms: n.occurred_at_ms,
            recorded_at_ms: n.recorded_at_ms,
            actor: n.actor,
            command_id: n.command_id,
            payload: n.payload,
        }
    }

    #[test]
    fn every_event_type_round_trips_through_the_envelope() {
        let mut types = std::collections::BTreeSet::new();
        for e in SynthLog::new(SynthConfig {
            complaints: 100,
            ..SynthConfig::default()
        }) {
            let r = recorded(&e);
            types.insert(r.event_type.clone());
            assert_eq!(from_recorded(&r).unwrap(), e);
            assert_eq!(from_recorded_owned(r).unwrap(), e);
        }
        assert!(types.len() >= 14, "{types:?}");
    }

    fn event_ref(r: &RecordedEvent) -> EventRef<'_> {
        EventRef {
            position: r.position,
            stream: &r.stream,
            stream_version: r.stream_version,
            event_type: &r.event_type,
            schema_version: r.schema_version,
            occurred_at_ms: r.occurred_at_ms,
            recorded_at_ms: r.recorded_at_ms,
            actor: &r.actor,
            command_id: &r.command_id,
            payload: &r.payload,
        }
    }

    #[test]
    fn decoding_into_a_reused_slot_gives_the_same_events() {
        let mut slot = None;
        let mut system = 0;
        for e in SynthLog::new(SynthConfig {
            complaints: 100,
            ..SynthConfig::default()
        }) {
            let r = recorded(&e);
            from_event_ref_into(&event_ref(&r), &mut slot).unwrap();
            assert_eq!(slot.as_ref(), Some(&e));
            assert_eq!(from_event_ref(&event_ref(&r)).unwrap(), e);
            system += usize::from(e.meta.actor == Actor::System);
        }
        assert!(system > 0, "the system actor between persons is covered");
        // A bad event empties the slot and names its position.
        let e = SynthLog::new(SynthConfig::default()).next().unwrap();
        let mut bad = recorded(&e);
        bad.actor = "two words".into();
        let err = from_event_ref_into(&event_ref(&bad), &mut slot).unwrap_err();
        assert!(matches!(err, DecodeError::Actor { position: 1, .. }), "{err}");
        assert_eq!(slot, None);
    }

    #[test]
    fn errors_name_the_position_and_the_stream() {
        let e = SynthLog::new(SynthConfig::default()).next().unwrap();
        let mut bad = recorded(&e);
        bad.position = 77;
        bad.payload.truncate(3);
        let err = from_recorded(&bad).unwrap_err();
        assert_eq!(err.position(), 77);
        assert!(matches!(err, DecodeError::Payload { .. }));
        assert!(
            err.to_string().contains("position 77") && err.to_string().contains(&bad.stream),
            "{err}"
        );
        let mut bad = recorded(&e);
        bad.stream = "no spaces allowed".into();
        let err = from_recorded(&bad).unwrap_err();
        assert!(matches!(err, DecodeError::StreamName { position: 1, .. }), "{err}");
        let mut bad = recorded(&e);
        bad.event_type = "Teleported".into();
        assert!(matches!(from_recorded(&bad), Err(DecodeError::Payload { .. })));
    }
}

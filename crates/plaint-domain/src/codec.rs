//! The payload codec: event data ⇄ bytes, by stable type name and schema version (issue 2,
//! item 9; `docs/events.md`).
//!
//! In the log an event's data travels as the postcard encoding of its variant's struct (e.g.
//! [`Received`]), tagged in the envelope with the stable type name ([`EventData::type_name`]) and
//! the schema version it was written with. [`decode`] reads every version ever written and
//! *upcasts* older ones into today's type; [`encode`] always writes the current version.
//!
//! ## Versions
//!
//! | type | current | older versions read |
//! |---|---|---|
//! | `Received` | 2 | 1: no `outlet`, no `attributes` (read as `None` / empty) |
//! | `Verified` | 2 | 1: no `duplicate_of` (read as `None`) |
//! | `Classified` | 3 | 2: no `repeat_of` (read as `None`), no `calendar_covered` (read as `true`); 1: none of those nor `deadline_source` (read as `Policy`) |
//! | `Dispatched` | 2 | 1: no `calendar_covered` (read as `true`) |
//! | `Responded` | 2 | 1: no `calendar_covered` (read as `true`) |
//! | `Closed` | 2 | 1: no `without_revisit` (read as `None`) |
//! | `CompensationApproved` | 2 | 1: no `overdue_level` (read as `None`: no overdue escalation) |
//! | `IncidentOpened` | 2 | 1: no `overdue_level` (read as `None`: no missed-report escalation) |
//! | `TokenIssued` | 2 | 1: no `rate_limit` (read as `None`: the server's default for its role) |
//! | every other type (`DisputeEscalated` was added at 1 by issue 17's leftovers; issue 17 added `CompensationProposed`, `CompensationApproved`, `CompensationPaid`, `CompensationRefused`, `IncidentOpened`, `IncidentLinked`, `IncidentProgressReported`, `ImprovementRecorded`; access control added `TokenIssued`, `TokenRevoked`, `PersonalDataRevealed`, all at 1) | 1 | — |
//!
//! To change a type: keep its old struct here as `<Type>V<n>`, bump its entry in
//! [`CURRENT_VERSIONS`], and add the upcast arm to [`decode`] plus a golden-bytes test.
//!
//! Two event structs hold internally tagged enums (`RoutingDecision`, `EscalationTrigger`:
//! `#[serde(tag = "by")]`, for a readable JSON form). Postcard cannot read internally tagged
//! enums (they need a self-describing format), so their payloads use the externally tagged
//! mirrors below; the bytes are what `docs/events.md` documents.

use crate::command::{CommandDigest, COMMAND_DIGEST_LEN};
use crate::event::*;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every event type's stable name with its current schema version.
pub const CURRENT_VERSIONS: [(&str, u16); 32] = [
    ("Received", 2),
    ("Verified", 2),
    ("Rejected", 1),
    ("MergedAsDuplicate", 1),
    ("Classified", 3),
    ("Dispatched", 2),
    ("Redispatched", 1),
    ("OnHold", 1),
    ("Resumed", 1),
    ("Responded", 2),
    ("Compensated", 1),
    ("Escalated", 1),
    ("Revisited", 1),
    ("Reopened", 1),
    ("Closed", 2),
    ("CustomerErased", 1),
    ("RevisitAttempted", 1),
    ("OwnershipTransferred", 1),
    ("SupervisionOpened", 1),
    ("SeverityOverridden", 1),
    ("CompensationProposed", 1),
    ("CompensationApproved", 2),
    ("CompensationPaid", 1),
    ("CompensationRefused", 1),
    ("IncidentOpened", 2),
    ("IncidentLinked", 1),
    ("IncidentProgressReported", 1),
    ("ImprovementRecorded", 1),
    ("TokenIssued", 2),
    ("TokenRevoked", 1),
    ("PersonalDataRevealed", 1),
    ("DisputeEscalated", 1),
];

/// Bit 15 of an envelope's schema version: the payload ends with the command digest
/// ([`COMMAND_DIGEST_LEN`] bytes) of the command that caused the event (issue 11). Only the
/// first event of each command carries it. A reader from before this flag sees an unknown
/// schema version (an error naming the event), never a silently misread payload.
pub const COMMAND_DIGEST_FLAG: u16 = 0x8000;

/// Appends `digest` to an encoded payload and returns the envelope schema version to store
/// (`schema_version` with [`COMMAND_DIGEST_FLAG`] set). `None` leaves both unchanged.
pub fn attach_digest(schema_version: u16, payload: &mut Vec<u8>, digest: Option<&CommandDigest>) -> u16 {
    match digest {
        Some(d) => {
            payload.extend_from_slice(&d.0);
            schema_version | COMMAND_DIGEST_FLAG
        }
        None => schema_version,
    }
}

/// Splits an envelope's schema version and payload into the type's schema version, the event
/// payload and the command digest (when [`COMMAND_DIGEST_FLAG`] is set).
pub fn split_digest<'p>(
    type_name: &str,
    schema_version: u16,
    payload: &'p [u8],
) -> Result<(u16, &'p [u8], Option<CommandDigest>), CodecError> {
    if schema_version & COMMAND_DIGEST_FLAG == 0 {
        return Ok((schema_version, payload, None));
    }
    let version = schema_version & !COMMAND_DIGEST_FLAG;
    let Some(cut) = payload.len().checked_sub(COMMAND_DIGEST_LEN) else {
        return Err(CodecError::MissingDigest {
            type_name: type_name.to_owned(),
            schema_version: version,
            len: payload.len(),
        });
    };
    let mut d = [0u8; COMMAND_DIGEST_LEN];
    d.copy_from_slice(&payload[cut..]);
    Ok((version, &payload[..cut], Some(CommandDigest(d))))
}

/// [`decode`] of an envelope's payload that may carry a command digest ([`split_digest`]).
pub fn decode_with_digest(
    type_name: &str,
    schema_version: u16,
    payload: &[u8],
) -> Result<(EventData, u16, Option<CommandDigest>), CodecError> {
    let (version, payload, digest) = split_digest(type_name, schema_version, payload)?;
    Ok((decode(type_name, version, payload)?, version, digest))
}

/// Largest payload [`decode`] accepts, in bytes (a Received with a long description and many
/// attributes stays far below).
pub const PAYLOAD_LEN_MAX: usize = 1 << 20;

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("unknown event type {type_name:?}")]
    UnknownType { type_name: String },
    #[error("event type {type_name} has no schema version {schema_version} (current is {current})")]
    UnknownVersion {
        type_name: &'static str,
        schema_version: u16,
        current: u16,
    },
    #[error("event type {type_name} v{schema_version}: payload does not decode: {reason}")]
    Payload {
        type_name: &'static str,
        schema_version: u16,
        reason: String,
    },
    #[error("event type {type_name} v{schema_version}: {trailing} unexpected bytes after the payload")]
    TrailingBytes {
        type_name: &'static str,
        schema_version: u16,
        trailing: usize,
    },
    #[error("event type {type_name} v{schema_version}: the envelope says the payload ends with a command digest, but it is only {len} bytes")]
    MissingDigest {
        type_name: String,
        schema_version: u16,
        len: usize,
    },
    #[error("event type {type_name} v{schema_version}: payload is {len} bytes, at most {max} are allowed")]
    TooLarge {
        type_name: &'static str,
        schema_version: u16,
        len: usize,
        max: usize,
    },
}

/// The current schema version of an event type, by its stable name; `None` for an unknown name.
pub fn schema_version(type_name: &str) -> Option<u16> {
    CURRENT_VERSIONS.iter().find(|(n, _)| *n == type_name).map(|(_, v)| *v)
}

fn current(type_name: &'static str) -> u16 {
    schema_version(type_name).expect("every EventData type name is in CURRENT_VERSIONS")
}

/// Encodes event data as `(type name, current schema version, postcard payload)`.
pub fn encode(data: &EventData) -> (&'static str, u16, Vec<u8>) {
    let mut out = Vec::with_capacity(64);
    let (name, version) = encode_into(data, &mut out);
    (name, version, out)
}

/// Like [`encode`], appending the payload to `out` (reuse one buffer on hot paths).
pub fn encode_into(data: &EventData, out: &mut Vec<u8>) -> (&'static str, u16) {
    let name = data.type_name();
    let r = match data {
        EventData::Received(e) => ser(e, out),
        EventData::Verified(e) => ser(e, out),
        EventData::Rejected(e) => ser(e, out),
        EventData::MergedAsDuplicate(e) => ser(e, out),
        EventData::Classified(e) => ser(e, out),
        EventData::Dispatched(e) => ser(
            &DispatchedRef {
                department: &e.department,
                handler: &e.handler,
                routing: RoutingRef::from(&e.routing),
                deadlines: &e.deadlines,
                policy_version: &e.policy_version,
                calendar_covered: e.calendar_covered,
            },
            out,
        ),
        EventData::Redispatched(e) => ser(
            &RedispatchedRef {
                from: &e.from,
                to: &e.to,
                handler: &e.handler,
                routing: RoutingRef::from(&e.routing),
                reason: &e.reason,
            },
            out,
        ),
        EventData::OnHold(e) => ser(e, out),
        EventData::Resumed(e) => ser(e, out),
        EventData::Responded(e) => ser(e, out),
        EventData::Compensated(e) => ser(e, out),
        EventData::Escalated(e) => ser(
            &EscalatedRef {
                level: e.level,
                trigger: TriggerRef::from(&e.trigger),
                reason: &e.reason,
            },
            out,
        ),
        EventData::Revisited(e) => ser(e, out),
        EventData::Reopened(e) => ser(e, out),
        EventData::Closed(e) => ser(e, out),
        EventData::CustomerErased(e) => ser(e, out),
        EventData::RevisitAttempted(e) => ser(e, out),
        EventData::OwnershipTransferred(e) => ser(e, out),
        EventData::SupervisionOpened(e) => ser(e, out),
        EventData::SeverityOverridden(e) => ser(e, out),
        EventData::CompensationProposed(e) => ser(e, out),
        EventData::CompensationApproved(e) => ser(e, out),
        EventData::CompensationPaid(e) => ser(e, out),
        EventData::CompensationRefused(e) => ser(e, out),
        EventData::IncidentOpened(e) => ser(e, out),
        EventData::IncidentLinked(e) => ser(e, out),
        EventData::IncidentProgressReported(e) => ser(e, out),
        EventData::ImprovementRecorded(e) => ser(e, out),
        EventData::TokenIssued(e) => ser(e, out),
        EventData::TokenRevoked(e) => ser(e, out),
        EventData::PersonalDataRevealed(e) => ser(e, out),
        EventData::DisputeEscalated(e) => ser(e, out),
    };
    // Every field type serialises infallibly into a Vec (no maps with non-string keys, no
    // internally tagged enums on this path).
    r.expect("event data always encodes with postcard");
    (name, current(name))
}

fn ser<T: Serialize>(v: &T, out: &mut Vec<u8>) -> Result<(), postcard::Error> {
    // postcard::to_extend writes straight into the caller's buffer.
    let buf = std::mem::take(out);
    *out = postcard::to_extend(v, buf)?;
    Ok(())
}

fn de<'a, T: Deserialize<'a>>(
    type_name: &'static str,
    schema_version: u16,
    payload: &'a [u8],
) -> Result<T, CodecError> {
    let (v, rest) = postcard::take_from_bytes(payload).map_err(|e| CodecError::Payload {
        type_name,
        schema_version,
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes {
            type_name,
            schema_version,
            trailing: rest.len(),
        });
    }
    Ok(v)
}

/// Decodes a payload written as `type_name` at `schema_version`, upcasting older versions into
/// today's type.
pub fn decode(type_name: &str, schema_version: u16, payload: &[u8]) -> Result<EventData, CodecError> {
    let Some(&(name, cur)) = CURRENT_VERSIONS.iter().find(|(n, _)| *n == type_name) else {
        return Err(CodecError::UnknownType {
            type_name: type_name.to_owned(),
        });
    };
    if payload.len() > PAYLOAD_LEN_MAX {
        return Err(CodecError::TooLarge {
            type_name: name,
            schema_version,
            len: payload.len(),
            max: PAYLOAD_LEN_MAX,
        });
    }
    let v = schema_version;
    let unknown = || CodecError::UnknownVersion {
        type_name: name,
        schema_version: v,
        current: cur,
    };
    Ok(match (name, v) {
        ("Received", 2) => EventData::Received(de(name, v, payload)?),
        ("Received", 1) => EventData::Received(de::<ReceivedV1>(name, v, payload)?.upcast()),
        ("Received", _) => return Err(unknown()),
        ("Classified", 3) => EventData::Classified(de(name, v, payload)?),
        ("Classified", 2) => EventData::Classified(de::<ClassifiedV2>(name, v, payload)?.upcast()),
        ("Classified", 1) => EventData::Classified(de::<ClassifiedV1>(name, v, payload)?.upcast().upcast()),
        ("Classified", _) => return Err(unknown()),
        ("Verified", 2) => EventData::Verified(de(name, v, payload)?),
        ("Verified", 1) => EventData::Verified(de::<VerifiedV1>(name, v, payload)?.upcast()),
        ("Verified", _) => return Err(unknown()),
        ("Dispatched", 1) => {
            let w: DispatchedWireV1 = de(name, v, payload)?;
            EventData::Dispatched(Dispatched {
                department: w.department,
                handler: w.handler,
                routing: w.routing.into(),
                deadlines: w.deadlines,
                policy_version: w.policy_version,
                calendar_covered: true,
            })
        }
        ("Responded", 1) => EventData::Responded(de::<RespondedV1>(name, v, payload)?.upcast()),
        ("Closed", 1) => EventData::Closed(de::<ClosedV1>(name, v, payload)?.upcast()),
        ("CompensationApproved", 1) => {
            EventData::CompensationApproved(de::<CompensationApprovedV1>(name, v, payload)?.upcast())
        }
        ("IncidentOpened", 1) => EventData::IncidentOpened(de::<IncidentOpenedV1>(name, v, payload)?.upcast()),
        ("TokenIssued", 1) => EventData::TokenIssued(de::<TokenIssuedV1>(name, v, payload)?.upcast()),
        (_, v) if v != cur => return Err(unknown()),
        ("Rejected", _) => EventData::Rejected(de(name, v, payload)?),
        ("MergedAsDuplicate", _) => EventData::MergedAsDuplicate(de(name, v, payload)?),
        ("Dispatched", _) => {
            let w: DispatchedWire = de(name, v, payload)?;
            EventData::Dispatched(Dispatched {
                department: w.department,
                handler: w.handler,
                routing: w.routing.into(),
                deadlines: w.deadlines,
                policy_version: w.policy_version,
                calendar_covered: w.calendar_covered,
            })
        }
        ("Redispatched", _) => {
            let w: RedispatchedWire = de(name, v, payload)?;
            EventData::Redispatched(Redispatched {
                from: w.from,
                to: w.to,
                handler: w.handler,
                routing: w.routing.into(),
                reason: w.reason,
            })
        }
        ("OnHold", _) => EventData::OnHold(de(name, v, payload)?),
        ("Resumed", _) => EventData::Resumed(de(name, v, payload)?),
        ("Responded", _) => EventData::Responded(de(name, v, payload)?),
        ("Compensated", _) => EventData::Compensated(de(name, v, payload)?),
        ("Escalated", _) => {
            let w: EscalatedWire = de(name, v, payload)?;
            EventData::Escalated(Escalated {
                level: w.level,
                trigger: w.trigger.into(),
                reason: w.reason,
            })
        }
        ("Revisited", _) => EventData::Revisited(de(name, v, payload)?),
        ("Reopened", _) => EventData::Reopened(de(name, v, payload)?),
        ("Closed", _) => EventData::Closed(de(name, v, payload)?),
        ("CustomerErased", _) => EventData::CustomerErased(de(name, v, payload)?),
        ("RevisitAttempted", _) => EventData::RevisitAttempted(de(name, v, payload)?),
        ("OwnershipTransferred", _) => EventData::OwnershipTransferred(de(name, v, payload)?),
        ("SupervisionOpened", _) => EventData::SupervisionOpened(de(name, v, payload)?),
        ("SeverityOverridden", _) => EventData::SeverityOverridden(de(name, v, payload)?),
        ("CompensationProposed", _) => EventData::CompensationProposed(de(name, v, payload)?),
        ("CompensationApproved", _) => EventData::CompensationApproved(de(name, v, payload)?),
        ("CompensationPaid", _) => EventData::CompensationPaid(de(name, v, payload)?),
        ("CompensationRefused", _) => EventData::CompensationRefused(de(name, v, payload)?),
        ("IncidentOpened", _) => EventData::IncidentOpened(de(name, v, payload)?),
        ("IncidentLinked", _) => EventData::IncidentLinked(de(name, v, payload)?),
        ("IncidentProgressReported", _) => EventData::IncidentProgressReported(de(name, v, payload)?),
        ("ImprovementRecorded", _) => EventData::ImprovementRecorded(de(name, v, payload)?),
        ("TokenIssued", _) => EventData::TokenIssued(de(name, v, payload)?),
        ("TokenRevoked", _) => EventData::TokenRevoked(de(name, v, payload)?),
        ("PersonalDataRevealed", _) => EventData::PersonalDataRevealed(de(name, v, payload)?),
        ("DisputeEscalated", _) => EventData::DisputeEscalated(de(name, v, payload)?),
        _ => unreachable!("CURRENT_VERSIONS and decode list the same types"),
    })
}

// ---------------------------------------------------------------------------------------------
// Older versions (upcasting)
// ---------------------------------------------------------------------------------------------

/// `TokenIssued` schema version 1, as written before per-token rate limits: no `rate_limit`.
/// Read into today's [`crate::access::TokenIssued`] with `rate_limit: None` (the server's
/// default for the token's role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenIssuedV1 {
    pub token_id: String,
    pub name: String,
    pub role: crate::access::Role,
    pub hash: String,
}

impl TokenIssuedV1 {
    /// v1 → v2: no limit of its own.
    pub fn upcast(self) -> crate::access::TokenIssued {
        crate::access::TokenIssued {
            token_id: self.token_id,
            name: self.name,
            role: self.role,
            hash: self.hash,
            rate_limit: None,
        }
    }
}

/// `Received` schema version 1, as written before region/outlet detail and free attributes were
/// added: no `outlet`, no `attributes`. Read into today's [`Received`] with `outlet: None` and
/// empty `attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedV1 {
    pub channel: Channel,
    pub contact_at: Timestamp,
    pub customer: CustomerRecord,
    pub waybill: Option<String>,
    pub description: String,
    pub claimed_amount: Option<Money>,
    pub evidence: Vec<EvidenceRef>,
    pub region: String,
}

impl ReceivedV1 {
    /// v1 → v2: the fields v1 lacked take their "unknown" values.
    pub fn upcast(self) -> Received {
        Received {
            channel: self.channel,
            contact_at: self.contact_at,
            customer: self.customer,
            waybill: self.waybill,
            description: self.description,
            claimed_amount: self.claimed_amount,
            evidence: self.evidence,
            region: self.region,
            outlet: None,
            attributes: BTreeMap::new(),
        }
    }
}

/// `Classified` schema version 1, as written before imported history could record only the
/// legacy system's deadlines: no `deadline_source`. Read into today's [`Classified`] with
/// `deadline_source: Policy` (every v1 ticket's deadlines were computed by, or recorded instead
/// of, the policy, and its dispatch and final response added the policy's deadlines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedV1 {
    pub category: Category,
    pub severity: Severity,
    pub customer_tier: CustomerTier,
    pub flags: Flags,
    pub deadlines: Vec<ClockDeadline>,
    pub escalations: Vec<EscalationDue>,
    pub policy_version: String,
}

impl ClassifiedV1 {
    /// v1 → v2: the deadlines came from the policy.
    pub fn upcast(self) -> ClassifiedV2 {
        ClassifiedV2 {
            category: self.category,
            severity: self.severity,
            customer_tier: self.customer_tier,
            flags: self.flags,
            deadlines: self.deadlines,
            escalations: self.escalations,
            policy_version: self.policy_version,
            deadline_source: DeadlineSource::Policy,
        }
    }
}

/// `Classified` schema version 2, as written before issue 11: no `repeat_of` (the repeat rule did
/// not yet run again at classification; a repeat found at verification is in that `Verified`)
/// and no `calendar_covered` (the calendar data then covered every year a live ticket's
/// deadlines reached). Read into today's [`Classified`] with `None` and `true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifiedV2 {
    pub category: Category,
    pub severity: Severity,
    pub customer_tier: CustomerTier,
    pub flags: Flags,
    pub deadlines: Vec<ClockDeadline>,
    pub escalations: Vec<EscalationDue>,
    pub policy_version: String,
    pub deadline_source: DeadlineSource,
}

impl ClassifiedV2 {
    /// v2 → v3: no repeat link recorded at classification; calendar covered.
    pub fn upcast(self) -> Classified {
        Classified {
            category: self.category,
            severity: self.severity,
            customer_tier: self.customer_tier,
            flags: self.flags,
            deadlines: self.deadlines,
            escalations: self.escalations,
            policy_version: self.policy_version,
            deadline_source: self.deadline_source,
            repeat_of: None,
            calendar_covered: true,
        }
    }
}

/// `Verified` schema version 1, as written before duplicates were flagged at verification: no
/// `duplicate_of`. Read into today's [`Verified`] with `duplicate_of: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedV1 {
    pub claim: CheckOutcome,
    pub evidence: CheckOutcome,
    pub history: CheckOutcome,
    pub repeat_of: Option<crate::ids::ComplaintId>,
    pub flags: Flags,
    pub note: String,
}

impl VerifiedV1 {
    /// v1 → v2: no duplicate flagged.
    pub fn upcast(self) -> Verified {
        Verified {
            claim: self.claim,
            evidence: self.evidence,
            history: self.history,
            repeat_of: self.repeat_of,
            duplicate_of: None,
            flags: self.flags,
            note: self.note,
        }
    }
}

/// `Responded` schema version 1: no `calendar_covered` (read as `true`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondedV1 {
    pub kind: ResponseKind,
    pub text: String,
    pub basis: Option<String>,
    pub liable: Option<bool>,
    pub root_cause: Option<Stage>,
    pub compensation: Option<Compensation>,
    pub deadlines: Vec<ClockDeadline>,
}

impl RespondedV1 {
    /// v1 → v2: covered.
    pub fn upcast(self) -> Responded {
        Responded {
            kind: self.kind,
            text: self.text,
            basis: self.basis,
            liable: self.liable,
            root_cause: self.root_cause,
            compensation: self.compensation,
            deadlines: self.deadlines,
            calendar_covered: true,
        }
    }
}

/// `Closed` schema version 1, as written before the closed loop (issue 17): no
/// `without_revisit`. Read into today's [`Closed`] with `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedV1 {
    pub resolution: Resolution,
    pub root_cause: Option<Stage>,
    pub liable: bool,
    pub note: String,
}

impl ClosedV1 {
    /// v1 → v2: no reason recorded for a missing revisit.
    pub fn upcast(self) -> Closed {
        Closed {
            resolution: self.resolution,
            root_cause: self.root_cause,
            liable: self.liable,
            note: self.note,
            without_revisit: None,
        }
    }
}

/// `CompensationApproved` schema version 1, as written before the overdue escalation of an
/// unpaid compensation was recorded (issue 17's leftovers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompensationApprovedV1 {
    pub compensation_id: String,
    pub role: ApproverRole,
    pub required_role: ApproverRole,
    pub amount: Money,
    pub payment_due_at: Timestamp,
    pub deadlines: Vec<ClockDeadline>,
    pub customer_notice: String,
    pub policy_version: String,
}

impl CompensationApprovedV1 {
    /// v1 → v2: no overdue escalation was planned.
    pub fn upcast(self) -> CompensationApproved {
        CompensationApproved {
            compensation_id: self.compensation_id,
            role: self.role,
            required_role: self.required_role,
            amount: self.amount,
            payment_due_at: self.payment_due_at,
            deadlines: self.deadlines,
            customer_notice: self.customer_notice,
            policy_version: self.policy_version,
            overdue_level: None,
        }
    }
}

/// `IncidentOpened` schema version 1, as written before a missed daily report escalated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentOpenedV1 {
    pub incident_id: String,
    pub title: String,
    pub cause: String,
    pub members: Vec<IncidentMember>,
    pub deadlines: Vec<ClockDeadline>,
    pub policy_version: String,
}

impl IncidentOpenedV1 {
    /// v1 → v2: no missed-report escalation was planned.
    pub fn upcast(self) -> IncidentOpened {
        IncidentOpened {
            incident_id: self.incident_id,
            title: self.title,
            cause: self.cause,
            members: self.members,
            deadlines: self.deadlines,
            policy_version: self.policy_version,
            overdue_level: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire mirrors of the internally tagged enums (externally tagged: postcard-readable)
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
enum RoutingRef<'a> {
    Rule { rule_id: &'a str, matched: &'a str },
    Manual,
    Fallback,
}

impl<'a> From<&'a RoutingDecision> for RoutingRef<'a> {
    fn from(r: &'a RoutingDecision) -> Self {
        match r {
            RoutingDecision::Rule { rule_id, matched } => RoutingRef::Rule { rule_id, matched },
            RoutingDecision::Manual => RoutingRef::Manual,
            RoutingDecision::Fallback => RoutingRef::Fallback,
        }
    }
}

#[derive(Deserialize)]
enum RoutingWire {
    Rule { rule_id: String, matched: String },
    Manual,
    Fallback,
}

impl From<RoutingWire> for RoutingDecision {
    fn from(r: RoutingWire) -> Self {
        match r {
            RoutingWire::Rule { rule_id, matched } => RoutingDecision::Rule { rule_id, matched },
            RoutingWire::Manual => RoutingDecision::Manual,
            RoutingWire::Fallback => RoutingDecision::Fallback,
        }
    }
}

#[derive(Serialize)]
enum TriggerRef<'a> {
    Person,
    Watchdog { rule_id: &'a str, due_at: Timestamp },
}

impl<'a> From<&'a EscalationTrigger> for TriggerRef<'a> {
    fn from(t: &'a EscalationTrigger) -> Self {
        match t {
            EscalationTrigger::Person => TriggerRef::Person,
            EscalationTrigger::Watchdog { rule_id, due_at } => TriggerRef::Watchdog {
                rule_id,
                due_at: *due_at,
            },
        }
    }
}

#[derive(Deserialize)]
enum TriggerWire {
    Person,
    Watchdog { rule_id: String, due_at: Timestamp },
}

impl From<TriggerWire> for EscalationTrigger {
    fn from(t: TriggerWire) -> Self {
        match t {
            TriggerWire::Person => EscalationTrigger::Person,
            TriggerWire::Watchdog { rule_id, due_at } => EscalationTrigger::Watchdog { rule_id, due_at },
        }
    }
}

#[derive(Serialize)]
struct DispatchedRef<'a> {
    department: &'a Department,
    handler: &'a Option<String>,
    routing: RoutingRef<'a>,
    deadlines: &'a Vec<ClockDeadline>,
    policy_version: &'a String,
    calendar_covered: bool,
}

#[derive(Deserialize)]
struct DispatchedWire {
    department: Department,
    handler: Option<String>,
    routing: RoutingWire,
    deadlines: Vec<ClockDeadline>,
    policy_version: String,
    calendar_covered: bool,
}

/// `Dispatched` schema version 1: no `calendar_covered` (read as `true`).
#[derive(Deserialize)]
struct DispatchedWireV1 {
    department: Department,
    handler: Option<String>,
    routing: RoutingWire,
    deadlines: Vec<ClockDeadline>,
    policy_version: String,
}

#[derive(Serialize)]
struct RedispatchedRef<'a> {
    from: &'a Department,
    to: &'a Department,
    handler: &'a Option<String>,
    routing: RoutingRef<'a>,
    reason: &'a String,
}

#[derive(Deserialize)]
struct RedispatchedWire {
    from: Department,
    to: Department,
    handler: Option<String>,
    routing: RoutingWire,
    reason: String,
}

#[derive(Serialize)]
struct EscalatedRef<'a> {
    level: EscalationLevel,
    trigger: TriggerRef<'a>,
    reason: &'a String,
}

#[derive(Deserialize)]
struct EscalatedWire {
    level: EscalationLevel,
    trigger: TriggerWire,
    reason: String,
}

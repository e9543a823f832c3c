//! Test helpers: event builders for hand-computed scenarios, and a log to run them on.
#![allow(dead_code)]

use plaint_domain::event::*;
use plaint_domain::ids::{Actor, CommandId, ComplaintId};
use plaint_domain::time::{Timestamp, MS_PER_HOUR};
use plaint_projections::to_new_event;

use plaint_store::{AppendRequest, EventStore, ExpectedVersion};
use std::collections::BTreeMap;

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

pub fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

/// Builds one complaint's events with contiguous stream versions (positions are assigned by the
/// log, or by [`Log::push`] in memory).
pub struct Ticket {
    pub id: ComplaintId,
    version: u64,
}

impl Ticket {
    pub fn new(id: &str) -> Ticket {
        Ticket {
            id: cid(id),
            version: 0,
        }
    }
    pub fn event(&mut self, at: Timestamp, data: EventData) -> Event {
        self.version += 1;
        Event {
            meta: EventMeta {
                complaint_id: self.id.clone(),
                stream_version: self.version,
                position: 0,
                occurred_at: at,
                recorded_at: at,
                actor: Actor::person("agent-1").unwrap(),
                command_id: CommandId::new(format!("{}-{}", self.id, self.version)).unwrap(),
                schema_version: 1,
                command_digest: None,
            },
            data,
        }
    }
}

pub fn received(
    channel: Channel,
    contact_at: Timestamp,
    match_key: Option<&str>,
    waybill: Option<&str>,
    region: &str,
) -> EventData {
    EventData::Received(Received {
        channel,
        contact_at,
        customer: CustomerRecord {
            customer_id: None,
            match_key: match_key.map(str::to_owned),
            personal: None,
        },
        waybill: waybill.map(str::to_owned),
        description: "包裹延误".into(),
        claimed_amount: None,
        evidence: vec![],
        region: region.into(),
        outlet: None,
        attributes: BTreeMap::new(),
    })
}

pub fn received_with_attrs(channel: Channel, contact_at: Timestamp, region: &str, attrs: &[(&str, &str)]) -> EventData {
    let mut d = received(channel, contact_at, None, None, region);
    if let EventData::Received(r) = &mut d {
        r.attributes = attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    }
    d
}

pub fn verified(repeat_of: Option<&str>) -> EventData {
    EventData::Verified(Verified {
        claim: CheckOutcome::Passed,
        evidence: CheckOutcome::Passed,
        history: CheckOutcome::Passed,
        repeat_of: repeat_of.map(cid),
        duplicate_of: None,
        flags: Flags {
            repeat: repeat_of.is_some(),
            ..Flags::default()
        },
        note: String::new(),
    })
}

pub fn classified(
    category: Category,
    severity: Severity,
    tier: CustomerTier,
    deadlines: Vec<ClockDeadline>,
) -> EventData {
    EventData::Classified(Classified {
        category,
        severity,
        customer_tier: tier,
        flags: Flags::default(),
        deadlines,
        escalations: vec![],
        policy_version: "test-1".into(),
        deadline_source: Default::default(),
        repeat_of: None,
        calendar_covered: true,
    })
}

pub fn deadline(clock: Clock, due_at: Timestamp, pausable: bool) -> ClockDeadline {
    ClockDeadline {
        clock,
        due_at,
        pausable,
    }
}

pub fn dispatched(dept: &str, deadlines: Vec<ClockDeadline>) -> EventData {
    EventData::Dispatched(Dispatched {
        department: Department(dept.into()),
        handler: Some("h1".into()),
        routing: RoutingDecision::Manual,
        deadlines,
        policy_version: "test-1".into(),
        calendar_covered: true,
    })
}

pub fn redispatched(from: &str, to: &str) -> EventData {
    EventData::Redispatched(Redispatched {
        from: Department(from.into()),
        to: Department(to.into()),
        handler: None,
        routing: RoutingDecision::Manual,
        reason: "wrong department".into(),
    })
}

pub fn responded(
    kind: ResponseKind,
    liable: Option<bool>,
    root_cause: Option<Stage>,
    deadlines: Vec<ClockDeadline>,
) -> EventData {
    EventData::Responded(Responded {
        kind,
        text: "答复".into(),
        basis: None,
        liable,
        root_cause,
        compensation: None,
        deadlines,
        calendar_covered: true,
    })
}

pub fn on_hold() -> EventData {
    EventData::OnHold(OnHold {
        reason: HoldReason::AwaitingEvidence,
        note: String::new(),
    })
}

pub fn resumed() -> EventData {
    EventData::Resumed(Resumed { note: String::new() })
}

pub fn escalated(level: EscalationLevel) -> EventData {
    EventData::Escalated(Escalated {
        level,
        trigger: EscalationTrigger::Person,
        reason: "slow".into(),
    })
}

pub fn revisited(solved: bool, satisfied: bool, score: Option<u8>) -> EventData {
    EventData::Revisited(Revisited {
        solved,
        satisfied,
        satisfaction_score: score,
        note: String::new(),
    })
}

pub fn reopened(n: u32) -> EventData {
    EventData::Reopened(Reopened {
        reason: "unsatisfied".into(),
        reopen_count: n,
    })
}

pub fn merged(into: &str) -> EventData {
    EventData::MergedAsDuplicate(MergedAsDuplicate {
        into: cid(into),
        note: String::new(),
    })
}

pub fn rejected() -> EventData {
    EventData::Rejected(Rejected {
        reason: RejectionReason::NoClaim,
        note: String::new(),
    })
}

pub fn closed(resolution: Resolution, liable: bool, root_cause: Option<Stage>) -> EventData {
    EventData::Closed(Closed {
        resolution,
        root_cause,
        liable,
        note: String::new(),
        without_revisit: None,
    })
}

pub fn hours(t: Timestamp, h: i64) -> Timestamp {
    t.plus_millis(h * MS_PER_HOUR)
}

/// Events in global order with positions assigned 1, 2, …
#[derive(Default)]
pub struct Log {
    pub events: Vec<Event>,
}

impl Log {
    pub fn push(&mut self, mut e: Event) {
        e.meta.position = self.events.len() as u64 + 1;
        self.events.push(e);
    }
}

/// Opens a fresh file log in `dir` (bulk durability: these tests are about projections).
pub fn file_log(dir: &std::path::Path) -> plaint_store::file::FileLog {
    let opts = plaint_store::file::FileLogOptions {
        durability: plaint_store::file::Durability::Bulk {
            sync_every_batches: std::num::NonZeroU32::new(64).unwrap(),
        },
        ..Default::default()
    };
    plaint_store::file::FileLog::open(dir, opts).unwrap()
}

/// Appends `events` (in global order, positions already assigned) to `store`, many streams per
/// commit, and checks the positions the store gave.
pub async fn append_events(store: &dyn EventStore, events: &[Event]) {
    for chunk in events.chunks(500) {
        let requests: Vec<AppendRequest> = chunk
            .iter()
            .map(|e| AppendRequest {
                stream: e.meta.complaint_id.as_str().to_owned(),
                expected: ExpectedVersion::Exact(e.meta.stream_version - 1),
                events: vec![to_new_event(e)],
            })
            .collect();
        let results = store.append_many(requests).await.unwrap();
        for (e, r) in chunk.iter().zip(results) {
            assert_eq!(r.first_position, e.meta.position, "position of {}", e.meta.complaint_id);
        }
    }
}

//! Hand-built histories shared by the SLA and watchdog tests (no dependency on `decide`).
//! A directory module, so Cargo does not build it as a test target of its own; each test file
//! uses only part of it, hence the allow.
#![allow(dead_code)]

use plaint_domain::calendar::Calendar;
use plaint_domain::policy::Policy;
use plaint_domain::*;
use std::collections::BTreeMap;

pub fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

/// Builds one ticket's history event by event, with contiguous stream versions.
pub struct History {
    pub events: Vec<Event>,
    pub policy: Policy,
    pub cal: Calendar,
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

impl History {
    pub fn new() -> History {
        History {
            events: Vec::new(),
            policy: Policy::default(),
            cal: Calendar::china_mainland(),
        }
    }

    pub fn push(&mut self, occurred_at: Timestamp, data: EventData) -> &mut Self {
        let v = self.events.len() as u64 + 1;
        self.events.push(Event {
            meta: EventMeta {
                complaint_id: ComplaintId::new("CMP-TEST-1").unwrap(),
                stream_version: v,
                position: v,
                occurred_at,
                recorded_at: occurred_at,
                actor: if matches!(
                    &data,
                    EventData::Escalated(Escalated {
                        trigger: EscalationTrigger::Watchdog { .. },
                        ..
                    })
                ) {
                    Actor::System
                } else {
                    Actor::person("clerk-7").unwrap()
                },
                command_id: CommandId::new(format!("cmd-{v}")).unwrap(),
                schema_version: 1,
                command_digest: None,
            },
            data,
        });
        self
    }

    pub fn received(&mut self, channel: Channel, contact_at: Timestamp, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::Received(Received {
                channel,
                contact_at,
                customer: CustomerRecord {
                    customer_id: Some("C-1".into()),
                    match_key: None,
                    personal: None,
                },
                waybill: Some("SF1234567890".into()),
                description: "包裹延误".into(),
                claimed_amount: None,
                evidence: vec![],
                region: "north".into(),
                outlet: None,
                attributes: BTreeMap::new(),
            }),
        )
    }

    fn received_at(&self) -> (Channel, Timestamp, Timestamp) {
        self.events
            .iter()
            .find_map(|e| match &e.data {
                EventData::Received(r) => Some((r.channel, r.contact_at, e.meta.occurred_at)),
                _ => None,
            })
            .expect("received first")
    }

    /// Classified with the deadlines the default policy computes.
    pub fn classified(&mut self, severity: Severity, flags: Flags, at: Timestamp) -> &mut Self {
        let (channel, contact, received) = self.received_at();
        let (deadlines, escalations) = self
            .policy
            .classify_deadlines(&self.cal, severity, flags, channel, contact, received);
        let version = self.policy.version.clone();
        self.push(
            at,
            EventData::Classified(Classified {
                category: Category::Delay,
                severity,
                customer_tier: CustomerTier::Standard,
                flags,
                deadlines,
                escalations,
                policy_version: version,
                deadline_source: Default::default(),
                repeat_of: None,
                calendar_covered: true,
            }),
        )
    }

    pub fn dispatched(&mut self, severity: Severity, at: Timestamp) -> &mut Self {
        let deadlines = self.policy.dispatch_deadlines(&self.cal, severity, at);
        let version = self.policy.version.clone();
        self.push(
            at,
            EventData::Dispatched(Dispatched {
                department: Department("sorting".into()),
                handler: None,
                routing: RoutingDecision::Manual,
                deadlines,
                policy_version: version,
                calendar_covered: true,
            }),
        )
    }

    pub fn responded(&mut self, kind: ResponseKind, at: Timestamp) -> &mut Self {
        let deadlines = if kind == ResponseKind::Final {
            self.policy.final_response_deadlines(&self.cal, Severity::Ordinary, at)
        } else {
            vec![]
        };
        self.push(
            at,
            EventData::Responded(Responded {
                kind,
                text: "已处理".into(),
                basis: None,
                liable: None,
                root_cause: None,
                compensation: None,
                deadlines,
                calendar_covered: true,
            }),
        )
    }

    pub fn on_hold(&mut self, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::OnHold(OnHold {
                reason: HoldReason::AwaitingEvidence,
                note: String::new(),
            }),
        )
    }

    pub fn resumed(&mut self, at: Timestamp) -> &mut Self {
        self.push(at, EventData::Resumed(Resumed { note: String::new() }))
    }

    pub fn escalated(&mut self, level: EscalationLevel, trigger: EscalationTrigger, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::Escalated(Escalated {
                level,
                trigger,
                reason: String::new(),
            }),
        )
    }

    pub fn revisited(&mut self, satisfied: bool, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::Revisited(Revisited {
                solved: satisfied,
                satisfied,
                satisfaction_score: None,
                note: String::new(),
            }),
        )
    }

    pub fn reopened(&mut self, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::Reopened(Reopened {
                reason: String::new(),
                reopen_count: 1,
            }),
        )
    }

    pub fn closed(&mut self, at: Timestamp) -> &mut Self {
        self.push(
            at,
            EventData::Closed(Closed {
                resolution: Resolution::Resolved,
                root_cause: None,
                liable: false,
                note: String::new(),
                without_revisit: None,
            }),
        )
    }
}

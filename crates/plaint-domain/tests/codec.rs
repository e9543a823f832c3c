//! The payload codec (issue 2 item 9): every event type round-trips through postcard; older
//! schema versions are upcast into today's types; broken payloads are typed errors.

use plaint_domain::codec::{self, ClassifiedV1, CodecError, ReceivedV1};
use plaint_domain::event::*;
use plaint_domain::ids::ComplaintId;
use plaint_domain::time::Timestamp;
use std::collections::BTreeMap;

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn compensation() -> Compensation {
    Compensation {
        remedy: Remedy::Payment,
        rule: CompensationRule::UninsuredCapped,
        legal_basis: "Postal Law art. 47".to_owned(),
        ceiling: Some(Money(3_600)),
        granted: Money(3_000),
        actual_loss: Some(Money(5_000)),
        postage: Some(Money(1_200)),
        insured_amount: None,
        full_value: None,
        policy_version: "2026.1".to_owned(),
    }
}

/// One value of every event type, with every optional field filled somewhere.
fn one_of_each() -> Vec<EventData> {
    let deadline = ClockDeadline {
        clock: Clock::Resolution,
        due_at: ts(1_764_000_000_000),
        pausable: true,
    };
    let mut attributes = BTreeMap::new();
    attributes.insert("timely_response".to_owned(), "yes".to_owned());
    vec![
        EventData::Received(Received {
            channel: Channel::Wechat,
            contact_at: ts(1_763_990_000_000),
            customer: CustomerRecord {
                customer_id: Some("C-1".to_owned()),
                match_key: Some("ab".repeat(32)),
                personal: Some(SealedPersonal {
                    key_id: "k1".to_owned(),
                    nonce: [9; 12],
                    ciphertext: vec![1, 2, 3, 250],
                }),
            },
            waybill: Some("EMS1234567890CN".to_owned()),
            description: "快递三天没有更新物流信息，包裹疑似丢失".to_owned(),
            claimed_amount: Some(Money(12_345)),
            evidence: vec![EvidenceRef {
                kind: EvidenceKind::WaybillPhoto,
                reference: "s3://evidence/1.jpg".to_owned(),
            }],
            region: "北京".to_owned(),
            outlet: Some("西城营业部".to_owned()),
            attributes,
        }),
        EventData::Verified(Verified {
            claim: CheckOutcome::Passed,
            evidence: CheckOutcome::Failed,
            history: CheckOutcome::NotApplicable,
            repeat_of: Some(ComplaintId::new("CMP-0").unwrap()),
            duplicate_of: Some(ComplaintId::new("CMP-00").unwrap()),
            flags: Flags {
                repeat: true,
                media: false,
                group: true,
                regulator: false,
            },
            note: "n".to_owned(),
        }),
        EventData::Rejected(Rejected {
            reason: RejectionReason::Abusive,
            note: "x".to_owned(),
        }),
        EventData::MergedAsDuplicate(MergedAsDuplicate {
            into: ComplaintId::new("CMP-7").unwrap(),
            note: String::new(),
        }),
        EventData::Classified(Classified {
            category: Category::InsuredValue,
            severity: Severity::Major,
            customer_tier: CustomerTier::AtRisk,
            flags: Flags::default(),
            deadlines: vec![deadline],
            escalations: vec![EscalationDue {
                rule_id: "ladder.supervisor".to_owned(),
                level: EscalationLevel::Supervisor,
                due_at: ts(5),
            }],
            policy_version: "2026.1".to_owned(),
            deadline_source: DeadlineSource::Recorded,
            repeat_of: Some(ComplaintId::new("CMP-1").unwrap()),
            calendar_covered: true,
        }),
        EventData::Dispatched(Dispatched {
            department: Department("legal".to_owned()),
            handler: Some("h-1".to_owned()),
            routing: RoutingDecision::Rule {
                rule_id: "insured_value".to_owned(),
                matched: "保价".to_owned(),
            },
            deadlines: vec![deadline],
            policy_version: "2026.1".to_owned(),
            calendar_covered: false,
        }),
        EventData::Dispatched(Dispatched {
            department: Department("customer_service".to_owned()),
            handler: None,
            routing: RoutingDecision::Fallback,
            deadlines: vec![],
            policy_version: "2026.1".to_owned(),
            calendar_covered: true,
        }),
        EventData::Redispatched(Redispatched {
            from: Department("legal".to_owned()),
            to: Department("hub".to_owned()),
            handler: None,
            routing: RoutingDecision::Manual,
            reason: "wrong stage".to_owned(),
        }),
        EventData::OnHold(OnHold {
            reason: HoldReason::AwaitingEvidence,
            note: String::new(),
        }),
        EventData::Resumed(Resumed {
            note: "photo in".to_owned(),
        }),
        EventData::Responded(Responded {
            kind: ResponseKind::Final,
            text: "已赔付".to_owned(),
            basis: Some("Postal Law art. 47".to_owned()),
            liable: Some(true),
            root_cause: Some(Stage::Hub),
            compensation: Some(compensation()),
            deadlines: vec![deadline],
            calendar_covered: false,
        }),
        EventData::Compensated(Compensated {
            compensation: compensation(),
        }),
        EventData::Escalated(Escalated {
            level: EscalationLevel::DepartmentHead,
            trigger: EscalationTrigger::Watchdog {
                rule_id: "ladder.department_head".to_owned(),
                due_at: ts(-1),
            },
            reason: "72 h".to_owned(),
        }),
        EventData::Escalated(Escalated {
            level: EscalationLevel::ExternalMediation,
            trigger: EscalationTrigger::Person,
            reason: String::new(),
        }),
        EventData::Revisited(Revisited {
            solved: false,
            satisfied: true,
            satisfaction_score: Some(3),
            note: String::new(),
        }),
        EventData::Reopened(Reopened {
            reason: "unsolved".to_owned(),
            reopen_count: 2,
        }),
        EventData::Closed(Closed {
            resolution: Resolution::Resolved,
            root_cause: None,
            liable: true,
            note: String::new(),
            without_revisit: Some(CloseReason::CustomerUnreachable),
        }),
        EventData::CustomerErased(CustomerErased {
            key_ids: vec!["ck-0123456789abcdef".to_owned()],
            legal_basis: "PIPL art. 47 request 2026-118".to_owned(),
        }),
        EventData::RevisitAttempted(RevisitAttempted {
            attempt: 2,
            note: "电话无人接听".to_owned(),
        }),
        EventData::OwnershipTransferred(OwnershipTransferred {
            from: Some("agent-7".to_owned()),
            to: "agent-9".to_owned(),
            reason: "休假，转交".to_owned(),
        }),
        EventData::SupervisionOpened(SupervisionOpened {
            number: 1,
            deadline: ClockDeadline {
                clock: Clock::Supervision,
                due_at: ts(1_764_100_000_000),
                pausable: false,
            },
            escalate_to: EscalationLevel::CenterDirector,
            note: "限期三日办结".to_owned(),
            policy_version: "plaint-default-2026.2".to_owned(),
        }),
        EventData::SeverityOverridden(SeverityOverridden {
            suggested: Severity::Urgent,
            classified: Severity::Ordinary,
            rules: vec!["sev.item_loss".to_owned()],
            reason: "客户确认包裹已找到".to_owned(),
            policy_version: "plaint-default-2026.2".to_owned(),
        }),
        // Issue 17.
        EventData::CompensationProposed(CompensationProposed {
            compensation_id: "p1".to_owned(),
            compensation: compensation(),
            note: "客户要求赔偿".to_owned(),
        }),
        EventData::CompensationApproved(CompensationApproved {
            compensation_id: "p1".to_owned(),
            role: ApproverRole::DepartmentHead,
            required_role: ApproverRole::Supervisor,
            amount: Money(3_000),
            payment_due_at: ts(1_764_600_000_000),
            deadlines: vec![ClockDeadline {
                clock: Clock::Payment,
                due_at: ts(1_764_600_000_000),
                pausable: false,
            }],
            customer_notice: "赔偿标准：Postal Law art. 47；赔偿金额：30.00 元".to_owned(),
            policy_version: "2026.2".to_owned(),
            overdue_level: Some(EscalationLevel::DepartmentHead),
        }),
        EventData::CompensationPaid(CompensationPaid {
            compensation_id: "p1".to_owned(),
            amount: Money(3_000),
            reference: "FIN-1".to_owned(),
            due_at: ts(1_764_600_000_000),
            late_ms: 60_000,
            settled: false,
            deadlines: vec![ClockDeadline {
                clock: Clock::Payment,
                due_at: ts(1_764_700_000_000),
                pausable: false,
            }],
        }),
        EventData::CompensationRefused(CompensationRefused {
            compensation_id: "p2".to_owned(),
            amount: Money(100),
            reason: "no proof of value".to_owned(),
        }),
        EventData::IncidentOpened(IncidentOpened {
            incident_id: "INC-1".to_owned(),
            title: "网点停业".to_owned(),
            cause: "hub flooding".to_owned(),
            members: vec![IncidentMember {
                name: "王总".to_owned(),
                role: "leader".to_owned(),
            }],
            deadlines: vec![ClockDeadline {
                clock: Clock::IncidentReport,
                due_at: ts(1_764_100_000_000),
                pausable: false,
            }],
            policy_version: "2026.2".to_owned(),
            overdue_level: Some(EscalationLevel::CenterDirector),
        }),
        EventData::IncidentLinked(IncidentLinked {
            incident_id: "INC-1".to_owned(),
            lead: ComplaintId::new("CMP-1").unwrap(),
            note: String::new(),
        }),
        EventData::IncidentProgressReported(IncidentProgressReported {
            incident_id: "INC-1".to_owned(),
            text: "已恢复".to_owned(),
            due_at: ts(1_764_100_000_000),
            late_ms: 0,
            missed: 1,
            deadlines: vec![],
        }),
        EventData::ImprovementRecorded(ImprovementRecorded {
            action_id: "A-1".to_owned(),
            category: Category::Delay,
            root_cause: Some(Stage::Sorting),
            department: Department("sorting".to_owned()),
            action: "增开夜班".to_owned(),
        }),
        EventData::TokenIssued(plaint_domain::access::TokenIssued {
            token_id: "0123456789ab".to_owned(),
            name: "hotline-desk".to_owned(),
            role: plaint_domain::access::Role::Intake,
            hash: "ab".repeat(32),
            rate_limit: Some(plaint_domain::access::RateLimit {
                per_second: 20,
                burst: 100,
            }),
        }),
        EventData::TokenRevoked(plaint_domain::access::TokenRevoked {
            token_id: "0123456789ab".to_owned(),
            reason: "desk replaced".to_owned(),
        }),
        EventData::PersonalDataRevealed(plaint_domain::access::PersonalDataRevealed {
            complaint_id: ComplaintId::new("CMP-2026-000001").unwrap(),
            token_id: "0123456789ab".to_owned(),
            role: plaint_domain::access::Role::Auditor,
            reason: "PIPL access request 2026-31".to_owned(),
        }),
        EventData::DisputeEscalated(DisputeEscalated {
            kind: DisputeKind::Litigation,
            note: "杭州市西湖区人民法院 (2026) 浙0106民初1234号".to_owned(),
        }),
    ]
}

#[test]
fn every_event_type_round_trips_at_its_current_version() {
    let all = one_of_each();
    let mut seen: Vec<&str> = all.iter().map(|d| d.type_name()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        codec::CURRENT_VERSIONS.len(),
        "the sample covers every type"
    );
    for data in all {
        let (name, version, bytes) = codec::encode(&data);
        assert_eq!(name, data.type_name());
        assert_eq!(Some(version), codec::schema_version(name));
        let back = codec::decode(name, version, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, data, "{name} round trip");
        // JSON (the import and export form) round-trips as well.
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<EventData>(&json).unwrap(), data, "{name} JSON");
    }
}

#[test]
fn encode_into_appends_to_the_buffer() {
    let data = one_of_each().remove(1);
    let mut buf = vec![0xEE];
    let (name, version) = codec::encode_into(&data, &mut buf);
    assert_eq!(buf[0], 0xEE);
    assert_eq!(codec::decode(name, version, &buf[1..]).unwrap(), data);
}

#[test]
fn schema_versions_are_known_per_type() {
    assert_eq!(codec::schema_version("Received"), Some(2));
    assert_eq!(codec::schema_version("Classified"), Some(3));
    assert_eq!(codec::schema_version("Verified"), Some(2));
    assert_eq!(codec::schema_version("Dispatched"), Some(2));
    assert_eq!(codec::schema_version("Responded"), Some(2));
    assert_eq!(codec::schema_version("Closed"), Some(2));
    assert_eq!(codec::schema_version("RevisitAttempted"), Some(1));
    assert_eq!(codec::schema_version("OwnershipTransferred"), Some(1));
    assert_eq!(codec::schema_version("SupervisionOpened"), Some(1));
    assert_eq!(codec::schema_version("SeverityOverridden"), Some(1));
    assert_eq!(codec::schema_version("CompensationApproved"), Some(2));
    assert_eq!(codec::schema_version("IncidentOpened"), Some(2));
    assert_eq!(codec::schema_version("DisputeEscalated"), Some(1));
    assert_eq!(codec::schema_version("Opened"), None);
}

/// A `Received` written by schema version 1 (before `outlet` and `attributes` existed). These
/// bytes are a fixture: they must keep decoding forever. They encode:
/// channel hotline, contact_at 1_700_000_000_000 ms, customer {id "C-42", match key none,
/// personal none}, waybill "1234567890", description "延误", claimed 500 fen, no evidence,
/// region "上海". Layout (postcard: varints, zigzag for signed, length-prefixed UTF-8):
#[rustfmt::skip]
const RECEIVED_V1_GOLDEN: &[u8] = &[
    0,                                      // channel: variant 0 = hotline
    128, 160, 171, 254, 249, 98,            // contact_at: zigzag varint of 1_700_000_000_000
    1, 4, 67, 45, 52, 50,                   // customer.customer_id: Some("C-42")
    0,                                      // customer.match_key: None
    0,                                      // customer.personal: None
    1, 10, 49, 50, 51, 52, 53, 54, 55, 56, 57, 48, // waybill: Some("1234567890")
    6, 229, 187, 182, 232, 175, 175,        // description: "延误"
    1, 232, 7,                              // claimed_amount: Some(zigzag 500 = 1000)
    0,                                      // evidence: []
    6, 228, 184, 138, 230, 181, 183,        // region: "上海"
];

fn received_v1_fixture() -> ReceivedV1 {
    ReceivedV1 {
        channel: Channel::Hotline,
        contact_at: ts(1_700_000_000_000),
        customer: CustomerRecord {
            customer_id: Some("C-42".to_owned()),
            match_key: None,
            personal: None,
        },
        waybill: Some("1234567890".to_owned()),
        description: "延误".to_owned(),
        claimed_amount: Some(Money(500)),
        evidence: vec![],
        region: "上海".to_owned(),
    }
}

#[test]
fn received_v1_golden_bytes_are_what_v1_wrote() {
    let bytes = postcard::to_allocvec(&received_v1_fixture()).unwrap();
    assert_eq!(bytes, RECEIVED_V1_GOLDEN, "v1 bytes: {bytes:?}");
}

/// `TokenIssued` as schema version 1 wrote it (before per-token rate limits), spelled out
/// byte by byte: four postcard strings/enums, no `rate_limit`.
fn token_issued_v1_golden() -> Vec<u8> {
    let mut b = vec![12];
    b.extend_from_slice(b"0123456789ab");
    b.push(12);
    b.extend_from_slice(b"hotline-desk");
    b.push(0); // Role::Intake, the first variant
    b.push(64);
    b.extend_from_slice("ab".repeat(32).as_bytes());
    b
}

#[test]
fn token_issued_v1_golden_bytes_are_what_v1_wrote() {
    let v1 = codec::TokenIssuedV1 {
        token_id: "0123456789ab".to_owned(),
        name: "hotline-desk".to_owned(),
        role: plaint_domain::access::Role::Intake,
        hash: "ab".repeat(32),
    };
    assert_eq!(postcard::to_allocvec(&v1).unwrap(), token_issued_v1_golden());
}

/// A token issued before per-token rate limits reads with no limit of its own (the server's
/// default for its role), and re-encodes as version 2.
#[test]
fn token_issued_v1_upcasts_without_a_rate_limit() {
    let data = codec::decode("TokenIssued", 1, &token_issued_v1_golden()).expect("v1 payload decodes");
    let EventData::TokenIssued(t) = data else {
        panic!("decoded as {data:?}")
    };
    assert_eq!(t.token_id, "0123456789ab");
    assert_eq!(t.name, "hotline-desk");
    assert_eq!(t.role, plaint_domain::access::Role::Intake);
    assert_eq!(t.rate_limit, None, "v1 had no rate limit");
    let (name, version, bytes) = codec::encode(&EventData::TokenIssued(t.clone()));
    assert_eq!((name, version), ("TokenIssued", 2));
    assert_eq!(codec::decode(name, version, &bytes).unwrap(), EventData::TokenIssued(t));
}

#[test]
fn rate_limits_parse_rate_and_burst() {
    use plaint_domain::access::RateLimit;
    assert_eq!(
        RateLimit::parse("20").unwrap(),
        RateLimit {
            per_second: 20,
            burst: 20
        }
    );
    assert_eq!(
        RateLimit::parse("20/100").unwrap(),
        RateLimit {
            per_second: 20,
            burst: 100
        }
    );
    assert!(RateLimit::parse("0").unwrap().is_unlimited());
    let e = RateLimit::parse("5/0").unwrap_err();
    assert!(e.contains("burst of 0"), "{e}");
    let e = RateLimit::parse("fast").unwrap_err();
    assert!(e.contains("\"fast\"") && e.contains("RATE/BURST"), "{e}");
}

/// Issue 2 item 9: an older version of an event read into today's type.
#[test]
fn received_v1_upcasts_to_current_received() {
    let data = codec::decode("Received", 1, RECEIVED_V1_GOLDEN).expect("v1 payload decodes");
    let EventData::Received(r) = data else {
        panic!("decoded as {data:?}")
    };
    assert_eq!(r.channel, Channel::Hotline);
    assert_eq!(r.contact_at, ts(1_700_000_000_000));
    assert_eq!(r.customer.customer_id.as_deref(), Some("C-42"));
    assert_eq!(r.waybill.as_deref(), Some("1234567890"));
    assert_eq!(r.description, "延误");
    assert_eq!(r.claimed_amount, Some(Money(500)));
    assert_eq!(r.region, "上海");
    assert_eq!(r.outlet, None, "v1 had no outlet");
    assert!(r.attributes.is_empty(), "v1 had no attributes");
    // Re-encoding writes the current version, which reads back identically.
    let (name, version, bytes) = codec::encode(&EventData::Received(r.clone()));
    assert_eq!((name, version), ("Received", 2));
    assert_ne!(bytes.as_slice(), RECEIVED_V1_GOLDEN);
    assert_eq!(codec::decode(name, version, &bytes).unwrap(), EventData::Received(r));
}

/// A `Classified` written by schema version 1 (before `deadline_source` existed). A fixture: these
/// bytes must keep decoding forever. They encode: category loss, severity urgent, tier vip, flags
/// {repeat}, deadlines [{resolution, 1_700_000_000_000 ms, pausable}], escalations
/// [{"green_channel", supervisor, 1_700_000_000_000 ms}], policy version "2026.1".
#[rustfmt::skip]
const CLASSIFIED_V1_GOLDEN: &[u8] = &[
    1,                                      // category: variant 1 = loss
    1,                                      // severity: variant 1 = urgent
    0,                                      // customer_tier: variant 0 = vip
    1, 0, 0, 0,                             // flags: repeat, media, group, regulator
    1,                                      // deadlines: 1 element
    2,                                      //   clock: variant 2 = resolution
    128, 160, 171, 254, 249, 98,            //   due_at: zigzag varint of 1_700_000_000_000
    1,                                      //   pausable: true
    1,                                      // escalations: 1 element
    13, 103, 114, 101, 101, 110, 95, 99, 104, 97, 110, 110, 101, 108, //   rule_id: "green_channel"
    0,                                      //   level: variant 0 = supervisor
    128, 160, 171, 254, 249, 98,            //   due_at
    6, 50, 48, 50, 54, 46, 49,              // policy_version: "2026.1"
];

fn classified_v1_fixture() -> ClassifiedV1 {
    ClassifiedV1 {
        category: Category::Loss,
        severity: Severity::Urgent,
        customer_tier: CustomerTier::Vip,
        flags: Flags {
            repeat: true,
            ..Flags::default()
        },
        deadlines: vec![ClockDeadline {
            clock: Clock::Resolution,
            due_at: ts(1_700_000_000_000),
            pausable: true,
        }],
        escalations: vec![EscalationDue {
            rule_id: "green_channel".to_owned(),
            level: EscalationLevel::Supervisor,
            due_at: ts(1_700_000_000_000),
        }],
        policy_version: "2026.1".to_owned(),
    }
}

#[test]
fn classified_v1_golden_bytes_are_what_v1_wrote() {
    let bytes = postcard::to_allocvec(&classified_v1_fixture()).unwrap();
    assert_eq!(bytes, CLASSIFIED_V1_GOLDEN, "v1 bytes: {bytes:?}");
}

/// Issue 8 follow-up: a v1 `Classified` (no deadline source) reads as policy-computed deadlines.
#[test]
fn classified_v1_upcasts_to_current_classified() {
    let data = codec::decode("Classified", 1, CLASSIFIED_V1_GOLDEN).expect("v1 payload decodes");
    let EventData::Classified(c) = data else {
        panic!("decoded as {data:?}")
    };
    let v1 = classified_v1_fixture();
    assert_eq!(c.category, Category::Loss);
    assert_eq!(c.severity, Severity::Urgent);
    assert_eq!(c.customer_tier, CustomerTier::Vip);
    assert!(c.flags.repeat && !c.flags.media);
    assert_eq!(c.deadlines, v1.deadlines);
    assert_eq!(c.escalations, v1.escalations);
    assert_eq!(c.policy_version, "2026.1");
    assert_eq!(
        c.deadline_source,
        DeadlineSource::Policy,
        "v1 deadlines came from the policy"
    );
    assert_eq!(c.repeat_of, None, "v1 recorded no repeat at classification");
    assert!(c.calendar_covered, "v1 deadlines read as covered");
    // Re-encoding writes v3 (three more bytes: the source, no repeat link, then calendar
    // coverage), which reads back identically.
    let (name, version, bytes) = codec::encode(&EventData::Classified(c.clone()));
    assert_eq!((name, version), ("Classified", 3));
    assert_eq!(&bytes[..CLASSIFIED_V1_GOLDEN.len()], CLASSIFIED_V1_GOLDEN);
    assert_eq!(bytes.len(), CLASSIFIED_V1_GOLDEN.len() + 3);
    assert_eq!(codec::decode(name, version, &bytes).unwrap(), EventData::Classified(c));
    // A v3 payload is not a v1 payload: three trailing bytes.
    assert!(matches!(
        codec::decode("Classified", 1, &bytes),
        Err(CodecError::TrailingBytes { trailing: 3, .. })
    ));
    assert!(matches!(
        codec::decode("Classified", 4, &bytes),
        Err(CodecError::UnknownVersion { current: 3, .. })
    ));
}

/// A `Classified` written by schema version 2 (before the repeat rule ran at classification):
/// the v1 fixture followed by `deadline_source` = recorded (variant 1). A fixture.
#[test]
fn classified_v2_upcasts_to_current_classified_without_a_repeat_link() {
    let mut v2 = CLASSIFIED_V1_GOLDEN.to_vec();
    v2.push(1); // deadline_source: variant 1 = recorded
    let data = codec::decode("Classified", 2, &v2).expect("v2 payload decodes");
    let EventData::Classified(c) = data else {
        panic!("decoded as {data:?}")
    };
    assert_eq!(c.deadline_source, DeadlineSource::Recorded);
    assert_eq!(c.repeat_of, None);
    assert!(c.flags.repeat, "the flag recorded by v2 stays");
    assert!(matches!(
        codec::decode("Classified", 2, &[v2.as_slice(), &[0]].concat()),
        Err(CodecError::TrailingBytes { trailing: 1, .. })
    ));
}

/// A `Verified` written by schema version 1 (before duplicates were flagged at verification).
/// A fixture: claim passed, evidence failed, history not applicable, repeat_of "CMP-1", flags
/// {repeat}, note "".
#[rustfmt::skip]
const VERIFIED_V1_GOLDEN: &[u8] = &[
    0, 1, 2,                                // claim, evidence, history
    1, 5, 67, 77, 80, 45, 49,               // repeat_of: Some("CMP-1")
    1, 0, 0, 0,                             // flags: repeat, media, group, regulator
    0,                                      // note: ""
];

#[test]
fn verified_v1_golden_bytes_are_what_v1_wrote() {
    let v1 = codec::VerifiedV1 {
        claim: CheckOutcome::Passed,
        evidence: CheckOutcome::Failed,
        history: CheckOutcome::NotApplicable,
        repeat_of: Some(ComplaintId::new("CMP-1").unwrap()),
        flags: Flags {
            repeat: true,
            ..Flags::default()
        },
        note: String::new(),
    };
    assert_eq!(postcard::to_allocvec(&v1).unwrap(), VERIFIED_V1_GOLDEN);
}

/// Issue 11 item 2: a v1 `Verified` reads with no duplicate flagged; today's writes v2.
#[test]
fn verified_v1_upcasts_to_current_verified_without_a_duplicate_flag() {
    let data = codec::decode("Verified", 1, VERIFIED_V1_GOLDEN).expect("v1 payload decodes");
    let EventData::Verified(v) = data else {
        panic!("decoded as {data:?}")
    };
    assert_eq!(v.repeat_of.as_ref().map(|c| c.as_str()), Some("CMP-1"));
    assert_eq!(v.duplicate_of, None);
    assert!(v.flags.repeat);
    let (name, version, bytes) = codec::encode(&EventData::Verified(v.clone()));
    assert_eq!((name, version), ("Verified", 2));
    assert_eq!(codec::decode(name, version, &bytes).unwrap(), EventData::Verified(v));
    assert!(matches!(
        codec::decode("Verified", 3, &bytes),
        Err(CodecError::UnknownVersion { current: 2, .. })
    ));
}

/// Issue 11 (calendar coverage): a v2 `Classified` (the v1 golden bytes plus the deadline source
/// `policy`, as v2 wrote them) reads as `calendar_covered: true`; v3 appends the repeat link
/// (`None`: one byte) and then the flag.
#[test]
fn problem_5_classified_v2_upcasts_to_calendar_covered() {
    let mut v2 = CLASSIFIED_V1_GOLDEN.to_vec();
    v2.push(0); // deadline_source: variant 0 = policy
    let EventData::Classified(c) = codec::decode("Classified", 2, &v2).expect("v2 payload decodes") else {
        panic!("not Classified")
    };
    assert!(c.calendar_covered);
    assert_eq!(c.deadline_source, DeadlineSource::Policy);
    let uncovered = Classified {
        calendar_covered: false,
        ..c
    };
    let (_, v, bytes) = codec::encode(&EventData::Classified(uncovered.clone()));
    assert_eq!(v, 3);
    assert_eq!(&bytes[..v2.len()], v2.as_slice());
    assert_eq!(bytes[v2.len()..], [0, 0], "repeat_of: None, calendar_covered: false");
    assert_eq!(
        codec::decode("Classified", 3, &bytes).unwrap(),
        EventData::Classified(uncovered)
    );
}

/// Issue 11 (calendar coverage): v1 `Dispatched` and `Responded` (no `calendar_covered`) read as
/// covered; their v2 is the v1 bytes plus one flag byte.
#[test]
fn problem_5_dispatched_and_responded_v1_upcast_to_calendar_covered() {
    for data in one_of_each() {
        let (name, v, bytes) = codec::encode(&data);
        if !matches!(name, "Dispatched" | "Responded") {
            continue;
        }
        assert_eq!(v, 2, "{name}");
        let v1 = &bytes[..bytes.len() - 1];
        let back = codec::decode(name, 1, v1).unwrap_or_else(|e| panic!("{name} v1: {e}"));
        let covered = match back {
            EventData::Dispatched(d) => d.calendar_covered,
            EventData::Responded(r) => r.calendar_covered,
            _ => unreachable!(),
        };
        assert!(covered, "{name} v1 reads as covered");
    }
}

#[test]
fn broken_payloads_are_typed_errors() {
    assert!(matches!(
        codec::decode("Opened", 1, &[]),
        Err(CodecError::UnknownType { type_name }) if type_name == "Opened"
    ));
    assert!(matches!(
        codec::decode("Closed", 3, &[]),
        Err(CodecError::UnknownVersion {
            type_name: "Closed",
            schema_version: 3,
            current: 2
        })
    ));
    assert!(matches!(
        codec::decode("Received", 3, &[]),
        Err(CodecError::UnknownVersion { current: 2, .. })
    ));
    assert!(matches!(
        codec::decode("Closed", 1, &[]),
        Err(CodecError::Payload {
            type_name: "Closed",
            ..
        })
    ));
    let (name, version, mut bytes) = codec::encode(&one_of_each().pop().unwrap());
    bytes.push(0);
    assert!(matches!(
        codec::decode(name, version, &bytes),
        Err(CodecError::TrailingBytes { trailing: 1, .. })
    ));
    // Truncation anywhere inside a payload is an error, never a panic or a wrong value.
    for data in one_of_each() {
        let (name, version, bytes) = codec::encode(&data);
        for cut in 0..bytes.len() {
            assert!(
                codec::decode(name, version, &bytes[..cut]).is_err(),
                "{name} cut at {cut}"
            );
        }
    }
    let big = vec![0u8; codec::PAYLOAD_LEN_MAX + 1];
    assert!(matches!(
        codec::decode("Received", 2, &big),
        Err(CodecError::TooLarge { .. })
    ));
}

/// Issue 17 (the closed loop): a `Closed` written by schema version 1, before the reason for a
/// missing revisit was recorded. These bytes are a fixture: resolution resolved (variant 0), root
/// cause Some(hub = variant 3), liable true, note "结案".
#[rustfmt::skip]
const CLOSED_V1_GOLDEN: &[u8] = &[
    0,                          // resolution: variant 0 = resolved
    1, 3,                       // root_cause: Some(hub)
    1,                          // liable: true
    6, 231, 187, 147, 230, 161, 136, // note: "结案"
];

#[test]
fn seed002_closed_v1_upcasts_without_a_close_reason() {
    let v1 = codec::ClosedV1 {
        resolution: Resolution::Resolved,
        root_cause: Some(Stage::Hub),
        liable: true,
        note: "结案".to_owned(),
    };
    assert_eq!(postcard::to_allocvec(&v1).unwrap(), CLOSED_V1_GOLDEN);
    let back = codec::decode("Closed", 1, CLOSED_V1_GOLDEN).unwrap();
    assert_eq!(
        back,
        EventData::Closed(Closed {
            resolution: Resolution::Resolved,
            root_cause: Some(Stage::Hub),
            liable: true,
            note: "结案".to_owned(),
            without_revisit: None,
        })
    );
    // Today's version carries the reason.
    let (name, version, bytes) = codec::encode(&back);
    assert_eq!((name, version), ("Closed", 2));
    assert_eq!(bytes, [CLOSED_V1_GOLDEN, &[0]].concat());
}

/// A `CompensationApproved` written by schema version 1 (before the overdue escalation was
/// recorded): compensation "p1", role supervisor (0), required supervisor (0), 30.00 yuan
/// (zigzag 3000), due 1_000 ms, no deadline, notice "付", policy "v".
#[rustfmt::skip]
const COMPENSATION_APPROVED_V1_GOLDEN: &[u8] = &[
    2, 112, 49,         // compensation_id: "p1"
    0, 0,               // role, required_role: supervisor
    240, 46,            // amount: zigzag varint of 3000
    208, 15,            // payment_due_at: zigzag varint of 1000
    0,                  // deadlines: []
    3, 228, 187, 152,   // customer_notice: "付"
    1, 118,             // policy_version: "v"
];

#[test]
fn overdue_payment_compensation_approved_v1_upcasts_without_an_escalation() {
    let v1 = codec::CompensationApprovedV1 {
        compensation_id: "p1".to_owned(),
        role: ApproverRole::Supervisor,
        required_role: ApproverRole::Supervisor,
        amount: Money(3_000),
        payment_due_at: ts(1_000),
        deadlines: vec![],
        customer_notice: "付".to_owned(),
        policy_version: "v".to_owned(),
    };
    assert_eq!(postcard::to_allocvec(&v1).unwrap(), COMPENSATION_APPROVED_V1_GOLDEN);
    let back = codec::decode("CompensationApproved", 1, COMPENSATION_APPROVED_V1_GOLDEN).unwrap();
    let EventData::CompensationApproved(a) = &back else {
        panic!("{back:?}")
    };
    assert_eq!(a.overdue_level, None);
    assert_eq!(a.amount, Money(3_000));
    // Today's version records the level after the v1 fields.
    let (name, version, bytes) = codec::encode(&back);
    assert_eq!((name, version), ("CompensationApproved", 2));
    assert_eq!(bytes, [COMPENSATION_APPROVED_V1_GOLDEN, &[0]].concat());
}

/// An `IncidentOpened` written by schema version 1: incident "I", title "t", cause "c", one
/// member ("王", "leader"), no deadline, policy "v".
#[rustfmt::skip]
const INCIDENT_OPENED_V1_GOLDEN: &[u8] = &[
    1, 73,                       // incident_id: "I"
    1, 116,                      // title: "t"
    1, 99,                       // cause: "c"
    1, 3, 231, 142, 139, 6, 108, 101, 97, 100, 101, 114, // members: [("王", "leader")]
    0,                           // deadlines: []
    1, 118,                      // policy_version: "v"
];

#[test]
fn missed_incident_report_incident_opened_v1_upcasts_without_an_escalation() {
    let v1 = codec::IncidentOpenedV1 {
        incident_id: "I".to_owned(),
        title: "t".to_owned(),
        cause: "c".to_owned(),
        members: vec![IncidentMember {
            name: "王".to_owned(),
            role: "leader".to_owned(),
        }],
        deadlines: vec![],
        policy_version: "v".to_owned(),
    };
    assert_eq!(postcard::to_allocvec(&v1).unwrap(), INCIDENT_OPENED_V1_GOLDEN);
    let back = codec::decode("IncidentOpened", 1, INCIDENT_OPENED_V1_GOLDEN).unwrap();
    let EventData::IncidentOpened(o) = &back else {
        panic!("{back:?}")
    };
    assert_eq!(o.overdue_level, None);
    let (name, version, bytes) = codec::encode(&back);
    assert_eq!((name, version), ("IncidentOpened", 2));
    assert_eq!(bytes, [INCIDENT_OPENED_V1_GOLDEN, &[0]].concat());
}

//! Property tests of the lifecycle state machine (issue 2, "Tests that must exist"):
//! arbitrary command sequences never panic; the events of every accepted command, replayed
//! through `evolve`, give the same state as the incremental fold; closed is terminal; stream
//! versions are contiguous; a retried command id appends nothing; every produced event survives
//! the payload codec unchanged.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::state::{decide, evolve, ComplaintState, Rejection, Status};
use plaint_domain::*;
use proptest::prelude::*;

/// One step of a generated run.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // test data
enum Op {
    /// A random command of any kind.
    Random(CommandBody),
    /// The command that moves the ticket along its usual path from its current status (so runs
    /// reach the later statuses); `seed` varies its parameters.
    Happy(u8),
    /// Retry a command accepted earlier (index modulo the accepted ones).
    Retry(usize),
}

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    /// Minutes the clock moves before the step.
    advance_min: i64,
    /// Business time relative to now, in minutes (negative: in the past; positive: refused).
    occurred_offset_min: Option<i64>,
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

fn department() -> impl Strategy<Value = Department> {
    prop::sample::select(vec!["sorting", "hub", "legal", "marketing"]).prop_map(|d| Department(d.to_owned()))
}

fn compensation() -> impl Strategy<Value = CompensationRequest> {
    (
        prop::sample::select(vec![Remedy::Payment, Remedy::Coupon, Remedy::PostageRefund]),
        0i64..10_000,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0i64..100_000),
        prop::option::of(1i64..5_000),
    )
        .prop_map(
            |(remedy, amount, insured, total_loss, actual_loss, postage)| CompensationRequest {
                remedy,
                amount: Money(amount),
                insured,
                insured_amount: insured.then_some(Money(8_000)),
                full_value: insured.then_some(Money(20_000)),
                actual_loss: actual_loss.map(Money),
                postage: postage.map(Money),
                total_loss,
                registered_letter: false,
                gross_negligence: false,
            },
        )
}

fn flags() -> impl Strategy<Value = Flags> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(repeat, media, group, regulator)| Flags {
        repeat,
        media,
        group,
        regulator,
    })
}

fn body() -> impl Strategy<Value = CommandBody> {
    let level = prop::sample::select(vec![
        EscalationLevel::Supervisor,
        EscalationLevel::DepartmentHead,
        EscalationLevel::CenterDirector,
        EscalationLevel::ExternalMediation,
    ]);
    let rule = prop::option::of(prop::sample::select(vec![
        "ladder.supervisor",
        "ladder.department_head",
        "breach.first_response",
        "breach.resolution",
        "breach.preliminary_plan",
        "green_channel",
        "nonsense",
    ]));
    let kind = prop::sample::select(vec![
        ResponseKind::Acknowledgement,
        ResponseKind::Progress,
        ResponseKind::PreliminaryPlan,
        ResponseKind::Final,
    ]);
    prop_oneof![
        (
            prop::sample::select(Channel::ALL.to_vec()),
            any::<bool>(),
            prop::option::of("[a-z0-9 -]{0,12}"),
            "[延误丢失破损 a-z]{0,10}",
            prop::option::of(-120i64..120),
        )
            .prop_map(|(channel, personal, waybill, description, contact)| {
                let CommandBody::Receive(mut r) = receive() else {
                    unreachable!()
                };
                r.channel = channel;
                if !personal {
                    r.customer.name = None;
                    r.customer.phone = None;
                    r.customer.address = None;
                }
                r.waybill = waybill;
                r.description = description;
                r.contact_at = contact.map(|m| t0().plus_millis(m * MS_PER_MINUTE));
                CommandBody::Receive(r)
            }),
        (any::<bool>(), flags()).prop_map(|(repeat, flags)| CommandBody::Verify(Verify {
            claim: CheckOutcome::Passed,
            evidence: CheckOutcome::NotApplicable,
            history: CheckOutcome::Passed,
            repeat_of: repeat.then(|| ComplaintId::new("CMP-EARLIER").unwrap()),
            flags,
            note: String::new(),
        })),
        Just(CommandBody::Reject(Reject {
            reason: RejectionReason::Abusive,
            note: String::new(),
        })),
        prop::sample::select(vec!["CMP-SURVIVOR", COMPLAINT]).prop_map(|into| CommandBody::MergeAsDuplicate(
            MergeAsDuplicate {
                into: ComplaintId::new(into).unwrap(),
                note: String::new(),
            }
        )),
        (
            prop::sample::select(Category::ALL.to_vec()),
            severity(),
            flags(),
            any::<bool>()
        )
            .prop_map(|(category, severity, flags, reason)| {
                CommandBody::Classify(Classify {
                    category,
                    severity,
                    customer_tier: CustomerTier::Vip,
                    flags,
                    recorded_deadlines: vec![],
                    deadline_source: Default::default(),
                    severity_reason: reason.then(|| "客户仅咨询".to_owned()),
                })
            }),
        prop::option::of(department()).prop_map(|department| CommandBody::Dispatch(Dispatch {
            department,
            handler: None,
        })),
        department().prop_map(|to| CommandBody::Redispatch(Redispatch {
            to,
            handler: Some("h".to_owned()),
            reason: String::new(),
        })),
        Just(CommandBody::PutOnHold(PutOnHold {
            reason: HoldReason::AwaitingEvidence,
            note: String::new(),
        })),
        Just(CommandBody::Resume(Resume { note: String::new() })),
        (kind, prop::option::of(compensation()), prop::option::of(any::<bool>())).prop_map(
            |(kind, compensation, liable)| CommandBody::Respond(Respond {
                kind,
                text: "t".to_owned(),
                basis: None,
                liable,
                root_cause: None,
                compensation,
            })
        ),
        compensation().prop_map(|compensation| CommandBody::Compensate(Compensate { compensation })),
        (level, rule).prop_map(|(level, rule_id)| CommandBody::Escalate(Escalate {
            level,
            reason: String::new(),
            rule_id: rule_id.map(str::to_owned),
        })),
        (any::<bool>(), any::<bool>(), prop::option::of(0u8..7)).prop_map(|(solved, satisfied, score)| {
            CommandBody::Revisit(Revisit {
                solved,
                satisfied,
                satisfaction_score: score,
                note: String::new(),
            })
        }),
        Just(CommandBody::Reopen(Reopen { reason: String::new() })),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(prop::sample::select(CloseReason::ALL.to_vec()))
        )
            .prop_map(|(liable, without_revisit)| CommandBody::Close(Close {
                root_cause: None,
                liable,
                note: String::new(),
                without_revisit,
            })),
        Just(revisit_attempt()),
        prop::sample::select(vec!["agent-9", "agent-7"]).prop_map(|to| CommandBody::TransferOwnership(
            TransferOwnership {
                to: to.to_owned(),
                reason: "转交".to_owned(),
            }
        )),
        (1i64..(40 * 24 * 60)).prop_map(|m| CommandBody::OpenSupervision(OpenSupervision {
            due_at: t0().plus_millis(m * MS_PER_MINUTE),
            note: "督办".to_owned(),
        })),
        Just(CommandBody::Withdraw(Withdraw {
            note: "客户撤回".to_owned()
        })),
        (prop::sample::select(DisputeKind::ALL.to_vec()), any::<bool>()).prop_map(|(kind, noted)| {
            CommandBody::RecordDisputeEscalation(RecordDisputeEscalation {
                kind,
                note: if noted {
                    "向法院起诉".to_owned()
                } else {
                    String::new()
                },
            })
        }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![
            4 => body().prop_map(Op::Random),
            5 => any::<u8>().prop_map(Op::Happy),
            1 => any::<usize>().prop_map(Op::Retry),
        ],
        prop_oneof![3 => 0i64..120, 1 => 0i64..(4 * 24 * 60)],
        prop::option::weighted(0.1, -600i64..5),
    )
        .prop_map(|(op, advance_min, occurred_offset_min)| Step {
            op,
            advance_min,
            occurred_offset_min,
        })
}

/// The usual next command from a status.
fn happy(status: Status, seed: u8) -> CommandBody {
    let sev = Severity::ALL[usize::from(seed) % 3];
    match status {
        Status::New => receive(),
        Status::Received => verify(),
        Status::Verified => classify(sev),
        Status::Classified => dispatch(None),
        Status::Dispatched if seed % 5 == 0 => CommandBody::PutOnHold(PutOnHold {
            reason: HoldReason::CustomerUnreachable,
            note: String::new(),
        }),
        Status::Dispatched => respond(ResponseKind::Final),
        Status::OnHold => CommandBody::Resume(Resume { note: String::new() }),
        Status::Responded => revisit(seed % 3 != 0, seed % 4 != 0),
        Status::Revisited | Status::Rejected | Status::Merged | Status::Closed => close(),
    }
}

/// The transition table of docs/domain.md §2 as `state`'s module documentation states it, written
/// out independently of the implementation: is `body` legal in `status`?
fn legal(status: Status, body: &CommandBody) -> bool {
    use Status as S;
    let handling = [S::Received, S::Verified, S::Classified, S::Dispatched, S::OnHold];
    match body {
        CommandBody::Receive(_) => status == S::New,
        CommandBody::Verify(_) => status == S::Received,
        CommandBody::Reject(_) | CommandBody::MergeAsDuplicate(_) => [S::Received, S::Verified].contains(&status),
        CommandBody::Classify(_) => status == S::Verified,
        CommandBody::Dispatch(_) => status == S::Classified,
        CommandBody::Redispatch(_) => status == S::Dispatched,
        CommandBody::PutOnHold(_) => [S::Received, S::Verified, S::Classified, S::Dispatched].contains(&status),
        CommandBody::Resume(_) => status == S::OnHold,
        CommandBody::Respond(r) => match r.kind {
            ResponseKind::Acknowledgement => handling.contains(&status),
            ResponseKind::Progress | ResponseKind::PreliminaryPlan => [S::Dispatched, S::OnHold].contains(&status),
            ResponseKind::Final => status == S::Dispatched,
        },
        CommandBody::Compensate(_) => [S::Dispatched, S::OnHold, S::Responded, S::Revisited].contains(&status),
        CommandBody::Escalate(_) => !matches!(status, S::New | S::Closed),
        CommandBody::Revisit(_) => status == S::Responded,
        CommandBody::Reopen(_) => [S::Responded, S::Revisited].contains(&status),
        CommandBody::Close(_) => [S::Responded, S::Revisited, S::Rejected, S::Merged].contains(&status),
        CommandBody::Withdraw(_) => handling.contains(&status),
        CommandBody::RecordRevisitAttempt(_) => status == S::Responded,
        CommandBody::TransferOwnership(_) => !matches!(status, S::New | S::Closed),
        CommandBody::OpenSupervision(_) => !matches!(status, S::New | S::Closed | S::Rejected | S::Merged),
        // Issue 17 (docs/domain.md R-COMP-5 … R-IMP-1).
        CommandBody::ProposeCompensation(_)
        | CommandBody::ApproveCompensation(_)
        | CommandBody::PayCompensation(_)
        | CommandBody::RefuseCompensation(_)
        | CommandBody::RecordImprovement(_) => [S::Dispatched, S::OnHold, S::Responded, S::Revisited].contains(&status),
        CommandBody::OpenIncident(_) | CommandBody::ReportIncidentProgress(_) => {
            [S::Classified, S::Dispatched, S::OnHold, S::Responded, S::Revisited].contains(&status)
        }
        CommandBody::LinkIncident(_) => handling.contains(&status) || [S::Responded, S::Revisited].contains(&status),
        // 纠纷升级 (R-DSP-1): on any open ticket.
        CommandBody::RecordDisputeEscalation(_) => !matches!(status, S::New | S::Closed),
    }
}

/// The status after an event, by the lifecycle of docs/domain.md §2 (a reference model of `evolve`'s
/// status handling). `resume_to` is the status an OnHold left.
fn model_status(status: Status, resume_to: &mut Status, data: &EventData) -> Status {
    match data {
        EventData::Received(_) => Status::Received,
        EventData::Verified(_) => Status::Verified,
        EventData::Rejected(_) => Status::Rejected,
        EventData::MergedAsDuplicate(_) => Status::Merged,
        EventData::Classified(_) => Status::Classified,
        EventData::Dispatched(_) => Status::Dispatched,
        EventData::OnHold(_) => {
            *resume_to = status;
            Status::OnHold
        }
        EventData::Resumed(_) => *resume_to,
        EventData::Responded(r) if r.kind == ResponseKind::Final => Status::Responded,
        EventData::Revisited(_) => Status::Revisited,
        EventData::Reopened(_) => Status::Dispatched,
        EventData::Closed(_) => Status::Closed,
        EventData::Redispatched(_)
        | EventData::Responded(_)
        | EventData::Compensated(_)
        | EventData::Escalated(_)
        | EventData::CustomerErased(_)
        | EventData::RevisitAttempted(_)
        | EventData::OwnershipTransferred(_)
        | EventData::SupervisionOpened(_)
        | EventData::SeverityOverridden(_)
        | EventData::CompensationProposed(_)
        | EventData::CompensationApproved(_)
        | EventData::CompensationPaid(_)
        | EventData::CompensationRefused(_)
        | EventData::IncidentOpened(_)
        | EventData::IncidentLinked(_)
        | EventData::IncidentProgressReported(_)
        | EventData::ImprovementRecorded(_)
        | EventData::TokenIssued(_)
        | EventData::TokenRevoked(_)
        | EventData::PersonalDataRevealed(_)
        | EventData::DisputeEscalated(_) => status,
    }
}

/// Invariants of a state on its own.
fn check_state(s: &ComplaintState, events: &[Event]) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.version, events.len() as u64);
    prop_assert_eq!(s.status == Status::New, events.is_empty());
    prop_assert_eq!(s.hold.is_some(), s.status == Status::OnHold);
    if matches!(s.status, Status::Responded | Status::Revisited) {
        prop_assert!(s.final_response_given());
    }
    if s.status == Status::Closed {
        prop_assert!(s.resolution.is_some());
    }
    prop_assert!(s.held_ms >= 0);
    prop_assert!(s.applied_count() <= events.len());
    Ok(())
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut w = World::new();
    let mut folded = ComplaintState::new();
    let mut accepted: Vec<Command> = Vec::new();
    let mut model = Status::New;
    let mut model_resume_to = Status::New;
    for step in steps {
        w.now = w.now.plus_millis(step.advance_min * MS_PER_MINUTE);
        let before = folded.clone();
        let is_retry;
        let cmd = match step.op {
            Op::Retry(i) if !accepted.is_empty() => {
                is_retry = true;
                accepted[i % accepted.len()].clone()
            }
            Op::Retry(_) => continue,
            Op::Random(body) => {
                is_retry = false;
                w.command(body)
            }
            Op::Happy(seed) => {
                is_retry = false;
                w.command(happy(before.status, seed))
            }
        };
        let mut cmd = cmd;
        if !is_retry {
            cmd.occurred_at = step.occurred_offset_min.map(|m| w.now.plus_millis(m * MS_PER_MINUTE));
        }
        let result = decide(&before, &cmd, &w.ctx());
        if is_retry {
            prop_assert_eq!(result, Ok(vec![]), "a retried command id appends nothing");
            continue;
        }
        if before.status == Status::Closed {
            let closed_terminal = matches!(
                result,
                Err(Rejection::IllegalTransition {
                    status: Status::Closed,
                    ..
                })
            );
            prop_assert!(closed_terminal, "closed is terminal, got {:?}", result);
        }
        let is_illegal = matches!(&result, Err(Rejection::IllegalTransition { .. }));
        prop_assert_eq!(
            is_illegal,
            !legal(before.status, &cmd.body),
            "transition table: {} in {}: {:?}",
            cmd.body.name(),
            before.status,
            result
        );
        if let Err(Rejection::IllegalTransition { status, command, .. }) = &result {
            prop_assert_eq!(*status, before.status);
            prop_assert_eq!(*command, cmd.body.name());
        }
        match result {
            Err(r) => {
                // Every rejection names the complaint.
                prop_assert!(r.to_string().contains(COMPLAINT), "{}", r);
            }
            Ok(events) => {
                for (i, e) in events.iter().enumerate() {
                    prop_assert_eq!(
                        e.meta.stream_version,
                        before.version + 1 + i as u64,
                        "contiguous versions"
                    );
                    prop_assert_eq!(&e.meta.command_id, &cmd.command_id);
                    prop_assert_eq!(&e.meta.complaint_id, &cmd.complaint_id);
                    prop_assert_eq!(e.meta.recorded_at, w.now);
                    prop_assert_eq!(e.meta.occurred_at, cmd.occurred_at.unwrap_or(w.now));
                    prop_assert!(e.meta.occurred_at <= e.meta.recorded_at);
                    let (name, version, bytes) = codec::encode(&e.data);
                    prop_assert_eq!(version, e.meta.schema_version);
                    prop_assert_eq!(
                        &codec::decode(name, version, &bytes).unwrap(),
                        &e.data,
                        "codec round trip"
                    );
                    model = model_status(model, &mut model_resume_to, &e.data);
                    evolve(&mut folded, e);
                    prop_assert_eq!(folded.status, model, "status after {}", e.data.type_name());
                    w.events.push(e.clone());
                }
                if !events.is_empty() {
                    accepted.push(cmd.clone());
                    prop_assert!(folded.has_applied(&cmd.command_id));
                    prop_assert_eq!(decide(&folded, &cmd, &w.ctx()), Ok(vec![]), "immediate retry");
                }
            }
        }
        // Replaying the whole log from scratch gives the incrementally folded state.
        let replayed = ComplaintState::from_events(&w.events);
        prop_assert_eq!(&replayed, &folded);
        check_state(&folded, &w.events)?;
    }
    for (i, e) in w.events.iter().enumerate() {
        prop_assert_eq!(e.meta.stream_version, i as u64 + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_command_sequences_keep_the_state_machine_sound(steps in prop::collection::vec(step(), 0..48)) {
        run(steps)?;
    }
}

/// The generator reaches every status (otherwise the property above would test little).
#[test]
fn the_happy_path_generator_reaches_every_status() {
    let mut w = World::new();
    let mut seen = std::collections::BTreeSet::new();
    for round in 0..4u8 {
        let mut w2 = World::new();
        for seed in 0..40u8 {
            let status = w2.state().status;
            seen.insert(status);
            if status == Status::Closed {
                break;
            }
            w2.advance_hours(1);
            let _ = w2.when(happy(status, seed.wrapping_add(round)));
        }
        seen.insert(w2.state().status);
    }
    w.given_received();
    w.given(CommandBody::Reject(Reject {
        reason: RejectionReason::Other,
        note: String::new(),
    }));
    seen.insert(w.state().status);
    let mut m = World::new();
    m.given_received();
    m.given(CommandBody::MergeAsDuplicate(MergeAsDuplicate {
        into: ComplaintId::new("CMP-SURVIVOR").unwrap(),
        note: String::new(),
    }));
    seen.insert(m.state().status);
    let missing: Vec<_> = Status::ALL.iter().filter(|s| !seen.contains(s)).collect();
    assert!(missing.is_empty(), "statuses never reached: {missing:?}");
}

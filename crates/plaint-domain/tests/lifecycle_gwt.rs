//! Given/when/then tests of the lifecycle (docs/domain.md §2–§7 as implemented by `state::decide` and
//! `state::evolve`). Each test's name starts with the section it checks.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::personal;
use plaint_domain::state::{normalise_waybill, ComplaintState, Rejection, Status};
use plaint_domain::*;

fn illegal(r: Result<Vec<Event>, Rejection>) -> (Status, &'static str) {
    match r {
        Err(Rejection::IllegalTransition {
            complaint,
            status,
            command,
        }) => {
            assert_eq!(complaint.as_str(), COMPLAINT);
            (status, command)
        }
        other => panic!("expected an illegal transition, got {other:?}"),
    }
}

fn invalid_field(r: Result<Vec<Event>, Rejection>) -> &'static str {
    match r {
        Err(Rejection::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// §2 Lifecycle
// ---------------------------------------------------------------------------------------------

/// §2 happy path: Received → Verified → Classified → Dispatched → Responded(final) → Revisited
/// → Closed, with contiguous versions and the metadata every event carries.
#[test]
fn s2_happy_path_reaches_closed_with_full_metadata() {
    let mut w = World::new();
    let steps: Vec<(CommandBody, &str, Status)> = vec![
        (receive(), "Received", Status::Received),
        (verify(), "Verified", Status::Verified),
        (classify(Severity::Ordinary), "Classified", Status::Classified),
        (dispatch(None), "Dispatched", Status::Dispatched),
        (respond(ResponseKind::Final), "Responded", Status::Responded),
        (revisit(true, true), "Revisited", Status::Revisited),
        (close(), "Closed", Status::Closed),
    ];
    for (i, (body, type_name, status)) in steps.into_iter().enumerate() {
        w.advance_hours(1);
        let cmd = w.command(body);
        let produced = w.run(&cmd).unwrap_or_else(|r| panic!("step {type_name}: {r}"));
        assert_eq!(produced.len(), 1, "{type_name}");
        let e = &produced[0];
        assert_eq!(e.data.type_name(), type_name);
        assert_eq!(e.meta.complaint_id.as_str(), COMPLAINT);
        assert_eq!(e.meta.stream_version, i as u64 + 1, "versions are contiguous from 1");
        assert_eq!(e.meta.position, 0, "decide leaves the global position to the store");
        assert_eq!(e.meta.occurred_at, w.now);
        assert_eq!(e.meta.recorded_at, w.now);
        assert_eq!(e.meta.actor, w.actor);
        assert_eq!(e.meta.command_id, cmd.command_id);
        assert_eq!(Some(e.meta.schema_version), codec::schema_version(type_name));
        assert_eq!(w.state().status, status);
    }
    let s = w.state();
    assert_eq!(s.version, 7);
    assert_eq!(s.resolution, Some(Resolution::Resolved));
    let EventData::Closed(closed) = &w.events[6].data else {
        panic!("last event is Closed")
    };
    // Liability and root cause default to those of the final response.
    assert!(closed.liable);
    assert_eq!(closed.root_cause, Some(Stage::Sorting));
}

/// §2: "respond before dispatch" is a typed error naming the complaint, status and command,
/// and nothing is written.
#[test]
fn s2_respond_before_dispatch_is_rejected() {
    for kind in [
        ResponseKind::Final,
        ResponseKind::Progress,
        ResponseKind::PreliminaryPlan,
    ] {
        let mut w = World::new();
        w.given_classified(Severity::Urgent);
        let before = w.events.len();
        let r = w.when(respond(kind));
        let msg = r.as_ref().unwrap_err().to_string();
        assert_eq!(illegal(r), (Status::Classified, "respond"));
        assert!(
            msg.contains(COMPLAINT) && msg.contains("classified") && msg.contains("respond"),
            "{msg}"
        );
        assert_eq!(w.events.len(), before, "nothing is written");
    }
}

/// §2 + §7: an acknowledgement (受理结果反馈) may precede dispatch: the first-response clock runs
/// from receipt (1 h for major tickets). It sets the first-response time.
#[test]
fn s2_acknowledgement_before_dispatch_is_allowed() {
    let mut w = World::new();
    w.given_received();
    w.advance_hours(1);
    let e = w.given(respond(ResponseKind::Acknowledgement));
    assert_eq!(e[0].data.type_name(), "Responded");
    let s = w.state();
    assert_eq!(
        s.status,
        Status::Received,
        "an acknowledgement does not change the status"
    );
    assert_eq!(s.first_response_at, Some(w.now));
}

/// §2: "close before a final response" is a typed error.
#[test]
fn s2_close_before_final_response_is_rejected() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    assert_eq!(illegal(w.when(close())), (Status::Dispatched, "close"));
    // A final response makes it legal; without a revisit it needs a reason (R-LOOP-1).
    w.given(respond(ResponseKind::Final));
    w.given(close_without_revisit(CloseReason::CustomerDeclined));
    assert_eq!(w.state().status, Status::Closed);
}

/// §2: "revisit a rejected ticket" is a typed error; the rejected ticket still closes with its
/// recorded reason.
#[test]
fn s2_rejected_ticket_cannot_be_revisited_and_closes_as_rejected() {
    let mut w = World::new();
    w.given_received();
    w.given(CommandBody::Reject(Reject {
        reason: RejectionReason::NoRelationship,
        note: "not our parcel".to_owned(),
    }));
    assert_eq!(w.state().rejection, Some(RejectionReason::NoRelationship));
    assert_eq!(illegal(w.when(revisit(true, true))), (Status::Rejected, "revisit"));
    // It cannot be found liable.
    let liable_close = CommandBody::Close(Close {
        root_cause: None,
        liable: Some(true),
        note: String::new(),
        without_revisit: None,
    });
    assert_eq!(invalid_field(w.when(liable_close)), "liable");
    let e = w.given(close());
    let EventData::Closed(c) = &e[0].data else { panic!() };
    assert_eq!(c.resolution, Resolution::Rejected);
    assert!(!c.liable);
}

/// §2: any command on a closed ticket is a typed error; nothing is written.
#[test]
fn s2_every_command_on_a_closed_ticket_is_rejected() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    w.given(close_without_revisit(CloseReason::CustomerDeclined));
    let before = w.events.clone();
    for body in one_of_each_command() {
        let name = body.name();
        let (status, command) = illegal(w.when(body));
        assert_eq!((status, command), (Status::Closed, name));
    }
    assert_eq!(w.events, before);
}

/// §2: a command retried with the same command id is recognised and appends nothing, even
/// after the ticket moved on (or closed).
/// Issue 11 (withdraw): the customer withdraws the complaint before a final response; the
/// ticket closes with resolution `withdrawn` (a resolution no command produced before), no
/// liability, from every handling status including on hold.
#[test]
fn s2_withdraw_closes_as_withdrawn_from_every_handling_status() {
    type Given = fn(&mut World);
    let givens: [(&str, Given); 5] = [
        ("received", |w| w.given_received()),
        ("verified", |w| w.given_verified()),
        ("classified", |w| w.given_classified(Severity::Urgent)),
        ("dispatched", |w| w.given_dispatched(Severity::Ordinary)),
        ("on_hold", |w| {
            w.given_dispatched(Severity::Ordinary);
            w.given(CommandBody::PutOnHold(PutOnHold {
                reason: HoldReason::CustomerUnreachable,
                note: String::new(),
            }));
        }),
    ];
    for (status, given) in givens {
        let mut w = World::new();
        given(&mut w);
        assert_eq!(w.state().status.as_str(), status);
        w.advance_hours(2);
        let events = w
            .when(withdraw())
            .unwrap_or_else(|r| panic!("withdraw from {status}: {r}"));
        assert_eq!(events.len(), 1);
        let EventData::Closed(c) = &events[0].data else {
            panic!("withdraw records Closed, got {:?}", events[0].data)
        };
        assert_eq!(c.resolution, Resolution::Withdrawn, "from {status}");
        assert!(!c.liable);
        assert_eq!(c.note, "客户来电撤回投诉");
        let s = w.state();
        assert_eq!((s.status, s.resolution), (Status::Closed, Some(Resolution::Withdrawn)));
        assert!(s.hold.is_none(), "a withdrawal ends a hold");
        assert_eq!(illegal(w.when(close())), (Status::Closed, "close"));
    }
}

/// Issue 11 (withdraw): once a final response stands, declining to go on is an ordinary close;
/// a rejected or merged ticket closes with its own resolution; nothing to withdraw before intake.
#[test]
fn s2_withdraw_after_a_final_response_or_on_rejected_is_illegal() {
    let mut w = World::new();
    assert_eq!(illegal(w.when(withdraw())), (Status::New, "withdraw"));
    w.given_final_response(Severity::Ordinary);
    assert_eq!(illegal(w.when(withdraw())), (Status::Responded, "withdraw"));
    w.given(revisit(true, true));
    assert_eq!(illegal(w.when(withdraw())), (Status::Revisited, "withdraw"));

    let mut w = World::new();
    w.given_received();
    w.given(CommandBody::Reject(Reject {
        reason: RejectionReason::NoClaim,
        note: String::new(),
    }));
    assert_eq!(illegal(w.when(withdraw())), (Status::Rejected, "withdraw"));
}

#[test]
fn s2_retried_command_id_appends_nothing() {
    let mut w = World::new();
    let cmd = w.command(receive());
    assert_eq!(w.run(&cmd).unwrap().len(), 1);
    assert_eq!(w.run(&cmd).unwrap(), vec![], "retry of the same receive");
    w.given(verify());
    assert_eq!(w.run(&cmd).unwrap(), vec![]);
    // A revisit producing two events is recognised as one applied command.
    w.given(classify(Severity::Ordinary));
    w.given(dispatch(None));
    w.given(respond(ResponseKind::Final));
    let rv = w.command(revisit(false, false));
    assert_eq!(w.run(&rv).unwrap().len(), 2);
    assert_eq!(w.run(&rv).unwrap(), vec![]);
    w.given(respond(ResponseKind::Final));
    w.given(close_without_revisit(CloseReason::CustomerDeclined));
    assert_eq!(
        w.run(&cmd).unwrap(),
        vec![],
        "retry on a closed ticket is still a no-op, not an error"
    );
    assert!(w.state().has_applied(&cmd.command_id));
}

/// §2: a command for another complaint is refused.
#[test]
fn s2_command_for_another_complaint_is_rejected() {
    let mut w = World::new();
    w.given_received();
    let mut cmd = w.command(verify());
    cmd.complaint_id = ComplaintId::new("CMP-OTHER").unwrap();
    assert!(matches!(w.run(&cmd), Err(Rejection::WrongComplaint { .. })));
}

/// §2 MergedAsDuplicate: the new ticket links to the surviving one, then closes as merged.
#[test]
fn s2_merged_as_duplicate_links_to_the_surviving_ticket() {
    let mut w = World::new();
    w.given_received();
    let into_self = CommandBody::MergeAsDuplicate(MergeAsDuplicate {
        into: w.id(),
        note: String::new(),
    });
    assert_eq!(invalid_field(w.when(into_self)), "into");
    w.given(CommandBody::MergeAsDuplicate(MergeAsDuplicate {
        into: ComplaintId::new("CMP-2026-000100").unwrap(),
        note: "same waybill via WeChat".to_owned(),
    }));
    let s = w.state();
    assert_eq!(s.status, Status::Merged);
    assert_eq!(s.merged_into.as_ref().map(|c| c.as_str()), Some("CMP-2026-000100"));
    assert_eq!(
        illegal(w.when(classify(Severity::Ordinary))),
        (Status::Merged, "classify")
    );
    let e = w.given(close());
    let EventData::Closed(c) = &e[0].data else { panic!() };
    assert_eq!(c.resolution, Resolution::Merged);
}

/// §2 Redispatched: transfer to another department keeps who held it before.
#[test]
fn s2_redispatch_keeps_the_history_of_who_held_it() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    assert_eq!(w.state().department, Some(Department("sorting".to_owned())));
    let e = w.given(CommandBody::Redispatch(Redispatch {
        to: Department("hub".to_owned()),
        handler: Some("h-9".to_owned()),
        reason: "lost at the hub".to_owned(),
    }));
    let EventData::Redispatched(r) = &e[0].data else {
        panic!()
    };
    assert_eq!(r.from, Department("sorting".to_owned()));
    assert_eq!(r.to, Department("hub".to_owned()));
    assert_eq!(r.routing, RoutingDecision::Manual);
    let s = w.state();
    assert_eq!(s.department, Some(Department("hub".to_owned())));
    assert_eq!(s.redispatch_count, 1);
    // Same department again, or a department the policy does not know: refused.
    let same = CommandBody::Redispatch(Redispatch {
        to: Department("hub".to_owned()),
        handler: None,
        reason: String::new(),
    });
    assert_eq!(invalid_field(w.when(same)), "to");
    let unknown = CommandBody::Redispatch(Redispatch {
        to: Department("marketing".to_owned()),
        handler: None,
        reason: String::new(),
    });
    assert!(
        matches!(w.when(unknown), Err(Rejection::UnknownDepartment { department, .. }) if department == "marketing")
    );
}

/// §2 OnHold/Resumed: the pause is tracked; resuming returns to the status before the hold; a
/// final response while on hold is refused.
#[test]
fn s2_on_hold_and_resumed_track_the_pause() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    w.given(CommandBody::PutOnHold(PutOnHold {
        reason: HoldReason::AwaitingEvidence,
        note: "damage photo".to_owned(),
    }));
    let s = w.state();
    assert_eq!(s.status, Status::OnHold);
    assert_eq!(s.hold.map(|h| h.since), Some(w.now));
    assert_eq!(
        illegal(w.when(respond(ResponseKind::Final))),
        (Status::OnHold, "respond")
    );
    // Progress updates continue while on hold.
    w.given(respond(ResponseKind::Progress));
    w.advance_hours(5);
    w.given(CommandBody::Resume(Resume {
        note: "photo received".to_owned(),
    }));
    let s = w.state();
    assert_eq!(s.status, Status::Dispatched);
    assert_eq!(s.hold, None);
    assert_eq!(s.held_ms, 5 * MS_PER_HOUR);
    assert_eq!(
        illegal(w.when(CommandBody::Resume(Resume { note: String::new() }))).1,
        "resume"
    );
}

/// §2 OnHold before dispatch resumes to the status it left.
#[test]
fn s2_hold_before_dispatch_resumes_to_the_earlier_status() {
    let mut w = World::new();
    w.given_verified();
    w.given(CommandBody::PutOnHold(PutOnHold {
        reason: HoldReason::CustomerUnreachable,
        note: String::new(),
    }));
    w.given(CommandBody::Resume(Resume { note: String::new() }));
    assert_eq!(w.state().status, Status::Verified);
}

/// §2 Reopened: an unsolved or unsatisfied revisit sends the ticket back to handling and counts
/// the reopen (emitted in the same decision as the Revisited event).
#[test]
fn s2_unsatisfied_revisit_reopens_and_counts() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    let e = w.given(revisit(true, false));
    assert_eq!(
        e.iter().map(|e| e.data.type_name()).collect::<Vec<_>>(),
        ["Revisited", "Reopened"]
    );
    assert_eq!(e[1].meta.stream_version, e[0].meta.stream_version + 1);
    let s = w.state();
    assert_eq!(s.status, Status::Dispatched);
    assert_eq!(s.reopen_count, 1);
    assert!(!s.final_response_given());
    assert_eq!(
        s.department,
        Some(Department("sorting".to_owned())),
        "back to the same department"
    );
    // A reopened ticket needs a new final response before it can close.
    assert_eq!(illegal(w.when(close())).1, "close");
    w.given(respond(ResponseKind::Final));
    let e = w.given(revisit(false, true));
    let EventData::Reopened(r) = &e[1].data else { panic!() };
    assert_eq!(r.reopen_count, 2);
    assert_eq!(r.reason, "revisit: unsolved");
}

/// §2 Reopen by hand after a satisfied revisit (the customer calls back).
#[test]
fn s2_reopen_after_a_satisfied_revisit() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    w.given(revisit(true, true));
    assert_eq!(w.state().status, Status::Revisited);
    w.given(CommandBody::Reopen(Reopen {
        reason: "parcel broke after all".to_owned(),
    }));
    assert_eq!(w.state().status, Status::Dispatched);
    assert_eq!(w.state().reopen_count, 1);
}

/// §2 revisit: a satisfaction score outside 1..=5 is refused.
#[test]
fn s2_revisit_score_out_of_range_is_rejected() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    let body = CommandBody::Revisit(Revisit {
        solved: true,
        satisfied: true,
        satisfaction_score: Some(6),
        note: String::new(),
    });
    assert_eq!(invalid_field(w.when(body)), "satisfaction_score");
}

/// §2 Escalated by a person: allowed on any open ticket, records the highest level.
#[test]
fn s2_escalation_by_a_person() {
    let mut w = World::new();
    w.given_received();
    let e = w.given(CommandBody::Escalate(Escalate {
        level: EscalationLevel::ExternalMediation,
        reason: "consumer association".to_owned(),
        rule_id: None,
    }));
    let EventData::Escalated(x) = &e[0].data else { panic!() };
    assert_eq!(x.trigger, EscalationTrigger::Person);
    w.given(CommandBody::Escalate(Escalate {
        level: EscalationLevel::Supervisor,
        reason: String::new(),
        rule_id: None,
    }));
    let s = w.state();
    assert_eq!(s.escalation_count, 2);
    assert_eq!(s.escalation_level, Some(EscalationLevel::ExternalMediation));
}

/// §2: the business time may lie in the past (imported history); recorded_at is `now`. A
/// business time after `now`, or before the receipt, is refused.
#[test]
fn s2_business_time_is_kept_apart_from_recording_time() {
    let mut w = World::new();
    let past = w.now.plus_hours(-24 * 400);
    let mut cmd = w.command(receive());
    cmd.occurred_at = Some(past);
    let e = w.run(&cmd).unwrap();
    assert_eq!(e[0].meta.occurred_at, past);
    assert_eq!(e[0].meta.recorded_at, w.now);
    assert_eq!(w.state().received_at, Some(past));

    let mut early = w.command(verify());
    early.occurred_at = Some(past.plus_millis(-1));
    assert_eq!(invalid_field(w.run(&early)), "occurred_at");
    let mut future = w.command(verify());
    future.occurred_at = Some(w.now.plus_millis(1));
    assert_eq!(invalid_field(w.run(&future)), "occurred_at");
}

// ---------------------------------------------------------------------------------------------
// §3 Intake
// ---------------------------------------------------------------------------------------------

/// §3 + §9: personal fields are sealed with the customer key (never in clear), the matching key
/// is the hash of the normalised phone, the waybill is normalised.
#[test]
fn s3_receive_seals_personal_fields_and_computes_the_match_key() {
    let mut w = World::new();
    let e = w.given(receive());
    let EventData::Received(r) = &e[0].data else { panic!() };
    let sealed = r.customer.personal.as_ref().expect("personal fields are sealed");
    assert_eq!(sealed.key_id, w.key.id);
    let opened = personal::unseal(sealed, &w.key).unwrap();
    assert_eq!(opened.name.as_deref(), Some("张三"));
    assert_eq!(opened.phone.as_deref(), Some("+86 138-0013-8000"));
    assert_eq!(
        r.customer.match_key,
        personal::match_key(&lifecycle_support::MATCH_SECRET, None, Some("13800138000"))
    );
    assert_eq!(r.customer.customer_id.as_deref(), Some("C-42"));
    assert_eq!(r.waybill.as_deref(), Some("EMS12345678CN"));
    let json = serde_json::to_string(&e[0]).unwrap();
    assert!(!json.contains("张三") && !json.contains("13800138000") && !json.contains("金融大街"));
    assert_eq!(w.state().match_key, r.customer.match_key);
}

/// §9: personal fields without a key to seal them with are refused (never written in clear).
#[test]
fn s3_personal_fields_without_a_customer_key_are_refused() {
    let w = World::new();
    let cmd = {
        let mut w2 = World::new();
        w2.command(receive())
    };
    let mut ctx = w.ctx();
    ctx.customer_key = None;
    let r = state::decide(&w.state(), &cmd, &ctx);
    assert!(matches!(r, Err(Rejection::MissingCustomerKey { .. })), "{r:?}");
    // Without personal fields no key is needed; the customer id still gives a match key.
    let CommandBody::Receive(mut rc) = receive() else {
        panic!()
    };
    rc.customer.name = None;
    rc.customer.phone = None;
    rc.customer.address = None;
    let mut cmd = cmd;
    cmd.body = CommandBody::Receive(rc);
    let e = state::decide(&w.state(), &cmd, &ctx).unwrap();
    let EventData::Received(r) = &e[0].data else { panic!() };
    assert_eq!(r.customer.personal, None);
    assert_eq!(
        r.customer.match_key,
        personal::match_key(&lifecycle_support::MATCH_SECRET, Some("C-42"), None)
    );
}

/// §3: contact time and registration time are both kept; contact after registration is refused.
#[test]
fn s3_contact_and_registration_times_are_both_kept() {
    let mut w = World::new();
    let CommandBody::Receive(mut rc) = receive() else {
        panic!()
    };
    rc.contact_at = Some(w.now.plus_hours(-30));
    w.given(CommandBody::Receive(rc.clone()));
    let s = w.state();
    assert_eq!(s.contact_at, Some(w.now.plus_hours(-30)));
    assert_eq!(s.received_at, Some(w.now));

    let mut w = World::new();
    rc.contact_at = Some(w.now.plus_millis(1));
    assert_eq!(invalid_field(w.when(CommandBody::Receive(rc))), "contact_at");
}

/// §3: intake data is validated: description and region required, waybill characters, limits.
#[test]
fn s3_invalid_intake_data_is_refused() {
    type Mutation = Box<dyn Fn(&mut Receive)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|r| r.description = "  ".to_owned()), "description"),
        (Box::new(|r| r.region = String::new()), "region"),
        (Box::new(|r| r.waybill = Some("EMS#1".to_owned())), "waybill"),
        (Box::new(|r| r.claimed_amount = Some(Money(-1))), "claimed_amount"),
        (
            Box::new(|r| r.description = "x".repeat(state::DESCRIPTION_LEN_MAX + 1)),
            "description",
        ),
    ];
    for (mutate, field) in cases {
        let mut w = World::new();
        let CommandBody::Receive(mut rc) = receive() else {
            panic!()
        };
        mutate(&mut rc);
        assert_eq!(invalid_field(w.when(CommandBody::Receive(rc))), field);
        assert!(w.events.is_empty());
    }
    assert_eq!(
        normalise_waybill("sf 1234 5678 9012"),
        Ok(Some("SF123456789012".to_owned()))
    );
}

// ---------------------------------------------------------------------------------------------
// §4 Classification, §8 repeat flag
// ---------------------------------------------------------------------------------------------

/// §4: a media lead raises the `media` flag, which opens the green channel (4 h supervisor).
#[test]
fn s4_media_lead_opens_the_green_channel() {
    let mut w = World::new();
    let CommandBody::Receive(mut rc) = receive() else {
        panic!()
    };
    rc.channel = Channel::MediaLead;
    w.given(CommandBody::Receive(rc));
    w.given(verify());
    let e = w.given(classify(Severity::Major));
    let EventData::Classified(c) = &e[0].data else { panic!() };
    assert!(c.flags.media && c.flags.green_channel());
    let green = c
        .deadlines
        .iter()
        .find(|d| d.clock == Clock::GreenChannel)
        .expect("green channel clock");
    assert_eq!(green.due_at, w.now.plus_hours(4));
    assert!(c.escalations.iter().any(|x| x.rule_id == "green_channel"));
}

/// §4 + §8: a verified repeat (`repeat_of`) raises the `repeat` flag and the green channel.
#[test]
fn s8_repeat_of_raises_the_repeat_flag() {
    let mut w = World::new();
    w.given_received();
    let e = w.given(CommandBody::Verify(Verify {
        claim: CheckOutcome::Passed,
        evidence: CheckOutcome::Passed,
        history: CheckOutcome::Failed,
        repeat_of: Some(ComplaintId::new("CMP-2026-000001").unwrap()),
        flags: Flags::default(),
        note: String::new(),
    }));
    let EventData::Verified(v) = &e[0].data else { panic!() };
    assert!(v.flags.repeat);
    w.given(classify(Severity::Ordinary));
    let s = w.state();
    assert!(s.flags.green_channel());
    assert_eq!(s.repeat_of.as_ref().map(|c| c.as_str()), Some("CMP-2026-000001"));
    assert!(s.deadline(Clock::GreenChannel).is_some());
}

/// §4: classification needs a verified complaint (三核 first).
#[test]
fn s4_classify_before_verification_is_rejected() {
    let mut w = World::new();
    w.given_received();
    assert_eq!(
        illegal(w.when(classify(Severity::Ordinary))),
        (Status::Received, "classify")
    );
}

// ---------------------------------------------------------------------------------------------
// §5 Dispatch
// ---------------------------------------------------------------------------------------------

/// §5: without a department the routing table decides, and the matched rule is recorded.
#[test]
fn s5_dispatch_records_the_routing_rule_that_matched() {
    let mut w = World::new();
    w.given_classified(Severity::Ordinary);
    let e = w.given(dispatch(None));
    let EventData::Dispatched(d) = &e[0].data else { panic!() };
    assert_eq!(d.department, Department("sorting".to_owned()));
    assert_eq!(
        d.routing,
        RoutingDecision::Rule {
            rule_id: "kw.delay".to_owned(),
            matched: "延误".to_owned()
        }
    );
    assert_eq!(d.policy_version, w.policy.version);
}

/// §5: a person may name the department (recorded as manual); it must be one of the policy's.
#[test]
fn s5_manual_dispatch_needs_a_known_department() {
    let mut w = World::new();
    w.given_classified(Severity::Ordinary);
    assert!(matches!(
        w.when(dispatch(Some("marketing"))),
        Err(Rejection::UnknownDepartment { .. })
    ));
    let e = w.given(dispatch(Some("legal")));
    let EventData::Dispatched(d) = &e[0].data else { panic!() };
    assert_eq!(d.routing, RoutingDecision::Manual);
    assert_eq!(w.state().department, Some(Department("legal".to_owned())));
}

// ---------------------------------------------------------------------------------------------
// §6 Compensation
// ---------------------------------------------------------------------------------------------

fn uninsured(amount: i64) -> CompensationRequest {
    CompensationRequest {
        remedy: Remedy::Payment,
        amount: Money(amount),
        insured: false,
        insured_amount: None,
        full_value: None,
        actual_loss: Some(Money(50_000)),
        postage: Some(Money(1_200)),
        total_loss: true,
        registered_letter: false,
        gross_negligence: false,
    }
}

/// §6: compensation riding on the final response records the ceiling, rule, basis and amount.
#[test]
fn s6_final_response_records_compensation_with_rule_and_ceiling() {
    let mut w = World::new();
    w.given_dispatched(Severity::Urgent);
    let CommandBody::Respond(mut r) = respond(ResponseKind::Final) else {
        panic!()
    };
    r.compensation = Some(uninsured(3_600));
    let e = w.given(CommandBody::Respond(r));
    let EventData::Responded(resp) = &e[0].data else {
        panic!()
    };
    let c = resp.compensation.as_ref().expect("compensation recorded");
    assert_eq!(c.rule, CompensationRule::UninsuredCapped);
    assert_eq!(c.ceiling, Some(Money(3_600)), "3 × postage");
    assert_eq!(c.granted, Money(3_600));
    assert!(!c.legal_basis.is_empty());
    assert_eq!(c.policy_version, w.policy.version);
    assert_eq!(w.state().compensated, Money(3_600));
}

/// §6: a grant above the ceiling is refused with the ceiling and the rule.
#[test]
fn s6_compensation_above_the_ceiling_is_refused() {
    let mut w = World::new();
    w.given_dispatched(Severity::Urgent);
    let r = w.when(CommandBody::Compensate(Compensate {
        compensation: uninsured(3_601),
    }));
    assert!(
        matches!(
            r,
            Err(Rejection::CompensationAboveCeiling {
                requested_fen: 3_601,
                ceiling_fen: 3_600,
                rule: CompensationRule::UninsuredCapped,
                ..
            })
        ),
        "{r:?}"
    );
    // Standalone compensation after the final response is allowed and adds up.
    w.given(respond(ResponseKind::Final));
    w.given(CommandBody::Compensate(Compensate {
        compensation: uninsured(1_000),
    }));
    assert_eq!(w.state().compensated, Money(1_000));
    // Compensation rides only on a final response.
    w.given(CommandBody::Reopen(Reopen { reason: String::new() }));
    let CommandBody::Respond(mut r) = respond(ResponseKind::Progress) else {
        panic!()
    };
    r.compensation = Some(uninsured(10));
    assert_eq!(invalid_field(w.when(CommandBody::Respond(r))), "compensation");
}

// ---------------------------------------------------------------------------------------------
// §7 Service levels: deadlines recorded, watchdog escalations exactly once
// ---------------------------------------------------------------------------------------------

/// §7 audit rule: the deadlines are computed at classification from the policy and calendar
/// and recorded with the policy version; a later policy change does not change them on replay.
#[test]
fn s7_classification_records_deadlines_with_the_policy_version() {
    let mut w = World::new();
    w.given_verified();
    let e = w.given(classify(Severity::Ordinary));
    let EventData::Classified(c) = &e[0].data else { panic!() };
    let s = w.state();
    let (want, esc) = w.policy.classify_deadlines(
        &w.calendar,
        Severity::Ordinary,
        Flags::default(),
        Channel::Hotline,
        s.contact_at.unwrap(),
        s.received_at.unwrap(),
    );
    assert_eq!(c.deadlines, want);
    assert_eq!(c.escalations, esc);
    assert_eq!(c.policy_version, w.policy.version);
    assert_eq!(s.policy_version.as_deref(), Some(w.policy.version.as_str()));
    // First response for an ordinary ticket: 24 h after receipt.
    assert_eq!(
        s.deadline(Clock::FirstResponse).map(|d| d.due_at),
        Some(s.received_at.unwrap().plus_hours(24))
    );
    // Change the policy: replaying the log gives the same recorded deadlines.
    w.policy.version = "changed".to_owned();
    w.policy.sla.ordinary.first_response = w.policy.sla.urgent.first_response;
    assert_eq!(w.state().deadlines, want);
}

/// §7 + imports: deadlines recorded by a legacy system are recorded as given.
#[test]
fn s7_recorded_deadlines_of_imported_history_are_kept() {
    let mut w = World::new();
    w.given_verified();
    let given = vec![ClockDeadline {
        clock: Clock::Resolution,
        due_at: t0().plus_hours(100),
        pausable: true,
    }];
    let CommandBody::Classify(mut c) = classify(Severity::Ordinary) else {
        panic!()
    };
    c.recorded_deadlines = given.clone();
    w.given(CommandBody::Classify(c));
    assert_eq!(w.state().deadlines, given);
}

fn classify_recorded(recorded_deadlines: Vec<ClockDeadline>) -> CommandBody {
    let CommandBody::Classify(mut c) = classify(Severity::Major) else {
        panic!()
    };
    c.recorded_deadlines = recorded_deadlines;
    c.deadline_source = DeadlineSource::Recorded;
    CommandBody::Classify(c)
}

/// Issue 8 follow-up (nothing is guessed silently): imported history classified with
/// `deadline_source: recorded` carries exactly the legacy system's deadlines — no policy clocks at
/// classification, dispatch or final response, and no watchdog escalations.
#[test]
fn s7_recorded_deadlines_only_for_imported_history() {
    let mut w = World::new();
    w.given_verified();
    let given = vec![ClockDeadline {
        clock: Clock::Resolution,
        due_at: t0().plus_hours(100),
        pausable: true,
    }];
    let e = w.given(classify_recorded(given.clone()));
    let EventData::Classified(c) = &e[0].data else { panic!() };
    assert_eq!(c.deadlines, given);
    assert!(c.escalations.is_empty(), "no watchdog plan: {:?}", c.escalations);
    assert_eq!(c.deadline_source, DeadlineSource::Recorded);
    assert_eq!(w.state().deadline_source, DeadlineSource::Recorded);
    assert_eq!(w.state().deadline(Clock::FirstResponse), None);

    w.advance_hours(2);
    let e = w.given(dispatch(None));
    let EventData::Dispatched(d) = &e[0].data else { panic!() };
    assert!(d.deadlines.is_empty(), "dispatch added {:?}", d.deadlines);
    // Long after every policy rung would be due, the watchdog proposes nothing and a watchdog
    // escalation appends nothing.
    w.advance_hours(24 * 30);
    assert!(watchdog::due_escalations(&w.events, w.now).is_empty());
    assert!(w
        .when(escalate_watchdog("ladder.supervisor", EscalationLevel::Supervisor))
        .expect("an unplanned rung is not an error")
        .is_empty());
    let e = w.given(respond(ResponseKind::Final));
    let EventData::Responded(r) = &e[0].data else { panic!() };
    assert!(r.deadlines.is_empty(), "final response added {:?}", r.deadlines);
    w.given(close());
    let s = w.state();
    assert_eq!(s.status, Status::Closed);
    assert_eq!(s.deadlines, given, "only the recorded deadline, through to the close");
}

/// A legacy file without a due date: a `recorded` classification records no deadline at all
/// (rather than the policy's), and stays without one after dispatch.
#[test]
fn s7_recorded_source_without_deadlines_records_none() {
    let mut w = World::new();
    w.given_verified();
    let e = w.given(classify_recorded(vec![]));
    let EventData::Classified(c) = &e[0].data else { panic!() };
    assert!(c.deadlines.is_empty() && c.escalations.is_empty());
    w.given(dispatch(None));
    assert!(w.state().deadlines.is_empty());
    // A live ticket of the same severity gets the policy's clocks (the default source).
    let mut live = World::new();
    live.given_dispatched(Severity::Major);
    assert_eq!(live.state().deadline_source, DeadlineSource::Policy);
    assert!(live.state().deadline(Clock::FirstResponse).is_some());
    assert!(live.state().deadline(Clock::Investigation).is_some());
}

/// The import format: `deadline_source` defaults to `policy` and reads `recorded` in snake_case.
#[test]
fn s7_deadline_source_in_the_import_format() {
    let line = r#"{"command_id":"x:1","complaint_id":"X-1","actor":"system","command":"classify","category":"delay","severity":"ordinary"}"#;
    let cmd: Command = serde_json::from_str(line).unwrap();
    let CommandBody::Classify(c) = cmd.body else { panic!() };
    assert_eq!(c.deadline_source, DeadlineSource::Policy);
    let line = line.replace(r#""severity""#, r#""deadline_source":"recorded","severity""#);
    let cmd: Command = serde_json::from_str(&line).unwrap();
    let CommandBody::Classify(c) = cmd.body else { panic!() };
    assert_eq!(c.deadline_source, DeadlineSource::Recorded);
    assert!(serde_json::from_str::<Command>(&line.replace("recorded", "guessed")).is_err());
}

/// §7: dispatch records the clocks that run from dispatch; the final response the revisit clock.
#[test]
fn s7_dispatch_and_final_response_record_their_clocks() {
    let mut w = World::new();
    w.given_classified(Severity::Ordinary);
    w.advance_hours(2);
    w.given(dispatch(None));
    let s = w.state();
    assert_eq!(
        s.deadline(Clock::Investigation).map(|d| d.due_at),
        Some(w.now.plus_hours(24))
    );
    assert_eq!(
        s.deadline(Clock::PreliminarySolution).map(|d| d.due_at),
        Some(w.now.plus_hours(48))
    );
    w.advance_hours(3);
    w.given(respond(ResponseKind::Final));
    assert_eq!(
        w.state().deadline(Clock::Revisit).map(|d| d.due_at),
        Some(w.now.plus_hours(72))
    );
}

/// §7 escalation ladder: an ordinary ticket unresolved 48 h after receipt escalates to the
/// supervisor, 72 h to the department head; each exactly once however often it is asked; never
/// before it is due.
#[test]
fn s7_watchdog_escalates_each_rung_exactly_once_when_due() {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    let received = w.state().received_at.unwrap();
    w.now = received.plus_hours(48).plus_millis(-1);
    let sup = || escalate_watchdog("ladder.supervisor", EscalationLevel::Supervisor);
    assert_eq!(w.when(sup()).unwrap(), vec![], "not due yet");
    w.now = received.plus_hours(48);
    let e = w.when(sup()).unwrap();
    assert_eq!(e.len(), 1);
    let EventData::Escalated(x) = &e[0].data else { panic!() };
    assert_eq!(x.level, EscalationLevel::Supervisor);
    assert_eq!(
        x.trigger,
        EscalationTrigger::Watchdog {
            rule_id: "ladder.supervisor".to_owned(),
            due_at: received.plus_hours(48)
        }
    );
    for _ in 0..3 {
        w.advance_hours(1);
        assert_eq!(w.when(sup()).unwrap(), vec![], "exactly once");
    }
    // A rung that is not planned for this ticket never fires.
    assert_eq!(
        w.when(escalate_watchdog("breach.resolution", EscalationLevel::DepartmentHead))
            .unwrap(),
        vec![]
    );
    w.now = received.plus_hours(72);
    let dh = w
        .when(escalate_watchdog(
            "ladder.department_head",
            EscalationLevel::DepartmentHead,
        ))
        .unwrap();
    assert_eq!(dh.len(), 1);
    let s = w.state();
    assert_eq!(s.escalations_applied, ["ladder.supervisor", "ladder.department_head"]);
    assert_eq!(s.escalation_level, Some(EscalationLevel::DepartmentHead));
}

/// §7: urgent tickets escalate at their breach. A level differing from the plan is refused.
/// Once the final response stands, the ladder (for unresolved tickets) has nothing to escalate.
#[test]
fn s7_watchdog_breach_rules_and_resolved_tickets() {
    let mut w = World::new();
    w.given_dispatched(Severity::Urgent);
    let s = w.state();
    let fr = s.deadline(Clock::FirstResponse).unwrap().due_at;
    w.now = fr;
    assert_eq!(
        invalid_field(w.when(escalate_watchdog(
            "breach.first_response",
            EscalationLevel::CenterDirector
        ))),
        "level"
    );
    assert_eq!(
        w.when(escalate_watchdog("breach.first_response", EscalationLevel::Supervisor))
            .unwrap()
            .len(),
        1
    );

    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    w.now = w.state().received_at.unwrap().plus_hours(100);
    assert_eq!(
        w.when(escalate_watchdog("ladder.supervisor", EscalationLevel::Supervisor))
            .unwrap(),
        vec![],
        "resolved: the ladder does not escalate"
    );
    // After a reopen the ticket is unresolved again and the ladder applies.
    w.given(CommandBody::Reopen(Reopen { reason: String::new() }));
    assert_eq!(
        w.when(escalate_watchdog("ladder.supervisor", EscalationLevel::Supervisor))
            .unwrap()
            .len(),
        1
    );
}

/// §7: the watchdog's proposals and `decide` agree: every escalation `due_escalations` returns
/// is appended by `decide`, and asking again proposes nothing (exactly once end to end).
#[test]
fn s7_watchdog_proposals_are_appended_exactly_once() {
    for severity in Severity::ALL {
        let mut w = World::new();
        let CommandBody::Receive(mut rc) = receive() else {
            panic!()
        };
        rc.channel = Channel::MediaLead; // green channel too
        w.given(CommandBody::Receive(rc));
        w.given(verify());
        // A media lead suggests major (R-SEV-1): a lower tier records why.
        w.given(classify_because(severity, "媒体线索经核实为误报"));
        w.given(dispatch(None));
        let planned = w.state().escalations_planned.len();
        assert!(planned >= 2, "{severity:?}: {planned} planned");
        let mut appended = 0;
        for _ in 0..10 {
            w.advance_hours(24);
            for due in watchdog::due_escalations(&w.events, w.now) {
                let e = w.when(escalate_watchdog(&due.rule_id, due.level)).unwrap();
                assert_eq!(e.len(), 1, "{severity:?}: {} proposed but not appended", due.rule_id);
                appended += 1;
            }
        }
        assert_eq!(appended, w.state().escalations_applied.len());
        assert!(appended >= 1, "{severity:?}");
        assert!(watchdog::due_escalations(&w.events, w.now).is_empty());
    }
}

/// §3 + §7: a counter complaint must be registered within 1 hour of contact; other channels
/// within 1 working day. The registration deadline runs from the contact time.
#[test]
fn s3_counter_registration_deadline_runs_from_contact() {
    let mut w = World::new();
    let CommandBody::Receive(mut rc) = receive() else {
        panic!()
    };
    rc.channel = Channel::Counter;
    rc.contact_at = Some(w.now.plus_millis(-20 * MS_PER_MINUTE));
    w.given(CommandBody::Receive(rc));
    w.given(verify());
    w.given(classify(Severity::Ordinary));
    let s = w.state();
    assert_eq!(
        s.deadline(Clock::Registration).map(|d| d.due_at),
        Some(w.now.plus_millis(40 * MS_PER_MINUTE))
    );
}

/// §9 crypto-shredding: once the customer key is destroyed, the events still replay to the same
/// state (the matching key survives, so repeat figures do not change) while the personal fields
/// can no longer be read.
#[test]
fn s9_erasure_by_key_destruction_keeps_replay_and_matching() {
    let mut w = World::new();
    w.given_final_response(Severity::Ordinary);
    let before = w.state();
    // "Destroy" the key: nothing in the state or the replay depends on it.
    w.key.secret = [0; 32];
    let after = ComplaintState::from_events(&w.events);
    assert_eq!(after, before);
    assert_eq!(
        after.match_key,
        personal::match_key(&lifecycle_support::MATCH_SECRET, None, Some("13800138000"))
    );
    let EventData::Received(r) = &w.events[0].data else {
        panic!()
    };
    let sealed = r.customer.personal.as_ref().unwrap();
    assert!(
        personal::unseal(sealed, &w.key).is_err(),
        "personal fields read as erased"
    );
}

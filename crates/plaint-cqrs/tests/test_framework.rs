//! cqrs-es's own given/when/then `TestFramework` over plaint's complaint aggregate: a cqrs-es
//! user sees exactly the events and rejections plaint's `decide` gives (docs/domain.md §2).

mod support;

use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use plaint_cqrs::{ComplaintAggregate, ComplaintEvent};
use plaint_domain::state::{decide, ComplaintState, Context, Rejection, Status};
use plaint_domain::{codec, Command, EventData};
use support::*;

type Framework = TestFramework<ComplaintAggregate>;

/// Runs the lifecycle through plaint's own `decide` (the reference), one command per hour.
fn reference_events(commands: &[Command]) -> Vec<Vec<ComplaintEvent>> {
    let mut state = ComplaintState::new();
    let mut out = Vec::new();
    for (i, cmd) in commands.iter().enumerate() {
        let services = services_at(t0().plus_hours(i as i64));
        let key = match &cmd.body {
            plaint_domain::CommandBody::Receive(r) => plaint_domain::personal::match_key(
                services.keys.match_secret(),
                r.customer.customer_id.as_deref(),
                r.customer.phone.as_deref(),
            )
            .map(|k| services.keys.key_for(&k)),
            _ => None,
        };
        let ctx = Context {
            now: (services.clock)(),
            policy: &services.policy,
            calendar: &services.calendar,
            customer_key: key.as_ref(),
            match_secret: services.keys.match_secret(),
        };
        let events = decide(&state, cmd, &ctx).expect("the reference accepts the lifecycle");
        for e in &events {
            plaint_domain::state::evolve(&mut state, e);
        }
        out.push(events.into_iter().map(ComplaintEvent).collect());
    }
    out
}

#[test]
fn s2_main_lifecycle_gives_the_same_events_as_plaint() {
    let commands = lifecycle();
    let expected = reference_events(&commands);
    let mut given: Vec<ComplaintEvent> = Vec::new();
    for (i, cmd) in commands.into_iter().enumerate() {
        Framework::with(services_at(t0().plus_hours(i as i64)))
            .given(given.clone())
            .when(cmd)
            .then_expect_events(expected[i].clone());
        given.extend(expected[i].clone());
    }
    let names: Vec<String> = given.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        names,
        [
            "Received",
            "Verified",
            "Classified",
            "Dispatched",
            "Responded",
            "Revisited",
            "Closed"
        ]
    );
}

#[test]
fn s2_respond_before_dispatch_is_the_same_typed_rejection() {
    let events = reference_events(&lifecycle()[..3]).concat();
    let complaint = plaint_domain::ComplaintId::new(COMPLAINT).unwrap();
    Framework::with(services_at(t0().plus_hours(5)))
        .given(events)
        .when(respond_final())
        .then_expect_error(Rejection::IllegalTransition {
            complaint,
            status: Status::Classified,
            command: "respond",
        });
}

#[test]
fn s2_close_before_final_response_is_rejected() {
    let events = reference_events(&lifecycle()[..4]).concat();
    let err = Framework::with(services_at(t0().plus_hours(5)))
        .given(events)
        .when(close())
        .inspect_result()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Rejection::IllegalTransition {
                status: Status::Dispatched,
                command: "close",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s2_closed_is_terminal() {
    let events = reference_events(&lifecycle()).concat();
    let err = Framework::with(services_at(t0().plus_hours(9)))
        .given(events)
        .when(command(
            "c8-reopen",
            serde_json::json!({ "command": "reopen", "reason": "客户再次来电" }),
        ))
        .inspect_result()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Rejection::IllegalTransition {
                status: Status::Closed,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s2_retried_command_id_appends_nothing() {
    let events = reference_events(&lifecycle()[..2]).concat();
    Framework::with(services_at(t0().plus_hours(3)))
        .given(events)
        .when(verify())
        .then_expect_events(vec![]);
}

#[test]
fn event_names_and_versions_match_plaints_catalogue() {
    for e in reference_events(&lifecycle()).concat() {
        assert_eq!(e.event_type(), e.0.data.type_name());
        let version = codec::schema_version(e.0.data.type_name()).expect("catalogued type");
        assert_eq!(e.event_version(), version.to_string());
    }
}

#[test]
fn classified_event_records_deadlines_and_policy_version() {
    let events = reference_events(&lifecycle()[..2]).concat();
    let produced = Framework::with(services_at(t0().plus_hours(2)))
        .given(events)
        .when(classify())
        .inspect_result()
        .expect("classify is accepted");
    let EventData::Classified(c) = &produced[0].0.data else {
        panic!("Classified expected")
    };
    assert!(
        !c.deadlines.is_empty(),
        "deadlines are recorded in the event (docs/domain.md §7)"
    );
    assert!(!c.policy_version.is_empty());
}

#[test]
fn aggregate_state_survives_a_snapshot_round_trip() {
    let mut agg = ComplaintAggregate::default();
    for e in reference_events(&lifecycle()[..4]).concat() {
        agg.apply(e);
    }
    assert_eq!(agg.state().status, Status::Dispatched);
    let json = serde_json::to_string(&agg).unwrap();
    let back: ComplaintAggregate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, agg);
}

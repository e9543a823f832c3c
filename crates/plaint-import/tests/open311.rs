//! The JSON variant: Open311 requests whose notes become the steps of the history.

use plaint_domain::{CommandBody, ResponseKind, Timestamp};
use plaint_import::open311::{plan_open311_json, Open311Mapping};
use plaint_import::{AnomalyKind, Decision, StatusMeaning};
use std::path::PathBuf;

fn mapping() -> Open311Mapping {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/mappings/chicago_open311.toml");
    Open311Mapping::from_toml_str(&std::fs::read_to_string(path).unwrap()).expect("mapping parses")
}

const ONE: &str = r#"[{
  "service_request_id": "14-1", "status": "closed", "service_name": "Pothole in Street",
  "agency_responsible": "CDOT", "requested_datetime": "2014-05-09T19:02:21-05:00",
  "extended_attributes": {"channel": "phone", "ward": "21"},
  "notes": [
    {"datetime": "2014-05-09T19:02:21-05:00", "summary": "Request opened", "type": "opened"},
    {"datetime": "2014-07-29T14:11:00-05:00", "summary": "Final Outcome", "description": "Survey", "type": "activity"},
    {"datetime": "2014-07-30T15:18:47-05:00", "summary": "Follow-on created", "type": "follow_on_created"},
    {"datetime": "2015-10-10T10:15:40-05:00", "summary": "Request closed", "type": "closed"}
  ]
}]"#;

#[test]
fn notes_become_the_history() {
    let plan = plan_open311_json(&mapping(), ONE.as_bytes(), None).unwrap();
    assert!(plan.anomalies.is_empty(), "{:#?}", plan.anomalies);
    let t = &plan.tickets[0];
    assert_eq!(t.outcome, StatusMeaning::Closed);
    let names: Vec<&str> = t.commands.iter().map(|c| c.body.name()).collect();
    assert_eq!(
        names,
        ["receive", "verify", "classify", "dispatch", "respond", "respond", "respond", "close"]
    );
    match &t.commands[2].body {
        CommandBody::Classify(c) => {
            // The format has no due date: no recorded deadline, and no policy clocks either.
            assert!(c.recorded_deadlines.is_empty());
            assert_eq!(c.deadline_source, plaint_domain::DeadlineSource::Recorded);
        }
        other => panic!("classify expected, got {other:?}"),
    }
    let at = |s: &str| Some(Timestamp::parse_rfc3339(s).unwrap());
    assert_eq!(
        t.commands[3].occurred_at,
        at("2014-07-29T14:11:00-05:00"),
        "dispatched at the first note"
    );
    match &t.commands[4].body {
        CommandBody::Respond(r) => {
            assert_eq!(r.kind, ResponseKind::Progress);
            assert_eq!(r.text, "Final Outcome: Survey");
        }
        other => panic!("respond expected, got {other:?}"),
    }
    assert_eq!(t.commands[4].command_id.as_str(), "import:chicago311:14-1:note-2");
    match &t.commands[6].body {
        CommandBody::Respond(r) => assert_eq!(r.kind, ResponseKind::Final),
        other => panic!("final respond expected, got {other:?}"),
    }
    assert_eq!(t.commands[7].occurred_at, at("2015-10-10T10:15:40-05:00"));
}

#[test]
fn a_closed_request_without_a_closing_note_and_an_unknown_note_type() {
    let json = ONE
        .replace(r#""type": "closed""#, r#""type": "archived""#)
        .replace(r#""service_request_id": "14-1""#, r#""service_request_id": "14-2""#);
    let plan = plan_open311_json(&mapping(), json.as_bytes(), None).unwrap();
    let kinds: Vec<(AnomalyKind, u64, Decision)> =
        plan.anomalies.iter().map(|a| (a.kind, a.line, a.decision)).collect();
    assert_eq!(
        kinds,
        [
            (AnomalyKind::UnknownValue, 1, Decision::Reject),
            (AnomalyKind::ClosedWithoutCloseDate, 1, Decision::Reject)
        ]
    );
    assert_eq!(plan.rows_rejected, 1);
}

#[test]
fn the_chicago_file_plans_every_request() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/chicago_open311_with_notes.json");
    let plan = plan_open311_json(&mapping(), std::fs::File::open(path).unwrap(), None).unwrap();
    assert_eq!(plan.rows_read, 50);
    assert_eq!(plan.rows_rejected, 0, "{}", plan.summary());
    let closed = plan
        .tickets
        .iter()
        .filter(|t| t.outcome == StatusMeaning::Closed)
        .count();
    assert_eq!(closed, 49);
    // 61 activity + 52 follow-on created + 51 follow-on closed notes, minus those after a close.
    let progress: usize = plan
        .tickets
        .iter()
        .flat_map(|t| &t.commands)
        .filter(|c| matches!(&c.body, CommandBody::Respond(r) if r.kind == ResponseKind::Progress))
        .count();
    assert!(progress > 100 && progress <= 61 + 52 + 51, "{progress}");
}

#[test]
fn an_open311_mapping_error_names_its_key() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/mappings/chicago_open311.toml"),
    )
    .unwrap()
    .replace(
        "closed = \"closed\"\n\n[attributes]",
        "closed = \"transferred\"\n\n[attributes]",
    );
    let err = Open311Mapping::from_toml_str(&text).unwrap_err();
    assert_eq!(err.key(), Some("status.closed"), "{err}");
}

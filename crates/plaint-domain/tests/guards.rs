//! Issue 11, "guards": calendar coverage (problem 5) and implausible input (problem 6), decided
//! by `state::decide` from the policy's numbers.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::policy::UncoveredYear;
use plaint_domain::state::{Rejection, Status};
use plaint_domain::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

/// A world whose clock is at `now`, with the complaint received and verified there.
fn verified_at(now: &str) -> World {
    let mut w = World::new();
    w.now = at(now);
    w.given_verified();
    w
}

/// Problem 5: a ticket classified on 2026-12-30 needs working days of 2027, which the shipped
/// calendar (2025, 2026) does not cover: refused by default, naming the year and the file.
#[test]
fn problem_5_deadline_in_an_uncovered_year_is_refused_naming_the_year_and_file() {
    let mut w = verified_at("2026-12-30T10:00:00+08:00");
    let err = w.when(classify(Severity::Ordinary)).unwrap_err();
    let Rejection::CalendarNotCovered {
        year, command, ref add, ..
    } = err
    else {
        panic!("expected CalendarNotCovered, got {err:?}")
    };
    assert_eq!((year, command), (2027, "classify"));
    assert!(add.contains("cn-2027.toml"), "{add}");
    let text = err.to_string();
    assert!(
        text.contains("2027") && text.contains("cn-2027.toml") && text.contains(COMPLAINT),
        "{text}"
    );
    assert_eq!(w.state().status, Status::Verified, "nothing recorded");
}

/// Problem 5: with `calendar.uncovered_year = "weekends_only"` the deadline is computed with the
/// weekend rule and recorded as not covered; the state says so.
#[test]
fn problem_5_weekends_only_switch_records_calendar_covered_false() {
    let mut w = verified_at("2026-12-30T10:00:00+08:00");
    w.policy.calendar.uncovered_year = UncoveredYear::WeekendsOnly;
    let events = w.when(classify(Severity::Ordinary)).unwrap();
    let EventData::Classified(c) = &events[0].data else {
        panic!("Classified expected")
    };
    assert!(!c.calendar_covered);
    // 3 working days from Wed 30 Dec 2026 10:00 with 1 Jan 2027 counted as a working day
    // (weekends only): Thu 31, Fri 1, Mon 4 → due Mon 4 Jan 10:00.
    let resolution = c.deadlines.iter().find(|d| d.clock == Clock::Resolution).unwrap();
    assert_eq!(resolution.due_at, at("2027-01-04T10:00:00+08:00"));
    assert!(w.state().calendar_uncovered);
    // The SLA evaluation (what reports show per ticket) says so too.
    let sla = plaint_domain::sla::evaluate(&w.events, w.now, &w.policy);
    assert!(!sla.calendar_covered);
}

/// Problem 5: inside the covered years nothing changes (recorded as covered), and clocks in
/// elapsed time never need the calendar, so a dispatch on 2026-12-31 is fine (its clocks are
/// in hours in the default policy).
#[test]
fn problem_5_covered_years_and_elapsed_time_clocks_are_not_refused() {
    let mut w = verified_at("2026-12-01T10:00:00+08:00");
    let events = w.when(classify(Severity::Urgent)).unwrap();
    let EventData::Classified(c) = &events[0].data else {
        panic!("Classified expected")
    };
    assert!(c.calendar_covered);
    w.now = at("2026-12-31T20:00:00+08:00");
    let events = w.when(dispatch(None)).unwrap();
    let EventData::Dispatched(d) = &events[0].data else {
        panic!("Dispatched expected")
    };
    assert!(d.calendar_covered);
    assert!(!w.state().calendar_uncovered);
    assert!(plaint_domain::sla::evaluate(&w.events, w.now, &w.policy).calendar_covered);
}

/// Problem 6: business times in year 0000 or 1800 are refused, naming command and field.
#[test]
fn problem_6_implausible_occurred_at_is_refused_naming_command_and_field() {
    for when in ["0000-01-01T00:00:00Z", "1800-06-01T00:00:00Z"] {
        let mut w = World::new();
        let mut cmd = w.command(receive());
        cmd.occurred_at = Some(at(when));
        let err = w.run(&cmd).unwrap_err();
        match &err {
            Rejection::Invalid {
                command, field, reason, ..
            } => {
                assert_eq!((*command, *field), ("receive", "occurred_at"), "{err}");
                assert!(reason.contains("input_bounds.earliest"), "{reason}");
            }
            other => panic!("{when}: expected Invalid, got {other:?}"),
        }
        assert!(w.events.is_empty());
    }
}

/// Problem 6: a recording time (`--now`) of 9999-12-31 is refused, naming the field `now`.
#[test]
fn problem_6_implausible_now_is_refused() {
    let mut w = World::new();
    w.now = at("9999-12-31T00:00:00Z");
    let err = w.when(receive()).unwrap_err();
    assert!(
        matches!(&err, Rejection::Invalid { command: "receive", field: "now", reason, .. } if reason.contains("input_bounds.latest")),
        "{err:?}"
    );
    assert_eq!(
        err.to_string().split(':').next().unwrap(),
        format!("complaint {COMPLAINT}")
    );
}

/// Problem 6: the bounds are the policy's: moving `earliest` admits older history.
#[test]
fn problem_6_bounds_come_from_the_policy() {
    let mut w = World::new();
    w.policy.input_bounds.earliest = at("1700-01-01T00:00:00Z");
    let mut cmd = w.command(receive());
    cmd.occurred_at = Some(at("1800-06-01T00:00:00Z"));
    w.run(&cmd).expect("inside the policy's bounds");
}

/// Problem 4: `decide` compares a retry with the digest recorded with the original command's
/// first event: the same body is an idempotent retry, another body `CommandIdReused` naming the
/// complaint, the command and the original's first event.
#[test]
fn problem_4_command_id_reused_with_another_body_is_rejected_by_decide() {
    let mut w = World::new();
    w.given_received();
    let verify_cmd = w.command(verify());
    let first = w.run(&verify_cmd).unwrap();
    assert_eq!(first[0].meta.command_digest, Some(verify_cmd.digest()));
    assert!(w.run(&verify_cmd).unwrap().is_empty(), "same body: a retry");
    let mut other = verify_cmd.clone();
    other.body = CommandBody::Reject(Reject {
        reason: RejectionReason::NoClaim,
        note: String::new(),
    });
    let err = w.run(&other).unwrap_err();
    match &err {
        Rejection::CommandIdReused {
            complaint,
            command_id,
            command,
            original_event,
            original_stream_version,
            ..
        } => {
            assert_eq!(complaint.as_str(), COMPLAINT);
            assert_eq!(command_id, &verify_cmd.command_id);
            assert_eq!(*command, "reject");
            assert_eq!((*original_event, *original_stream_version), ("Verified", 2));
        }
        other => panic!("expected CommandIdReused, got {other:?}"),
    }
    assert!(err.to_string().contains("command_id_reused"));
    // Another actor or business time is another request too.
    let mut later = verify_cmd.clone();
    later.occurred_at = Some(w.now);
    assert!(matches!(w.run(&later), Err(Rejection::CommandIdReused { .. })));
    // An event recorded before digests existed (no digest) cannot be compared: a retry.
    for e in &mut w.events {
        e.meta.command_digest = None;
    }
    assert!(w.run(&other).unwrap().is_empty());
}

/// Issue 15: the log's system streams (API tokens, reveals, erasures) are no complaints: a
/// command addressed to one, or naming one as the complaint it merges into, is refused with the
/// field named, whatever the stream holds.
#[test]
fn a_command_addressed_to_a_system_stream_is_refused_naming_the_field() {
    for stream in ids::RESERVED_STREAMS {
        let mut w = World::new();
        let mut cmd = w.command(receive());
        cmd.complaint_id = ComplaintId::new(stream).unwrap();
        let err = state::decide(&w.state(), &cmd, &w.ctx()).unwrap_err();
        let Rejection::Invalid { field, ref reason, .. } = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(field, "complaint_id");
        assert!(reason.contains(stream) && reason.contains("reserved"), "{reason}");
        assert_eq!(state::refuse_reserved(&cmd), Err(err));
    }
    let mut w = verified_at("2026-11-25T10:00:00+08:00");
    let merge = CommandBody::MergeAsDuplicate(MergeAsDuplicate {
        into: ComplaintId::new(access::TOKEN_STREAM).unwrap(),
        note: String::new(),
    });
    let err = w.when(merge).unwrap_err();
    assert!(matches!(err, Rejection::Invalid { field: "into", .. }), "{err:?}");
    assert_eq!(w.state().status, Status::Verified, "nothing recorded");
    // An ordinary complaint id passes.
    let mut w = World::new();
    let cmd = w.command(receive());
    assert_eq!(state::refuse_reserved(&cmd), Ok(()));
}

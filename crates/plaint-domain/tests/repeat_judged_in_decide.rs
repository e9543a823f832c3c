//! Issue 11 item 2, docs/domain.md §8: `decide_with` runs the one repeat rule through the
//! `PriorComplaints` port at verification and again at classification, and records the verdict
//! in the events (`Verified.repeat_of` / `duplicate_of`, `Classified.repeat_of`).

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::repeat::{CustomerRef, PriorComplaint};
use plaint_domain::state::{decide_with, Rejection};
use plaint_domain::time::MS_PER_DAY;
use plaint_domain::*;

fn prior(id: &str, waybill: &str, category: Category, days_before: i64, open: bool) -> PriorComplaint {
    PriorComplaint {
        id: ComplaintId::new(id).unwrap(),
        // The world's customer, known here by the customer id only.
        customer: CustomerRef::new(None, Some("C-42")),
        waybill: Some(waybill.to_owned()),
        category: Some(category),
        received_at: t0().plus_millis(-days_before * MS_PER_DAY),
        open,
    }
}

/// Decides `body` with these priors and appends what it produced.
fn with_priors(w: &mut World, priors: &[PriorComplaint], body: CommandBody) -> Result<Vec<Event>, Rejection> {
    let cmd = w.command(body);
    let state = w.state();
    let produced = decide_with(&state, &cmd, &w.ctx(), &priors.to_vec())?;
    w.events.extend(produced.iter().cloned());
    Ok(produced)
}

fn verified(e: &[Event]) -> &Verified {
    match &e[0].data {
        EventData::Verified(v) => v,
        other => panic!("{other:?}"),
    }
}

fn classified(e: &[Event]) -> &Classified {
    match &e[0].data {
        EventData::Classified(c) => c,
        other => panic!("{other:?}"),
    }
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

#[test]
fn open_ticket_same_customer_same_waybill_is_flagged_as_duplicate_at_verification() {
    let priors = [prior("CMP-OPEN", "EMS12345678CN", Category::Delay, 40, true)];
    let mut w = World::new();
    w.given_received();
    let e = with_priors(&mut w, &priors, verify()).unwrap();
    let v = verified(&e);
    assert_eq!(
        v.duplicate_of,
        Some(cid("CMP-OPEN")),
        "open: a duplicate whatever its age"
    );
    assert_eq!(v.repeat_of, None);
    assert!(!v.flags.repeat);
    assert_eq!(w.state().duplicate_of, Some(cid("CMP-OPEN")));
    // A duplicate is not judged a repeat at classification.
    let e = with_priors(&mut w, &priors, classify(Severity::Ordinary)).unwrap();
    assert_eq!(classified(&e).repeat_of, None);
}

#[test]
fn closed_ticket_same_waybill_within_window_is_a_repeat_at_verification() {
    let priors = [prior("CMP-OLD", "EMS12345678CN", Category::Loss, 10, false)];
    let mut w = World::new();
    w.given_received();
    let e = with_priors(&mut w, &priors, verify()).unwrap();
    assert_eq!(verified(&e).repeat_of, Some(cid("CMP-OLD")));
    assert!(verified(&e).flags.repeat);
    // Already linked: classification records no second link.
    let e = with_priors(&mut w, &priors, classify(Severity::Ordinary)).unwrap();
    assert_eq!(classified(&e).repeat_of, None);
    assert!(classified(&e).flags.repeat);
}

#[test]
fn repeat_on_other_waybill_same_category_is_detected_at_classification() {
    let priors = [
        prior("CMP-OTHER-PARCEL", "SF000111", Category::Delay, 12, false),
        prior("CMP-OTHER-CATEGORY", "SF000222", Category::Fees, 3, false),
    ];
    let mut w = World::new();
    w.given_received();
    let e = with_priors(&mut w, &priors, verify()).unwrap();
    assert_eq!(
        (verified(&e).repeat_of.clone(), verified(&e).duplicate_of.clone()),
        (None, None),
        "no category yet, another waybill: nothing to find"
    );
    let e = with_priors(&mut w, &priors, classify(Severity::Ordinary)).unwrap();
    let c = classified(&e);
    assert_eq!(c.repeat_of, Some(cid("CMP-OTHER-PARCEL")));
    assert!(c.flags.repeat && c.flags.green_channel());
    assert!(
        c.escalations.iter().any(|d| d.rule_id == "green_channel"),
        "green channel planned per policy: {:?}",
        c.escalations
    );
    assert_eq!(w.state().repeat_of, Some(cid("CMP-OTHER-PARCEL")));
}

#[test]
fn outside_the_window_or_another_customer_is_new() {
    let mut stranger = prior("CMP-STRANGER", "SF1", Category::Delay, 1, false);
    stranger.customer = CustomerRef::new(Some("another-key"), Some("C-7"));
    let priors = [prior("CMP-ANCIENT", "SF2", Category::Delay, 31, false), stranger];
    let mut w = World::new();
    w.given_received();
    with_priors(&mut w, &priors, verify()).unwrap();
    let e = with_priors(&mut w, &priors, classify(Severity::Ordinary)).unwrap();
    assert_eq!(classified(&e).repeat_of, None);
    assert!(!classified(&e).flags.repeat);
}

#[test]
fn a_link_named_by_the_command_stands_and_plain_decide_judges_nothing() {
    let priors = [prior("CMP-JUDGED", "SF9", Category::Delay, 2, false)];
    let mut w = World::new();
    w.given_received();
    let CommandBody::Verify(mut v) = verify() else {
        unreachable!()
    };
    v.repeat_of = Some(cid("CMP-NAMED"));
    let e = with_priors(&mut w, &priors, CommandBody::Verify(v)).unwrap();
    assert_eq!(verified(&e).repeat_of, Some(cid("CMP-NAMED")));
    let e = with_priors(&mut w, &priors, classify(Severity::Ordinary)).unwrap();
    assert_eq!(classified(&e).repeat_of, None);

    // `decide` has no port: nothing is found.
    let mut w = World::new();
    w.given_received();
    w.given(verify());
    let e = w.given(classify(Severity::Ordinary));
    assert_eq!(classified(&e).repeat_of, None);
}

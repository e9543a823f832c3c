//! docs/domain.md §8 repeat complaints and §2 MergedAsDuplicate: same customer (normalised phone or
//! customer id) + same waybill or same category within the window; an open same-waybill
//! complaint is a duplicate.

use plaint_domain::personal::match_key;
use plaint_domain::policy::Policy;
use plaint_domain::repeat::{
    judge, judge_within, normalise_waybill, Candidate, CustomerRef, PriorComplaint, RepeatVerdict,
};
use plaint_domain::time::MS_PER_DAY;
use plaint_domain::{Category, ComplaintId, Timestamp};

static MS: plaint_domain::personal::MatchSecret = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);

fn day(n: i64) -> Timestamp {
    Timestamp::parse_rfc3339("2025-11-01T10:00:00+08:00")
        .unwrap()
        .plus_millis(n * MS_PER_DAY)
}

fn id(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

fn prior(
    name: &str,
    phone: &str,
    waybill: Option<&str>,
    category: Category,
    received: i64,
    open: bool,
) -> PriorComplaint {
    PriorComplaint {
        id: id(name),
        customer: CustomerRef::new(match_key(&MS, None, Some(phone)).as_deref(), None),
        waybill: waybill.map(str::to_owned),
        category: Some(category),
        received_at: day(received),
        open,
    }
}

fn candidate(phone: &str, waybill: Option<&str>, category: Option<Category>, received: i64) -> Candidate {
    Candidate {
        id: id("CMP-NEW"),
        customer: CustomerRef::new(match_key(&MS, None, Some(phone)).as_deref(), None),
        waybill: waybill.map(str::to_owned),
        category,
        received_at: day(received),
    }
}

#[test]
fn section_8_open_complaint_same_customer_same_waybill_is_a_duplicate() {
    let priors = [prior("CMP-1", "13800138000", Some("SF100"), Category::Delay, 0, true)];
    // Same phone written differently (normalised, docs/domain.md §3), same waybill, via another channel.
    let c = candidate("+86 138-0013-8000", Some("sf 100"), None, 1);
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Duplicate { of: id("CMP-1") }
    );
    // Even long after: an open one is a duplicate whatever its age.
    let c = candidate("13800138000", Some("SF100"), None, 90);
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Duplicate { of: id("CMP-1") }
    );
}

#[test]
fn section_8_closed_complaint_same_waybill_within_30_days_is_a_repeat() {
    let priors = [prior("CMP-1", "13800138000", Some("SF100"), Category::Delay, 0, false)];
    let c = candidate("13800138000", Some("SF100"), None, 30);
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Repeat { of: id("CMP-1") }
    );
    // One day beyond the 30-day window: new.
    let c = candidate("13800138000", Some("SF100"), None, 31);
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
}

#[test]
fn section_8_same_category_other_waybill_within_window_is_a_repeat() {
    let priors = [
        prior("CMP-1", "13800138000", Some("SF100"), Category::Delay, 0, true),
        prior("CMP-2", "13800138000", Some("SF200"), Category::Delay, 10, false),
    ];
    let c = candidate("13800138000", Some("SF300"), Some(Category::Delay), 20);
    // Both qualify; the most recent is named.
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Repeat { of: id("CMP-2") }
    );
    // Another category, another waybill: new.
    let c = candidate("13800138000", Some("SF300"), Some(Category::Fees), 20);
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
}

#[test]
fn section_8_another_customer_is_never_a_repeat() {
    let priors = [prior("CMP-1", "13800138000", Some("SF100"), Category::Delay, 0, true)];
    let c = candidate("13900139000", Some("SF100"), Some(Category::Delay), 1);
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
}

#[test]
fn section_8_customer_id_matches_when_no_phone_is_known() {
    let priors = [PriorComplaint {
        id: id("CMP-9"),
        customer: CustomerRef::new(None, Some("C-77")),
        waybill: None,
        category: Some(Category::StaffAttitude),
        received_at: day(0),
        open: false,
    }];
    let c = Candidate {
        id: id("CMP-10"),
        customer: CustomerRef::new(None, Some("C-77")),
        waybill: None,
        category: Some(Category::StaffAttitude),
        received_at: day(5),
    };
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Repeat { of: id("CMP-9") }
    );
    // A shorter window (7 days, the other end of practice) from the caller.
    assert_eq!(judge_within(&c, &priors, 3 * MS_PER_DAY), RepeatVerdict::New);
}

#[test]
fn section_8_later_complaints_are_not_priors() {
    let priors = [prior("CMP-5", "13800138000", Some("SF100"), Category::Delay, 10, true)];
    let c = candidate("13800138000", Some("SF100"), Some(Category::Delay), 5);
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
    assert_eq!(normalise_waybill(" sf-100 "), "SF100");
}

#[test]
fn section_8_same_instant_the_smaller_id_is_the_earlier_and_a_complaint_never_repeats_itself() {
    let priors = [
        prior("CMP-A", "13800138000", Some("SF100"), Category::Delay, 0, true),
        prior("CMP-B", "13800138000", Some("SF100"), Category::Delay, 0, true),
    ];
    let mut c = candidate("13800138000", Some("SF100"), Some(Category::Delay), 0);
    c.id = id("CMP-B");
    assert_eq!(
        judge(&c, &priors, &Policy::default()),
        RepeatVerdict::Duplicate { of: id("CMP-A") }
    );
    c.id = id("CMP-A");
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
}

#[test]
fn section_8_an_anonymous_complaint_matches_nobody() {
    let priors = [PriorComplaint {
        id: id("CMP-1"),
        customer: CustomerRef::default(),
        waybill: Some("SF100".into()),
        category: Some(Category::Delay),
        received_at: day(0),
        open: true,
    }];
    let c = Candidate {
        id: id("CMP-2"),
        customer: CustomerRef::default(),
        waybill: Some("SF100".into()),
        category: Some(Category::Delay),
        received_at: day(1),
    };
    assert_eq!(judge(&c, &priors, &Policy::default()), RepeatVerdict::New);
}

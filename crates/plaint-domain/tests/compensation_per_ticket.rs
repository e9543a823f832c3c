//! Issue 11 item 3, docs/domain.md §6: the ceiling bounds the SUM of everything granted for one
//! ticket (payments and the remedies the policy counts), not each grant; a refusal names the
//! headroom left. Through `decide`, so what the ticket was granted comes from its own events.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::state::Rejection;
use plaint_domain::*;

fn request(remedy: Remedy, amount: i64) -> CompensationRequest {
    CompensationRequest {
        remedy,
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

fn insured(remedy: Remedy, amount: i64) -> CompensationRequest {
    CompensationRequest {
        insured: true,
        insured_amount: Some(Money(200_000)),
        actual_loss: Some(Money(350_000)),
        ..request(remedy, amount)
    }
}

fn compensate(c: CompensationRequest) -> CommandBody {
    CommandBody::Compensate(Compensate { compensation: c })
}

/// (requested, ceiling, already granted, headroom) of a ceiling refusal.
fn refused(r: Result<Vec<Event>, Rejection>) -> (i64, i64, i64, i64) {
    match r {
        Err(Rejection::CompensationAboveCeiling {
            requested_fen,
            ceiling_fen,
            already_granted_fen,
            headroom_fen,
            ..
        }) => (requested_fen, ceiling_fen, already_granted_fen, headroom_fen),
        other => panic!("expected a ceiling refusal, got {other:?}"),
    }
}

fn dispatched() -> World {
    let mut w = World::new();
    w.given_dispatched(Severity::Ordinary);
    w
}

#[test]
fn insured_amount_cannot_be_paid_twice_per_ticket() {
    let mut w = dispatched();
    w.given(compensate(insured(Remedy::Payment, 150_000)));
    let r = w.when(compensate(insured(Remedy::Payment, 200_000)));
    assert_eq!(refused(r.clone()), (200_000, 200_000, 150_000, 50_000));
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("CMP-2026-000123"), "{msg}");
    assert!(
        msg.contains("150000 fen already granted, 50000 fen headroom left"),
        "{msg}"
    );
    // The headroom itself is granted; after it, nothing more.
    w.given(compensate(insured(Remedy::Payment, 50_000)));
    assert_eq!(
        refused(w.when(compensate(insured(Remedy::Payment, 1)))),
        (1, 200_000, 200_000, 0)
    );
    assert_eq!(w.state().compensated, Money(200_000));
    assert_eq!(w.state().granted.payment, 200_000);
}

#[test]
fn uninsured_three_times_postage_ceiling_is_per_ticket_not_per_payment() {
    let mut w = dispatched();
    // 3 × 1,200 fen postage = 3,600 fen for the ticket, whether paid at once or in parts.
    w.given(compensate(request(Remedy::Payment, 3_600)));
    assert_eq!(
        refused(w.when(compensate(request(Remedy::Payment, 3_600)))),
        (3_600, 3_600, 3_600, 0)
    );
    // A payment riding on the final response counts too.
    let CommandBody::Respond(mut r) = respond(ResponseKind::Final) else {
        unreachable!()
    };
    r.compensation = Some(request(Remedy::Payment, 100));
    assert_eq!(refused(w.when(CommandBody::Respond(r))), (100, 3_600, 3_600, 0));
}

#[test]
fn coupon_of_99_999_999_fen_is_refused() {
    let mut w = dispatched();
    let r = w.when(compensate(request(Remedy::Coupon, 99_999_999)));
    assert_eq!(refused(r), (99_999_999, 3_600, 0, 3_600));
    assert!(w.state().compensated == Money(0), "nothing was written");
    // A coupon within the ceiling is granted and recorded with the rule that bounds it.
    let e = w.given(compensate(request(Remedy::Coupon, 1_000)));
    let EventData::Compensated(c) = &e[0].data else {
        panic!("{e:?}")
    };
    assert_eq!(c.compensation.rule, CompensationRule::UninsuredCapped);
    assert_eq!(c.compensation.ceiling, Some(Money(3_600)));
}

#[test]
fn mixed_remedies_share_one_ceiling_and_uncounted_remedies_do_not() {
    let mut w = dispatched();
    w.given(compensate(request(Remedy::Payment, 2_000)));
    w.given(compensate(request(Remedy::Coupon, 1_000)));
    // Payment + coupon already 3,000 of 3,600: a 700-fen coupon is 100 too many.
    assert_eq!(
        refused(w.when(compensate(request(Remedy::Coupon, 700)))),
        (700, 3_600, 3_000, 600)
    );
    assert_eq!(
        refused(w.when(compensate(request(Remedy::Payment, 601)))),
        (601, 3_600, 3_000, 600)
    );
    // A reshipment is not counted by the default policy.
    w.given(compensate(request(Remedy::Reshipment, 80_000)));
    // Postage refunds are bounded, all together, by the postage (1,200 fen).
    w.given(compensate(request(Remedy::PostageRefund, 1_000)));
    assert_eq!(
        refused(w.when(compensate(request(Remedy::PostageRefund, 201)))),
        (201, 1_200, 1_000, 200)
    );
    w.given(compensate(request(Remedy::Payment, 600)));
    let s = w.state();
    assert_eq!(s.granted.payment + s.granted.coupon, 3_600);
    assert_eq!(s.compensated, Money(3_600 + 80_000 + 1_000));
}

#[test]
fn which_remedies_count_is_a_policy_setting() {
    let mut w = dispatched();
    w.policy.compensation.ceiling_counts = vec![Remedy::Payment, Remedy::PostageRefund];
    w.given(compensate(request(Remedy::Payment, 3_000)));
    // Coupons no longer count; postage refunds now count against the 3,600-fen ceiling too.
    w.given(compensate(request(Remedy::Coupon, 99_999_999)));
    assert_eq!(
        refused(w.when(compensate(request(Remedy::PostageRefund, 700)))),
        (700, 3_600, 3_000, 600)
    );
    w.given(compensate(request(Remedy::PostageRefund, 600)));
}

#[test]
fn policy_without_payment_in_ceiling_counts_is_refused_naming_the_key() {
    let toml = plaint_domain::policy::DEFAULT_POLICY_TOML.replace(
        r#"ceiling_counts = ["payment", "coupon"]"#,
        r#"ceiling_counts = ["coupon"]"#,
    );
    let err = plaint_domain::policy::Policy::from_toml_str(&toml)
        .unwrap_err()
        .to_string();
    assert!(err.contains("compensation.ceiling_counts"), "{err}");
}

#[test]
fn goodwill_coupon_after_a_payment_is_checked_against_the_ceiling_the_ticket_established() {
    let mut w = dispatched();
    // No item facts and nothing established yet: a coupon worth something is refused for the
    // missing fact; a coupon of nothing (0 fen) needs no ceiling.
    let bare = |amount| CompensationRequest {
        actual_loss: None,
        postage: None,
        ..request(Remedy::Coupon, amount)
    };
    assert!(matches!(
        w.when(compensate(bare(500))),
        Err(Rejection::Compensation { ref reason, .. }) if reason.contains("actual_loss")
    ));
    w.given(compensate(bare(0)));
    // A payment establishes the 3,600-fen ceiling; a later bare coupon is held to it.
    w.given(compensate(request(Remedy::Payment, 3_000)));
    assert_eq!(refused(w.when(compensate(bare(601)))), (601, 3_600, 3_000, 600));
    w.given(compensate(bare(600)));
}

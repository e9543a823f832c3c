//! docs/domain.md §6 compensation: the ceiling by rule, recorded with the rule and legal basis;
//! a grant above the ceiling is refused. Money in fen.

use plaint_domain::compensation::{compute, CompensationError};
use plaint_domain::policy::Policy;
use plaint_domain::{CompensationRequest, CompensationRule, Money, Remedy};

fn payment(amount: i64) -> CompensationRequest {
    CompensationRequest {
        remedy: Remedy::Payment,
        amount: Money(amount),
        insured: false,
        insured_amount: None,
        full_value: None,
        actual_loss: None,
        postage: None,
        total_loss: false,
        registered_letter: false,
        gross_negligence: false,
    }
}

#[test]
fn section_6_insured_item_lost_pays_up_to_the_insured_amount() {
    let p = Policy::default();
    let req = CompensationRequest {
        insured: true,
        total_loss: true,
        insured_amount: Some(Money(200_000)),
        actual_loss: Some(Money(350_000)),
        ..payment(200_000)
    };
    let c = compute(&p, &req).unwrap();
    assert_eq!(c.rule, CompensationRule::InsuredTotalLoss);
    assert_eq!(c.ceiling, Some(Money(200_000)));
    assert_eq!(c.granted, Money(200_000));
    assert!(c.legal_basis.contains("Postal Law art. 47"));
    assert_eq!(c.policy_version, p.version);
    let too_much = CompensationRequest {
        amount: Money(200_001),
        ..req
    };
    assert!(matches!(
        compute(&p, &too_much),
        Err(CompensationError::AboveCeiling {
            rule: CompensationRule::InsuredTotalLoss,
            granted: 200_001,
            ceiling: 200_000,
            ..
        })
    ));
}

#[test]
fn section_6_insured_item_partly_damaged_pays_pro_rata() {
    let p = Policy::default();
    // Insured 1 000 yuan of a 4 000 yuan item; 1 000.01 yuan actual loss → 250.0025 → 250.00.
    let req = CompensationRequest {
        insured: true,
        insured_amount: Some(Money(100_000)),
        full_value: Some(Money(400_000)),
        actual_loss: Some(Money(100_001)),
        ..payment(25_000)
    };
    let c = compute(&p, &req).unwrap();
    assert_eq!(c.rule, CompensationRule::InsuredPartialLoss);
    assert_eq!(c.ceiling, Some(Money(25_000)));
    assert_eq!(c.full_value, Some(Money(400_000)));
    // Over-insured: never more than the actual loss.
    let over = CompensationRequest {
        insured_amount: Some(Money(800_000)),
        ..req.clone()
    };
    assert_eq!(compute(&p, &over).unwrap().ceiling, Some(Money(100_001)));
    // The full value is needed.
    let missing = CompensationRequest {
        full_value: None,
        ..req
    };
    assert_eq!(
        compute(&p, &missing),
        Err(CompensationError::MissingInput {
            rule: CompensationRule::InsuredPartialLoss,
            field: "full_value"
        })
    );
}

#[test]
fn section_6_uninsured_item_is_capped_at_three_times_postage() {
    let p = Policy::default();
    let req = CompensationRequest {
        actual_loss: Some(Money(50_000)),
        postage: Some(Money(1_200)),
        total_loss: true,
        ..payment(3_600)
    };
    let c = compute(&p, &req).unwrap();
    assert_eq!(c.rule, CompensationRule::UninsuredCapped);
    assert_eq!(c.ceiling, Some(Money(3_600)));
    // A small loss below the cap: the loss is the ceiling.
    let small = CompensationRequest {
        actual_loss: Some(Money(2_000)),
        postage: Some(Money(1_200)),
        ..payment(2_000)
    };
    assert_eq!(compute(&p, &small).unwrap().ceiling, Some(Money(2_000)));
    let above = CompensationRequest {
        amount: Money(3_601),
        ..req
    };
    assert!(matches!(
        compute(&p, &above),
        Err(CompensationError::AboveCeiling { ceiling: 3_600, .. })
    ));
}

#[test]
fn section_6_registered_letter_is_three_times_postage() {
    let p = Policy::default();
    let req = CompensationRequest {
        registered_letter: true,
        postage: Some(Money(500)),
        ..payment(1_500)
    };
    let c = compute(&p, &req).unwrap();
    assert_eq!(c.rule, CompensationRule::RegisteredLetter);
    assert_eq!(c.ceiling, Some(Money(1_500)));
    assert!(c.legal_basis.contains("registered letter"));
}

#[test]
fn section_6_gross_negligence_lifts_the_cap_to_the_actual_loss() {
    let p = Policy::default();
    let req = CompensationRequest {
        gross_negligence: true,
        actual_loss: Some(Money(50_000)),
        postage: Some(Money(1_200)),
        ..payment(50_000)
    };
    let c = compute(&p, &req).unwrap();
    assert_eq!(c.rule, CompensationRule::GrossNegligence);
    assert_eq!(c.ceiling, Some(Money(50_000)));
    assert!(c.legal_basis.contains("gross negligence"));
}

#[test]
fn section_6_other_remedies_and_bad_amounts() {
    let p = Policy::default();
    // A remedy the policy does not count against the ceiling has none.
    let reshipment = CompensationRequest {
        remedy: Remedy::Reshipment,
        ..payment(1_000)
    };
    let c = compute(&p, &reshipment).unwrap();
    assert_eq!(c.rule, CompensationRule::NonMonetary);
    assert_eq!(c.ceiling, None);
    // A coupon counts (policy `compensation.ceiling_counts`): it needs the item's facts.
    let coupon = CompensationRequest {
        remedy: Remedy::Coupon,
        ..payment(1_000)
    };
    assert!(matches!(
        compute(&p, &coupon),
        Err(CompensationError::MissingInput {
            rule: CompensationRule::UninsuredCapped,
            field: "actual_loss"
        })
    ));
    let refund = CompensationRequest {
        remedy: Remedy::PostageRefund,
        postage: Some(Money(1_200)),
        ..payment(1_300)
    };
    assert!(matches!(
        compute(&p, &refund),
        Err(CompensationError::AboveCeiling { ceiling: 1_200, .. })
    ));
    assert!(matches!(
        compute(&p, &payment(-1)),
        Err(CompensationError::Negative { field: "amount", .. })
    ));
    let negative_loss = CompensationRequest {
        actual_loss: Some(Money(-5)),
        postage: Some(Money(100)),
        ..payment(0)
    };
    assert!(matches!(
        compute(&p, &negative_loss),
        Err(CompensationError::Negative {
            field: "actual_loss",
            ..
        })
    ));
}

#[test]
fn section_6_the_multiple_comes_from_the_policy() {
    let mut p = Policy::default();
    p.compensation.uninsured_cap_postage_multiple = 5;
    let req = CompensationRequest {
        actual_loss: Some(Money(50_000)),
        postage: Some(Money(1_000)),
        ..payment(5_000)
    };
    assert_eq!(compute(&p, &req).unwrap().ceiling, Some(Money(5_000)));
}

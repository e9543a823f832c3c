//! DOMAIN.md §5–§8: the policy file — defaults, round trip and bad files.

use plaint_domain::policy::{Policy, PolicyDuration};
use plaint_domain::Severity;

#[test]
fn default_policy_has_the_numbers_of_domain_section_7() {
    let p = Policy::default();
    assert_eq!(p.sla.tier(Severity::Ordinary).first_response, PolicyDuration::Hours(24));
    assert_eq!(p.sla.tier(Severity::Urgent).first_response, PolicyDuration::Hours(3));
    assert_eq!(p.sla.tier(Severity::Major).first_response, PolicyDuration::Hours(1));
    assert_eq!(
        p.sla.tier(Severity::Ordinary).resolution,
        Some(PolicyDuration::WorkingDays(3))
    );
    assert_eq!(p.sla.tier(Severity::Urgent).resolution, Some(PolicyDuration::Hours(24)));
    assert_eq!(p.sla.tier(Severity::Major).resolution, None);
    assert_eq!(
        p.sla.tier(Severity::Major).preliminary_plan,
        Some(PolicyDuration::Hours(24))
    );
    assert_eq!(
        p.sla.tier(Severity::Major).progress_update_every,
        Some(PolicyDuration::Hours(24))
    );
    assert_eq!(p.repeat.window, PolicyDuration::Days(30));
    assert_eq!(p.warnings.at_risk_share, 0.75);
}

#[test]
fn policy_round_trips_through_toml() {
    let p = Policy::default();
    let text = p.to_toml_string();
    let again = Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(p, again);
}

//! docs/domain.md §5–§8: the policy file — defaults, round trip and bad files.

use plaint_domain::policy::{Policy, PolicyDuration, PolicyError};
use plaint_domain::Severity;

#[test]
fn section_5_to_8_default_policy_has_the_numbers_of_domain_md() {
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
fn section_7_policy_round_trips_through_toml() {
    let p = Policy::default();
    let text = p.to_toml_string();
    let again = Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(p, again);
}

/// Replaces exactly one occurrence of `from` in the default file.
fn edited(from: &str, to: &str) -> String {
    let src = plaint_domain::policy::DEFAULT_POLICY_TOML;
    assert_eq!(
        src.matches(from).count(),
        1,
        "{from:?} must occur once in the default policy"
    );
    src.replacen(from, to, 1)
}

fn line_of(src: &str, needle: &str) -> usize {
    let offset = src.find(needle).expect("needle in source");
    src[..offset].matches('\n').count() + 1
}

fn error_of(src: &str) -> PolicyError {
    match Policy::from_toml_str(src) {
        Ok(_) => panic!("policy should have been refused"),
        Err(e) => e,
    }
}

#[test]
fn section_7_bad_policy_a_typo_key_is_named_with_its_line() {
    let src = edited("first_response = { hours = 3 }", "first_respons = { hours = 3 }");
    let e = error_of(&src);
    println!("{e}");
    assert_eq!(e.key(), "sla.urgent.first_respons");
    assert_eq!(e.line(), line_of(&src, "first_respons ="));
}

#[test]
fn section_7_bad_policy_a_missing_key_is_named_with_its_table_line() {
    let src = edited("first_response = { hours = 3 }             # 000 (002: 4 h)\n", "");
    let e = error_of(&src);
    println!("{e}");
    assert_eq!(e.key(), "sla.urgent.first_response");
    assert_eq!(e.line(), line_of(&src, "[sla.urgent]"));
}

#[test]
fn section_7_bad_policy_a_wrong_type_is_named_with_its_line() {
    let src = edited("at_risk_share = 0.75", "at_risk_share = \"most\"");
    let e = error_of(&src);
    println!("{e}");
    assert_eq!(e.key(), "warnings.at_risk_share");
    assert_eq!(e.line(), line_of(&src, "at_risk_share ="));
}

#[test]
fn section_7_bad_policy_a_negative_duration_is_named_with_its_line() {
    let src = edited("window = { days = 30 }", "window = { days = -30 }");
    let e = error_of(&src);
    println!("{e}");
    assert!(e.key().starts_with("repeat.window"), "{e}");
    assert_eq!(e.line(), line_of(&src, "window = { days = -30 }"));
}

#[test]
fn section_7_bad_policy_a_unitless_or_misspelt_unit_is_refused() {
    let src = edited("first_response = { hours = 1 }", "first_response = { hour = 1 }");
    let e = error_of(&src);
    println!("{e}");
    assert!(e.key().starts_with("sla.major.first_response"), "{e}");
    assert_eq!(e.line(), line_of(&src, "{ hour = 1 }"));
    let src = edited("first_response = { hours = 1 }", "first_response = 1");
    let e = error_of(&src);
    assert!(e.key().starts_with("sla.major.first_response"), "{e}");
}

#[test]
fn section_7_bad_policy_a_zero_duration_is_refused() {
    let src = edited("resolution = { hours = 24 }", "resolution = { hours = 0 }");
    let e = error_of(&src);
    assert_eq!(e.key(), "sla.urgent.resolution");
    assert_eq!(e.line(), line_of(&src, "resolution = { hours = 0 }"));
}

#[test]
fn section_5_bad_policy_unknown_department_in_a_routing_rule_is_named() {
    let src = edited(
        "department = \"finance\"\n\n[[routing.rules]]\nid = \"kw.delay\"",
        "department = \"accounts\"\n\n[[routing.rules]]\nid = \"kw.delay\"",
    );
    let e = error_of(&src);
    println!("{e}");
    assert_eq!(e.key(), "routing.rules[4].department");
    assert_eq!(e.line(), line_of(&src, "department = \"accounts\""));
}

#[test]
fn section_7_bad_policy_first_response_may_never_pause() {
    let src = edited(
        "pausable = [\"resolution\"]",
        "pausable = [\"resolution\", \"first_response\"]",
    );
    let e = error_of(&src);
    assert_eq!(e.key(), "sla.pause.pausable");
    assert_eq!(e.line(), line_of(&src, "pausable ="));
}

#[test]
fn section_7_bad_policy_at_risk_share_out_of_range_and_unknown_channel() {
    let e = error_of(&edited("at_risk_share = 0.75", "at_risk_share = 1.5"));
    assert_eq!(e.key(), "warnings.at_risk_share");
    let e = error_of(&edited("counter = { hours = 1 }", "counterr = { hours = 1 }"));
    assert_eq!(e.key(), "sla.registration_by_channel.counterr");
    let e = error_of(&edited("fallback = \"customer_service\"", "fallback = \"nobody\""));
    assert_eq!(e.key(), "routing.fallback");
    let e = error_of(&edited("window = { days = 30 }", "window = { working_days = 30 }"));
    assert_eq!(e.key(), "repeat.window");
}

#[test]
fn section_7_bad_policy_syntax_error_names_a_line() {
    let src = edited("version = \"plaint-default-2026.2\"", "version = plaint-default");
    let e = error_of(&src);
    println!("{e}");
    assert_eq!(e.line(), line_of(&src, "version = plaint"));
    assert_eq!(e.key(), "version");
}

#[test]
fn section_7_policy_with_changed_numbers_round_trips_and_keeps_them() {
    let src = edited(
        "first_response = { hours = 24 }",
        "first_response = { working_hours = 8 }",
    )
    .replace("version = \"plaint-default-2026.2\"", "version = \"site-b-7\"");
    let p = Policy::from_toml_str(&src).unwrap();
    assert_eq!(p.version, "site-b-7");
    assert_eq!(
        p.sla.tier(Severity::Ordinary).first_response,
        PolicyDuration::WorkingHours(8)
    );
    assert_eq!(Policy::from_toml_str(&p.to_toml_string()).unwrap(), p);
    assert_ne!(p, Policy::default());
}

#[test]
fn section_7_policy_written_back_keeps_durations_inline_like_the_default_file() {
    let text = Policy::default().to_toml_string();
    assert!(text.contains("first_response = { hours = 24 }"), "{text}");
    assert!(text.contains("window = { days = 30 }"), "{text}");
    assert!(text.contains("after = { hours = 48 }"), "{text}");
    assert!(!text.contains("[sla.ordinary.first_response]"), "{text}");
    // A string with a newline falls back to the table form, still round-tripping.
    let mut p = Policy::default();
    p.compensation.legal_basis.non_monetary = "line one\n[not a header]\nline three".into();
    assert_eq!(Policy::from_toml_str(&p.to_toml_string()).unwrap(), p);
}

#[test]
fn section_7_bad_policy_escalation_rules_are_checked_against_the_clocks() {
    // Ordinary tickets have no preliminary-plan clock: no breach rule can watch it.
    let src = edited(
        "severity = \"major\"\nclock = \"preliminary_plan\"",
        "severity = \"ordinary\"\nclock = \"preliminary_plan\"",
    );
    let e = error_of(&src);
    assert_eq!(e.key(), "escalation.breach[3].clock");
    assert_eq!(e.line(), line_of(&src, "clock = \"preliminary_plan\""));
    // Two rungs to the same level for the same tier would share a rule id.
    let src = edited(
        "level = \"department_head\"\n\n# Urgent",
        "level = \"supervisor\"\n\n# Urgent",
    );
    let e = error_of(&src);
    assert_eq!(e.key(), "escalation.ladder[1].level");
    // Progress updates follow the plan: without a plan they are refused.
    let src = edited("preliminary_plan = { hours = 24 }          # 000, 002\n", "");
    let e = error_of(&src);
    assert_eq!(e.key(), "sla.major.progress_update_every");
    assert_eq!(e.line(), line_of(&src, "progress_update_every ="));
    // An unknown clock name in the pause list.
    let e = error_of(&edited("pausable = [\"resolution\"]", "pausable = [\"resolutoin\"]"));
    assert_eq!(e.key(), "sla.pause.pausable");
}

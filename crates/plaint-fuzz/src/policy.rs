//! Target `policy_toml`: `Policy::from_toml_str`, the policy file an operator writes.
//!
//! Property: a policy that validates writes back to TOML that reads back equal, and every
//! computation the engine makes from it (deadlines of every tier and channel, routing) finishes
//! without a panic; a rejection names its key or a reason.

use plaint_domain::calendar::Calendar;
use plaint_domain::policy::Policy;
use plaint_domain::{Category, Channel, Flags, Severity, Timestamp};
use std::sync::OnceLock;

pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = match Policy::from_toml_str(text) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let written = policy.to_toml_string();
    let back =
        Policy::from_toml_str(&written).unwrap_or_else(|e| panic!("a valid policy does not read back: {e}\n{written}"));
    assert_eq!(back, policy, "TOML round trip");

    static CALENDAR: OnceLock<Calendar> = OnceLock::new();
    let cal = CALENDAR.get_or_init(Calendar::china_mainland);
    // 2026-01-05 09:00 Beijing time, a Monday inside the calendar's coverage.
    let t = Timestamp::from_millis(1_767_574_800_000);
    let flags = Flags {
        repeat: true,
        media: true,
        group: true,
        regulator: true,
    };
    for severity in Severity::ALL {
        for channel in [Channel::Hotline, Channel::Counter, Channel::RegulatorReferral] {
            let (deadlines, escalations) = policy.classify_deadlines(cal, severity, flags, channel, t, t);
            for d in &deadlines {
                assert!(d.due_at >= t, "{:?} due before it starts", d.clock);
            }
            for e in &escalations {
                assert!(!e.rule_id.is_empty());
            }
        }
        policy.dispatch_deadlines(cal, severity, t);
        policy.final_response_deadlines(cal, severity, t);
    }
    for category in Category::ALL {
        let (department, _) = policy.route(category, "包裹严重延误 parcel lost");
        assert!(
            policy.is_department(&department),
            "routing ends in a known department: {department:?}"
        );
    }
}

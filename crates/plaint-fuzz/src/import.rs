//! Targets `import_csv` and `import_open311`: the legacy importers (`plaint_import`) reading a
//! hostile file through the example mappings of `examples/mappings/`.
//!
//! Input: byte 0 picks the mapping (CSV: Baltimore 311 or CFPB) and whether departments are
//! checked against the example policy; the rest is the file. Property: every row is either
//! planned or rejected (counted), each planned ticket's commands carry distinct ids, are in
//! business-time order and survive the JSON import format; an error names its reason; nothing
//! panics.

use plaint_domain::policy::Policy;
use plaint_domain::Command;
use plaint_import::open311::{plan_open311_json, Open311Mapping};
use plaint_import::{plan_csv, plan_csv_for_policy, ImportPlan, Mapping};
use std::collections::HashSet;
use std::sync::OnceLock;

struct Fixtures {
    csv: [Mapping; 2],
    open311: Open311Mapping,
    policy: Policy,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| Fixtures {
        csv: [
            Mapping::from_toml_str(include_str!("../../../examples/mappings/baltimore311.toml"))
                .expect("examples/mappings/baltimore311.toml is valid"),
            Mapping::from_toml_str(include_str!("../../../examples/mappings/cfpb.toml"))
                .expect("examples/mappings/cfpb.toml is valid"),
        ],
        open311: Open311Mapping::from_toml_str(include_str!("../../../examples/mappings/chicago_open311.toml"))
            .expect("examples/mappings/chicago_open311.toml is valid"),
        policy: Policy::from_toml_str(include_str!("../../../examples/mappings/policy.toml"))
            .expect("examples/mappings/policy.toml is valid"),
    })
}

pub fn import_csv(data: &[u8]) {
    let [mode, file @ ..] = data else { return };
    let f = fixtures();
    let mapping = &f.csv[usize::from(mode & 1)];
    let planned = if mode & 2 == 0 {
        plan_csv(mapping, file)
    } else {
        plan_csv_for_policy(mapping, file, &f.policy)
    };
    match planned {
        Ok(plan) => check_plan(&plan),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

pub fn import_open311(data: &[u8]) {
    let [mode, file @ ..] = data else { return };
    let f = fixtures();
    let policy = (mode & 1 == 1).then_some(&f.policy);
    match plan_open311_json(&f.open311, file, policy) {
        Ok(plan) => check_plan(&plan),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn check_plan(plan: &ImportPlan) {
    assert_eq!(
        plan.tickets.len() as u64 + plan.rows_rejected,
        plan.rows_read,
        "every row is planned or rejected"
    );
    let mut ids = HashSet::new();
    for t in &plan.tickets {
        assert!(!t.commands.is_empty(), "line {}: a planned ticket has commands", t.line);
        let mut last = None;
        for c in &t.commands {
            assert_eq!(
                c.complaint_id, t.complaint_id,
                "line {}: one complaint per ticket",
                t.line
            );
            assert!(
                ids.insert(c.command_id.clone()),
                "line {}: command id {:?} planned twice",
                t.line,
                c.command_id
            );
            if let (Some(prev), Some(now)) = (last, c.occurred_at) {
                assert!(prev <= now, "line {}: commands out of business-time order", t.line);
            }
            last = c.occurred_at.or(last);
            let json = serde_json::to_string(c).expect("a command serialises");
            let back: Command = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("line {}: planned command does not read back: {e}\n{json}", t.line));
            assert_eq!(&back, c, "line {}: JSON round trip", t.line);
        }
    }
    for a in &plan.anomalies {
        assert!(!a.reason.is_empty(), "line {}: an anomaly says what is wrong", a.line);
    }
}

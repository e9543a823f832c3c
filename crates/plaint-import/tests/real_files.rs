//! The shipped mappings against the real files in `../shared/data/` (planning only; the
//! end-to-end imports through the engine are in the workspace's `tests/import_*.rs`).

use plaint_domain::policy::Policy;
use plaint_import::{plan_csv_for_policy, AnomalyKind, Mapping, StatusMeaning};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped_policy() -> Policy {
    let text = std::fs::read_to_string(repo_root().join("examples/mappings/policy.toml")).expect("policy present");
    Policy::from_toml_str(&text).expect("shipped policy parses")
}

/// Plans a shipped mapping over a real file, checking departments against the shipped policy.
fn plan(mapping: &str, data: &str) -> plaint_import::ImportPlan {
    let root = repo_root();
    let mapping = Mapping::from_path(&root.join("examples/mappings").join(mapping)).expect("mapping parses");
    let file = std::fs::File::open(root.join("../shared/data").join(data)).expect("data file present");
    let plan = plan_csv_for_policy(&mapping, file, &shipped_policy()).expect("file reads");
    assert_eq!(plan.summary().count(AnomalyKind::UnknownDepartment), 0);
    plan
}

#[test]
fn baltimore_mapping_plans_every_row_and_reports_its_anomalies() {
    let plan = plan("baltimore311.toml", "baltimore311_sample.csv");
    assert_eq!(plan.rows_read, 10_000);
    assert_eq!(plan.summary().count(AnomalyKind::BlankDue), 286);
    assert_eq!(plan.summary().count(AnomalyKind::DuplicateWithoutTarget), 207);
    assert_eq!(plan.summary().count(AnomalyKind::BlankValue), 800, "blank Neighborhood");
    // Blank due dates are rejected by the shipped mapping (see its comment), nothing else.
    assert_eq!(plan.rows_rejected, 286, "{}", plan.summary());
    assert_eq!(plan.tickets.len(), 10_000 - 286);
    assert_eq!(plan.summary().total(), 286 + 207 + 800 + 2);
    let transferred = plan
        .tickets
        .iter()
        .filter(|t| t.outcome == StatusMeaning::Transferred)
        .count();
    assert_eq!(
        transferred,
        18 - 2,
        "two of the 18 transferred requests have no due date"
    );
}

#[test]
fn cfpb_mapping_reports_the_short_row_on_line_8341() {
    let plan = plan("cfpb.toml", "cfpb_2014_oct_nov.csv");
    let short: Vec<_> = plan
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::ShortRow)
        .collect();
    assert_eq!(short.len(), 1);
    assert_eq!(short[0].line, 8341);
    assert_eq!(plan.rows_read, 8_340);
    assert_eq!(plan.rows_rejected, 0, "{}", plan.summary());
    // The short row lacks only `Consumer disputed?`; it is imported with that attribute blank.
    let t = plan
        .tickets
        .iter()
        .find(|t| t.line == 8341)
        .expect("short row imported");
    let plaint_domain::CommandBody::Receive(r) = &t.commands[0].body else {
        panic!("receive first")
    };
    assert_eq!(r.attributes["consumer_disputed"], "");
    assert_eq!(r.attributes["timely_response"], "Yes");
}

#[test]
fn the_shipped_calendar_and_policy_parse() {
    let cal = std::fs::read_to_string(repo_root().join("examples/mappings/us-federal-2014.calendar.toml")).unwrap();
    let cal = plaint_domain::calendar::Calendar::from_toml_str(&cal).expect("calendar parses");
    assert!(cal.is_holiday(chrono::NaiveDate::from_ymd_opt(2014, 11, 11).unwrap()));
    let policy = shipped_policy();
    for d in ["solid_waste", "outside_agency", "company", "customer_service"] {
        assert!(policy.is_department(&plaint_domain::Department(d.to_owned())), "{d}");
    }
}

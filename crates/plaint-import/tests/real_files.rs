//! The shipped mappings against the real files in `../shared/data/` (planning only; the
//! end-to-end imports through the engine are in the workspace's `tests/import_*.rs`).

use plaint_import::{plan_csv, AnomalyKind, Mapping, StatusMeaning};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plan(mapping: &str, data: &str) -> plaint_import::ImportPlan {
    let root = repo_root();
    let mapping = Mapping::from_path(&root.join("examples/mappings").join(mapping)).expect("mapping parses");
    let file = std::fs::File::open(root.join("../shared/data").join(data)).expect("data file present");
    plan_csv(&mapping, file).expect("file reads")
}

#[test]
fn baltimore_mapping_plans_every_row_and_reports_the_blank_due_dates() {
    let plan = plan("baltimore311.toml", "baltimore311_sample.csv");
    assert_eq!(plan.rows_read, 10_000);
    assert_eq!(plan.summary().count(AnomalyKind::BlankDue), 286);
    assert_eq!(plan.summary().count(AnomalyKind::DuplicateWithoutTarget), 207);
    assert_eq!(plan.summary().count(AnomalyKind::BlankValue), 800, "blank Neighborhood");
    assert_eq!(plan.rows_rejected, 0, "{}", plan.summary());
    assert_eq!(plan.tickets.len(), 10_000);
    let transferred = plan
        .tickets
        .iter()
        .filter(|t| t.outcome == StatusMeaning::Transferred)
        .count();
    assert_eq!(transferred, 18);
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

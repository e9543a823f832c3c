//! The CFPB extract (8,340 real consumer-finance complaints, one short row) imported through the
//! shipped mapping into a real file store; the share dispatched (received → sent to company)
//! within 1 working day per `Submitted via` channel checked against a computation over the CSV
//! written here; the bureau's `Timely response?` verdict kept as an attribute reports group by.

use plaint::engine::fixed_clock;
use plaint::projections::sla::GroupBy;
use plaint::{AuditFilter, Engine, EngineConfig};
use plaint_domain::calendar::Calendar;
use plaint_domain::policy::Policy;
use plaint_domain::{Event, Timestamp};
use plaint_import::report::dispatch_within_working_days;
use plaint_import::{plan_csv_for_policy, AnomalyKind, Decision, ImportPlan, Mapping};
use std::collections::BTreeMap;
use std::path::PathBuf;

const RECORDED_AT: &str = "2026-11-25T08:00:00Z";
const BATCH_COMMANDS: usize = 3_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data_file() -> PathBuf {
    repo().join("../shared/data/cfpb_2014_oct_nov.csv")
}

async fn open_engine(dir: &std::path::Path) -> Engine {
    let text = std::fs::read_to_string(repo().join("examples/mappings/policy.toml")).expect("shipped policy");
    let mut cfg = EngineConfig::file(dir).with_clock(fixed_clock(Timestamp::parse_rfc3339(RECORDED_AT).unwrap()));
    cfg.policy = Policy::from_toml_str(&text).expect("shipped policy parses");
    Engine::open(cfg).await.expect("engine opens")
}

fn plan_file(engine: &Engine) -> ImportPlan {
    let mapping = Mapping::from_path(&repo().join("examples/mappings/cfpb.toml")).expect("mapping parses");
    let file = std::fs::File::open(data_file()).expect("data file");
    plan_csv_for_policy(&mapping, file, engine.policy()).expect("file reads")
}

async fn execute(engine: &Engine, plan: &ImportPlan) -> usize {
    let mut events = 0;
    for batch in plan.batches(BATCH_COMMANDS) {
        let out = engine.execute_batch(batch).await.expect("batch commits");
        let rejected: Vec<String> = out.rejections().map(|(i, r)| format!("#{i}: {r}")).take(5).collect();
        assert_eq!(out.rejected, 0, "the domain refused imported commands: {rejected:?}");
        events += out.events;
    }
    events
}

async fn all_events(engine: &Engine) -> Vec<Event> {
    let mut events = Vec::new();
    engine
        .audit_each(&AuditFilter::default(), &mut |e| {
            events.push(e);
            true
        })
        .await
        .expect("audit read");
    events
}

/// US federal holidays of 2014 that fall in or near the extract (OPM), written out here
/// independently of the shipped calendar file.
const HOLIDAYS_2014: [(u32, u32); 4] = [(10, 13), (11, 11), (11, 27), (12, 25)];

/// The spreadsheet computation: dates as written (M/D/YYYY); working days counted from the
/// received date (inclusive) to the sent date (exclusive), weekends and federal holidays off;
/// within 1 working day when that count is at most 1. Per `Submitted via`: (rows, within).
fn expected_from_csv() -> BTreeMap<String, (u64, u64)> {
    use chrono::{Datelike, NaiveDate, Weekday};
    let working = |d: NaiveDate| {
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let holiday = d.year() == 2014 && HOLIDAYS_2014.contains(&(d.month(), d.day()));
        !weekend && !holiday
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(data_file())
        .expect("csv opens");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column present");
    let (via, received, sent) = (col("Submitted via"), col("Date received"), col("Date sent to company"));
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        let r = NaiveDate::parse_from_str(&row[received], "%m/%d/%Y").expect("received date");
        let s = NaiveDate::parse_from_str(&row[sent], "%m/%d/%Y").expect("sent date");
        let mut days = 0;
        let mut d = r;
        while d < s {
            if working(d) {
                days += 1;
            }
            d = d.succ_opt().unwrap();
        }
        let e = out.entry(row[via].to_owned()).or_default();
        e.0 += 1;
        if days <= 1 {
            e.1 += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cfpb_import_dispatch_share_per_channel_matches_the_spreadsheet() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(dir.path()).await;
    let plan = plan_file(&engine);

    // The one short row is reported on its line, imported with the mapping's stated fix.
    assert_eq!(plan.rows_read, 8_340);
    let short: Vec<_> = plan
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::ShortRow)
        .collect();
    assert_eq!(short.len(), 1);
    assert_eq!((short[0].line, short[0].decision), (8341, Decision::Import));
    assert!(short[0].fix.as_deref().unwrap().contains("blank"));
    assert_eq!(plan.rows_rejected, 0, "{}", plan.summary());

    let events = execute(&engine, &plan).await;
    assert_eq!(events, plan.command_count());

    // Dispatch within 1 working day per channel, from the imported events.
    let calendar = Calendar::from_toml_str(
        &std::fs::read_to_string(repo().join("examples/mappings/us-federal-2014.calendar.toml")).unwrap(),
    )
    .expect("shipped calendar");
    let events = all_events(&engine).await;
    let report = dispatch_within_working_days(&events, "submitted_via", 1, &calendar);
    let expected = expected_from_csv();
    let actual: BTreeMap<String, (u64, u64)> = report
        .groups
        .iter()
        .map(|(k, v)| (k.clone(), (v.dispatched, v.within)))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(report.overall.received, 8_340);
    assert_eq!(report.overall.dispatched, 8_340);
    let web = report.groups["Web"];
    let share = web.share().unwrap();
    assert!(share > 0.0 && share < 1.0, "a real mix, not a vacuous figure: {share}");

    // `Timely response?` is an attribute the SLA report groups by: one group per verdict,
    // holding as many tickets as the file has rows with it.
    let now = Timestamp::parse_rfc3339("2014-12-01T05:00:00Z").unwrap();
    let sla = engine
        .sla_report(now, Some(&GroupBy::Attribute("timely_response".into())), None)
        .await
        .expect("report");
    let mut timely: BTreeMap<String, u64> = BTreeMap::new();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(data_file()).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "Timely response?")
        .unwrap();
    for row in reader.records() {
        *timely.entry(row.unwrap()[at].to_owned()).or_default() += 1;
    }
    let grouped: BTreeMap<String, u64> = sla.groups.iter().map(|(k, g)| (k.clone(), g.tickets)).collect();
    assert_eq!(grouped, timely);
    assert_eq!(grouped.get("No"), Some(&161));

    // Importing again adds nothing.
    let head = engine.store().head_position().await.unwrap();
    assert_eq!(execute(&engine, &plan_file(&engine)).await, 0);
    assert_eq!(engine.store().head_position().await.unwrap(), head);
}

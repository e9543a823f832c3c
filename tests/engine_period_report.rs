//! `Engine::period_report` on a generated workload: every section adds up to the period's
//! intake, weeks and months bucket the same office days, and the renderers show every figure.

use plaint::domain::Timestamp;
use plaint::engine::fixed_clock;
use plaint::reports::{IsoWeek, Month, Period};
use plaint::workload::{generate, WorkloadConfig};
use plaint::{report_csv, report_html, Engine, EngineConfig};
use std::collections::BTreeMap;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_and_monthly_sections_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-10-20T00:00:00Z");
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now)))
        .await
        .unwrap();
    let workload = generate(&WorkloadConfig {
        complaints: 400,
        seed: 7,
        ..WorkloadConfig::default()
    });
    for chunk in workload.chunks(plaint::engine::BATCH_COMMANDS_MAX) {
        assert_eq!(engine.execute_batch(chunk.to_vec()).await.unwrap().rejected, 0);
    }

    // Days of September seen through the weekly reports (weeks 36 to 40 cover it).
    let mut september_days: BTreeMap<String, u64> = BTreeMap::new();
    let mut weekly_total = 0;
    for week in 36..=40 {
        let week: IsoWeek = format!("2026-W{week}").parse().unwrap();
        let r = engine.period_report(Period::Week(week), now).await.unwrap();
        let weekly = r.weekly.as_ref().expect("a weekly report carries its own figures");
        assert_eq!(r.received, weekly.received, "week {week}: the weekly report's count");
        assert_eq!(r.daily_intake.len(), 7);
        assert_eq!(r.daily_intake.iter().map(|d| d.count).sum::<u64>(), r.received);
        assert_eq!(r.by_category.values().sum::<u64>(), r.received);
        assert_eq!(r.by_channel.values().sum::<u64>(), r.received);
        assert!(r.from.ends_with("T00:00:00+08:00"), "{}", r.from);
        weekly_total += r.received;
        for d in &r.daily_intake {
            if d.day.starts_with("2026-09") {
                september_days.insert(d.day.clone(), d.count);
            }
        }
        // The renderers show every day and every category.
        let html = report_html::render(&r);
        assert!(html.contains("data-chart=\"daily-intake\" data-marks=\"7\""));
        assert!(html.contains(&format!(
            "data-chart=\"category-mix\" data-marks=\"{}\"",
            r.by_category.len()
        )));
        let tables = report_csv::tables(&r);
        let daily = tables.iter().find(|t| t.name == "daily_intake").unwrap();
        assert_eq!(daily.rows.len(), 8);
    }
    assert!(weekly_total > 300, "the workload lands in these weeks ({weekly_total})");

    let month = engine
        .period_report(Period::Month(Month { year: 2026, month: 9 }), now)
        .await
        .unwrap();
    assert!(month.weekly.is_none());
    assert_eq!(month.daily_intake.len(), 30);
    let monthly_days: BTreeMap<String, u64> = month.daily_intake.iter().map(|d| (d.day.clone(), d.count)).collect();
    assert_eq!(
        monthly_days, september_days,
        "weeks and months bucket the same office days"
    );
    assert_eq!(month.received, monthly_days.values().sum::<u64>());

    // The heat grid is the month's heat map summed over stage and tier.
    let heat = engine.heat_map(Month { year: 2026, month: 9 }).await.unwrap();
    let cells: u64 = heat.cells.iter().map(|c| c.count).sum();
    let grid: u64 = month.heat_map.counts.iter().flatten().sum();
    assert_eq!(grid, cells);
    assert_eq!(month.heat_map.counts.len(), month.heat_map.regions.len());

    // Repeat customers: most tickets first, each with more than one, none named in full.
    let customers = &month.top_repeat_customers;
    assert!(!customers.is_empty());
    assert!(customers.windows(2).all(|w| w[0].tickets >= w[1].tickets));
    assert!(customers.iter().all(|c| c.tickets >= 2 && c.customer.contains('#')));

    // Reports are a function of the log and `now`: the same twice.
    let again = engine
        .period_report(Period::Month(Month { year: 2026, month: 9 }), now)
        .await
        .unwrap();
    assert_eq!(report_html::render(&month), report_html::render(&again));
}

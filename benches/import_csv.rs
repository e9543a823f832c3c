//! Import of the 10,000-row Baltimore 311 sample into a fresh file log (fsync on every durable
//! batch), through the shipped mapping: plan (CSV → commands, anomaly report) and execute.
//! Figures go in docs/PERFORMANCE.md, "Import".
//!
//! cargo bench --bench import_csv -- [--runs N] [--batch COMMANDS]

use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use plaint_domain::policy::Policy;
use plaint_domain::Timestamp;
use plaint_import::{plan_csv_for_policy, Mapping};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runs = arg("--runs", 5);
    let batch = arg("--batch", 5_000);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(repo.join("../shared/data/baltimore311_sample.csv")).expect("data file");
    let mapping = Mapping::from_path(&repo.join("examples/mappings/baltimore311.toml")).expect("mapping");
    let policy =
        Policy::from_toml_str(&std::fs::read_to_string(repo.join("examples/mappings/policy.toml")).unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut plan_times = Vec::new();
    let mut total_times = Vec::new();
    let mut events = 0;
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = EngineConfig::file(dir.path())
            .with_clock(fixed_clock(Timestamp::parse_rfc3339("2026-11-25T08:00:00Z").unwrap()));
        cfg.policy = policy.clone();
        let engine = rt.block_on(Engine::open(cfg)).unwrap();
        let start = Instant::now();
        let plan = plan_csv_for_policy(&mapping, data.as_slice(), engine.policy()).unwrap();
        let planned = start.elapsed();
        events = 0;
        let (rows, tickets) = (plan.rows_read, plan.tickets.len());
        for b in plan.into_batches(batch) {
            let out = rt.block_on(engine.execute_batch(b)).unwrap();
            assert_eq!(out.rejected, 0);
            events += out.events;
        }
        let total = start.elapsed();
        plan_times.push(planned);
        total_times.push(total);
        eprintln!(
            "run: {} rows, {} tickets, {} events; plan {:.1} ms, plan+execute {:.1} ms",
            rows,
            tickets,
            events,
            ms(planned),
            ms(total)
        );
    }
    plan_times.sort();
    total_times.sort();
    let median = |v: &[Duration]| v[v.len() / 2];
    println!(
        "import_csv baltimore311 (10,000 rows, {events} events, batch {batch} commands, fsync per batch): \
         median of {runs} runs: plan {:.1} ms, plan+execute {:.1} ms (min {:.1}, max {:.1}); {:.0} rows/s",
        ms(median(&plan_times)),
        ms(median(&total_times)),
        ms(total_times[0]),
        ms(total_times[total_times.len() - 1]),
        10_000.0 / median(&total_times).as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

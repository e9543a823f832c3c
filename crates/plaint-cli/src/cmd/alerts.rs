//! `plaint alerts [--now T]`: category surges and regions with a high delay share, as of `now`
//! (the facade's `Engine::alerts`; thresholds in the policy's `[alerts]`).

use crate::cmd::listing::{emit, FormatArgs, Rows};
use crate::context::{now_or_wall_clock, parse_instant, show, Context};
use crate::error::ExitCode;
use crate::output::Out;
use crate::tables::percent;
use clap::Args;
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The instant alerts are judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    #[command(flatten)]
    pub output: FormatArgs,
}

pub async fn run(ctx: &Context, args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.now);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.alerts(now).await?;
    let mut rows = Rows::new(&[
        "alert",
        "day or months",
        "category or region",
        "count",
        "baseline",
        "rise or delay share",
    ]);
    for s in &report.surges {
        rows.push(vec![
            "surge".into(),
            s.day.clone(),
            s.category.as_str().to_owned(),
            s.count.to_string(),
            format!("{:.1}", s.baseline),
            percent(s.rise),
        ]);
    }
    for r in &report.region_delays {
        rows.push(vec![
            "region_delay".into(),
            r.months.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>().join(" "),
            r.region.clone(),
            String::new(),
            String::new(),
            r.months
                .iter()
                .map(|(_, share)| percent(Some(*share)))
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    let title = format!(
        "Alerts at {} (policy {}): {} category surges, {} regions with a high delay share",
        show(now),
        report.policy_version,
        report.surges.len(),
        report.region_delays.len()
    );
    let mut out = Out::new();
    emit(
        &mut out,
        args.output.format(),
        "alerts",
        serde_json::json!({ "alerts": report }),
        &title,
        &rows,
    )?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

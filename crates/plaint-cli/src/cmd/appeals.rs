//! `plaint appeals [--now T] [--expired]`: the tickets whose customer may appeal to the postal
//! regulator now (no final answer within the policy's time, or dissatisfied with it), the
//! window closing first (the domain's rule, through `Engine::appeals`).

use crate::cmd::listing::{emit, FormatArgs, Rows};
use crate::context::{now_or_wall_clock, parse_instant, show, Context};
use crate::error::ExitCode;
use crate::output::Out;
use clap::Args;
use plaint::reports::AppealEligibility;
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct AppealsArgs {
    /// The instant eligibility is judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Also list the tickets whose appeal window has closed.
    #[arg(long)]
    pub expired: bool,
    #[command(flatten)]
    pub output: FormatArgs,
}

pub async fn run(ctx: &Context, args: AppealsArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.now);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let appeals = engine.appeals(now, args.expired).await?;
    let mut rows = Rows::new(&[
        "complaint",
        "appeal",
        "reason",
        "since",
        "until",
        "department",
        "status",
    ]);
    for e in appeals.eligible.iter().chain(appeals.expired_tickets.iter()) {
        let (state, reason, since, until) = match &e.appeal {
            AppealEligibility::Eligible { reason, since, until } => ("eligible", *reason, *since, *until),
            AppealEligibility::Expired { reason, since, until } => ("expired", *reason, *since, *until),
            _ => continue,
        };
        let reason = serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.push(vec![
            e.complaint_id.to_string(),
            state.to_owned(),
            reason,
            show(since),
            show(until),
            e.department.clone().unwrap_or_else(|| "-".into()),
            e.status.clone(),
        ]);
    }
    let title = format!(
        "Regulator appeals at {}: {} tickets eligible now, {} windows closed, {} came as a regulator referral",
        show(now),
        appeals.eligible.len(),
        appeals.expired,
        appeals.already_referred
    );
    let mut out = Out::new();
    emit(
        &mut out,
        args.output.format(),
        "appeals",
        serde_json::json!({ "appeals": appeals }),
        &title,
        &rows,
    )?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

//! `plaint queue [--department D] [--handler H] [--at T]`: the open tickets ordered by their next
//! deadline, with the clock, when it is due, whether it is at risk or overdue, the escalation
//! level and who holds the ticket (the facade's `Engine::queue`).

use crate::cmd::listing::{duration, emit, FormatArgs, Rows};
use crate::context::{now_or_wall_clock, parse_instant, show, Context};
use crate::error::ExitCode;
use crate::output::Out;
use clap::Args;
use plaint::reports::QueueFilter;
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Only tickets this department holds now.
    #[arg(long, value_name = "DEPARTMENT")]
    pub department: Option<String>,
    /// Only tickets assigned to this handler now.
    #[arg(long, value_name = "HANDLER")]
    pub handler: Option<String>,
    /// The instant deadlines are judged at; default: the wall clock.
    #[arg(long, alias = "now", value_name = "INSTANT", value_parser = parse_instant)]
    pub at: Option<Timestamp>,
    /// List at most this many tickets (all by default).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub output: FormatArgs,
}

pub async fn run(ctx: &Context, args: QueueArgs) -> anyhow::Result<ExitCode> {
    let now = now_or_wall_clock(args.at);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let filter = QueueFilter {
        department: args.department.clone(),
        handler: args.handler.clone(),
    };
    let mut queue = engine.queue(now, &filter).await?;
    let total = queue.tickets.len();
    if let Some(limit) = args.limit {
        queue.tickets.truncate(limit);
    }
    let mut rows = Rows::new(&[
        "complaint",
        "clock",
        "due",
        "state",
        "overdue by",
        "escalation",
        "department",
        "handler",
        "owner",
        "severity",
        "status",
    ]);
    for t in &queue.tickets {
        rows.push(vec![
            t.complaint_id.to_string(),
            t.clock.map(|c| c.as_str().to_owned()).unwrap_or_else(|| "-".into()),
            t.due_at.map(show).unwrap_or_else(|| "-".into()),
            t.urgency.as_str().to_owned(),
            t.overdue_ms.map(duration).unwrap_or_default(),
            t.escalation_level
                .map(|l| l.as_str().to_owned())
                .unwrap_or_else(|| "-".into()),
            t.department.clone().unwrap_or_else(|| "-".into()),
            t.handler.clone().unwrap_or_else(|| "-".into()),
            t.owner.clone().unwrap_or_else(|| "-".into()),
            t.severity.clone().unwrap_or_else(|| "-".into()),
            t.status.clone(),
        ]);
    }
    let mut scope = String::new();
    if let Some(d) = &queue.department {
        scope.push_str(&format!(" of department {d}"));
    }
    if let Some(h) = &queue.handler {
        scope.push_str(&format!(" of handler {h}"));
    }
    let title = format!(
        "Queue at {}{scope}: {total} open tickets, {} overdue, {} at risk (policy {}){}",
        show(now),
        queue.overdue,
        queue.at_risk,
        queue.policy_version,
        if queue.tickets.len() < total {
            format!("; the first {} shown", queue.tickets.len())
        } else {
            String::new()
        }
    );
    let mut out = Out::new();
    emit(
        &mut out,
        args.output.format(),
        "queue",
        serde_json::json!({ "queue": queue }),
        &title,
        &rows,
    )?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

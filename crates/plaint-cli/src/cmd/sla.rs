//! `plaint sla [--now T] [--group-by G] [--from T --to T]`: SLA compliance per clock.
//! `plaint sla --ticket ID [--now T] [--format table|json|csv]`: one ticket explained: every
//! clock, its deadline, the policy setting and version it came from, the calendar days it
//! skipped, the pauses, the verdict (`Engine::explain_sla`).

use crate::context::{now_or_wall_clock, parse_instant, Context};
use crate::error::{user, ExitCode};
use crate::output::{envelope, Out};
use crate::tables;
use clap::Args;
use plaint::reports::{GroupBy, SlaReport};
use plaint::Timestamp;

#[derive(Debug, Args)]
pub struct SlaArgs {
    /// The instant verdicts are judged at; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
    /// Also break the figures down by severity, customer_tier, category, channel, department,
    /// region, week or attribute:<key>.
    #[arg(long, value_name = "GROUP")]
    pub group_by: Option<String>,
    /// Only tickets received at or after this instant.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant, requires = "to")]
    pub from: Option<Timestamp>,
    /// Only tickets received before this instant.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant, requires = "from")]
    pub to: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `sla_report`).
    #[arg(long)]
    pub json: bool,
    /// Explain one ticket's clocks instead of the whole report.
    #[arg(long, value_name = "COMPLAINT", conflicts_with_all = ["group_by", "from", "to"])]
    pub ticket: Option<String>,
    /// Output format of --ticket.
    #[arg(long, value_enum, requires = "ticket")]
    pub format: Option<crate::cmd::listing::ListFormat>,
}

pub async fn run(ctx: &Context, args: SlaArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = &args.ticket {
        return explain(ctx, &args, id).await;
    }
    let group_by = match &args.group_by {
        Some(text) => Some(GroupBy::parse(text).ok_or_else(|| {
            user(format!(
                "sla: unknown --group-by {text:?}; use severity, customer_tier, category, channel, department, region, \
                 week or attribute:<key>"
            ))
        })?),
        None => None,
    };
    let now = now_or_wall_clock(args.now);
    let received = args.from.zip(args.to);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let report = engine.sla_report(now, group_by.as_ref(), received).await?;
    let mut out = Out::new();
    if args.json {
        out.json_pretty(&envelope("sla_report", serde_json::json!({ "report": report })))?;
    } else {
        out.line(sla_text(&report))?;
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

fn sla_text(r: &SlaReport) -> String {
    let mut s = format!(
        "SLA compliance at {} (policy {}), {} tickets\n\n",
        crate::context::show(r.now),
        r.policy_version,
        r.overall.tickets
    );
    let clocks = serde_json::to_value(&r.overall.clocks).unwrap_or_default();
    let mut clocks_only = serde_json::Map::new();
    if let serde_json::Value::Object(map) = clocks {
        for (clock, mut summary) in map {
            if let serde_json::Value::Object(fields) = &mut summary {
                fields.remove("lateness");
            }
            clocks_only.insert(clock, summary);
        }
    }
    if let Some(t) = tables::object_map_table("clock", &serde_json::Value::Object(clocks_only)) {
        s.push_str(&format!("{t}\n"));
    }
    if !r.groups.is_empty() {
        let mut t = tables::table(&[
            r.group_by.as_deref().unwrap_or("group"),
            "tickets",
            "clock",
            "on time",
            "met",
            "breached",
            "pending",
            "pending overdue",
        ]);
        for (group, g) in &r.groups {
            // A clock that applies to no ticket of the group (imported history records only
            // its resolution deadline, say) would only add rows of dashes; JSON keeps them.
            for (clock, c) in g
                .clocks
                .iter()
                .filter(|(_, c)| c.met + c.breached + c.pending + c.pending_overdue > 0)
            {
                t.add_row(vec![
                    group.clone(),
                    g.tickets.to_string(),
                    clock.clone(),
                    tables::percent(c.on_time_rate),
                    c.met.to_string(),
                    c.breached.to_string(),
                    c.pending.to_string(),
                    c.pending_overdue.to_string(),
                ]);
            }
        }
        s.push_str(&format!("\n{t}\n"));
    }
    s
}

async fn explain(ctx: &Context, args: &SlaArgs, id: &str) -> anyhow::Result<ExitCode> {
    use crate::cmd::listing::{duration, emit, ListFormat, Rows};
    use crate::context::show;
    use plaint::reports::Verdict;
    let id = crate::context::complaint_id(id)?;
    let now = now_or_wall_clock(args.now);
    let engine = ctx.open_engine_for_read(Some(now)).await?;
    let e = engine.explain_sla(&id, now).await?;
    let format = match (args.json, args.format) {
        (true, _) => ListFormat::Json,
        (false, Some(f)) => f,
        (false, None) => ListFormat::Table,
    };
    let mut rows = Rows::new(&[
        "clock",
        "started",
        "allowance",
        "rule",
        "recorded due",
        "paused",
        "due",
        "days skipped",
        "verdict",
    ]);
    for c in &e.clocks {
        let verdict = match c.sla.verdict {
            Verdict::Met { at, margin_ms } => format!("met at {} ({} early)", show(at), duration(margin_ms)),
            Verdict::Breached { at, late_ms } => format!("breached: done {} ({} late)", show(at), duration(late_ms)),
            Verdict::Pending if c.sla.at_risk => "pending, at risk".to_owned(),
            Verdict::Pending => "pending".to_owned(),
            Verdict::PendingOverdue { overdue_ms } => format!("overdue by {}", duration(overdue_ms)),
            Verdict::NotApplicable => "not applicable".to_owned(),
        };
        let skipped = skipped_text(&c.skipped_days);
        let opt = |t: Option<plaint::Timestamp>| t.map(show).unwrap_or_else(|| "-".into());
        rows.push(vec![
            c.sla.clock.as_str().to_owned(),
            opt(c.sla.started_at),
            c.allowance.clone().unwrap_or_else(|| "-".into()),
            c.rule.clone().unwrap_or_else(|| "-".into()),
            opt(c.sla.recorded_due_at),
            if c.sla.paused_ms > 0 {
                duration(c.sla.paused_ms)
            } else {
                "-".into()
            },
            opt(c.sla.effective_due_at),
            if skipped.is_empty() { "-".into() } else { skipped },
            verdict,
        ]);
    }
    let pauses = if e.pauses.is_empty() {
        "no pauses".to_owned()
    } else {
        e.pauses
            .iter()
            .map(|p| {
                format!(
                    "on hold {} .. {} ({})",
                    show(p.from),
                    p.until.map(show).unwrap_or_else(|| "still on hold".into()),
                    serde_json::to_value(p.reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let appeal = match &e.appeal {
        plaint::reports::AppealEligibility::Eligible { until, .. } => {
            format!("the customer may appeal to the regulator until {}", show(*until))
        }
        plaint::reports::AppealEligibility::Expired { until, .. } => {
            format!("the appeal window closed at {}", show(*until))
        }
        plaint::reports::AppealEligibility::AlreadyReferred => "came as a regulator referral".to_owned(),
        _ => "no ground for a regulator appeal".to_owned(),
    };
    let title =
        format!(
        "SLA of {} at {}: {}; deadlines from policy {} (judged with {}), calendar {} ({}{}), severity {}, channel {}\n\
         {pauses}{}; {appeal}",
        e.complaint_id,
        show(now),
        if e.any_breach { "BREACHED" } else { "no breach" },
        e.policy_version.as_deref().unwrap_or("-"),
        e.judged_with_policy,
        e.calendar,
        e.time_zone,
        if e.calendar_covered { "" } else { ", holiday data missing for a deadline" },
        e.severity.as_deref().unwrap_or("unclassified"),
        e.channel,
        if e.closed { "; closed" } else { "" },
    );
    let mut out = Out::new();
    emit(
        &mut out,
        format,
        "sla_explanation",
        serde_json::json!({ "sla": e }),
        &title,
        &rows,
    )?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// Runs of skipped days with the same reason: `2026-10-01..07 国庆节 National Day, 2026-10-11 weekend`.
fn skipped_text(days: &[plaint::desk::SkippedDay]) -> String {
    let mut runs: Vec<(String, String, String)> = Vec::new();
    for d in days {
        let consecutive = runs.last().is_some_and(|(_, last, why)| {
            why == &d.why
                && chrono::NaiveDate::parse_from_str(last, "%Y-%m-%d")
                    .ok()
                    .and_then(|l| l.succ_opt())
                    .map(|n| n.to_string())
                    .as_deref()
                    == Some(d.date.as_str())
        });
        if consecutive {
            if let Some(run) = runs.last_mut() {
                run.1 = d.date.clone();
            }
        } else {
            runs.push((d.date.clone(), d.date.clone(), d.why.clone()));
        }
    }
    runs.into_iter()
        .map(|(first, last, why)| {
            if first == last {
                format!("{first} {why}")
            } else {
                format!("{first}..{} {why}", &last[8..])
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

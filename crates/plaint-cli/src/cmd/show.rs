//! `plaint show ID [--as-of T]`: one complaint now, or as it stood at an instant (business time).

use crate::context::{complaint_id, parse_instant, Context};
use crate::error::{user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::Args;
use plaint::reports::TicketView;
use plaint::{PersonalFields, Reveal, Ticket, Timestamp};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The complaint id, e.g. CMP-2026-000123.
    pub complaint: String,
    /// Show the complaint as it stood at this instant (RFC 3339 or YYYY-MM-DD): only events whose
    /// business time is at or before it count.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub as_of: Option<Timestamp>,
    /// Print JSON (docs/json-format.md, `ticket`).
    #[arg(long)]
    pub json: bool,
    /// Show the customer's personal fields in clear (for a caller allowed to see them); they
    /// are masked otherwise.
    #[arg(long)]
    pub reveal: bool,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let id = complaint_id(&args.complaint)?;
    let engine = ctx.open_engine_for_read(None).await?;
    let reveal = if args.reveal { Reveal::Clear } else { Reveal::Masked };
    let ticket = match args.as_of {
        Some(at) => engine.ticket_as_of(&id, at, reveal).await,
        None => engine.ticket(&id, reveal).await,
    };
    let ticket = match (ticket, args.as_of) {
        (Err(plaint::EngineError::UnknownComplaint { .. }), Some(at)) => {
            return Err(user_hint(
                format!("complaint {id} did not exist yet at {at}"),
                "pick a later --as-of, or see `plaint history` for when it was received",
            ))
        }
        (other, _) => other?,
    };
    let mut out = Out::new();
    if args.json {
        let payload = serde_json::json!({
            "as_of": args.as_of,
            "ticket": ticket_json(&ticket),
        });
        out.json_pretty(&envelope("ticket", payload))?;
    } else {
        print_ticket(&mut out, &ticket.view, &ticket.personal)?;
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// The ticket's JSON: the projection's view, with `complaint_id` for the id.
pub fn ticket_json(ticket: &Ticket) -> serde_json::Value {
    let mut value = serde_json::to_value(ticket).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        if let Some(id) = map.remove("id") {
            map.insert("complaint_id".into(), id);
        }
    }
    value
}

fn print_ticket(out: &mut Out, t: &TicketView, personal: &PersonalFields) -> anyhow::Result<()> {
    use crate::context::show;
    let opt = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    let rows: Vec<(&str, String)> = vec![
        ("complaint", t.id.to_string()),
        ("status", t.status.as_str().to_owned()),
        (
            "version",
            format!("{} (last position {})", t.stream_version, t.last_position),
        ),
        ("channel", t.channel.as_str().to_owned()),
        ("contact at", show(t.contact_at)),
        ("received at", show(t.received_at)),
        ("updated at", show(t.updated_at)),
        (
            "region",
            format!(
                "{}{}",
                t.region,
                t.outlet.as_ref().map(|o| format!(" / {o}")).unwrap_or_default()
            ),
        ),
        ("waybill", opt(t.waybill.as_deref())),
        ("customer", opt(t.customer_id.as_deref())),
        ("personal fields", personal_text(personal)),
        ("category", opt(t.category.map(|c| c.as_str()))),
        ("severity", opt(t.severity.map(|s| s.as_str()))),
        ("customer tier", opt(t.customer_tier.map(|c| c.as_str()))),
        ("department", opt(t.department())),
        (
            "responses",
            t.responses
                .iter()
                .map(|r| format!("{} at {}", r.kind.as_str(), show(r.at)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "escalations",
            t.escalations
                .iter()
                .map(|e| format!("{} at {}", e.level.as_str(), show(e.at)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "deadlines",
            t.deadlines
                .iter()
                .map(|d| format!("{} due {}", d.clock.as_str(), show(d.due_at)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("reopened", t.reopen_count.to_string()),
        ("repeat of", opt(t.repeat_of.as_ref().map(|r| r.as_str()))),
        ("duplicate of", opt(t.duplicate_of.as_ref().map(|r| r.as_str()))),
        // Issue 17: 首问负责制, 督办, every revisit, the closed loop, severity overrides.
        (
            "owner",
            match t.ownership_transfers.len() {
                0 => opt(t.owner.as_deref()),
                n => format!(
                    "{} ({n} transfer{})",
                    opt(t.owner.as_deref()),
                    if n == 1 { "" } else { "s" }
                ),
            },
        ),
        (
            "supervision",
            t.supervisions
                .iter()
                .map(|v| {
                    format!(
                        "#{} by {} due {}, overdue → {}: {}",
                        v.number,
                        v.opened_by,
                        v.due_at,
                        v.escalate_to.as_str(),
                        v.note
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "revisits",
            t.revisits
                .iter()
                .map(|r| format!("{} at {}", if r.satisfied { "satisfied" } else { "unsatisfied" }, r.at))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "revisit attempts",
            if t.revisit_attempts.is_empty() {
                String::new()
            } else {
                t.revisit_attempts.len().to_string()
            },
        ),
        (
            "closed without revisit",
            opt(t.closed.and_then(|c| c.without_revisit).map(|r| r.as_str())),
        ),
        (
            "severity override",
            t.severity_override
                .as_ref()
                .map(|o| {
                    format!(
                        "suggested {} ({}), classified {}: {}",
                        o.suggested.as_str(),
                        o.rules.join(", "),
                        o.classified.as_str(),
                        o.reason
                    )
                })
                .unwrap_or_default(),
        ),
    ];
    for (name, value) in rows {
        table.add_row(vec![name.to_owned(), if value.is_empty() { "-".into() } else { value }]);
    }
    for line in table.to_string().lines() {
        out.line(line.trim_end())?;
    }
    Ok(())
}

fn personal_text(p: &PersonalFields) -> String {
    match p {
        PersonalFields::Masked { name, phone, address } | PersonalFields::Clear { name, phone, address } => {
            [name, phone, address]
                .iter()
                .filter_map(|f| f.as_deref())
                .collect::<Vec<_>>()
                .join(", ")
        }
        PersonalFields::None => "none".into(),
        _ => "erased".into(),
    }
}

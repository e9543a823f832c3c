//! Events as the CLI prints them: one text line for people. The JSON form is the facade's
//! (`Engine::event_record`, docs/json-format.md `event`): the same shape `plaint export` writes.

use plaint::{Event, EventData};

/// One line for people: `CMP-1 #3 2026-10-12T09:40:00+08:00 Classified by agent-1 (position 3)`,
/// the time in the display zone (`crate::context::zone`).
pub fn event_line(event: &Event) -> String {
    let m = &event.meta;
    let detail = summary(&event.data);
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    format!(
        "{} #{} {} {} by {}{} (position {}, command {})",
        m.complaint_id,
        m.stream_version,
        crate::context::show(m.occurred_at),
        event.data.type_name(),
        m.actor,
        detail,
        m.position,
        m.command_id
    )
}

/// A few words on what the event says.
fn summary(data: &EventData) -> String {
    match data {
        EventData::Received(r) => format!("{} via {}", r.region, r.channel.as_str()),
        EventData::Verified(v) => match &v.repeat_of {
            Some(earlier) => format!("repeat of {earlier}"),
            None => String::new(),
        },
        EventData::Rejected(r) => format!("{:?}", r.reason).to_lowercase(),
        EventData::MergedAsDuplicate(m) => format!("into {}", m.into),
        EventData::Classified(c) => format!(
            "{} / {} / {}",
            c.category.as_str(),
            c.severity.as_str(),
            c.customer_tier.as_str()
        ),
        EventData::Dispatched(d) => format!("to {}", d.department.0),
        EventData::Redispatched(r) => format!("{} → {}", r.from.0, r.to.0),
        EventData::Responded(r) => r.kind.as_str().to_owned(),
        EventData::Compensated(c) => format!("{} fen", c.compensation.granted.fen()),
        EventData::Escalated(e) => e.level.as_str().to_owned(),
        EventData::Reopened(r) => format!("reopen #{}", r.reopen_count),
        EventData::Closed(c) => match c.without_revisit {
            Some(r) => format!("{:?} without revisit: {}", c.resolution, r.as_str()).to_lowercase(),
            None => format!("{:?}", c.resolution).to_lowercase(),
        },
        EventData::CustomerErased(e) => format!("{} keys destroyed ({})", e.key_ids.len(), e.legal_basis),
        EventData::RevisitAttempted(a) => format!("attempt #{}", a.attempt),
        EventData::OwnershipTransferred(o) => format!("owner {} → {}", o.from.as_deref().unwrap_or("-"), o.to),
        EventData::SupervisionOpened(o) => format!(
            "supervision #{} due {}, overdue → {}",
            o.number,
            o.deadline.due_at,
            o.escalate_to.as_str()
        ),
        EventData::SeverityOverridden(o) => format!(
            "{} below suggested {} ({})",
            o.classified.as_str(),
            o.suggested.as_str(),
            o.rules.join(", ")
        ),
        EventData::OnHold(_) | EventData::Resumed(_) | EventData::Revisited(_) => String::new(),
        EventData::CompensationProposed(p) => format!(
            "{} proposed, {} fen ({:?})",
            p.compensation_id,
            p.compensation.granted.fen(),
            p.compensation.remedy
        )
        .to_lowercase(),
        EventData::CompensationApproved(a) => format!(
            "{} approved by {}, {} fen, pay by {}",
            a.compensation_id,
            a.role.as_str(),
            a.amount.fen(),
            a.payment_due_at
        ),
        EventData::CompensationPaid(p) => match p.late_ms {
            0 => format!("{} paid, {} fen ({})", p.compensation_id, p.amount.fen(), p.reference),
            late => format!(
                "{} paid, {} fen ({}), {} min late",
                p.compensation_id,
                p.amount.fen(),
                p.reference,
                late / 60_000
            ),
        },
        EventData::CompensationRefused(r) => format!("{} refused: {}", r.compensation_id, r.reason),
        EventData::IncidentOpened(o) => format!("{} ({}), {} members", o.incident_id, o.title, o.members.len()),
        EventData::IncidentLinked(l) => format!("to {} held by {}", l.incident_id, l.lead),
        EventData::IncidentProgressReported(r) => match r.missed {
            0 if r.late_ms == 0 => format!("{} on time", r.incident_id),
            missed => format!("{} late, {missed} daily reports missed", r.incident_id),
        },
        EventData::ImprovementRecorded(i) => {
            format!("{} for {} ({})", i.action_id, i.category.as_str(), i.department.0)
        }
        EventData::TokenIssued(t) => format!("token {} ({}, role {})", t.token_id, t.name, t.role),
        EventData::TokenRevoked(t) => format!("token {} revoked ({})", t.token_id, t.reason),
        EventData::PersonalDataRevealed(r) => format!(
            "personal data of {} revealed to role {} ({})",
            r.complaint_id, r.role, r.reason
        ),
        EventData::DisputeEscalated(d) => format!("{}: {}", d.kind.as_str(), d.note),
    }
}

//! Events as the CLI prints them: one text line for people. The JSON form is the facade's
//! (`Engine::event_record`, docs/json-format.md `event`): the same shape `plaint export` writes.

use plaint::{Event, EventData};

/// One line for people: `CMP-1 #3 2026-10-12T01:40:00Z Classified by agent-1 (position 3)`.
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
        m.occurred_at,
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
        EventData::Closed(c) => format!("{:?}", c.resolution).to_lowercase(),
        EventData::CustomerErased(e) => format!("{} keys destroyed ({})", e.key_ids.len(), e.legal_basis),
        EventData::OnHold(_) | EventData::Resumed(_) | EventData::Revisited(_) => String::new(),
        EventData::TokenIssued(t) => format!("token {} ({}, role {})", t.token_id, t.name, t.role),
        EventData::TokenRevoked(t) => format!("token {} revoked ({})", t.token_id, t.reason),
        EventData::PersonalDataRevealed(r) => format!(
            "personal data of {} revealed to role {} ({})",
            r.complaint_id, r.role, r.reason
        ),
    }
}

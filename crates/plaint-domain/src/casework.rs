//! Issue 17: the compensation lifecycle, major-incident groups and improvement actions of one
//! ticket (docs/domain.md R-COMP-5 … R-COMP-8, R-INC-1 … R-INC-3, R-IMP-1).
//!
//! [`Casework`] is the part of [`ComplaintState`](super::ComplaintState) they need, folded by
//! [`Casework::fold`]; the decisions are methods of the state machine's decider, here so that
//! `state.rs` only dispatches to them.
//!
//! - **Compensation** (seeds/001 §三 明确赔偿标准和支付时限; DOMAIN.md §6): `propose_compensation`
//!   computes the ceiling as a grant does and reserves the amount against the per-ticket ceiling
//!   (R-COMP-3 counts proposals that are not refused); `approve_compensation` needs the role the
//!   policy names for the amount (a higher role may approve), records the payment deadline
//!   (`compensation_lifecycle.payment_within`, the `payment` clock) and the notice the customer
//!   is given (standard, amount, deadline in the office's time zone); `pay_compensation` records
//!   the payment and how late it came; `refuse_compensation` refuses a proposal with a reason
//!   and releases its reservation. A ticket with a proposal waiting or a payment outstanding
//!   cannot be closed.
//! - **Incidents** (seeds/000 重大投诉: 成立专项小组 … 每日向客户通报进展; seeds/002 由企业高管牵头):
//!   `open_incident` on a major, media or group ticket forms the group (named members, roles
//!   from the policy, exactly one leader) and starts the `incident_report` clock;
//!   `report_incident_progress` fulfils the current report, records how late and how many daily
//!   reports were missed, and starts the next; `link_incident` records on another ticket that it
//!   is one of the incident's complaints (several complaints, one cause).
//! - **Improvement** (seeds/002 改进, the fifth step of the loop; 问题改进贡献率):
//!   `record_improvement` records an action against the ticket's category and root cause, owned
//!   by a department of the policy.

use super::{Decider, Rejection, Status, TEXT_LEN_MAX};
use crate::command::*;
use crate::event::*;
use crate::ids::ComplaintId;
use crate::policy::{CalendarNeeds, RULE_INCIDENT_REPORT_PREFIX, RULE_PAYMENT_PREFIX};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Most compensation proposals, incident members or improvement actions on one ticket.
pub const CASEWORK_ITEMS_MAX: usize = 64;

/// Where one proposed compensation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompensationStatus {
    Proposed,
    Approved,
    Paid,
    Refused,
}

impl CompensationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CompensationStatus::Proposed => "proposed",
            CompensationStatus::Approved => "approved",
            CompensationStatus::Paid => "paid",
            CompensationStatus::Refused => "refused",
        }
    }
}

/// One proposed compensation of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationCase {
    pub id: String,
    pub remedy: Remedy,
    pub amount: Money,
    pub status: CompensationStatus,
    /// Set at approval.
    pub due_at: Option<Timestamp>,
    /// The rule's legal basis (the standard the customer is told).
    pub legal_basis: String,
}

/// The incident group a ticket holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentGroup {
    pub incident_id: String,
    pub members: Vec<IncidentMember>,
    /// The current report's deadline.
    pub next_due: Timestamp,
    pub reports: u32,
    /// The level a missed report escalates to (recorded at the opening; R-INC-4).
    #[serde(default)]
    pub overdue_level: Option<EscalationLevel>,
}

/// The issue-17 part of a complaint's state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Casework {
    pub compensations: Vec<CompensationCase>,
    pub incident: Option<IncidentGroup>,
    /// The incident this ticket is one of the complaints of (incident id, lead ticket).
    pub linked_incident: Option<(String, ComplaintId)>,
    pub improvements: Vec<String>,
}

impl Casework {
    /// Folds one event in. Never refuses: events are facts.
    pub fn fold(&mut self, data: &EventData) {
        match data {
            EventData::CompensationProposed(p) => self.compensations.push(CompensationCase {
                id: p.compensation_id.clone(),
                remedy: p.compensation.remedy,
                amount: p.compensation.granted,
                status: CompensationStatus::Proposed,
                due_at: None,
                legal_basis: p.compensation.legal_basis.clone(),
            }),
            EventData::CompensationApproved(a) => {
                if let Some(c) = self.case_mut(&a.compensation_id) {
                    c.status = CompensationStatus::Approved;
                    c.due_at = Some(a.payment_due_at);
                }
            }
            EventData::CompensationPaid(p) => {
                if let Some(c) = self.case_mut(&p.compensation_id) {
                    c.status = CompensationStatus::Paid;
                }
            }
            EventData::CompensationRefused(r) => {
                if let Some(c) = self.case_mut(&r.compensation_id) {
                    c.status = CompensationStatus::Refused;
                }
            }
            EventData::IncidentOpened(o) => {
                self.incident = Some(IncidentGroup {
                    incident_id: o.incident_id.clone(),
                    members: o.members.clone(),
                    next_due: o.deadlines.first().map_or(Timestamp::MAX, |d| d.due_at),
                    reports: 0,
                    overdue_level: o.overdue_level,
                })
            }
            EventData::IncidentProgressReported(r) => {
                if let Some(g) = &mut self.incident {
                    g.reports = g.reports.saturating_add(1);
                    g.next_due = r.deadlines.first().map_or(Timestamp::MAX, |d| d.due_at);
                }
            }
            EventData::IncidentLinked(l) => self.linked_incident = Some((l.incident_id.clone(), l.lead.clone())),
            EventData::ImprovementRecorded(i) => self.improvements.push(i.action_id.clone()),
            _ => {}
        }
    }

    /// The watchdog rung an event plans, read from this casework *after* the event was folded
    /// in (docs/domain.md R-COMP-9, R-INC-4): an approved compensation's payment deadline
    /// (`payment.<compensation_id>`), and each incident report deadline
    /// (`incident_report.<incident_id>.<n>`, n reports made before it). The level is the one
    /// recorded in `CompensationApproved` / `IncidentOpened` (none in events before schema v2).
    pub fn planned_escalation(&self, data: &EventData) -> Option<EscalationDue> {
        match data {
            EventData::CompensationApproved(a) => Some(EscalationDue {
                rule_id: format!("{RULE_PAYMENT_PREFIX}{}", a.compensation_id),
                level: a.overdue_level?,
                due_at: a.payment_due_at,
            }),
            EventData::IncidentOpened(_) | EventData::IncidentProgressReported(_) => {
                let g = self.incident.as_ref()?;
                Some(EscalationDue {
                    rule_id: incident_rule_id(&g.incident_id, g.reports),
                    level: g.overdue_level?,
                    due_at: g.next_due,
                })
            }
            _ => None,
        }
    }

    /// For a payment or incident-report rung (R-COMP-9, R-INC-4): whether what it watches is
    /// still unmet — the compensation approved and unpaid, the report not made. `None`: not
    /// such a rung.
    pub fn rung_pending(&self, rule_id: &str) -> Option<bool> {
        if let Some(id) = rule_id.strip_prefix(RULE_PAYMENT_PREFIX) {
            return Some(self.case(id).is_some_and(|c| c.status == CompensationStatus::Approved));
        }
        if rule_id.starts_with(RULE_INCIDENT_REPORT_PREFIX) {
            return Some(
                self.incident
                    .as_ref()
                    .is_some_and(|g| incident_rule_id(&g.incident_id, g.reports) == rule_id),
            );
        }
        None
    }

    fn case_mut(&mut self, id: &str) -> Option<&mut CompensationCase> {
        self.compensations.iter_mut().find(|c| c.id == id)
    }

    /// A proposal by id.
    pub fn case(&self, id: &str) -> Option<&CompensationCase> {
        self.compensations.iter().find(|c| c.id == id)
    }

    /// Proposals waiting for a decision, or approved and unpaid: what keeps a ticket open.
    pub fn outstanding(&self) -> impl Iterator<Item = &CompensationCase> {
        self.compensations
            .iter()
            .filter(|c| matches!(c.status, CompensationStatus::Proposed | CompensationStatus::Approved))
    }

    /// The earliest payment deadline of the approved, unpaid compensations other than `except`.
    fn earliest_unpaid_due(&self, except: &str) -> Option<Timestamp> {
        self.compensations
            .iter()
            .filter(|c| c.status == CompensationStatus::Approved && c.id != except)
            .filter_map(|c| c.due_at)
            .min()
    }
}

/// The rule id of an incident group's report deadline after `reports` reports.
fn incident_rule_id(incident_id: &str, reports: u32) -> String {
    format!("{RULE_INCIDENT_REPORT_PREFIX}{incident_id}.{reports}")
}

/// Amounts in yuan for the customer notice: `1234` fen → `12.34`.
fn yuan(m: Money) -> String {
    let sign = if m.0 < 0 { "-" } else { "" };
    let a = m.0.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

impl Decider<'_, '_, '_, '_> {
    /// The transition table of issue 17's commands (`None`: not one of them).
    pub(super) fn casework_allowed(&self) -> Option<bool> {
        use Status as S;
        let s = self.state.status;
        let handling = matches!(s, S::Dispatched | S::OnHold | S::Responded | S::Revisited);
        Some(match &self.cmd.body {
            CommandBody::ProposeCompensation(_)
            | CommandBody::ApproveCompensation(_)
            | CommandBody::PayCompensation(_)
            | CommandBody::RefuseCompensation(_)
            | CommandBody::RecordImprovement(_) => handling,
            CommandBody::OpenIncident(_) | CommandBody::ReportIncidentProgress(_) => handling || s == S::Classified,
            CommandBody::LinkIncident(_) => handling || matches!(s, S::Received | S::Verified | S::Classified),
            // R-DSP-1: a dispute may escalate at any point while the ticket is open.
            CommandBody::RecordDisputeEscalation(_) => s.is_open(),
            _ => return None,
        })
    }

    /// Issue 17's decisions (`None`: not one of its commands).
    pub(super) fn casework(&self) -> Option<Result<EventData, Rejection>> {
        Some(match &self.cmd.body {
            CommandBody::ProposeCompensation(p) => self.propose_compensation(p),
            CommandBody::ApproveCompensation(a) => self.approve_compensation(a),
            CommandBody::PayCompensation(p) => self.pay_compensation(p),
            CommandBody::RefuseCompensation(r) => self.refuse_compensation(r),
            CommandBody::OpenIncident(o) => self.open_incident(o),
            CommandBody::LinkIncident(l) => self.link_incident(l),
            CommandBody::ReportIncidentProgress(r) => self.report_incident_progress(r),
            CommandBody::RecordImprovement(r) => self.record_improvement(r),
            CommandBody::RecordDisputeEscalation(d) => self.record_dispute_escalation(d),
            _ => return None,
        })
    }

    /// R-COMP-8 and the closed loop: nothing outstanding when a ticket closes.
    pub(super) fn check_nothing_outstanding(&self) -> Result<(), Rejection> {
        if let Some(c) = self.state.casework.outstanding().next() {
            return Err(self.invalid(
                "compensation",
                format!(
                    "compensation {} of {} yuan is {}: approve and pay it, or refuse it, before the ticket closes",
                    c.id,
                    yuan(c.amount),
                    if c.status == CompensationStatus::Proposed {
                        "waiting for approval"
                    } else {
                        "approved and unpaid"
                    }
                ),
            ));
        }
        Ok(())
    }

    fn item_id(&self, field: &'static str, id: &str) -> Result<(), Rejection> {
        if id.trim().is_empty() {
            return Err(self.invalid(field, "is empty"));
        }
        self.short(field, Some(id))
    }

    fn required_text(&self, field: &'static str, s: &str) -> Result<(), Rejection> {
        if s.trim().is_empty() {
            return Err(self.invalid(field, "is empty"));
        }
        self.text(field, s, TEXT_LEN_MAX)
    }

    fn known_case(&self, id: &str) -> Result<&CompensationCase, Rejection> {
        self.state.casework.case(id).ok_or_else(|| {
            let known: Vec<&str> = self
                .state
                .casework
                .compensations
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            self.invalid(
                "compensation_id",
                format!("no compensation {id:?} was proposed on this ticket (proposed: {known:?})"),
            )
        })
    }

    fn wrong_status(&self, c: &CompensationCase, wanted: &str) -> Rejection {
        self.invalid(
            "compensation_id",
            format!("compensation {} is {}, not {wanted}", c.id, c.status.as_str()),
        )
    }

    /// R-COMP-5: the ceiling bounds the sum of what is proposed and not refused.
    fn propose_compensation(&self, p: &ProposeCompensation) -> Result<EventData, Rejection> {
        self.item_id("compensation_id", &p.compensation_id)?;
        self.text("note", &p.note, TEXT_LEN_MAX)?;
        if self.state.casework.case(&p.compensation_id).is_some() {
            return Err(self.invalid(
                "compensation_id",
                format!("compensation {} was already proposed on this ticket", p.compensation_id),
            ));
        }
        if self.state.casework.compensations.len() >= CASEWORK_ITEMS_MAX {
            return Err(self.invalid(
                "compensation_id",
                format!("{CASEWORK_ITEMS_MAX} compensations proposed already"),
            ));
        }
        if p.compensation.amount.0 <= 0 && p.compensation.remedy == Remedy::Payment {
            return Err(self.invalid("compensation.amount", "a payment needs a positive amount in fen"));
        }
        let compensation = self.compensation(&p.compensation)?;
        Ok(EventData::CompensationProposed(CompensationProposed {
            compensation_id: p.compensation_id.clone(),
            compensation,
            note: p.note.clone(),
        }))
    }

    /// R-COMP-6 and R-COMP-7: the role the policy names for the amount; the payment deadline
    /// recorded and stated to the customer.
    fn approve_compensation(&self, a: &ApproveCompensation) -> Result<EventData, Rejection> {
        let c = self.known_case(&a.compensation_id)?;
        if c.status != CompensationStatus::Proposed {
            return Err(self.wrong_status(c, "proposed"));
        }
        let lifecycle = &self.ctx.policy.compensation_lifecycle;
        let required = lifecycle.required_role(c.amount.0);
        if a.role < required {
            return Err(self.invalid(
                "role",
                format!(
                    "{} yuan needs approval by {} or above (policy {}), not {}",
                    yuan(c.amount),
                    required.as_str(),
                    self.ctx.policy.version,
                    a.role.as_str()
                ),
            ));
        }
        let mut needs = CalendarNeeds::default();
        let due = lifecycle
            .payment_within
            .after_noting(self.ctx.calendar, &mut needs, self.at);
        self.calendar_covered(needs)?;
        let clock_due = self
            .state
            .casework
            .earliest_unpaid_due(&c.id)
            .map_or(due, |d| d.min(due));
        let standard = &c.legal_basis;
        let local_due = self.ctx.calendar.local(due);
        let customer_notice = format!(
            "赔偿标准：{standard}；赔偿金额：{} 元；支付时限：{} 前支付。",
            yuan(c.amount),
            local_due.format("%Y-%m-%d %H:%M")
        );
        Ok(EventData::CompensationApproved(CompensationApproved {
            compensation_id: c.id.clone(),
            role: a.role,
            required_role: required,
            amount: c.amount,
            payment_due_at: due,
            deadlines: vec![ClockDeadline {
                clock: Clock::Payment,
                due_at: clock_due,
                pausable: false,
            }],
            customer_notice,
            policy_version: self.ctx.policy.version.clone(),
            overdue_level: Some(lifecycle.overdue_level),
        }))
    }

    /// R-COMP-7: paid, and how late against its own deadline.
    fn pay_compensation(&self, p: &PayCompensation) -> Result<EventData, Rejection> {
        let c = self.known_case(&p.compensation_id)?;
        if c.status != CompensationStatus::Approved {
            return Err(self.wrong_status(c, "approved"));
        }
        self.item_id("reference", &p.reference)?;
        let due_at = c.due_at.unwrap_or(self.at);
        let rest = self.state.casework.earliest_unpaid_due(&c.id);
        Ok(EventData::CompensationPaid(CompensationPaid {
            compensation_id: c.id.clone(),
            amount: c.amount,
            reference: p.reference.clone(),
            due_at,
            late_ms: self.at.millis_since(due_at).max(0),
            settled: rest.is_none(),
            deadlines: rest
                .map(|due_at| ClockDeadline {
                    clock: Clock::Payment,
                    due_at,
                    pausable: false,
                })
                .into_iter()
                .collect(),
        }))
    }

    /// R-COMP-8: a proposal refused with a reason; approved ones are paid, not refused.
    fn refuse_compensation(&self, r: &RefuseCompensation) -> Result<EventData, Rejection> {
        let c = self.known_case(&r.compensation_id)?;
        if c.status != CompensationStatus::Proposed {
            return Err(self.wrong_status(c, "proposed"));
        }
        self.required_text("reason", &r.reason)?;
        Ok(EventData::CompensationRefused(CompensationRefused {
            compensation_id: c.id.clone(),
            amount: c.amount,
            reason: r.reason.clone(),
        }))
    }

    /// R-INC-1: a group on a major, media or group ticket, named members with the policy's
    /// roles, exactly one leader.
    fn open_incident(&self, o: &OpenIncident) -> Result<EventData, Rejection> {
        let s = self.state;
        if s.casework.incident.is_some() {
            return Err(self.invalid("incident_id", "this ticket already holds an incident group"));
        }
        if let Some((id, lead)) = &s.casework.linked_incident {
            return Err(self.invalid(
                "incident_id",
                format!("this ticket is a complaint of incident {id} held by {lead}"),
            ));
        }
        if !(s.severity == Some(Severity::Major) || s.flags.media || s.flags.group) {
            return Err(self.invalid(
                "incident_id",
                "an incident group is formed for major, media or group complaints (seeds/000 重大投诉); classify the ticket major or flag it first",
            ));
        }
        self.item_id("incident_id", &o.incident_id)?;
        self.required_text("title", &o.title)?;
        self.required_text("cause", &o.cause)?;
        let policy = &self.ctx.policy.incident;
        if o.members.is_empty() || o.members.len() > CASEWORK_ITEMS_MAX {
            return Err(self.invalid("members", format!("needs 1..={CASEWORK_ITEMS_MAX} named members")));
        }
        for (i, m) in o.members.iter().enumerate() {
            if m.name.trim().is_empty() || m.name.len() > super::SHORT_TEXT_LEN_MAX {
                return Err(self.invalid("members", format!("member {i}: a name of 1..=256 bytes is needed")));
            }
            if !policy.roles.contains(&m.role) {
                return Err(self.invalid(
                    "members",
                    format!(
                        "member {i} ({}): role {:?} is not one of the policy's {:?}",
                        m.name, m.role, policy.roles
                    ),
                ));
            }
        }
        let leaders = o.members.iter().filter(|m| m.role == policy.leader_role).count();
        if leaders != 1 {
            return Err(self.invalid(
                "members",
                format!(
                    "an incident group has exactly one {} (seeds/002 由企业高管牵头), not {leaders}",
                    policy.leader_role
                ),
            ));
        }
        let mut needs = CalendarNeeds::default();
        let due = policy
            .progress_interval
            .after_noting(self.ctx.calendar, &mut needs, self.at);
        self.calendar_covered(needs)?;
        Ok(EventData::IncidentOpened(IncidentOpened {
            incident_id: o.incident_id.clone(),
            title: o.title.clone(),
            cause: o.cause.clone(),
            members: o.members.clone(),
            deadlines: vec![ClockDeadline {
                clock: Clock::IncidentReport,
                due_at: due,
                pausable: false,
            }],
            policy_version: self.ctx.policy.version.clone(),
            overdue_level: Some(policy.overdue_level),
        }))
    }

    /// R-INC-2: the report fulfils the current deadline; missed intervals are counted.
    fn report_incident_progress(&self, r: &ReportIncidentProgress) -> Result<EventData, Rejection> {
        let Some(g) = &self.state.casework.incident else {
            return Err(self.invalid(
                "incident_id",
                "this ticket holds no incident group (open_incident first)",
            ));
        };
        self.required_text("text", &r.text)?;
        let interval = &self.ctx.policy.incident.progress_interval;
        // Walk the missed intervals: each one the report came after is a missed report.
        let mut due = g.next_due;
        let mut missed = 0u32;
        let mut needs = CalendarNeeds::default();
        while missed < 10_000 {
            let next = interval.after_noting(self.ctx.calendar, &mut needs, due);
            if next > self.at {
                break;
            }
            missed += 1;
            due = next;
        }
        let next_due = interval.after_noting(self.ctx.calendar, &mut needs, self.at);
        self.calendar_covered(needs)?;
        Ok(EventData::IncidentProgressReported(IncidentProgressReported {
            incident_id: g.incident_id.clone(),
            text: r.text.clone(),
            due_at: due,
            late_ms: self.at.millis_since(due).max(0),
            missed,
            deadlines: vec![ClockDeadline {
                clock: Clock::IncidentReport,
                due_at: next_due,
                pausable: false,
            }],
        }))
    }

    /// R-INC-3: this ticket is one of an incident's complaints.
    fn link_incident(&self, l: &LinkIncident) -> Result<EventData, Rejection> {
        self.item_id("incident_id", &l.incident_id)?;
        self.text("note", &l.note, TEXT_LEN_MAX)?;
        if l.lead == self.cmd.complaint_id {
            return Err(self.invalid("lead", "a ticket cannot link to an incident it holds itself"));
        }
        if self.state.casework.incident.is_some() {
            return Err(self.invalid("lead", "this ticket holds an incident group itself"));
        }
        if let Some((id, lead)) = &self.state.casework.linked_incident {
            return Err(self.invalid("incident_id", format!("already linked to incident {id} held by {lead}")));
        }
        Ok(EventData::IncidentLinked(IncidentLinked {
            incident_id: l.incident_id.clone(),
            lead: l.lead.clone(),
            note: l.note.clone(),
        }))
    }

    /// R-DSP-1: the dispute went beyond the complaint (litigation, media, regulator), with a
    /// note saying where; each kind at most once per ticket.
    fn record_dispute_escalation(&self, d: &RecordDisputeEscalation) -> Result<EventData, Rejection> {
        self.required_text("note", &d.note)?;
        if self.state.disputes.contains(&d.kind) {
            return Err(self.invalid(
                "kind",
                format!(
                    "a {} dispute escalation is already recorded on this ticket",
                    d.kind.as_str()
                ),
            ));
        }
        Ok(EventData::DisputeEscalated(DisputeEscalated {
            kind: d.kind,
            note: d.note.clone(),
        }))
    }

    /// R-IMP-1: an action against the ticket's category and root cause.
    fn record_improvement(&self, r: &RecordImprovement) -> Result<EventData, Rejection> {
        self.item_id("action_id", &r.action_id)?;
        self.required_text("action", &r.action)?;
        self.known_department(&r.department)?;
        let Some(category) = self.state.category else {
            return Err(self.invalid("action_id", "the ticket has no category yet"));
        };
        if self.state.casework.improvements.contains(&r.action_id) {
            return Err(self.invalid("action_id", format!("action {} was already recorded", r.action_id)));
        }
        if self.state.casework.improvements.len() >= CASEWORK_ITEMS_MAX {
            return Err(self.invalid("action_id", format!("{CASEWORK_ITEMS_MAX} actions recorded already")));
        }
        Ok(EventData::ImprovementRecorded(ImprovementRecorded {
            action_id: r.action_id.clone(),
            category,
            root_cause: r.root_cause.or(self.state.final_root_cause),
            department: r.department.clone(),
            action: r.action.clone(),
        }))
    }
}

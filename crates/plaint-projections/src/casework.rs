//! The casework projection (issue 17): per ticket, what the performance assessment (考核,
//! docs/domain.md R-ASM-1) and the monthly complaint analysis (投诉分析报告, R-ANA-1) need — the
//! handler and department holding it (the dispatch target), revisits (every one counted),
//! reopens, escalations, dispute escalation, compensation through its lifecycle, incident groups
//! and improvement actions. Status, reopens, escalation level and the compensation total come
//! from the domain's [`Lifecycle`]; SLA verdicts from the SLA projection (the domain's
//! `evaluate_ticket`); weights and thresholds from the policy. `now` is a parameter.

use crate::records::RecordTable;
use crate::shared::ReceiptColumn;
use crate::sla::SlaProjection;
use crate::util::{push_exact, ratio, Buckets, ChunkedVec, Interner, Month, OptSym, RareList, Sym};
use crate::InvalidState;
use crate::Projection;
use plaint_domain::event::*;
use plaint_domain::lifecycle::Lifecycle;
use plaint_domain::policy::Policy;
use plaint_domain::sla::{Verdict, ALL_CLOCKS};
use plaint_domain::time::{PackedTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON shapes of [`AssessmentReport`] and [`ComplaintAnalysis`].
pub const CASEWORK_REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CwRec {
    category: Option<Category>,
    flags: Flags,
    /// The dispatch target (docs/domain.md R-ASM-1, `--by handler`).
    handler: OptSym,
    /// 首问负责制: the ticket's owner (R-OWN-1, R-OWN-2; `closed_loop::owner_after`, the
    /// domain's fold), `--by owner`.
    owner: OptSym,
    department: OptSym,
    redispatched: bool,
    repeat: bool,
    life: Lifecycle,
    final_responses: u32,
    /// Every revisit, in order: (at, satisfied).
    /// 7 bytes each (a 6-byte `PackedTimestamp` and the flag; 12 before issue 13 wave 12, 9
    /// in wave 12).
    revisits: Box<[(PackedTimestamp, bool)]>,
    escalations: u32,
    external_mediation: bool,
    /// Improvement actions recorded on this ticket.
    improvements: u32,
    /// Dispute escalations recorded (`DisputeEscalated`: litigation, media, regulator; R-DSP-1).
    /// Rare (the synthetic logs have almost none): 8 bytes, not 16 (issue 13, wave 12).
    disputes: RareList<DisputeKind>,
}

/// One compensation through its lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CompRec {
    ticket: u32,
    id: String,
    amount: i64,
    proposed_at: Timestamp,
    approved_at: Option<Timestamp>,
    due_at: Option<Timestamp>,
    paid_at: Option<Timestamp>,
    late_ms: i64,
    refused_at: Option<Timestamp>,
}

/// One incident group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IncRec {
    lead: u32,
    id: String,
    title: String,
    cause: String,
    members: Vec<IncidentMember>,
    opened_at: Timestamp,
    next_due: Option<Timestamp>,
    reports: u32,
    missed: u32,
    late: u32,
    linked: Vec<u32>,
}

/// One fact of the month's process figures (R-ANA-1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum ProcessFact {
    Supervision,
    OwnershipTransfer,
    SeverityOverride,
    RevisitAttempt,
    Dispute(DisputeKind),
    ClosedWithoutRevisit(CloseReason),
    /// A watchdog escalation, by rule family.
    Watchdog(Sym),
}

/// One improvement action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ActRec {
    ticket: u32,
    at: Timestamp,
    action_id: String,
    category: Category,
    root_cause: Option<Stage>,
    department: String,
    action: String,
}

/// The casework projection.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Casework {
    buckets: Buckets,
    recs: RecordTable<CwRec>,
    strings: Interner,
    /// Chunked, not one `Vec` (issue 13, wave 12): no doubling slack (a third of their bytes
    /// at 100,000 complaints), the same bytes in the checkpoint.
    comps: ChunkedVec<CompRec>,
    incidents: Vec<IncRec>,
    actions: ChunkedVec<ActRec>,
    /// Links to an incident whose lead was not seen yet: (incident id, ticket).
    pending_links: Vec<(String, u32)>,
    /// What the closed loop, supervision, severity and dispute rules recorded, with the event's
    /// business time (a report counts those of its month up to its `now`).
    process: ChunkedVec<(Timestamp, ProcessFact)>,
    /// Each ticket's time of receipt and channel: the set's shared record (issue 13, wave 11),
    /// or a column of its own when used alone. Not in the state's bytes.
    #[serde(skip)]
    receipts: ReceiptColumn,
}

impl PartialEq for Casework {
    fn eq(&self, o: &Self) -> bool {
        self.buckets == o.buckets
            && self.recs == o.recs
            && self.strings == o.strings
            && self.comps == o.comps
            && self.incidents == o.incidents
            && self.actions == o.actions
            && self.pending_links == o.pending_links
            && self.process == o.process
    }
}

impl Projection for Casework {
    const NAME: &'static str = "casework";

    fn apply_hinted(&mut self, e: &Event, hint: Option<u32>) {
        if let EventData::Received(r) = &e.data {
            if self.recs.locate(e.meta.complaint_id.as_str(), hint).is_some() {
                return;
            }
            let mut life = Lifecycle::NEW;
            life.apply(&e.data);
            let owner = plaint_domain::closed_loop::owner_after(false, &e.meta.actor, &e.data)
                .map(|o| self.strings.intern(&o))
                .into();
            let i = self.recs.push(
                e.meta.complaint_id.as_str(),
                CwRec {
                    category: None,
                    flags: Flags::default(),
                    handler: OptSym::NONE,
                    owner,
                    department: OptSym::NONE,
                    redispatched: false,
                    repeat: false,
                    life,
                    final_responses: 0,
                    revisits: Box::default(),
                    escalations: 0,
                    external_mediation: false,
                    improvements: 0,
                    disputes: RareList::default(),
                },
            );
            self.receipts.receive(i as usize, e, r);
            return;
        }
        let Some(i) = self.recs.locate(e.meta.complaint_id.as_str(), hint) else {
            return;
        };
        let at = e.meta.occurred_at;
        // Status, reopens, escalation level, compensation total: the domain's fold.
        self.recs[i as usize].life.apply(&e.data);
        self.count_process(at, &e.data);
        let has_owner = self.recs[i as usize].owner.is_some();
        if let Some(o) = plaint_domain::closed_loop::owner_after(has_owner, &e.meta.actor, &e.data) {
            let o = self.strings.intern(&o);
            self.recs[i as usize].owner = Some(o).into();
        }
        match &e.data {
            EventData::Verified(v) => {
                let r = &mut self.recs[i as usize];
                r.flags = r.flags.union(v.flags);
                r.repeat |= v.repeat_of.is_some();
            }
            EventData::Classified(c) => {
                let r = &mut self.recs[i as usize];
                r.category = Some(c.category);
                r.flags = r.flags.union(c.flags);
                r.repeat |= c.repeat_of.is_some();
            }
            EventData::Dispatched(d) => {
                let dept = self.strings.intern(&d.department.0);
                let handler = d.handler.as_deref().map(|h| self.strings.intern(h));
                let r = &mut self.recs[i as usize];
                r.department = dept.into();
                r.handler = handler.into();
            }
            EventData::Redispatched(d) => {
                let dept = self.strings.intern(&d.to.0);
                let handler = d.handler.as_deref().map(|h| self.strings.intern(h));
                let r = &mut self.recs[i as usize];
                r.department = dept.into();
                r.handler = handler.into();
                r.redispatched = true;
            }
            EventData::Responded(x) if x.kind == ResponseKind::Final => self.recs[i as usize].final_responses += 1,
            EventData::Revisited(v) => push_exact(&mut self.recs[i as usize].revisits, (at.into(), v.satisfied)),
            EventData::Escalated(x) => {
                let r = &mut self.recs[i as usize];
                r.escalations += 1;
                r.external_mediation |= x.level == EscalationLevel::ExternalMediation;
            }
            EventData::CompensationProposed(p) => self.comps.push(CompRec {
                ticket: i,
                id: p.compensation_id.clone(),
                amount: p.compensation.granted.0,
                proposed_at: at,
                approved_at: None,
                due_at: None,
                paid_at: None,
                late_ms: 0,
                refused_at: None,
            }),
            EventData::CompensationApproved(a) => {
                if let Some(c) = self.comp(i, &a.compensation_id) {
                    c.approved_at = Some(at);
                    c.due_at = Some(a.payment_due_at);
                }
            }
            EventData::CompensationPaid(p) => {
                if let Some(c) = self.comp(i, &p.compensation_id) {
                    c.paid_at = Some(at);
                    c.late_ms = p.late_ms;
                }
            }
            EventData::CompensationRefused(r) => {
                if let Some(c) = self.comp(i, &r.compensation_id) {
                    c.refused_at = Some(at);
                }
            }
            EventData::IncidentOpened(o) => {
                let linked = self
                    .pending_links
                    .iter()
                    .filter(|(id, _)| *id == o.incident_id)
                    .map(|(_, t)| *t)
                    .collect();
                self.pending_links.retain(|(id, _)| *id != o.incident_id);
                self.incidents.push(IncRec {
                    lead: i,
                    id: o.incident_id.clone(),
                    title: o.title.clone(),
                    cause: o.cause.clone(),
                    members: o.members.clone(),
                    opened_at: at,
                    next_due: o.deadlines.first().map(|d| d.due_at),
                    reports: 0,
                    missed: 0,
                    late: 0,
                    linked,
                })
            }
            EventData::IncidentProgressReported(r) => {
                if let Some(g) = self.incidents.iter_mut().find(|g| g.lead == i && g.id == r.incident_id) {
                    g.reports += 1;
                    g.missed += r.missed;
                    g.late += u32::from(r.late_ms > 0);
                    g.next_due = r.deadlines.first().map(|d| d.due_at);
                }
            }
            EventData::IncidentLinked(l) => {
                let lead = self.recs.find(l.lead.as_str());
                match self
                    .incidents
                    .iter_mut()
                    .find(|g| g.id == l.incident_id && Some(g.lead) == lead)
                {
                    Some(g) => g.linked.push(i),
                    None => self.pending_links.push((l.incident_id.clone(), i)),
                }
            }
            EventData::DisputeEscalated(d) => {
                let r = &mut self.recs[i as usize];
                if !r.disputes.contains(&d.kind) {
                    r.disputes.push(d.kind);
                }
            }
            EventData::ImprovementRecorded(x) => {
                self.recs[i as usize].improvements += 1;
                self.actions.push(ActRec {
                    ticket: i,
                    at,
                    action_id: x.action_id.clone(),
                    category: x.category,
                    root_cause: x.root_cause,
                    department: x.department.0.clone(),
                    action: x.action.clone(),
                });
            }
            _ => {}
        }
    }

    fn id_table(&self) -> &dyn crate::records::IdTable {
        &self.recs
    }

    fn id_table_mut(&mut self) -> &mut dyn crate::records::IdTable {
        &mut self.recs
    }

    fn receipts(&self) -> Option<&ReceiptColumn> {
        Some(&self.receipts)
    }

    fn receipts_mut(&mut self) -> Option<&mut ReceiptColumn> {
        Some(&mut self.receipts)
    }

    fn after_load(&mut self) -> Result<(), InvalidState> {
        self.strings.rebuild_index()?;
        self.recs.reindex()?;
        let s = &self.strings;
        self.recs.check_each(|r| {
            s.check_opt(r.handler, "handler")?;
            s.check_opt(r.owner, "owner")?;
            s.check_opt(r.department, "department")
        })?;
        self.check_ticket_numbers()?;
        for (at, fact) in self.process.iter() {
            if let ProcessFact::Watchdog(rule) = fact {
                s.check(*rule, "watchdog rule family")
                    .map_err(|e| e.within(format_args!("process fact at {at:?}")))?;
            }
        }
        Ok(())
    }
}

impl Casework {
    /// Every record number held outside the records (compensations, incidents, improvement
    /// actions, pending incident links) names a record.
    fn check_ticket_numbers(&self) -> Result<(), InvalidState> {
        let recs = &self.recs;
        for (n, c) in self.comps.iter().enumerate() {
            recs.check_number(c.ticket, "its ticket")
                .map_err(|e| e.within(format_args!("compensation {n} ({:?})", c.id)))?;
        }
        for (n, g) in self.incidents.iter().enumerate() {
            let within = |e: InvalidState| e.within(format_args!("incident {n} ({:?})", g.id));
            recs.check_number(g.lead, "its lead").map_err(within)?;
            for &t in &g.linked {
                recs.check_number(t, "a linked ticket").map_err(within)?;
            }
        }
        for (n, a) in self.actions.iter().enumerate() {
            recs.check_number(a.ticket, "its ticket")
                .map_err(|e| e.within(format_args!("improvement action {n} ({:?})", a.action_id)))?;
        }
        for (incident, t) in &self.pending_links {
            recs.check_number(*t, "its ticket")
                .map_err(|e| e.within(format_args!("pending link to incident {incident:?}")))?;
        }
        Ok(())
    }
}

/// How a group is formed in the assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessBy {
    Handler,
    Department,
    /// The ticket's owner (首问负责制, R-OWN): the first person who acted on it, or whom it was
    /// transferred to.
    Owner,
}

/// One handler's or department's assessment (R-ASM-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRow {
    /// The handler or department (`unassigned` when none was named).
    pub name: String,
    pub tickets: u64,
    /// met / (met + breached + pending_overdue) over every clock of the group's tickets.
    pub on_time_rate: Option<f64>,
    /// The same per clock (clocks with a known outcome only).
    pub on_time_by_clock: BTreeMap<String, f64>,
    /// Solved by the first final response: never reopened or redispatched.
    pub first_contact_resolution: Option<f64>,
    /// Every revisit counted.
    pub revisits: u64,
    pub satisfied_revisits: u64,
    pub satisfaction_rate: Option<f64>,
    /// Satisfied at the first revisit of each ticket, and at the latest.
    pub first_revisit_satisfied: Option<f64>,
    pub latest_revisit_satisfied: Option<f64>,
    /// 复发率: (repeat complaints + reopens) / tickets (docs/domain.md R-REP-5).
    pub repeat_rate: Option<f64>,
    pub escalations: u64,
    pub reopenings: u64,
    /// Compensation granted (approved, or granted directly), fen.
    pub compensation_fen: i64,
    /// 纠纷升级率: tickets escalated to external mediation, with a recorded dispute escalation
    /// (litigation, media, regulator), or that became a media or regulator matter after
    /// arriving through another channel, over tickets.
    pub dispute_escalations: u64,
    pub dispute_escalation_rate: Option<f64>,
    /// 预防指标: improvement actions recorded on the group's tickets.
    pub improvement_actions: u64,
    /// Longest run of unsatisfied revisits in a row.
    pub unsatisfied_streak: u32,
    /// The weighted score, 0–100.
    pub score: f64,
    /// What the policy's thresholds flag: `on_time_below_min`, `satisfaction_below_min`,
    /// `coaching` (seeds/000 连续3次客户差评 启动专项辅导).
    pub flags: Vec<String>,
}

/// The assessment report (考核) of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentReport {
    pub schema_version: u32,
    pub from: Timestamp,
    pub to: Timestamp,
    pub now: Timestamp,
    pub by: AssessBy,
    pub policy_version: String,
    pub rows: Vec<AssessmentRow>,
}

/// One category in the monthly analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryAnalysis {
    pub category: String,
    pub count: u64,
    pub share: Option<f64>,
    pub previous_count: u64,
    /// count − previous_count.
    pub change: i64,
    pub compensation_fen: i64,
    pub compensation_share: Option<f64>,
    /// Regulator, media or group complaints, and complaints with a recorded dispute escalation
    /// (litigation, media, regulator).
    pub risk_count: u64,
    /// Of those, complaints that went to court (诉讼).
    #[serde(default)]
    pub litigation_count: u64,
    pub high_frequency: bool,
    pub high_cost: bool,
    pub high_risk: bool,
}

/// Finance totals of a month (R-COMP-7 and the monthly report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinanceTotals {
    pub proposed: u64,
    pub proposed_fen: i64,
    pub approved: u64,
    pub approved_fen: i64,
    pub paid: u64,
    pub paid_fen: i64,
    pub paid_late: u64,
    pub refused: u64,
    pub refused_fen: i64,
    /// At `now`: approved and unpaid, and of those past their deadline.
    pub outstanding: u64,
    pub outstanding_fen: i64,
    pub overdue: u64,
}

/// One incident group (R-INC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub incident_id: String,
    pub lead: String,
    pub title: String,
    pub cause: String,
    pub members: Vec<IncidentMember>,
    pub opened_at: Timestamp,
    pub linked_tickets: Vec<String>,
    pub reports: u32,
    pub missed_reports: u32,
    pub late_reports: u32,
    /// At `now`, the current report is past due (and the lead ticket is open).
    pub report_overdue: bool,
}

/// One improvement action and whether its category fell afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImprovementOutcome {
    pub action_id: String,
    pub ticket: String,
    pub recorded_at: Timestamp,
    pub category: String,
    pub root_cause: Option<String>,
    pub department: String,
    pub action: String,
    /// Complaints of the category received in the month the action was recorded, and in the
    /// month after (`None` while that month has not ended at `now`).
    pub count_in_month: u64,
    pub count_month_after: Option<u64>,
    pub fell: Option<bool>,
}

/// What the closed loop, supervision, first-contact ownership, severity and dispute rules recorded
/// in a month (by the events' business time; R-ANA-1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTotals {
    /// 督办 opened (R-SUP).
    pub supervisions_opened: u64,
    /// 首问负责制 ownership transfers (R-OWN-2).
    pub ownership_transfers: u64,
    /// Classifications below the suggested tier, with a recorded reason (R-SEV-2).
    pub severity_overrides: u64,
    /// Failed revisit attempts (R-LOOP-2).
    pub revisit_attempts: u64,
    /// Closes without a revisit, by the policy's reason (R-LOOP-1).
    pub closed_without_revisit: BTreeMap<String, u64>,
    /// Dispute escalations by kind: litigation, media, regulator (R-DSP-1).
    pub disputes: BTreeMap<String, u64>,
    /// Watchdog escalations by rule family: ladder, breach, green_channel, supervision,
    /// payment (R-COMP-9), incident_report (R-INC-4).
    pub watchdog_escalations: BTreeMap<String, u64>,
}

/// The monthly complaint analysis (投诉分析报告, seeds/002).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintAnalysis {
    pub schema_version: u32,
    pub month: String,
    pub now: Timestamp,
    pub policy_version: String,
    pub total: u64,
    pub previous_total: u64,
    pub categories: Vec<CategoryAnalysis>,
    pub finance: FinanceTotals,
    pub incidents: Vec<IncidentSummary>,
    pub improvements: Vec<ImprovementOutcome>,
    /// The closed loop, supervision, ownership, severity overrides, disputes and watchdog
    /// escalations recorded in the month.
    #[serde(default)]
    pub process: ProcessTotals,
}

fn rate(num: u64, den: u64) -> Option<f64> {
    ratio(num, den)
}

#[derive(Default)]
struct Acc {
    tickets: u64,
    met: u64,
    known: u64,
    by_clock: BTreeMap<Clock, (u64, u64)>,
    finals: u64,
    fcr: u64,
    revisits: u64,
    satisfied: u64,
    revisited_tickets: u64,
    first_sat: u64,
    latest_sat: u64,
    repeats: u64,
    escalations: u64,
    reopens: u64,
    comp: i64,
    disputes: u64,
    improvements: u64,
    log: Vec<(Timestamp, bool)>,
}

impl Casework {
    /// An empty projection cutting months in `buckets`' time zone.
    pub fn with_buckets(buckets: Buckets) -> Casework {
        Casework {
            buckets,
            ..Casework::default()
        }
    }

    /// Notes what the issue-17 rules recorded (R-ANA-1's process figures): recorded facts only,
    /// never re-decided.
    fn count_process(&mut self, at: Timestamp, data: &EventData) {
        let fact = match data {
            EventData::SupervisionOpened(_) => ProcessFact::Supervision,
            EventData::OwnershipTransferred(_) => ProcessFact::OwnershipTransfer,
            EventData::SeverityOverridden(_) => ProcessFact::SeverityOverride,
            EventData::RevisitAttempted(_) => ProcessFact::RevisitAttempt,
            EventData::DisputeEscalated(d) => ProcessFact::Dispute(d.kind),
            EventData::Closed(c) => match c.without_revisit {
                Some(reason) => ProcessFact::ClosedWithoutRevisit(reason),
                None => return,
            },
            EventData::Escalated(x) => match &x.trigger {
                // The rule's family: ladder, breach, green_channel, supervision, payment,
                // incident_report.
                EscalationTrigger::Watchdog { rule_id, .. } => {
                    ProcessFact::Watchdog(self.strings.intern(rule_id.split('.').next().unwrap_or(rule_id)))
                }
                EscalationTrigger::Person => return,
            },
            _ => return,
        };
        self.process.push((at, fact));
    }

    /// The process figures of month `m` as of `now`.
    fn process_totals(&self, m: Month, now: Timestamp) -> ProcessTotals {
        let mut t = ProcessTotals::default();
        let bump = |map: &mut BTreeMap<String, u64>, k: &str| *map.entry(k.to_owned()).or_default() += 1;
        for (at, fact) in self.process.iter() {
            if *at > now || !self.in_month(*at, m) {
                continue;
            }
            match fact {
                ProcessFact::Supervision => t.supervisions_opened += 1,
                ProcessFact::OwnershipTransfer => t.ownership_transfers += 1,
                ProcessFact::SeverityOverride => t.severity_overrides += 1,
                ProcessFact::RevisitAttempt => t.revisit_attempts += 1,
                ProcessFact::Dispute(kind) => bump(&mut t.disputes, kind.as_str()),
                ProcessFact::ClosedWithoutRevisit(reason) => bump(&mut t.closed_without_revisit, reason.as_str()),
                ProcessFact::Watchdog(family) => bump(&mut t.watchdog_escalations, self.strings.resolve(*family)),
            }
        }
        t
    }

    fn comp(&mut self, ticket: u32, id: &str) -> Option<&mut CompRec> {
        self.comps.iter_mut().rev().find(|c| c.ticket == ticket && c.id == id)
    }

    fn in_month(&self, t: Timestamp, m: Month) -> bool {
        self.buckets.month(t) == m
    }

    /// Whether a ticket became a dispute (R-ASM-1 纠纷升级).
    fn disputed(r: &CwRec, channel: Channel) -> bool {
        r.external_mediation
            || !r.disputes.is_empty()
            || (r.flags.media && channel != Channel::MediaLead)
            || (r.flags.regulator && channel != Channel::RegulatorReferral)
    }

    /// The assessment (考核) of the tickets received in `[from, to)`, by handler or department,
    /// with SLA verdicts at `now` (docs/domain.md R-ASM-1).
    pub fn assessment(
        &self,
        from: Timestamp,
        to: Timestamp,
        by: AssessBy,
        sla: &SlaProjection,
        now: Timestamp,
        policy: &Policy,
    ) -> AssessmentReport {
        let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
        for (i, (id, r)) in self.recs.iter_with_ids().enumerate() {
            let receipt = self.receipts.get(i);
            let received_at = receipt.received_at();
            if received_at < from || received_at >= to || received_at > now {
                continue;
            }
            let key = match by {
                AssessBy::Handler => r.handler,
                AssessBy::Department => r.department,
                AssessBy::Owner => r.owner,
            }
            .get()
            .map_or_else(|| "unassigned".to_owned(), |s| self.strings.resolve(s).to_owned());
            let a = groups.entry(key).or_default();
            a.tickets += 1;
            if let Some(t) = sla.ticket(&id.to_complaint_id(), now, policy) {
                for c in &t.clocks {
                    let (met, known) = match c.verdict {
                        Verdict::Met { .. } => (1, 1),
                        Verdict::Breached { .. } | Verdict::PendingOverdue { .. } => (0, 1),
                        _ => (0, 0),
                    };
                    a.met += met;
                    a.known += known;
                    if known > 0 {
                        let e = a.by_clock.entry(c.clock).or_default();
                        e.0 += met;
                        e.1 += 1;
                    }
                }
            }
            if r.final_responses > 0 {
                a.finals += 1;
                if r.life.reopen_count == 0 && !r.redispatched {
                    a.fcr += 1;
                }
            }
            a.revisits += r.revisits.len() as u64;
            a.satisfied += r.revisits.iter().filter(|v| v.1).count() as u64;
            if let (Some(first), Some(last)) = (r.revisits.first(), r.revisits.last()) {
                a.revisited_tickets += 1;
                a.first_sat += u64::from(first.1);
                a.latest_sat += u64::from(last.1);
            }
            a.log
                .extend(r.revisits.iter().map(|&(at, satisfied)| (at.get(), satisfied)));
            a.repeats += u64::from(r.repeat) + u64::from(r.life.reopen_count);
            a.escalations += u64::from(r.escalations);
            a.reopens += u64::from(r.life.reopen_count);
            a.comp += r.life.compensated.0;
            a.disputes += u64::from(Self::disputed(r, receipt.channel()));
            a.improvements += u64::from(r.improvements);
        }
        let w = &policy.assessment;
        let rows = groups
            .into_iter()
            .map(|(name, mut a)| {
                a.log.sort_by_key(|v| v.0);
                let mut streak = 0u32;
                let mut run = 0u32;
                for (_, sat) in &a.log {
                    run = if *sat { 0 } else { run + 1 };
                    streak = streak.max(run);
                }
                let on_time_rate = rate(a.met, a.known);
                let fcr = rate(a.fcr, a.finals);
                let sat = rate(a.satisfied, a.revisits);
                let repeat_rate = rate(a.repeats, a.tickets);
                let dispute_rate = rate(a.disputes, a.tickets);
                let improvement =
                    (a.improvements as f64 * 100.0 / a.tickets.max(1) as f64 / w.improvements_per_100_full).min(1.0);
                // A component with no data (no clock known, no revisit) scores as met: nobody
                // is marked down for what did not happen yet.
                let score = 100.0
                    * (w.weight_on_time * on_time_rate.unwrap_or(1.0)
                        + w.weight_first_contact * fcr.unwrap_or(1.0)
                        + w.weight_satisfaction * sat.unwrap_or(1.0)
                        + w.weight_dispute * (1.0 - dispute_rate.unwrap_or(0.0))
                        + w.weight_repeat * (1.0 - repeat_rate.unwrap_or(0.0).min(1.0))
                        + w.weight_improvement * improvement);
                let mut flags = Vec::new();
                if on_time_rate.is_some_and(|r| r < w.on_time_min) {
                    flags.push("on_time_below_min".to_owned());
                }
                if sat.is_some_and(|r| r < w.satisfaction_min) {
                    flags.push("satisfaction_below_min".to_owned());
                }
                if streak >= w.coaching_after_unsatisfied {
                    flags.push("coaching".to_owned());
                }
                AssessmentRow {
                    name,
                    tickets: a.tickets,
                    on_time_rate,
                    on_time_by_clock: ALL_CLOCKS
                        .iter()
                        .filter_map(|c| {
                            let (m, k) = a.by_clock.get(c)?;
                            Some((c.as_str().to_owned(), *m as f64 / *k as f64))
                        })
                        .collect(),
                    first_contact_resolution: fcr,
                    revisits: a.revisits,
                    satisfied_revisits: a.satisfied,
                    satisfaction_rate: sat,
                    first_revisit_satisfied: rate(a.first_sat, a.revisited_tickets),
                    latest_revisit_satisfied: rate(a.latest_sat, a.revisited_tickets),
                    repeat_rate,
                    escalations: a.escalations,
                    reopenings: a.reopens,
                    compensation_fen: a.comp,
                    dispute_escalations: a.disputes,
                    dispute_escalation_rate: dispute_rate,
                    improvement_actions: a.improvements,
                    unsatisfied_streak: streak,
                    score: (score * 10.0).round() / 10.0,
                    flags,
                }
            })
            .collect();
        AssessmentReport {
            schema_version: CASEWORK_REPORT_SCHEMA_VERSION,
            from,
            to,
            now,
            by,
            policy_version: policy.version.clone(),
            rows,
        }
    }

    fn count_category(&self, m: Month, cat: Category, now: Timestamp) -> u64 {
        self.recs
            .iter()
            .enumerate()
            .filter(|&(i, r)| {
                let at = self.receipts.get(i).received_at();
                at <= now && r.category == Some(cat) && self.in_month(at, m)
            })
            .count() as u64
    }

    /// The monthly complaint analysis (投诉分析报告) of month `m` at `now` (R-ANA-1).
    pub fn analysis(&self, m: Month, now: Timestamp, policy: &Policy) -> ComplaintAnalysis {
        let prev = m.previous();
        let p = &policy.analysis;
        // Per category: (count, previous month's count, risk, litigation).
        let mut count: BTreeMap<Category, (u64, u64, u64, u64)> = BTreeMap::new();
        let (mut total, mut previous_total) = (0u64, 0u64);
        let received = (0..self.recs.len()).map(|i| self.receipts.get(i).received_at());
        for (r, at) in self.recs.iter().zip(received).filter(|&(_, at)| at <= now) {
            let month = self.buckets.month(at);
            let cat = r.category.unwrap_or(Category::Other);
            if month == m {
                total += 1;
                let e = count.entry(cat).or_default();
                e.0 += 1;
                e.2 += u64::from(r.flags.regulator || r.flags.media || r.flags.group || !r.disputes.is_empty());
                e.3 += u64::from(r.disputes.contains(&DisputeKind::Litigation));
            } else if month == prev {
                previous_total += 1;
                count.entry(cat).or_default().1 += 1;
            }
        }
        let mut finance = FinanceTotals::default();
        let mut comp_by_cat: BTreeMap<Category, i64> = BTreeMap::new();
        for c in self.comps.iter() {
            let in_m = |t: Option<Timestamp>| t.is_some_and(|t| t <= now && self.in_month(t, m));
            if in_m(Some(c.proposed_at)) {
                finance.proposed += 1;
                finance.proposed_fen += c.amount;
            }
            if in_m(c.approved_at) {
                finance.approved += 1;
                finance.approved_fen += c.amount;
                let cat = self.recs[c.ticket as usize].category.unwrap_or(Category::Other);
                *comp_by_cat.entry(cat).or_default() += c.amount;
            }
            if in_m(c.paid_at) {
                finance.paid += 1;
                finance.paid_fen += c.amount;
                finance.paid_late += u64::from(c.late_ms > 0);
            }
            if in_m(c.refused_at) {
                finance.refused += 1;
                finance.refused_fen += c.amount;
            }
            let approved = c.approved_at.is_some_and(|t| t <= now);
            let unpaid = c.paid_at.is_none_or(|t| t > now);
            if approved && unpaid {
                finance.outstanding += 1;
                finance.outstanding_fen += c.amount;
                finance.overdue += u64::from(c.due_at.is_some_and(|d| d < now));
            }
        }
        let comp_total: i64 = comp_by_cat.values().sum();
        let categories = count
            .iter()
            .map(|(cat, (n, prev_n, risk, litigation))| {
                let share = rate(*n, total);
                let fen = comp_by_cat.get(cat).copied().unwrap_or(0);
                let comp_share = (comp_total > 0).then(|| fen as f64 / comp_total as f64);
                CategoryAnalysis {
                    category: cat.as_str().to_owned(),
                    count: *n,
                    share,
                    previous_count: *prev_n,
                    change: *n as i64 - *prev_n as i64,
                    compensation_fen: fen,
                    compensation_share: comp_share,
                    risk_count: *risk,
                    litigation_count: *litigation,
                    high_frequency: share.is_some_and(|s| s > p.high_frequency_share),
                    high_cost: fen > 0 && comp_share.is_some_and(|s| s >= p.high_cost_share),
                    high_risk: *risk >= u64::from(p.high_risk_count) && *risk > 0,
                }
            })
            .collect();
        let id_of = |t: u32| self.recs.id(t as usize).as_str().to_owned();
        let incidents = self
            .incidents
            .iter()
            .filter(|g| g.opened_at <= now)
            .filter(|g| {
                // Groups open in the month, or still open during it.
                let lead = &self.recs[g.lead as usize];
                self.buckets.month(g.opened_at) <= m
                    && (lead.life.status.is_open() || self.buckets.month(g.opened_at) == m)
            })
            .map(|g| IncidentSummary {
                incident_id: g.id.clone(),
                lead: id_of(g.lead),
                title: g.title.clone(),
                cause: g.cause.clone(),
                members: g.members.clone(),
                opened_at: g.opened_at,
                linked_tickets: g.linked.iter().map(|t| id_of(*t)).collect(),
                reports: g.reports,
                missed_reports: g.missed,
                late_reports: g.late,
                report_overdue: self.recs[g.lead as usize].life.status.is_open() && g.next_due.is_some_and(|d| d < now),
            })
            .collect();
        let improvements = self
            .actions
            .iter()
            .filter(|a| a.at <= now && self.buckets.month(a.at) <= m)
            .map(|a| {
                let am = self.buckets.month(a.at);
                let after = next_month(am);
                let in_month = self.count_category(am, a.category, now);
                let ended = self.buckets.month(now) > after;
                let month_after = ended.then(|| self.count_category(after, a.category, now));
                ImprovementOutcome {
                    action_id: a.action_id.clone(),
                    ticket: id_of(a.ticket),
                    recorded_at: a.at,
                    category: a.category.as_str().to_owned(),
                    root_cause: a.root_cause.map(|s| s.as_str().to_owned()),
                    department: a.department.clone(),
                    action: a.action.clone(),
                    count_in_month: in_month,
                    count_month_after: month_after,
                    fell: month_after.map(|n| n < in_month),
                }
            })
            .collect();
        ComplaintAnalysis {
            schema_version: CASEWORK_REPORT_SCHEMA_VERSION,
            month: m.to_string(),
            now,
            policy_version: policy.version.clone(),
            total,
            previous_total,
            categories,
            finance,
            incidents,
            improvements,
            process: self.process_totals(m, now),
        }
    }

    pub fn buckets(&self) -> Buckets {
        self.buckets
    }
}

/// The month after `m`.
pub fn next_month(m: Month) -> Month {
    if m.month == 12 {
        Month {
            year: m.year + 1,
            month: 1,
        }
    } else {
        Month {
            year: m.year,
            month: m.month + 1,
        }
    }
}

#[cfg(test)]
pub(crate) fn record_size() -> usize {
    std::mem::size_of::<CwRec>()
}

#[cfg(test)]
impl Casework {
    /// Heap bytes by field group (see `Tickets::bytes_by_group`).
    pub(crate) fn bytes_by_group(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let recs = || self.recs.iter();
        vec![
            ("strings (interner)", self.strings.heap_bytes()),
            ("casework record", self.recs.len() * size_of::<CwRec>()),
            (
                "revisits",
                recs().map(|r| r.revisits.len()).sum::<usize>() * size_of::<(PackedTimestamp, bool)>(),
            ),
            (
                "disputes",
                recs().map(|r| r.disputes.len()).sum::<usize>() * size_of::<DisputeKind>(),
            ),
            (
                "comps+incidents+actions+process",
                self.comps.capacity() * size_of::<CompRec>()
                    + self.incidents.capacity() * size_of::<IncRec>()
                    + self.actions.capacity() * size_of::<ActRec>()
                    + self.process.capacity() * size_of::<(Timestamp, ProcessFact)>(),
            ),
            ("  of it: comps", self.comps.capacity() * size_of::<CompRec>()),
            (
                "  of it: comps' slack",
                (self.comps.capacity() - self.comps.len()) * size_of::<CompRec>(),
            ),
            ("  of it: incidents", self.incidents.capacity() * size_of::<IncRec>()),
            (
                "  of it: process",
                self.process.capacity() * size_of::<(Timestamp, ProcessFact)>(),
            ),
            ("  of it: actions", self.actions.capacity() * size_of::<ActRec>()),
        ]
    }
}

#[cfg(test)]
mod load_checks {
    use super::*;
    use crate::checkpoint::crafted::{assert_refused, changed, sound};

    #[test]
    fn crafted_states_are_refused_at_load_not_at_query_time() {
        let good: Casework = sound();
        assert!(!good.comps.is_empty() && !good.incidents.is_empty() && !good.actions.is_empty());
        let beyond = Sym(good.strings.len() as u32);
        let past = good.recs.len() as u32;

        assert_refused(
            &changed(&good, |c| c.recs[0].handler = beyond.into()),
            "handler is symbol",
        );
        assert_refused(&changed(&good, |c| c.recs[1].owner = beyond.into()), "owner is symbol");
        assert_refused(
            &changed(&good, |c| c.recs[2].department = beyond.into()),
            "department is symbol",
        );
        assert_refused(&changed(&good, |c| c.comps[0].ticket = past), "compensation 0");
        assert_refused(&changed(&good, |c| c.incidents[0].lead = past), "its lead is record");
        assert_refused(&changed(&good, |c| c.incidents[0].linked.push(past)), "a linked ticket");
        assert_refused(&changed(&good, |c| c.actions[0].ticket = past), "improvement action 0");
        assert_refused(
            &changed(&good, |c| c.pending_links.push(("INC-X".into(), past))),
            "pending link",
        );
        assert_refused(
            &changed(&good, |c| {
                c.process
                    .push((Timestamp::from_millis(0), ProcessFact::Watchdog(beyond)))
            }),
            "watchdog rule family",
        );
        let dup = good.recs.id(0).clone();
        assert_refused(
            &changed(&good, |c| c.recs = c.recs.with_id(4, dup.clone())),
            "the same id",
        );
        assert_refused(
            &changed(&good, |c| c.strings = crate::util::crafted::with_duplicate(&c.strings)),
            "appears twice",
        );
    }
}

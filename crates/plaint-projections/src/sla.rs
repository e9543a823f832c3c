//! The SLA compliance projection (issue 4, projection 2; DOMAIN.md §7).
//!
//! Per ticket it keeps a compact list of the facts the SLA rules look at (times, response kinds,
//! the recorded deadlines) — never a verdict, since a verdict depends on "now". Verdicts are
//! computed at query time, for the `now` the caller gives, by the domain's
//! [`plaint_domain::sla::evaluate`] over a minimal history rebuilt from those facts: the rules
//! live in the domain crate only. Aggregates group the verdicts by severity tier, customer tier,
//! category, channel, department, region, ISO week of receipt, or any `Received.attributes` key.

use crate::util::{ratio, Buckets, ChunkedVec, DurationStats, IdIndex, Interner, SmallId, Sym};
use crate::Projection;
use plaint_domain::event::*;
use plaint_domain::ids::{Actor, CommandId, ComplaintId};
use plaint_domain::policy::Policy;
use plaint_domain::sla::{evaluate, TicketSla, Verdict, ALL_CLOCKS};
use plaint_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON shape of [`SlaReport`] and [`AtRiskList`].
pub const SLA_REPORT_SCHEMA_VERSION: u32 = 1;

/// What a fact is (one per SLA-relevant event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum FactKind {
    Classified,
    Dispatched,
    Redispatched,
    OnHold,
    Resumed,
    /// `arg`: the response kind.
    Responded,
    /// `arg`: the level; `flag`: raised by the watchdog.
    Escalated,
    /// `flag`: satisfied.
    Revisited,
    Reopened,
    Closed,
}

/// One SLA-relevant event, packed: 16 bytes plus its deadlines in the ticket's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Fact {
    at: Timestamp,
    kind: FactKind,
    arg: u8,
    flag: bool,
    /// The fact's deadlines are `deadlines[dl_start .. dl_start + dl_len]` of the ticket.
    dl_start: u8,
    dl_len: u8,
}

/// Most facts (SLA-relevant events) kept per ticket; more are counted and dropped.
pub const FACTS_PER_TICKET_MAX: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SlaRec {
    id: SmallId,
    received_at: Timestamp,
    contact_at: Timestamp,
    channel: Channel,
    category: Option<Category>,
    severity: Option<Severity>,
    customer_tier: Option<CustomerTier>,
    flags: Flags,
    region: Sym,
    department: Option<Sym>,
    policy_version: Option<Sym>,
    attributes: Vec<(Sym, Sym)>,
    facts: Vec<Fact>,
    deadlines: Vec<ClockDeadline>,
}

/// How to group an SLA report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Severity tier (ordinary / urgent / major).
    Severity,
    CustomerTier,
    Category,
    Channel,
    /// The department holding the ticket.
    Department,
    Region,
    /// ISO week of receipt, e.g. `2026-W48`.
    Week,
    /// A `Received.attributes` key (e.g. an imported `agency` column).
    Attribute(String),
}

impl GroupBy {
    /// Parses `severity`, `customer_tier`, `category`, `channel`, `department`, `region`,
    /// `week`, or `attribute:<key>`.
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "severity" | "tier" => GroupBy::Severity,
            "customer_tier" => GroupBy::CustomerTier,
            "category" => GroupBy::Category,
            "channel" => GroupBy::Channel,
            "department" => GroupBy::Department,
            "region" => GroupBy::Region,
            "week" => GroupBy::Week,
            _ => GroupBy::Attribute(s.strip_prefix("attribute:")?.to_owned()),
        })
    }
    fn name(&self) -> String {
        match self {
            GroupBy::Severity => "severity".into(),
            GroupBy::CustomerTier => "customer_tier".into(),
            GroupBy::Category => "category".into(),
            GroupBy::Channel => "channel".into(),
            GroupBy::Department => "department".into(),
            GroupBy::Region => "region".into(),
            GroupBy::Week => "week".into(),
            GroupBy::Attribute(k) => format!("attribute:{k}"),
        }
    }
}

/// Verdict counts of one clock over a set of tickets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClockSummary {
    pub met: u64,
    pub breached: u64,
    pub pending: u64,
    pub pending_overdue: u64,
    pub not_applicable: u64,
    /// Pending clocks past the policy's at-risk share of their allowance.
    pub at_risk: u64,
    /// met / (met + breached + pending_overdue): the share on time among the clocks whose
    /// outcome is known at `now`. `None` when there are none.
    pub on_time_rate: Option<f64>,
    /// How late the breached ones were.
    pub lateness: DurationStats,
}

/// Figures of one group of tickets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupSummary {
    pub tickets: u64,
    /// By clock name; clocks not applicable to every ticket of the group still appear.
    pub clocks: BTreeMap<String, ClockSummary>,
    /// Receipt to the first response of any kind.
    pub time_to_respond: DurationStats,
    /// Receipt to the first final response.
    pub time_to_resolve: DurationStats,
}

/// The SLA report (JSON shape versioned by `schema_version`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaReport {
    pub schema_version: u32,
    pub now: Timestamp,
    /// The policy that gave the at-risk share (verdicts come from recorded deadlines).
    pub policy_version: String,
    /// Only tickets received in `[received_from, received_to)`, when set.
    pub received_from: Option<Timestamp>,
    pub received_to: Option<Timestamp>,
    pub group_by: Option<String>,
    pub overall: GroupSummary,
    /// Group value → figures; tickets without the value (e.g. not yet classified, or no such
    /// attribute) are under `unknown`.
    pub groups: BTreeMap<String, GroupSummary>,
}

/// One at-risk or overdue clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtRiskEntry {
    pub id: ComplaintId,
    pub clock: Clock,
    pub verdict: String,
    pub due_at: Option<Timestamp>,
}

/// Clocks at risk (pending past the warning share) or pending overdue at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtRiskList {
    pub schema_version: u32,
    pub now: Timestamp,
    pub at_risk: Vec<AtRiskEntry>,
    pub overdue: Vec<AtRiskEntry>,
}

/// The SLA projection. Records in first-seen log order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaProjection {
    buckets: Buckets,
    recs: ChunkedVec<SlaRec>,
    strings: Interner,
    /// Facts dropped because a ticket had more than [`FACTS_PER_TICKET_MAX`].
    dropped_facts: u64,
    #[serde(skip)]
    index: IdIndex,
}

impl Default for SlaProjection {
    fn default() -> Self {
        SlaProjection::with_buckets(Buckets::default())
    }
}

impl PartialEq for SlaProjection {
    fn eq(&self, other: &Self) -> bool {
        self.buckets == other.buckets
            && self.recs == other.recs
            && self.strings == other.strings
            && self.dropped_facts == other.dropped_facts
    }
}

#[derive(Default)]
struct Acc {
    tickets: u64,
    clocks: BTreeMap<Clock, (ClockSummary, Vec<i64>)>,
    respond: Vec<i64>,
    resolve: Vec<i64>,
}

impl Acc {
    fn add(&mut self, rec: &SlaRec, sla: &TicketSla) {
        self.tickets += 1;
        for c in &sla.clocks {
            let (s, late) = self.clocks.entry(c.clock).or_default();
            match c.verdict {
                Verdict::Met { .. } => s.met += 1,
                Verdict::Breached { late_ms, .. } => {
                    s.breached += 1;
                    late.push(late_ms);
                }
                Verdict::Pending => s.pending += 1,
                Verdict::PendingOverdue { .. } => s.pending_overdue += 1,
                Verdict::NotApplicable => s.not_applicable += 1,
            }
            s.at_risk += c.at_risk as u64;
        }
        let first = |pred: &dyn Fn(&Fact) -> bool| rec.facts.iter().find(|f| pred(f)).map(|f| f.at);
        if let Some(t) = first(&|f| f.kind == FactKind::Responded && f.at <= sla.evaluated_at) {
            self.respond.push(t.millis_since(rec.received_at));
        }
        let fin = response_kind_code(ResponseKind::Final);
        if let Some(t) = first(&|f| f.kind == FactKind::Responded && f.arg == fin && f.at <= sla.evaluated_at) {
            self.resolve.push(t.millis_since(rec.received_at));
        }
    }
    fn finish(self) -> GroupSummary {
        let clocks = self
            .clocks
            .into_iter()
            .map(|(clock, (mut s, mut late))| {
                s.on_time_rate = ratio(s.met, s.met + s.breached + s.pending_overdue);
                s.lateness = DurationStats::from_values(&mut late);
                (clock.as_str().to_owned(), s)
            })
            .collect();
        let (mut respond, mut resolve) = (self.respond, self.resolve);
        GroupSummary {
            tickets: self.tickets,
            clocks,
            time_to_respond: DurationStats::from_values(&mut respond),
            time_to_resolve: DurationStats::from_values(&mut resolve),
        }
    }
}

fn response_kind_code(k: ResponseKind) -> u8 {
    match k {
        ResponseKind::Acknowledgement => 0,
        ResponseKind::Progress => 1,
        ResponseKind::PreliminaryPlan => 2,
        ResponseKind::Final => 3,
    }
}

fn response_kind_of(code: u8) -> ResponseKind {
    match code {
        0 => ResponseKind::Acknowledgement,
        1 => ResponseKind::Progress,
        2 => ResponseKind::PreliminaryPlan,
        _ => ResponseKind::Final,
    }
}

fn level_code(l: EscalationLevel) -> u8 {
    match l {
        EscalationLevel::Supervisor => 0,
        EscalationLevel::DepartmentHead => 1,
        EscalationLevel::CenterDirector => 2,
        EscalationLevel::ExternalMediation => 3,
    }
}

fn level_of(code: u8) -> EscalationLevel {
    match code {
        0 => EscalationLevel::Supervisor,
        1 => EscalationLevel::DepartmentHead,
        2 => EscalationLevel::CenterDirector,
        _ => EscalationLevel::ExternalMediation,
    }
}

impl SlaProjection {
    /// An empty projection grouping weeks with `buckets`.
    pub fn with_buckets(buckets: Buckets) -> SlaProjection {
        SlaProjection {
            buckets,
            recs: ChunkedVec::default(),
            strings: Interner::default(),
            dropped_facts: 0,
            index: IdIndex::default(),
        }
    }
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn find(&self, id: &str) -> Option<u32> {
        self.index.get(id, |i| self.recs[i as usize].id.as_bytes())
    }

    /// The record of `id`, trying the runner's hint first.
    #[inline]
    fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        if let Some(h) = hint {
            if self
                .recs
                .get(h as usize)
                .is_some_and(|r| r.id.as_bytes() == id.as_bytes())
            {
                return Some(h);
            }
        }
        self.find(id)
    }

    /// The minimal history the domain's SLA rules read, rebuilt from the facts.
    fn history(&self, rec: &SlaRec) -> Vec<Event> {
        let command_id = CommandId::new("sla").expect("valid command id");
        let complaint_id = rec.id.to_complaint_id();
        let meta = |v: usize, at: Timestamp| EventMeta {
            complaint_id: complaint_id.clone(),
            stream_version: v as u64 + 1,
            position: 0,
            occurred_at: at,
            recorded_at: at,
            actor: Actor::System,
            command_id: command_id.clone(),
            schema_version: 1,
        };
        let mut out = Vec::with_capacity(rec.facts.len() + 1);
        out.push(Event {
            meta: meta(0, rec.received_at),
            data: EventData::Received(Received {
                channel: rec.channel,
                contact_at: rec.contact_at,
                customer: CustomerRecord {
                    customer_id: None,
                    match_key: None,
                    personal: None,
                },
                waybill: None,
                description: String::new(),
                claimed_amount: None,
                evidence: Vec::new(),
                region: String::new(),
                outlet: None,
                attributes: BTreeMap::new(),
            }),
        });
        for (i, f) in rec.facts.iter().enumerate() {
            let dl = || rec.deadlines[f.dl_start as usize..(f.dl_start + f.dl_len) as usize].to_vec();
            let data = match f.kind {
                FactKind::Classified => EventData::Classified(Classified {
                    category: rec.category.unwrap_or(Category::Other),
                    severity: rec.severity.unwrap_or(Severity::Ordinary),
                    customer_tier: rec.customer_tier.unwrap_or(CustomerTier::Standard),
                    flags: rec.flags,
                    deadlines: dl(),
                    escalations: Vec::new(),
                    policy_version: rec
                        .policy_version
                        .map(|p| self.strings.resolve(p).to_owned())
                        .unwrap_or_default(),
                    deadline_source: Default::default(),
                }),
                FactKind::Dispatched => EventData::Dispatched(Dispatched {
                    department: Department(String::new()),
                    handler: None,
                    routing: RoutingDecision::Manual,
                    deadlines: dl(),
                    policy_version: String::new(),
                }),
                FactKind::Redispatched => EventData::Redispatched(Redispatched {
                    from: Department(String::new()),
                    to: Department(String::new()),
                    handler: None,
                    routing: RoutingDecision::Manual,
                    reason: String::new(),
                }),
                FactKind::OnHold => EventData::OnHold(OnHold {
                    reason: HoldReason::Other,
                    note: String::new(),
                }),
                FactKind::Resumed => EventData::Resumed(Resumed { note: String::new() }),
                FactKind::Responded => EventData::Responded(Responded {
                    kind: response_kind_of(f.arg),
                    text: String::new(),
                    basis: None,
                    liable: None,
                    root_cause: None,
                    compensation: None,
                    deadlines: dl(),
                }),
                FactKind::Escalated => EventData::Escalated(Escalated {
                    level: level_of(f.arg),
                    trigger: if f.flag {
                        EscalationTrigger::Watchdog {
                            rule_id: String::new(),
                            due_at: f.at,
                        }
                    } else {
                        EscalationTrigger::Person
                    },
                    reason: String::new(),
                }),
                FactKind::Revisited => EventData::Revisited(Revisited {
                    solved: f.flag,
                    satisfied: f.flag,
                    satisfaction_score: None,
                    note: String::new(),
                }),
                FactKind::Reopened => EventData::Reopened(Reopened {
                    reason: String::new(),
                    reopen_count: 0,
                }),
                FactKind::Closed => EventData::Closed(Closed {
                    resolution: Resolution::Resolved,
                    root_cause: None,
                    liable: false,
                    note: String::new(),
                }),
            };
            out.push(Event {
                meta: meta(i + 1, f.at),
                data,
            });
        }
        out
    }

    fn evaluate_rec(&self, rec: &SlaRec, now: Timestamp, policy: &Policy) -> TicketSla {
        evaluate(&self.history(rec), now, policy)
    }

    /// Every clock's verdict for one ticket at `now`.
    pub fn ticket(&self, id: &ComplaintId, now: Timestamp, policy: &Policy) -> Option<TicketSla> {
        let i = self.find(id.as_str())?;
        Some(self.evaluate_rec(&self.recs[i as usize], now, policy))
    }

    fn group_key(&self, rec: &SlaRec, by: &GroupBy) -> String {
        let unknown = || "unknown".to_owned();
        match by {
            GroupBy::Severity => rec.severity.map(|s| s.as_str().to_owned()).unwrap_or_else(unknown),
            GroupBy::CustomerTier => rec.customer_tier.map(|s| s.as_str().to_owned()).unwrap_or_else(unknown),
            GroupBy::Category => rec.category.map(|s| s.as_str().to_owned()).unwrap_or_else(unknown),
            GroupBy::Channel => rec.channel.as_str().to_owned(),
            GroupBy::Department => rec
                .department
                .map(|d| self.strings.resolve(d).to_owned())
                .unwrap_or_else(unknown),
            GroupBy::Region => self.strings.resolve(rec.region).to_owned(),
            GroupBy::Week => self.buckets.week(rec.received_at).to_string(),
            GroupBy::Attribute(key) => {
                let Some(k) = self.strings.find(key) else {
                    return unknown();
                };
                rec.attributes
                    .iter()
                    .find(|(ak, _)| *ak == k)
                    .map(|(_, v)| self.strings.resolve(*v).to_owned())
                    .unwrap_or_else(unknown)
            }
        }
    }

    /// The SLA report at `now`: verdict counts, on-time rates and response/resolution times,
    /// overall and per group, over the tickets received in `[from, to)` (every ticket received
    /// up to `now` when `None`).
    pub fn report(
        &self,
        now: Timestamp,
        policy: &Policy,
        group_by: Option<&GroupBy>,
        received: Option<(Timestamp, Timestamp)>,
    ) -> SlaReport {
        let mut overall = Acc::default();
        let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
        for rec in self.selected(now, received) {
            let sla = self.evaluate_rec(rec, now, policy);
            overall.add(rec, &sla);
            if let Some(by) = group_by {
                groups.entry(self.group_key(rec, by)).or_default().add(rec, &sla);
            }
        }
        SlaReport {
            schema_version: SLA_REPORT_SCHEMA_VERSION,
            now,
            policy_version: policy.version.clone(),
            received_from: received.map(|r| r.0),
            received_to: received.map(|r| r.1),
            group_by: group_by.map(GroupBy::name),
            overall: overall.finish(),
            groups: groups.into_iter().map(|(k, a)| (k, a.finish())).collect(),
        }
    }

    fn selected(&self, now: Timestamp, received: Option<(Timestamp, Timestamp)>) -> impl Iterator<Item = &SlaRec> {
        self.recs.iter().filter(move |r| match received {
            Some((from, to)) => r.received_at >= from && r.received_at < to && r.received_at <= now,
            None => r.received_at <= now,
        })
    }

    /// Per clock figures of the tickets received in `[from, to)`, at `now` (the weekly report's
    /// on-time rates).
    pub fn summary_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: &Policy,
    ) -> BTreeMap<String, ClockSummary> {
        self.report(now, policy, None, Some((from, to))).overall.clocks
    }

    /// Clocks at risk or pending overdue at `now`, ordered by due time then id.
    pub fn at_risk(&self, now: Timestamp, policy: &Policy) -> AtRiskList {
        let mut at_risk = Vec::new();
        let mut overdue = Vec::new();
        for rec in self.selected(now, None) {
            let sla = self.evaluate_rec(rec, now, policy);
            for c in &sla.clocks {
                let entry = || AtRiskEntry {
                    id: rec.id.to_complaint_id(),
                    clock: c.clock,
                    verdict: c.verdict.as_str().to_owned(),
                    due_at: c.effective_due_at,
                };
                if matches!(c.verdict, Verdict::PendingOverdue { .. }) {
                    overdue.push(entry());
                } else if c.at_risk {
                    at_risk.push(entry());
                }
            }
        }
        let key = |e: &AtRiskEntry| (e.due_at, e.id.clone(), e.clock);
        at_risk.sort_by_key(key);
        overdue.sort_by_key(key);
        AtRiskList {
            schema_version: SLA_REPORT_SCHEMA_VERSION,
            now,
            at_risk,
            overdue,
        }
    }

    /// Every clock the domain knows, in report order.
    pub fn clocks() -> &'static [Clock] {
        &ALL_CLOCKS
    }

    fn push_fact(&mut self, i: usize, at: Timestamp, kind: FactKind, arg: u8, flag: bool, dl: &[ClockDeadline]) {
        let rec = &mut self.recs[i];
        if rec.facts.len() >= FACTS_PER_TICKET_MAX || rec.deadlines.len() + dl.len() > u8::MAX as usize {
            self.dropped_facts += 1;
            return;
        }
        let dl_start = rec.deadlines.len() as u8;
        // Exact capacities: doubling slack over a million tickets is a few hundred MiB.
        rec.deadlines.reserve_exact(dl.len());
        rec.deadlines.extend_from_slice(dl);
        rec.facts.reserve_exact(1);
        rec.facts.push(Fact {
            at,
            kind,
            arg,
            flag,
            dl_start,
            dl_len: dl.len() as u8,
        });
    }
}

impl Projection for SlaProjection {
    const NAME: &'static str = "sla";

    fn apply_hinted(&mut self, e: &Event, hint: Option<u32>) {
        let id = e.meta.complaint_id.as_str();
        if let EventData::Received(r) = &e.data {
            if self.locate(id, hint).is_some() {
                return;
            }
            let i = self.recs.len() as u32;
            let region = self.strings.intern(&r.region);
            let attributes = r
                .attributes
                .iter()
                .map(|(k, v)| (self.strings.intern(k), self.strings.intern(v)))
                .collect();
            self.recs.push(SlaRec {
                id: SmallId::new(e.meta.complaint_id.as_str()),
                received_at: e.meta.occurred_at,
                contact_at: r.contact_at,
                channel: r.channel,
                category: None,
                severity: None,
                customer_tier: None,
                flags: Flags::default(),
                region,
                department: None,
                policy_version: None,
                attributes,
                facts: Vec::new(),
                deadlines: Vec::new(),
            });
            let recs = &self.recs;
            self.index.insert(id, i, |j| recs[j as usize].id.as_bytes());
            return;
        }
        let Some(i) = self.locate(id, hint) else {
            return;
        };
        let i = i as usize;
        let at = e.meta.occurred_at;
        match &e.data {
            EventData::Received(_)
            | EventData::CustomerErased(_)
            | EventData::Verified(_)
            | EventData::Rejected(_)
            | EventData::MergedAsDuplicate(_)
            | EventData::Compensated(_) => {}
            EventData::Classified(c) => {
                let pv = self.strings.intern(&c.policy_version);
                let rec = &mut self.recs[i];
                rec.category = Some(c.category);
                rec.severity = Some(c.severity);
                rec.customer_tier = Some(c.customer_tier);
                rec.flags = c.flags;
                rec.policy_version = Some(pv);
                self.push_fact(i, at, FactKind::Classified, 0, false, &c.deadlines);
            }
            EventData::Dispatched(d) => {
                let dept = self.strings.intern(&d.department.0);
                self.recs[i].department = Some(dept);
                self.push_fact(i, at, FactKind::Dispatched, 0, false, &d.deadlines);
            }
            EventData::Redispatched(d) => {
                let dept = self.strings.intern(&d.to.0);
                self.recs[i].department = Some(dept);
                self.push_fact(i, at, FactKind::Redispatched, 0, false, &[]);
            }
            EventData::OnHold(_) => self.push_fact(i, at, FactKind::OnHold, 0, false, &[]),
            EventData::Resumed(_) => self.push_fact(i, at, FactKind::Resumed, 0, false, &[]),
            EventData::Responded(r) => self.push_fact(
                i,
                at,
                FactKind::Responded,
                response_kind_code(r.kind),
                false,
                &r.deadlines,
            ),
            EventData::Escalated(x) => {
                let watchdog = matches!(x.trigger, EscalationTrigger::Watchdog { .. });
                self.push_fact(i, at, FactKind::Escalated, level_code(x.level), watchdog, &[])
            }
            EventData::Revisited(v) => self.push_fact(i, at, FactKind::Revisited, 0, v.satisfied, &[]),
            EventData::Reopened(_) => self.push_fact(i, at, FactKind::Reopened, 0, false, &[]),
            EventData::Closed(_) => self.push_fact(i, at, FactKind::Closed, 0, false, &[]),
        }
    }

    fn record_count(&self) -> usize {
        self.recs.len()
    }

    fn record_id(&self, i: usize) -> &[u8] {
        self.recs[i].id.as_bytes()
    }

    fn after_load(&mut self) {
        self.strings.rebuild_index();
        self.index.clear();
        let recs = &self.recs;
        for (i, r) in recs.iter().enumerate() {
            self.index
                .insert(r.id.as_str(), i as u32, |j| recs[j as usize].id.as_bytes());
        }
    }
}

#[cfg(test)]
pub(crate) fn record_size() -> usize {
    std::mem::size_of::<SlaRec>()
}

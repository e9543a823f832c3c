//! The analysis projection (issue 4, projection 4; docs/domain.md §8): the weekly report (分析组
//! 每周投诉周报), the monthly heat map (category × stage × region × customer tier) and the alerts
//! (a category's daily surge over its baseline; a region whose `delay` share stays over the
//! threshold for consecutive months). Thresholds come from the policy (`alerts`), never from
//! code; "now" is always a parameter.
//!
//! Weeks, days and months are local to [`Buckets`] (UTC+8 by default); every figure is about
//! the tickets *received* in the period.

use crate::records::RecordTable;
use crate::shared::ReceiptColumn;
use crate::sla::{ClockSummary, SlaProjection};
use crate::util::{ratio, Buckets, DurationStats, Interner, IsoWeek, Month, OptSym, Sym};
use crate::Projection;
use crate::{ensure, InvalidState};
use plaint_domain::closed_loop::RevisitTally;
use plaint_domain::event::*;
use plaint_domain::lifecycle::Lifecycle;
use plaint_domain::policy::Policy;
use plaint_domain::time::{PackedTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON shapes of [`WeeklyReport`], [`HeatMap`] and [`AlertsReport`].
pub const ANALYSIS_REPORT_SCHEMA_VERSION: u32 = 1;
/// How many entries the weekly report's top-issues list holds.
pub const TOP_ISSUES_MAX: usize = 10;

/// One ticket. Serialises through [`AnaWire`]: the checkpoint holds the fields format 7 always
/// held, in its order, whatever this record packs in memory.
#[derive(Debug, Clone, PartialEq)]
struct AnaRec {
    /// The local day of receipt (the shared record's time of receipt, in `buckets`' zone).
    day: i32,
    region: Sym,
    category: Option<Category>,
    customer_tier: Option<CustomerTier>,
    department: OptSym,
    /// The yes/no fields in one byte (`AnaRec::MARK_*`), where four `bool`s, the liability's
    /// `Option<bool>` and the tags of two `Option<PackedTimestamp>`s took 13 (issue 13, wave
    /// 12: 88 -> 72 bytes a ticket).
    marks: u8,
    /// Status, reopens, escalation level: the domain's fold.
    life: Lifecycle,
    final_responses: u32,
    /// The first response's time when [`AnaRec::MARK_RESPONDED`] is set.
    first_response: PackedTimestamp,
    /// The first final response's time when [`AnaRec::MARK_FINAL`] is set.
    first_final: PackedTimestamp,
    root_cause: Option<Stage>,
    /// Every revisit counted, first and latest kept (docs/domain.md R-LOOP-4).
    revisits: RevisitTally,
}

impl AnaRec {
    const MARK_REDISPATCHED: u8 = 1;
    const MARK_REPEAT: u8 = 1 << 1;
    const MARK_DUPLICATE: u8 = 1 << 2;
    const MARK_REJECTED: u8 = 1 << 3;
    const MARK_RESPONDED: u8 = 1 << 4;
    const MARK_FINAL: u8 = 1 << 5;
    /// Liability stated ([`AnaRec::MARK_LIABLE`] says which way).
    const MARK_LIABILITY: u8 = 1 << 6;
    const MARK_LIABLE: u8 = 1 << 7;

    fn is(&self, mark: u8) -> bool {
        self.marks & mark != 0
    }
    fn set(&mut self, mark: u8, on: bool) {
        if on {
            self.marks |= mark;
        } else {
            self.marks &= !mark;
        }
    }
    fn first_response_at(&self) -> Option<PackedTimestamp> {
        self.is(Self::MARK_RESPONDED).then_some(self.first_response)
    }
    fn first_final_at(&self) -> Option<PackedTimestamp> {
        self.is(Self::MARK_FINAL).then_some(self.first_final)
    }
    fn set_first_response_at(&mut self, at: Option<PackedTimestamp>) {
        self.set(Self::MARK_RESPONDED, at.is_some());
        self.first_response = at.unwrap_or_default();
    }
    fn set_first_final_at(&mut self, at: Option<PackedTimestamp>) {
        self.set(Self::MARK_FINAL, at.is_some());
        self.first_final = at.unwrap_or_default();
    }
    /// Liability as last stated (final response, then close).
    fn liable(&self) -> Option<bool> {
        self.is(Self::MARK_LIABILITY).then(|| self.is(Self::MARK_LIABLE))
    }
    fn set_liable(&mut self, liable: Option<bool>) {
        self.set(Self::MARK_LIABILITY, liable.is_some());
        self.set(Self::MARK_LIABLE, liable == Some(true));
    }
}

/// An [`AnaRec`] as the checkpoint holds it (format 7): the field order and types of the record
/// before issue 13 wave 12 packed it, so the bytes are unchanged.
#[derive(Serialize, Deserialize)]
struct AnaWire {
    day: i32,
    region: Sym,
    category: Option<Category>,
    customer_tier: Option<CustomerTier>,
    department: OptSym,
    redispatched: bool,
    repeat: bool,
    duplicate: bool,
    rejected: bool,
    life: Lifecycle,
    final_responses: u32,
    first_response_at: Option<PackedTimestamp>,
    first_final_at: Option<PackedTimestamp>,
    liable: Option<bool>,
    root_cause: Option<Stage>,
    revisits: RevisitTally,
}

impl Serialize for AnaRec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AnaWire {
            day: self.day,
            region: self.region,
            category: self.category,
            customer_tier: self.customer_tier,
            department: self.department,
            redispatched: self.is(Self::MARK_REDISPATCHED),
            repeat: self.is(Self::MARK_REPEAT),
            duplicate: self.is(Self::MARK_DUPLICATE),
            rejected: self.is(Self::MARK_REJECTED),
            life: self.life,
            final_responses: self.final_responses,
            first_response_at: self.first_response_at(),
            first_final_at: self.first_final_at(),
            liable: self.liable(),
            root_cause: self.root_cause,
            revisits: self.revisits,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AnaRec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = AnaWire::deserialize(d)?;
        let mut a = AnaRec {
            day: w.day,
            region: w.region,
            category: w.category,
            customer_tier: w.customer_tier,
            department: w.department,
            marks: 0,
            life: w.life,
            final_responses: w.final_responses,
            first_response: PackedTimestamp::default(),
            first_final: PackedTimestamp::default(),
            root_cause: w.root_cause,
            revisits: w.revisits,
        };
        a.set(AnaRec::MARK_REDISPATCHED, w.redispatched);
        a.set(AnaRec::MARK_REPEAT, w.repeat);
        a.set(AnaRec::MARK_DUPLICATE, w.duplicate);
        a.set(AnaRec::MARK_REJECTED, w.rejected);
        a.set_first_response_at(w.first_response_at);
        a.set_first_final_at(w.first_final_at);
        a.set_liable(w.liable);
        Ok(a)
    }
}

/// The analysis projection: a compact record per ticket; reports are computed from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Analysis {
    buckets: Buckets,
    recs: RecordTable<AnaRec>,
    strings: Interner,
    /// Each ticket's time of receipt and channel: the set's shared record (issue 13, wave 11),
    /// or a column of its own when used alone. Not in the state's bytes.
    #[serde(skip)]
    receipts: ReceiptColumn,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis::with_buckets(Buckets::default())
    }
}

impl PartialEq for Analysis {
    fn eq(&self, other: &Self) -> bool {
        self.buckets == other.buckets && self.recs == other.recs && self.strings == other.strings
    }
}

/// A count with its share of the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub count: u64,
    pub share: Option<f64>,
}

/// Revisit figures (docs/domain.md R-LOOP-4): every revisit counted, not only each ticket's
/// last; the first and the latest revisit of each ticket both reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Satisfaction {
    /// Revisits made (every one: a ticket revisited twice counts twice).
    pub revisited: u64,
    /// Revisits that found the customer satisfied.
    pub satisfied: u64,
    /// Revisits that found the problem solved.
    pub solved: u64,
    /// satisfied / revisited, over every revisit.
    pub satisfied_rate: Option<f64>,
    /// Mean of the 1–5 scores given (every revisit).
    pub mean_score: Option<f64>,
    pub scored: u64,
    /// Tickets revisited at least once.
    pub tickets_revisited: u64,
    /// Tickets whose first revisit found the customer satisfied.
    pub first_satisfied: u64,
    /// first_satisfied / tickets_revisited.
    pub first_satisfied_rate: Option<f64>,
    /// Tickets whose latest revisit found the customer satisfied.
    pub latest_satisfied: u64,
    /// latest_satisfied / tickets_revisited.
    pub latest_satisfied_rate: Option<f64>,
}

/// One of the most frequent (category, region) pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopIssue {
    pub category: Category,
    pub region: String,
    pub count: u64,
}

/// The weekly report (000 分析组 每周投诉周报), over the tickets received in one ISO week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyReport {
    pub schema_version: u32,
    pub week: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The instant SLA verdicts were judged at.
    pub now: Timestamp,
    pub policy_version: String,
    pub received: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    pub by_region: BTreeMap<String, u64>,
    /// By the department holding the ticket; `unassigned` when never dispatched.
    pub by_department: BTreeMap<String, u64>,
    /// Per clock: verdict counts and on-time rate, for the week's tickets.
    pub on_time: BTreeMap<String, ClockSummary>,
    pub repeats: u64,
    pub reopened: u64,
    /// (repeats + reopened) / received (docs/domain.md §8).
    pub repeat_rate: Option<f64>,
    pub satisfaction: Satisfaction,
    /// Tickets with a final response.
    pub resolved: u64,
    /// Of those, solved by the first final response: exactly one final response, never
    /// reopened, never redispatched.
    pub first_contact_resolved: u64,
    pub first_contact_resolution_rate: Option<f64>,
    pub escalated: u64,
    /// escalated / received.
    pub escalation_rate: Option<f64>,
    /// 有效投诉: the company was found liable.
    pub effective: u64,
    pub effective_rate: Option<f64>,
    pub rejected: u64,
    pub duplicates: u64,
    /// From receipt to the first response of any kind.
    pub time_to_respond: DurationStats,
    /// From receipt to the first final response.
    pub time_to_resolve: DurationStats,
    pub top_issues: Vec<TopIssue>,
}

/// One cell of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeatCell {
    pub category: Category,
    /// Root-cause stage; `None` while unknown.
    pub stage: Option<Stage>,
    pub region: String,
    pub customer_tier: CustomerTier,
    pub count: u64,
}

/// The monthly heat map (000 §四): counts by category × stage × region × customer tier of the
/// classified tickets received in the month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatMap {
    pub schema_version: u32,
    pub month: String,
    pub cells: Vec<HeatCell>,
}

/// A category's daily count over its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurgeAlert {
    pub day: String,
    pub category: Category,
    pub count: u64,
    /// Mean daily count over the baseline days before.
    pub baseline: f64,
    /// count / baseline - 1 (`None` when the baseline is 0).
    pub rise: Option<f64>,
}

/// A region whose `delay` share exceeded the threshold in consecutive months.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionDelayAlert {
    pub region: String,
    /// The months checked, oldest first, with the delay share of each.
    pub months: Vec<(String, f64)>,
}

/// The alerts as of `now`: surges on the local day of `now`, region delay shares over the
/// months ending with the month of `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsReport {
    pub schema_version: u32,
    pub now: Timestamp,
    pub policy_version: String,
    pub surges: Vec<SurgeAlert>,
    pub region_delays: Vec<RegionDelayAlert>,
}

impl Analysis {
    /// An empty projection cutting days, weeks and months with `buckets`.
    pub fn with_buckets(buckets: Buckets) -> Analysis {
        Analysis {
            buckets,
            recs: RecordTable::default(),
            strings: Interner::default(),
            receipts: ReceiptColumn::default(),
        }
    }
    #[inline]
    fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        self.recs.locate(id, hint)
    }
    pub fn buckets(&self) -> Buckets {
        self.buckets
    }
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The weekly report for `week`, SLA verdicts judged at `now`.
    pub fn weekly_report(&self, week: IsoWeek, sla: &SlaProjection, now: Timestamp, policy: &Policy) -> WeeklyReport {
        let (first, last) = self.buckets.week_days(week);
        let from = self.buckets.day_start(first);
        let to = self.buckets.day_start(last + 1);
        let s = &self.strings;
        let mut r = WeeklyReport {
            schema_version: ANALYSIS_REPORT_SCHEMA_VERSION,
            week: week.to_string(),
            from,
            to,
            now,
            policy_version: policy.version.clone(),
            received: 0,
            by_category: BTreeMap::new(),
            by_channel: BTreeMap::new(),
            by_region: BTreeMap::new(),
            by_department: BTreeMap::new(),
            on_time: sla.summary_received_between(from, to, now, policy),
            repeats: 0,
            reopened: 0,
            repeat_rate: None,
            satisfaction: Satisfaction {
                revisited: 0,
                satisfied: 0,
                solved: 0,
                satisfied_rate: None,
                mean_score: None,
                scored: 0,
                tickets_revisited: 0,
                first_satisfied: 0,
                first_satisfied_rate: None,
                latest_satisfied: 0,
                latest_satisfied_rate: None,
            },
            resolved: 0,
            first_contact_resolved: 0,
            first_contact_resolution_rate: None,
            escalated: 0,
            escalation_rate: None,
            effective: 0,
            effective_rate: None,
            rejected: 0,
            duplicates: 0,
            time_to_respond: DurationStats::default(),
            time_to_resolve: DurationStats::default(),
            top_issues: Vec::new(),
        };
        let (mut respond, mut resolve) = (Vec::new(), Vec::new());
        let mut score_sum = 0u64;
        let mut issues: BTreeMap<(Category, &str), u64> = BTreeMap::new();
        for (i, a) in self
            .recs
            .iter()
            .enumerate()
            .filter(|(_, a)| a.day >= first && a.day <= last)
        {
            let receipt = self.receipts.get(i);
            r.received += 1;
            if let Some(c) = a.category {
                *r.by_category.entry(c.as_str().to_owned()).or_default() += 1;
                *issues.entry((c, s.resolve(a.region))).or_default() += 1;
            }
            *r.by_channel.entry(receipt.channel().as_str().to_owned()).or_default() += 1;
            *r.by_region.entry(s.resolve(a.region).to_owned()).or_default() += 1;
            let dept = a.department.map(|d| s.resolve(d)).unwrap_or("unassigned");
            *r.by_department.entry(dept.to_owned()).or_default() += 1;
            r.repeats += a.is(AnaRec::MARK_REPEAT) as u64;
            r.reopened += (a.life.reopen_count > 0) as u64;
            let v = &a.revisits;
            r.satisfaction.revisited += u64::from(v.count);
            r.satisfaction.satisfied += u64::from(v.satisfied);
            r.satisfaction.solved += u64::from(v.solved);
            r.satisfaction.scored += u64::from(v.scored);
            score_sum += u64::from(v.score_sum);
            if v.count > 0 {
                r.satisfaction.tickets_revisited += 1;
                r.satisfaction.first_satisfied += v.first.is_some_and(|o| o.satisfied) as u64;
                r.satisfaction.latest_satisfied += v.latest.is_some_and(|o| o.satisfied) as u64;
            }
            if a.final_responses > 0 {
                r.resolved += 1;
                if a.final_responses == 1 && a.life.reopen_count == 0 && !a.is(AnaRec::MARK_REDISPATCHED) {
                    r.first_contact_resolved += 1;
                }
            }
            r.escalated += a.life.escalation_level.is_some() as u64;
            r.effective += (a.liable() == Some(true)) as u64;
            r.rejected += a.is(AnaRec::MARK_REJECTED) as u64;
            r.duplicates += a.is(AnaRec::MARK_DUPLICATE) as u64;
            if let Some(t) = a.first_response_at() {
                respond.push(t.get().millis_since(receipt.received_at()));
            }
            if let Some(t) = a.first_final_at() {
                resolve.push(t.get().millis_since(receipt.received_at()));
            }
        }
        r.repeat_rate = ratio(r.repeats + r.reopened, r.received);
        r.satisfaction.satisfied_rate = ratio(r.satisfaction.satisfied, r.satisfaction.revisited);
        r.satisfaction.mean_score = ratio(score_sum, r.satisfaction.scored);
        r.satisfaction.first_satisfied_rate = ratio(r.satisfaction.first_satisfied, r.satisfaction.tickets_revisited);
        r.satisfaction.latest_satisfied_rate = ratio(r.satisfaction.latest_satisfied, r.satisfaction.tickets_revisited);
        r.first_contact_resolution_rate = ratio(r.first_contact_resolved, r.resolved);
        r.escalation_rate = ratio(r.escalated, r.received);
        r.effective_rate = ratio(r.effective, r.received);
        r.time_to_respond = DurationStats::from_values(&mut respond);
        r.time_to_resolve = DurationStats::from_values(&mut resolve);
        let mut top: Vec<TopIssue> = issues
            .into_iter()
            .map(|((category, region), count)| TopIssue {
                category,
                region: region.to_owned(),
                count,
            })
            .collect();
        // Most frequent first; ties in (category, region) order, which the BTreeMap gave.
        top.sort_by_key(|t| std::cmp::Reverse(t.count));
        top.truncate(TOP_ISSUES_MAX);
        r.top_issues = top;
        r
    }

    /// The heat map of the tickets received in `month` (classified ones; others have no
    /// category or customer tier yet).
    pub fn heat_map(&self, month: Month) -> HeatMap {
        let mut cells: BTreeMap<(Category, Option<Stage>, &str, CustomerTier), u64> = BTreeMap::new();
        for (i, a) in self.recs.iter().enumerate() {
            let (Some(category), Some(tier)) = (a.category, a.customer_tier) else {
                continue;
            };
            if self.buckets.month(self.receipts.get(i).received_at()) != month {
                continue;
            }
            *cells
                .entry((category, a.root_cause, self.strings.resolve(a.region), tier))
                .or_default() += 1;
        }
        HeatMap {
            schema_version: ANALYSIS_REPORT_SCHEMA_VERSION,
            month: month.to_string(),
            cells: cells
                .into_iter()
                .map(|((category, stage, region, customer_tier), count)| HeatCell {
                    category,
                    stage,
                    region: region.to_owned(),
                    customer_tier,
                    count,
                })
                .collect(),
        }
    }

    /// Surges on the local day of `now` and region delay shares over the months ending with
    /// the month of `now`, with the policy's thresholds.
    pub fn alerts(&self, now: Timestamp, policy: &Policy) -> AlertsReport {
        let a = &policy.alerts;
        let today = self.buckets.day(now);
        let base_days = a.category_surge_baseline_days.max(1) as i32;
        // Daily counts per category over [today - base_days, today].
        let mut counts: BTreeMap<Category, (u64, u64)> = BTreeMap::new(); // (today, baseline total)
        let mut region_months: BTreeMap<(&str, Month), (u64, u64)> = BTreeMap::new(); // (delay, all)
        let this_month = self.buckets.month(now);
        let months_wanted = a.region_delay_months.max(1);
        let mut months = vec![this_month];
        for _ in 1..months_wanted {
            let prev = months.last().expect("non-empty").previous();
            months.push(prev);
        }
        months.reverse();
        for (i, r) in self.recs.iter().enumerate() {
            let received_at = self.receipts.get(i).received_at();
            if received_at > now {
                continue;
            }
            let Some(c) = r.category else { continue };
            if r.day == today {
                counts.entry(c).or_default().0 += 1;
            } else if r.day < today && r.day >= today - base_days {
                counts.entry(c).or_default().1 += 1;
            }
            let m = self.buckets.month(received_at);
            if months.contains(&m) {
                let e = region_months.entry((self.strings.resolve(r.region), m)).or_default();
                e.0 += (c == Category::Delay) as u64;
                e.1 += 1;
            }
        }
        let day_name = self.buckets.date_of_day(today).to_string();
        let mut surges = Vec::new();
        for (category, (count, base_total)) in counts {
            let baseline = base_total as f64 / base_days as f64;
            if count < a.category_surge_count_min as u64 {
                continue;
            }
            if count as f64 > baseline * (1.0 + a.category_surge_share) {
                surges.push(SurgeAlert {
                    day: day_name.clone(),
                    category,
                    count,
                    baseline,
                    rise: (baseline > 0.0).then(|| count as f64 / baseline - 1.0),
                });
            }
        }
        let mut regions: BTreeMap<&str, Vec<(String, f64)>> = BTreeMap::new();
        for ((region, month), (delay, all)) in &region_months {
            if let Some(share) = ratio(*delay, *all) {
                regions.entry(region).or_default().push((month.to_string(), share));
            }
        }
        let region_delays = regions
            .into_iter()
            .filter(|(_, shares)| shares.len() == months.len() && shares.iter().all(|(_, s)| *s > a.region_delay_share))
            .map(|(region, months)| RegionDelayAlert {
                region: region.to_owned(),
                months,
            })
            .collect();
        AlertsReport {
            schema_version: ANALYSIS_REPORT_SCHEMA_VERSION,
            now,
            policy_version: policy.version.clone(),
            surges,
            region_delays,
        }
    }
}

impl Projection for Analysis {
    const NAME: &'static str = "analysis";

    fn apply_hinted(&mut self, e: &Event, hint: Option<u32>) {
        if let EventData::Received(r) = &e.data {
            if self.locate(e.meta.complaint_id.as_str(), hint).is_some() {
                return;
            }
            let i = self.recs.push(
                e.meta.complaint_id.as_str(),
                AnaRec {
                    day: self.buckets.day(e.meta.occurred_at),
                    region: self.strings.intern(&r.region),
                    category: None,
                    customer_tier: None,
                    department: OptSym::NONE,
                    marks: 0,
                    life: {
                        let mut life = Lifecycle::NEW;
                        life.apply(&e.data);
                        life
                    },
                    final_responses: 0,
                    first_response: PackedTimestamp::default(),
                    first_final: PackedTimestamp::default(),
                    root_cause: None,
                    revisits: RevisitTally::default(),
                },
            );
            self.receipts.receive(i as usize, e, r);
            return;
        }
        let Some(i) = self.locate(e.meta.complaint_id.as_str(), hint) else {
            return;
        };
        let at = e.meta.occurred_at;
        self.recs[i as usize].life.apply(&e.data);
        match &e.data {
            EventData::Received(_) | EventData::CustomerErased(_) => {}
            // Issue 17: the casework projection (`casework.rs`) keeps these.
            EventData::CompensationProposed(_)
            | EventData::CompensationApproved(_)
            | EventData::CompensationPaid(_)
            | EventData::CompensationRefused(_)
            | EventData::IncidentOpened(_)
            | EventData::IncidentLinked(_)
            | EventData::IncidentProgressReported(_)
            | EventData::ImprovementRecorded(_)
            | EventData::DisputeEscalated(_) => {}
            EventData::TokenIssued(_) | EventData::TokenRevoked(_) | EventData::PersonalDataRevealed(_) => {}
            EventData::Verified(v) => {
                if v.repeat_of.is_some() {
                    self.recs[i as usize].set(AnaRec::MARK_REPEAT, true);
                }
            }
            EventData::Rejected(_) => self.recs[i as usize].set(AnaRec::MARK_REJECTED, true),
            EventData::MergedAsDuplicate(_) => self.recs[i as usize].set(AnaRec::MARK_DUPLICATE, true),
            EventData::Classified(c) => {
                let a = &mut self.recs[i as usize];
                a.category = Some(c.category);
                a.customer_tier = Some(c.customer_tier);
                // docs/domain.md §8: a repeat the domain found once the category was known.
                if c.repeat_of.is_some() {
                    a.set(AnaRec::MARK_REPEAT, true);
                }
            }
            EventData::Dispatched(d) => {
                let dept = self.strings.intern(&d.department.0);
                self.recs[i as usize].department = dept.into();
            }
            EventData::Redispatched(d) => {
                let dept = self.strings.intern(&d.to.0);
                let a = &mut self.recs[i as usize];
                a.department = dept.into();
                a.set(AnaRec::MARK_REDISPATCHED, true);
            }
            EventData::OnHold(_) | EventData::Resumed(_) | EventData::Compensated(_) => {}
            EventData::Responded(r) => {
                let a = &mut self.recs[i as usize];
                if a.first_response_at().is_none() {
                    a.set_first_response_at(Some(at.into()));
                }
                if r.kind == ResponseKind::Final {
                    a.final_responses += 1;
                    if a.first_final_at().is_none() {
                        a.set_first_final_at(Some(at.into()));
                    }
                    if r.liable.is_some() {
                        a.set_liable(r.liable);
                    }
                    if r.root_cause.is_some() {
                        a.root_cause = r.root_cause;
                    }
                }
            }
            EventData::Escalated(_) | EventData::Reopened(_) => {}
            EventData::Revisited(v) => self.recs[i as usize].revisits.record(v),
            EventData::RevisitAttempted(_)
            | EventData::OwnershipTransferred(_)
            | EventData::SupervisionOpened(_)
            | EventData::SeverityOverridden(_) => {}
            EventData::Closed(c) => {
                let a = &mut self.recs[i as usize];
                if c.resolution == Resolution::Resolved || c.liable {
                    a.set_liable(Some(c.liable));
                }
                if c.root_cause.is_some() {
                    a.root_cause = c.root_cause;
                }
            }
        }
    }

    fn id_table(&self) -> &dyn crate::records::IdTable {
        &self.recs
    }

    fn id_table_mut(&mut self) -> &mut dyn crate::records::IdTable {
        &mut self.recs
    }

    fn after_load(&mut self) -> Result<(), InvalidState> {
        self.strings.rebuild_index()?;
        self.recs.reindex()?;
        let s = &self.strings;
        self.recs.check_each(|r| {
            s.check(r.region, "region")?;
            s.check_opt(r.department, "department")
        })
    }

    fn receipts(&self) -> Option<&ReceiptColumn> {
        Some(&self.receipts)
    }

    fn receipts_mut(&mut self) -> Option<&mut ReceiptColumn> {
        Some(&mut self.receipts)
    }

    /// Each record's day is its receipt's, in this projection's time zone.
    fn check_receipts(&self) -> Result<(), InvalidState> {
        for (i, r) in self.recs.iter().enumerate() {
            let day = self.buckets.day(self.receipts.get(i).received_at());
            ensure(r.day == day, || format!("day {} but received on day {day}", r.day))
                .map_err(|e| e.within(format_args!("record {i} ({:?})", self.recs.id(i).as_str())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) fn record_size() -> usize {
    std::mem::size_of::<AnaRec>()
}

#[cfg(test)]
impl Analysis {
    /// Heap bytes by field group (see `Tickets::bytes_by_group`).
    pub(crate) fn bytes_by_group(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("strings (interner)", self.strings.heap_bytes()),
            ("analysis record", self.recs.len() * std::mem::size_of::<AnaRec>()),
        ]
    }
}

#[cfg(test)]
mod load_checks {
    use super::*;
    use crate::checkpoint::crafted::{assert_refused, changed, sound};

    /// A day that is not the receipt's would count the ticket on the wrong day, silently. The
    /// receipts are the set's shared record (issue 13, wave 11): the set checks the day when it
    /// loads the state with the record.
    #[test]
    fn a_day_other_than_the_shared_receipts_is_refused_when_the_set_loads() {
        use crate::checkpoint::CheckpointError;
        use crate::runner::{ProjectionSet, Runner, RunnerError};
        let mut set = ProjectionSet::default();
        for e in crate::synth::SynthLog::new(crate::synth::SynthConfig {
            complaints: 300,
            ..crate::synth::SynthConfig::default()
        }) {
            set.apply(&e);
        }
        let dir = tempfile::tempdir().unwrap();
        set.save(dir.path()).unwrap();
        assert!(Runner::open(dir.path(), ProjectionSet::default()).is_ok());
        set.analysis.state.recs[2].day += 1;
        crate::checkpoint::save(dir.path(), set.analysis.position, &set.analysis.state).unwrap();
        match Runner::open(dir.path(), ProjectionSet::default()) {
            Err(RunnerError::Checkpoint(CheckpointError::Corrupt { path, detail })) => {
                assert_eq!(path, crate::checkpoint::checkpoint_path(dir.path(), Analysis::NAME));
                assert!(
                    detail.contains("record 2 (") && detail.contains("but received on day"),
                    "{detail}"
                );
            }
            other => panic!("opened: {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn crafted_states_are_refused_at_load_not_at_query_time() {
        let good: Analysis = sound();
        let beyond = Sym(good.strings.len() as u32);
        let month = good.buckets.month(good.receipts.get(0).received_at());

        // Before the check, this state loaded and the heat map panicked on the region.
        let region = changed(&good, |a| a.recs[0].region = beyond);
        assert!(std::panic::catch_unwind(|| region.heat_map(month)).is_err());
        assert_refused(&region, "region is symbol");
        assert_refused(
            &changed(&good, |a| a.recs[1].department = beyond.into()),
            "department is symbol",
        );
        let dup = good.recs.id(0).clone();
        assert_refused(
            &changed(&good, |a| a.recs = a.recs.with_id(3, dup.clone())),
            "the same id",
        );
        assert_refused(
            &changed(&good, |a| a.strings = crate::util::crafted::with_duplicate(&a.strings)),
            "appears twice",
        );
    }
}

//! The weekly and monthly reports people open (docs/cli.md `plaint report`): the figures of one
//! period gathered from the engine's reports and views into [`PeriodReport`], which
//! [`crate::report_html`] draws as one self-contained HTML page and [`crate::report_csv`] writes
//! as flat spreadsheet tables. `plaint report` calls these; `plaint serve` can reuse them.
//!
//! Every section is built by its own function from the facade's report types, so a report type
//! that gains or loses a field changes one section only.

use crate::engine::Engine;
use crate::error::EngineError;
use chrono::{Datelike, FixedOffset, NaiveDate};
use plaint_domain::zone::BusinessZone;
use plaint_domain::Timestamp;
use plaint_projections::analysis::{AlertsReport, HeatMap, WeeklyReport};
use plaint_projections::sla::ClockSummary;
use plaint_projections::tickets::TicketView;
use plaint_projections::util::{IsoWeek, Month};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the [`PeriodReport`] JSON shape.
pub const PERIOD_REPORT_SCHEMA_VERSION: u32 = 1;

/// At most this many customers in the top repeat customers section (a display limit, like the
/// weekly report's `TOP_ISSUES_MAX`).
pub const TOP_REPEAT_CUSTOMERS_MAX: usize = 10;

/// The label of tickets not classified yet in the category mix and the heat map.
pub const UNCLASSIFIED: &str = "unclassified";

/// The period a report covers, in the office's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// An ISO week, Monday to Monday.
    Week(IsoWeek),
    /// A calendar month.
    Month(Month),
}

/// Tickets received on one day of the period (office time zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    /// `YYYY-MM-DD` in the office's time zone.
    pub day: String,
    /// Tickets received that day.
    pub count: u64,
}

/// The region × category counts of a month (the heat map summed over stage and customer tier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatGrid {
    /// `YYYY-MM`.
    pub month: String,
    /// Rows, sorted.
    pub regions: Vec<String>,
    /// Columns, sorted.
    pub categories: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
}

impl HeatGrid {
    /// The largest cell count (0 for an empty grid).
    pub fn max(&self) -> u64 {
        self.counts.iter().flatten().copied().max().unwrap_or(0)
    }
}

/// A customer with more than one ticket received in the period, shown masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatCustomer {
    /// The customer id masked (first and last characters kept) and `#` with the last four
    /// characters of the pseudonymous match key, which tell apart ids that mask alike.
    pub customer: String,
    /// Tickets of this customer received in the period.
    pub tickets: u64,
}

/// One period's report: what the HTML page and the CSV tables show (JSON shape versioned by
/// `schema_version`, `docs/json-format.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodReport {
    /// [`PERIOD_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `weekly` or `monthly`.
    pub kind: String,
    /// `2026-W38` or `2026-09`.
    pub period: String,
    /// Start of the period (inclusive), RFC 3339 with the office's offset.
    pub from: String,
    /// End of the period (exclusive), RFC 3339 with the office's offset.
    pub to: String,
    /// The instant SLA verdicts and alerts are judged at, RFC 3339 with the office's offset.
    pub now: String,
    /// The UTC offset (`+08:00`) in effect at `from` in `time_zone`.
    pub utc_offset: String,
    /// The time zone `from`, `to` and `now` are written in: the business calendar's (IANA name,
    /// `Asia/Shanghai`) unless the caller asked for another. Days, weeks and months are always
    /// the office's.
    #[serde(default)]
    pub time_zone: String,
    /// The policy version that judged at-risk clocks.
    pub policy_version: String,
    /// Tickets received in the period (= the sum of `daily_intake`).
    pub received: u64,
    /// Every day of the period, days without tickets included.
    pub daily_intake: Vec<DayCount>,
    /// Category → tickets received in the period (`unclassified` when not classified yet).
    pub by_category: BTreeMap<String, u64>,
    /// Channel → tickets received in the period.
    pub by_channel: BTreeMap<String, u64>,
    /// Clock → verdicts at `now` of the tickets received in the period (clocks that apply to
    /// none of them are left out).
    pub on_time: BTreeMap<String, ClockSummary>,
    /// The heat map of the month the period starts in.
    pub heat_map: HeatGrid,
    /// Customers with more than one ticket in the period, most first.
    pub top_repeat_customers: Vec<RepeatCustomer>,
    /// The alerts as of `now`.
    pub alerts: AlertsReport,
    /// The weekly report's own figures (weekly reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weekly: Option<WeeklyReport>,
    /// Monthly reports: the complaint analysis (投诉分析报告, docs/domain.md R-ANA-1) with the
    /// finance totals of the compensation lifecycle, incident groups and improvement actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<plaint_projections::casework::ComplaintAnalysis>,
}

impl PeriodReport {
    /// A file name stem for this report: `weekly-2026-W38`, `monthly-2026-09`.
    pub fn file_stem(&self) -> String {
        format!("{}-{}", self.kind, self.period)
    }
}

/// An instant as a person reads it at a fixed offset: `2026-09-14 08:30 +08:00`. Prefer
/// [`BusinessZone::text`], right on both sides of a daylight-saving change.
pub fn local_text(t: Timestamp, offset: FixedOffset) -> String {
    BusinessZone::Fixed(offset).text(t)
}

fn midnight(date: NaiveDate, zone: BusinessZone) -> Timestamp {
    zone.instant(date.and_time(chrono::NaiveTime::MIN))
}

fn month_bounds(month: Month, zone: BusinessZone) -> Result<(Timestamp, Timestamp), EngineError> {
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1)
        .ok_or_else(|| EngineError::bad_input("month", format!("{month} is not a month")))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| EngineError::bad_input("month", format!("{month} has no following month")))?;
    Ok((midnight(first, zone), midnight(next, zone)))
}

/// The sections of a report built from the tickets received in `[from, to)`.
fn received_in(views: impl Iterator<Item = TicketView>, from: Timestamp, to: Timestamp) -> Vec<TicketView> {
    views.filter(|v| v.received_at >= from && v.received_at < to).collect()
}

fn daily_intake(tickets: &[TicketView], from: Timestamp, to: Timestamp, zone: BusinessZone) -> Vec<DayCount> {
    let mut days: BTreeMap<String, u64> = BTreeMap::new();
    let mut date = zone.local(from).date();
    let last = zone.local(Timestamp::from_millis(to.as_millis() - 1)).date();
    while date <= last {
        days.insert(date.format("%Y-%m-%d").to_string(), 0);
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    for t in tickets {
        let day = zone.local(t.received_at).format("%Y-%m-%d").to_string();
        *days.entry(day).or_default() += 1;
    }
    days.into_iter().map(|(day, count)| DayCount { day, count }).collect()
}

/// The clocks that apply to at least one ticket of the period.
fn on_time(clocks: BTreeMap<String, ClockSummary>) -> BTreeMap<String, ClockSummary> {
    clocks
        .into_iter()
        .filter(|(_, c)| c.met + c.breached + c.pending + c.pending_overdue + c.at_risk > 0)
        .collect()
}

fn category_name(v: &TicketView) -> String {
    v.category
        .map(|c| c.as_str().to_owned())
        .unwrap_or_else(|| UNCLASSIFIED.to_owned())
}

fn by_category(tickets: &[TicketView]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for t in tickets {
        *out.entry(category_name(t)).or_default() += 1;
    }
    out
}

fn by_channel(tickets: &[TicketView]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for t in tickets {
        *out.entry(t.channel.as_str().to_owned()).or_default() += 1;
    }
    out
}

/// The region × category grid of a heat map (summed over stage and customer tier).
pub fn heat_grid(map: &HeatMap) -> HeatGrid {
    let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut regions = BTreeSet::new();
    let mut categories = BTreeSet::new();
    for cell in &map.cells {
        let category = cell.category.as_str().to_owned();
        regions.insert(cell.region.clone());
        categories.insert(category.clone());
        *sums.entry((cell.region.clone(), category)).or_default() += cell.count;
    }
    let regions: Vec<String> = regions.into_iter().collect();
    let categories: Vec<String> = categories.into_iter().collect();
    let counts = regions
        .iter()
        .map(|r| {
            categories
                .iter()
                .map(|c| sums.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    HeatGrid {
        month: map.month.clone(),
        regions,
        categories,
        counts,
    }
}

/// Masks a customer id for a report: keeps the first two and the last character of ids longer
/// than four characters, the first one otherwise; the rest becomes `*`.
pub fn mask_customer(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = if n > 4 { (2, 1) } else { (1, 0) };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

fn top_repeat_customers(tickets: &[TicketView]) -> Vec<RepeatCustomer> {
    // Grouped by the pseudonymous match key (phone or customer id), else the customer id.
    let mut groups: BTreeMap<String, (u64, Option<String>)> = BTreeMap::new();
    for t in tickets {
        let Some(key) = t.match_key.clone().or_else(|| t.customer_id.clone()) else {
            continue;
        };
        let entry = groups.entry(key).or_insert((0, None));
        entry.0 += 1;
        if entry.1.is_none() {
            entry.1 = t.customer_id.clone();
        }
    }
    let mut out: Vec<RepeatCustomer> = groups
        .into_iter()
        .filter(|(_, (n, _))| *n > 1)
        .map(|(key, (tickets, customer))| RepeatCustomer {
            customer: {
                // Masked ids can coincide; four characters of the pseudonymous key tell them apart.
                let tag: String = key
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                match customer {
                    Some(id) => format!("{} #{tag}", mask_customer(&id)),
                    None => format!("#{tag}"),
                }
            },
            tickets,
        })
        .collect();
    out.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.customer.cmp(&b.customer)));
    out.truncate(TOP_REPEAT_CUSTOMERS_MAX);
    out
}

impl Engine {
    /// The report of `period` (office time zone) with SLA verdicts and alerts judged at `now`.
    pub async fn period_report(&self, period: Period, now: Timestamp) -> Result<PeriodReport, EngineError> {
        self.period_report_in(period, now, self.calendar().time_zone()).await
    }

    /// [`Engine::period_report`] with its instants written in `display` (`plaint --tz`,
    /// `--utc`); the period, its days and its month are still the office's.
    pub async fn period_report_in(
        &self,
        period: Period,
        now: Timestamp,
        display: BusinessZone,
    ) -> Result<PeriodReport, EngineError> {
        let zone = self.calendar().time_zone();
        let (kind, label, from, to, month, weekly) = match period {
            Period::Week(week) => {
                let weekly = self.weekly_report(week, now).await?;
                let start = zone.local(weekly.from);
                let month = Month {
                    year: start.year(),
                    month: start.month(),
                };
                (
                    "weekly",
                    weekly.week.clone(),
                    weekly.from,
                    weekly.to,
                    month,
                    Some(weekly),
                )
            }
            Period::Month(month) => {
                let (from, to) = month_bounds(month, zone)?;
                ("monthly", month.to_string(), from, to, month, None)
            }
        };
        let tickets = self
            .with_projections(|p| received_in(p.tickets.state.views(), from, to))
            .await?;
        let sla = self.sla_report(now, None, Some((from, to))).await?;
        let heat = self.heat_map(month).await?;
        let alerts = self.alerts(now).await?;
        let analysis = match period {
            Period::Month(m) => Some(self.complaint_analysis(m, now).await?),
            Period::Week(_) => None,
        };
        Ok(PeriodReport {
            schema_version: PERIOD_REPORT_SCHEMA_VERSION,
            kind: kind.to_owned(),
            period: label,
            from: display.rfc3339(from),
            to: display.rfc3339(to),
            now: display.rfc3339(now),
            utc_offset: display.offset_at(from).to_string(),
            time_zone: display.name(),
            policy_version: sla.policy_version.clone(),
            received: tickets.len() as u64,
            daily_intake: daily_intake(&tickets, from, to, zone),
            by_category: by_category(&tickets),
            by_channel: by_channel(&tickets),
            on_time: on_time(sla.overall.clocks),
            heat_map: heat_grid(&heat),
            top_repeat_customers: top_repeat_customers(&tickets),
            alerts,
            weekly,
            analysis,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_masked() {
        assert_eq!(mask_customer("C0012345"), "C0*****5");
        assert_eq!(mask_customer("ab"), "a*");
        assert_eq!(mask_customer("张三丰先生"), "张三**生");
        assert_eq!(mask_customer(""), "");
    }

    #[test]
    fn month_bounds_are_local_midnights() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let zone = BusinessZone::parse("Asia/Shanghai").unwrap();
        let (from, to) = month_bounds(Month { year: 2026, month: 12 }, zone).unwrap();
        assert_eq!(from.to_string(), "2026-11-30T16:00:00Z");
        assert_eq!(to.to_string(), "2026-12-31T16:00:00Z");
        assert_eq!(local_text(from, offset), "2026-12-01 00:00 +08:00");
        // A month across a daylight-saving change starts and ends at local midnight.
        let ny = BusinessZone::parse("America/New_York").unwrap();
        let (from, to) = month_bounds(Month { year: 2014, month: 11 }, ny).unwrap();
        assert_eq!(ny.rfc3339(from), "2014-11-01T00:00:00-04:00");
        assert_eq!(ny.rfc3339(to), "2014-12-01T00:00:00-05:00");
    }
}

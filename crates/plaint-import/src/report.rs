//! Figures over imported histories that the SLA clocks do not cover: how soon tickets were
//! dispatched after receipt, in working days of a business calendar, per value of a
//! `Received.attributes` key (e.g. the CFPB's `submitted_via` channel).
//!
//! Pure: it reads events (from the engine's audit read, a replay, anything) and never the clock.

use plaint_domain::calendar::Calendar;
use plaint_domain::{ComplaintId, Event, EventData, Timestamp, MS_PER_DAY};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The group of tickets whose attribute is missing.
pub const MISSING_GROUP: &str = "(none)";

/// Counts for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DispatchShare {
    /// Tickets received.
    pub received: u64,
    /// Of those, dispatched (at least once).
    pub dispatched: u64,
    /// Of those, dispatched within the allowance.
    pub within: u64,
}

impl DispatchShare {
    /// `within / dispatched`, `None` when nothing was dispatched.
    pub fn share(&self) -> Option<f64> {
        (self.dispatched > 0).then(|| self.within as f64 / self.dispatched as f64)
    }
    fn add(&mut self, other: DispatchShare) {
        self.received += other.received;
        self.dispatched += other.dispatched;
        self.within += other.within;
    }
}

/// The share of tickets dispatched within `working_days` of receipt, per attribute value.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DispatchReport {
    pub attribute: String,
    pub working_days: u32,
    pub calendar: String,
    pub overall: DispatchShare,
    pub groups: BTreeMap<String, DispatchShare>,
}

/// Working-day time between `a` and `b` (`a <= b`), in milliseconds: every millisecond of
/// `[a, b)` that falls on a working day of `cal` (whole local dates, 00:00–24:00). A ticket
/// received on Friday and dispatched on Monday (same time of day) took one working day.
pub fn working_day_millis(cal: &Calendar, a: Timestamp, b: Timestamp) -> i64 {
    if b <= a {
        return 0;
    }
    let mut total = 0i64;
    let mut date = cal.local(a).date();
    let last = cal.local(b).date();
    let mut walked = 0i64;
    while date <= last && walked <= plaint_domain::calendar::CALENDAR_WALK_DAYS_MAX {
        let next = date.succ_opt().expect("dates stay far from the end of time");
        if cal.is_working_day(date) {
            let start = cal.instant(date.and_time(chrono::NaiveTime::MIN)).max(a);
            let end = cal.instant(next.and_time(chrono::NaiveTime::MIN)).min(b);
            if start < end {
                total += end.millis_since(start);
            }
        }
        date = next;
        walked += 1;
    }
    total
}

/// Per ticket: received at, group, first dispatch.
#[derive(Default)]
struct Track {
    received_at: Option<Timestamp>,
    group: Option<String>,
    dispatched_at: Option<Timestamp>,
}

/// The share of tickets dispatched within `working_days` working days of receipt (working-day
/// time between `Received` and the first `Dispatched`, see [`working_day_millis`]), per value of
/// the `Received.attributes` key `attribute`.
///
/// ```
/// use plaint_domain::calendar::Calendar;
/// let report = plaint_import::report::dispatch_within_working_days(
///     std::iter::empty(), "submitted_via", 1, &Calendar::china_mainland());
/// assert_eq!(report.overall.received, 0);
/// ```
pub fn dispatch_within_working_days<'e>(
    events: impl IntoIterator<Item = &'e Event>,
    attribute: &str,
    working_days: u32,
    cal: &Calendar,
) -> DispatchReport {
    let mut tickets: HashMap<ComplaintId, Track> = HashMap::new();
    for e in events {
        let t = tickets.entry(e.meta.complaint_id.clone()).or_default();
        match &e.data {
            EventData::Received(r) => {
                t.received_at = Some(e.meta.occurred_at);
                t.group = r.attributes.get(attribute).cloned();
            }
            EventData::Dispatched(_) if t.dispatched_at.is_none() => t.dispatched_at = Some(e.meta.occurred_at),
            _ => {}
        }
    }
    let allowance_ms = i64::from(working_days) * MS_PER_DAY;
    let mut report = DispatchReport {
        attribute: attribute.to_owned(),
        working_days,
        calendar: cal.name().to_owned(),
        ..DispatchReport::default()
    };
    for t in tickets.into_values() {
        let Some(received_at) = t.received_at else { continue };
        let mut one = DispatchShare {
            received: 1,
            ..DispatchShare::default()
        };
        if let Some(d) = t.dispatched_at {
            one.dispatched = 1;
            if working_day_millis(cal, received_at, d) <= allowance_ms {
                one.within = 1;
            }
        }
        let group = t.group.unwrap_or_else(|| MISSING_GROUP.to_owned());
        report.groups.entry(group).or_default().add(one);
        report.overall.add(one);
    }
    report
}

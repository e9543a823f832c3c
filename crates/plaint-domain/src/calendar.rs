//! The business calendar (docs/domain.md §7): a time zone (IANA, or a fixed UTC offset), working hours, weekend days, public
//! holidays and make-up working days (调休: a Saturday or Sunday that is a working day).
//! Calendars are data (`data/calendar/*.toml`, format in `docs/policy.md`); nothing here reads
//! the clock.
//!
//! # What a working-day or working-hour duration means
//!
//! * A **working day** is a local calendar date (in the calendar's time zone) that is either a
//!   make-up working day, or neither a weekend day nor a public holiday. A make-up working day
//!   always wins over the weekend rule.
//! * **`N` working days from an instant `t`** ([`Calendar::add_working_days`]) is the instant at
//!   which `N × 24 h` of *working-day time* have elapsed since `t`, where working-day time is
//!   every millisecond that falls on a working day (the whole date, 00:00–24:00 local, counted
//!   on the local clock: the 23- or 25-hour day of a daylight-saving change is one day). So a
//!   ticket received on a working day at 16:00 is due at 16:00 on the `N`-th following working
//!   day; one received on a Saturday (not a make-up day) starts counting at 00:00 of the next
//!   working day and is due at 24:00 of the `N`-th working day (reported as 00:00 of the day
//!   after: the earliest instant at which the allowance is used up).
//! * **`N` working hours from `t`** ([`Calendar::add_working_hours`]) counts only time inside the
//!   working hours (`working_hours.start`–`working_hours.end`, local) of working days.
//!   [`Calendar::working_millis_between`] measures the same kind of time between two instants.
//!
//! Outside the years the data covers, only the weekend rule applies (no holidays are known);
//! [`Calendar::covers`] tells whether a date's year has holiday data. Instants outside
//! [`CALENDAR_RANGE_MS`] (years 1900–9000) use elapsed time instead, so no input panics.

use crate::time::{Timestamp, MS_PER_DAY, MS_PER_MINUTE};
use crate::zone::BusinessZone;
use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Upper bound on the number of calendar days any arithmetic walks (about 30 years), so a
/// pathological calendar or duration can never loop for long.
pub const CALENDAR_WALK_DAYS_MAX: i64 = 11_000;

/// Instants the calendar arithmetic walks: 1900-01-01 to 9000-01-01 UTC. Outside this range
/// (only reachable with absurd input) working-time arithmetic falls back to elapsed time, so no
/// input can make it panic.
pub const CALENDAR_RANGE_MS: std::ops::Range<i64> = -2_208_988_800_000..221_845_392_000_000;

fn in_range(t: Timestamp) -> bool {
    CALENDAR_RANGE_MS.contains(&t.as_millis())
}

/// The calendar data of mainland China, 2025 (State Council notice).
pub const CN_2025_TOML: &str = include_str!("../data/calendar/cn-2025.toml");
/// The calendar data of mainland China, 2026 (State Council notice).
pub const CN_2026_TOML: &str = include_str!("../data/calendar/cn-2026.toml");

/// Why calendar data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The TOML did not parse or did not have the expected shape.
    #[error("calendar line {line}: {message}")]
    Syntax { line: usize, message: String },
    /// A value is well-formed TOML but not a valid calendar setting.
    #[error("calendar key `{key}`: {message}")]
    Invalid { key: String, message: String },
    /// Two calendar files cannot be merged (different time zone, weekend or working hours).
    #[error("calendar {name:?} cannot be merged: {message}")]
    Mismatch { name: String, message: String },
}

/// A named range of public holidays (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayRange {
    /// The holiday's name as the notice gives it.
    pub name: String,
    /// First day off.
    pub from: NaiveDate,
    /// Last day off (inclusive).
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingHoursFile {
    start: String,
    end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    name: String,
    /// IANA zone (`Asia/Shanghai`); older files give only `utc_offset`.
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    utc_offset: Option<String>,
    weekend: Vec<String>,
    working_hours: WorkingHoursFile,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    holidays: Vec<HolidayRange>,
    #[serde(default)]
    makeup_working_days: Vec<NaiveDate>,
}

/// A business calendar. Build it with [`Calendar::china_mainland`] or [`Calendar::from_toml_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    name: String,
    zone: BusinessZone,
    /// Weekend days, indexed by `Weekday::num_days_from_monday`.
    weekend: [bool; 7],
    /// Local opening time of a working day.
    opens: NaiveTime,
    /// Local closing time of a working day (after `opens`).
    closes: NaiveTime,
    holidays: BTreeSet<NaiveDate>,
    makeup: BTreeSet<NaiveDate>,
    holiday_ranges: Vec<HolidayRange>,
    years: BTreeSet<i32>,
    sources: Vec<String>,
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

impl Calendar {
    /// Mainland China (UTC+08:00, Saturday and Sunday off, 09:00–18:00), with the State
    /// Council holiday schedules of 2025 and 2026 including make-up working days.
    pub fn china_mainland() -> Calendar {
        // Parsed once per process: projections and tests ask for it often.
        static CN: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        CN.get_or_init(Calendar::parse_china_mainland).clone()
    }

    fn parse_china_mainland() -> Calendar {
        let mut cal = Calendar::from_toml_str(CN_2025_TOML).expect("embedded cn-2025.toml is valid (tested)");
        let y2026 = Calendar::from_toml_str(CN_2026_TOML).expect("embedded cn-2026.toml is valid (tested)");
        cal.merge(&y2026)
            .expect("embedded calendars share their settings (tested)");
        cal
    }

    /// Parses one calendar file (format: `docs/policy.md`, "Calendar data").
    pub fn from_toml_str(s: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile = toml::from_str(s).map_err(|e| CalendarError::Syntax {
            line: e.span().map(|r| line_of(s, r.start)).unwrap_or(1),
            message: e.message().to_owned(),
        })?;
        let invalid = |key: &str, message: String| CalendarError::Invalid {
            key: key.to_owned(),
            message,
        };
        let zone = match (&file.time_zone, &file.utc_offset) {
            (Some(name), None) => BusinessZone::parse(name).map_err(|e| invalid("time_zone", e))?,
            (None, Some(offset)) => crate::zone::parse_offset(offset)
                .map(BusinessZone::Fixed)
                .ok_or_else(|| invalid("utc_offset", format!("{offset:?} is not an offset like \"+08:00\"")))?,
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "utc_offset",
                    "give either time_zone (an IANA name, preferred) or utc_offset (a fixed offset), not both".into(),
                ))
            }
            (None, None) => {
                return Err(invalid(
                    "time_zone",
                    "missing: give the office's IANA time zone, e.g. time_zone = \"Asia/Shanghai\"".into(),
                ))
            }
        };
        let mut weekend = [false; 7];
        for w in &file.weekend {
            let day = parse_weekday(w).ok_or_else(|| invalid("weekend", format!("{w:?} is not a weekday name")))?;
            weekend[day.num_days_from_monday() as usize] = true;
        }
        if weekend.iter().all(|w| *w) {
            return Err(invalid("weekend", "every day of the week is a weekend day".into()));
        }
        let parse_time = |key: &str, v: &str| {
            NaiveTime::parse_from_str(v, "%H:%M")
                .map_err(|_| invalid(key, format!("{v:?} is not a time like \"09:00\"")))
        };
        let opens = parse_time("working_hours.start", &file.working_hours.start)?;
        let closes = parse_time("working_hours.end", &file.working_hours.end)?;
        if closes <= opens {
            return Err(invalid(
                "working_hours.end",
                format!("closing time {closes} is not after opening time {opens}"),
            ));
        }
        let mut holidays = BTreeSet::new();
        let mut years = BTreeSet::new();
        for (i, h) in file.holidays.iter().enumerate() {
            if h.to < h.from {
                return Err(invalid(
                    &format!("holidays[{i}].to"),
                    format!("holiday {:?} ends ({}) before it starts ({})", h.name, h.to, h.from),
                ));
            }
            let mut d = h.from;
            while d <= h.to {
                holidays.insert(d);
                years.insert(d.year());
                d = d
                    .succ_opt()
                    .expect("dates in calendar files are far from the end of time");
            }
        }
        let mut makeup = BTreeSet::new();
        for (i, d) in file.makeup_working_days.iter().enumerate() {
            if holidays.contains(d) {
                return Err(invalid(
                    &format!("makeup_working_days[{i}]"),
                    format!("{d} is both a holiday and a make-up working day"),
                ));
            }
            makeup.insert(*d);
            years.insert(d.year());
        }
        Ok(Calendar {
            name: file.name,
            zone,
            weekend,
            opens,
            closes,
            holidays,
            makeup,
            holiday_ranges: file.holidays,
            years,
            sources: file.source.into_iter().collect(),
        })
    }

    /// Adds the holidays and make-up days of `other` (e.g. the next year's file). Both must agree
    /// on time zone, weekend and working hours.
    pub fn merge(&mut self, other: &Calendar) -> Result<(), CalendarError> {
        if self.zone != other.zone
            || self.weekend != other.weekend
            || (self.opens, self.closes) != (other.opens, other.closes)
        {
            return Err(CalendarError::Mismatch {
                name: other.name.clone(),
                message: format!("time zone/weekend/working hours differ from calendar {:?}", self.name),
            });
        }
        for d in &other.holidays {
            if self.makeup.contains(d) {
                return Err(CalendarError::Mismatch {
                    name: other.name.clone(),
                    message: format!("{d} is a holiday there and a make-up working day here"),
                });
            }
        }
        self.holidays.extend(other.holidays.iter().copied());
        self.makeup.extend(other.makeup.iter().copied());
        self.holiday_ranges.extend(other.holiday_ranges.iter().cloned());
        self.years.extend(other.years.iter().copied());
        self.sources.extend(other.sources.iter().cloned());
        Ok(())
    }

    /// The calendar's name (`cn-mainland`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The business time zone local dates and times are read in, and every instant a person
    /// reads is shown in (docs/domain.md R-CAL-1).
    pub fn time_zone(&self) -> BusinessZone {
        self.zone
    }
    /// The UTC offset of the time zone in January 2026: exact for a zone without daylight
    /// saving (the default, Asia/Shanghai), only a label otherwise. Use [`Calendar::time_zone`]
    /// to read or show an instant.
    pub fn utc_offset(&self) -> FixedOffset {
        self.zone
            .offset_at(crate::time::Timestamp::from_millis(1_767_225_600_000))
    }
    /// The local opening and closing time of a working day.
    pub fn working_hours(&self) -> (NaiveTime, NaiveTime) {
        (self.opens, self.closes)
    }
    /// The holiday ranges as given in the data.
    pub fn holiday_ranges(&self) -> &[HolidayRange] {
        &self.holiday_ranges
    }
    /// The sources named by the data files.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
    /// Whether the data has holiday information for this date's year.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// The years the data has holiday information for, in order.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The last date of the last covered year (31 December), when any year is covered: after
    /// it, working-day arithmetic knows no holidays (issue 11: `plaint stats` and `plaint verify`
    /// warn before it).
    pub fn last_covered_date(&self) -> Option<NaiveDate> {
        let year = *self.years.last()?;
        NaiveDate::from_ymd_opt(year, 12, 31)
    }

    /// The first year without holiday data that working-time arithmetic from `from` to `to`
    /// walks through (local dates, both ends included), or `None` when every year is covered.
    /// An instant outside [`CALENDAR_RANGE_MS`] counts as uncovered (its year is reported).
    ///
    /// ```
    /// use plaint_domain::calendar::Calendar;
    /// use plaint_domain::time::Timestamp;
    /// let cal = Calendar::china_mainland(); // 2025 and 2026
    /// let t = |s| Timestamp::parse_rfc3339(s).unwrap();
    /// assert_eq!(cal.uncovered_year_between(t("2026-12-01T09:00:00+08:00"), t("2026-12-04T09:00:00+08:00")), None);
    /// assert_eq!(cal.uncovered_year_between(t("2026-12-30T09:00:00+08:00"), t("2027-01-04T09:00:00+08:00")), Some(2027));
    /// ```
    pub fn uncovered_year_between(&self, from: Timestamp, to: Timestamp) -> Option<i32> {
        let (a, b) = if to < from { (to, from) } else { (from, to) };
        let year = |t: Timestamp| {
            if in_range(t) {
                self.local(t).date().year()
            } else {
                t.to_datetime().year()
            }
        };
        (year(a)..=year(b)).find(|y| !self.years.contains(y))
    }

    /// Issue 11: the warning `plaint stats` and `plaint verify` show when the holiday data ends
    /// less than `warn_before_ms` after `now` (or has ended), naming the last covered date and
    /// the file to add; `None` while it reaches further (or when no year is covered at all:
    /// a calendar of weekends only is deliberate).
    ///
    /// ```
    /// use plaint_domain::calendar::Calendar;
    /// use plaint_domain::time::{Timestamp, MS_PER_DAY};
    /// let cal = Calendar::china_mainland(); // data up to 2026-12-31
    /// let t = |s| Timestamp::parse_rfc3339(s).unwrap();
    /// assert_eq!(cal.expiry_warning(t("2026-09-01T00:00:00Z"), 60 * MS_PER_DAY), None);
    /// let w = cal.expiry_warning(t("2026-11-30T00:00:00Z"), 60 * MS_PER_DAY).unwrap();
    /// assert!(w.contains("2026-12-31") && w.contains("cn-2027.toml"), "{w}");
    /// ```
    pub fn expiry_warning(&self, now: Timestamp, warn_before_ms: i64) -> Option<String> {
        let last = self.last_covered_date()?;
        let end = self.day_start(last.succ_opt()?);
        let left_ms = end.millis_since(now);
        if left_ms > warn_before_ms {
            return None;
        }
        let next = last.year() + 1;
        let when = if left_ms > 0 {
            let days = (left_ms + MS_PER_DAY - 1) / MS_PER_DAY;
            format!("ends on {last} ({days} days from now)")
        } else {
            format!("ended on {last}")
        };
        Some(format!(
            "calendar {:?}: the holiday data {when}; add {}: deadlines that need {next} are refused (or, with policy calendar.uncovered_year = \"weekends_only\", recorded as not covered)",
            self.name,
            self.data_file_for(next)
        ))
    }

    /// The calendar data file to add for `year`: the built-in mainland China calendar's file
    /// name in this repository, or a description for another calendar.
    pub fn data_file_for(&self, year: i32) -> String {
        if self.name == "cn-mainland" {
            format!("crates/plaint-domain/data/calendar/cn-{year}.toml (the State Council holiday notice for {year})")
        } else {
            format!(
                "the holidays and make-up working days of {year} for calendar {:?}",
                self.name
            )
        }
    }
    /// Whether the date lies in a public-holiday range of the data.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }
    /// Whether the date is a make-up working day (调休).
    pub fn is_makeup_working_day(&self, date: NaiveDate) -> bool {
        self.makeup.contains(&date)
    }

    /// A make-up working day is a working day; otherwise a date is one when it is neither a
    /// weekend day nor a public holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.makeup.contains(&date) {
            return true;
        }
        !self.weekend[date.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&date)
    }

    /// The local wall-clock time of an instant.
    pub fn local(&self, t: Timestamp) -> NaiveDateTime {
        self.zone.local(t)
    }

    /// The instant of a local wall-clock time.
    /// A local time skipped by a daylight-saving change is read shifted forward by the gap, a
    /// repeated one as the earlier instant (`crate::zone`).
    pub fn instant(&self, local: NaiveDateTime) -> Timestamp {
        self.zone.instant(local)
    }

    fn day_start(&self, date: NaiveDate) -> Timestamp {
        self.instant(date.and_time(NaiveTime::MIN))
    }

    /// `days` working days after `from` (see the module documentation for the definition).
    ///
    /// ```
    /// use plaint_domain::calendar::Calendar;
    /// use plaint_domain::time::Timestamp;
    /// let cal = Calendar::china_mainland();
    /// // Tuesday 30 Sep 2025 16:00, before the National Day break (1–8 Oct); Sat 11 Oct is a
    /// // make-up working day.
    /// let from = Timestamp::parse_rfc3339("2025-09-30T16:00:00+08:00").unwrap();
    /// let due = cal.add_working_days(from, 3);
    /// assert_eq!(due, Timestamp::parse_rfc3339("2025-10-11T16:00:00+08:00").unwrap());
    /// ```
    pub fn add_working_days(&self, from: Timestamp, days: u32) -> Timestamp {
        let mut remaining = i64::from(days) * MS_PER_DAY;
        if remaining == 0 {
            return from;
        }
        if !in_range(from) {
            return from.plus_millis(remaining);
        }
        // Counted on the local clock, so a due time keeps its wall-clock time across a
        // daylight-saving change (a 23- or 25-hour day is still one working day).
        let start = self.local(from);
        let mut date = start.date();
        let mut pos_ms = (start - date.and_time(NaiveTime::MIN)).num_milliseconds();
        for _ in 0..CALENDAR_WALK_DAYS_MAX {
            if self.is_working_day(date) {
                let avail = MS_PER_DAY - pos_ms;
                if remaining <= avail {
                    return self
                        .instant(date.and_time(NaiveTime::MIN) + chrono::Duration::milliseconds(pos_ms + remaining));
                }
                remaining -= avail;
            }
            date = date
                .succ_opt()
                .expect("calendar arithmetic stays far from the end of time");
            pos_ms = 0;
        }
        // Only reachable for absurd durations; saturate rather than loop forever.
        self.day_start(date)
    }

    /// `hours` working hours after `from`: only time inside the working hours of working days
    /// counts. A result that lands exactly on closing time stays there (it does not jump to the
    /// next opening).
    pub fn add_working_hours(&self, from: Timestamp, hours: u32) -> Timestamp {
        let mut remaining = i64::from(hours) * 60 * MS_PER_MINUTE;
        if remaining == 0 {
            return from;
        }
        if !in_range(from) {
            return from.plus_millis(remaining);
        }
        let mut date = self.local(from).date();
        let mut pos = from;
        for _ in 0..CALENDAR_WALK_DAYS_MAX {
            if self.is_working_day(date) {
                let open = self.instant(date.and_time(self.opens));
                let close = self.instant(date.and_time(self.closes));
                let start = pos.max(open);
                if start < close {
                    let avail = close.millis_since(start);
                    if remaining <= avail {
                        return start.plus_millis(remaining);
                    }
                    remaining -= avail;
                }
            }
            date = date
                .succ_opt()
                .expect("calendar arithmetic stays far from the end of time");
            pos = self.day_start(date);
        }
        pos
    }

    /// Working-hours time (inside the working hours of working days) between `a` and `b`, in
    /// milliseconds; negative when `b` is before `a`.
    pub fn working_millis_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        if b < a {
            return self.working_millis_between(b, a).saturating_neg();
        }
        if !in_range(a) || !in_range(b) {
            return b.millis_since(a);
        }
        let mut total = 0i64;
        let mut date = self.local(a).date();
        let last = self.local(b).date();
        let mut walked = 0;
        while date <= last && walked < CALENDAR_WALK_DAYS_MAX {
            if self.is_working_day(date) {
                let open = self.instant(date.and_time(self.opens)).max(a);
                let close = self.instant(date.and_time(self.closes)).min(b);
                if open < close {
                    total += close.millis_since(open);
                }
            }
            date = date
                .succ_opt()
                .expect("calendar arithmetic stays far from the end of time");
            walked += 1;
        }
        total
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::china_mainland()
    }
}

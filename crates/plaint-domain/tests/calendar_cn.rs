//! docs/domain.md §7 "Business calendar": working days, public holidays, make-up working days (调休)
//! and working-duration arithmetic on the mainland-China calendar data.

use chrono::NaiveDate;
use plaint_domain::calendar::{Calendar, CalendarError};
use plaint_domain::time::{Timestamp, MS_PER_HOUR};

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn section_7_holidays_of_2025_are_not_working_days() {
    let cal = Calendar::china_mainland();
    for d in [
        "2025-01-01",
        "2025-01-28",
        "2025-02-04",
        "2025-04-04",
        "2025-05-05",
        "2025-06-02",
        "2025-10-01",
        "2025-10-08",
    ] {
        assert!(!cal.is_working_day(day(d)), "{d} is a public holiday");
        assert!(cal.is_holiday(day(d)), "{d}");
    }
    // An ordinary Wednesday and Thursday.
    assert!(cal.is_working_day(day("2025-10-15")));
    assert!(cal.is_working_day(day("2025-10-09")));
    // An ordinary weekend.
    assert!(!cal.is_working_day(day("2025-10-18")));
    assert!(!cal.is_working_day(day("2025-10-19")));
}

#[test]
fn section_7_makeup_working_days_are_working_days() {
    let cal = Calendar::china_mainland();
    for d in ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"] {
        assert!(cal.is_makeup_working_day(day(d)), "{d}");
        assert!(cal.is_working_day(day(d)), "{d} is a make-up working day (调休)");
    }
    for d in [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        assert!(cal.is_working_day(day(d)), "{d} is a make-up working day (调休)");
    }
}

#[test]
fn section_7_holidays_of_2026_are_not_working_days() {
    let cal = Calendar::china_mainland();
    for d in [
        "2026-01-02",
        "2026-02-16",
        "2026-02-23",
        "2026-04-06",
        "2026-05-04",
        "2026-06-19",
        "2026-09-25",
        "2026-10-07",
    ] {
        assert!(!cal.is_working_day(day(d)), "{d} is a public holiday");
    }
    assert!(cal.covers(day("2026-03-01")));
    assert!(!cal.covers(day("2027-03-01")));
}

#[test]
fn section_7_three_working_days_cross_the_national_day_break_and_count_a_makeup_saturday() {
    let cal = Calendar::china_mainland();
    // Ordinary resolution: 3 working days from Tue 30 Sep 2025 16:00. 1–8 Oct are off; Thu 9,
    // Fri 10 and the make-up Saturday 11 Oct are working days.
    let due = cal.add_working_days(at("2025-09-30T16:00:00+08:00"), 3);
    assert_eq!(due, at("2025-10-11T16:00:00+08:00"));
}

#[test]
fn section_7_working_days_from_friday_afternoon_skip_the_weekend() {
    let cal = Calendar::china_mainland();
    // Fri 14 Nov 2025 16:00 + 1 working day = Mon 17 Nov 16:00.
    assert_eq!(
        cal.add_working_days(at("2025-11-14T16:00:00+08:00"), 1),
        at("2025-11-17T16:00:00+08:00")
    );
    // Fri 30 Jan 2026 16:00 + 3 working days = Wed 4 Feb 16:00.
    assert_eq!(
        cal.add_working_days(at("2026-01-30T16:00:00+08:00"), 3),
        at("2026-02-04T16:00:00+08:00")
    );
}

#[test]
fn section_7_working_days_from_friday_before_spring_festival_2026() {
    let cal = Calendar::china_mainland();
    // Fri 13 Feb 2026 16:00; Sat 14 Feb is a make-up working day, 15–23 Feb are off.
    // Day 1 ends Sat 14 Feb 16:00, day 2 ends Tue 24 Feb 16:00, day 3 Wed 25 Feb 16:00.
    assert_eq!(
        cal.add_working_days(at("2026-02-13T16:00:00+08:00"), 3),
        at("2026-02-25T16:00:00+08:00")
    );
}

#[test]
fn section_7_working_days_from_a_holiday_start_at_the_next_working_day() {
    let cal = Calendar::china_mainland();
    // Received on National Day 2025 at 10:00: counting starts Thu 9 Oct 00:00; one working day
    // is used up at the end of 9 Oct.
    assert_eq!(
        cal.add_working_days(at("2025-10-03T10:00:00+08:00"), 1),
        at("2025-10-10T00:00:00+08:00")
    );
    assert_eq!(
        cal.add_working_days(at("2025-10-03T10:00:00+08:00"), 0),
        at("2025-10-03T10:00:00+08:00")
    );
}

#[test]
fn section_7_working_hours_run_inside_office_hours_only() {
    let cal = Calendar::china_mainland();
    // Working hours 09:00–18:00. Fri 14 Nov 2025 16:00 + 4 working hours = Mon 17 Nov 11:00.
    assert_eq!(
        cal.add_working_hours(at("2025-11-14T16:00:00+08:00"), 4),
        at("2025-11-17T11:00:00+08:00")
    );
    // Before opening: counting starts at 09:00.
    assert_eq!(
        cal.add_working_hours(at("2025-11-17T07:00:00+08:00"), 2),
        at("2025-11-17T11:00:00+08:00")
    );
    // Tue 30 Sep 2025 17:00 + 2 working hours crosses the National Day break → Thu 9 Oct 10:00.
    assert_eq!(
        cal.add_working_hours(at("2025-09-30T17:00:00+08:00"), 2),
        at("2025-10-09T10:00:00+08:00")
    );
}

#[test]
fn section_7_working_millis_between_is_the_inverse_of_add_working_hours() {
    let cal = Calendar::china_mainland();
    let from = at("2025-09-30T17:00:00+08:00");
    for h in [1u32, 2, 9, 10, 30] {
        let to = cal.add_working_hours(from, h);
        assert_eq!(
            cal.working_millis_between(from, to),
            i64::from(h) * MS_PER_HOUR,
            "{h} h"
        );
        assert_eq!(cal.working_millis_between(to, from), -i64::from(h) * MS_PER_HOUR);
    }
    // A whole holiday week holds no working time.
    assert_eq!(
        cal.working_millis_between(at("2025-10-01T00:00:00+08:00"), at("2025-10-09T00:00:00+08:00")),
        0
    );
}

#[test]
fn section_7_calendar_data_errors_name_the_key() {
    let good = plaint_domain::calendar::CN_2025_TOML;
    let bad_offset = good.replace("time_zone = \"Asia/Shanghai\"", "utc_offset = \"8\"");
    match Calendar::from_toml_str(&bad_offset) {
        Err(CalendarError::Invalid { key, .. }) => assert_eq!(key, "utc_offset"),
        other => panic!("expected an invalid utc_offset, got {other:?}"),
    }
    let bad_zone = good.replace("time_zone = \"Asia/Shanghai\"", "time_zone = \"Asia/Beijing\"");
    match Calendar::from_toml_str(&bad_zone) {
        Err(CalendarError::Invalid { key, message }) => {
            assert_eq!(key, "time_zone");
            assert!(message.contains("Asia/Beijing"), "{message}");
        }
        other => panic!("expected an invalid time_zone, got {other:?}"),
    }
    let both = good.replace(
        "time_zone = \"Asia/Shanghai\"",
        "time_zone = \"Asia/Shanghai\"\nutc_offset = \"+08:00\"",
    );
    assert!(matches!(
        Calendar::from_toml_str(&both),
        Err(CalendarError::Invalid { .. })
    ));
    // An older file with only a fixed utc_offset still reads, and means the same days.
    let old = good.replace("time_zone = \"Asia/Shanghai\"", "utc_offset = \"+08:00\"");
    let old = Calendar::from_toml_str(&old).expect("a calendar with utc_offset only reads");
    assert_eq!(old.time_zone().name(), "+08:00");
    let new = Calendar::from_toml_str(good).unwrap();
    assert_eq!(new.time_zone().name(), "Asia/Shanghai");
    let t = plaint_domain::Timestamp::parse_rfc3339("2025-09-30T16:00:00+08:00").unwrap();
    assert_eq!(old.add_working_days(t, 3), new.add_working_days(t, 3));
    let bad_hours = good.replace("end = \"18:00\"", "end = \"08:00\"");
    match Calendar::from_toml_str(&bad_hours) {
        Err(CalendarError::Invalid { key, .. }) => assert_eq!(key, "working_hours.end"),
        other => panic!("expected an invalid working_hours.end, got {other:?}"),
    }
    let bad_date = good.replace("from = \"2025-01-28\"", "from = \"2025-13-28\"");
    match Calendar::from_toml_str(&bad_date) {
        Err(CalendarError::Syntax { line, .. }) => assert!(line > 10, "line {line}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let clash = good.replace("\"2025-01-26\"", "\"2025-01-29\"");
    assert!(matches!(
        Calendar::from_toml_str(&clash),
        Err(CalendarError::Invalid { .. })
    ));
}

#[test]
fn section_7_calendar_data_names_its_source() {
    let cal = Calendar::china_mainland();
    assert_eq!(cal.sources().len(), 2);
    assert!(cal.sources().iter().all(|s| s.contains("国务院办公厅")));
    assert_eq!(cal.holiday_ranges().len(), 13);
}

#[test]
fn section_7_calendars_merge_only_when_their_settings_agree() {
    let mut cal = Calendar::from_toml_str(plaint_domain::calendar::CN_2025_TOML).unwrap();
    assert!(!cal.covers(day("2026-05-01")));
    assert!(cal.is_working_day(day("2026-05-04")), "a Monday, no 2026 data yet");
    let y2026 = Calendar::from_toml_str(plaint_domain::calendar::CN_2026_TOML).unwrap();
    cal.merge(&y2026).unwrap();
    assert!(cal.covers(day("2026-05-01")));
    assert!(!cal.is_working_day(day("2026-05-04")), "Labour Day 2026");
    assert_eq!(cal, Calendar::china_mainland());
    let other_hours = plaint_domain::calendar::CN_2026_TOML.replace("start = \"09:00\"", "start = \"08:30\"");
    let other = Calendar::from_toml_str(&other_hours).unwrap();
    assert!(matches!(cal.merge(&other), Err(CalendarError::Mismatch { .. })));
}

/// The US federal example calendar is in America/New_York: working days and hours keep their
/// local wall-clock times across the daylight-saving changes of 2014 (9 March, 2 November).
#[test]
fn section_7_new_york_calendar_across_daylight_saving() {
    let cal = Calendar::from_toml_str(include_str!("../../../examples/mappings/us-federal-2014.calendar.toml"))
        .expect("shipped calendar parses");
    assert_eq!(cal.time_zone().name(), "America/New_York");
    let at = |s: &str| plaint_domain::Timestamp::parse_rfc3339(s).unwrap();
    // Friday 31 October 16:00 EDT + 1 working day: Monday 3 November 16:00 EST (25 h later on
    // the clock of the world, the same time on the office's).
    assert_eq!(
        cal.add_working_days(at("2014-10-31T16:00:00-04:00"), 1),
        at("2014-11-03T16:00:00-05:00")
    );
    // Friday 7 March 16:00 EST + 1 working day: Monday 10 March 16:00 EDT.
    assert_eq!(
        cal.add_working_days(at("2014-03-07T16:00:00-05:00"), 1),
        at("2014-03-10T16:00:00-04:00")
    );
    // Working hours (09:00-17:00) open at 09:00 local on both sides.
    assert_eq!(
        cal.add_working_hours(at("2014-10-31T16:00:00-04:00"), 2),
        at("2014-11-03T10:00:00-05:00")
    );
    assert_eq!(
        cal.working_millis_between(at("2014-10-31T09:00:00-04:00"), at("2014-11-03T17:00:00-05:00")),
        16 * 3_600_000
    );
    // A local date is read at its own midnight.
    let midnight = |d: u32, m: u32| {
        cal.instant(
            chrono::NaiveDate::from_ymd_opt(2014, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    };
    assert_eq!(midnight(1, 11), at("2014-11-01T00:00:00-04:00"));
    assert_eq!(midnight(3, 11), at("2014-11-03T00:00:00-05:00"));
}

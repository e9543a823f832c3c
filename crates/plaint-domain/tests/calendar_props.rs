//! docs/domain.md §7 business calendar: properties of working-time arithmetic over arbitrary
//! instants (never panics, monotone, hours and "between" are inverses).

use plaint_domain::calendar::Calendar;
use plaint_domain::time::{Timestamp, MS_PER_HOUR};
use proptest::prelude::*;

/// 2024-01-01 .. 2027-12-31 UTC, the years around the shipped data.
fn near() -> impl Strategy<Value = Timestamp> {
    (1_704_067_200_000i64..1_830_297_600_000).prop_map(Timestamp::from_millis)
}

proptest! {
    #[test]
    fn section_7_any_instant_never_panics(t in any::<i64>(), n in 0u32..400) {
        let cal = Calendar::china_mainland();
        let t = Timestamp::from_millis(t);
        let d = cal.add_working_days(t, n);
        let h = cal.add_working_hours(t, n);
        prop_assert!(d >= t || d == Timestamp::MAX);
        prop_assert!(h >= t || h == Timestamp::MAX);
        let _ = cal.working_millis_between(t, d);
    }

    #[test]
    fn section_7_working_days_are_monotone_and_at_least_elapsed_days(t in near(), n in 0u32..60) {
        let cal = Calendar::china_mainland();
        let a = cal.add_working_days(t, n);
        let b = cal.add_working_days(t, n + 1);
        prop_assert!(b > a);
        // Working days never run faster than calendar days.
        prop_assert!(a.millis_since(t) >= i64::from(n) * 24 * MS_PER_HOUR);
        // The result lies on a working day (or at 00:00 right after one).
        let local = cal.local(if n == 0 { t } else { a.plus_millis(-1) });
        prop_assert!(n == 0 || cal.is_working_day(local.date()));
    }

    #[test]
    fn section_7_working_hours_and_between_are_inverses(t in near(), h in 0u32..200) {
        let cal = Calendar::china_mainland();
        let end = cal.add_working_hours(t, h);
        prop_assert_eq!(cal.working_millis_between(t, end), i64::from(h) * MS_PER_HOUR);
        prop_assert_eq!(cal.working_millis_between(end, t), -i64::from(h) * MS_PER_HOUR);
    }
}

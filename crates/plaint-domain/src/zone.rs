//! The office's time zone (docs/domain.md R-CAL-1): an IANA zone (`Asia/Shanghai`,
//! `America/New_York`, from the tz database compiled in by `chrono-tz`) or, for calendar files
//! that give only a `utc_offset`, a fixed offset. Local dates and wall-clock times are read in
//! it, and every instant a person reads is shown in it with the offset in effect at that
//! instant, so a zone with daylight saving is right on both sides of a change.
//!
//! A local time that does not exist (the hour skipped when clocks go forward) is read as the
//! same wall-clock reading in the offset before the change, that is, shifted forward by the
//! gap (02:30 on a spring-forward night in New York is 03:30 EDT). A local time that exists
//! twice (the hour repeated when clocks go back) is read as the earlier one.

use crate::time::Timestamp;
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Offset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A business time zone: an IANA zone or a fixed UTC offset.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusinessZone {
    /// A zone of the IANA tz database, with its daylight-saving rules.
    Iana(chrono_tz::Tz),
    /// A fixed offset from UTC all year (calendar files with only `utc_offset`, `--tz +08:00`).
    Fixed(FixedOffset),
}

impl BusinessZone {
    /// UTC itself.
    pub const UTC: BusinessZone = BusinessZone::Iana(chrono_tz::Tz::UTC);

    /// Parses an IANA zone name (`Asia/Shanghai`, case-insensitive), `UTC`/`Z`, or a fixed
    /// offset `+08:00` / `-05:30`. The error names the text and what is wanted.
    ///
    /// ```
    /// use plaint_domain::zone::BusinessZone;
    /// assert_eq!(BusinessZone::parse("asia/shanghai").unwrap().name(), "Asia/Shanghai");
    /// assert_eq!(BusinessZone::parse("+05:30").unwrap().name(), "+05:30");
    /// assert!(BusinessZone::parse("Mars/Olympus").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<BusinessZone, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(BusinessZone::UTC);
        }
        if t.starts_with('+') || t.starts_with('-') {
            return parse_offset(t)
                .map(BusinessZone::Fixed)
                .ok_or_else(|| format!("{text:?} is not an offset like \"+08:00\" (hours 00-14, minutes 00-59)"));
        }
        t.parse::<chrono_tz::Tz>()
            .ok()
            .or_else(|| {
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .find(|tz| tz.name().eq_ignore_ascii_case(t))
                    .copied()
            })
            .map(BusinessZone::Iana)
            .ok_or_else(|| {
                format!(
                    "{text:?} is not a time zone; want an IANA name like \"Asia/Shanghai\" or \
                     \"America/New_York\", \"UTC\", or an offset like \"+08:00\""
                )
            })
    }

    /// The zone's name: the IANA name, or the offset (`+08:00`) of a fixed zone.
    pub fn name(&self) -> String {
        match self {
            BusinessZone::Iana(tz) => tz.name().to_owned(),
            BusinessZone::Fixed(o) => o.to_string(),
        }
    }

    /// The offset from UTC in effect at `t`.
    pub fn offset_at(&self, t: Timestamp) -> FixedOffset {
        match self {
            BusinessZone::Iana(tz) => tz.offset_from_utc_datetime(&t.to_datetime().naive_utc()).fix(),
            BusinessZone::Fixed(o) => *o,
        }
    }

    /// `t` as a date and time with the offset in effect at `t`.
    pub fn datetime(&self, t: Timestamp) -> DateTime<FixedOffset> {
        t.to_datetime().with_timezone(&self.offset_at(t))
    }

    /// The local wall-clock time of `t`.
    pub fn local(&self, t: Timestamp) -> NaiveDateTime {
        self.datetime(t).naive_local()
    }

    /// The instant of a local wall-clock time (see the module documentation for the hour that
    /// is skipped or repeated at a daylight-saving change).
    pub fn instant(&self, local: NaiveDateTime) -> Timestamp {
        let offset = match self {
            BusinessZone::Fixed(o) => *o,
            BusinessZone::Iana(tz) => match tz.offset_from_local_datetime(&local) {
                chrono::LocalResult::Single(o) => o.fix(),
                chrono::LocalResult::Ambiguous(a, b) => {
                    // The earlier instant has the larger offset east of UTC.
                    if a.fix().local_minus_utc() >= b.fix().local_minus_utc() {
                        a.fix()
                    } else {
                        b.fix()
                    }
                }
                // In a gap: the offset in effect a day before (before the change).
                chrono::LocalResult::None => tz.offset_from_utc_datetime(&(local - Duration::days(1))).fix(),
            },
        };
        let utc = local - Duration::seconds(i64::from(offset.local_minus_utc()));
        Timestamp::from_millis(utc.and_utc().timestamp_millis())
    }

    /// RFC 3339 with the offset in effect at `t`, to the second (`2026-09-14T08:00:00+08:00`).
    pub fn rfc3339(&self, t: Timestamp) -> String {
        self.datetime(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    /// What a person reads: `2026-09-14 08:00 +08:00` (minute precision, with the offset).
    pub fn text(&self, t: Timestamp) -> String {
        self.datetime(t).format("%Y-%m-%d %H:%M %:z").to_string()
    }
}

/// Parses `+08:00`, `-05:30`, `Z`.
pub(crate) fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s == "Z" || s == "+00:00" || s == "-00:00" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

impl fmt::Display for BusinessZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Debug for BusinessZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BusinessZone({})", self.name())
    }
}

impl std::str::FromStr for BusinessZone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BusinessZone::parse(s)
    }
}

impl Serialize for BusinessZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BusinessZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BusinessZone::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn new_york_across_daylight_saving() {
        let ny = BusinessZone::parse("America/New_York").unwrap();
        // Winter: EST (-05:00); summer: EDT (-04:00). 2014: DST from 9 March to 2 November.
        assert_eq!(ny.text(t("2014-03-08T17:00:00Z")), "2014-03-08 12:00 -05:00");
        assert_eq!(ny.text(t("2014-03-10T16:00:00Z")), "2014-03-10 12:00 -04:00");
        assert_eq!(ny.instant(local("2014-03-08 00:00")), t("2014-03-08T05:00:00Z"));
        assert_eq!(ny.instant(local("2014-03-10 00:00")), t("2014-03-10T04:00:00Z"));
        // The skipped hour reads as shifted forward; the repeated hour as the earlier one.
        assert_eq!(ny.instant(local("2014-03-09 02:30")), t("2014-03-09T07:30:00Z"));
        assert_eq!(ny.instant(local("2014-11-02 01:30")), t("2014-11-02T05:30:00Z"));
        assert_eq!(ny.rfc3339(t("2014-11-02T06:30:00Z")), "2014-11-02T01:30:00-05:00");
        // Round trip of every hour across the spring change.
        let mut at = t("2014-03-09T00:00:00Z");
        while at < t("2014-03-10T00:00:00Z") {
            assert_eq!(ny.instant(ny.local(at)), at, "{at}");
            at = at.plus_hours(1);
        }
    }

    #[test]
    fn fixed_offsets_and_names() {
        let z = BusinessZone::parse("+08:00").unwrap();
        assert_eq!(z.name(), "+08:00");
        let d = NaiveDate::from_ymd_opt(2026, 9, 14)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(z.instant(d), t("2026-09-13T16:00:00Z"));
        assert_eq!(BusinessZone::parse("utc").unwrap(), BusinessZone::UTC);
        assert_eq!(
            BusinessZone::parse("Asia/Shanghai")
                .unwrap()
                .rfc3339(t("2026-09-13T16:00:00Z")),
            "2026-09-14T00:00:00+08:00"
        );
        for bad in ["8", "+8:00", "+15:00", "Asia/Nowhere", ""] {
            let e = BusinessZone::parse(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        let json = serde_json::to_string(&BusinessZone::parse("America/New_York").unwrap()).unwrap();
        assert_eq!(json, "\"America/New_York\"");
        let back: BusinessZone = serde_json::from_str(&json).unwrap();
        assert_eq!(back.name(), "America/New_York");
    }
}

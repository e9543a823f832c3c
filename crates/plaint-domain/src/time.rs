//! Instants and durations as the domain sees them.
//!
//! A [`Timestamp`] is a UTC instant with millisecond resolution stored as `i64` milliseconds
//! since the Unix epoch. It serialises as that integer in binary formats (postcard: compact and
//! fast to decode) and as an RFC 3339 string in human-readable formats (JSON, TOML).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant, millisecond resolution.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Milliseconds in common units, to keep arithmetic readable.
pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

impl Timestamp {
    /// The epoch itself; useful as a "before everything" bound.
    pub const EPOCH: Timestamp = Timestamp(0);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_millis())
    }
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
    /// Parses RFC 3339 (`2026-11-25T08:00:00Z`, `2026-11-25T16:00:00+08:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Self, chrono::ParseError> {
        Ok(Self::from_datetime(
            DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc),
        ))
    }
    pub const fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
    pub const fn plus_hours(self, hours: i64) -> Self {
        self.plus_millis(hours.saturating_mul(MS_PER_HOUR))
    }
    /// `self - earlier` in milliseconds (negative when `earlier` is later).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(dt: DateTime<Utc>) -> Self {
        Self::from_datetime(dt)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A [`Timestamp`] in 8 bytes with alignment 1 (its little-endian milliseconds), so the bytes
/// around it in a packed record are not padding (issue 13: the projections hold millions of
/// them; alignment 4 in waves 9–11, 1 since the review of wave 12, which made it the one compact
/// timestamp type). Lossless ([`PackedTimestamp::get`] gives back every `i64` instant) and
/// serialised exactly as the `Timestamp`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct PackedTimestamp([u8; 8]);

impl PackedTimestamp {
    #[inline]
    pub const fn new(t: Timestamp) -> PackedTimestamp {
        PackedTimestamp(t.0.to_le_bytes())
    }
    #[inline]
    pub const fn get(self) -> Timestamp {
        Timestamp(i64::from_le_bytes(self.0))
    }
}

impl From<Timestamp> for PackedTimestamp {
    fn from(t: Timestamp) -> Self {
        PackedTimestamp::new(t)
    }
}

impl From<PackedTimestamp> for Timestamp {
    fn from(t: PackedTimestamp) -> Self {
        t.get()
    }
}

impl fmt::Debug for PackedTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for PackedTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PackedTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Timestamp::deserialize(d).map(PackedTimestamp::new)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Timestamp::parse_rfc3339(&s).map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid timestamp {s:?} (want RFC 3339, e.g. 2026-11-25T08:00:00+08:00): {e}"
                ))
            })
        } else {
            Ok(Timestamp(i64::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod packed_tests {
    use super::*;

    /// Issue 13, wave 9: 8 bytes with alignment 1 (4 before the review of wave 12), every instant kept, serialised exactly as the
    /// `Timestamp` (postcard and JSON).
    #[test]
    fn packed_timestamps_keep_every_instant_and_serialise_as_timestamps() {
        assert_eq!(std::mem::size_of::<PackedTimestamp>(), 8);
        assert_eq!(std::mem::align_of::<PackedTimestamp>(), 1);
        for ms in [i64::MIN, -1, 0, 1, 1_796_000_000_123, u32::MAX as i64, i64::MAX] {
            let t = Timestamp::from_millis(ms);
            let p = PackedTimestamp::new(t);
            assert_eq!(p.get(), t);
            let bytes = postcard::to_allocvec(&p).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&t).unwrap());
            assert_eq!(postcard::from_bytes::<PackedTimestamp>(&bytes).unwrap(), p);
        }
        let t = Timestamp::parse_rfc3339("2026-12-01T23:40:00.123+08:00").unwrap();
        let json = serde_json::to_string(&PackedTimestamp::new(t)).unwrap();
        assert_eq!(json, serde_json::to_string(&t).unwrap());
        assert_eq!(serde_json::from_str::<PackedTimestamp>(&json).unwrap().get(), t);
    }
}

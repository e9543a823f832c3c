//! Instants in JSON as RFC 3339 with the office's UTC offset (`2026-11-25T16:00:00+08:00`).
//!
//! The facade writes instants in UTC (`…Z`). Every JSON answer of the server passes through
//! [`Office::localise`], which rewrites each string that is an RFC 3339 UTC instant into the
//! same instant at the offset in effect then in the office's zone: `--tz` when given, else the
//! business calendar's zone (DST-aware). The instant is unchanged; a client parsing RFC 3339
//! reads the same moment.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use plaint::{BusinessZone, Timestamp};
use serde::Serialize;

/// The office's time zone: the domain's [`BusinessZone`] (which offset applies when is decided
/// there, DST included); this type only rewrites JSON with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Office(pub BusinessZone);

impl Office {
    /// `t` at the office's offset, RFC 3339, keeping the instant's sub-second digits.
    pub fn format(&self, t: DateTime<Utc>) -> String {
        let offset = self.0.offset_at(Timestamp::from_millis(t.timestamp_millis()));
        t.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }

    /// Rewrites every RFC 3339 UTC instant inside `value` to the office's offset.
    pub fn localise(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                if let Some(t) = utc_instant(s) {
                    *s = self.format(t);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.localise(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.localise(v)),
            _ => {}
        }
    }

    /// `value` as a JSON response with `status`, its instants at the office's offset.
    pub fn json(&self, status: StatusCode, value: &impl Serialize) -> Response {
        match serde_json::to_value(value) {
            Ok(mut v) => {
                self.localise(&mut v);
                let body = serde_json::to_vec(&v).unwrap_or_default();
                let mut r = (status, body).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            Err(e) => crate::ApiError::internal(format!("encoding the answer as JSON: {e}")).into_response(),
        }
    }
}

/// `s` as an instant when it is an RFC 3339 timestamp in UTC (`…Z`), as the facade writes them.
fn utc_instant(s: &str) -> Option<DateTime<Utc>> {
    // `2026-11-25T08:00:00Z` is the shortest; the facade writes at most nanoseconds.
    if !(20..=35).contains(&s.len()) || !s.ends_with('Z') || s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_utc_instants_only() {
        let office = Office(BusinessZone::Fixed(chrono::FixedOffset::east_opt(8 * 3600).unwrap()));
        let mut v = serde_json::json!({
            "at": "2026-11-25T08:00:00Z",
            "ms": ["2026-11-25T08:00:00.123Z"],
            "text": "退件 2026-11-25",
            "local": "2026-11-25T08:00:00+01:00",
            "n": 3
        });
        office.localise(&mut v);
        assert_eq!(v["at"], "2026-11-25T16:00:00+08:00");
        assert_eq!(v["ms"][0], "2026-11-25T16:00:00.123+08:00");
        assert_eq!(v["text"], "退件 2026-11-25");
        assert_eq!(v["local"], "2026-11-25T08:00:00+01:00");
    }

    #[test]
    fn a_zone_follows_daylight_saving() {
        let office = Office(BusinessZone::Iana(chrono_tz::Europe::Berlin));
        let mut v = serde_json::json!(["2026-07-01T10:00:00Z", "2026-12-01T10:00:00Z"]);
        office.localise(&mut v);
        assert_eq!(v[0], "2026-07-01T12:00:00+02:00");
        assert_eq!(v[1], "2026-12-01T11:00:00+01:00");
    }
}

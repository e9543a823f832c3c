//! Issue 11 item 7: the business time zone is set in one place, the business calendar's
//! `time_zone` (an IANA zone; older files: `utc_offset`) (docs/domain.md R-CAL-1). The projections' days and weeks read it from there,
//! and an engine refuses a calendar in another zone instead of cutting days two ways.

use plaint::{Calendar, Engine, EngineConfig, ErrorKind, Timestamp};
use plaint_projections::util::Buckets;

const TOKYO: &str = r#"
name = "jp-test"
utc_offset = "+09:00"
weekend = ["saturday", "sunday"]
working_hours = { start = "09:00", end = "18:00" }
"#;

#[test]
fn business_time_zone_is_read_from_the_calendar() {
    let cal = Calendar::china_mainland();
    let buckets = Buckets::default();
    assert_eq!(buckets, Buckets::from_calendar(&cal));
    assert_eq!(buckets.zone, cal.time_zone());
    assert_eq!(buckets.zone.name(), "Asia/Shanghai");
    // A day starts at the calendar's local midnight.
    let monday = Timestamp::parse_rfc3339("2026-11-30T00:00:00+08:00").unwrap();
    assert_eq!(buckets.day_start(buckets.day(monday)), monday);
    let tokyo = Calendar::from_toml_str(TOKYO).unwrap();
    assert_eq!(Buckets::from_calendar(&tokyo).zone.name(), "+09:00");
}

#[tokio::test]
async fn an_engine_refuses_a_calendar_in_another_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::file(dir.path());
    config.calendar = Calendar::from_toml_str(TOKYO).unwrap();
    let err = Engine::open(config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("jp-test") && text.contains("+09:00") && text.contains("Asia/Shanghai"),
        "{text}"
    );
    // The default calendar opens.
    Engine::open(EngineConfig::file(dir.path()))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
}

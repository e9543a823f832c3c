//! Crypto-shredding (docs/domain.md §9) through the facade: erasing a customer destroys their key;
//! the events still replay, every figure stays the same, and their personal fields read as
//! erased, while other customers are untouched.

use plaint::domain::{Command, ComplaintId, Timestamp};
use plaint::engine::{fixed_clock, ErasureRequest};
use plaint::workload::{generate, WorkloadConfig};
use plaint::{Engine, EngineConfig, PersonalFields, Reveal};
use serde_json::json;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn receive(cmd_id: &str, complaint: &str, when: &str, phone: &str) -> Command {
    serde_json::from_value(json!({
        "command_id": cmd_id, "complaint_id": complaint, "actor": "cs-002", "occurred_at": when,
        "command": "receive", "channel": "hotline", "region": "上海", "waybill": "YT0000000000001",
        "description": "快件破损，要求赔偿",
        "customer": {"customer_id": "C-77", "name": "司马懿", "phone": phone, "address": "上海市浦东新区张江路88号"}
    }))
    .unwrap()
}

fn dpo() -> ErasureRequest {
    ErasureRequest {
        actor: plaint::domain::Actor::person("dpo-1").unwrap(),
        legal_basis: "PIPL art. 47 request 2026-118".into(),
    }
}

/// Every figure a report shows, as JSON, to compare before and after.
async fn figures(engine: &Engine) -> String {
    let now = at("2026-11-20T00:00:00Z");
    let sla = engine.sla_report(now, None, None).await.unwrap();
    let repeats = engine
        .repeats_report(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    let week = engine.week_of(at("2026-09-16T00:00:00Z")).await.unwrap();
    let weekly = engine.weekly_report(week, now).await.unwrap();
    // The HTML and CSV period reports (issue 14), byte for byte.
    let mut pages = String::new();
    for period in [
        plaint::reports::Period::Week(week),
        plaint::reports::Period::Month(plaint::reports::Month { year: 2026, month: 9 }),
    ] {
        let report = engine.period_report(period, now).await.unwrap();
        pages.push_str(&plaint::report_html::render(&report));
        pages.push_str(&plaint::report_csv::single_file(&report));
    }
    serde_json::to_string(&(sla, repeats, weekly, pages)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_keeps_every_figure_and_erases_only_that_customer() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at("2026-11-20T00:00:00Z"))))
        .await
        .unwrap();
    let workload = generate(&WorkloadConfig {
        complaints: 300,
        seed: 21,
        ..WorkloadConfig::default()
    });
    assert_eq!(engine.execute_batch(workload).await.unwrap().rejected, 0);
    engine
        .execute(receive(
            "e1",
            "CMP-E1",
            "2026-09-10T10:00:00+08:00",
            "+86 137-1234-5678",
        ))
        .await
        .unwrap();
    let e1 = ComplaintId::new("CMP-E1").unwrap();
    let other = ComplaintId::new("CMP-2026-000001").unwrap();
    assert!(matches!(
        engine.ticket(&e1, Reveal::Clear).await.unwrap().personal,
        PersonalFields::Clear { name: Some(ref n), .. } if n == "司马懿"
    ));
    let figures_before = figures(&engine).await;
    let history_before = engine.history(&e1).await.unwrap();
    let other_before = engine.ticket(&other, Reveal::Clear).await.unwrap();
    let stats_before = engine.stats().await.unwrap();

    // Erase by the phone as the customer writes it (normalised to the same match key).
    let erasure = engine.erase_customer("13712345678", &dpo()).await.unwrap();
    assert_eq!(erasure.keys_destroyed, 1);
    // The erasure is an audit event of the log (who, when, legal basis, which keys).
    let audit = engine.audit(&Default::default()).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(Some(last.meta.position), erasure.position);
    assert_eq!(last.meta.actor.as_str(), "dpo-1");
    assert!(matches!(&last.data, plaint::domain::EventData::CustomerErased(x)
        if x.legal_basis == "PIPL art. 47 request 2026-118" && x.key_ids == erasure.key_ids));
    engine.verify().await.expect("an erased customer verifies");
    let erased = engine.ticket(&e1, Reveal::Clear).await.unwrap();
    assert_eq!(erased.personal, PersonalFields::Erased);
    assert!(engine.ticket(&e1, Reveal::Masked).await.unwrap().personal.is_erased());
    assert_eq!(erased.view.match_key, history_match_key(&history_before));
    assert_eq!(
        engine.history(&e1).await.unwrap(),
        history_before,
        "the events replay unchanged"
    );
    assert_eq!(figures(&engine).await, figures_before, "every figure stays the same");
    assert_eq!(
        engine.ticket(&other, Reveal::Clear).await.unwrap(),
        other_before,
        "others untouched"
    );
    let stats = engine.stats().await.unwrap();
    assert_eq!(
        (stats.streams, stats.head_position),
        (stats_before.streams, stats_before.head_position + 1),
        "one audit event more, no ticket more"
    );
    let mut export = Vec::new();
    engine.export(&mut export, Reveal::Clear).await.unwrap();
    let export = String::from_utf8(export).unwrap();
    assert!(!export.contains("司马懿") && export.contains("\"erased\""));

    // Erased for good: a restart and a full rebuild do not bring it back.
    engine.close().await.unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at("2026-11-20T00:00:00Z"))))
        .await
        .unwrap();
    engine.rebuild(plaint::RebuildTarget::Head, &mut |_| {}).await.unwrap();
    assert_eq!(
        engine.ticket(&e1, Reveal::Clear).await.unwrap().personal,
        PersonalFields::Erased
    );
    assert_eq!(figures(&engine).await, figures_before);

    // The same customer complains again: a fresh key, readable, still linked by match key.
    engine
        .execute(receive("e2", "CMP-E2", "2026-09-12T10:00:00+08:00", "13712345678"))
        .await
        .unwrap();
    let e2 = ComplaintId::new("CMP-E2").unwrap();
    let t2 = engine.ticket(&e2, Reveal::Clear).await.unwrap();
    assert!(matches!(t2.personal, PersonalFields::Clear { phone: Some(ref p), .. } if p == "13712345678"));
    assert_eq!(t2.view.match_key, erased.view.match_key);
    assert_eq!(
        engine.ticket(&e1, Reveal::Clear).await.unwrap().personal,
        PersonalFields::Erased
    );
    // CMP-E1 is still open and about the same waybill: the repeat rule, on the match key that
    // survives erasure, finds it a duplicate.
    assert_eq!(
        engine.judge_intake(&e2).await.unwrap(),
        plaint::domain::repeat::RepeatVerdict::Duplicate { of: e1 }
    );
}

fn history_match_key(history: &[plaint::domain::Event]) -> Option<String> {
    match &history[0].data {
        plaint::domain::EventData::Received(r) => r.customer.match_key.clone(),
        _ => None,
    }
}

#[tokio::test]
async fn erasing_by_customer_id_also_erases_what_was_sealed_under_the_phone() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(at("2026-11-20T00:00:00Z"))))
        .await
        .unwrap();
    // Sealed under the phone's key (the phone wins as the match key); the customer id is linked.
    engine
        .execute(receive("x1", "CMP-X1", "2026-09-10T10:00:00+08:00", "13600000000"))
        .await
        .unwrap();
    // A later complaint with the customer id only.
    let by_id: Command = serde_json::from_value(json!({
        "command_id": "x2", "complaint_id": "CMP-X2", "actor": "cs-002", "occurred_at": "2026-09-11T10:00:00+08:00",
        "command": "receive", "channel": "letter", "region": "上海", "description": "来信投诉",
        "customer": {"customer_id": "C-77", "name": "司马懿"}
    }))
    .unwrap();
    engine.execute(by_id).await.unwrap();
    let ids = [ComplaintId::new("CMP-X1").unwrap(), ComplaintId::new("CMP-X2").unwrap()];
    for id in &ids {
        assert!(matches!(
            engine.ticket(id, Reveal::Masked).await.unwrap().personal,
            PersonalFields::Masked { .. }
        ));
    }
    assert_eq!(
        engine.erase_customer("C-77", &dpo()).await.unwrap().keys_destroyed,
        2,
        "the id's key and the linked phone's key"
    );
    for id in &ids {
        assert_eq!(
            engine.ticket(id, Reveal::Clear).await.unwrap().personal,
            PersonalFields::Erased,
            "{id}"
        );
    }
}

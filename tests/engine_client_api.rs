//! The facade methods a client such as the `plaint` CLI needs instead of reaching into the
//! store or the projections (issue 11, "the CLI is a client of the facade only"): one
//! projection rebuilt by name, the head position, event records with personal fields sealed or
//! revealed, export from a position, and planning a legacy import.

use plaint::engine::fixed_clock;
use plaint::import::ImportMapping;
use plaint::{Command, ComplaintId, Engine, EngineConfig, ErrorKind, ExportOptions, Reveal, Timestamp};
use serde_json::{json, Value};

const NOW: &str = "2026-11-25T08:00:00Z";

async fn open(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(Timestamp::parse_rfc3339(NOW).unwrap())))
        .await
        .unwrap()
}

fn receive(n: u32) -> Command {
    serde_json::from_value(json!({
        "command_id": format!("c{n}"), "complaint_id": format!("CMP-{n}"), "actor": "cs-007",
        "occurred_at": "2026-11-24T09:00:00+08:00", "command": "receive", "channel": "wechat",
        "region": "深圳", "description": "包裹未收到",
        "customer": {"name": "王芳", "phone": "+86 139-0000-1111"}
    }))
    .unwrap()
}

fn lines(bytes: Vec<u8>) -> Vec<Value> {
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn one_projection_is_rebuilt_by_name_and_an_unknown_name_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    for n in 1..=3 {
        engine.execute(receive(n)).await.unwrap();
    }
    assert_eq!(engine.head_position().await.unwrap(), 3);
    let before = engine
        .ticket(&ComplaintId::new("CMP-2").unwrap(), Reveal::Masked)
        .await
        .unwrap();

    let err = engine.rebuild_projection("ticket", &mut |_| {}).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let text = err.to_string();
    assert!(
        text.contains("\"ticket\"") && text.contains("tickets, sla, repeats, analysis"),
        "{text}"
    );

    for name in Engine::projection_names() {
        let stats = engine.rebuild_projection(name, &mut |_| {}).await.unwrap();
        assert_eq!((stats.events, stats.position), (3, 3), "{name}");
    }
    let after = engine
        .ticket(&ComplaintId::new("CMP-2").unwrap(), Reveal::Masked)
        .await
        .unwrap();
    assert_eq!(after, before, "the rebuilt projections give the same reads");
    engine.close().await.unwrap();
}

#[tokio::test]
async fn event_records_seal_personal_fields_unless_revealed_and_export_starts_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    for n in 1..=3 {
        engine.execute(receive(n)).await.unwrap();
    }
    let history = engine.history(&ComplaintId::new("CMP-1").unwrap()).await.unwrap();
    let sealed = serde_json::to_value(engine.event_record(&history[0], Reveal::Masked).await.unwrap()).unwrap();
    assert_eq!(sealed["data"]["customer"]["personal"]["sealed"], true);
    assert!(sealed["data"]["customer"]["personal"]["key_id"].is_string());
    assert!(!sealed.to_string().contains("王芳") && !sealed.to_string().contains("****"));
    let clear = serde_json::to_value(engine.event_record(&history[0], Reveal::Clear).await.unwrap()).unwrap();
    assert_eq!(clear["data"]["customer"]["personal"]["state"], "clear");
    assert_eq!(clear["data"]["customer"]["personal"]["name"], "王芳");

    let mut out = Vec::new();
    let options = ExportOptions {
        from_position: 2,
        reveal: Reveal::Masked,
    };
    assert_eq!(engine.export_with(&mut out, &options).await.unwrap(), 2);
    let exported = lines(out);
    let positions: Vec<u64> = exported.iter().map(|e| e["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, vec![2, 3]);

    // Erased: revealed reads say so; sealed ones look as before.
    engine
        .erase_customer(
            "13900001111",
            &plaint::ErasureRequest {
                actor: plaint::domain::Actor::person("dpo-1").unwrap(),
                legal_basis: "PIPL art. 47".into(),
            },
        )
        .await
        .unwrap();
    let erased = serde_json::to_value(engine.event_record(&history[0], Reveal::Clear).await.unwrap()).unwrap();
    assert_eq!(erased["data"]["customer"]["personal"]["state"], "erased");
    let mut all = Vec::new();
    engine.export(&mut all, Reveal::Masked).await.unwrap();
    assert_eq!(
        lines(all)[0],
        sealed,
        "an unrevealed export does not change with erasure"
    );
    engine.close().await.unwrap();
}

#[tokio::test]
async fn a_legacy_export_is_planned_through_the_facade() {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    // A `.json` input reads the mapping as an Open311 mapping, anything else as CSV.
    let open311 = ImportMapping::for_input(
        std::path::Path::new("export.json"),
        &repo.join("examples/mappings/chicago_open311.toml"),
    )
    .unwrap();
    assert!(matches!(open311, ImportMapping::Open311(_)));
    let csv = ImportMapping::for_input(
        std::path::Path::new("export.csv"),
        &repo.join("examples/mappings/cfpb.toml"),
    )
    .unwrap();
    assert!(matches!(csv, ImportMapping::Csv(_)));
    let missing = ImportMapping::for_input(std::path::Path::new("x.csv"), &repo.join("no-such-mapping.toml"));
    assert!(missing.unwrap_err().to_string().contains("no-such-mapping.toml"));

    // An empty Open311 export plans to nothing, checked against the engine's policy.
    let plan = engine.plan_import(&open311, &b"[]"[..]).unwrap();
    assert_eq!((plan.rows_read, plan.tickets.len()), (0, 0));
    engine.close().await.unwrap();
}

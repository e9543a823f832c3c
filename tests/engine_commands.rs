//! Commands through the facade on the real file log: execute, idempotency by command id,
//! typed rejections that write nothing, as-of reads, and persistence across a restart.

use plaint::domain::state::Rejection;
use plaint::domain::{Command, ComplaintId, Timestamp};
use plaint::engine::fixed_clock;
use plaint::projections::tickets::TicketStatus;
use plaint::{Engine, EngineConfig, EngineError, ErrorKind, PersonalFields, Reveal};
use serde_json::json;

const NOW: &str = "2026-11-25T08:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse_rfc3339(NOW).unwrap()
}

async fn open(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(now())))
        .await
        .unwrap()
}

/// A command from its JSON form (the import format).
fn cmd(id: &str, complaint: &str, at: &str, body: serde_json::Value) -> Command {
    let mut v = json!({"command_id": id, "complaint_id": complaint, "actor": "cs-007", "occurred_at": at});
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).unwrap()
}

fn receive(id: &str, complaint: &str, at: &str) -> Command {
    cmd(
        id,
        complaint,
        at,
        json!({
            "command": "receive", "channel": "wechat", "region": "深圳",
            "waybill": "SF1234567890",
            "description": "快递显示已签收但本人未收到，运单号 SF1234567890，要求核实",
            "customer": {"name": "王芳", "phone": "+86 139-0000-1111", "address": "深圳市南山区科技园路1号"}
        }),
    )
}

fn id(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

#[tokio::test]
async fn execute_commits_events_with_positions_and_reads_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let done = engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    assert!(!done.deduplicated);
    assert_eq!(done.events.len(), 1);
    assert_eq!(done.events[0].meta.position, 1);
    assert_eq!(done.events[0].meta.recorded_at, now());
    assert_eq!(done.stream_version, 1);
    let verify = cmd(
        "c2",
        "CMP-1",
        "2026-11-24T09:10:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    assert_eq!(engine.execute(verify).await.unwrap().events[0].meta.position, 2);

    let t = engine.ticket(&id("CMP-1"), Reveal::Masked).await.unwrap();
    assert_eq!(t.view.status, TicketStatus::Verified);
    assert_eq!(t.view.waybill.as_deref(), Some("SF1234567890"));
    assert_eq!(
        t.personal,
        PersonalFields::Masked {
            name: Some("王*".into()),
            phone: Some("139****1111".into()),
            address: Some("深圳市南山区****".into()),
        }
    );
    let clear = engine.ticket(&id("CMP-1"), Reveal::Clear).await.unwrap();
    assert!(matches!(clear.personal, PersonalFields::Clear { phone: Some(ref p), .. } if p == "+86 139-0000-1111"));
    let history = engine.history(&id("CMP-1")).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].data.type_name(), "Verified");
}

#[tokio::test]
async fn a_retried_command_returns_the_original_events_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let first = engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    let again = engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    assert!(again.deduplicated);
    assert_eq!(again.events, first.events);
    assert_eq!(engine.stats().await.unwrap().head_position, 1);

    // In a batch too, and mixed with new commands.
    let verify = cmd(
        "c2",
        "CMP-1",
        "2026-11-24T09:10:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    let out = engine
        .execute_batch(vec![
            receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"),
            verify.clone(),
            verify,
        ])
        .await
        .unwrap();
    assert_eq!((out.committed, out.deduplicated, out.rejected), (1, 2, 0));
    assert_eq!(out.head_position, 2);
}

#[tokio::test]
async fn an_illegal_transition_is_a_typed_rejection_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    let close = cmd("c2", "CMP-1", "2026-11-24T10:00:00+08:00", json!({"command": "close"}));
    let err = engine.execute(close.clone()).await.unwrap_err();
    assert!(err.is_rejection(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(matches!(
        err.rejection(),
        Some(Rejection::IllegalTransition { command: "close", .. })
    ));
    assert_eq!(engine.stats().await.unwrap().head_position, 1, "nothing written");

    // A batch reports the rejection per command and commits the rest.
    let verify = cmd(
        "c3",
        "CMP-1",
        "2026-11-24T09:10:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    let out = engine.execute_batch(vec![close, verify]).await.unwrap();
    assert_eq!((out.committed, out.rejected), (1, 1));
    let (index, rejection) = out.rejections().next().unwrap();
    assert_eq!(index, 0);
    assert!(matches!(rejection, Rejection::IllegalTransition { .. }));

    // Stopping at the first rejection: what comes before it commits, what follows is not
    // decided.
    let hold = |n: &str| {
        cmd(
            n,
            "CMP-1",
            "2026-11-24T12:00:00+08:00",
            json!({"command": "put_on_hold", "reason": "awaiting_evidence"}),
        )
    };
    let resume = cmd("c7", "CMP-1", "2026-11-24T12:30:00+08:00", json!({"command": "resume"}));
    let bad = cmd(
        "c8",
        "CMP-1",
        "2026-11-24T12:40:00+08:00",
        json!({"command": "revisit", "solved": true, "satisfied": true}),
    );
    let head = engine.stats().await.unwrap().head_position;
    let out = engine
        .execute_batch_until_rejection(vec![hold("c5"), resume, bad, hold("c6")])
        .await
        .unwrap();
    assert_eq!(out.outcomes.len(), 3, "the command after the rejection is not decided");
    assert_eq!((out.committed, out.rejected), (2, 1));
    assert!(matches!(out.outcomes[2], plaint::CommandOutcome::Rejected { .. }));
    assert_eq!(out.head_position, head + 2);

    // Business time after the engine's now is refused too.
    let future = cmd(
        "c4",
        "CMP-2",
        "2027-01-01T00:00:00Z",
        json!({"command": "receive", "channel": "hotline", "region": "北京", "description": "投诉"}),
    );
    assert!(engine.execute(future).await.unwrap_err().is_rejection());
}

#[tokio::test]
async fn an_unknown_complaint_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let err = engine.ticket(&id("CMP-404"), Reveal::Masked).await.unwrap_err();
    assert!(matches!(err, EngineError::UnknownComplaint { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert_eq!(
        engine.history(&id("CMP-404")).await.unwrap_err().kind(),
        ErrorKind::BadInput
    );
}

#[tokio::test]
async fn ticket_as_of_shows_the_state_at_a_past_instant() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    let verify = cmd(
        "c2",
        "CMP-1",
        "2026-11-24T11:00:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    engine.execute(verify).await.unwrap();
    let at = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
    let before = engine
        .ticket_as_of(&id("CMP-1"), at("2026-11-24T10:00:00+08:00"), Reveal::Masked)
        .await
        .unwrap();
    assert_eq!(before.view.status, TicketStatus::Received);
    assert_eq!(before.view.stream_version, 1);
    let after = engine
        .ticket_as_of(&id("CMP-1"), at("2026-11-24T11:00:00+08:00"), Reveal::Masked)
        .await
        .unwrap();
    assert_eq!(after.view.status, TicketStatus::Verified);
    let err = engine
        .ticket_as_of(&id("CMP-1"), at("2026-11-24T08:00:00+08:00"), Reveal::Masked)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::UnknownComplaint { .. }),
        "not received yet: {err}"
    );
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    let before = engine.ticket(&id("CMP-1"), Reveal::Clear).await.unwrap();
    engine.close().await.unwrap();

    let engine = open(dir.path()).await;
    let after = engine.ticket(&id("CMP-1"), Reveal::Clear).await.unwrap();
    assert_eq!(
        after, before,
        "same ticket, personal fields still open with the stored key"
    );
    let retry = engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    assert!(retry.deduplicated, "idempotency survives the restart");
    let verify = cmd(
        "c2",
        "CMP-1",
        "2026-11-24T09:10:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    assert_eq!(engine.execute(verify).await.unwrap().events[0].meta.position, 2);
    engine.close().await.unwrap();

    // Damaged checkpoints are derived data: discarded, and the projections rebuilt.
    let mut damaged = 0;
    for entry in std::fs::read_dir(dir.path().join("projections")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
        damaged += 1;
    }
    assert!(damaged > 0, "close() saved checkpoints");
    let engine = open(dir.path()).await;
    assert_eq!(
        engine.ticket(&id("CMP-1"), Reveal::Masked).await.unwrap().view.status,
        TicketStatus::Verified
    );
    engine.close().await.unwrap();

    // Reopened without checkpoints: projections rebuilt from the log agree.
    let mut cfg = EngineConfig::file(dir.path()).with_clock(fixed_clock(now()));
    cfg.checkpoints = false;
    let engine = Engine::open(cfg).await.unwrap();
    assert_eq!(
        engine.ticket(&id("CMP-1"), Reveal::Masked).await.unwrap().view.status,
        TicketStatus::Verified
    );
}

/// A checkpoint whose hash is sound but whose state this code never builds (here another log's
/// SLA state, numbering complaints differently from the tickets' checkpoint) is damage: the
/// engine discards the checkpoints and rebuilds from the log, and never answers from it (before
/// issue 13 wave 6 it loaded, and CMP-1 had no SLA view).
#[tokio::test]
async fn an_inconsistent_checkpoint_with_a_valid_hash_is_rebuilt_from_the_log() {
    use plaint::projections::checkpoint;
    use plaint::projections::runner::ProjectionSet;
    use plaint::projections::synth::{SynthConfig, SynthLog};
    let dir = tempfile::tempdir().unwrap();
    let one = receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00");
    let engine = open(dir.path()).await;
    engine.execute(one).await.unwrap();
    engine.close().await.unwrap();

    let mut other = ProjectionSet::default();
    let config = SynthConfig {
        complaints: 1,
        id_prefix: "OTHER".into(),
        ..SynthConfig::default()
    };
    other.apply(&SynthLog::new(config).next().unwrap());
    checkpoint::save(&dir.path().join("projections"), 1, &other.sla.state).unwrap();

    let engine = open(dir.path()).await;
    let sla = engine.ticket_sla(&id("CMP-1"), now()).await;
    assert!(sla.is_ok(), "the SLA projection was rebuilt from the log: {sla:?}");
    engine.close().await.unwrap();
}

#[tokio::test]
async fn audit_filters_by_time_and_actor_and_export_masks() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    engine
        .execute(receive("c1", "CMP-1", "2026-11-24T09:00:00+08:00"))
        .await
        .unwrap();
    let mut verify = cmd(
        "c2",
        "CMP-1",
        "2026-11-24T11:00:00+08:00",
        json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
    );
    verify.actor = plaint::domain::Actor::person("sup-01").unwrap();
    engine.execute(verify).await.unwrap();
    let at = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
    let by_sup = engine
        .audit(&plaint::AuditFilter {
            actor: Some("sup-01".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_sup.len(), 1);
    assert_eq!(by_sup[0].meta.command_id.as_str(), "c2");
    let early = engine
        .audit(&plaint::AuditFilter {
            from: Some(at("2026-11-24T08:00:00+08:00")),
            to: Some(at("2026-11-24T10:00:00+08:00")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].meta.command_id.as_str(), "c1");

    let mut out = Vec::new();
    assert_eq!(engine.export(&mut out, Reveal::Masked).await.unwrap(), 2);
    let text = String::from_utf8(out).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "event");
    assert_eq!(first["type"], "Received");
    assert_eq!(first["data"]["customer"]["personal"]["sealed"], true, "{first}");
    assert!(!text.contains("139****1111"), "not even a masked phone in an export");
    assert!(!text.contains("139-0000-1111"), "no clear phone in a masked export");
    assert!(!text.contains("王芳"), "no clear name in a masked export");
}

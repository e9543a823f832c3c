//! Issue 11, problem 1, through the facade (what `plaint show`, the reports and the cqrs-es
//! views read): the ticket view's status is the domain's own, so a ticket put on hold while
//! `verified` and resumed is `verified` again, never `dispatched`.

use plaint::domain::state::Status;
use plaint::domain::{Command, ComplaintId, Timestamp};
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig, Reveal};
use serde_json::json;

fn cmd(id: &str, at: &str, body: serde_json::Value) -> Command {
    let mut v = json!({"command_id": id, "complaint_id": "CMP-HOLD-1", "actor": "cs-007", "occurred_at": at});
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn resumed_ticket_keeps_status_before_hold() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::parse_rfc3339("2026-11-25T08:00:00Z").unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path()).with_clock(fixed_clock(now)))
        .await
        .unwrap();
    let commands = [
        cmd(
            "c1",
            "2026-11-24T09:00:00+08:00",
            json!({"command": "receive", "channel": "hotline", "region": "深圳", "description": "包裹延误"}),
        ),
        cmd(
            "c2",
            "2026-11-24T09:10:00+08:00",
            json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
        ),
        cmd(
            "c3",
            "2026-11-24T09:20:00+08:00",
            json!({"command": "put_on_hold", "reason": "awaiting_evidence", "note": "请客户提供截图"}),
        ),
        cmd(
            "c4",
            "2026-11-24T11:20:00+08:00",
            json!({"command": "resume", "note": "已收到截图"}),
        ),
    ];
    for c in commands {
        engine.execute(c).await.unwrap();
    }
    let id = ComplaintId::new("CMP-HOLD-1").unwrap();
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap();
    assert_eq!(t.view.status, Status::Verified);
    assert_eq!(t.view.holds.len(), 1);
    assert!(t.view.holds[0].until.is_some());
    // And the next command the domain accepts is the one a verified ticket takes.
    let classify = cmd(
        "c5",
        "2026-11-24T11:30:00+08:00",
        json!({"command": "classify", "category": "delay", "severity": "ordinary", "customer_tier": "standard"}),
    );
    engine.execute(classify).await.unwrap();
    let t = engine.ticket(&id, Reveal::Masked).await.unwrap();
    assert_eq!(t.view.status, Status::Classified);
}

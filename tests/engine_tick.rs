//! The SLA watchdog through the facade: `tick(now)` appends each planned escalation that is due
//! exactly once, however often it runs and across a restart.

use plaint::domain::{Command, ComplaintId, EscalationLevel, EscalationTrigger, EventData, Timestamp};
use plaint::engine::fixed_clock;
use plaint::{Engine, EngineConfig};
use serde_json::json;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

async fn open(dir: &std::path::Path) -> Engine {
    Engine::open(EngineConfig::file(dir).with_clock(fixed_clock(at("2026-11-30T00:00:00Z"))))
        .await
        .unwrap()
}

fn cmd(id: &str, when: &str, body: serde_json::Value) -> Command {
    let mut v = json!({"command_id": id, "complaint_id": "CMP-T", "actor": "cs-001", "occurred_at": when});
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).unwrap()
}

/// An ordinary ticket received 2026-11-20 10:00 Beijing time, classified and dispatched, never
/// answered: the ladder plans a supervisor at +48 h and a department head at +72 h.
async fn unanswered_ordinary_ticket(engine: &Engine) {
    let cmds = vec![
        cmd(
            "t1",
            "2026-11-20T10:00:00+08:00",
            json!({"command": "receive", "channel": "hotline", "region": "北京",
                   "description": "包裹延误五天没有物流更新"}),
        ),
        cmd(
            "t2",
            "2026-11-20T10:05:00+08:00",
            json!({"command": "verify", "claim": "passed", "evidence": "not_applicable", "history": "passed"}),
        ),
        cmd(
            "t3",
            "2026-11-20T10:10:00+08:00",
            json!({"command": "classify", "category": "delay", "severity": "ordinary"}),
        ),
        cmd("t4", "2026-11-20T10:15:00+08:00", json!({"command": "dispatch"})),
    ];
    let out = engine.execute_batch(cmds).await.unwrap();
    assert_eq!(out.rejected, 0);
}

fn watchdog_rules(events: &[plaint::domain::Event]) -> Vec<(String, EscalationLevel)> {
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Escalated(x) => match &x.trigger {
                EscalationTrigger::Watchdog { rule_id, .. } => Some((rule_id.clone(), x.level)),
                EscalationTrigger::Person => None,
            },
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn due_escalations_are_appended_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    unanswered_ordinary_ticket(&engine).await;
    let id = ComplaintId::new("CMP-T").unwrap();

    // Before the first rung: nothing.
    let early = engine.tick(at("2026-11-21T10:00:00+08:00")).await.unwrap();
    assert_eq!(early.checked, 1);
    assert!(early.escalated.is_empty());

    // 49 hours after receipt: the supervisor rung.
    let t49 = at("2026-11-22T11:00:00+08:00");
    let first = engine.tick(t49).await.unwrap();
    assert_eq!(
        watchdog_rules(&first.escalated),
        vec![("ladder.supervisor".to_owned(), EscalationLevel::Supervisor)]
    );
    assert_eq!(first.escalated[0].meta.actor.as_str(), "system");
    assert_eq!(first.escalated[0].meta.recorded_at, t49);
    // Asked again at the same instant, or a bit later: nothing more.
    assert!(engine.tick(t49).await.unwrap().escalated.is_empty());
    assert!(engine
        .tick(at("2026-11-22T12:00:00+08:00"))
        .await
        .unwrap()
        .escalated
        .is_empty());

    // 73 hours: the department head rung, and only that.
    let t73 = at("2026-11-23T11:00:00+08:00");
    let second = engine.tick(t73).await.unwrap();
    assert_eq!(
        watchdog_rules(&second.escalated),
        vec![("ladder.department_head".to_owned(), EscalationLevel::DepartmentHead)]
    );
    engine.close().await.unwrap();

    // After a restart, the same tick appends nothing; the history holds each rung once.
    let engine = open(dir.path()).await;
    assert!(engine.tick(t73).await.unwrap().escalated.is_empty());
    let history = engine.history(&id).await.unwrap();
    assert_eq!(
        watchdog_rules(&history),
        vec![
            ("ladder.supervisor".to_owned(), EscalationLevel::Supervisor),
            ("ladder.department_head".to_owned(), EscalationLevel::DepartmentHead),
        ]
    );
    let t = engine.ticket(&id, Default::default()).await.unwrap();
    assert_eq!(t.view.escalations.len(), 2);
}

#[tokio::test]
async fn an_answered_ticket_is_not_escalated() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    unanswered_ordinary_ticket(&engine).await;
    engine
        .execute(cmd(
            "t5",
            "2026-11-21T09:00:00+08:00",
            json!({"command": "respond", "kind": "final", "text": "已补发", "liable": true}),
        ))
        .await
        .unwrap();
    let tick = engine.tick(at("2026-11-24T00:00:00+08:00")).await.unwrap();
    assert!(tick.escalated.is_empty(), "{:?}", tick.escalated);
}

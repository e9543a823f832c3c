//! Commands of one complaint's main lifecycle, written as the JSON a back office would send
//! (the import format of `docs/import-format.md`), and the services with a fixed clock.
#![allow(dead_code)]

use plaint_cqrs::ComplaintServices;
use plaint_domain::{Command, Timestamp};

pub const COMPLAINT: &str = "CMP-CQRS-000001";

/// 2026-03-03T09:00:00+08:00, a Tuesday and a working day.
pub fn t0() -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-03T09:00:00+08:00").unwrap()
}

pub fn services_at(now: Timestamp) -> ComplaintServices {
    ComplaintServices::new(ComplaintServices::fixed_clock(now), [9u8; 32])
}

pub fn command(id: &str, body: serde_json::Value) -> Command {
    let mut v = serde_json::json!({
        "command_id": id,
        "complaint_id": COMPLAINT,
        "actor": "agent-3",
    });
    v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    serde_json::from_value(v).expect("a valid command")
}

pub fn receive() -> Command {
    command(
        "c1-receive",
        serde_json::json!({
            "command": "receive",
            "channel": "wechat",
            "customer": { "customer_id": "C-7", "name": "李四", "phone": "139 0000 1111" },
            "waybill": "SF1234567890",
            "description": "快递显示已签收但本人未收到，要求核实",
            "region": "上海",
        }),
    )
}

pub fn verify() -> Command {
    command(
        "c2-verify",
        serde_json::json!({ "command": "verify", "claim": "passed", "evidence": "passed", "history": "passed" }),
    )
}

pub fn classify() -> Command {
    command(
        "c3-classify",
        serde_json::json!({ "command": "classify", "category": "delivery", "severity": "ordinary" }),
    )
}

pub fn dispatch() -> Command {
    command("c4-dispatch", serde_json::json!({ "command": "dispatch" }))
}

pub fn respond_final() -> Command {
    command(
        "c5-respond",
        serde_json::json!({ "command": "respond", "kind": "final", "text": "已找回包裹并重新投递", "liable": true, "root_cause": "delivery" }),
    )
}

pub fn revisit() -> Command {
    command(
        "c6-revisit",
        serde_json::json!({ "command": "revisit", "solved": true, "satisfied": true }),
    )
}

pub fn close() -> Command {
    command("c7-close", serde_json::json!({ "command": "close" }))
}

/// The main lifecycle, in order.
pub fn lifecycle() -> Vec<Command> {
    vec![
        receive(),
        verify(),
        classify(),
        dispatch(),
        respond_final(),
        revisit(),
        close(),
    ]
}

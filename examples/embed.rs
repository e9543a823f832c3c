//! Embedding plaint in a back-office service: open the engine on the embedded file log, take a
//! complaint from a form, answer it, read it back masked, and run the SLA watchdog.
//!
//! Run: `cargo run --example embed -- /tmp/plaint-embed`

use plaint::domain::{Command, ComplaintId};
use plaint::{Engine, EngineConfig, Reveal};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "./plaint-embed".into());
    let engine = Engine::open(EngineConfig::file(&dir)).await?;

    // A command in the import format (one JSON object); a web form would build the same.
    let receive: Command = serde_json::from_str(
        r#"{"command_id": "form-7781", "complaint_id": "CMP-2026-700001", "actor": "cs-014",
            "command": "receive", "channel": "mini_program", "region": "杭州", "waybill": "SF1234567890",
            "description": "快递显示已签收但本人未收到，运单号 SF1234567890，要求核实",
            "customer": {"name": "陈静", "phone": "+86 138-0013-8000"}}"#,
    )?;
    let done = engine.execute(receive.clone()).await?;
    println!("committed at position {}", done.events[0].meta.position);
    // Retrying the same command (a double click, a network retry) writes nothing.
    assert!(engine.execute(receive).await?.deduplicated);

    let id = ComplaintId::new("CMP-2026-700001")?;
    let ticket = engine.ticket(&id, Reveal::Masked).await?;
    println!("{}", serde_json::to_string_pretty(&ticket)?);

    // The SLA watchdog: run it on a timer in production; each due escalation lands once.
    let tick = engine.tick(engine.now()).await?;
    println!(
        "watchdog: {} open tickets, {} escalated",
        tick.checked,
        tick.escalated.len()
    );
    engine.close().await?;
    Ok(())
}

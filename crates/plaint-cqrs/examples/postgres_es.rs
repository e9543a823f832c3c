//! A cqrs-es `CqrsFramework` over `postgres-es` executing plaint complaint commands.
//!
//! ```text
//! export PLAINT_DATABASE_URL=postgres://plaint:plaint@127.0.0.1:5432/plaint_test   # `just pg` sets one up
//! cargo run -p plaint-cqrs --example postgres_es
//! ```

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateContext, EventStore};
use plaint_cqrs::postgres::{create_tables, framework, load_prior_index, repository};
use plaint_cqrs::{ComplaintAggregate, ComplaintServices};
use plaint_domain::Command;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("PLAINT_DATABASE_URL")
        .map_err(|_| "set PLAINT_DATABASE_URL to a PostgreSQL URL (hint: `just pg` starts a local one)")?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    create_tables(&pool, "plaint_cqrs_example").await?;
    let services = ComplaintServices::new(ComplaintServices::system_clock(), [1u8; 32]);
    // The repeat rule (docs/domain.md §8) sees the complaints stored by earlier runs.
    let index = services.prior_index().expect("the default index");
    let replayed = load_prior_index(&pool, "plaint_cqrs_example", index).await?;
    println!(
        "{replayed} stored events replayed into the repeat index ({} complaints)",
        index.len()
    );
    let cqrs = framework(pool.clone(), "plaint_cqrs_example", services);

    // A fresh complaint id per run, so the example can run again and again.
    let id = format!("CMP-EX-{}", chrono::Utc::now().timestamp_millis());
    let lines = [
        r#"{"command":"receive","channel":"hotline","customer":{"phone":"+86 138-0013-8000"},"waybill":"EMS123456789CN","description":"包裹破损，内物摔坏","region":"杭州","claimed_amount":20000}"#,
        r#"{"command":"verify","claim":"passed","evidence":"passed","history":"passed"}"#,
        r#"{"command":"classify","category":"damage","severity":"urgent"}"#,
        r#"{"command":"dispatch"}"#,
        r#"{"command":"respond","kind":"final","text":"按保价规则赔付","liable":true,"root_cause":"transport"}"#,
    ];
    for (i, body) in lines.iter().enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(body)?;
        let o = v.as_object_mut().unwrap();
        o.insert("command_id".into(), format!("{id}-{i}").into());
        o.insert("complaint_id".into(), id.clone().into());
        o.insert("actor".into(), "agent-1".into());
        let cmd: Command = serde_json::from_value(v)?;
        let name = cmd.body.name();
        cqrs.execute(&id, cmd).await?;
        println!("{id}: {name} ok");
    }
    let store: PersistedEventStore<_, ComplaintAggregate> =
        PersistedEventStore::new_event_store(repository(pool, "plaint_cqrs_example"));
    let mut ctx = store.load_aggregate(&id).await?;
    println!("{id}: status {}", ctx.aggregate().state().status);
    Ok(())
}

//! `--pg-read URL`: reports read from a replica and say how far behind it is. The shared test
//! server has no standby, so the "replica" here is the primary itself (the line says so); the
//! failover test (`tests/pg_failover.rs`) reads from a real standby through the facade.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn reports_read_from_the_replica_and_show_its_lag() {
    let Some(url) = database_url() else {
        return;
    };
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "15", "--seed", "5"])
        .assert()
        .success();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("cli_pg_read_{}_{nanos}", std::process::id());
    let local = env.path("pg-local");
    let pg = |args: &[&str]| {
        let mut cmd = plaint();
        cmd.args(["--pg-schema", &schema, "--store"]).arg(&local).args(args);
        cmd
    };
    pg(&["init", "--pg", &url]).assert().success();
    pg(&["copy", "--from", env.store().to_str().unwrap(), "--to", &url])
        .assert()
        .success();
    let now = "2026-10-20T00:00:00Z";
    let direct = pg(&["sla", "--json", "--now", now, "--pg", &url]).output().unwrap();
    assert!(direct.status.success(), "{}", stderr(&direct));
    assert!(!stderr(&direct).contains("replica"), "no replica, no lag line");
    // Fresh projections for the replica run (the checkpoints of the direct run are in `local`).
    let local_replica = env.path("pg-local-replica");
    let replica = plaint()
        .args(["--pg-schema", &schema, "--store"])
        .arg(&local_replica)
        .args(["sla", "--json", "--now", now, "--pg", &url, "--pg-read", &url])
        .output()
        .unwrap();
    assert!(replica.status.success(), "{}", stderr(&replica));
    assert_eq!(stdout(&direct), stdout(&replica), "the same report from the replica");
    let head = env.stats()["head_position"].as_u64().unwrap();
    let line = stderr(&replica);
    assert!(
        line.contains("reading from replica")
            && line.contains("up to date with the primary")
            && line.contains(&format!("head {head} of {head}"))
            && line.contains("not a standby"),
        "{line}"
    );
    assert!(!line.contains(":plaint@"), "the password is not shown: {line}");

    // A replica of a file log is bad input, named.
    env.plaint(&["stats", "--pg-read", &url])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pg_read").and(predicate::str::contains("PostgreSQL")));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(plaint_store::pg::PgStore::drop_schema(
        &url,
        &plaint_store::pg::PgOptions::with_schema(&schema),
    ))
    .expect("drop the test schema");
}

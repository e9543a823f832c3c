//! `plaint copy`: a whole log between stores, verified at the end (file → file always; file → PG
//! → file when PLAINT_TEST_DATABASE_URL is set).

mod common;
use common::*;
use predicates::prelude::*;

fn export(env_store: &std::path::Path) -> String {
    let out = plaint().arg("--store").arg(env_store).arg("export").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// `export --reveal`: personal fields in clear, so the vault went along (not "erased").
fn export_revealed(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.args(["export", "--reveal"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("\"clear\""), "personal fields read in clear");
    assert!(!text.contains("\"erased\""), "no customer reads as erased");
    text
}

#[test]
fn copy_file_to_file_keeps_every_event_and_position() {
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "25", "--seed", "4"])
        .assert()
        .success();
    let target = env.path("copy");
    let out = plaint()
        .args([
            "copy",
            "--from",
            env.store().to_str().unwrap(),
            "--to",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        export(&env.store()),
        export(&target),
        "identical events, positions and order"
    );
    plaint().arg("--store").arg(&target).arg("verify").assert().success();
    // The vault went along: every ticket reads in clear in the copy as in the source.
    assert_eq!(
        export_revealed(plaint().arg("--store").arg(env.store())),
        export_revealed(plaint().arg("--store").arg(&target)),
    );
    // Copying into a store that already holds events is refused.
    plaint()
        .args([
            "copy",
            "--from",
            env.store().to_str().unwrap(),
            "--to",
            target.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("hint:"));
}

#[test]
fn copy_file_to_postgres_and_back() {
    let Some(url) = database_url() else {
        return;
    };
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "20", "--seed", "8"])
        .assert()
        .success();
    // A schema of its own, so runs and parallel tests never collide; dropped at the end.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("cli_copy_{}_{nanos}", std::process::id());
    let keys_dir = env.path("pg-local");
    let pg = |args: &[&str]| {
        let mut cmd = plaint();
        cmd.args(["--pg-schema", &schema, "--store"]).arg(&keys_dir).args(args);
        cmd
    };
    pg(&["init", "--pg", &url]).assert().success();
    pg(&["copy", "--from", env.store().to_str().unwrap(), "--to", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains("verified on both"));
    let out = pg(&["verify", "--json", "--pg", &url]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["events"], env.stats()["events"]);
    let back = env.path("back");
    pg(&["copy", "--from", &url, "--to", back.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(export(&env.store()), export(&back));
    let source_revealed = export_revealed(plaint().arg("--store").arg(env.store()));
    assert_eq!(source_revealed, export_revealed(&mut pg(&["--pg", &url])));
    assert_eq!(source_revealed, export_revealed(plaint().arg("--store").arg(&back)));
    // Reports read the same from the PostgreSQL copy as from the file log.
    let report = |cmd: &mut assert_cmd::Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let now = "2026-10-20T00:00:00Z";
    let from_file = report(&mut env.plaint(&["sla", "--json", "--now", now]));
    let from_pg = report(&mut pg(&["sla", "--json", "--now", now, "--pg", &url]));
    assert_eq!(from_file, from_pg);

    // The environment names the database and schema just as well as the options.
    let out = plaint()
        .env("PLAINT_DATABASE_URL", &url)
        .env("PLAINT_PG_SCHEMA", &schema)
        .arg("--store")
        .arg(&keys_dir)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["head_position"], env.stats()["head_position"]);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(plaint_store::pg::PgStore::drop_schema(
        &url,
        &plaint_store::pg::PgOptions::with_schema(&schema),
    ))
    .expect("drop the test schema");
}

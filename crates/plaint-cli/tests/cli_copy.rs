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
    let Ok(url) = std::env::var("PLAINT_TEST_DATABASE_URL") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true requires PLAINT_TEST_DATABASE_URL"
        );
        println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
        return;
    };
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "20", "--seed", "8"])
        .assert()
        .success();
    // A schema of its own, so parallel tests do not collide.
    let schema = format!("plaint_cli_copy_{}", std::process::id());
    let sep = if url.contains('?') { '&' } else { '?' };
    let pg = format!("{url}{sep}options=-csearch_path%3D{schema}");
    plaint().args(["init", "--pg", &pg]).assert().success();
    plaint()
        .args(["copy", "--from", env.store().to_str().unwrap(), "--to", &pg])
        .assert()
        .success();
    plaint().args(["verify", "--pg", &pg]).assert().success();
    let back = env.path("back");
    plaint()
        .args(["copy", "--from", &pg, "--to", back.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(export(&env.store()), export(&back));
}

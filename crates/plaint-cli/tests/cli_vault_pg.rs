//! Issue 12 problem 1: four engine processes importing into one PostgreSQL schema at once, each
//! with its own local directory, agree on every customer key: afterwards `export --reveal` opens
//! every ticket's personal fields, and they equal a single-process import's. Needs
//! PLAINT_TEST_DATABASE_URL.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::time::Instant;

fn schema_name(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("cli_vault_{tag}_{}_{nanos}", std::process::id())
}

/// complaint id → its `Received` event's personal fields as `export --reveal` shows them.
fn revealed(url: &str, schema: &str, local: &std::path::Path) -> BTreeMap<String, serde_json::Value> {
    let out = plaint()
        .args(["--pg", url, "--pg-schema", schema, "--store"])
        .arg(local)
        .args(["export", "--reveal"])
        .output()
        .unwrap();
    assert!(out.status.success(), "export --reveal: {}", stderr(&out));
    let mut map = BTreeMap::new();
    for line in stdout(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(p) = v.pointer("/data/customer/personal") {
            assert_ne!(p["state"], "erased", "{line}");
            let id = v
                .pointer("/meta/complaint_id")
                .or(v.get("complaint_id"))
                .unwrap()
                .to_string();
            map.insert(id, p.clone());
        }
    }
    map
}

#[test]
fn four_processes_importing_at_once_agree_on_every_key() {
    let Some(url) = database_url() else {
        return;
    };
    let env = Env::new();
    let file = env.workload_file("all.jsonl", 600, 12);
    let text = std::fs::read_to_string(&file).unwrap();
    // Four files of disjoint complaints, each complaint's commands in order. A complaint merged
    // as a duplicate goes with the complaint it is merged into: a merge must name a complaint
    // already in the log (docs/domain.md R-LIFE-12), which another process may not have
    // imported yet.
    let mut merged_into = std::collections::HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let (Some("merge_as_duplicate"), Some(into)) = (v["command"].as_str(), v["into"].as_str()) {
            merged_into.insert(v["complaint_id"].as_str().unwrap().to_owned(), into.to_owned());
        }
    }
    let mut parts = vec![String::new(); 4];
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut complaint = v["complaint_id"].as_str().unwrap();
        for _ in 0..merged_into.len() {
            match merged_into.get(complaint) {
                Some(into) => complaint = into,
                None => break,
            }
        }
        let part = complaint.bytes().map(usize::from).sum::<usize>() % 4;
        parts[part].push_str(line);
        parts[part].push('\n');
    }
    let (concurrent, single) = (schema_name("four"), schema_name("one"));
    for schema in [&concurrent, &single] {
        plaint()
            .args(["--pg", &url, "--pg-schema", schema, "--store"])
            .arg(env.path(&format!("init-{schema}")))
            .arg("init")
            .assert()
            .success();
    }
    let started = Instant::now();
    let children: Vec<std::process::Child> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let path = env.path(&format!("part-{i}.jsonl"));
            std::fs::write(&path, part).unwrap();
            std::process::Command::new(assert_cmd::cargo::cargo_bin("plaint"))
                .env_remove("PLAINT_STORE")
                .env_remove("PLAINT_DATABASE_URL")
                .args(["--pg", &url, "--pg-schema", &concurrent, "--store"])
                .arg(env.path(&format!("local-{i}")))
                .args(["import", "--batch", "50", "--progress", "none"])
                .arg(&path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a concurrent import failed: {}", stderr(&out));
    }
    let elapsed = started.elapsed();
    let one = Instant::now();
    plaint()
        .args(["--pg", &url, "--pg-schema", &single, "--store"])
        .arg(env.path("local-single"))
        .args(["import", "--progress", "none"])
        .arg(&file)
        .assert()
        .success();
    let one = one.elapsed();
    let four = revealed(&url, &concurrent, &env.path("local-0"));
    let reference = revealed(&url, &single, &env.path("local-single"));
    assert!(four.len() >= 600, "every complaint's personal fields: {}", four.len());
    assert!(four.values().all(|p| p["state"] == "clear"), "every ticket opens");
    assert_eq!(four, reference, "the same personal fields as a single-process import");
    plaint()
        .args(["--pg", &url, "--pg-schema", &concurrent, "--store"])
        .arg(env.path("local-1"))
        .arg("verify")
        .assert()
        .success();
    println!(
        "4 concurrent processes: {} commands, {} tickets, {:.2} s; single process {:.2} s",
        text.lines().count(),
        four.len(),
        elapsed.as_secs_f64(),
        one.as_secs_f64()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    for schema in [&concurrent, &single] {
        rt.block_on(plaint::store::pg::PgStore::drop_schema(
            &url,
            &plaint::store::pg::PgOptions::with_schema(schema.as_str()),
        ))
        .expect("drop the test schema");
    }
}

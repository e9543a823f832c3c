//! Helpers shared by the end-to-end tests of the `plaint` binary: a store in a temporary
//! directory, the binary with the environment cleaned, small command files.
#![allow(dead_code)] // each test file uses its own subset

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A fixed instant for every `--now` (determinism): Monday 2026-10-19 12:00 UTC, after the
/// default demo workload's intake period began.
pub const NOW: &str = "2026-10-19T12:00:00Z";

/// A temporary directory holding one file-log store (`<tmp>/store`).
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `plaint --store <tmp>/store <args…>`, with the environment's store variables removed.
    pub fn plaint(&self, args: &[&str]) -> Command {
        let mut cmd = plaint();
        cmd.arg("--store").arg(self.store()).args(args);
        cmd
    }

    /// Runs `plaint init`.
    pub fn init(&self) {
        self.plaint(&["init"]).assert().success();
    }

    /// Writes `lines` as a file and returns its path.
    pub fn write(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.path(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).expect("write command file");
        path
    }

    /// Generates a demo workload's commands into `<tmp>/<name>` (via `demo --emit-commands` on a
    /// scratch store) and returns the file.
    pub fn workload_file(&self, name: &str, complaints: u32, seed: u64) -> PathBuf {
        let file = self.path(name);
        let scratch = self.path(&format!("{name}.scratch-store"));
        plaint()
            .arg("--store")
            .arg(&scratch)
            .args([
                "demo",
                "--complaints",
                &complaints.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .arg("--emit-commands")
            .arg(&file)
            .assert()
            .success();
        file
    }

    /// `stats --json` parsed.
    pub fn stats(&self) -> serde_json::Value {
        let out = self.plaint(&["stats", "--json"]).output().expect("run stats");
        assert!(
            out.status.success(),
            "stats failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stats --json is JSON")
    }
}

/// The binary under test with PLAINT_STORE / PLAINT_DATABASE_URL removed.
pub fn plaint() -> Command {
    let mut cmd = Command::cargo_bin("plaint").expect("the plaint binary is built");
    cmd.env_remove("PLAINT_STORE").env_remove("PLAINT_DATABASE_URL");
    cmd
}

/// Stdout as a string.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Stderr as a string.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// One command as a JSON line. `body` holds the `command` tag and its fields.
pub fn command(id: &str, complaint: &str, at: &str, body: &str) -> String {
    format!(r#"{{"command_id":"{id}","complaint_id":"{complaint}","actor":"agent-1","occurred_at":"{at}",{body}}}"#)
}

/// The commands taking `complaint` from intake to a final response (7 commands), a day apart
/// from 2026-10-12.
pub fn lifecycle(complaint: &str) -> Vec<String> {
    let c = complaint;
    vec![
        command(
            &format!("{c}:receive"),
            c,
            "2026-10-12T09:00:00+08:00",
            r#""command":"receive","channel":"hotline","description":"包裹显示已签收但未收到","region":"shanghai","waybill":"SF100200300","customer":{"customer_id":"C-1","name":"王芳","phone":"13800138000"}"#,
        ),
        command(
            &format!("{c}:verify"),
            c,
            "2026-10-12T09:30:00+08:00",
            r#""command":"verify","claim":"passed","evidence":"passed","history":"passed""#,
        ),
        command(
            &format!("{c}:classify"),
            c,
            "2026-10-12T09:40:00+08:00",
            r#""command":"classify","category":"delivery","severity":"ordinary""#,
        ),
        command(
            &format!("{c}:ack"),
            c,
            "2026-10-12T10:00:00+08:00",
            r#""command":"respond","kind":"acknowledgement","text":"已受理""#,
        ),
        command(
            &format!("{c}:dispatch"),
            c,
            "2026-10-12T10:10:00+08:00",
            r#""command":"dispatch","department":"delivery""#,
        ),
        command(
            &format!("{c}:final"),
            c,
            "2026-10-13T15:00:00+08:00",
            r#""command":"respond","kind":"final","text":"已重新投递","liable":true,"root_cause":"delivery""#,
        ),
        command(
            &format!("{c}:revisit"),
            c,
            "2026-10-14T10:00:00+08:00",
            r#""command":"revisit","solved":true,"satisfied":true,"satisfaction_score":5"#,
        ),
    ]
}

/// The lifecycle of `complaint` closed at the end (8 commands).
pub fn closed_lifecycle(complaint: &str) -> Vec<String> {
    let mut lines = lifecycle(complaint);
    lines.push(command(
        &format!("{complaint}:close"),
        complaint,
        "2026-10-14T11:00:00+08:00",
        r#""command":"close","root_cause":"delivery","liable":true"#,
    ));
    lines
}

/// Imports `lines` into the env's store (initialising it) and asserts success.
pub fn import_lines(env: &Env, name: &str, lines: &[String]) -> PathBuf {
    let file = env.write(name, lines);
    env.plaint(&["import", file.to_str().unwrap(), "--now", NOW])
        .assert()
        .success();
    file
}

/// The largest regular file under `dir`, recursively (the log segment in a file store).
pub fn largest_file(dir: &Path) -> PathBuf {
    let mut best: Option<(u64, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read store dir") {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if best.as_ref().is_none_or(|(len, _)| meta.len() > *len) {
                best = Some((meta.len(), entry.path()));
            }
        }
    }
    best.expect("the store holds a file").1
}

/// The PostgreSQL test database URL, or `None` after printing the skip line when it is unset
/// outside CI; under `CI=true` a missing URL fails the test (the PostgreSQL tests must run there).
pub fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI=true requires PLAINT_TEST_DATABASE_URL"
            );
            println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
            None
        }
    }
}

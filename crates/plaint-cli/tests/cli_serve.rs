//! `plaint serve` as a process (answers HTTP, stops on SIGTERM releasing the store), and the
//! logging flags every subcommand takes (`-v`, `RUST_LOG`, `--log-format json`).

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

const RECEIVE: &str = r#"{"command_id":"c-1","complaint_id":"CMP-1","actor":"cs-001","command":"receive","channel":"hotline","region":"上海","description":"包裹显示已签收但未收到","customer":{"name":"张三","phone":"13800138000"}}"#;

#[test]
fn verbose_json_logs_carry_the_span_names() {
    let env = Env::new();
    env.init();
    let out = env
        .plaint(&["-v", "--log-format", "json", "submit", RECEIVE])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let logs: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    let span_names: Vec<&str> = logs.iter().filter_map(|l| l["span"]["name"].as_str()).collect();
    assert!(span_names.contains(&"command"), "{span_names:?}");
    assert!(span_names.contains(&"append"), "{span_names:?}");
    assert!(logs
        .iter()
        .all(|l| l["level"].is_string() && l["timestamp"].is_string()));
    // Stdout stays data only.
    assert!(stdout(&out).lines().all(|l| !l.contains("\"level\"")));

    // Without -v: no info lines.
    let quiet = env
        .plaint(&["--log-format", "json", "stats", "--json"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(!stderr(&quiet).contains("\"INFO\""), "{}", stderr(&quiet));

    // RUST_LOG decides when set.
    let filtered = env
        .plaint(&["--log-format", "json", "rebuild"])
        .env("RUST_LOG", "plaint=info")
        .output()
        .unwrap();
    assert!(filtered.status.success(), "{}", stderr(&filtered));
    assert!(stderr(&filtered).contains("\"rebuild\""), "{}", stderr(&filtered));
}

/// One HTTP/1.1 exchange over a fresh connection; returns the status line and the body.
fn http(addr: &str, request: &str) -> (String, String) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_http_and_stops_on_sigterm_releasing_the_store() {
    let env = Env::new();
    env.init();
    let (mut child, lines, addr) = start_serve(&env, &["--no-auth"]);
    let (status, body) = http(
        &addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("ok"));
    let (status, body) = http(
        &addr,
        &format!(
            "POST /v1/commands HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{RECEIVE}",
            RECEIVE.len()
        ),
    );
    assert!(status.contains("201"), "{status} {body}");

    // The store is locked by the server while it runs.
    let locked = env.plaint(&["submit", RECEIVE]).output().unwrap();
    assert!(!locked.status.success());

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    // Lock released; the command is durable.
    assert_eq!(env.stats()["head_position"], 1);
}

/// Issue 15: while a server holds the file log, `plaint token create|list|revoke --server URL`
/// with an admin token manages tokens through it; the token works with the next request, its
/// revocation bites at once, and both are events in the log, issued by the admin token's name.
#[test]
fn tokens_are_created_and_revoked_through_a_running_server() {
    let env = Env::new();
    env.init();
    let made = env
        .plaint(&["token", "create", "--role", "admin", "--name", "ops", "--json"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let admin: serde_json::Value = serde_json::from_str(&stdout(&made)).unwrap();
    let admin = admin["token"].as_str().unwrap().to_owned();

    let (mut child, lines, addr) = start_serve(&env, &[]);
    let server = format!("http://{addr}");
    let token = |args: &[&str], admin: Option<&str>| {
        let mut cmd = env.plaint(&[&["token"], args, &["--server", &server]].concat());
        cmd.env_remove("PLAINT_ADMIN_TOKEN").env_remove("PLAINT_SERVER");
        if let Some(a) = admin {
            cmd.env("PLAINT_ADMIN_TOKEN", a);
        }
        cmd.output().unwrap()
    };
    let post = |bearer: &str| {
        http(
            &addr,
            &format!(
                "POST /v1/commands HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{RECEIVE}",
                RECEIVE.len()
            ),
        )
    };

    // The store is locked: without --server, token create cannot append.
    let locked = env
        .plaint(&["token", "create", "--role", "intake"])
        .env_remove("PLAINT_SERVER")
        .output()
        .unwrap();
    assert_eq!(locked.status.code(), Some(1), "{}", stderr(&locked));

    // Through the server with the admin token: created, shown once, usable at once.
    let out = token(
        &["create", "--role", "intake", "--name", "hotline-desk", "--json"],
        Some(&admin),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let desk = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["record"]["role"], "intake", "{created}");
    assert_eq!(created["record"]["issued_by"], "ops", "{created}");
    let (status, body) = post(&desk);
    assert!(status.contains("201"), "{status} {body}");
    // The admin token itself sends no command.
    let (status, body) = post(&admin);
    assert!(status.contains("403"), "{status} {body}");

    // Without an admin token, or with a token of another role: exit 1, saying why.
    let out = token(&["create", "--role", "intake"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("admin token"), "{}", stderr(&out));
    let out = token(&["create", "--role", "intake"], Some(&desk));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    // A refusal of the domain names what is wrong: the name is taken by a live token.
    let out = token(&["create", "--role", "handler", "--name", "hotline-desk"], Some(&admin));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("hotline-desk"), "{}", stderr(&out));

    let out = token(&["list"], Some(&admin));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("hotline-desk") && stdout(&out).contains("ops"),
        "{}",
        stdout(&out)
    );
    let out = token(&["revoke", "hotline-desk", "--reason", "desk replaced"], Some(&admin));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (status, body) = post(&desk);
    assert!(status.contains("401"), "{status} {body}");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{rest:?}");
    // Events in the log, verified with it.
    let list = env.plaint(&["token", "list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    let desk_record = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "hotline-desk")
        .unwrap()
        .clone();
    assert!(!desk_record["revoked_at"].is_null(), "{list}");
    assert_eq!(desk_record["issued_by"], "ops");
    env.plaint(&["verify"]).assert().success();
}

/// Rate limits on the command line (docs/serve.md "Rate limits"): a token's own limit is
/// recorded with it; a malformed limit or an unknown role exits 1 naming the flag and records
/// nothing.
#[test]
fn rate_limits_are_given_on_the_command_line_and_bad_ones_exit_1() {
    let env = Env::new();
    env.init();
    let create = |limit: &str| {
        env.plaint(&[
            "token",
            "create",
            "--role",
            "intake",
            "--name",
            "wechat",
            "--rate-limit",
            limit,
            "--json",
        ])
        .output()
        .unwrap()
    };
    let bad = create("fast");
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("--rate-limit") && stderr(&bad).contains("\"fast\""),
        "{}",
        stderr(&bad)
    );
    let made = create("2/4");
    assert!(made.status.success(), "{}", stderr(&made));
    let made: serde_json::Value = serde_json::from_str(&stdout(&made)).unwrap();
    assert_eq!(
        made["record"]["rate_limit"],
        serde_json::json!({"per_second": 2, "burst": 4}),
        "{made}"
    );
    let list = env.plaint(&["token", "list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert_eq!(
        list["tokens"].as_array().unwrap().len(),
        1,
        "the refused one recorded nothing: {list}"
    );
    // The text list shows the token's own limit (in the flag's syntax) and its issue instant
    // in the office's time zone.
    let text = env.plaint(&["token", "list"]).output().unwrap();
    assert!(text.status.success(), "{}", stderr(&text));
    let row = stdout(&text).lines().find(|l| l.contains("wechat")).map(str::to_owned);
    let row = row.unwrap_or_else(|| panic!("no row for wechat: {}", stdout(&text)));
    assert!(row.contains("2/4") && row.contains("+08:00"), "{row}");

    for (flag, named) in [
        ("clerk=5", "clerk"),
        ("intake", "ROLE=RATE"),
        ("intake=5/0", "burst of 0"),
    ] {
        let out = env
            .plaint(&["serve", "--listen", "127.0.0.1:0", "--token-rate-limit", flag])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--token-rate-limit") && stderr(&out).contains(named),
            "{flag}: {}",
            stderr(&out)
        );
    }
}

/// The server under test, killed if the test fails before it stops it (a leaked server would
/// keep the test's output pipe open and hang `cargo test`).
struct KillOnDrop(std::process::Child);

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `plaint serve` on the env's store on a free loopback port (`extra` arguments after
/// `serve`): the child, the rest of its stderr, and the address it printed.
fn start_serve(
    env: &Env,
    extra: &[&str],
) -> (KillOnDrop, std::io::Lines<BufReader<std::process::ChildStderr>>, String) {
    let mut child = KillOnDrop(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("plaint"))
            .arg("--store")
            .arg(env.store())
            .arg("serve")
            .args(extra)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("PLAINT_STORE")
            .env_remove("PLAINT_DATABASE_URL")
            .env_remove("RUST_LOG")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve prints where it listens").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    (child, lines, addr)
}

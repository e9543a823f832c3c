//! Issue 14: database and environment errors are the operator's to fix, not internal errors:
//! exit 1 with a one-line hint, against the real local PostgreSQL (a refused port, a database
//! that does not exist, a wrong password).

mod common;
use common::*;

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    let base = base.to_owned();
    match url.rsplit_once('?') {
        Some((_, query)) if query.contains('=') && !query.contains('/') => format!("{base}/{name}?{query}"),
        _ => format!("{base}/{name}"),
    }
}

/// `url` with its password replaced.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').expect("a URL with a user");
    let user = userinfo.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

fn assert_environment_error(url: &str, expect_in_error: &str, expect_in_hint: &str) {
    let env = Env::new();
    let out = env.plaint(&["--pg", url, "init"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "exit 1, not internal: {err}");
    assert!(!err.contains("internal error"), "{err}");
    assert!(err.contains(expect_in_error), "{err}");
    let hint = err
        .lines()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("a hint: {err}"));
    assert!(hint.contains(expect_in_hint), "{hint}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("hint: ")).count(),
        1,
        "one hint line: {err}"
    );
    // The password never shows.
    assert!(!err.contains("wrong-password-123"), "{err}");
}

#[test]
fn a_refused_connection_is_exit_1_with_a_hint() {
    // Port 1 on the loopback: nothing listens there; no database needed for this one.
    assert_environment_error(
        "postgres://plaint:plaint@127.0.0.1:1/plaint_test",
        "connecting to PostgreSQL",
        "no PostgreSQL server answers there",
    );
}

#[test]
fn an_unknown_database_is_exit_1_with_a_hint() {
    let Some(url) = database_url() else { return };
    assert_environment_error(
        &with_database(&url, "plaint_no_such_db_4711"),
        "plaint_no_such_db_4711",
        "create the database",
    );
}

#[test]
fn a_wrong_password_is_exit_1_with_a_hint() {
    let Some(url) = database_url() else { return };
    let url = with_password(&url, "wrong-password-123");
    let env = Env::new();
    let out = env.plaint(&["--pg", &url, "init"]).output().unwrap();
    let err = stderr(&out);
    // A server that trusts local connections lets any password in; then there is nothing to see.
    if out.status.success() {
        println!("skipped: the local server does not check passwords (trust authentication)");
        return;
    }
    assert_environment_error(&url, "password", "check the user name and password");
    assert!(err.contains("28P01") || err.contains("28000"), "{err}");
}

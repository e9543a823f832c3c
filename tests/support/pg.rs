//! The facade tests' PostgreSQL: `PLAINT_TEST_DATABASE_URL` (see README). Included with
//! `#[path = "support/pg.rs"] mod pg_support;` by each test file that needs it.

/// The test database's URL; `None` (the test prints one line and returns) without one, unless
/// `CI=true`, where a PostgreSQL test that cannot run is a failure.
pub fn database_url() -> Option<String> {
    match std::env::var("PLAINT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PLAINT_TEST_DATABASE_URL must be set under CI=true"
            );
            println!("skipped: set PLAINT_TEST_DATABASE_URL (see README) to run PostgreSQL tests");
            None
        }
    }
}

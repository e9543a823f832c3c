//! Exit codes and error text: the CLI's contract (docs/cli.md).
//!
//! Every failure leaves `main` as an [`anyhow::Error`]. Its exit code is decided here, from what
//! the chain holds: a [`UserError`] (bad input, a rejected command, damage found by `verify`) exits
//! 1, a closed stdout exits 0 silently, anything else is internal and exits 2.

use std::fmt;

/// Exit codes: a contract with scripts (docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// A rejected command, bad input, damage found by `verify`, or an environment that refused
    /// the store (database unreachable, unknown, bad password, permission denied).
    Rejected = 1,
    /// An internal error: a bug, or an I/O failure that is not the environment's refusal.
    Internal = 2,
}

/// An error the user can act on: a short phrase naming the thing, then an optional hint.
#[derive(Debug)]
pub struct UserError {
    pub what: String,
    pub hint: Option<String>,
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for UserError {}

/// A user error (exit 1) without a hint.
pub fn user(what: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError {
        what: what.into(),
        hint: None,
    })
}

/// A user error (exit 1) with a hint.
pub fn user_hint(what: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError {
        what: what.into(),
        hint: Some(hint.into()),
    })
}

/// An internal error (exit 2) with a hint.
#[derive(Debug)]
pub struct InternalError {
    pub what: String,
    pub hint: Option<String>,
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for InternalError {}

/// An internal error (exit 2) with a hint.
pub fn internal_hint(what: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InternalError {
        what: what.into(),
        hint: Some(hint.into()),
    })
}

/// Whether the chain holds a broken pipe: the reader of stdout went away (`| head -1`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints the error on stderr as `error: …`, its causes, then `hint: …`; returns the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::Ok;
    }
    let mut code = ExitCode::Internal;
    let mut hint = None;
    for cause in err.chain() {
        if let Some(u) = cause.downcast_ref::<UserError>() {
            code = ExitCode::Rejected;
            hint = hint.or(u.hint.clone());
        } else if let Some(i) = cause.downcast_ref::<InternalError>() {
            hint = hint.or(i.hint.clone());
        } else if let Some(e) = cause.downcast_ref::<plaint::EngineError>() {
            let (kind_code, kind_hint) = engine_error_class(e);
            if code == ExitCode::Internal {
                code = kind_code;
            }
            hint = hint.or(kind_hint);
        }
    }
    let mut text = format!("error: {err}");
    for cause in err.chain().skip(1) {
        // Error types often repeat their source in their own text; say each thing once.
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
    }
    if let Some(hint) = hint {
        text.push_str(&format!("\nhint: {hint}"));
    } else if code == ExitCode::Internal {
        text.push_str("\nhint: this is an internal error; rerun with the same arguments, and report it if it persists");
    }
    // stderr may be closed too; nothing more can be said then.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{text}\n").as_bytes());
    code
}

/// What to do about an environment the store could not be used in (exit 1).
fn environment_hint(kind: Option<plaint::EnvironmentKind>) -> &'static str {
    use plaint::EnvironmentKind;
    match kind {
        Some(EnvironmentKind::Unreachable) => {
            "no PostgreSQL server answers there: start it, or fix the host and port in --pg (PLAINT_DATABASE_URL)"
        }
        Some(EnvironmentKind::UnknownDatabase) => {
            "create the database (createdb NAME, or CREATE DATABASE), or fix its name in --pg (PLAINT_DATABASE_URL)"
        }
        Some(EnvironmentKind::Authentication) => {
            "check the user name and password in --pg (PLAINT_DATABASE_URL) and the server's pg_hba.conf"
        }
        Some(EnvironmentKind::PermissionDenied) => {
            "a permission is missing: give this user write access to the --store directory, or grant the database role \
             the privilege named above (it needs to create and use the --pg-schema)"
        }
        _ => "the environment refused the store; fix the setting named above",
    }
}

/// Exit code and hint for an error of the facade, by its kind.
fn engine_error_class(e: &plaint::EngineError) -> (ExitCode, Option<String>) {
    use plaint::{EngineError, ErrorKind};
    match (e.kind(), e) {
        (_, EngineError::UnknownComplaint { .. }) => (
            ExitCode::Rejected,
            Some("ids are case-sensitive; `plaint export` lists every event".into()),
        ),
        (ErrorKind::Rejected, _) => (
            ExitCode::Rejected,
            Some("nothing was written; `plaint history <complaint>` shows what happened so far".into()),
        ),
        // Another process holds the store: the environment refuses it, nothing is wrong inside.
        (_, e) if e.is_locked() => (
            ExitCode::Rejected,
            Some(
                "another plaint process is writing to this store; wait for it to finish (reads work beside it)".into(),
            ),
        ),
        (ErrorKind::BadInput, _) => (ExitCode::Rejected, None),
        (ErrorKind::Environment, e) => (ExitCode::Rejected, Some(environment_hint(e.environment()).into())),
        (ErrorKind::Damaged, _) => (
            ExitCode::Rejected,
            Some("the log or a checkpoint is damaged; run `plaint verify` to find the first damaged position".into()),
        ),
        _ => (ExitCode::Internal, None),
    }
}

//! The facade's error type: one enum, with a [`ErrorKind`] the CLI maps to exit codes.

use plaint_domain::state::Rejection;
use plaint_domain::ComplaintId;
use plaint_projections::runner::RunnerError;
use plaint_projections::DecodeError;
use plaint_store::{EnvironmentKind, StoreError};
use std::path::PathBuf;

/// What kind of failure an [`EngineError`] is, for callers that act on the difference (the CLI
/// maps `Rejected` and `BadInput` to exit code 1, `Damaged` to 1 for `verify`, `Internal` to 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The domain refused the command (illegal transition, invalid field), or the key it sealed
    /// personal fields under was erased before it could commit ([`EngineError::erased_key`]);
    /// nothing was written.
    Rejected,
    /// The caller asked for something that cannot be done (unknown complaint, bad option).
    BadInput,
    /// The log or a checkpoint is damaged: a checksum, position or hash-chain failure.
    Damaged,
    /// Anything else: I/O, database, a bug. Retrying may help; reporting it should.
    Internal,
    /// The environment refused: the database server is unreachable, the database does not
    /// exist, the password is wrong, a privilege or a directory permission is missing
    /// ([`EngineError::environment`] says which). The operator fixes a setting.
    Environment,
}

/// Errors of the [`crate::Engine`]. Each names what it is about.
///
/// ```
/// use plaint::{EngineError, ErrorKind};
/// let e = EngineError::BadInput { what: "week".into(), reason: "\"2026-W99\" does not exist".into() };
/// assert_eq!(e.kind(), ErrorKind::BadInput);
/// assert!(!e.is_rejection());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The domain refused the command; nothing was written.
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// No complaint with this id exists in the log.
    #[error("complaint {complaint} does not exist")]
    UnknownComplaint {
        /// The id asked for.
        complaint: ComplaintId,
    },
    /// Bad input from the caller, naming the thing and why.
    #[error("invalid {what}: {reason}")]
    BadInput {
        /// What was wrong (a field, an option, a period).
        what: String,
        /// Why.
        reason: String,
    },
    /// Another writer kept changing the complaint; the command was retried and gave up.
    #[error("complaint {complaint}: concurrency conflict persisted after {attempts} attempts")]
    Contended {
        /// The complaint (stream) in contention.
        complaint: ComplaintId,
        /// Attempts made.
        attempts: u32,
    },
    /// The event store failed (I/O, database, damage, limits).
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    /// A committed event did not decode as a domain event.
    #[error("decoding the log: {0}")]
    Decode(#[from] DecodeError),
    /// Running the projections failed (checkpoints, gaps, reads).
    #[error("projections: {0}")]
    Projection(#[from] RunnerError),
    /// Sealed personal fields did not open with the customer's key (damaged key or ciphertext).
    #[error("personal fields sealed under key {key_id:?} do not open: {reason}")]
    PersonalData {
        /// The key the fields were sealed under.
        key_id: String,
        /// What failed.
        reason: String,
    },
    /// A projection checkpoint reflects events the log does not hold: the log lost events
    /// (`plaint repair --accept-loss` accepts the loss and drops the checkpoint).
    #[error(
        "projection checkpoint {path} reflects the log up to position {position}, but the log ends at \
         position {head}: the log lost events after the projections saw them"
    )]
    CheckpointAhead {
        /// The checkpoint file.
        path: PathBuf,
        /// The position it reflects.
        position: u64,
        /// The log's head.
        head: u64,
    },
    /// The log does not reach the head an auditor recorded (`verify --expect-head`).
    #[error("the log does not match the expected head {expected}: {detail}")]
    HeadMismatch {
        /// The head that was expected.
        expected: plaint_store::chain::HeadMark,
        /// What differs.
        detail: String,
        /// The positions the log lacks when it ends before the expected head (acknowledged
        /// events lost), first and last; `None` when the history up to there differs.
        missing: Option<(u64, u64)>,
    },
    /// A fold of the repeat projection panicked (a bug) and may have left an event half
    /// applied: this engine refuses every judgement of the repeat rule from then on (issue 15,
    /// wave 13's review) and saves no checkpoint; reopening it starts again from the last
    /// checkpoint and the log.
    #[error("the repeat projection stopped: a fold of it panicked; reopen the engine")]
    RepeatsHalted,
    /// A local file or directory (store directory, export target) failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// The kind of failure (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Rejected(_) => ErrorKind::Rejected,
            _ if self.erased_key().is_some() => ErrorKind::Rejected,
            EngineError::UnknownComplaint { .. } | EngineError::BadInput { .. } => ErrorKind::BadInput,
            EngineError::Store(
                StoreError::Corrupt { .. } | StoreError::Lost { .. } | StoreError::ChainBroken { .. },
            )
            | EngineError::Projection(RunnerError::Store(
                StoreError::Corrupt { .. } | StoreError::Lost { .. } | StoreError::ChainBroken { .. },
            ))
            | EngineError::Projection(RunnerError::Gap { .. })
            | EngineError::Decode(_)
            | EngineError::PersonalData { .. }
            | EngineError::CheckpointAhead { .. }
            | EngineError::HeadMismatch { .. }
            | EngineError::Projection(RunnerError::Decode(_)) => ErrorKind::Damaged,
            EngineError::Store(StoreError::Limit { .. } | StoreError::InvalidAppend { .. }) => ErrorKind::BadInput,
            _ if self.environment().is_some() => ErrorKind::Environment,
            _ => ErrorKind::Internal,
        }
    }

    /// What about the environment refused, when it did: a database that is unreachable,
    /// unknown, refuses the login or a privilege, or a store directory without permission.
    pub fn environment(&self) -> Option<EnvironmentKind> {
        fn io(e: &std::io::Error) -> Option<EnvironmentKind> {
            matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            )
            .then_some(EnvironmentKind::PermissionDenied)
        }
        fn store(e: &StoreError) -> Option<EnvironmentKind> {
            match e {
                StoreError::Environment { kind, .. } => Some(*kind),
                StoreError::Io { source, .. } => io(source),
                _ => None,
            }
        }
        match self {
            EngineError::Store(e) | EngineError::Projection(RunnerError::Store(e)) => store(e),
            EngineError::Io { source, .. } => io(source),
            _ => None,
        }
    }

    /// Whether the domain refused the command (exit code 1 in the CLI).
    pub fn is_rejection(&self) -> bool {
        matches!(self, EngineError::Rejected(_))
    }

    /// The customer key the command sealed personal fields under, when an erasure destroyed it
    /// before the command's append could commit (another process's erasure on PostgreSQL):
    /// nothing was written; sent again, the command seals under a new key. A rejection, not
    /// damage: the data would have been unreadable from the start.
    pub fn erased_key(&self) -> Option<&str> {
        match self {
            EngineError::Store(StoreError::KeyErased { key_id }) => Some(key_id),
            _ => None,
        }
    }

    /// The error [`EngineError::erased_key`] names `key_id` in (what a command gets when its key
    /// was erased before its append could commit); for adapters that map it, and their tests.
    pub fn key_erased(key_id: impl Into<String>) -> EngineError {
        EngineError::Store(StoreError::KeyErased { key_id: key_id.into() })
    }

    /// Whether another process holds the file log's writer lock (a read can open the log
    /// read-only beside it instead).
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            EngineError::Store(StoreError::Locked { .. })
                | EngineError::Projection(RunnerError::Store(StoreError::Locked { .. }))
        )
    }

    /// Whether the damage is a loss of acknowledged events: the log stops short of its head
    /// anchor or of an expected head, or a projection checkpoint is ahead of the log
    /// (docs/log-format.md, "What is detectable").
    pub fn is_lost_tail(&self) -> bool {
        match self {
            EngineError::CheckpointAhead { .. } => true,
            EngineError::HeadMismatch { missing, .. } => missing.is_some(),
            EngineError::Store(StoreError::Lost { .. })
            | EngineError::Projection(RunnerError::Store(StoreError::Lost { .. })) => true,
            _ => false,
        }
    }

    /// The domain's rejection, if this is one.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            EngineError::Rejected(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn bad_input(what: impl Into<String>, reason: impl Into<String>) -> Self {
        EngineError::BadInput {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_permission_is_the_environment() {
        let denied = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = EngineError::Io {
            path: "/srv/plaint".into(),
            source: denied(),
        };
        assert_eq!(e.kind(), ErrorKind::Environment);
        assert_eq!(e.environment(), Some(EnvironmentKind::PermissionDenied));
        let e = EngineError::Store(StoreError::Io {
            path: "/srv/plaint/log".into(),
            source: denied(),
        });
        assert_eq!(e.kind(), ErrorKind::Environment);
        let other = EngineError::Io {
            path: "/srv/plaint".into(),
            source: std::io::Error::other("disk on fire"),
        };
        assert_eq!(other.kind(), ErrorKind::Internal);
        let db = EngineError::Store(StoreError::Environment {
            kind: EnvironmentKind::UnknownDatabase,
            detail: "database \"x\" does not exist".into(),
        });
        assert_eq!(db.kind(), ErrorKind::Environment);
        assert_eq!(db.environment(), Some(EnvironmentKind::UnknownDatabase));
    }
}

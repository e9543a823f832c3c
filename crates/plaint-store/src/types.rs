//! The backend-independent contract: envelopes, the [`EventStore`] trait, errors, limits.

use crate::chain::ChainHash;
use async_trait::async_trait;
use std::fmt;

/// Longest stream name, in bytes.
pub const STREAM_NAME_LEN_MAX: usize = 64;
/// Longest event type name, in bytes.
pub const EVENT_TYPE_LEN_MAX: usize = 64;
/// Longest actor, in bytes.
pub const ACTOR_LEN_MAX: usize = 64;
/// Longest command id, in bytes.
pub const COMMAND_ID_LEN_MAX: usize = 128;
/// Largest payload of one event, in bytes.
pub const EVENT_PAYLOAD_SIZE_MAX: usize = 64 * 1024;
/// Most events in one append call (one stream) or one `append_many` call (all requests).
pub const APPEND_EVENTS_MAX: usize = 10_000;
/// Most events returned by one read call.
pub const READ_BATCH_MAX: usize = 100_000;

/// An event to append: metadata and opaque payload bytes. The store assigns the stream version
/// and the global position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Stable event type name (e.g. `Received`).
    pub event_type: String,
    /// Schema version of the payload's type.
    pub schema_version: u16,
    /// Business time, milliseconds since the Unix epoch, UTC.
    pub occurred_at_ms: i64,
    /// Recording time, milliseconds since the Unix epoch, UTC.
    pub recorded_at_ms: i64,
    pub actor: String,
    /// The command that caused the event. All events of one append share one command id; a
    /// retried append with a command id the stream already holds returns the original positions
    /// and writes nothing.
    pub command_id: String,
    pub payload: Vec<u8>,
}

/// A committed event, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position: gapless, starting at 1, in commit order.
    pub position: u64,
    pub stream: String,
    /// Version within the stream: gapless, starting at 1.
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at_ms: i64,
    pub recorded_at_ms: i64,
    pub actor: String,
    pub command_id: String,
    pub payload: Vec<u8>,
}

/// Optimistic concurrency expectation for an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version is.
    Any,
    /// The stream's current version must be exactly this; `Exact(0)` means "the stream does
    /// not exist yet".
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// One stream's part of an `append_many`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// What an append committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Position of the first event of this append.
    pub first_position: u64,
    /// Position of the last event of this append.
    pub last_position: u64,
    /// The stream's version after the append.
    pub stream_version: u64,
    /// `true` when the command id was already committed: nothing was written, and the
    /// positions are those of the original append.
    pub deduplicated: bool,
}

/// What `verify` found on a sound log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Last committed position (0 on an empty log).
    pub head_position: u64,
    /// Streams seen.
    pub streams: u64,
    /// The chain value after the last event.
    pub chain_head: ChainHash,
    /// Bytes of storage checked (file log: segment bytes; PostgreSQL: payload bytes).
    pub bytes: u64,
}

/// Errors of every store operation. Each names what it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("concurrency conflict on stream {stream:?}: expected version {expected}, actual {actual}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// [`EventStore::append_at_head`] refused: an event was committed after position `expected`
    /// before the append could commit (the log's head was `actual` when it was checked).
    /// Nothing was written.
    #[error("the log's head moved: the append was decided at position {expected}, the head is {actual}")]
    HeadMoved { expected: u64, actual: u64 },
    #[error("{what} is {actual}, over the limit of {max}")]
    Limit { what: String, actual: u64, max: u64 },
    #[error("invalid append to stream {stream:?}: {reason}")]
    InvalidAppend { stream: String, reason: String },
    /// The append seals personal data under a customer key that an erasure destroyed (or
    /// would make again a key id that was erased): on PostgreSQL the erasure committed between
    /// the command's choice of its key and its append (another process erased the customer).
    /// Nothing was written; the command, decided again, seals under a new key.
    #[error("key {key_id:?} was erased: nothing sealed under it is written; send the command again (it seals under a new key)")]
    KeyErased { key_id: String },
    #[error("log is damaged: {file}, byte offset {offset}: {detail}")]
    Corrupt { file: String, offset: u64, detail: String },
    /// Acknowledged events are gone: the log ends before the head its anchor (`file`) records
    /// as durable, or the anchor that would prove it was deleted (docs/log-format.md, "What is
    /// detectable"). Damage like [`StoreError::Corrupt`], told apart because the remedy differs:
    /// restore from a backup, or accept the loss (`plaint repair --accept-loss`).
    #[error("log is damaged, acknowledged events lost: {file}: {detail}")]
    Lost { file: String, detail: String },
    #[error("hash chain broken at position {position}: {detail}")]
    ChainBroken { position: u64, detail: String },
    /// Another process holds the file log's writer lock; `holder` is what it recorded of
    /// itself in the lock file (pid and command line).
    #[error("log at {path} is locked by another writer: {holder} (lock file {lock})")]
    Locked { path: String, lock: String, holder: String },
    #[error("log at {path} is open read-only")]
    ReadOnly { path: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the store is closed")]
    Closed,
    #[error("database error: {0}")]
    Database(String),
    #[error("subscriber fell behind by more than {max} events and was dropped")]
    SubscriberLagged { max: u64 },
    /// The environment refused the store: the server is unreachable, the database does not
    /// exist, the password is wrong, a privilege is missing. Not damage and not a bug: the
    /// operator fixes the setting (the CLI exits 1 with a hint, docs/cli.md).
    #[error("{detail}")]
    Environment { kind: EnvironmentKind, detail: String },
}

/// What about the environment refused a store ([`StoreError::Environment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// No server answers at the address (connection refused, unknown host, no route).
    Unreachable,
    /// The server answers, but the database named does not exist.
    UnknownDatabase,
    /// The server refused the user name or password.
    Authentication,
    /// The user (database role, or the operating-system user on a directory) lacks a
    /// permission.
    PermissionDenied,
}

/// A live feed of committed events in global order: first every event from the requested
/// position up to the head at subscription time (catch-up), then new events as they commit
/// (live), with no gap and no duplicate at the hand-over.
pub struct Subscription {
    rx: tokio::sync::mpsc::Receiver<Result<RecordedEvent, StoreError>>,
}

impl Subscription {
    /// Wraps the receiving end a backend feeds. The channel is bounded by the backend.
    pub fn new(rx: tokio::sync::mpsc::Receiver<Result<RecordedEvent, StoreError>>) -> Self {
        Subscription { rx }
    }
    /// The next event; `None` when the store closed.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        self.rx.recv().await
    }
    /// Polls for the next event (what [`Subscription::next`] awaits): for `Stream` adapters.
    pub fn poll_next_event(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<RecordedEvent, StoreError>>> {
        self.rx.poll_recv(cx)
    }
}

/// The contract every backend implements (file log, PostgreSQL).
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends `events` to `stream` atomically, all or nothing, after checking `expected`.
    /// Acknowledged only once durable (per the backend's documented durability mode).
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError>;

    /// Appends like [`EventStore::append`], provided no other process has committed an event
    /// after position `head` (a log head the caller saw, e.g. the one its decision was made
    /// on); otherwise refused with [`StoreError::HeadMoved`], writing nothing. A command id the
    /// stream already holds is answered `deduplicated` first, as by `append` (a retry after a
    /// lost connection is never refused for the head its own first attempt moved).
    ///
    /// The default is `append`, checking nothing ([`HeadCheck::None`]): a caller may rely on
    /// the refusal only when [`EventStore::head_check`] answers [`HeadCheck::AtAppend`].
    /// PostgreSQL, which several processes write, checks under its head lock, and strictly: it
    /// refuses whenever the transaction does not start at `head`, whoever wrote.
    async fn append_at_head(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        head: u64,
    ) -> Result<AppendResult, StoreError> {
        let _ = head; // not checked: `head_check` answers `HeadCheck::None`
        self.append(stream, expected, events).await
    }

    /// Appends several streams' events in one atomic, durable commit (bulk import). Either every
    /// request commits or none does; results are in request order.
    async fn append_many(&self, requests: Vec<AppendRequest>) -> Result<Vec<AppendResult>, StoreError>;

    /// Events of one stream with `stream_version >= from_version`, at most `max`.
    async fn read_stream(&self, stream: &str, from_version: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events in global order with `position >= from_position`, at most `max`.
    async fn read_all(&self, from_position: u64, max: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Catch up from `from_position`, then follow live.
    async fn subscribe(&self, from_position: u64) -> Result<Subscription, StoreError>;

    /// The last committed global position; 0 on an empty log.
    async fn head_position(&self) -> Result<u64, StoreError>;

    /// The current version of `stream`; 0 when it does not exist.
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError>;

    /// Re-reads everything: checksums, position and version continuity, the hash chain.
    async fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// Whether a [`EventStore::read_all`] of at most [`crate::READ_BATCH_MAX`] events that
    /// answers fewer than it asked for has reached the log's end (as of that read), so a reader
    /// catching up needs no [`EventStore::head_position`] first. `false` unless the backend
    /// promises it (the file log's read may stop early at a segment's end).
    fn short_read_is_end(&self) -> bool {
        false
    }

    /// Whether [`EventStore::append_at_head`] refuses an append at a stale head
    /// ([`HeadCheck::AtAppend`]), so a caller may decide on the log as of `head` without reading
    /// further. [`HeadCheck::None`] unless the backend overrides `append_at_head` to check (a
    /// wrapper must forward both or neither).
    fn head_check(&self) -> HeadCheck {
        HeadCheck::None
    }
}

/// What [`EventStore::append_at_head`] checks of its `head` ([`EventStore::head_check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadCheck {
    /// Nothing: `append_at_head` is a plain append.
    None,
    /// Refused with [`StoreError::HeadMoved`], writing nothing, when an event was committed
    /// after `head` (a command id the stream holds is still answered `deduplicated` first).
    AtAppend,
}

//! Who is calling, and what they may do (docs/serve.md "Roles and tokens").
//!
//! Every route takes a [`Principal`] (an axum extractor) and asks it for the [`Need`] of the
//! request before doing anything. The extractor reads `Authorization: Bearer <token>`, finds
//! the live token in the log's token table ([`plaint::access::TokenTable`], refreshed from the
//! log at most every [`TOKEN_REFRESH`] and whenever an unknown token arrives, so tokens created
//! or revoked by another process are seen), and answers 401 without a valid token. A token the
//! current read of the table has verified is not hashed again: each read keeps the tokens it
//! verified (their text, compared in constant time), and a new read starts with none, so a
//! revocation this server appends bites on the very next request, as before. `allow`
//! asks the domain's one table of rights ([`plaint::access::Role::permits`]) and answers 403.
//! Both refusals are logged (`tracing`, target `plaint_serve::auth`). A reveal of personal
//! data ([`Principal::reveal`]) is recorded in the log before anything is shown.
//!
//! [`AccessMode::Open`] turns all of this off (every request may do everything); it is for a
//! trusted loopback only and `plaint serve` asks for it explicitly (`--no-auth`).

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plaint::access::{Access, RevealRequest, Role, TokenTable};
use plaint::{Actor, CommandBody, ComplaintId, Engine, Reveal};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a server re-reads the log's token stream while every token it sees is known:
/// the longest a revocation made by another process takes to bite.
pub const TOKEN_REFRESH: Duration = Duration::from_secs(1);

/// The header carrying why a reveal is asked (`?reveal=true` needs it; recorded in the log).
pub const REVEAL_REASON_HEADER: &str = "x-plaint-reveal-reason";

/// Whether requests need a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessMode {
    /// Every request needs a live API token; its role decides what it may do.
    #[default]
    Tokens,
    /// No access control: every request may do everything (trusted loopback, tests).
    Open,
}

/// What a request needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Execute a command of this kind (`receive`, `escalate`, …: the import format's names).
    Command(&'static str),
    /// Read tickets, histories, the queue and the event stream (personal fields masked).
    Read,
    /// See personal fields in clear (`?reveal=true`).
    Reveal,
    /// Read reports, SLA figures and statistics.
    Report,
    /// Audit the log (`/v1/audit`, `/v1/verify`).
    Audit,
    /// Create, list and revoke API tokens (`/v1/tokens`).
    Tokens,
}

impl Need {
    fn access(self) -> Access<'static> {
        match self {
            Need::Command(kind) => Access::CommandKind(kind),
            Need::Read => Access::Read,
            Need::Reveal => Access::Reveal,
            Need::Report => Access::Report,
            Need::Audit => Access::Audit,
            Need::Tokens => Access::Tokens,
        }
    }

    fn describe(self) -> String {
        match self {
            Need::Command(kind) => format!("send {kind} commands"),
            Need::Read => "read tickets".to_owned(),
            Need::Reveal => "reveal personal data".to_owned(),
            Need::Report => "read reports".to_owned(),
            Need::Audit => "audit the log".to_owned(),
            Need::Tokens => "manage API tokens".to_owned(),
        }
    }
}

/// The server's view of the log's tokens.
pub struct AccessState {
    mode: AccessMode,
    /// The table as last read, swapped whole on a refresh: a request clones the `Arc` under
    /// the lock for an instant and authenticates without it.
    table: std::sync::RwLock<Arc<TableRead>>,
    /// One refresh at a time; the others wait for it and use what it read.
    refreshing: tokio::sync::Mutex<()>,
}

struct TableRead {
    table: TokenTable,
    /// When the read of the log began (it holds every token event appended before).
    read_at: Instant,
    /// The tokens this read of the table has verified, so a known token is not hashed again
    /// at every request. It belongs to this read: every read of the log (the revoke route's,
    /// the periodic one, one for an unknown token) starts with none, so a revoked token is
    /// refused by the first request after the read that saw its revocation, as without it.
    verified: VerifiedTokens,
}

impl TableRead {
    fn new(table: TokenTable, read_at: Instant) -> TableRead {
        TableRead {
            table,
            read_at,
            verified: VerifiedTokens::default(),
        }
    }

    /// The live token this text authenticates (`TokenTable::authenticate`, the one rule),
    /// from the tokens already verified when it is one of them.
    fn authenticate(&self, token: &str) -> Option<Arc<Verified>> {
        if let Some(v) = self.verified.get(token) {
            return Some(v);
        }
        let record = self.table.authenticate(token)?;
        Some(self.verified.insert(token, record))
    }
}

/// A token a table read has verified: its text and its record's caller.
struct Verified {
    /// The whole token, compared in constant time with the next request's.
    text: Box<str>,
    principal: Principal,
    role: Role,
    rate_limit: Option<plaint::access::RateLimit>,
}

/// The verified tokens of one table read, by token id: at most one entry per token of the
/// table (only a text that passed `TokenTable::authenticate` is kept), whatever callers send.
#[derive(Default)]
struct VerifiedTokens {
    by_id: std::sync::RwLock<std::collections::HashMap<Box<str>, Arc<Verified>>>,
}

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<Arc<Verified>> {
        let id = plaint::access::token_id_of(token)?;
        let by_id = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        let v = by_id.get(id)?;
        same_secret(&v.text, token).then(|| v.clone())
    }

    fn insert(&self, token: &str, record: &plaint::access::TokenRecord) -> Arc<Verified> {
        let v = Arc::new(Verified {
            text: token.into(),
            principal: principal_of(record),
            role: record.role,
            rate_limit: record.rate_limit,
        });
        let mut by_id = self.by_id.write().unwrap_or_else(|e| e.into_inner());
        by_id.insert(record.token_id.as_str().into(), v.clone());
        v
    }
}

/// Whether two token texts are the same, in time that depends on their lengths only (a
/// token's length is public: `plaint_` + 12 + `_` + 64 characters).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl AccessState {
    /// An empty table (read from the log on the first request).
    pub fn new(mode: AccessMode) -> AccessState {
        AccessState {
            mode,
            table: std::sync::RwLock::new(Arc::new(TableRead::new(
                TokenTable::default(),
                Instant::now() - 2 * TOKEN_REFRESH,
            ))),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The mode the server runs in.
    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    fn current(&self) -> Arc<TableRead> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the token events appended since the table was read, unless a read that began
    /// after `since` has done so meanwhile (concurrent requests share one read).
    async fn refresh(&self, engine: &Engine, since: Instant) -> Result<(), ApiError> {
        let _one = self.refreshing.lock().await;
        let current = self.current();
        if current.read_at > since {
            return Ok(());
        }
        let read_at = Instant::now();
        let mut copy = current.table.clone();
        engine.refresh_tokens(&mut copy).await?;
        let fresh = Arc::new(TableRead::new(copy, read_at));
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// Reads the token events appended since the table was read, now (after this server
    /// created or revoked a token: the next request sees the change).
    pub(crate) async fn refresh_now(&self, engine: &Engine) -> Result<(), ApiError> {
        self.refresh(engine, Instant::now()).await
    }

    /// The caller a bearer token names, refreshing the table when it is stale or the token
    /// unknown.
    async fn authenticate(&self, engine: &Engine, token: &str) -> Result<Option<Principal>, ApiError> {
        let (_, verified) = self.read_for(engine, token).await?;
        Ok(verified.map(|v| v.principal.clone()))
    }

    /// The caller a bearer token names, with one request taken from its rate-limit bucket
    /// (`crate::limits`): `None` for an unknown or revoked token (no bucket is made for it).
    pub(crate) async fn authenticate_limited(
        &self,
        engine: &Engine,
        token: &str,
        limiter: &crate::limits::TokenLimiter,
    ) -> Result<Option<(Principal, Result<(), crate::limits::Refused>)>, ApiError> {
        let (read, verified) = self.read_for(engine, token).await?;
        let Some(v) = verified else {
            return Ok(None);
        };
        let live = |id: &str| read.table.tokens().any(|t| t.token_id == id && t.revoked_at.is_none());
        let count = || read.table.tokens().filter(|t| t.revoked_at.is_none()).count();
        let taken = limiter.take(&v.principal.token_id, v.role, v.rate_limit, count, live);
        Ok(Some((v.principal.clone(), taken)))
    }

    /// The table to authenticate `token` against (refreshed when stale or the token unknown)
    /// and what it says of `token`.
    async fn read_for(
        &self,
        engine: &Engine,
        token: &str,
    ) -> Result<(Arc<TableRead>, Option<Arc<Verified>>), ApiError> {
        let mut read = self.current();
        if read.read_at.elapsed() >= TOKEN_REFRESH {
            // Any read begun since this one was taken is fresh enough.
            self.refresh(engine, read.read_at).await?;
            read = self.current();
        }
        let verified = read.authenticate(token);
        if verified.is_some() || plaint::access::token_id_of(token).is_none() {
            return Ok((read, verified));
        }
        // Perhaps created a moment ago: a read begun after this request arrived.
        self.refresh(engine, Instant::now()).await?;
        let read = self.current();
        let verified = read.authenticate(token);
        Ok((read, verified))
    }
}

fn principal_of(t: &plaint::access::TokenRecord) -> Principal {
    Principal {
        name: t.name.as_str().into(),
        token_id: t.token_id.as_str().into(),
        role: Some(t.role),
        reveal_reason: None,
    }
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who it is (the token's name; `open-access` without access control). Shared with the
    /// server's read of the token table: a request's caller is not copied per request.
    pub name: Arc<str>,
    /// The token's public id (empty without access control).
    pub token_id: Arc<str>,
    /// The token's role; `None` without access control (may do everything).
    pub role: Option<Role>,
    /// Why a reveal is asked (the [`REVEAL_REASON_HEADER`] header).
    pub reveal_reason: Option<String>,
}

impl Principal {
    /// The caller when the server runs without access control: may do everything.
    pub fn open_access() -> Principal {
        Principal {
            name: "open-access".into(),
            token_id: "".into(),
            role: None,
            reveal_reason: None,
        }
    }

    /// `Ok` when this caller may do what `need` names; a 403 problem document otherwise.
    pub fn allow(&self, need: Need) -> Result<(), ApiError> {
        self.check(need.access(), || need.describe())
    }

    /// `Ok` when this caller may send this command (judged on its kind and, for a response
    /// carrying compensation, on the right to compensate instead); 403 otherwise.
    pub fn allow_command(&self, body: &CommandBody) -> Result<(), ApiError> {
        let what = || match body {
            CommandBody::Respond(r) if r.compensation.is_some() => {
                "send respond commands carrying compensation".to_owned()
            }
            // docs/domain.md R-COMP-6: the approver level is bound to the token's role.
            CommandBody::ApproveCompensation(a) => format!("approve compensation as {}", a.role.as_str()),
            _ => format!("send {} commands", body.name()),
        };
        self.check(Access::Command(body), what)
    }

    /// `what` is asked only for a refusal (no description is formatted for an allowed request).
    fn check(&self, access: Access<'_>, what: impl FnOnce() -> String) -> Result<(), ApiError> {
        let Some(role) = self.role else { return Ok(()) };
        if role.permits(access) {
            return Ok(());
        }
        let what = what();
        tracing::warn!(target: "plaint_serve::auth", token = %self.token_id, name = %self.name, %role, denied = %what, "403 forbidden");
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            format!("token {:?} (role {role}) may not {what}", self.name),
        ))
    }

    /// The personal fields a read of `complaint` may show: masked unless `asked`; when asked,
    /// the caller needs the right to reveal and a reason ([`REVEAL_REASON_HEADER`]), and the
    /// reveal is recorded in the log (who, whose, when, why) before anything is shown.
    pub async fn reveal(
        &self,
        state: &AppState,
        complaint: &ComplaintId,
        asked: Option<bool>,
    ) -> Result<Reveal, ApiError> {
        if asked != Some(true) {
            return Ok(Reveal::Masked);
        }
        self.allow(Need::Reveal)?;
        let Some(role) = self.role else {
            return Ok(Reveal::Clear);
        };
        let reason = self.reveal_reason.clone().unwrap_or_default();
        if reason.trim().is_empty() {
            return Err(ApiError::bad_request(
                REVEAL_REASON_HEADER,
                "a reveal needs a reason (recorded in the log): send the header X-Plaint-Reveal-Reason",
            ));
        }
        let actor =
            Actor::person(&*self.name).map_err(|e| ApiError::internal(format!("token name {:?}: {e}", self.name)))?;
        let request = RevealRequest {
            actor,
            token_id: self.token_id.to_string(),
            role,
            reason,
        };
        let position = state.engine().record_reveal(complaint, &request).await?;
        tracing::info!(target: "plaint_serve::auth", token = %self.token_id, name = %self.name, %complaint, position, "personal data revealed");
        Ok(Reveal::Clear)
    }
}

/// A 401 answer: a problem document with `WWW-Authenticate: Bearer`.
fn unauthorized(detail: String) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"plaint\""),
    );
    r
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let reveal_reason = parts
            .headers
            .get(REVEAL_REASON_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let access = state.access();
        if access.mode() == AccessMode::Open {
            return Ok(Principal {
                reveal_reason,
                ..Principal::open_access()
            });
        }
        // Authenticated already by the rate-limit layer (ops.rs): no second lookup.
        if let Some(Authenticated(p)) = parts.extensions.remove::<Authenticated>() {
            return Ok(Principal { reveal_reason, ..p });
        }
        let path = parts.uri.path().to_owned();
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            tracing::warn!(target: "plaint_serve::auth", %path, "401 no Authorization header");
            return Err(unauthorized(
                "this request needs an API token: send `Authorization: Bearer <token>` (tokens come from `plaint token create`)".into(),
            ));
        };
        let Some(token) = bearer(value) else {
            tracing::warn!(target: "plaint_serve::auth", %path, "401 Authorization is not a bearer token");
            return Err(unauthorized("the Authorization header is not `Bearer <token>`".into()));
        };
        // The rate-limit layer found this token unknown after a fresh read: no second read.
        let found = if parts.extensions.get::<UnknownToken>().is_some() {
            Ok(None)
        } else {
            access.authenticate(state.engine(), token).await
        };
        match found {
            Ok(Some(p)) => Ok(Principal { reveal_reason, ..p }),
            Ok(None) => {
                let id = plaint::access::token_id_of(token).unwrap_or("(not a plaint token)");
                tracing::warn!(target: "plaint_serve::auth", %path, token = %id, "401 unknown or revoked token");
                Err(unauthorized(format!(
                    "token {id} is unknown or revoked (`plaint token list` shows the live ones)"
                )))
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub(crate) fn bearer(value: &HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// A request's caller as the rate-limit layer authenticated it (a request extension the
/// [`Principal`] extractor takes instead of authenticating again).
#[derive(Clone)]
pub(crate) struct Authenticated(pub(crate) Principal);

/// The rate-limit layer found a request's bearer token unknown or revoked (the extractor
/// answers 401 without reading the token table again).
#[derive(Clone, Copy)]
pub(crate) struct UnknownToken;

//! API tokens through a running server (docs/serve.md "Roles and tokens"): `GET /v1/tokens`,
//! `POST /v1/tokens`, `POST /v1/tokens/{token}/revoke`, for the `admin` role only.
//!
//! On the file log the server holds the writer lock, so `plaint token create` cannot append
//! while it runs; these routes append the same events (`TokenIssued`, `TokenRevoked` in the
//! stream `access-tokens`) through the server's engine (`Engine::create_token`,
//! `Engine::revoke_token`: the domain decides, the log records only the hash), and
//! `plaint token create --server URL` calls them ([`crate::client`]). The server's token
//! table is refreshed before the answer, so a new token works (and a revoked one stops) with
//! the very next request.

use crate::auth::{Need, Principal};
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use plaint::access::{Role, TokenRecord};
use plaint::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What `POST /v1/tokens` asks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// The new token's role: `intake`, `handler`, `supervisor`, `finance`, `analyst`,
    /// `auditor` or `admin`.
    pub role: String,
    /// Who or what uses it (the actor of its requests); default `<role>-<n>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its own request rate limit, `RATE` or `RATE/BURST` requests per second (`0`:
    /// unlimited); default the server's limit for its role (docs/serve.md "Rate limits").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
}

/// What `POST /v1/tokens/{token}/revoke` asks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeToken {
    /// Why (recorded in the log).
    pub reason: String,
}

/// One token as the log knows it (never its secret, nor its hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// The public id (12 hex digits; the part after `plaint_` of the token).
    pub token_id: String,
    /// Its name: the actor of its requests.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Who issued it.
    pub issued_by: String,
    /// When (RFC 3339, the office's offset).
    pub issued_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Its own rate limit (`RATE/BURST` per second, `0/0` unlimited), if it was created with
    /// one; else the server's default for its role applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> TokenView {
        TokenView {
            token_id: t.token_id.clone(),
            name: t.name.clone(),
            role: t.role.to_string(),
            issued_by: t.issued_by.to_string(),
            issued_at: t.issued_at.to_string(),
            revoked_at: t.revoked_at.map(|r| r.to_string()),
            rate_limit: t.rate_limit.map(|l| format!("{}/{}", l.per_second, l.burst)),
        }
    }
}

/// A token just created: `token` is shown in this answer only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The whole token (`plaint_<id>_<secret>`): give it to its user; it cannot be shown again.
    pub token: String,
    /// What the log records about it.
    pub record: TokenView,
    /// The log position of its `TokenIssued` event.
    pub position: u64,
}

/// Every token of the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// By id.
    pub tokens: Vec<TokenView>,
}

/// The body as JSON of `T`, or a problem naming what is wrong with it.
fn body<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = bytes.map_err(|e| crate::ops::body_problem(e, state.config().body_limit))?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                inner.to_string(),
            )
        } else {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-input",
                "Invalid input",
                format!("field `{field}`: {inner}"),
            )
            .with_field(field)
        }
    })
}

/// The actor recorded as the issuer or revoker: the admin token's name.
fn actor(principal: &Principal) -> Result<Actor, ApiError> {
    Actor::person(&*principal.name).map_err(|e| ApiError::internal(format!("token name {:?}: {e}", principal.name)))
}

/// Every token (id, name, role, issued, revoked; never a secret).
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList),
        (status = 401, body = crate::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn list(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    principal.allow(Need::Tokens)?;
    let table = state.engine().tokens().await?;
    let tokens = table.tokens().map(TokenView::from).collect();
    Ok(state.office().json(StatusCode::OK, &TokenList { tokens }))
}

/// Creates a token (recorded in the log as `TokenIssued`, only its hash) and answers it once.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens",
    request_body(content = CreateToken, content_type = "application/json"),
    responses((status = 201, body = CreatedToken),
        (status = 400, body = crate::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown role, a bad name, a live token of that name", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Tokens)?;
    let ask: CreateToken = body(&state, bytes)?;
    let role: Role = ask.role.parse().map_err(|e: plaint::access::UnknownRole| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "Invalid input",
            e.to_string(),
        )
        .with_field("role")
    })?;
    let rate_limit = match ask.rate_limit.as_deref() {
        Some(text) => Some(plaint::access::RateLimit::parse(text).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input", e)
                .with_field("rate_limit")
        })?),
        None => None,
    };
    let name = match ask.name {
        Some(name) => name,
        None => state.engine().tokens().await?.default_name(role),
    };
    let made = state
        .engine()
        .create_token_limited(&name, role, rate_limit, &actor(&principal)?)
        .await?;
    state.access().refresh_now(state.engine()).await?;
    tracing::info!(target: "plaint_serve::auth", by = %principal.name, token = %made.record.token_id, name = %made.record.name, role = %made.record.role, position = made.position, "token created");
    let answer = CreatedToken {
        token: made.token,
        record: TokenView::from(&made.record),
        position: made.position,
    };
    Ok(state.office().json(StatusCode::CREATED, &answer))
}

/// Revokes the live token with this id or name (recorded as `TokenRevoked`); from this answer
/// on it authenticates nothing on this server (other servers of one PostgreSQL database within
/// a second).
#[utoipa::path(post, path = "/v1/tokens/{token}/revoke", tag = "tokens",
    params(("token" = String, Path, description = "The token's id or name")),
    request_body(content = RevokeToken, content_type = "application/json"),
    responses((status = 200, body = TokenView),
        (status = 400, body = crate::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such live token, or no reason", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(token): Path<String>,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    principal.allow(Need::Tokens)?;
    let ask: RevokeToken = body(&state, bytes)?;
    let record = state
        .engine()
        .revoke_token(&token, &ask.reason, &actor(&principal)?)
        .await?;
    state.access().refresh_now(state.engine()).await?;
    tracing::info!(target: "plaint_serve::auth", by = %principal.name, token = %record.token_id, name = %record.name, "token revoked");
    Ok(state.office().json(StatusCode::OK, &TokenView::from(&record)))
}

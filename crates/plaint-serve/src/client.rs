//! The client side of the token routes (`tokens.rs`): what `plaint token create|list|revoke
//! --server URL` calls to manage the tokens of a store a running server holds. Plain HTTP or
//! HTTPS (the reverse proxy's address), with an `admin` token.

use crate::tokens::{CreateToken, CreatedToken, RevokeToken, TokenList, TokenView};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a call to a server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server's address is not an `http://` or `https://` URL.
    #[error("--server {url:?}: not an http:// or https:// address")]
    BadUrl {
        /// What was given.
        url: String,
    },
    /// The server could not be reached, or its answer not read.
    #[error("{method} {url}: {source}")]
    Unreachable {
        /// The method.
        method: &'static str,
        /// The address called.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server refused or failed: its problem document's type and detail.
    #[error("{method} {url}: {status} {kind}: {detail}")]
    Refused {
        /// The method.
        method: &'static str,
        /// The address called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The problem type (`/problems/forbidden`, …).
        kind: String,
        /// What the server said.
        detail: String,
    },
}

impl ClientError {
    /// The HTTP status of a refusal (`None`: the server was not reached).
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A running server, called with a bearer token.
#[derive(Debug, Clone)]
pub struct ServerClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl ServerClient {
    /// A client of the server at `base` (`http://127.0.0.1:8080`, `https://complaints.example.cn`)
    /// sending `token`.
    pub fn new(base: &str, token: &str) -> Result<ServerClient, ClientError> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl { url: base.to_owned() });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|source| ClientError::Unreachable {
                method: "CONNECT",
                url: base.to_owned(),
                source,
            })?;
        Ok(ServerClient {
            base: base.to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |source| ClientError::Unreachable {
            method,
            url: url.clone(),
            source,
        };
        let mut request = match method {
            "GET" => self.http.get(&url),
            _ => self.http.post(&url),
        }
        .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            let problem: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            return Err(ClientError::Refused {
                method,
                url,
                status: status.as_u16(),
                kind: problem["type"].as_str().unwrap_or("(no problem document)").to_owned(),
                detail: problem["detail"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| text.chars().take(300).collect()),
            });
        }
        serde_json::from_str(&text).map_err(|e| ClientError::Refused {
            method,
            url: url.clone(),
            status: status.as_u16(),
            kind: "unexpected-answer".to_owned(),
            detail: format!("the answer is not what a plaint server sends ({e})"),
        })
    }

    /// `POST /v1/tokens`: creates a token with `role` (and `name`, else `<role>-<n>`; its own
    /// `rate_limit` `RATE[/BURST]`, else the server's default for its role).
    pub async fn create_token(
        &self,
        role: &str,
        name: Option<&str>,
        rate_limit: Option<&str>,
    ) -> Result<CreatedToken, ClientError> {
        let ask = CreateToken {
            role: role.to_owned(),
            name: name.map(str::to_owned),
            rate_limit: rate_limit.map(str::to_owned),
        };
        self.call(
            "POST",
            "/v1/tokens",
            Some(serde_json::to_value(ask).expect("plain JSON")),
        )
        .await
    }

    /// `GET /v1/tokens`: every token (never a secret).
    pub async fn list_tokens(&self) -> Result<TokenList, ClientError> {
        self.call("GET", "/v1/tokens", None).await
    }

    /// `POST /v1/tokens/{token}/revoke`: revokes the live token with this id or name.
    pub async fn revoke_token(&self, token: &str, reason: &str) -> Result<TokenView, ClientError> {
        let ask = RevokeToken {
            reason: reason.to_owned(),
        };
        let path = format!("/v1/tokens/{}/revoke", percent_encode(token));
        self.call("POST", &path, Some(serde_json::to_value(ask).expect("plain JSON")))
            .await
    }
}

/// `s` as one path segment (token names are letters, digits and `. _ : - /`; `/` and others
/// are escaped).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

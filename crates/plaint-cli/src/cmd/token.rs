//! `plaint token create|list|revoke`: the API tokens of `plaint serve` (docs/serve.md "Roles
//! and tokens"). A token is printed once at creation; the log keeps only its BLAKE3 hash, in
//! the stream `access-tokens` (hash-chained and verified with the rest of the log). On the
//! file log a running server holds the writer lock: `--server URL` with an `admin` token
//! appends the same events through it (`POST /v1/tokens`); without `--server` the command
//! opens the store itself (the server stopped, or PostgreSQL, where running servers see the
//! change within a second).

use crate::context::Context;
use crate::error::{user, user_hint, ExitCode};
use crate::output::{envelope, Out};
use clap::{Args, Subcommand};
use plaint::access::Role;
use plaint::Actor;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
    /// Manage the tokens through the running `plaint serve` at this address (http:// or
    /// https://) instead of opening the store: the way while a server holds the file log. Needs
    /// an admin token (--admin-token); the log records the admin token's name as who did it.
    #[arg(long, value_name = "URL", global = true, env = "PLAINT_SERVER")]
    pub server: Option<String>,
    /// The `admin` token for --server (prefer the environment variable, which no process
    /// list shows).
    #[arg(
        long,
        value_name = "TOKEN",
        global = true,
        env = "PLAINT_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: it cannot be shown again).
    Create {
        /// Its role: intake, handler, supervisor, department_head, center_director, finance, analyst,
        /// auditor, or admin (manages tokens through a running server, `--server`).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Who or what uses it (the actor name of its requests); default `<role>-<n>`.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Its own request rate limit for `plaint serve`: RATE or RATE/BURST requests per second
        /// (0: unlimited), recorded with the token; default the server's limit for its role.
        #[arg(long, value_name = "RATE[/BURST]")]
        rate_limit: Option<String>,
        /// Who issues it (recorded in the log); default the login name ($USER).
        #[arg(long, value_name = "ACTOR", env = "USER", default_value = "admin")]
        by: String,
        /// Print JSON (`token` with the token and its record).
        #[arg(long)]
        json: bool,
    },
    /// List every token: id, name, role, issued, revoked (never the secret).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id or name: from then on it authenticates nothing.
    Revoke {
        /// The token's id (as `token list` shows it) or its name.
        token: String,
        /// Why (recorded in the log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who revokes it (recorded in the log); default the login name ($USER).
        #[arg(long, value_name = "ACTOR", env = "USER", default_value = "admin")]
        by: String,
    },
}

fn actor(by: &str) -> anyhow::Result<Actor> {
    Actor::person(by).map_err(|e| user(format!("token: --by {by:?}: {e}")))
}

pub async fn run(ctx: &Context, args: TokenArgs) -> anyhow::Result<ExitCode> {
    if let Some(server) = &args.server {
        return through_server(server, args.admin_token.as_deref(), args.command).await;
    }
    let mut out = Out::new();
    match args.command {
        TokenCommand::Create {
            role,
            name,
            rate_limit,
            by,
            json,
        } => {
            let role: Role = role.parse().map_err(|e| user(format!("token create: --role: {e}")))?;
            let rate_limit = rate_limit
                .as_deref()
                .map(plaint::access::RateLimit::parse)
                .transpose()
                .map_err(|e| user(format!("token create: --rate-limit: {e}")))?;
            let by = actor(&by)?;
            let engine = ctx.open_engine(None).await?;
            let name = match name {
                Some(n) => n,
                None => engine.tokens().await?.default_name(role),
            };
            let made = engine.create_token_limited(&name, role, rate_limit, &by).await?;
            engine.close().await?;
            let r = &made.record;
            let shown = Created {
                token: &made.token,
                record: r,
                position: made.position,
                what: format!(
                    "token {} ({}, role {}) created at position {}",
                    r.token_id, r.name, r.role, made.position
                ),
            };
            shown.print(&mut out, json)?;
        }
        TokenCommand::List { json } => {
            let engine = ctx.open_engine_for_read(None).await?;
            let table = engine.tokens().await?;
            let tokens: Vec<_> = table.tokens().cloned().collect();
            if json {
                out.json_pretty(&envelope("tokens", serde_json::json!({ "tokens": tokens })))?;
            } else {
                let mut t = crate::tables::table(&["id", "name", "role", "issued", "by", "revoked", "rate limit"]);
                for r in &tokens {
                    t.add_row(vec![
                        r.token_id.clone(),
                        r.name.clone(),
                        r.role.to_string(),
                        crate::context::show(r.issued_at),
                        r.issued_by.to_string(),
                        r.revoked_at.map(crate::context::show).unwrap_or_else(|| "live".into()),
                        rate_limit_cell(r.rate_limit.map(|l| format!("{}/{}", l.per_second, l.burst))),
                    ]);
                }
                out.line(t.to_string())?;
            }
        }
        TokenCommand::Revoke { token, reason, by } => {
            let by = actor(&by)?;
            let engine = ctx.open_engine(None).await?;
            let r = engine.revoke_token(&token, &reason, &by).await?;
            engine.close().await?;
            out.line(format!(
                "token {} ({}, role {}) revoked; it authenticates nothing from now on",
                r.token_id, r.name, r.role
            ))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// `token … --server URL`: the same through a running server's token routes.
async fn through_server(server: &str, admin_token: Option<&str>, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let Some(admin_token) = admin_token else {
        return Err(user_hint(
            format!("token: --server {server} needs an admin token"),
            "set PLAINT_ADMIN_TOKEN (or --admin-token) to a token of role admin; create one with `plaint token create --role admin` while the server is stopped",
        ));
    };
    let client =
        plaint_serve::client::ServerClient::new(server, admin_token).map_err(|e| user(format!("token: {e}")))?;
    let failed = |e: plaint_serve::client::ClientError| match e.status() {
        None => user_hint(
            format!("token: {e}"),
            "is the server running at that address? (`plaint serve` prints it)",
        ),
        Some(401 | 403) => user_hint(
            format!("token: {e}"),
            "--server needs a live token of role admin (`plaint token list` shows the tokens)",
        ),
        Some(_) => user(format!("token: {e}")),
    };
    let mut out = Out::new();
    match command {
        TokenCommand::Create {
            role,
            name,
            rate_limit,
            json,
            ..
        } => {
            let made = client
                .create_token(&role, name.as_deref(), rate_limit.as_deref())
                .await
                .map_err(failed)?;
            let r = &made.record;
            let shown = Created {
                token: &made.token,
                record: r,
                position: made.position,
                what: format!(
                    "token {} ({}, role {}) created at position {} through {server}",
                    r.token_id, r.name, r.role, made.position
                ),
            };
            shown.print(&mut out, json)?;
        }
        TokenCommand::List { json } => {
            let list = client.list_tokens().await.map_err(failed)?;
            if json {
                out.json_pretty(&envelope("tokens", serde_json::json!({ "tokens": list.tokens })))?;
            } else {
                let mut t = crate::tables::table(&["id", "name", "role", "issued", "by", "revoked", "rate limit"]);
                for r in &list.tokens {
                    t.add_row(vec![
                        r.token_id.clone(),
                        r.name.clone(),
                        r.role.clone(),
                        r.issued_at.clone(),
                        r.issued_by.clone(),
                        r.revoked_at.clone().unwrap_or_else(|| "live".into()),
                        rate_limit_cell(r.rate_limit.clone()),
                    ]);
                }
                out.line(t.to_string())?;
            }
        }
        TokenCommand::Revoke { token, reason, .. } => {
            let r = client.revoke_token(&token, &reason).await.map_err(failed)?;
            out.line(format!(
                "token {} ({}, role {}) revoked through {server}; it authenticates nothing from now on",
                r.token_id, r.name, r.role
            ))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Ok)
}

/// The `rate limit` cell of `plaint token list`: the token's own limit, else whose applies.
fn rate_limit_cell(own: Option<String>) -> String {
    own.unwrap_or_else(|| "server default for its role".into())
}

/// A token just created, locally or through a server: printed once (it cannot be shown again).
struct Created<'a, R: serde::Serialize> {
    token: &'a str,
    record: &'a R,
    position: u64,
    /// The sentence naming it, for the text output.
    what: String,
}

impl<R: serde::Serialize> Created<'_, R> {
    fn print(&self, out: &mut Out, json: bool) -> anyhow::Result<()> {
        if json {
            out.json_pretty(&envelope(
                "token",
                serde_json::json!({"token": self.token, "record": self.record, "position": self.position}),
            ))?;
        } else {
            out.line(format!("{}; it is shown only now, keep it secret:", self.what))?;
            out.line(self.token)?;
        }
        Ok(())
    }
}

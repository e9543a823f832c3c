//! `plaint token create|list|revoke`: the API tokens of `plaint serve` (docs/serve.md "Roles
//! and tokens"). A token is printed once at creation; the log keeps only its BLAKE3 hash, in
//! the stream `access-tokens` (hash-chained and verified with the rest of the log). On the
//! file log, create and revoke while no server runs (the server holds the writer lock); on
//! PostgreSQL, any time: running servers see the change within a second.

use crate::context::Context;
use crate::error::{user, ExitCode};
use crate::output::{envelope, Out};
use clap::{Args, Subcommand};
use plaint::access::Role;
use plaint::Actor;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: it cannot be shown again).
    Create {
        /// Its role: intake, handler, supervisor, department_head, center_director, finance, analyst
        /// or auditor.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Who or what uses it (the actor name of its requests); default `<role>-<n>`.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
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
    let mut out = Out::new();
    match args.command {
        TokenCommand::Create { role, name, by, json } => {
            let role: Role = role.parse().map_err(|e| user(format!("token create: --role: {e}")))?;
            let by = actor(&by)?;
            let engine = ctx.open_engine(None).await?;
            let name = match name {
                Some(n) => n,
                None => {
                    let n = engine.tokens().await?.tokens().filter(|t| t.role == role).count() + 1;
                    format!("{role}-{n}")
                }
            };
            let made = engine.create_token(&name, role, &by).await?;
            engine.close().await?;
            if json {
                out.json_pretty(&envelope(
                    "token",
                    serde_json::json!({"token": made.token, "record": made.record, "position": made.position}),
                ))?;
            } else {
                out.line(format!(
                    "token {} ({}, role {}) created at position {}; it is shown only now, keep it secret:",
                    made.record.token_id, made.record.name, made.record.role, made.position
                ))?;
                out.line(&made.token)?;
            }
        }
        TokenCommand::List { json } => {
            let engine = ctx.open_engine_for_read(None).await?;
            let table = engine.tokens().await?;
            let tokens: Vec<_> = table.tokens().cloned().collect();
            if json {
                out.json_pretty(&envelope("tokens", serde_json::json!({ "tokens": tokens })))?;
            } else {
                let mut t = crate::tables::table(&["id", "name", "role", "issued", "by", "revoked"]);
                for r in &tokens {
                    t.add_row(vec![
                        r.token_id.clone(),
                        r.name.clone(),
                        r.role.to_string(),
                        r.issued_at.to_string(),
                        r.issued_by.to_string(),
                        r.revoked_at.map(|t| t.to_string()).unwrap_or_else(|| "live".into()),
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

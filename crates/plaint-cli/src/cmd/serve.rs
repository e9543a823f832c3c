//! `plaint serve [--listen ADDR] [--store DIR | --pg URL]`: the engine as an HTTP/JSON service
//! (docs/serve.md). Runs until SIGTERM or Ctrl-C, then finishes the requests in flight, saves
//! the projections' checkpoints, syncs the log and releases the store's lock.

use crate::context::Context;
use crate::error::{user, user_hint, ExitCode};
use clap::Args;
use std::net::SocketAddr;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (host:port; port 0 picks a free one, printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", env = "PLAINT_LISTEN")]
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes (larger ones get 413).
    #[arg(long, value_name = "BYTES", default_value_t = plaint_serve::BODY_LIMIT_DEFAULT)]
    pub body_limit: usize,
    /// Requests per second the server accepts, with a burst of as many (more get 429 with
    /// Retry-After); 0: no limit.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rate_limit: u32,
    /// Default request rate limit of the tokens of one role: ROLE=RATE[/BURST] requests per
    /// second (repeatable; `*=RATE[/BURST]` for every role without its own; 0: unlimited). A
    /// token's own limit (`plaint token create --rate-limit`) wins; --rate-limit stays the
    /// ceiling over all requests.
    #[arg(long, value_name = "ROLE=RATE[/BURST]")]
    pub token_rate_limit: Vec<String>,
    /// Longest time, in seconds, the gauges of /metrics that walk every ticket (open tickets,
    /// SLA breaches) are reused before a scrape recomputes them; 0 recomputes at every scrape.
    #[arg(long, value_name = "SECONDS", default_value_t = plaint_serve::METRICS_MAX_AGE_DEFAULT.as_secs())]
    pub metrics_max_age: u64,
    /// Serve without access control: every request may do everything, no token needed. Only
    /// for a trusted loopback (a developer's machine); never behind a public address.
    #[arg(long)]
    pub no_auth: bool,
}

pub async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.body_limit == 0 {
        return Err(user("serve: --body-limit must be at least 1 byte"));
    }
    let mut token_rate_limits = plaint_serve::limits::TokenRateLimits::default();
    for spec in &args.token_rate_limit {
        token_rate_limits
            .add(spec)
            .map_err(|e| user(format!("serve: --token-rate-limit: {e}")))?;
    }
    let engine = ctx.open_engine(None).await?;
    if !args.no_auth && engine.tokens().await?.tokens().all(|t| t.revoked_at.is_some()) {
        return Err(user_hint(
            "serve: this store has no live API token, so every request would be refused (401)",
            "create one first: `plaint token create --role intake --name hotline-desk` (or pass --no-auth on a trusted loopback)",
        ));
    }
    let config = plaint_serve::ServeConfig {
        listen: args.listen,
        body_limit: args.body_limit,
        rate_limit: (args.rate_limit > 0).then_some(args.rate_limit),
        // JSON instants carry the offset of --tz/--utc when given, else the office's zone.
        time_zone: Some(crate::context::zone()),
        access: if args.no_auth {
            plaint_serve::auth::AccessMode::Open
        } else {
            plaint_serve::auth::AccessMode::Tokens
        },
        token_rate_limits,
        metrics_max_age: std::time::Duration::from_secs(args.metrics_max_age),
        ..plaint_serve::ServeConfig::default()
    };
    let server = match plaint_serve::Server::bind(engine, config).await {
        Ok(server) => server,
        Err(e @ plaint_serve::ServeError::Bind { .. }) => {
            return Err(user_hint(
                format!("serve: {e}"),
                "choose another --listen address (port 0 picks a free one)",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "plaint serve: listening on http://{} (API description: /v1/openapi.json); SIGTERM or Ctrl-C stops",
        server.local_addr()
    );
    server.run(shutdown_signal()).await?;
    eprintln!("plaint serve: stopped; store closed");
    Ok(ExitCode::Ok)
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

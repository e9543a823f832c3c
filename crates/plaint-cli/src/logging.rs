//! Diagnostics on stderr through `tracing` (issue 14): `-v` (info), `-vv` (debug), or any
//! `RUST_LOG` filter; `--log-format json` for one JSON object per line (with the span names:
//! `command`, `append`, `rebuild`, `import`, `http_request`, …). Without a flag only warnings
//! and errors are logged. Data never goes to stderr, so pipelines keep working.

use clap::{Args, ValueEnum};

/// The logging options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// More diagnostics on stderr: -v info, -vv debug (RUST_LOG, when set, decides instead).
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How log lines look on stderr.
    #[arg(long, global = true, value_enum, default_value = "text", value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (fields, the current span and its parents).
    Json,
}

/// Installs the stderr subscriber. `RUST_LOG` wins over `-v` when set.
pub fn init(args: &LogArgs) {
    use tracing_subscriber::EnvFilter;
    let default = match args.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG={text:?} is not a filter ({e}); using {default}");
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match args.log_format {
        LogFormat::Text => builder
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .try_init(),
    };
    if let Err(e) = installed {
        eprintln!("warning: logging not set up: {e}");
    }
}

//! `plaint`: the operator's command line for the plaint complaint engine.
//!
//! One file per subcommand in `cmd/`; each parses its arguments and calls the facade crate
//! `plaint`. Data goes to stdout, diagnostics to stderr; exit codes are 0 (success), 1 (rejected
//! command or bad input) and 2 (internal error). See `docs/cli.md`.

mod cmd;
mod context;
mod error;
mod events;
mod lines;
mod logging;
mod output;
mod progress;
mod tables;

use clap::{Parser, Subcommand};
use context::{Context, GlobalArgs};

/// mimalloc instead of the C library's malloc: under `plaint serve` load the allocator was a
/// quarter of the CPU per request (glibc's arenas, consolidation and cross-thread frees between
/// tokio's workers); docs/PERFORMANCE.md "Issue 15, wave 5" has the A/B and why not jemalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// plaint: an event-sourced complaint lifecycle engine for postal and courier back offices.
#[derive(Debug, Parser)]
#[command(name = "plaint", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(flatten)]
    logging: logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the store (file log directory, or the PostgreSQL schema with --pg); idempotent.
    Init(cmd::init::InitArgs),
    /// Generate a realistic postal workload into a fresh store and print the weekly report.
    Demo(cmd::demo::DemoArgs),
    /// Execute one command given as JSON (argument, or stdin when absent).
    Submit(cmd::submit::SubmitArgs),
    /// Execute a JSON Lines file of commands in durable batches (re-running adds nothing).
    Import(cmd::import::ImportArgs),
    // import-csv (H8): `ImportCsv(cmd::import_csv::ImportCsvArgs),` goes on the next line.
    /// Import a legacy system's CSV export through a mapping file (re-running adds nothing).
    ImportCsv(cmd::import_csv::ImportCsvArgs),
    /// Show one complaint as it is now, or as it was at an instant (--as-of).
    Show(cmd::show::ShowArgs),
    /// Every event of one complaint, in order.
    History(cmd::history::HistoryArgs),
    /// Events across all complaints by business time and actor: who did what, when.
    Audit(cmd::audit::AuditArgs),
    /// Rebuild projections from the log.
    Rebuild(cmd::rebuild::RebuildArgs),
    /// SLA compliance per clock, as of --now; with --ticket, one ticket's clocks explained.
    Sla(cmd::sla::SlaArgs),
    /// Repeat complaints: the repeat rate and the chains linking them.
    Repeats(cmd::repeats::RepeatsArgs),
    /// Reports (weekly).
    Report(cmd::report::ReportArgs),
    /// Run the SLA watchdog at --now: append the escalations that are due, once each.
    Tick(cmd::tick::TickArgs),
    /// Check checksums, positions, the hash chain and the head anchor of the whole log
    /// (read-only: changes nothing, runs beside a writer).
    Verify(cmd::verify::VerifyArgs),
    /// Cut a half-written final batch of the file log (or, with --accept-loss, continue after
    /// lost events), saying what was done.
    Repair(cmd::repair::RepairArgs),
    /// Counts: events, head position, complaints, streams.
    Stats(cmd::stats::StatsArgs),
    /// Every event as JSON Lines (the facade's export), personal fields sealed unless --reveal.
    Export(cmd::export::ExportArgs),
    /// Copy a whole log between stores (file ⇄ PostgreSQL), then verify the copy.
    Copy(cmd::copy::CopyArgs),
    /// Erase a customer's personal information (destroys the customer's key: crypto-shredding).
    Erase(cmd::erase::EraseArgs),
    /// Serve the engine over HTTP/JSON until SIGTERM (docs/serve.md).
    Serve(cmd::serve::ServeArgs),
    /// The open tickets by next deadline: clock, due, at risk or overdue, escalation, owner.
    Queue(cmd::queue::QueueArgs),
    /// Category surges and regions with a high delay share, as of --now.
    Alerts(cmd::alerts::AlertsArgs),
    /// The monthly heat map (region × category × stage × tier), as a table, CSV or picture.
    Heatmap(cmd::heatmap::HeatmapArgs),
    /// Tickets whose customer may appeal to the postal regulator now.
    Appeals(cmd::appeals::AppealsArgs),
    /// API tokens of `plaint serve`: create (printed once), list, revoke (docs/serve.md).
    Token(cmd::token::TokenArgs),
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    context::preset_zone(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are successes; a usage mistake is bad input (exit 1).
            let code = if e.use_stderr() {
                error::ExitCode::Rejected
            } else {
                error::ExitCode::Ok
            };
            std::process::exit(code as i32);
        }
    };
    logging::init(&cli.logging);
    // One thread: the CLI runs one thing at a time, and on a busy 2-core machine the hand-offs
    // between worker threads cost more than they give (demo: 4x faster than multi-threaded).
    // `serve` answers many clients at once: it runs on its own runtime (a worker per core;
    // the one its load bench measures).
    let runtime = if matches!(cli.command, Command::Serve(_)) {
        plaint_serve::runtime()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            let err = anyhow::Error::new(e).context("cannot start the async runtime");
            std::process::exit(error::report(&err) as i32);
        }
    };
    let result = runtime.block_on(run(cli));
    let code = match result {
        Ok(code) => code,
        Err(err) => error::report(&err),
    };
    // Dropping the runtime waits for blocking tasks; the work is done, so leave promptly.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    std::process::exit(code as i32);
}

async fn run(cli: Cli) -> anyhow::Result<error::ExitCode> {
    let ctx = Context::new(cli.global);
    match cli.command {
        Command::Init(args) => cmd::init::run(&ctx, args).await,
        Command::Demo(args) => cmd::demo::run(&ctx, args).await,
        Command::Submit(args) => cmd::submit::run(&ctx, args).await,
        Command::Import(args) => cmd::import::run(&ctx, args).await,
        // import-csv (H8): `Command::ImportCsv(args) => cmd::import_csv::run(&ctx, args).await,` goes on the next line.
        Command::ImportCsv(args) => cmd::import_csv::run(&ctx, args).await,
        Command::Show(args) => cmd::show::run(&ctx, args).await,
        Command::History(args) => cmd::history::run(&ctx, args).await,
        Command::Audit(args) => cmd::audit::run(&ctx, args).await,
        Command::Rebuild(args) => cmd::rebuild::run(&ctx, args).await,
        Command::Sla(args) => cmd::sla::run(&ctx, args).await,
        Command::Repeats(args) => cmd::repeats::run(&ctx, args).await,
        Command::Report(args) => cmd::report::run(&ctx, args).await,
        Command::Tick(args) => cmd::tick::run(&ctx, args).await,
        Command::Verify(args) => cmd::verify::run(&ctx, args).await,
        Command::Repair(args) => cmd::repair::run(&ctx, args).await,
        Command::Stats(args) => cmd::stats::run(&ctx, args).await,
        Command::Export(args) => cmd::export::run(&ctx, args).await,
        Command::Copy(args) => cmd::copy::run(&ctx, args).await,
        Command::Erase(args) => cmd::erase::run(&ctx, args).await,
        Command::Serve(args) => cmd::serve::run(&ctx, args).await,
        Command::Queue(args) => cmd::queue::run(&ctx, args).await,
        Command::Alerts(args) => cmd::alerts::run(&ctx, args).await,
        Command::Heatmap(args) => cmd::heatmap::run(&ctx, args).await,
        Command::Appeals(args) => cmd::appeals::run(&ctx, args).await,
        Command::Token(args) => cmd::token::run(&ctx, args).await,
    }
}

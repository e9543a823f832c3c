//! `plaint import-csv FILE --mapping MAP.toml`: a legacy system's CSV export imported as the
//! histories of its tickets, through a mapping file (docs/import-csv.md).
//!
//! The whole file is read and planned first: every anomalous row is listed on stderr with its
//! line, reason and the mapping's decision, then a summary per kind. When the mapping rejects
//! rows, nothing is imported unless `--keep-going` asks to import the others (exit 1 either way,
//! the rejected rows listed). The commands are executed in durable batches; with
//! `--progress jsonl`, the line `{"committed": n, "position": p, "tickets": t}` is written and
//! flushed only after the batch is durable. Importing the same file again adds nothing: the
//! command ids are derived from the file's record ids.

use crate::cmd::import::ProgressMode;
use crate::context::{engine_config, parse_instant, Context, StoreLocation};
use crate::error::{user, user_hint, ExitCode};
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::Args;
use plaint::import::{ImportMapping, ImportOptions, ImportPlan, ImportTotals, MappingError};
use plaint::{Policy, Timestamp};
use std::io::IsTerminal;
use std::path::PathBuf;

const KEEP_GOING_HINT: &str = "fix the rows or the mapping's [anomalies] decisions (docs/import-csv.md), or run with \
--keep-going to import the other rows; rows already imported are recognised by their ids";

#[derive(Debug, Args)]
pub struct ImportCsvArgs {
    /// The CSV export (with a header row), or an Open311 JSON export (`.json`).
    pub file: PathBuf,
    /// The mapping file (docs/import-csv.md; examples in examples/mappings/).
    #[arg(long, value_name = "MAP.toml")]
    pub mapping: PathBuf,
    /// Import the rows the mapping accepts even when it rejects others (exit 1 all the same).
    #[arg(long)]
    pub keep_going: bool,
    /// Only read and check the file: list the anomalies and the summary, import nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The policy to decide with (its `routing.departments` must hold the mapped departments);
    /// default: plaint's default policy.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// Commands per durable batch (a ticket is never split).
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(7..=plaint::engine::BATCH_COMMANDS_MAX as u64))]
    pub batch: u64,
    /// How to report progress; default: a bar when stderr is a terminal.
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
    /// The recording time; default: the wall clock. Must be after every date in the file.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
}

pub async fn run(ctx: &Context, args: ImportCsvArgs) -> anyhow::Result<ExitCode> {
    // A `.json` file is an Open311 GeoReport v2 export whose notes become events (the JSON
    // variant, docs/import-csv.md); anything else is CSV.
    let mapping = ImportMapping::for_input(&args.file, &args.mapping).map_err(|e| match e {
        MappingError::Read { source, .. } => user(format!("cannot read mapping {}: {source}", args.mapping.display())),
        e => user_hint(
            format!("mapping {}: {e}", args.mapping.display()),
            "see docs/import-csv.md for the keys; examples/mappings/ has working mappings",
        ),
    })?;
    let policy = match &args.policy {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| user(format!("cannot read policy {}: {e}", path.display())))?;
            Some(Policy::from_toml_str(&text).map_err(|e| user(format!("policy {}: {e}", path.display())))?)
        }
    };
    let location = ctx.location();
    if let StoreLocation::File(dir) = &location {
        if !dir.exists() {
            return Err(user_hint(
                format!("no store at {}", dir.display()),
                "create one with `plaint init`, or point --store (or PLAINT_STORE) at an existing store",
            ));
        }
    }
    let mut config = engine_config(&location, &ctx.global.store, args.now);
    if let Some(policy) = policy {
        config.policy = policy;
    }
    let engine = plaint::Engine::open(config)
        .await
        .with_context(|| format!("cannot open the {}", location.describe()))?;

    let file = std::fs::File::open(&args.file)
        .map_err(|e| user(format!("cannot open input file {}: {e}", args.file.display())))?;
    let plan = engine
        .plan_import(&mapping, file)
        .map_err(|e| user(format!("{}: {e}", args.file.display())))?;
    for a in &plan.anomalies {
        eprintln!("{}: {a}", args.file.display());
    }
    let summary = plan.summary();
    eprint!("{summary}");
    eprintln!(
        "{}: {} rows read, {} to import ({} commands), {} rejected by the mapping",
        args.file.display(),
        plan.rows_read,
        plan.tickets.len(),
        plan.command_count(),
        plan.rows_rejected
    );
    if args.dry_run {
        return Ok(if plan.rows_rejected == 0 {
            ExitCode::Ok
        } else {
            ExitCode::Rejected
        });
    }
    if plan.rows_rejected > 0 && !args.keep_going {
        return Err(user_hint(
            format!(
                "import of {}: the mapping rejects {} row{}; nothing imported",
                args.file.display(),
                plan.rows_rejected,
                if plan.rows_rejected == 1 { "" } else { "s" }
            ),
            KEEP_GOING_HINT,
        ));
    }

    let mode = args.progress.unwrap_or(if std::io::stderr().is_terminal() {
        ProgressMode::Bar
    } else {
        ProgressMode::None
    });
    let bar = progress::bar(Some(plan.tickets.len() as u64), "tickets");
    if mode != ProgressMode::Bar {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut out = Out::new();
    let totals = execute(&engine, &plan, &args, mode, &mut out, &bar).await?;
    bar.finish_and_clear();
    out.flush()?;
    eprintln!(
        "import-csv: {} tickets imported, {} commands committed ({} already present), {} events appended, head position {}",
        totals.tickets, totals.committed, totals.already, totals.appended, totals.position
    );
    let refused = totals.refused.len();
    for r in &totals.refused {
        eprintln!("{}: {r}", args.file.display());
    }
    if plan.rows_rejected > 0 || refused > 0 {
        let hint = if refused > 0 {
            "a refused command means the mapping produced a history the domain does not allow: report it; \
             the rows before it are imported, and running again skips them"
        } else {
            "the rejected rows are listed above with their lines; fix them or the mapping's [anomalies] \
             decisions and run again (rows already imported are recognised by their ids)"
        };
        return Err(user_hint(
            format!(
                "import of {}: {} row{} rejected by the mapping, {refused} command{} refused by the engine",
                args.file.display(),
                plan.rows_rejected,
                if plan.rows_rejected == 1 { "" } else { "s" },
                if refused == 1 { "" } else { "s" }
            ),
            hint,
        ));
    }
    Ok(ExitCode::Ok)
}

/// Executes the plan in durable batches of whole tickets (`Engine::execute_import_plan`),
/// reporting each durable batch as asked.
async fn execute(
    engine: &plaint::Engine,
    plan: &ImportPlan,
    args: &ImportCsvArgs,
    mode: ProgressMode,
    out: &mut Out,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<ImportTotals> {
    let options = ImportOptions {
        commands_per_batch: args.batch as usize,
        keep_going: args.keep_going,
    };
    let mut report_error: Option<anyhow::Error> = None;
    let totals = engine
        .execute_import_plan(plan, options, &mut |t| {
            if mode == ProgressMode::Jsonl && report_error.is_none() {
                let line = serde_json::json!({
                    "committed": t.committed,
                    "position": t.position,
                    "tickets": t.tickets,
                });
                if let Err(e) = out.json_line(&line).and_then(|()| Ok(out.flush()?)) {
                    report_error = Some(e);
                }
            }
            bar.set_position(t.tickets);
        })
        .await?;
    if let Some(e) = report_error {
        return Err(e);
    }
    Ok(totals)
}

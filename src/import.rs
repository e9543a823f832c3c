//! Legacy imports through the facade: an [`ImportPlan`] (a CSV or Open311 export planned
//! through a mapping file by [`plaint_import`]) executed in durable batches of whole tickets.
//! `plaint import-csv` is this plus a progress display.
//!
//! ```no_run
//! use plaint::{Engine, EngineConfig};
//! use plaint::domain::policy::Policy;
//! use plaint::import::{plan_csv_for_policy, ImportOptions, Mapping};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let mut config = EngineConfig::file("/var/lib/plaint");
//! // The mapped departments must be the policy's (examples/mappings/policy.toml has Baltimore's).
//! config.policy = Policy::from_toml_str(&std::fs::read_to_string("examples/mappings/policy.toml").unwrap()).unwrap();
//! let engine = Engine::open(config).await.unwrap();
//! let mapping = Mapping::from_path(std::path::Path::new("examples/mappings/baltimore311.toml")).unwrap();
//! let file = std::fs::File::open("baltimore311_sample.csv").unwrap();
//! let plan = plan_csv_for_policy(&mapping, file, engine.policy()).unwrap();
//! for anomaly in &plan.anomalies {
//!     eprintln!("{anomaly}"); // line, reason, and the mapping's decision
//! }
//! let options = ImportOptions { keep_going: true, ..ImportOptions::default() };
//! let totals = engine
//!     .execute_import_plan(&plan, options, &mut |t| println!("durable: {} commands, head {}", t.committed, t.position))
//!     .await
//!     .unwrap();
//! println!("{} events appended, {} commands already there", totals.appended, totals.already);
//! # });
//! ```

use crate::engine::{Engine, BATCH_COMMANDS_MAX};
use crate::error::EngineError;
use plaint_domain::state::Rejection;
use plaint_domain::Command;
pub use plaint_import::open311::{plan_open311_json, Open311Mapping};
pub use plaint_import::{
    import_command_id, plan_csv, plan_csv_for_policy, Anomaly, AnomalyKind, AnomalySummary, Decision, ImportError,
    ImportPlan, KindCount, Mapping, MappingError, StatusMeaning, TicketPlan, IMPORT_ROWS_MAX,
};
use std::path::Path;

/// The mapping of one legacy export: a CSV mapping, or an Open311 GeoReport v2 mapping for a
/// JSON export whose notes become events (docs/import-csv.md).
#[derive(Debug, Clone)]
pub enum ImportMapping {
    /// A CSV export with a header row.
    Csv(Box<Mapping>),
    /// An Open311 JSON export.
    Open311(Box<Open311Mapping>),
}

impl ImportMapping {
    /// Reads the mapping file `mapping` for the export `input`: an input named `*.json` is an
    /// Open311 JSON export, anything else CSV.
    pub fn for_input(input: &Path, mapping: &Path) -> Result<ImportMapping, MappingError> {
        if input.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            let text = std::fs::read_to_string(mapping).map_err(|source| MappingError::Read {
                path: mapping.to_owned(),
                source,
            })?;
            Ok(ImportMapping::Open311(Box::new(Open311Mapping::from_toml_str(&text)?)))
        } else {
            Ok(ImportMapping::Csv(Box::new(Mapping::from_path(mapping)?)))
        }
    }
}

/// How an import plan is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Commands per durable batch (a ticket is never split across batches); at most
    /// [`BATCH_COMMANDS_MAX`].
    pub commands_per_batch: usize,
    /// Go on after a command the domain refuses (it is listed in [`ImportTotals::refused`]);
    /// otherwise stop after committing exactly the commands before it.
    pub keep_going: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            commands_per_batch: BATCH_COMMANDS_MAX,
            keep_going: false,
        }
    }
}

/// A command of the plan the domain refused, with the input line of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedCommand {
    /// The input line the ticket's record starts on.
    pub line: u64,
    /// The command's name (`receive`, `classify`, …).
    pub command: &'static str,
    /// Why the domain refused it.
    pub rejection: Rejection,
}

impl std::fmt::Display for RefusedCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: command {} refused: {}",
            self.line, self.command, self.rejection
        )
    }
}

/// Running totals of an import, as of the last durable batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportTotals {
    /// Tickets whose commands were handed to the engine.
    pub tickets: u64,
    /// Commands committed or recognised as already committed.
    pub committed: u64,
    /// Commands recognised by their id as imported before (nothing written).
    pub already: u64,
    /// Events appended.
    pub appended: u64,
    /// The log's head position after the last durable batch.
    pub position: u64,
    /// Commands the domain refused, in input order.
    pub refused: Vec<RefusedCommand>,
}

impl Engine {
    /// Reads a whole legacy export through `mapping` into an [`ImportPlan`] (commands per
    /// ticket, and every anomaly with its line and the mapping's decision), checked against the
    /// engine's policy (mapped departments must be the policy's). Nothing is written.
    pub fn plan_import(&self, mapping: &ImportMapping, input: impl std::io::Read) -> Result<ImportPlan, ImportError> {
        match mapping {
            ImportMapping::Csv(m) => plan_csv_for_policy(m, input, self.policy()),
            ImportMapping::Open311(m) => plan_open311_json(m, input, Some(self.policy())),
        }
    }

    /// Executes `plan` in durable batches of whole tickets. `on_batch` is called after each
    /// batch is durable (never before), with the totals so far: what tooling may report as
    /// acknowledged. Importing the same plan again adds nothing (command ids).
    #[tracing::instrument(name = "import", skip_all, fields(commands_per_batch = options.commands_per_batch))]
    pub async fn execute_import_plan(
        &self,
        plan: &ImportPlan,
        options: ImportOptions,
        on_batch: &mut dyn FnMut(&ImportTotals),
    ) -> Result<ImportTotals, EngineError> {
        if options.commands_per_batch == 0 || options.commands_per_batch > BATCH_COMMANDS_MAX {
            return Err(EngineError::bad_input(
                "commands_per_batch",
                format!("{}; allowed are 1 ..= {BATCH_COMMANDS_MAX}", options.commands_per_batch),
            ));
        }
        let mut totals = ImportTotals {
            position: self.head_position().await?,
            ..ImportTotals::default()
        };
        let mut batch: Vec<(u64, Command)> = Vec::with_capacity(options.commands_per_batch);
        let mut batch_tickets = 0u64;
        let mut tickets = plan.tickets.iter().peekable();
        while let Some(t) = tickets.next() {
            batch.extend(t.commands.iter().map(|c| (t.line, c.clone())));
            batch_tickets += 1;
            let full = tickets
                .peek()
                .is_none_or(|next| batch.len() + next.commands.len() > options.commands_per_batch);
            if !full {
                continue;
            }
            let lines: Vec<(u64, &'static str)> = batch.iter().map(|(l, c)| (*l, c.body.name())).collect();
            let commands: Vec<Command> = std::mem::take(&mut batch).into_iter().map(|(_, c)| c).collect();
            let outcome = if options.keep_going {
                self.execute_batch(commands).await?
            } else {
                self.execute_batch_until_rejection(commands).await?
            };
            totals.tickets += batch_tickets;
            batch_tickets = 0;
            totals.committed += (outcome.outcomes.len() - outcome.rejected) as u64;
            totals.already += outcome.deduplicated as u64;
            totals.appended += outcome.events as u64;
            totals.position = outcome.head_position;
            for (index, rejection) in outcome.rejections() {
                let (line, command) = lines[index];
                totals.refused.push(RefusedCommand {
                    line,
                    command,
                    rejection: rejection.clone(),
                });
            }
            on_batch(&totals);
            if !options.keep_going && !totals.refused.is_empty() {
                break;
            }
        }
        Ok(totals)
    }
}

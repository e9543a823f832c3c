//! `plaint import FILE`: commands as JSON Lines (docs/import-format.md), executed in durable
//! batches.
//!
//! Acknowledgement contract: with `--progress jsonl`, the line `{"committed": n, "position": p}`
//! is written and flushed only after the batch's commit returned, that is after it is durable; a
//! tool reading it may rely on every position up to `p` surviving a crash. Re-running a file adds
//! nothing: command ids are idempotency keys, so an import cut short is finished by running it
//! again.

use crate::context::{parse_instant, Context};
use crate::error::{user_hint, ExitCode};
use crate::lines::{is_skippable, parse_command, LineError};
use crate::output::Out;
use crate::progress;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use plaint::{Command, Timestamp};
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;

/// Most commands in one durable batch: what the engine takes in one `execute_batch`.
pub const IMPORT_BATCH_MAX: usize = plaint::engine::BATCH_COMMANDS_MAX;

const RERUN_HINT: &str = "fix the line and run the same import again; lines already committed are recognised \
by their command ids and skipped";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A progress bar on stderr (only when stderr is a terminal).
    Bar,
    /// One JSON line per durable batch on stdout: {"committed": n, "position": p}.
    Jsonl,
    /// Nothing.
    None,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON Lines command file (`-`: stdin).
    pub file: PathBuf,
    /// Commands per durable batch (larger batches: fewer fsyncs, coarser acknowledgements).
    #[arg(long, default_value_t = IMPORT_BATCH_MAX as u64, value_parser = clap::value_parser!(u64).range(1..=IMPORT_BATCH_MAX as u64))]
    pub batch: u64,
    /// How to report progress; default: a bar when stderr is a terminal.
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
    /// Skip bad lines instead of stopping; they are listed at the end (exit 1 if any).
    #[arg(long)]
    pub keep_going: bool,
    /// "Now" for commands without `occurred_at`, and the recording time; default: the wall clock.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
}

/// Running totals of one import.
#[derive(Debug, Default)]
struct Totals {
    /// Commands processed (committed now or already present).
    committed: u64,
    /// Of those, already present (same command id).
    already: u64,
    /// Events appended by this run.
    appended: u64,
    /// The log's head after the last durable batch.
    position: u64,
}

pub async fn run(ctx: &Context, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (input, file_len): (Box<dyn std::io::Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let file = std::fs::File::open(&args.file).map_err(|e| {
            user_hint(
                format!("cannot open command file {}: {e}", args.file.display()),
                "give the path of a JSON Lines file of commands (docs/import-format.md), or - for stdin",
            )
        })?;
        let metadata = file.metadata().ok();
        // A directory opens like a file on Unix and fails only when read: that is bad input,
        // not an internal error (issue 16).
        if metadata.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(user_hint(
                format!(
                    "cannot import {}: it is a directory, not a command file",
                    args.file.display()
                ),
                "give the path of a JSON Lines file of commands (docs/import-format.md), or - for stdin",
            ));
        }
        (Box::new(file), metadata.map(|m| m.len()))
    };
    let mode = args.progress.unwrap_or(if std::io::stderr().is_terminal() {
        ProgressMode::Bar
    } else {
        ProgressMode::None
    });
    let bar = progress::bar(if mode == ProgressMode::Bar { file_len } else { Some(0) }, "bytes");
    if mode != ProgressMode::Bar {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let engine = ctx.open_engine(args.now).await?;
    let mut importer = Importer {
        engine: &engine,
        mode,
        keep_going: args.keep_going,
        out: Out::new(),
        totals: Totals {
            position: engine.head_position().await?,
            ..Totals::default()
        },
        skipped: Vec::new(),
    };

    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut batch: Vec<(u64, Command)> = Vec::with_capacity(args.batch as usize);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut bytes_read = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes_read += n as u64;
        let parsed = match std::str::from_utf8(&buf) {
            Err(e) => Err(LineError {
                line: line_no,
                field: None,
                reason: format!("not UTF-8 (byte {} of the line)", e.valid_up_to() + 1),
            }),
            // A byte-order mark some editors write at the start of the file is not content.
            Ok(text) if line_no == 1 && text.starts_with('\u{feff}') => {
                let text = &text['\u{feff}'.len_utf8()..];
                if is_skippable(text) {
                    continue;
                }
                parse_command(line_no, text.trim_end_matches(['\n', '\r']))
            }
            Ok(text) if is_skippable(text) => continue,
            Ok(text) => parse_command(line_no, text.trim_end_matches(['\n', '\r'])),
        };
        match parsed {
            Ok(command) => batch.push((line_no, command)),
            Err(bad) => {
                // Everything before the bad line is committed first, then the line is reported
                // (with --keep-going it is only noted; the batch goes on filling).
                if !importer.keep_going {
                    importer.commit(std::mem::take(&mut batch)).await?;
                }
                importer.bad_line(bad)?;
            }
        }
        if batch.len() as u64 >= args.batch {
            importer.commit(std::mem::take(&mut batch)).await?;
            bar.set_position(bytes_read);
        }
    }
    importer.commit(batch).await?;
    bar.finish_and_clear();
    importer.finish(&args.file)
}

struct Importer<'a> {
    engine: &'a plaint::Engine,
    mode: ProgressMode,
    keep_going: bool,
    out: Out,
    totals: Totals,
    skipped: Vec<LineError>,
}

impl Importer<'_> {
    /// A line that is not a command: stop (default), or note it and go on (`--keep-going`).
    fn bad_line(&mut self, bad: LineError) -> anyhow::Result<()> {
        if self.keep_going {
            self.skipped.push(bad);
            return Ok(());
        }
        self.summary();
        Err(user_hint(bad.to_string(), RERUN_HINT))
    }

    /// Commits `batch` durably. Without `--keep-going`, a command the domain rejects ends the
    /// import at its line, after exactly the commands before it were committed; with it, the
    /// rejected commands are skipped and listed, the others committed.
    async fn commit(&mut self, batch: Vec<(u64, Command)>) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let lines: Vec<u64> = batch.iter().map(|(line, _)| *line).collect();
        let names: Vec<&'static str> = batch.iter().map(|(_, c)| c.body.name()).collect();
        let commands: Vec<Command> = batch.into_iter().map(|(_, c)| c).collect();
        let outcome = if self.keep_going {
            self.engine.execute_batch(commands).await?
        } else {
            self.engine.execute_batch_until_rejection(commands).await?
        };
        self.totals.committed += (outcome.outcomes.len() - outcome.rejected) as u64;
        self.totals.already += outcome.deduplicated as u64;
        self.totals.appended += outcome.events as u64;
        self.totals.position = outcome.head_position;
        self.acknowledge()?;
        let rejected: Vec<LineError> = outcome
            .rejections()
            .map(|(index, rejection)| LineError {
                line: lines[index],
                field: rejection_field(rejection),
                reason: format!("command {} rejected: {rejection}", names[index]),
            })
            .collect();
        for bad in rejected {
            self.bad_line(bad)?;
        }
        Ok(())
    }

    /// The batch is durable: say so.
    fn acknowledge(&mut self) -> anyhow::Result<()> {
        if self.mode == ProgressMode::Jsonl {
            let line = serde_json::json!({"committed": self.totals.committed, "position": self.totals.position});
            self.out.json_line(&line)?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn summary(&self) {
        let t = &self.totals;
        eprintln!(
            "import: {} committed ({} already present), {} appended, head position {}",
            plural(t.committed, "command"),
            t.already,
            plural(t.appended, "event"),
            t.position
        );
    }

    fn finish(mut self, file: &std::path::Path) -> anyhow::Result<ExitCode> {
        self.out.flush()?;
        self.summary();
        if self.skipped.is_empty() {
            return Ok(ExitCode::Ok);
        }
        // Parse errors are noted as read, rejections as their batch commits: list by line.
        self.skipped.sort_by_key(|bad| bad.line);
        for bad in &self.skipped {
            eprintln!("skipped {bad}");
        }
        let n = self.skipped.len();
        Err(user_hint(
            format!(
                "import of {}: {n} line{} skipped",
                file.display(),
                if n == 1 { "" } else { "s" }
            ),
            RERUN_HINT,
        ))
    }
}

/// The field a rejection is about, when it names one.
fn rejection_field(rejection: &plaint::Rejection) -> Option<String> {
    match rejection {
        plaint::Rejection::Invalid { field, .. } => Some((*field).to_owned()),
        _ => None,
    }
}

/// `1 command`, `2 commands`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

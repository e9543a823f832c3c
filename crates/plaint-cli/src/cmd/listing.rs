//! The output every list command shares (`queue`, `alerts`, `appeals`, `heatmap`, `sla
//! --ticket`): `--format table|json|csv`, the same rows for the table and the CSV (instants in
//! the display zone with their offset), and the facade's types as the versioned JSON.

use crate::output::{envelope, Out};
use clap::{Args, ValueEnum};

/// How a list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A text table for a terminal.
    Table,
    /// The versioned JSON document (docs/json-format.md); instants in RFC 3339.
    Json,
    /// One spreadsheet table, UTF-8 with a byte order mark (Excel opens Chinese correctly).
    Csv,
}

/// `--format` and its `--json` shorthand.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    pub fn format(&self) -> ListFormat {
        if self.json {
            ListFormat::Json
        } else {
            self.format
        }
    }
}

/// Rows with a header, written as a table or CSV.
pub struct Rows {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    pub fn new(header: &[&'static str]) -> Rows {
        Rows {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The comfy table of these rows.
    pub fn table(&self) -> String {
        let mut t = crate::tables::table(&self.header);
        for row in &self.rows {
            t.add_row(row.clone());
        }
        t.to_string()
    }

    /// CSV text with a byte order mark, CRLF line ends.
    pub fn csv(&self, name: &'static str) -> String {
        let mut rows = vec![self.header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
        rows.extend(self.rows.iter().cloned());
        let table = plaint::report_csv::CsvTable { name, rows };
        format!("{}{}", plaint::report_csv::BOM, table.to_csv())
    }
}

/// Writes `json` (the kind's payload), or `title` then the rows as a table, or the rows as CSV.
pub fn emit(
    out: &mut Out,
    format: ListFormat,
    kind: &'static str,
    json: serde_json::Value,
    title: &str,
    rows: &Rows,
) -> anyhow::Result<()> {
    match format {
        ListFormat::Json => out.json_pretty(&envelope(kind, json))?,
        ListFormat::Table => {
            out.line(title)?;
            if !rows.rows.is_empty() {
                out.line(rows.table())?;
            }
        }
        ListFormat::Csv => {
            use std::io::Write as _;
            let text = rows.csv(kind);
            // The CSV's own line ends; no extra newline.
            let mut stdout = std::io::stdout().lock();
            out.flush()?;
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Milliseconds as `3 h 20 min` / `2 d 4 h` for a person.
pub fn duration(ms: i64) -> String {
    let minutes = ms.abs() / 60_000;
    let (d, h, m) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    };
    if ms < 0 {
        format!("-{text}")
    } else {
        text
    }
}

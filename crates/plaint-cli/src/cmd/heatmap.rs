//! `plaint heatmap [--month YYYY-MM] [--format table|json|csv|html|svg] [--out F]`: the monthly
//! heat map (category × stage × region × customer tier, 000 §四). As a table or CSV, one row per
//! cell; as a picture (HTML page or bare SVG), the region × category grid the reports draw
//! (`plaint::report_html::render_heat_map`).

use crate::cmd::listing::{emit, ListFormat, Rows};
use crate::cmd::report::parse_month;
use crate::context::{now_or_wall_clock, office_zone, Context};
use crate::error::{user, ExitCode};
use crate::output::Out;
use clap::{Args, ValueEnum};
use plaint::reports::Month;
use std::path::PathBuf;

/// How the heat map is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeatFormat {
    /// A text table, one row per cell.
    Table,
    /// The versioned JSON document.
    Json,
    /// A spreadsheet table, one row per cell (UTF-8 with a byte order mark).
    Csv,
    /// One self-contained HTML page with the region × category picture.
    Html,
    /// The region × category picture as an SVG file.
    Svg,
}

#[derive(Debug, Args)]
pub struct HeatmapArgs {
    /// The month (office time); default: the current month.
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: Option<Month>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HeatFormat,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: HeatmapArgs) -> anyhow::Result<ExitCode> {
    let month = match args.month {
        Some(month) => month,
        None => {
            use chrono::Datelike;
            let local = office_zone().datetime(now_or_wall_clock(None));
            Month {
                year: local.year(),
                month: local.month(),
            }
        }
    };
    let format = if args.json { HeatFormat::Json } else { args.format };
    let engine = ctx.open_engine_for_read(None).await?;
    let map = engine.heat_map(month).await?;
    let picture = match format {
        HeatFormat::Html => Some(plaint::report_html::render_heat_map(&plaint::report::heat_grid(&map))),
        HeatFormat::Svg => Some(plaint::report_html::heat_map_svg(&plaint::report::heat_grid(&map))),
        _ => None,
    };
    if let Some(text) = picture {
        match &args.out {
            Some(path) => std::fs::write(path, text.as_bytes())
                .map_err(|e| user(format!("heatmap: cannot write {}: {e}", path.display())))?,
            None => {
                let mut out = Out::new();
                out.line(text.trim_end())?;
                out.flush()?;
            }
        }
        return Ok(ExitCode::Ok);
    }
    let mut cells = map.cells.clone();
    cells.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.region.cmp(&b.region)));
    let mut rows = Rows::new(&["region", "category", "stage", "customer tier", "tickets"]);
    for c in &cells {
        rows.push(vec![
            c.region.clone(),
            c.category.as_str().to_owned(),
            c.stage
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "unknown".into()),
            c.customer_tier.as_str().to_owned(),
            c.count.to_string(),
        ]);
    }
    let total: u64 = cells.iter().map(|c| c.count).sum();
    let title = format!(
        "Heat map {month} (office time, {}): {total} classified tickets in {} cells, largest first",
        office_zone(),
        cells.len()
    );
    let list_format = match format {
        HeatFormat::Json => ListFormat::Json,
        HeatFormat::Csv => ListFormat::Csv,
        _ => ListFormat::Table,
    };
    if let Some(path) = &args.out {
        let text = match list_format {
            ListFormat::Json => {
                serde_json::to_string_pretty(&crate::output::envelope(
                    "heat_map",
                    serde_json::json!({ "heat_map": map }),
                ))? + "\n"
            }
            ListFormat::Csv => rows.csv("heat_map"),
            ListFormat::Table => format!("{title}\n{}\n", rows.table()),
        };
        std::fs::write(path, text.as_bytes())
            .map_err(|e| user(format!("heatmap: cannot write {}: {e}", path.display())))?;
        return Ok(ExitCode::Ok);
    }
    let mut out = Out::new();
    emit(
        &mut out,
        list_format,
        "heat_map",
        serde_json::json!({ "heat_map": map }),
        &title,
        &rows,
    )?;
    out.flush()?;
    Ok(ExitCode::Ok)
}

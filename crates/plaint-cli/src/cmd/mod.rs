//! One module per subcommand. Each has an `Args` struct (clap derive) and `run`.

pub mod audit;
pub mod copy;
pub mod demo;
pub mod erase;
pub mod export;
pub mod history;
pub mod import;
// import-csv (H8): `pub mod import_csv;` goes on the next line.
pub mod alerts;
pub mod appeals;
pub mod heatmap;
pub mod import_csv;
pub mod init;
pub mod listing;
pub mod queue;
pub mod rebuild;
pub mod repair;
pub mod repeats;
pub mod report;
pub mod report_casework;
pub mod serve;
pub mod show;
pub mod sla;
pub mod stats;
pub mod submit;
pub mod tick;
pub mod token;
pub mod verify;

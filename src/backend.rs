//! Opening the configured store.

use crate::engine::Durability;
use crate::EngineError;
use plaint_store::file::{FileLog, FileLogOptions};
use plaint_store::pg::{PgOptions, PgStore};
use std::path::Path;
use std::sync::Arc;

/// Opens (creating if needed) the file log in `dir`.
pub(crate) fn open_file(dir: &Path, durability: Durability, read_only: bool) -> Result<Arc<FileLog>, EngineError> {
    let options = FileLogOptions {
        durability,
        read_only,
        ..FileLogOptions::default()
    };
    Ok(Arc::new(FileLog::open(dir, options)?))
}

/// Creates or upgrades the schema (idempotent), then connects.
pub(crate) async fn open_postgres(url: &str, schema: &str) -> Result<Arc<PgStore>, EngineError> {
    let options = PgOptions::with_schema(schema);
    PgStore::migrate(url, &options).await?;
    Ok(Arc::new(PgStore::connect(url, options).await?))
}

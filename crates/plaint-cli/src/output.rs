//! Data on stdout, buffered; a closed pipe surfaces as a `BrokenPipe` I/O error, which `main`
//! turns into a silent exit 0 (docs/cli.md).

use serde::Serialize;
use std::io::{self, Write};

/// Version of every `--json` shape (docs/json-format.md): the facade's, which also writes the
/// event records.
pub use plaint::JSON_FORMAT_VERSION;

/// Buffered stdout. Call [`Out::flush`] where a line must reach the reader now.
pub struct Out {
    inner: io::BufWriter<io::StdoutLock<'static>>,
}

impl Out {
    pub fn new() -> Self {
        Out {
            inner: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        }
    }

    /// One line of text.
    pub fn line(&mut self, text: impl AsRef<str>) -> io::Result<()> {
        self.inner.write_all(text.as_ref().as_bytes())?;
        self.inner.write_all(b"\n")
    }

    /// One value as a single line of JSON (JSON Lines).
    pub fn json_line<T: Serialize + ?Sized>(&mut self, value: &T) -> anyhow::Result<()> {
        // An I/O error inside serde_json (a closed pipe) comes back as the io::Error it was.
        serde_json::to_writer(&mut self.inner, value).map_err(io::Error::from)?;
        self.inner.write_all(b"\n")?;
        Ok(())
    }

    /// One value as pretty JSON (a whole document).
    pub fn json_pretty<T: Serialize + ?Sized>(&mut self, value: &T) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut self.inner, value).map_err(io::Error::from)?;
        self.inner.write_all(b"\n")?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// Wraps a payload in the versioned envelope every `--json` document carries:
/// `{"format_version": 1, "kind": "<kind>", ...payload fields}`.
pub fn envelope(kind: &str, payload: serde_json::Value) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("format_version".into(), JSON_FORMAT_VERSION.into());
    map.insert("kind".into(), kind.into());
    match payload {
        serde_json::Value::Object(fields) => map.extend(fields),
        other => {
            map.insert("data".into(), other);
        }
    }
    serde_json::Value::Object(map)
}

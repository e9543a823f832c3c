//! Reading commands from JSON (docs/import-format.md), with errors that name the line, the field
//! and the reason.
//!
//! serde loses the field path through `#[serde(flatten)]` and internally tagged enums, which
//! `Command` uses. So a line is read as a JSON value first, the common fields are checked one by
//! one, and on failure the body is read again as its own struct through `serde_path_to_error`
//! to find the field at fault.

use plaint::command::*;
use plaint::Command;
use serde::de::DeserializeOwned;
use std::fmt;

/// Longest line `plaint import` accepts, in bytes.
pub const LINE_LEN_MAX: usize = 1024 * 1024;

/// Why one line is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: u64,
    /// The field at fault (`channel`, `customer.phone`), when one is.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: field `{field}`: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for LineError {}

/// Whether a line holds no command (blank, or a `#` comment).
pub fn is_skippable(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// Parses one line (or one whole document, for `submit`) as a command.
pub fn parse_command(line: u64, text: &str) -> Result<Command, LineError> {
    let fail = |field: Option<String>, reason: String| LineError { line, field, reason };
    if text.len() > LINE_LEN_MAX {
        return Err(fail(
            None,
            format!("the line is {} bytes, over the limit of {LINE_LEN_MAX}", text.len()),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| fail(None, format!("not valid JSON ({e})")))?;
    let serde_json::Value::Object(object) = &value else {
        return Err(fail(
            None,
            "not a JSON object; each line holds one command object".into(),
        ));
    };
    for (field, required) in [
        ("command_id", true),
        ("complaint_id", true),
        ("actor", true),
        ("occurred_at", false),
        ("command", true),
    ] {
        let Some(found) = object.get(field) else {
            if required {
                return Err(fail(Some(field.into()), "missing".into()));
            }
            continue;
        };
        let checked = match field {
            "command_id" => check::<plaint::CommandId>(found),
            "complaint_id" => check::<plaint::ComplaintId>(found),
            "actor" => check::<plaint::Actor>(found),
            "occurred_at" => check::<Option<plaint::Timestamp>>(found),
            _ => check::<String>(found),
        };
        checked.map_err(|reason| fail(Some(field.into()), reason))?;
    }
    match serde_json::from_value::<Command>(value.clone()) {
        Ok(command) => Ok(command),
        Err(whole) => {
            let name = object.get("command").and_then(|v| v.as_str()).unwrap_or_default();
            let (field, reason) = body_error(name, &value).unwrap_or_else(|| {
                // A command name serde does not know: its message lists the domain's commands.
                let whole = whole.to_string();
                let field = whole.starts_with("unknown variant").then(|| "command".to_owned());
                (field, whole)
            });
            Err(fail(field, reason))
        }
    }
}

fn check<T: DeserializeOwned>(value: &serde_json::Value) -> Result<(), String> {
    T::deserialize(value).map(|_| ()).map_err(|e| e.to_string())
}

/// Reads the body as the struct `name` names, to find which field is wrong.
fn body_error(name: &str, value: &serde_json::Value) -> Option<(Option<String>, String)> {
    fn path<T: DeserializeOwned>(value: &serde_json::Value) -> Option<(Option<String>, String)> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(_) => None,
            Err(e) => {
                let path = e.path().to_string();
                let field = (path != "." && !path.is_empty()).then_some(path);
                let reason = e.into_inner().to_string();
                // "missing field `x`" names the field itself; say it the same way as other errors.
                if let Some(missing) = reason.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
                    let full = match field {
                        Some(parent) => format!("{parent}.{missing}"),
                        None => missing.to_owned(),
                    };
                    return Some((Some(full), "missing".into()));
                }
                Some((field, reason))
            }
        }
    }
    match name {
        "receive" => path::<Receive>(value),
        "verify" => path::<Verify>(value),
        "reject" => path::<Reject>(value),
        "merge_as_duplicate" => path::<MergeAsDuplicate>(value),
        "classify" => path::<Classify>(value),
        "dispatch" => path::<Dispatch>(value),
        "redispatch" => path::<Redispatch>(value),
        "put_on_hold" => path::<PutOnHold>(value),
        "resume" => path::<Resume>(value),
        "respond" => path::<Respond>(value),
        "compensate" => path::<Compensate>(value),
        "escalate" => path::<Escalate>(value),
        "revisit" => path::<Revisit>(value),
        "reopen" => path::<Reopen>(value),
        "close" => path::<Close>(value),
        // A command added to the domain after this list: the whole error (or, for an
        // unknown name, serde's list of the domain's commands) is reported as it is.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVE: &str = r#"{"command_id":"c1","complaint_id":"CMP-1","actor":"a","command":"receive","channel":"hotline","description":"d","region":"r"}"#;

    #[test]
    fn a_good_line_parses() {
        let command = parse_command(1, RECEIVE).unwrap();
        assert_eq!(command.complaint_id.as_str(), "CMP-1");
        assert_eq!(command.body.name(), "receive");
    }

    #[test]
    fn errors_name_line_field_and_reason() {
        let bad_channel = RECEIVE.replace("hotline", "fax");
        let e = parse_command(7, &bad_channel).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (7, Some("channel")));
        assert!(e.reason.contains("fax"), "{e}");

        let no_region = RECEIVE.replace(r#","region":"r""#, "");
        let e = parse_command(2, &no_region).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("region"));
        assert_eq!(e.reason, "missing");

        let e = parse_command(3, "{not json").unwrap_err();
        assert_eq!((e.line, e.field.clone()), (3, None));
        assert!(e.to_string().starts_with("line 3: not valid JSON"), "{e}");

        let bad_id = RECEIVE.replace("CMP-1", "CMP 1");
        let e = parse_command(4, &bad_id).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("complaint_id"));

        let bad_time = RECEIVE.replace(r#""actor":"a","#, r#""actor":"a","occurred_at":"tuesday","#);
        let e = parse_command(5, &bad_time).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("occurred_at"));

        let unknown = RECEIVE.replace(r#""receive""#, r#""teleport""#);
        let e = parse_command(6, &unknown).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("command"));
        // The domain's own list of commands, so a command added there is named here too.
        assert!(
            e.reason.contains("teleport") && e.reason.contains("merge_as_duplicate"),
            "{e}"
        );

        let nested = RECEIVE.replace(r#""region":"r""#, r#""region":"r","customer":{"phone":5}"#);
        let e = parse_command(8, &nested).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("customer.phone"));
    }

    #[test]
    fn skippable_lines() {
        assert!(is_skippable("   "));
        assert!(is_skippable("# a comment"));
        assert!(!is_skippable(RECEIVE));
    }
}

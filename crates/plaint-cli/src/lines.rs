//! Reading commands from JSON (docs/import-format.md), with errors that name the line, the field
//! and the reason.
//!
//! A good line is read once, straight into the typed `Command`, after a scan that refuses a key
//! given twice in one object (the scan builds nothing). A line that fails either is read again
//! the slow way, only to say why: serde loses the field path through `#[serde(flatten)]` and
//! internally tagged enums, which `Command` uses, so the line is read as a JSON value, the common
//! fields are checked one by one, and the body is read again as its own struct through
//! `serde_path_to_error` to find the field at fault. Both ways accept exactly the same lines as
//! the same commands (the slow way alone decided before issue 15; `fast_and_slow_agree`).

use plaint::command::*;
use plaint::Command;
use serde::de::DeserializeOwned;
use serde::Deserialize;
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
    match parse_fast(text) {
        Some(command) => Ok(command),
        None => parse_explained(line, text),
    }
}

/// A line read once into a `Command`, when it is one: an object with no key given twice that
/// serde reads as a command. `None` for anything else (`parse_explained` says why).
fn parse_fast(text: &str) -> Option<Command> {
    if text.len() > LINE_LEN_MAX {
        return None;
    }
    match serde_json::from_str::<KeysOnce>(text) {
        Ok(KeysOnce::Object) => serde_json::from_str::<Command>(text).ok(),
        Ok(KeysOnce::Other) | Err(_) => None,
    }
}

/// The slow reading of a line, which names the field at fault when it is not a command.
fn parse_explained(line: u64, text: &str) -> Result<Command, LineError> {
    let fail = |field: Option<String>, reason: String| LineError { line, field, reason };
    if text.len() > LINE_LEN_MAX {
        return Err(fail(
            None,
            format!("the line is {} bytes, over the limit of {LINE_LEN_MAX}", text.len()),
        ));
    }
    let value = match serde_json::from_str::<StrictValue>(text) {
        Ok(StrictValue(value)) => value,
        Err(e) => {
            let message = e.to_string();
            if let Some(key) = message
                .strip_prefix(DUPLICATE_KEY)
                .and_then(|rest| rest.split_once('`'))
                .map(|(key, _)| key)
            {
                return Err(fail(
                    Some(key.to_owned()),
                    format!("given twice in one object ({message}); a command gives each field once"),
                ));
            }
            return Err(fail(None, format!("not valid JSON ({e})")));
        }
    };
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
    match Command::deserialize(&value) {
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

const DUPLICATE_KEY: &str = "duplicate key `";

/// A scan of a JSON value that fails where `StrictValue` fails (a key given twice in one
/// object, at any depth, or bad JSON) and builds nothing; what the value was at the top.
enum KeysOnce {
    Object,
    Other,
}

/// Objects with at most this many keys are checked by a linear search; larger ones by a set (a
/// 1 MiB line of distinct keys stays linear in time).
const KEYS_LINEAR_MAX: usize = 16;

impl<'de> serde::Deserialize<'de> for KeysOnce {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        use std::borrow::Cow;
        use std::collections::HashSet;

        use plaint::JsonKey as Key;

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeysOnce;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_unit<E>(self) -> Result<KeysOnce, E> {
                Ok(KeysOnce::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeysOnce, A::Error> {
                while seq.next_element::<KeysOnce>()?.is_some() {}
                Ok(KeysOnce::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysOnce, A::Error> {
                let mut few: Vec<Cow<'de, str>> = Vec::new();
                let mut many: HashSet<Cow<'de, str>> = HashSet::new();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    // The value first, as `StrictValue` reads it: the same first error.
                    map.next_value::<KeysOnce>()?;
                    if few.contains(&key) || (!many.is_empty() && many.contains(&key)) {
                        return Err(A::Error::custom(format!("{DUPLICATE_KEY}{key}`")));
                    }
                    if many.is_empty() && few.len() < KEYS_LINEAR_MAX {
                        few.push(key);
                    } else {
                        many.extend(few.drain(..));
                        many.insert(key);
                    }
                }
                Ok(KeysOnce::Object)
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON value read with every object's keys unique. `serde_json::Value` keeps the last of a
/// repeated key, so `{"actor":"a","actor":"b"}` would silently become actor `b` (found by the
/// `command_json` fuzz target, docs/fuzzing.md); a repeated key is an error naming the key.
struct StrictValue(serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        use serde_json::Value;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<StrictValue, E> {
                Ok(StrictValue(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(v)))
            }
            fn visit_unit<E>(self) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
                let mut items = Vec::new();
                while let Some(StrictValue(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(StrictValue(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let StrictValue(v) = map.next_value()?;
                    if object.contains_key(&key) {
                        return Err(A::Error::custom(format!("{DUPLICATE_KEY}{key}`")));
                    }
                    object.insert(key, v);
                }
                Ok(StrictValue(Value::Object(object)))
            }
        }
        d.deserialize_any(V)
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
        "withdraw" => path::<Withdraw>(value),
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

    /// The story: `parse_command` read a line into a `serde_json::Value`, which keeps the last
    /// of a repeated key, so `{"actor":"a", ..., "actor":"b"}` was accepted as a command by `b`
    /// and `"region":"r","region":"s"` as region `s`: an ambiguous line executed on a guess,
    /// while serde's own reading of `Command` rejects it. The `command_json` fuzz target found it
    /// (its property: the CLI accepts only what serde reads, the same command). A repeated key,
    /// at any depth, is now bad input naming the key.
    #[test]
    fn a_key_given_twice_is_rejected_naming_it() {
        let twice = RECEIVE.replace(r#""actor":"a""#, r#""actor":"a","actor":"b""#);
        let e = parse_command(3, &twice).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (3, Some("actor")), "{e}");
        assert!(e.reason.contains("twice"), "{e}");

        let nested = RECEIVE.replace(
            r#""region":"r""#,
            r#""region":"r","customer":{"phone":"1","phone":"2"}"#,
        );
        let e = parse_command(4, &nested).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("phone"), "{e}");

        // Distinct keys, arrays and every JSON type still read as before.
        let fine = RECEIVE.replace(r#""region":"r""#, r#""region":"r","evidence":[]"#);
        assert_eq!(parse_command(5, &fine).unwrap(), parse_command(5, RECEIVE).unwrap());
    }

    /// Issue 15: a good line is read once (`parse_fast`); the slow reading that names fields
    /// decided alone before. Both must accept the same lines as the same commands, or a line
    /// would mean one thing to `plaint serve` and another to the fuzz target's model of serde.
    #[test]
    fn fast_and_slow_agree() {
        let many_keys: String = (0..40).map(|i| format!(r#","x{i}":{i}"#)).collect();
        let lines = [
            RECEIVE.to_owned(),
            RECEIVE.replace(r#""region":"r""#, r#""region":"r","evidence":[]"#),
            RECEIVE.replace(r#""region":"r""#, r#""region":"r","customer":{"phone":"1","name":"n"}"#),
            RECEIVE.replace(r#""actor":"a""#, r#""actor":"a","actor":"b""#),
            RECEIVE.replace(
                r#""region":"r""#,
                r#""region":"r","customer":{"phone":"1","phone":"2"}"#,
            ),
            // The same key spelt with an escape, and an escaped key that differs.
            RECEIVE.replace(r#""actor":"a""#, r#""actor":"a","actor":"b""#),
            RECEIVE.replace(r#""actor":"a""#, r#""actor":"a","bctor":"b""#),
            // Past the linear search: a repeat among many keys, and many distinct keys.
            RECEIVE.replace(r#""region":"r""#, &format!(r#""region":"r"{many_keys},"x39":0"#)),
            RECEIVE.replace(r#""region":"r""#, &format!(r#""region":"r"{many_keys}"#)),
            RECEIVE.replace(r#""region":"r""#, &format!(r#""region":"r"{many_keys},"x3":0"#)),
            RECEIVE.replace("hotline", "fax"),
            RECEIVE.replace(r#","region":"r""#, ""),
            RECEIVE.replace(r#""receive""#, r#""teleport""#),
            format!("[{RECEIVE}]"),
            format!("{RECEIVE} x"),
            "{not json".to_owned(),
            "\"a string\"".to_owned(),
            "17".to_owned(),
        ];
        for line in &lines {
            let slow = parse_explained(1, line).ok();
            assert_eq!(parse_fast(line), slow, "{line}");
            assert_eq!(parse_command(1, line).ok(), slow, "{line}");
        }
        // The ones that must be refused are, with the slow reading's error.
        for (i, key) in [(3, "actor"), (4, "phone"), (5, "actor"), (7, "x39"), (9, "x3")] {
            let e = parse_command(1, &lines[i]).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(key), "{e}");
            assert!(e.reason.contains("twice"), "{e}");
        }
        assert!(parse_fast(&lines[0]).is_some() && parse_fast(&lines[8]).is_some());
    }

    #[test]
    fn skippable_lines() {
        assert!(is_skippable("   "));
        assert!(is_skippable("# a comment"));
        assert!(!is_skippable(RECEIVE));
    }
}

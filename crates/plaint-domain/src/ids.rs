//! Identifiers: complaints, commands, actors. Each has a validating constructor; the inner
//! string is private so an invalid id cannot exist.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest complaint id, in bytes. Ids are stream names in the log.
pub const COMPLAINT_ID_LEN_MAX: usize = 64;
/// Longest command id, in bytes.
pub const COMMAND_ID_LEN_MAX: usize = 128;
/// Longest actor name, in bytes.
pub const ACTOR_LEN_MAX: usize = 64;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} {value:?} is {len} bytes long; at most {max} are allowed")]
    TooLong {
        kind: &'static str,
        value: String,
        len: usize,
        max: usize,
    },
    #[error("{kind} {value:?} contains {ch:?}; allowed are letters, digits and . _ : - /")]
    BadChar {
        kind: &'static str,
        value: String,
        ch: char,
    },
}

fn validate(kind: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > max {
        return Err(IdError::TooLong {
            kind,
            value: s.to_owned(),
            len: s.len(),
            max,
        });
    }
    if let Some(ch) = s
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | ':' | '-' | '/')))
    {
        return Err(IdError::BadChar {
            kind,
            value: s.to_owned(),
            ch,
        });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        /// Written as its text, borrowed (`into = "String"` would clone it for each write).
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                validate($kind, &s, $max)?;
                Ok($name(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        /// Parses and validates, as [`Self::new`]; the error names the kind of id and the bad text.
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A complaint (ticket) id, e.g. `CMP-2026-000123`. It is the stream name in the log.
    ComplaintId, "complaint id", COMPLAINT_ID_LEN_MAX
);
string_id!(
    /// The id of the command that caused an event. A command retried with the same id is
    /// recognised and appends nothing (docs/domain.md §2).
    CommandId, "command id", COMMAND_ID_LEN_MAX
);

/// Who did it: a named person (staff id) or the system itself (the SLA watchdog, imports).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Actor {
    System,
    Person(String),
}

impl Actor {
    /// The reserved name of the system actor.
    pub const SYSTEM: &'static str = "system";

    pub fn person(name: impl Into<String>) -> Result<Self, IdError> {
        let name = name.into();
        validate("actor", &name, ACTOR_LEN_MAX)?;
        if name == Self::SYSTEM {
            return Ok(Actor::System);
        }
        Ok(Actor::Person(name))
    }
    pub fn as_str(&self) -> &str {
        match self {
            Actor::System => Self::SYSTEM,
            Actor::Person(p) => p,
        }
    }
}

/// Written as its name, borrowed (`into = "String"` would copy it for each write).
impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl TryFrom<String> for Actor {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Actor::person(s)
    }
}
/// Parses and validates, as [`Actor::person`] (`system` is [`Actor::System`]).
impl std::str::FromStr for Actor {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Actor::person(s)
    }
}
impl From<Actor> for String {
    fn from(a: Actor) -> String {
        a.as_str().to_owned()
    }
}
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({:?})", self.as_str())
    }
}

/// The log's system streams: they hold API tokens, reveals and erasures, never a complaint,
/// so no command may name one as its complaint (or as a complaint it refers to). The one list:
/// [`ComplaintId::is_reserved`] reads it, `decide` and the engine refuse with it, and a new
/// system stream is added here.
pub const RESERVED_STREAMS: [&str; 3] = [
    crate::access::TOKEN_STREAM,
    crate::access::REVEAL_STREAM,
    crate::event::ERASURE_STREAM,
];

impl ComplaintId {
    /// Whether this id names one of the log's system streams ([`RESERVED_STREAMS`]) rather
    /// than a complaint. Such an id is valid (the system streams' events carry it) but no
    /// command may address it.
    pub fn is_reserved(&self) -> bool {
        RESERVED_STREAMS.contains(&self.as_str())
    }
}

#[cfg(test)]
mod from_str_tests {
    use super::*;

    #[test]
    fn ids_parse_and_name_the_bad_text() {
        let id: ComplaintId = "CMP-2026-000123".parse().unwrap();
        assert_eq!(id.as_str(), "CMP-2026-000123");
        let cmd: CommandId = "cmd-1".parse().unwrap();
        assert_eq!(cmd.as_str(), "cmd-1");
        assert_eq!("system".parse::<Actor>().unwrap(), Actor::System);
        assert_eq!("op-7".parse::<Actor>().unwrap(), Actor::Person("op-7".into()));

        let err = "CMP 1".parse::<ComplaintId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "complaint id \"CMP 1\" contains ' '; allowed are letters, digits and . _ : - /"
        );
        let err = "".parse::<CommandId>().unwrap_err();
        assert_eq!(err.to_string(), "command id is empty");
        let err = "a\u{7}b".parse::<Actor>().unwrap_err();
        assert!(err.to_string().starts_with("actor \"a\\u{7}b\" contains"), "{err}");
    }
}

#[cfg(test)]
mod reserved_tests {
    use super::*;

    #[test]
    fn the_system_streams_are_reserved_and_complaint_ids_are_not() {
        for name in ["access-tokens", "access-reveals", "vault-erasures"] {
            assert!(ComplaintId::new(name).unwrap().is_reserved(), "{name}");
        }
        for name in ["CMP-2026-000001", "access-tokens-2", "Access-Tokens", "vault"] {
            assert!(!ComplaintId::new(name).unwrap().is_reserved(), "{name}");
        }
    }
}

//! Target `command_json`: the command JSON parser of `plaint submit` / `plaint import`
//! (`crates/plaint-cli/src/lines.rs`, compiled into this crate as it is) and serde's reading of
//! `Command`.
//!
//! Property: a line the CLI accepts is the command serde reads from it; every accepted command
//! writes back to JSON that parses to the same command; a rejection names a reason; nothing
//! panics.

#[allow(dead_code)]
#[path = "../../plaint-cli/src/lines.rs"]
mod lines;

use plaint_domain::Command;

pub fn command_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let direct = serde_json::from_str::<Command>(text);
    match lines::parse_command(1, text) {
        Ok(command) => {
            let direct = direct.unwrap_or_else(|e| panic!("the CLI accepts what serde rejects ({e})"));
            assert_eq!(direct, command, "the CLI and serde read the same command");
            let json = serde_json::to_string(&command).expect("a command serialises");
            let back = lines::parse_command(1, &json)
                .unwrap_or_else(|e| panic!("a serialised command does not parse back: {e}\n{json}"));
            assert_eq!(back, command, "JSON round trip");
        }
        Err(e) => {
            assert_eq!(e.line, 1);
            assert!(!e.reason.is_empty(), "a rejection says why");
        }
    }
}

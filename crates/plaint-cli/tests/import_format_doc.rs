//! Every `json` example of docs/import-format.md parses as a `plaint::Command`, and every
//! one of the 15 commands has at least one example: the document cannot drift from the type.

use plaint::Command;
use std::collections::BTreeSet;

fn json_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```json") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_example_parses_and_every_command_has_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/import-format.md");
    let text = std::fs::read_to_string(path).expect("docs/import-format.md is readable");
    let blocks = json_blocks(&text);
    assert!(blocks.len() >= 15, "found only {} json examples", blocks.len());
    let mut names = BTreeSet::new();
    for (i, block) in blocks.iter().enumerate() {
        let command: Command = serde_json::from_str(block.trim())
            .unwrap_or_else(|e| panic!("example {} does not parse: {e}\n{block}", i + 1));
        // Round trip: what serde writes reads back the same.
        let again: Command = serde_json::from_str(&serde_json::to_string(&command).unwrap()).unwrap();
        assert_eq!(again, command);
        names.insert(command.body.name());
    }
    let all = [
        "receive",
        "verify",
        "reject",
        "merge_as_duplicate",
        "classify",
        "dispatch",
        "redispatch",
        "put_on_hold",
        "resume",
        "respond",
        "compensate",
        "escalate",
        "revisit",
        "reopen",
        "close",
    ];
    for name in all {
        assert!(names.contains(name), "docs/import-format.md has no example of `{name}`");
    }
}

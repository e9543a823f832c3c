//! Progress bars on stderr, only when stderr is a terminal (never in pipes, files or tests).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting `unit` up to `len` (or a spinner when `len` is unknown), hidden unless stderr is
/// a terminal.
pub fn bar(len: Option<u64>, unit: &str) -> ProgressBar {
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::new_spinner(),
    };
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
        return bar;
    }
    if let Ok(style) = ProgressStyle::with_template(&template(len, unit)) {
        bar.set_style(style);
    }
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    bar
}

fn template(len: Option<u64>, unit: &str) -> String {
    match (len, unit) {
        (Some(_), "bytes") => {
            "{bar:40} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, eta {eta})".to_owned()
        }
        (Some(_), _) => format!("{{bar:40}} {{human_pos}}/{{human_len}} {unit} (eta {{eta}})"),
        (None, _) => format!("{{spinner}} {{human_pos}} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_are_valid() {
        for (len, unit) in [(Some(1), "bytes"), (Some(1), "events"), (None, "events")] {
            let t = super::template(len, unit);
            assert!(indicatif::ProgressStyle::with_template(&t).is_ok(), "{t}");
        }
    }
}

//! Prints diagnostics the way miette draws them, followed by a one-line count.

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::diagnostic::Diagnostics;

/// Whether to use colour, decided once from `--color` and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// `auto` follows the conventions other tools share: `NO_COLOR` (set and not empty)
    /// turns colour off, `CLICOLOR_FORCE` (set and not `0`) turns it on off a terminal too
    /// (for CI logs that render it), and NO_COLOR wins when both are set. The flag
    /// `--color always|never` overrides both.
    pub fn enabled(self, stream_is_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto if set("NO_COLOR").is_some() => false,
            Color::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
            Color::Auto => stream_is_terminal,
        }
    }
}

/// Renders every diagnostic to stderr. Off a terminal the drawing uses no colour and a fixed
/// width, so logs and snapshot tests see the same text everywhere.
pub fn print(diagnostics: &Diagnostics, color: Color) {
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    let text = render(diagnostics, color.enabled(terminal), terminal);
    let mut lock = stderr.lock();
    let _ = lock.write_all(text.as_bytes());
    let _ = lock.flush();
}

/// Diagnostics drawn at most; the rest are counted. Drawing one costs a pass over its file,
/// and a broken file can have thousands (most of them echoes of the first few).
const MAX_DRAWN: usize = 50;

/// The text [`print`] writes: each diagnostic as miette draws it, then a blank line.
pub fn render(diagnostics: &Diagnostics, color: bool, terminal: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    if !terminal {
        handler = handler.with_width(100);
    }
    let mut text = String::new();
    for d in diagnostics.iter().take(MAX_DRAWN) {
        if handler.render_report(&mut text, d).is_err() {
            text.push_str(&format!("{d}\n"));
        }
        text.push('\n');
    }
    let hidden = diagnostics.iter().count().saturating_sub(MAX_DRAWN);
    if hidden > 0 {
        text.push_str(&format!(
            "… and {hidden} more not shown: fix the ones above first, later ones often follow from them\n\n"
        ));
    }
    text
}

/// "2 errors, 1 warning" (or None when there is nothing to say).
pub fn summary(diagnostics: &Diagnostics) -> Option<String> {
    let (e, w) = (diagnostics.error_count(), diagnostics.warning_count());
    let part = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (e, w) {
        (0, 0) => None,
        (0, w) => Some(part(w, "warning")),
        (e, 0) => Some(part(e, "error")),
        (e, w) => Some(format!("{}, {}", part(e, "error"), part(w, "warning"))),
    }
}

//! Quoting a value for the spot it lands in, so the shell reads it back as exactly that text.

use super::{HereDoc, Spot};

/// Appends `value` to `out` quoted for `spot`. A comment and a refused spot take no value.
pub fn quote(out: &mut String, value: &str, spot: &Spot) {
    match spot {
        Spot::Bare => quote_word_into(out, value),
        // Inside '…' nothing is special but the closing quote: end the quoted part, add an
        // escaped quote, start a new one.
        Spot::Single => out.push_str(&value.replace('\'', r"'\''")),
        // Inside "…" exactly these four characters keep a meaning; a backslash disarms each.
        Spot::Double => escape_into(out, value, &['\\', '"', '$', '`']),
        Spot::HereDoc(HereDoc { quoted: true, .. }) => out.push_str(value),
        // In an unquoted here-document `"` is plain text; the other three still act.
        Spot::HereDoc(HereDoc { quoted: false, .. }) => escape_into(out, value, &['\\', '$', '`']),
        Spot::Comment | Spot::Refused(_) => {}
    }
}

/// `value` as one shell word: left bare when every shell reads it literally, else in '…'.
pub fn quote_word(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    quote_word_into(&mut out, value);
    out
}

fn quote_word_into(out: &mut String, value: &str) {
    // No `=` (a bare `a=b` in command position is an assignment, and zsh expands a leading
    // `=cmd`), no `~`, no glob or brace characters.
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+,".contains(&b));
    if plain {
        out.push_str(value);
    } else {
        out.push('\'');
        out.push_str(&value.replace('\'', r"'\''"));
        out.push('\'');
    }
}

fn escape_into(out: &mut String, value: &str, special: &[char]) {
    for c in value.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

impl HereDoc {
    /// Whether `line` of the text would end this here-document.
    pub fn ends_at(&self, line: &str) -> bool {
        let line = if self.strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        line == self.delimiter
    }
}

//! Text from outside tsync, made safe to print on a terminal.

use std::borrow::Cow;

/// `text` with every control character made visible: remote output, host names (from
/// Tailscale too), commands with their variables and ssh's messages cannot move the cursor,
/// retitle the terminal, or hide what they print. C0 controls become their Unicode
/// pictures (ESC shows as ␛), DEL becomes ␡ and C1 controls `\u{9b}`; tabs stay.
pub fn printable(text: &str) -> Cow<'_, str> {
    // 0xc2 starts every C1 control in UTF-8 (and a few printable characters, which only
    // cost the slow path).
    // A fold without an early exit: the compiler turns it into a vector loop, and this runs
    // over every byte a host prints.
    let suspect = text.bytes().fold(false, |found, b| {
        found | (b < 0x20 && b != b'\t') | (b == 0x7f) | (b == 0xc2)
    });
    if !suspect {
        return Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\t' => clean.push(c),
            '\0'..='\x1f' => clean.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
            '\x7f' => clean.push('␡'),
            '\u{80}'..='\u{9f}' => clean.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => clean.push(c),
        }
    }
    Cow::Owned(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(printable("web-1 │ ok\tdone ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_are_made_visible() {
        assert_eq!(
            printable("a\x1b[31mred\x1b]0;title\x07\r\x7f\u{9b}2J"),
            "a␛[31mred␛]0;title␇␍␡\\u{9b}2J"
        );
    }
}

//! A lexical pass over playbook text before the KDL parser sees it.
//!
//! The KDL parser recurses once per `{ }` level, once per nested `/* */` comment and once per
//! `/-` in a row, so text that nests without bound would overflow the stack (and nested
//! comments also take quadratic time). This pass reads strings and comments as KDL 2.0 does
//! and measures those three depths. That measure only holds while the parser reads the text
//! the same way, and after an error its recovery does not: it resumed inside strings (after
//! an unclosed one, a bad escape, a control character, a token glued to a string) and read
//! their `{` as blocks, and it recursed once per stray `}`, `=`, `)` or `\`. So this pass also
//! refuses, with its own diagnostic, every such error it can see; the parser then only ever
//! recovers from errors that keep it in step. The fuzzer (fuzz/) looks for ones that do not.

use miette::SourceSpan;

/// The deepest nesting of each kind let through; a playbook needs three levels of `{ }`.
pub const MAX_DEPTH: usize = 32;

/// Why a text is refused before parsing, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// At the first `{` nested deeper than [`MAX_DEPTH`].
    DeepBlocks(usize),
    /// At the first `/*` nested deeper than [`MAX_DEPTH`].
    DeepComments(usize),
    /// At the first `/-` of a chain longer than [`MAX_DEPTH`].
    LongSlashdash(usize),
    /// At the opening quote (with its `#`s): the string runs to the end of its line or file.
    UnclosedString(SourceSpan),
    /// At the opening `/*`.
    UnclosedComment(usize),
    /// At `"""` (with its `#`s) not followed by a line break.
    BadMultiline(SourceSpan),
    /// At a `\` escape KDL does not know, inside a string.
    BadEscape(SourceSpan),
    /// At a character KDL does not allow anywhere, not even in strings and comments.
    Disallowed(usize, char),
    /// At a `}` that closes no block.
    StrayClose(usize),
    /// At a word or string that follows another with no space between.
    Glued(usize),
    /// At a character that cannot stand where it does (`=` not between a property's name
    /// and value, `(` or `)` outside a type annotation, `\` not ending a line, a lone `/`).
    Unexpected(usize, char),
}

/// The last token seen on the current node, for the few order rules checked here: the
/// parser's recovery from `= = =`, `} } }`, `(t)(t)(t)` or `\ \ \` recursed once per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Nothing yet: the start of a node (after a line break, `;`, `{` or `}`).
    Start,
    /// A node name, a value or a property's name: an identifier, string, number, keyword.
    Word,
    /// A word just after `=`: a property's value.
    Value,
    Equals,
    Open,
    /// `(` and a word.
    TypeName,
    Close,
}

/// KDL 2.0's line breaks; a line comment and a single-line string end at any of them.
fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}'
    )
}

/// Whether `c` can be part of a bare identifier, number or keyword.
fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || is_newline(c) || "\\/(){};[]\"#=".contains(c))
}

/// Characters KDL 2.0 refuses anywhere: control characters other than whitespace, DEL,
/// direction controls, and a byte order mark past the start. The parser's recovery from one
/// inside a string read on from the middle of it.
fn is_disallowed(at: usize, c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{E}'..='\u{1F}' | '\u{7F}')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || (c == '\u{FEFF}' && at > 0)
}

/// Checks `text`, returning the first reason to refuse it.
pub fn prescan(text: &str) -> Result<(), Refusal> {
    if let Some((at, c)) = text.char_indices().find(|&(at, c)| is_disallowed(at, c)) {
        return Err(Refusal::Disallowed(at, c));
    }
    let mut depth = 0usize;
    // `/-` seen in the current node.
    let mut slashdashes = 0usize;
    let mut last = Last::Start;
    // Words of the current node outside types and values: the first is the node's name.
    let mut words = 0usize;
    // Where the last word or string ended: KDL needs a space before the next one, and its
    // recovery from a missing space (`"a"b`) could skip into the next string and read its
    // text as nodes.
    let mut word_end = usize::MAX;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find(is_newline).unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with("/*") {
            i = block_comment(text, i)?;
            continue;
        }
        if rest.starts_with("/-") {
            slashdashes += 1;
            if slashdashes > MAX_DEPTH {
                return Err(Refusal::LongSlashdash(i));
            }
            i += 2;
            continue;
        }
        if c.is_whitespace() && !is_newline(c) {
            i += c.len_utf8();
            continue;
        }
        let unexpected = Err(Refusal::Unexpected(i, c));
        if word_end == i && (is_word_char(c) || matches!(c, '"' | '#' | '(')) {
            return Err(Refusal::Glued(i));
        }
        // What a word is, coming after `last`: inside `( )` only one may stand.
        let word = |last: Last| match last {
            Last::Equals => Ok(Last::Value),
            Last::Open => Ok(Last::TypeName),
            Last::TypeName => Err(Refusal::Unexpected(i, c)),
            _ => Ok(Last::Word),
        };
        // `/-` are counted per node, not per run: the parser's recovery from `/- /- &`
        // repeated took a minute for 8 KB.
        if matches!(c, '{' | '}' | ';') || is_newline(c) {
            words = 0;
            slashdashes = 0;
        }
        match c {
            '{' | '}' | ';' if last == Last::Open || last == Last::TypeName => return unexpected,
            '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Refusal::DeepBlocks(i));
                }
                last = Last::Start;
            }
            '}' if depth == 0 => return Err(Refusal::StrayClose(i)),
            '}' => {
                depth -= 1;
                last = Last::Start;
            }
            ';' => last = Last::Start,
            _ if is_newline(c) => {
                if matches!(last, Last::Open | Last::TypeName | Last::Equals) {
                    return unexpected;
                }
                last = Last::Start;
            }
            '=' => {
                // `name=value`, where `name` is not the node's own name.
                if last != Last::Word || words < 2 {
                    return unexpected;
                }
                last = Last::Equals;
            }
            '(' if matches!(last, Last::Start | Last::Word | Last::Value | Last::Equals) => {
                last = Last::Open;
            }
            ')' if last == Last::TypeName => last = Last::Close,
            '(' | ')' => return unexpected,
            '\\' => {
                // A line continuation: only whitespace or a comment may follow on its line,
                // and the line break after it does not end the node.
                let mut after =
                    rest[1..].trim_start_matches(|c: char| c.is_whitespace() && !is_newline(c));
                if after.starts_with("//") {
                    after = &after[after.find(is_newline).unwrap_or(after.len())..];
                }
                let newline = after.chars().next().filter(|&n| is_newline(n));
                if !(after.is_empty() || newline.is_some()) {
                    return unexpected;
                }
                let crlf = usize::from(after.starts_with("\r\n"));
                i = text.len() - after.len() + newline.map_or(0, char::len_utf8) + crlf;
                continue;
            }
            '/' => return unexpected,
            '"' | '#' => {
                last = word(last)?;
                words += usize::from(last == Last::Word);
                let hashes = rest.bytes().take_while(|&b| b == b'#').count();
                if rest[hashes..].starts_with('"') {
                    i = string(text, i, hashes)?;
                } else {
                    // `#true`, `#null`, …: a keyword, not a string.
                    i += hashes;
                    i += text[i..]
                        .find(|c| !is_word_char(c))
                        .unwrap_or(text.len() - i);
                }
                word_end = i;
                continue;
            }
            _ => {
                last = word(last)?;
                words += usize::from(last == Last::Word);
                if is_word_char(c) {
                    i += rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
                    word_end = i;
                    continue;
                }
            }
        }
        i += c.len_utf8();
    }
    Ok(())
}

/// The end of the `/* … */` comment starting at `start`; comments nest.
fn block_comment(text: &str, start: usize) -> Result<usize, Refusal> {
    let mut nesting = 0usize;
    let mut i = start;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("/*") {
            nesting += 1;
            if nesting > MAX_DEPTH {
                return Err(Refusal::DeepComments(i));
            }
            i += 2;
        } else if rest.starts_with("*/") {
            nesting -= 1;
            i += 2;
            if nesting == 0 {
                return Ok(i);
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    Err(Refusal::UnclosedComment(start))
}

/// The end of the string whose `#`s (`hashes` of them) or quote start at `start`.
fn string(text: &str, start: usize, hashes: usize) -> Result<usize, Refusal> {
    let quote = start + hashes;
    let multiline = text[quote..].starts_with("\"\"\"");
    let open = hashes + if multiline { 3 } else { 1 };
    let opening: SourceSpan = (start, open).into();
    let close = format!(
        "{}{}",
        if multiline { "\"\"\"" } else { "\"" },
        "#".repeat(hashes)
    );
    let mut i = start + open;
    if multiline {
        // KDL 2.0 multi-line strings begin with a line break; without one, what follows is
        // not a string the parser and this pass would agree on.
        let after = text[i..].trim_start_matches(|c: char| c.is_whitespace() && !is_newline(c));
        if !after.starts_with(is_newline) {
            return Err(Refusal::BadMultiline(opening));
        }
    }
    while let Some(c) = text[i..].chars().next() {
        if text[i..].starts_with(close.as_str()) {
            return Ok(i + close.len());
        }
        if !multiline && is_newline(c) {
            return Err(Refusal::UnclosedString(opening));
        }
        i += c.len_utf8();
        if c == '\\' && hashes == 0 {
            i = escape(text, i)?;
        }
    }
    Err(Refusal::UnclosedString(opening))
}

/// The end of the escape whose `\` ends just before `at`. Only KDL 2.0's escapes are let
/// through: the parser's recovery from a bad one (`\u{` without its hex digits, say) read the
/// rest of the string as nodes.
fn escape(text: &str, at: usize) -> Result<usize, Refusal> {
    let bad = |len: usize| Err(Refusal::BadEscape((at - 1, len + 1).into()));
    let rest = &text[at..];
    match rest.chars().next() {
        Some('"' | '\\' | 'b' | 'f' | 'n' | 'r' | 't' | 's') => Ok(at + 1),
        Some('u') => {
            let digits = rest[1..]
                .strip_prefix('{')
                .and_then(|r| r.split_once('}'))
                .map(|(hex, _)| hex)
                .filter(|hex| (1..=6).contains(&hex.len()))
                .filter(|hex| {
                    u32::from_str_radix(hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .is_some()
                });
            match digits {
                Some(hex) => Ok(at + 3 + hex.len()),
                None => bad(1),
            }
        }
        // `\` before whitespace skips all of it, line breaks included.
        Some(c) if c.is_whitespace() => {
            Ok(text.len() - rest.trim_start_matches(char::is_whitespace).len())
        }
        Some(c) => bad(c.len_utf8()),
        None => bad(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(prescan("a { b { c } }"), Ok(()));
        let deep = "a {".repeat(MAX_DEPTH + 1);
        assert_eq!(prescan(&deep), Err(Refusal::DeepBlocks(deep.len() - 1)));
        let quoted = format!("a \"{}\"", "{".repeat(100));
        assert_eq!(prescan(&quoted), Ok(()));
        let raw = format!("a #\"{}\"# b", "{\"".repeat(100));
        assert_eq!(prescan(&raw), Ok(()));
        let comment = format!("/* {} */ // {}\n", "{".repeat(100), "{".repeat(100));
        assert_eq!(prescan(&comment), Ok(()));
        assert_eq!(prescan("a \"\\\"{{{{\""), Ok(()));
        let multiline = format!("a \"\"\"\n  {}\n  \"\"\"", "{".repeat(100));
        assert_eq!(prescan(&multiline), Ok(()));
        let continued = format!("a \"x\\\n   {}\"", "{".repeat(100));
        assert_eq!(prescan(&continued), Ok(()));
    }

    #[test]
    fn unclosed_strings_and_comments_are_refused() {
        // Regression: the parser recovered after an unclosed string and read the nesting
        // behind it, which the pre-scan had taken for string text, and overflowed the stack.
        let hidden = format!("a \"\n{}", "b {".repeat(5000));
        assert_eq!(
            prescan(&hidden),
            Err(Refusal::UnclosedString((2, 1).into()))
        );
        let hidden = format!("a #\"\"\"\n{}", "b {".repeat(5000));
        assert_eq!(
            prescan(&hidden),
            Err(Refusal::UnclosedString((2, 4).into()))
        );
        let inline = format!("a \"\"\"{}", "b {".repeat(5000));
        assert_eq!(prescan(&inline), Err(Refusal::BadMultiline((2, 3).into())));
        assert_eq!(prescan("a /* b"), Err(Refusal::UnclosedComment(2)));
        assert_eq!(
            prescan("a \"b\u{2028}c\""),
            Err(Refusal::UnclosedString((2, 1).into()))
        );
        // Regression (found by the fuzzer): a vertical tab is a KDL line break, and ended a
        // raw string that this pass read on through, `{` and all.
        let tab = format!("a #\"b\u{0B}{}\"#", "c{".repeat(5000));
        assert_eq!(prescan(&tab), Err(Refusal::UnclosedString((2, 2).into())));
    }

    #[test]
    fn chains_of_comments_and_slashdashes_are_bounded() {
        // Regression: 3,000 nested `/*` or `/-` in a row overflowed the parser's stack, and a
        // 3 KB file of them took seconds.
        let nested = format!("{}{}", "/*".repeat(3000), "*/".repeat(3000));
        assert_eq!(prescan(&nested), Err(Refusal::DeepComments(2 * MAX_DEPTH)));
        let chain = format!("a {}b", "/- ".repeat(3000));
        assert_eq!(
            prescan(&chain),
            Err(Refusal::LongSlashdash(2 + 3 * MAX_DEPTH))
        );
        let fine = format!("{}{}", "/*".repeat(MAX_DEPTH), "*/".repeat(MAX_DEPTH));
        assert_eq!(prescan(&fine), Ok(()));
        // Regression (fuzzer): `/- /- /- /- /- &` repeated hung the parser's recovery.
        let spread = format!("a {}", "/- /- /- /- /- &".repeat(500));
        assert!(matches!(prescan(&spread), Err(Refusal::LongSlashdash(_))));
        let separate = "a /-b /-c\n".repeat(100);
        assert_eq!(prescan(&separate), Ok(()));
    }

    #[test]
    fn tokens_the_parser_recovers_from_one_by_one_are_refused() {
        // Regression (found by the fuzzer): the parser's recovery recursed once per stray
        // `}`, `=`, `)`, `(t)` or `\`, so thousands of them overflowed the stack.
        assert_eq!(prescan("a\n}\n}"), Err(Refusal::StrayClose(2)));
        assert_eq!(prescan("a = ="), Err(Refusal::Unexpected(2, '=')));
        assert_eq!(prescan("a=a=a"), Err(Refusal::Unexpected(1, '=')));
        assert_eq!(prescan("x a=a=a"), Err(Refusal::Unexpected(5, '=')));
        assert_eq!(prescan("\"a\"=1"), Err(Refusal::Unexpected(3, '=')));
        assert_eq!(prescan("a ))"), Err(Refusal::Unexpected(2, ')')));
        assert_eq!(prescan("(t)(t)a"), Err(Refusal::Unexpected(3, '(')));
        assert_eq!(prescan("a \\ \\ \\"), Err(Refusal::Unexpected(2, '\\')));
        assert_eq!(prescan("a /\" {{{\""), Err(Refusal::Unexpected(2, '/')));
        // Regression (found by the fuzzer): after a bad escape the parser read `{` inside
        // the string as blocks, 165 levels deep.
        let escapes = format!("a \"b{}\"", "\\u{".repeat(5000));
        assert_eq!(prescan(&escapes), Err(Refusal::BadEscape((4, 2).into())));
        assert_eq!(prescan("a \"\\q\""), Err(Refusal::BadEscape((3, 2).into())));
        // Regression (found by the fuzzer): after a control character inside a raw string,
        // the parser read the `{` that followed in the string as blocks.
        let control = format!("a #\"\u{11}{}\"#", "b{".repeat(5000));
        assert_eq!(prescan(&control), Err(Refusal::Disallowed(4, '\u{11}')));
        assert_eq!(
            prescan("\u{FEFF}a \"\u{2066}\""),
            Err(Refusal::Disallowed(6, '\u{2066}'))
        );
        // Regression (found by the fuzzer): from a missing space after a string the parser
        // recovered into the next string and read its `{` or `/*` as nesting.
        let glued = format!("group \"pro {}", "{ stage \"s\" ".repeat(3000));
        assert_eq!(prescan(&glued), Err(Refusal::Glued(20)));
        assert_eq!(prescan("a b\"c\""), Err(Refusal::Glued(3)));
        assert_eq!(prescan("a \"b\"(t)1"), Err(Refusal::Glued(5)));
    }

    #[test]
    fn valid_kdl_passes() {
        for text in [
            "rolling batch=\"25%\" max-fail=0 pause=\"10s\"",
            "run \"make\" \\\n    cwd=\"/srv\" timeout = \"1m\"",
            "a \\ // why\n  b=1",
            "a \\\r\n  b=1\r\n",
            "(t)a (u)\"x\" k=(v)1 #true #null #-inf 1.5e3 0x1f",
            "a; b { c; }; d /- e { f }\n",
            "#\"raw \"quoted\" {\"# ##\"a\"#b\"##",
            "a \"\"\"\n  text \" {\n  \"\"\"",
            "a \"\\\"\\\\\\b\\f\\n\\r\\t\\s\\u{1F600}\\  \n  x\"",
        ] {
            assert_eq!(prescan(text), Ok(()), "{text}");
        }
    }
}

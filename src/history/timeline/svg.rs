//! A small writer of SVG 1.1 text: elements, attributes and text, every piece of text escaped.

use std::fmt::Write;

/// SVG text being written. Attribute values and text go through [`escape`]; numbers are
/// written with at most one decimal, so the same picture is always the same text.
pub struct Svg {
    text: String,
}

impl Svg {
    /// The document's start: an `<svg>` element of `width` × `height` pixels, in the
    /// browsers' own sans-serif font (no font to fetch).
    pub fn new(width: f64, height: f64) -> Svg {
        let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let (w, h) = (number(width), number(height));
        let _ = writeln!(
            text,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" \
             height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        Svg { text }
    }

    /// An element with no children: `<name a="v" …/>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, Value)]) {
        self.start_tag(name, attributes);
        self.text.push_str("/>\n");
    }

    /// An element holding only a hover text: `<name …><title>hover</title></name>`.
    pub fn with_title(&mut self, name: &str, attributes: &[(&str, Value)], hover: &str) {
        self.start_tag(name, attributes);
        let _ = writeln!(self.text, "><title>{}</title></{name}>", escape(hover));
    }

    /// A `<text>` element at (`x`, `y`) with more attributes.
    pub fn text(&mut self, x: f64, y: f64, attributes: &[(&str, Value)], text: &str) {
        let mut all = vec![("x", Value::Number(x)), ("y", Value::Number(y))];
        all.extend_from_slice(attributes);
        self.start_tag("text", &all);
        let _ = writeln!(self.text, ">{}</text>", escape(text));
    }

    /// Opens an element whose children follow, up to the matching [`Svg::close`].
    pub fn open(&mut self, name: &str, attributes: &[(&str, Value)]) {
        self.start_tag(name, attributes);
        self.text.push_str(">\n");
    }

    /// Closes the element [`Svg::open`] opened.
    pub fn close(&mut self, name: &str) {
        let _ = writeln!(self.text, "</{name}>");
    }

    /// A `<title>` for the element just opened: what a browser shows on hover.
    pub fn title(&mut self, hover: &str) {
        let _ = writeln!(self.text, "<title>{}</title>", escape(hover));
    }

    /// Text inside the element just opened.
    pub fn text_content(&mut self, text: &str) {
        self.text.push_str(&escape(text));
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.text.push_str("</svg>\n");
        self.text
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, Value)]) {
        let _ = write!(self.text, "<{name}");
        for (key, value) in attributes {
            let _ = match value {
                Value::Number(n) => write!(self.text, " {key}=\"{}\"", number(*n)),
                Value::Text(t) => write!(self.text, " {key}=\"{}\"", escape(t)),
            };
        }
    }
}

/// An attribute's value: a number (a coordinate, a size) or text.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    Number(f64),
    Text(&'a str),
}

impl From<f64> for Value<'_> {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(t: &'a str) -> Self {
        Value::Text(t)
    }
}

/// A number with at most one decimal, without a trailing `.0`, and never `NaN` or infinite
/// (SVG has no such numbers): those become 0.
pub fn number(n: f64) -> String {
    let n = if n.is_finite() { n } else { 0.0 };
    let rounded = (n * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// `text` made safe inside XML text and attribute values: the five markup characters become
/// entities, tab and line breaks become character references (so attributes keep them), and
/// the characters XML 1.0 forbids (other control characters, U+FFFE, U+FFFF) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

//! Selector strings (`on "…"`, `lock on="…"`): `{{name}}` placeholders are filled in from the
//! playbook's `vars` and `--var` before the selector is parsed, so that everything after the
//! parser (plan, guard, retry, JSON) sees the selector as it will be used.

use super::document::BUILTIN_VARS;
use super::parser::Parser;
use crate::diagnostic::Code;
use crate::playbook::{Spanned, Template};
use crate::selector::Selector;

impl Parser<'_> {
    /// The selector `text` says, its placeholders filled in. `repr` is the string as
    /// written in the file, which places each placeholder and, without any, each word.
    pub(super) fn selector(
        &mut self,
        text: &Spanned<String>,
        repr: Option<&str>,
    ) -> Option<Selector> {
        let template = Template::plain(text.clone(), repr);
        if !template.has_placeholders() {
            let offset = super::values::text_offset(text, repr);
            return match Selector::parse(&text.value, offset, text.span) {
                Ok(selector) => Some(selector),
                Err(e) => {
                    self.found.push(e.into_diagnostic(self.source));
                    None
                }
            };
        }
        let mut notes = Vec::new();
        let mut complete = true;
        for placeholder in template.placeholders() {
            let name = placeholder.name.as_str();
            if BUILTIN_VARS.contains(&name) {
                complete = false;
                self.error(
                    Code::BuiltinVariable,
                    placeholder.span,
                    format!("`{{{{{name}}}}}` cannot be used in a selector"),
                    "set for each host",
                    "the selector picks the hosts, so it cannot depend on one; use a variable \
                     from `vars` or `--var`",
                );
            } else if let Some(value) = self.values.get(name) {
                notes.push(format!("`{{{{{name}}}}}` is `{value}`"));
            } else {
                complete = false;
                let mut known: Vec<String> = self.values.keys().cloned().collect();
                known.sort_unstable();
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                self.undefined_variable(name, placeholder.span, &known);
            }
        }
        if !complete {
            return None;
        }
        let filled = match template.render(|name| self.values.get(name).map(String::as_str)) {
            Ok(filled) => filled,
            Err(e) => {
                self.error(
                    Code::UnsafeValue,
                    text.span,
                    e.to_string(),
                    "this selector",
                    "remove the NUL character from the value",
                );
                return None;
            }
        };
        notes.dedup();
        let note = notes.join(", ");
        // The filled-in text has no place in the file: every error points at the whole
        // string and says what it became.
        match Selector::parse(&filled, None, text.span) {
            Ok(selector) => Some(selector.filled_in(note)),
            Err(e) => {
                let e = e.filled_in(Some(&note));
                self.found.push(e.into_diagnostic(self.source));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use miette::Diagnostic as _;

    use crate::diagnostic::{Code, Diagnostics, Source};
    use crate::playbook::{Parser, Playbook};

    fn parse(text: &str, vars: &[(&str, &str)]) -> (Option<Playbook>, Diagnostics) {
        let source = Source::new("t.kdl", text);
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Parser::new(&source, Path::new(".")).playbook(&vars)
    }

    /// The one error found: its code, message, and each label's text and place in `text`.
    fn error(text: &str, vars: &[(&str, &str)]) -> (Code, String, Vec<(String, String)>) {
        let (_, found) = parse(text, vars);
        let errors: Vec<_> = found.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let labels = errors[0]
            .labels()
            .into_iter()
            .flatten()
            .map(|l| {
                let at = &text[l.offset()..l.offset() + l.len()];
                (l.label().unwrap_or_default().to_string(), at.to_string())
            })
            .collect();
        (errors[0].code(), errors[0].to_string(), labels)
    }

    #[test]
    fn placeholders_are_filled_from_vars_written_anywhere_and_var_wins() {
        let text = "stage \"a\" { on \"{{hosts}}\" \"db-{{n}}\"; run \"true\" }\n\
                    lock on=\"{{hosts}}\"\n\
                    vars { hosts \"web, api\"; n 1 }";
        let (playbook, found) = parse(text, &[]);
        assert!(!found.has_errors(), "{found:?}");
        let playbook = playbook.unwrap();
        let on: Vec<&str> = playbook.stages[0]
            .on
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(on, ["web, api", "db-1"]);
        assert_eq!(
            playbook.stages[0].on[0].filled.as_deref(),
            Some("`{{hosts}}` is `web, api`")
        );
        assert_eq!(playbook.lock.unwrap().on.unwrap().text, "web, api");
        let (playbook, _) = parse(text, &[("hosts", "least-loaded(builders)")]);
        let selector = &playbook.unwrap().stages[0].on[0];
        assert_eq!(
            (selector.text.as_str(), selector.pick),
            ("least-loaded(builders)", Some(1))
        );
    }

    #[test]
    fn a_host_variable_cannot_pick_the_hosts() {
        let text = "stage \"a\" { on \"web & {{host}}\"; run \"true\" }";
        let (code, message, labels) = error(text, &[]);
        assert_eq!(code, Code::BuiltinVariable);
        assert_eq!(message, "`{{host}}` cannot be used in a selector");
        assert_eq!(
            labels,
            [("set for each host".to_string(), "{{host}}".to_string())]
        );
    }

    #[test]
    fn an_undefined_variable_in_a_selector_is_reported() {
        let text = "vars { hosts \"web\" }\nstage \"a\" { on \"{{hots}}\"; run \"true\" }";
        let (code, _, labels) = error(text, &[]);
        assert_eq!(code, Code::UndefinedVariable);
        assert_eq!(labels, [("undefined".to_string(), "{{hots}}".to_string())]);
    }

    #[test]
    fn a_bad_filled_in_selector_says_what_it_was_filled_in_with() {
        let text = "stage \"a\" { on \"{{from}}\"; run \"true\" }";
        let (code, _, labels) = error(text, &[("from", "web 9)")]);
        assert_eq!(code, Code::BadSelector);
        assert_eq!(labels.len(), 1);
        assert!(
            labels[0].0.ends_with("; `{{from}}` is `web 9)`"),
            "{labels:?}"
        );
        assert_eq!(labels[0].1, "\"{{from}}\"");
    }

    #[test]
    fn placeholders_elsewhere_stay_as_written() {
        let text = "vars { a \"x\" }\n\
                    stage \"{{a}}\" { needs \"{{a}}\"; on \"all\"; run \"true\" }";
        let (code, message, _) = error(text, &[]);
        assert_eq!(code, Code::SelfNeed);
        assert_eq!(message, "stage `{{a}}` needs itself");
    }
}

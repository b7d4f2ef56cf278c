//! Selectors evaluated in a playbook's scope: which hosts they pick. The selector module
//! only knows the language; what its words mean (groups, tags, globs over host names) is
//! decided here, one layer above the inventory.

use std::collections::BTreeSet;

use crate::diagnostic::{Code, Diagnostics, Source};
use crate::inventory::{Scope, Tailscale};
use crate::selector::{Atom, Expr, Selector, SelectorError};
use crate::suggest::did_you_mean;

/// The hosts `selector` picks in `scope`, as indices into the inventory. Every word that names nothing
/// known is reported, not just the first.
fn resolve(selector: &Selector, scope: &Scope) -> Result<BTreeSet<usize>, Vec<SelectorError>> {
    let mut errors = Vec::new();
    let hosts = eval(&selector.expr, scope, &mut errors);
    if errors.is_empty() {
        Ok(hosts)
    } else {
        Err(errors)
    }
}

/// `resolve`, with every error turned into a diagnostic pointing into `source`, the text
/// the selector was written in.
pub fn resolve_or_report(
    selector: &Selector,
    scope: &Scope,
    source: &Source,
    diagnostics: &mut Diagnostics,
) -> Option<BTreeSet<usize>> {
    match resolve(selector, scope) {
        Ok(hosts) => Some(hosts),
        Err(errors) => {
            for e in errors {
                let e = e.filled_in(selector.filled.as_deref());
                diagnostics.push(e.into_diagnostic(source));
            }
            None
        }
    }
}

fn eval(expr: &Expr, scope: &Scope, errors: &mut Vec<SelectorError>) -> BTreeSet<usize> {
    match expr {
        Expr::Atom(atom, span) => match atom_hosts(atom, scope) {
            Ok(hosts) => hosts,
            Err(error) => {
                errors.push(error(*span));
                BTreeSet::new()
            }
        },
        Expr::Not(inner) => {
            let excluded = eval(inner, scope, errors);
            scope
                .inventory()
                .all()
                .difference(&excluded)
                .copied()
                .collect()
        }
        Expr::And(items) => {
            let mut sets = items.iter().map(|e| eval(e, scope, errors));
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| acc.intersection(&s).copied().collect())
        }
        Expr::Or(items) => items.iter().flat_map(|e| eval(e, scope, errors)).collect(),
    }
}

type Deferred = Box<dyn FnOnce(miette::SourceSpan) -> SelectorError>;

fn atom_hosts(atom: &Atom, scope: &Scope) -> Result<BTreeSet<usize>, Deferred> {
    let inventory = scope.inventory();
    let needs_tailscale = |word: String| -> Deferred {
        let why = inventory.tailscale.why_not().unwrap_or_default();
        Box::new(move |span| {
            SelectorError::new(
                format!("`{word}` needs Tailscale, but {why}"),
                span,
                "a Tailscale fact",
            )
            .code(Code::NeedsTailscale)
            .help("start Tailscale (`tailscale up`), pass `--tailscale-status FILE`, or select by name or group")
        })
    };
    let tailscale_up = inventory.tailscale == Tailscale::Running;
    Ok(match atom {
        Atom::All => inventory.all(),
        Atom::Glob(pattern) => inventory.matching(pattern),
        Atom::Online | Atom::Offline if !tailscale_up => {
            let word = if *atom == Atom::Online {
                "online"
            } else {
                "offline"
            };
            return Err(needs_tailscale(word.into()));
        }
        Atom::Online => inventory.with_online(true),
        Atom::Offline => inventory.with_online(false),
        Atom::Tag(tag) if !tailscale_up => return Err(needs_tailscale(tag.clone())),
        Atom::Tag(tag) => inventory.with_tag(tag),
        Atom::Os(os) if !tailscale_up => return Err(needs_tailscale(format!("os:{os}"))),
        Atom::Os(os) => inventory.with_os(os),
        Atom::Name(name) => {
            if let Some((members, _)) = scope.group(name) {
                members.clone()
            } else if let Some(i) = inventory.host_index(name) {
                BTreeSet::from([i])
            } else {
                let candidates: Vec<String> = inventory
                    .hosts()
                    .iter()
                    .map(|h| h.name.clone())
                    .chain(scope.group_names().map(str::to_string))
                    .collect();
                let suggestion =
                    did_you_mean(name, candidates.iter().map(String::as_str)).map(str::to_string);
                let name = name.clone();
                return Err(Box::new(move |span| {
                    let error = SelectorError::new(
                        format!("`{name}` is not a known host or group"),
                        span,
                        "unknown host or group",
                    )
                    .code(Code::UnknownName);
                    match suggestion {
                        Some(s) => error.help(format!("did you mean `{s}`?")),
                        None => error.help(format!(
                            "define it with `group \"{name}\" …`, in an --inventory file or in sshsync's config, or add `Host {name}` to your ssh config"
                        )),
                    }
                }));
            }
        }
    })
}

//! The module map of docs/architecture.md, enforced: imports between the top-level modules of
//! `src/` run one way, and the files inside a module never import each other in a circle.
//! Read from the source text (`crate::…` and `super::…` paths), so a new upward import fails
//! here with the file that made it, not in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top to bottom: a module may import the ones after it, never those before.
/// Only the command layer shares its place (with `cli`, `main` and `lib`).
const LAYERS: &[&str] = &[
    "command",
    "workflow",
    "report",
    "history",
    "runner",
    "lock",
    "fleet",
    "plan",
    "inventory",
    "playbook",
    "sync",
    "transport",
];

/// Small modules beside the layers: any layer may use them, and they import no layer.
const LEAVES: &[&str] = &[
    "danger",
    "diagnostic",
    "exit_code",
    "glob",
    "limited_read",
    "selector",
    "shell",
    "suggest",
];

/// `cli` is the argument half of the command layer, `main`/`lib` only wire it up.
fn layer_of(module: &str) -> Option<usize> {
    match module {
        "cli" | "main" | "lib" => Some(0),
        m => LAYERS.iter().position(|l| *l == m),
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/plan/render.rs` → `plan`.
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_str().unwrap().trim_end_matches(".rs").to_string()
}

/// Every identifier that follows `prefix` in `text`, outside line comments.
fn paths_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let boundary = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = &rest[at + prefix.len()..];
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if boundary && end > 0 {
                found.push(&after[..end]);
            }
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn imports_between_modules_run_one_way() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let from = module_of(file);
        for to in paths_after(&text, "crate::") {
            if to == from {
                continue;
            }
            let allowed = if LEAVES.contains(&to) {
                true
            } else if LEAVES.contains(&from.as_str()) {
                false
            } else {
                match (layer_of(&from), layer_of(to)) {
                    (Some(a), Some(b)) => a <= b,
                    _ => false,
                }
            };
            if !allowed {
                let name = file.strip_prefix(src()).unwrap().display().to_string();
                wrong.insert(format!("src/{name}: {from} → {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run against the layers of docs/architecture.md:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_module_has_a_place_in_the_map() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| layer_of(m).is_none() && !LEAVES.contains(&m.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS/LEAVES here and from docs/architecture.md: {unplaced:?}"
    );
}

/// Inside one module (a directory), `super::x` edges between its files form no circle.
/// `mod.rs` re-exports are followed to the file that defines the name.
#[test]
fn files_inside_a_module_import_each_other_without_a_circle() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        by_dir
            .entry(file.parent().unwrap().to_path_buf())
            .or_default()
            .push(file);
    }
    for (dir, files) in by_dir {
        // The wiring is `mod.rs`, or for `x/` beside `x.rs` the parent file `x.rs`, whose
        // items its children may use: only edges between the children can close a circle.
        let parent = dir.with_extension("rs");
        let wiring = std::fs::read_to_string(dir.join("mod.rs"))
            .or_else(|_| std::fs::read_to_string(&parent))
            .unwrap_or_default();
        // Names the module re-exports, mapped to the file that defines them.
        let mut exported: BTreeMap<String, String> = BTreeMap::new();
        for line in wiring
            .lines()
            .filter(|l| l.trim_start().starts_with("pub use "))
        {
            let rest = line.trim_start().trim_start_matches("pub use ");
            let Some((file, names)) = rest.split_once("::") else {
                continue;
            };
            for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !name.is_empty() {
                    exported.insert(name.to_string(), file.to_string());
                }
            }
        }
        let stem = |p: &Path| p.file_stem().unwrap().to_str().unwrap().to_string();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files.iter().filter(|f| stem(f) != "mod") {
            let text = std::fs::read_to_string(file).unwrap();
            let from = stem(file);
            for to in paths_after(&text, "super::") {
                let target = exported.get(to).cloned().unwrap_or_else(|| to.to_string());
                if target != from && files.iter().any(|f| stem(f) == target) {
                    edges.entry(from.clone()).or_default().insert(target);
                }
            }
        }
        if let Some(circle) = find_circle(&edges) {
            panic!(
                "{}: files import each other in a circle: {}",
                dir.display(),
                circle.join(" → ")
            );
        }
    }
}

fn find_circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut Vec::new(), &mut done))
}

//! schema/playbook.kdl, the parser and the docs must describe the same language.

use std::collections::{BTreeMap, BTreeSet};

use kdl::{KdlDocument, KdlNode};
use tsync::playbook::{
    CheckNode, DocumentNode, GroupNode, NodeKind, PlaybookNode, RollbackNode, StageNode, StepNode,
    SyncNode, TOP,
};

fn schema() -> KdlDocument {
    let text =
        std::fs::read_to_string(format!("{}/schema/playbook.kdl", crate::support::ROOT)).unwrap();
    KdlDocument::parse_v2(&text).expect("schema/playbook.kdl is valid KDL 2.0")
}

fn named<'a>(node: &'a KdlNode, kind: &str) -> impl Iterator<Item = (&'a str, &'a KdlNode)> + 'a {
    let kind = kind.to_string();
    node.children()
        .into_iter()
        .flat_map(|c| c.nodes())
        .filter(move |n| n.name().value() == kind)
        .filter_map(|n| Some((n.get(0)?.as_string()?, n)))
}

/// Walks the schema: for each node, its children and properties.
fn walk(
    context: &str,
    node: &KdlNode,
    children: &mut BTreeMap<String, BTreeSet<String>>,
    props: &mut BTreeMap<String, BTreeSet<String>>,
) {
    for (name, child) in named(node, "node") {
        children
            .entry(context.to_string())
            .or_default()
            .insert(name.to_string());
        for (prop, _) in named(child, "prop") {
            props
                .entry(name.to_string())
                .or_default()
                .insert(prop.to_string());
        }
        if let Some(block) = child
            .children()
            .and_then(|c| c.nodes().iter().find(|n| n.name().value() == "children"))
        {
            walk(name, block, children, props);
        }
    }
}

type Table = BTreeMap<String, BTreeSet<String>>;

/// The parser's tables: for each parent, the names of its children; for each node that
/// takes properties, their names.
#[derive(Default)]
struct Tables {
    children: Table,
    props: Table,
}

impl Tables {
    /// Every kind of node the parser accepts, one enum per place they may appear.
    fn of_parser() -> Self {
        let mut tables = Tables::default();
        tables.add::<DocumentNode>();
        tables.add::<PlaybookNode>();
        tables.add::<GroupNode>();
        tables.add::<StageNode>();
        tables.add::<StepNode>();
        tables.add::<SyncNode>();
        tables.add::<CheckNode>();
        tables.add::<RollbackNode>();
        tables
    }

    fn add<K: NodeKind>(&mut self) {
        for parent in K::PARENTS {
            let names = self.children.entry(parent.to_string()).or_default();
            names.extend(K::ALL.iter().map(|kind| kind.name().to_string()));
        }
        for kind in K::ALL.iter().filter(|kind| !kind.properties().is_empty()) {
            let props = self.props.entry(kind.name().to_string()).or_default();
            props.extend(kind.properties().iter().map(|p| p.to_string()));
        }
    }
}

#[test]
fn schema_lists_exactly_the_nodes_and_properties_the_parser_accepts() {
    let doc = schema();
    let document = doc
        .nodes()
        .iter()
        .find(|n| n.name().value() == "document")
        .expect("a document node");
    let (mut children, mut props) = (BTreeMap::new(), BTreeMap::new());
    walk(TOP, document, &mut children, &mut props);
    let parser = Tables::of_parser();
    assert_eq!(children, parser.children);
    assert_eq!(props, parser.props);
}

#[test]
fn reference_documents_every_node() {
    let doc = std::fs::read_to_string(format!("{}/references/playbook.md", crate::support::ROOT))
        .unwrap();
    for name in Tables::of_parser().children.values().flatten() {
        assert!(
            doc.contains(&format!("`{name}`")),
            "references/playbook.md does not mention `{name}`"
        );
    }
}

/// Events as `Run::events` reads them from `--output json`.
fn events_of(lines: &[&str]) -> Vec<serde_json::Value> {
    crate::support::Run {
        code: 0,
        stdout: lines.join("\n"),
        stderr: String::new(),
    }
    .events()
}

#[test]
fn events_are_checked_for_types_and_enums() {
    // Regression: the events check compared field names only, so an event with a wrong type
    // or a value outside an enum passed.
    let good = r#"{"at":"2026-11-29T10:00:00.000Z","event":"output","stage":"s","host":"web-1","step":1,"stream":"stdout","line":"hi"}"#;
    assert_eq!(events_of(&[good]).len(), 1);
    for bad in [
        r#"{"at":"2026-11-29T10:00:00.000Z","event":"output","stage":"s","host":"web-1","step":1,"stream":"stdin","line":"hi"}"#,
        r#"{"at":"2026-11-29T10:00:00.000Z","event":"output","stage":"s","host":"web-1","step":"1","stream":"stdout","line":"hi"}"#,
        r#"{"at":"2026-11-29T10:00:00.000Z","event":"output","stage":"s","host":"web-1","step":0,"stream":"stdout","line":"hi"}"#,
        r#"{"at":"2026-11-29T10:00:00.000Z","event":"output","stage":"s","host":"web-1","step":1,"stream":"stdout"}"#,
        r#"{"at":"2026-11-29T10:00:00.000Z","event":"no_such_event"}"#,
        // Every line says when it was written.
        r#"{"event":"output","stage":"s","host":"web-1","step":1,"stream":"stdout","line":"hi"}"#,
    ] {
        let caught = std::panic::catch_unwind(|| events_of(&[bad]));
        assert!(caught.is_err(), "not caught: {bad}");
    }
}

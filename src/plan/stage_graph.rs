//! The order stages run in: the `needs` DAG, checked for cycles, and its waves.

use std::collections::{BTreeSet, HashMap};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diagnostic::{Code, Diagnostic};
use crate::playbook::{Playbook, Stage};

/// The `needs` DAG of a playbook's stages, with the order and the waves they run in.
#[derive(Debug)]
pub(super) struct StageGraph {
    /// An edge `a → b` means b needs a; nodes carry stage indices.
    pub(super) graph: DiGraph<usize, ()>,
    /// Stage indices in the order they run: by wave, then file order.
    pub(super) order: Vec<usize>,
    /// Stages grouped by how many stages must finish before them.
    pub(super) waves: Vec<Vec<usize>>,
}

impl StageGraph {
    /// The graph of `playbook`'s stages; or one diagnostic per cycle.
    pub(super) fn new(playbook: &Playbook) -> Result<StageGraph, Vec<Diagnostic>> {
        let mut graph = DiGraph::new();
        for i in 0..playbook.stages.len() {
            graph.add_node(i);
        }
        let position: HashMap<&str, usize> = playbook
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        for (i, stage) in playbook.stages.iter().enumerate() {
            for need in &stage.needs {
                // Unknown names and self-needs were reported by the parser.
                if let Some(&j) = position.get(need.as_str()).filter(|&&j| j != i) {
                    graph.update_edge(NodeIndex::new(j), NodeIndex::new(i), ());
                }
            }
        }
        if toposort(&graph, None).is_err() {
            let mut cycles: Vec<Vec<usize>> = tarjan_scc(&graph)
                .into_iter()
                .filter(|scc| scc.len() > 1)
                .map(|scc| scc.into_iter().map(|n| n.index()).collect())
                .collect();
            cycles.sort();
            return Err(cycles
                .into_iter()
                .map(|scc| cycle_diagnostic(playbook, &graph, scc))
                .collect());
        }
        // Wave = length of the longest chain of needs before a stage.
        let mut wave = vec![0usize; playbook.stages.len()];
        let topo = toposort(&graph, None).unwrap_or_default();
        for node in &topo {
            for edge in graph.edges(*node) {
                let next = edge.target().index();
                wave[next] = wave[next].max(wave[node.index()] + 1);
            }
        }
        let depth = wave.iter().max().map_or(0, |m| m + 1);
        let waves: Vec<Vec<usize>> = (0..depth)
            .map(|w| (0..wave.len()).filter(|&i| wave[i] == w).collect())
            .collect();
        let order = waves.iter().flatten().copied().collect();
        Ok(StageGraph {
            graph,
            order,
            waves,
        })
    }
}

/// Names every stage of a circle in order, each `needs` edge labelled where it is written.
fn cycle_diagnostic(
    playbook: &Playbook,
    graph: &DiGraph<usize, ()>,
    members: Vec<usize>,
) -> Diagnostic {
    let in_scc: BTreeSet<usize> = members.iter().copied().collect();
    let start = *members.iter().min().expect("a cycle has members");
    // Walk `needs` edges (graph edges reversed) inside the component until back at the start.
    let needs_of = |i: usize| -> Vec<usize> {
        let mut v: Vec<usize> = graph
            .edges_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|e| e.source().index())
            .filter(|j| in_scc.contains(j))
            .collect();
        v.sort();
        v
    };
    let mut path = vec![start];
    let mut seen = BTreeSet::from([start]);
    // Depth-first search for a simple circle through `start`.
    fn search(
        path: &mut Vec<usize>,
        seen: &mut BTreeSet<usize>,
        start: usize,
        needs_of: &dyn Fn(usize) -> Vec<usize>,
    ) -> bool {
        let last = *path.last().expect("path starts non-empty");
        for next in needs_of(last) {
            if next == start {
                return true;
            }
            if seen.insert(next) {
                path.push(next);
                if search(path, seen, start, needs_of) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    search(&mut path, &mut seen, start, &needs_of);
    let name = |i: usize| playbook.stages[i].name.value.as_str();
    let circle: Vec<&str> = path
        .iter()
        .chain(std::iter::once(&start))
        .map(|&i| name(i))
        .collect();
    let mut d = Diagnostic::error(
        Code::Cycle,
        format!("stages need each other in a circle: {}", circle.join(" → ")),
    )
    .in_source(&playbook.source);
    for (k, &i) in path.iter().enumerate() {
        let next = path.get(k + 1).copied().unwrap_or(start);
        let stage: &Stage = &playbook.stages[i];
        if let Some(need) = stage.needs.iter().find(|n| n.value == name(next)) {
            d = d.label(need.span, format!("`{}` needs `{}`", name(i), name(next)));
        }
    }
    d.help("a stage can only need stages that run before it; remove one of these `needs`")
}

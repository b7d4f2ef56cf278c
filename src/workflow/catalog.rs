//! The catalog: every playbook of playbooks/, embedded with `include_str!` so that the binary
//! carries the same text the repo tests on the lab.

use super::workflow::{Script, Workflow};

const RELEASE: Script = Script {
    path: "scripts/release.sh",
    text: include_str!("../../playbooks/scripts/release.sh"),
};

const SNAPSHOT: Script = Script {
    path: "scripts/snapshot.sh",
    text: include_str!("../../playbooks/scripts/snapshot.sh"),
};

/// The built-in workflows, in the order `tsync workflows` lists them: the deploy cycle
/// first, then the ones that read.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "deploy",
        text: include_str!("../../playbooks/deploy.kdl"),
        scripts: &[RELEASE],
        groups: &["builders", "staging", "production"],
        outputs: &[".build"],
    },
    Workflow {
        name: "rollback",
        text: include_str!("../../playbooks/rollback.kdl"),
        scripts: &[RELEASE],
        groups: &["production"],
        outputs: &[],
    },
    Workflow {
        name: "rolling-restart",
        text: include_str!("../../playbooks/rolling-restart.kdl"),
        scripts: &[],
        groups: &[],
        outputs: &[],
    },
    Workflow {
        name: "backup",
        text: include_str!("../../playbooks/backup.kdl"),
        scripts: &[SNAPSHOT],
        groups: &[],
        outputs: &["backups"],
    },
    Workflow {
        name: "sync-from-one",
        text: include_str!("../../playbooks/sync-from-one.kdl"),
        scripts: &[],
        groups: &["primary"],
        outputs: &[".sync-from-one"],
    },
    Workflow {
        name: "build-on-least-loaded",
        text: include_str!("../../playbooks/build-on-least-loaded.kdl"),
        scripts: &[],
        groups: &["builders"],
        outputs: &["artifacts"],
    },
    Workflow {
        name: "health-report",
        text: include_str!("../../playbooks/health-report.kdl"),
        scripts: &[],
        groups: &[],
        outputs: &[],
    },
    Workflow {
        name: "disk-report",
        text: include_str!("../../playbooks/disk-report.kdl"),
        scripts: &[],
        groups: &[],
        outputs: &[],
    },
];

/// The workflow named `name`.
pub fn find(name: &str) -> Option<&'static Workflow> {
    WORKFLOWS.iter().find(|w| w.name == name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::diagnostic::Source;
    use crate::playbook::{Action, Parser};

    fn playbooks() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks")
    }

    /// The names of the files in `dir` ending in `extension`, without it.
    fn stems(dir: &Path, extension: &str) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_playbook_is_in_the_catalog_and_nothing_else() {
        let catalog: BTreeSet<String> = WORKFLOWS.iter().map(|w| w.name.to_string()).collect();
        assert_eq!(catalog, stems(&playbooks(), "kdl"));
        let scripts: BTreeSet<String> = WORKFLOWS
            .iter()
            .flat_map(|w| w.scripts)
            .map(|s| s.path.trim_start_matches("scripts/").to_string())
            .collect();
        let on_disk: BTreeSet<String> = stems(&playbooks().join("scripts"), "sh")
            .into_iter()
            .map(|s| format!("{s}.sh"))
            .collect();
        assert_eq!(scripts, on_disk, "every script is copied with a workflow");
    }

    #[test]
    fn every_embedded_playbook_parses_with_its_scripts() {
        for workflow in WORKFLOWS {
            let source = Source::new(workflow.file(), workflow.text);
            let (playbook, diagnostics) = Parser::new(&source, &playbooks()).playbook(&[]);
            let errors: Vec<String> = diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", workflow.name);
            let playbook = playbook.unwrap();
            assert_eq!(playbook.name, workflow.name);
            assert!(
                workflow.example().contains(&workflow.file()),
                "{}: its first example runs it",
                workflow.name
            );
            assert!(!workflow.description().is_empty(), "{}", workflow.name);
        }
    }

    #[test]
    fn every_script_a_workflow_runs_is_among_its_scripts() {
        for workflow in WORKFLOWS {
            let playbook = workflow.playbook().unwrap();
            for step in playbook.stages.iter().flat_map(|s| s.all_steps()) {
                if let Action::Script { path, .. } = &step.action {
                    let path = path.value.to_str().unwrap();
                    assert!(
                        workflow.scripts.iter().any(|s| s.path == path),
                        "{} runs {path}, which init would not copy",
                        workflow.name
                    );
                }
            }
            for script in workflow.scripts {
                assert!(
                    workflow.text.contains(script.path),
                    "{} copies {}, which it never names",
                    workflow.name,
                    script.path
                );
            }
        }
    }

    #[test]
    fn the_groups_and_outputs_of_a_workflow_are_the_ones_it_names() {
        for workflow in WORKFLOWS {
            for group in workflow.groups {
                assert!(
                    workflow.text.contains(&format!("\"{group}\"")),
                    "{} never names the group {group}",
                    workflow.name
                );
            }
            for output in workflow.outputs {
                assert!(
                    workflow.text.contains(output),
                    "{} never writes into {output}",
                    workflow.name
                );
            }
        }
    }
}

//! What `tsync init` writes: the inventory, the chosen workflows with their scripts, a README
//! on running them, and a .gitignore for what they leave beside themselves.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

use super::workflow::Workflow;

#[derive(Debug)]
pub struct Starter {
    /// In the order written; paths relative to the directory `init` runs in.
    pub files: Vec<StarterFile>,
}

#[derive(Debug)]
pub struct StarterFile {
    pub path: PathBuf,
    pub text: String,
    /// Scripts keep the mode they have in the repo, so that they also run by hand.
    pub executable: bool,
}

impl Starter {
    /// The files for `workflows`, with `inventory` as inventory.kdl.
    pub fn new(workflows: &[&Workflow], inventory: String) -> Starter {
        let mut files = vec![file("inventory.kdl", inventory)];
        let mut scripts = BTreeSet::new();
        for workflow in workflows {
            files.push(file(&workflow.file(), workflow.text.to_string()));
            for script in workflow.scripts {
                if scripts.insert(script.path) {
                    files.push(StarterFile {
                        executable: true,
                        ..file(&format!("playbooks/{}", script.path), script.text.into())
                    });
                }
            }
        }
        files.push(file("playbooks/README.md", readme(workflows)));
        files.push(file("playbooks/.gitignore", gitignore(workflows)));
        Starter { files }
    }
}

fn file(path: &str, text: String) -> StarterFile {
    StarterFile {
        path: PathBuf::from(path),
        text,
        executable: false,
    }
}

/// How to run the workflows by hand and from cron.
fn readme(workflows: &[&Workflow]) -> String {
    let mut out = String::from(
        "# Playbooks\n\
         \n\
         Written by `tsync init`: each playbook is yours to read, change and review. The groups\n\
         they select are in `../inventory.kdl`, which every tsync command run in this repo reads.\n\
         \n\
         ## By hand\n\
         \n\
         ```sh\n\
         tsync check playbooks/*.kdl                # every mistake at once; touches no host\n\
         tsync plan playbooks/NAME.kdl              # stages, hosts and commands; touches no host\n\
         tsync apply playbooks/NAME.kdl --dry-run   # connects and probes, changes nothing\n\
         tsync apply playbooks/NAME.kdl             # the real run\n\
         ```\n\
         \n\
         Each playbook's vars have defaults; change one for a run with `--var NAME=VALUE`.\n\
         `tsync workflows` lists them all.\n\
         \n",
    );
    out.push_str("| playbook | what it does | for example |\n|---|---|---|\n");
    for workflow in workflows {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` |",
            workflow.file(),
            workflow.description().replace('|', "\\|"),
            workflow.example().replace('|', "\\|")
        );
    }
    out.push_str(
        "\n\
         ## From cron\n\
         \n\
         `--quiet` keeps cron's mail to what went wrong, and `--if-locked=skip` lets a run that\n\
         finds another one holding the deploy lock do nothing (exit 75) instead of failing.\n\
         Uncomment the lines you want, with the `--var`s each run needs (see the examples\n\
         above); pasted as they are, they schedule nothing:\n\
         \n\
         ```crontab\n\
         PATH=/usr/local/bin:/usr/bin:/bin\n\
         MAILTO=ops@example.com\n",
    );
    for workflow in workflows {
        // Reports are cheap and read-only: often. The rest change hosts: at night.
        let when = if workflow.name.ends_with("-report") {
            "*/15 * * * *"
        } else {
            "30 2 * * *  "
        };
        let _ = writeln!(
            out,
            "# {when}  cd /path/to/this/repo && tsync apply {} --quiet --if-locked=skip",
            workflow.file()
        );
    }
    out.push_str(
        "```\n\
         \n\
         Exit codes: 0 every host succeeded, 3 a host failed a step or a check, 4 a host could\n\
         not be reached, 5 another run holds the deploy lock (or a stale one is in the way),\n\
         75 the lock was held and `--if-locked=skip` skipped the run. A run that failed halfway\n\
         can be finished with `tsync apply --retry playbooks/NAME.kdl`; `tsync history` lists\n\
         past runs.\n",
    );
    out
}

/// The directories the workflows write beside themselves on this machine.
fn gitignore(workflows: &[&Workflow]) -> String {
    let mut out =
        String::from("# What the playbooks write on this machine; none of it is source.\n");
    let outputs: BTreeSet<&str> = workflows.iter().flat_map(|w| w.outputs).copied().collect();
    for output in outputs {
        let _ = writeln!(out, "{output}/");
    }
    out
}

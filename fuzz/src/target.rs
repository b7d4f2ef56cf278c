//! What is fuzzed: each target feeds one input file to one of tsync's readers the way the
//! `tsync` binary does, and draws every diagnostic with miette as the binary prints it
//! (drawing is where spans meet the text, so it is fuzzed too).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tsync::cli::{Inputs, Sources};
use tsync::command::Prepared;
use tsync::diagnostic::{Diagnostics, Source};
use tsync::inventory::{Inventory, InventoryOptions, Scope, ssh_config, sshsync};
use tsync::plan::{Plan, resolve_or_report};
use tsync::report::diagnostics::render;
use tsync::selector::Selector;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A playbook through `check` and `plan`, and the same text as an `--inventory` file.
    Playbook,
    /// A selector through `tsync run SELECTOR`, `--limit` and a playbook's `on`.
    Selector,
    /// An OpenSSH client config (`--ssh-config`), Includes followed.
    SshConfig,
    /// An sshsync config.yml.
    Sshsync,
    /// `tailscale status --json` (`--tailscale-status`), merged into an inventory.
    Tailscale,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Playbook,
        Target::Selector,
        Target::SshConfig,
        Target::Sshsync,
        Target::Tailscale,
    ];

    /// The name of its corpus folder and of its findings.
    pub fn name(self) -> &'static str {
        match self {
            Target::Playbook => "playbook",
            Target::Selector => "selector",
            Target::SshConfig => "ssh_config",
            Target::Sshsync => "sshsync",
            Target::Tailscale => "tailscale",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn corpus_dir(self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(self.name())
    }

    /// Tokens of the target's language, for the mutator to insert.
    pub fn dictionary(self) -> &'static [&'static [u8]] {
        match self {
            Target::Playbook => &[
                b"{",
                b"}",
                b"\"",
                b"\"\"\"",
                b"#\"",
                b"\"#",
                b"/-",
                b"/*",
                b"*/",
                b"//",
                b"\n",
                b";",
                b"=",
                b"#true",
                b"#null",
                b"(t)",
                b"\\",
                b"stage \"s\" { ",
                b"on \"all\"; ",
                b"run \"true\"; ",
                b"script \"x.sh\"",
                b"check \"c\" { ",
                b"needs \"s\"; ",
                b"rolling batch=\"50%\" ",
                b"group \"g\" \"web-1\"\n",
                b"vars { v \"1\" }\n",
                b"timeout=\"1s\" ",
                b"cwd=\"/\" ",
                b"{{host}}",
                b"{{v}}",
                b"{{",
                b"}}",
                b"'",
                b"$(",
                b"`",
                b"env A=\"b\"",
                b"http \"http://x\"",
                b"tcp \"x:1\"",
                b"cmd \"true\"",
                b"retries 3",
                b"interval \"1s\"",
                b"timeout \"0s\"",
                b"\"10000000000000000000s\"",
                b"\"70years\"",
                b"(",
                b"!",
                b"&",
                b",",
                b"tag:",
                b"*",
                b"\\u{",
                b"playbook \"p\"",
                b"description \"d\"",
                b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            ],
            Target::Selector => &[
                b"(",
                b")",
                b"!",
                b"&",
                b",",
                b" ",
                b"all",
                b"online",
                b"offline",
                b"tag:",
                b"tag:prod",
                b"os:linux",
                b"*",
                b"?",
                b"[",
                b"[!",
                b"]",
                b"|",
                b"web-1",
                b"prod-web-*",
                b"builders",
                b"-",
            ],
            Target::SshConfig => &[
                b"Host ",
                b"Include ",
                b"Match ",
                b"\"",
                b"\\",
                b"#",
                b"=",
                b"*",
                b"~/",
                b"\n",
                b" ",
                b"\t",
                b"HostName x\n",
                b"!",
                b"?",
                b"conf.d/*",
            ],
            Target::Sshsync => &[
                b"groups:\n",
                b"&a ",
                b"*a",
                b"[",
                b"]",
                b"{",
                b"}",
                b"- ",
                b": ",
                b"\n",
                b"  ",
                b"'",
                b"\"",
                b"!!str ",
                b"---\n",
                b"<<: ",
                b"? ",
                b"|\n",
                b">\n",
                b"[*a, *a, *a, *a, *a, *a, *a, *a]",
                b"yes",
                b"~",
                b"%YAML 1.2\n",
            ],
            Target::Tailscale => &[
                b"{",
                b"}",
                b"[",
                b"]",
                b"\"Peer\":",
                b"\"DNSName\":",
                b"\"HostName\":",
                b"\"Tags\":",
                b"\"OS\":",
                b":",
                b",",
                b"\"\"",
                b"null",
                b"true",
                b"\"Self\":",
                b"\"BackendState\":\"Running\"",
                b"\"\\u0000\"",
                b"1e999",
                b"\"TailscaleIPs\":",
                b"\"Online\":",
                b"\"tag:prod\"",
                b"\"x.ts.net.\"",
            ],
        }
    }
}

/// What every run of a target needs, made once per worker.
pub struct Context {
    prepared: Prepared,
    scratch: PathBuf,
}

impl Context {
    /// `scratch` is a directory the targets may write to.
    pub fn new(scratch: &Path) -> Context {
        Context {
            prepared: Prepared::new(&fleet_inputs()),
            scratch: scratch.to_path_buf(),
        }
    }

    /// Runs `target` on the file `input`. Returns a digest of what came out (diagnostic
    /// codes and the shape of their messages), for the worker to tell new behaviour apart.
    pub fn run(&self, target: Target, input: &Path) -> u64 {
        let mut digest = DefaultHasher::new();
        match target {
            Target::Playbook => {
                let (_, diagnostics) = self.prepared.plan(input);
                digest_diagnostics(&diagnostics, &mut digest);
                if let Ok(source) = tsync::playbook::read_source(input) {
                    let (_, found) =
                        tsync::playbook::Parser::new(&source, &self.scratch).inventory();
                    digest_diagnostics(&found, &mut digest);
                }
            }
            Target::Selector => {
                let Ok(text) = std::fs::read_to_string(input) else {
                    return 0;
                };
                self.selector(&text, &mut digest);
            }
            Target::SshConfig => match ssh_config::aliases(input) {
                Ok(aliases) => aliases.len().hash(&mut digest),
                Err(e) => shape(&e.to_string()).hash(&mut digest),
            },
            Target::Sshsync => match sshsync::groups(input) {
                Ok(groups) => groups.len().hash(&mut digest),
                Err(e) => shape(&e.to_string()).hash(&mut digest),
            },
            Target::Tailscale => {
                let (inventory, diagnostics) = Inventory::load(&InventoryOptions {
                    ssh_config: Some(fixture("fleet/ssh_config")),
                    tailscale_status: Some(input.to_path_buf()),
                    no_tailscale: false,
                });
                digest_diagnostics(&diagnostics, &mut digest);
                inventory.hosts().len().hash(&mut digest);
                let text = "tag:prod & online, os:linux & !offline";
                let selector = Selector::parse(text, Some(0), (0, text.len()).into())
                    .expect("a valid selector");
                let mut found = Diagnostics::default();
                let scope = Scope::new(&inventory);
                resolve_or_report(&selector, &scope, &Source::new("on", text), &mut found);
                digest_diagnostics(&found, &mut digest);
            }
        }
        digest.finish()
    }

    /// A selector the three ways users write one.
    fn selector(&self, text: &str, digest: &mut DefaultHasher) {
        let inventory = &self.prepared.inventory;
        // `tsync run SELECTOR -- …`
        let (_, found) = Plan::ad_hoc(text, "true", Duration::from_secs(1), inventory, None);
        digest_diagnostics(&found, digest);
        // `--limit SELECTOR`
        let limit = Prepared::new(&Inputs {
            limit: Some(text.to_string()),
            ..fleet_inputs()
        });
        digest_diagnostics(&limit.diagnostics, digest);
        // `on "SELECTOR"` in a playbook, as a raw string so that spans stay exact.
        let hashes = "#".repeat(text.matches('#').count() + 1);
        let playbook =
            format!("stage \"s\" {{\n    on {hashes}\"{text}\"{hashes}\n    run \"true\"\n}}\n");
        let path = self.scratch.join("on.kdl");
        if std::fs::write(&path, playbook).is_ok() {
            let (_, found) = self.prepared.plan(&path);
            digest_diagnostics(&found, digest);
        }
    }
}

/// The flags of a run against the fleet fixture: 7 hosts, a `builders` group, Tailscale off.
fn fleet_inputs() -> Inputs {
    Inputs {
        vars: Vec::new(),
        limit: None,
        inventory: vec![fixture("fleet/inventory.kdl")],
        sources: Sources {
            ssh_config: Some(fixture("fleet/ssh_config")),
            tailscale_status: None,
            no_tailscale: true,
        },
    }
}

fn fixture(path: &str) -> PathBuf {
    Path::new(FIXTURES).join(path)
}

/// Digests what a user would see, drawn both ways the binary draws it.
fn digest_diagnostics(diagnostics: &Diagnostics, digest: &mut DefaultHasher) {
    // Only as many messages as the binary draws: placing one on a long line costs a pass
    // over it, and a selector of thousands of unknown words has thousands of them.
    for d in diagnostics.iter().take(50) {
        d.code().hash(digest);
        shape(&d.to_string()).hash(digest);
    }
    diagnostics.iter().count().min(50).hash(digest);
    let plain = render(diagnostics, false, false);
    let terminal = render(diagnostics, true, true);
    (plain.is_empty(), terminal.is_empty()).hash(digest);
}

/// A message without the parts that vary with the input (quoted text, numbers), so that
/// two inputs count as different only when they reach different messages.
fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '`' => quoted = !quoted,
            _ if quoted || c.is_ascii_digit() => {}
            _ => out.push(c),
        }
    }
    out
}

//! A small builder around the `tsync` binary: each test gets a fresh, empty HOME and
//! `--no-tailscale` so the developer's own ssh config, sshsync groups or Tailscale never leak
//! in.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, Output};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A lab of `hosts` real sshd hosts named lab-1…lab-N.
pub fn lab(hosts: usize) -> tsync_lab::Lab {
    tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts,
        ..Default::default()
    })
    .expect("the lab starts")
}

/// Writes a playbook into a temporary directory and returns both (the directory must live
/// as long as the file is used).
pub fn playbook(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("playbook.kdl");
    std::fs::write(&path, text).expect("write playbook");
    (dir, path)
}

/// Processes whose command line mentions `needle`, other than sshd (the lab's own).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && !cmdline.contains("sshd") {
            found.push(cmdline);
        }
    }
    found
}

/// Sends the signal `name` (`INT`, `TERM`, `HUP`) to a running tsync.
pub fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// A directory holding an executable `tailscale` shell script with `body`.
pub fn fake_tailscale(body: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tailscale");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write tailscale");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// schema/events.schema.json, compiled once per test process.
fn events_schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: std::sync::OnceLock<(boon::Schemas, boon::SchemaIndex)> =
        std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = format!("{ROOT}/schema/events.schema.json");
        let text = std::fs::read_to_string(&path).expect("the events schema");
        let json = serde_json::from_str(&text).expect("the events schema is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(&path, json)
            .expect("the events schema loads");
        let index = compiler
            .compile(&path, &mut schemas)
            .unwrap_or_else(|e| panic!("the events schema compiles: {e:#}"));
        (schemas, index)
    })
}

pub fn fixture(path: &str) -> String {
    format!("{FIXTURES}/{path}")
}

pub struct Test {
    command: Command,
    args: Vec<OsString>,
    /// Whether the test gives Tailscale's state itself; otherwise `--no-tailscale` is passed.
    tailscale: bool,
    home: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub fn new() -> Test {
        let home = tempfile::tempdir().expect("temp home");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tsync"));
        command
            .current_dir(ROOT)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            // The local deploy lock lives in the runtime or state directory: per test, under
            // its HOME, so that tests running at once do not hold each other's lock.
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("XDG_STATE_HOME")
            // Runs are recorded: never in the developer's own history.
            .env("TSYNC_HISTORY", home.path().join("history.db"))
            .env_remove("TSYNC_HISTORY_DAYS")
            .env("NO_COLOR", "1");
        Test {
            command,
            args: Vec::new(),
            tailscale: false,
            home,
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Test {
        self.command.env(key, value);
        self
    }

    /// For a command that reads no inventory (`history`): no `--no-tailscale` is passed.
    pub fn no_inventory(mut self) -> Test {
        self.tailscale = true;
        self
    }

    /// Reads Tailscale's state from `file` (`--tailscale-status`).
    pub fn tailscale_status(mut self, file: &str) -> Test {
        self.tailscale = true;
        self.args(["--tailscale-status", file])
    }

    /// Lets tsync run the `tailscale` the test put in `dir`.
    pub fn tailscale_command(mut self, dir: &std::path::Path) -> Test {
        self.tailscale = true;
        self.path_first(dir)
    }

    /// Puts `dir` first on PATH, so that its programs stand in for the real ones.
    pub fn path_first(mut self, dir: &std::path::Path) -> Test {
        let paths = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&paths));
        self.command
            .env("PATH", std::env::join_paths(paths).expect("a valid PATH"));
        self
    }

    /// Writes a file under HOME (creating folders), e.g. `.config/sshsync/config.yml`.
    pub fn home_file(self, path: &str, contents: &str) -> Test {
        let full: PathBuf = self.home.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, contents).expect("write");
        self
    }

    /// Runs tsync in `dir` rather than in the repo's root.
    pub fn current_dir(mut self, dir: &std::path::Path) -> Test {
        self.command.current_dir(dir);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// The fleet fixture: an ssh config of 7 hosts and an inventory with `builders`.
    pub fn fleet(self) -> Test {
        self.args([
            "--ssh-config",
            &fixture("fleet/ssh_config"),
            "--inventory",
            &fixture("fleet/inventory.kdl"),
        ])
    }

    /// Points tsync at a lab: its ssh config is the whole inventory.
    pub fn lab(self, lab: &tsync_lab::Lab) -> Test {
        let config = lab.ssh_config();
        self.args([OsStr::new("--ssh-config"), config.as_os_str()])
    }

    /// The command to run: `--no-tailscale` goes right after the subcommand, before any `--`.
    fn command(mut self) -> (Command, tempfile::TempDir) {
        let mut args = self.args.into_iter();
        self.command.args(args.next());
        if !self.tailscale {
            self.command.arg("--no-tailscale");
        }
        self.command.args(args);
        (self.command, self.home)
    }

    /// Starts tsync without waiting, stdout piped, for tests that act while it runs.
    pub fn spawn(self) -> (std::process::Child, tempfile::TempDir) {
        let (mut command, home) = self.command();
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().expect("tsync starts");
        (child, home)
    }

    pub fn run(self) -> Run {
        let (mut command, _home) = self.command();
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("tsync runs");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// The JSON lines of `--output json`, one event each, every one checked against
    /// schema/events.schema.json (types, enums and required fields).
    #[track_caller]
    pub fn events(&self) -> Vec<serde_json::Value> {
        let events: Vec<serde_json::Value> = self
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let (schemas, schema) = events_schema();
        for event in &events {
            if let Err(error) = schemas.validate(event, *schema) {
                panic!("event does not follow the schema: {event}\n{error}");
            }
        }
        events
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", self.stdout))
    }
}

/// The events of one kind, in order.
pub fn of_kind<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// An HTTP service on every host of `lab`, all on one port number (so a playbook can
/// probe `http://{{address}}:PORT/`); the hosts at `failing` answer 500.
pub fn services(lab: &tsync_lab::Lab, failing: &[usize]) -> (Vec<tsync_lab::HttpService>, u16) {
    let first = lab.http_service(0).expect("the service starts");
    let port = first.address().port();
    let mut all = vec![first];
    for i in 1..lab.hosts().len() {
        all.push(lab.http_service_at(i, port).expect("the service starts"));
    }
    for &i in failing {
        std::fs::write(lab.srv(i).join("health"), "500").expect("write the answers");
    }
    (all, port)
}

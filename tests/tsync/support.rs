//! A small builder around the `tsync` binary: each test gets a fresh, empty HOME so the
//! developer's own ssh config, sshsync groups or Tailscale never leak in.

use std::path::PathBuf;
use std::process::{Command, Output};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub fn fixture(path: &str) -> String {
    format!("{FIXTURES}/{path}")
}

pub struct Test {
    command: Command,
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
            .env("NO_COLOR", "1");
        Test { command, home }
    }

    /// Writes a file under HOME (creating folders), e.g. `.config/sshsync/config.yml`.
    pub fn home_file(self, path: &str, contents: &str) -> Test {
        let full: PathBuf = self.home.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, contents).expect("write");
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
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

    pub fn run(mut self) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command.output().expect("tsync runs");
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

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", self.stdout))
    }
}

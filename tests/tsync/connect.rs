//! How tsync reports hosts it cannot connect to, against a lab.

use crate::support::{Test, lab};

/// The lab's ssh config and known_hosts, rewritten by `edit` into a directory of their own.
fn edited_config(
    lab: &tsync_lab::Lab,
    edit: impl Fn(&str, &str) -> (String, String),
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    let config = std::fs::read_to_string(lab.ssh_config()).unwrap();
    let original = std::fs::read_to_string(lab.dir().join("known_hosts")).unwrap();
    let (config, hosts) = edit(&config, &original);
    let config: String = config
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("UserKnownHostsFile") {
                format!("  UserKnownHostsFile \"{}\"\n", known_hosts.display())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&known_hosts, hosts).unwrap();
    let path = dir.path().join("ssh_config");
    std::fs::write(&path, config).unwrap();
    (dir, path)
}

/// Regression: a changed host key dumped ssh's 16-line warning into the live line and the
/// recap.
#[test]
fn a_changed_host_key_is_named_with_its_known_hosts_entry() {
    let lab = lab(2);
    // lab-1's entry carries lab-2's key: to ssh, lab-1's key has changed.
    let (dir, config) = edited_config(&lab, |config, hosts| {
        let lines: Vec<&str> = hosts.lines().collect();
        let key_2 = lines[1].split_once(' ').unwrap().1;
        let names_1 = lines[0].split_once(' ').unwrap().0;
        (
            config.to_string(),
            format!("{names_1} {key_2}\n{}\n", lines[1]),
        )
    });
    let run = Test::new()
        .args(["run", "all", "--ssh-config"])
        .args([&config])
        .args(["--", "true"])
        .run()
        .code(4);
    let entry = format!("{}:1", dir.path().join("known_hosts").display());
    let expected = format!(
        "host key of lab-1 has changed (possible attack); its known_hosts entry is {entry}"
    );
    assert!(
        run.stdout
            .contains(&format!("✗ lab-1 unreachable: {expected}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("└ run: unreachable: {expected}\n")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("@@@"), "{}", run.stdout);
}

/// Regression: an ssh config alias starting with `-` reached ssh as an option (the user saw
/// ssh's usage or "No such file or directory"; `-oProxyCommand=…` would run a command).
#[test]
fn a_host_name_starting_with_a_dash_is_not_passed_to_ssh() {
    let lab = lab(2);
    let (_dir, config) = edited_config(&lab, |config, hosts| {
        (
            config.replace("Host lab-1\n", "Host -lab-1\n"),
            hosts.to_string(),
        )
    });
    let run = Test::new()
        .args(["run", "all", "--ssh-config"])
        .args([&config])
        .args(["--", "echo reached"])
        .run()
        .code(4)
        .stdout_has("lab-2 │ reached")
        .stdout_has(
            "✗ -lab-1 unreachable: ssh cannot connect to `-lab-1`: a name starting with `-` is taken for an option; rename the host",
        );
    assert!(!run.stdout.contains("-lab-1 │ reached"));
}

/// Regression: `apply` accepted `--timeout` and ignored it. Step limits live in the
/// playbook, where `plan` shows them; the flag belongs to `run` alone.
#[test]
fn apply_has_no_timeout_flag() {
    let (_dir, file) =
        crate::support::playbook("stage \"s\" {\n    on \"all\"\n    run \"true\"\n}\n");
    Test::new()
        .args(["apply", "--timeout", "1s"])
        .args([&file])
        .run()
        .code(2)
        .stderr_has("unexpected argument '--timeout'");
}

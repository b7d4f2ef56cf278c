//! Inventory sources: ssh config with Include, sshsync's groups, Tailscale's status.

use crate::support::{Test, fake_tailscale, fixture};

fn stage_on(selector: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".kdl").tempfile().unwrap();
    std::fs::write(
        file.path(),
        format!("stage \"s\" {{\n    on \"{selector}\"\n    run \"true\"\n}}\n"),
    )
    .unwrap();
    file
}

fn hosts(run: &crate::support::Run) -> Vec<String> {
    run.json()["stages"][0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ssh_config_aliases_follow_include() {
    let file = stage_on("all");
    let run = Test::new()
        .args([
            "plan",
            "--format",
            "json",
            "--ssh-config",
            &fixture("ssh/basic/config"),
        ])
        .args([file.path()])
        .run()
        .code(0);
    let found = hosts(&run);
    // Hosts from the top file and from included ones; no wildcard patterns.
    assert!(found.len() > 3, "{found:?}");
    assert!(found.iter().all(|h| !h.contains('*') && !h.contains('?')));
}

#[test]
fn the_default_ssh_config_is_read_from_home() {
    let file = stage_on("web-*");
    let test = Test::new().home_file(".ssh/config", "Host web-1 web-2 db-1\n    User x\n");
    let run = test
        .args(["plan", "--format", "json"])
        .args([file.path()])
        .run()
        .code(0);
    assert_eq!(hosts(&run), ["web-1", "web-2"]);
}

#[test]
fn sshsync_groups_just_work() {
    let file = stage_on("web");
    let run = Test::new()
        .home_file(".ssh/config", "Host web-1 web-2 db-1\n")
        .home_file(
            ".config/sshsync/config.yml",
            "groups:\n    web: [web-1, web-2]\nhost_auth:\n    web-1: {auth: key}\n",
        )
        .args(["plan", "--format", "json"])
        .args([file.path()])
        .run()
        .code(0);
    assert_eq!(hosts(&run), ["web-1", "web-2"]);
}

#[test]
fn tailscale_peers_tags_os_and_online_are_selectable() {
    let status = fixture("tailscale/status.json");
    let pick = |selector: &str| {
        let file = stage_on(selector);
        let run = Test::new()
            .args(["plan", "--format", "json"])
            .tailscale_status(&status)
            .args([file.path()])
            .run()
            .code(0);
        hosts(&run)
    };
    assert_eq!(pick("tag:prod"), ["db-1", "web-1", "web-2"]);
    assert_eq!(pick("tag:prod & online"), ["web-1", "web-2"]);
    assert_eq!(pick("os:macos"), ["alice-mbp"]);
    assert_eq!(pick("offline"), ["build-win01", "db-1"]);
}

#[test]
fn tailscale_not_running_is_reported_and_tag_selectors_say_why() {
    let file = stage_on("tag:prod");
    Test::new()
        .args(["check", "--ssh-config", &fixture("fleet/ssh_config")])
        .tailscale_status(&fixture("tailscale/status-stopped.json"))
        .args([file.path()])
        .run()
        .code(2)
        .stderr_has("Tailscale is Stopped")
        .stderr_has(
            "`tag:prod` needs Tailscale, but Tailscale is not running (its state is Stopped)",
        );
    Test::new()
        .args(["check", "--ssh-config", &fixture("fleet/ssh_config")])
        .tailscale_status(&fixture("tailscale/status-needslogin.json"))
        .args([file.path()])
        .run()
        .code(2)
        .stderr_has("Tailscale is NeedsLogin")
        .stderr_has("tailscale up");
    // No Tailscale at all is fine until a selector needs it.
    let plain = stage_on("all");
    Test::new()
        .args(["check", "--ssh-config", &fixture("fleet/ssh_config")])
        .args([plain.path()])
        .run()
        .code(0);
}

#[test]
fn a_broken_sshsync_config_is_a_warning_that_says_where() {
    let file = stage_on("all");
    Test::new()
        .home_file(".ssh/config", "Host web-1\n")
        .home_file(".config/sshsync/config.yml", "groups:\n  web: [web-1\n")
        .args(["check"])
        .args([file.path()])
        .run()
        .code(0)
        .stderr_has("invalid yaml in sshsync config")
        .stderr_has("line 3 column 1");
}

#[test]
fn tests_never_ask_the_developers_tailscale() {
    // Regression: `Test::new()` did not pass `--no-tailscale`, so tests ran the `tailscale`
    // of whoever ran them and depended on that machine's tailnet.
    let marker = tempfile::tempdir().unwrap();
    let asked = marker.path().join("asked");
    let fake = fake_tailscale(&format!("touch '{}'; exit 1", asked.display()));
    Test::new()
        .path_first(fake.path())
        .args(["check", "examples/web.kdl"])
        .run()
        .code(0);
    assert!(!asked.exists(), "the test asked `tailscale`");
    // A test that wants Tailscale says so, and gets the one it put on PATH.
    Test::new()
        .tailscale_command(fake.path())
        .args(["check", "examples/web.kdl"])
        .run()
        .code(0)
        .stderr_has("tailscale status --json` failed");
    assert!(asked.exists());
}

#[test]
fn yaml_aliases_in_the_sshsync_config_are_refused_not_expanded() {
    // Regression: a 480-byte "billion laughs" config of nested aliases, read on every command,
    // drove `tsync plan` past 19 GB. Aliases are read while what they expand to is small.
    let mut laughs = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip("abcdefgh".chars())
    {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        laughs.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    laughs.push_str("groups:\n  web: *i\n");
    let file = stage_on("all");
    let started = std::time::Instant::now();
    Test::new()
        .home_file(".ssh/config", "Host web-1\n")
        .home_file(".config/sshsync/config.yml", &laughs)
        .args(["check"])
        .args([file.path()])
        .run()
        .code(0)
        .stderr_has("config.yml:7:8: yaml aliases expand to more")
        .stderr_has("(a \"billion laughs\")");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Deep nesting is refused too (found by the fuzzer: the YAML loader recursed once per
    // level of `? ` keys, and overflowed the stack).
    let deep = format!("groups:\n{}web-1\n", "? ".repeat(5000));
    Test::new()
        .home_file(".ssh/config", "Host web-1\n")
        .home_file(".config/sshsync/config.yml", &deep)
        .args(["check"])
        .args([file.path()])
        .run()
        .code(0)
        .stderr_has("nests deeper than 32 levels");
}

#[test]
fn endless_input_files_fail_at_once() {
    // Regression: every input was read whole, so `tsync check /dev/zero` (or /dev/zero as a
    // config) ate all memory instead of failing.
    let started = std::time::Instant::now();
    Test::new()
        .args(["check", "/dev/zero"])
        .run()
        .code(2)
        .stderr_has("`/dev/zero` is larger than a playbook can be");
    Test::new()
        .args(["check", "examples/web.kdl", "--inventory", "/dev/zero"])
        .run()
        .code(2)
        .stderr_has("`/dev/zero` is larger than");
    Test::new()
        .args(["check", "examples/web.kdl", "--ssh-config", "/dev/zero"])
        .run()
        .code(2)
        .stderr_has("ssh config /dev/zero is larger than 4 MiB");
    Test::new()
        .args(["check", "examples/web.kdl"])
        .tailscale_status("/dev/zero")
        .run()
        .code(2)
        .stderr_has("tailscale status file /dev/zero is larger than 32 MiB");
    let file = stage_on("all");
    Test::new()
        .home_file(".ssh/config", "Host web-1\nInclude /dev/zero\n")
        .args(["check"])
        .args([file.path()])
        .run()
        .stderr_has("ssh config /dev/zero is larger than 4 MiB");
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir(xdg.path().join("sshsync")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", xdg.path().join("sshsync/config.yml")).unwrap();
    Test::new()
        .home_file(".ssh/config", "Host web-1\n")
        .env("XDG_CONFIG_HOME", xdg.path())
        .args(["check"])
        .args([file.path()])
        .run()
        .code(0)
        .stderr_has("sshsync/config.yml is larger than 1 MiB");
    // `tailscale status --json` printing forever is cut off too.
    let endless = fake_tailscale("exec cat /dev/zero");
    Test::new()
        .tailscale_command(endless.path())
        .args(["check", "examples/web.kdl"])
        .run()
        .code(0)
        .stderr_has("`tailscale status --json` printed more than 32 MiB");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn tailscale_peers_without_dns_names_are_separate_hosts() {
    // Regression: two peers with empty DNS names (MagicDNS off) and one host name were merged
    // into one host, so `tag:web` picked the database too.
    let status = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(
        status.path(),
        r#"{"BackendState":"Running","Peer":{
            "k1":{"HostName":"box","DNSName":"","Online":true,"TailscaleIPs":["100.64.0.2"],"Tags":["tag:db"]},
            "k2":{"HostName":"box","DNSName":"","Online":true,"TailscaleIPs":["100.64.0.1"],"Tags":["tag:web"]}}}"#,
    )
    .unwrap();
    let pick = |selector: &str| {
        let file = stage_on(selector);
        let run = Test::new()
            .args(["plan", "--format", "json"])
            .tailscale_status(&status.path().display().to_string())
            .args([file.path()])
            .run()
            .code(0);
        hosts(&run)
    };
    assert_eq!(pick("tag:web"), ["box"]);
    assert_eq!(pick("tag:db"), ["box-2"]);
    assert_eq!(pick("all"), ["box", "box-2"]);
}

#[test]
fn a_playbooks_groups_stay_in_that_playbook() {
    // Playbooks are planned over one shared inventory, with their own groups laid over it:
    // a group a playbook redefines wins in that playbook only, and a group it adds is
    // unknown to the next playbook of the same `check`.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let redefines = write(
        "redefines.kdl",
        "group \"staging\" \"build-1\"\ngroup \"canary\" \"stage-1\"\n\
         stage \"s\" {\n    on \"staging\"\n    run \"true\"\n}\n",
    );
    let shared = write(
        "shared.kdl",
        "stage \"s\" {\n    on \"staging & stage-2\"\n    run \"true\"\n}\n",
    );
    let borrows = write(
        "borrows.kdl",
        "stage \"s\" {\n    on \"canary\"\n    run \"true\"\n}\n",
    );
    let misspells = write(
        "misspells.kdl",
        "group \"canary\" \"stage-1\"\nstage \"s\" {\n    on \"canry\"\n    run \"true\"\n}\n",
    );

    let run = Test::new()
        .args(["plan", "--format", "json"])
        .fleet()
        .args([&redefines])
        .run()
        .code(0);
    assert_eq!(hosts(&run), ["build-1"]);
    Test::new()
        .args(["check"])
        .fleet()
        .args([&redefines, &shared])
        .run()
        .code(0);
    Test::new()
        .args(["check"])
        .fleet()
        .args([&redefines, &borrows])
        .run()
        .code(2)
        .stderr_has("`canary` is not a known host or group");
    Test::new()
        .args(["check"])
        .fleet()
        .args([&misspells])
        .run()
        .code(2)
        .stderr_has("did you mean `canary`?");
}

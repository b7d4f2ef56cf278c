//! `tsync init` and `tsync workflows` (the built-in workflows of playbooks/), and the
//! inventory.kdl every command finds in the current directory or a parent.

use std::path::{Path, PathBuf};

use crate::support::{ROOT, Test, fixture};

/// An empty directory to start a repo in, and an ssh config of web-1, web-2 and db-1 beside
/// it (nothing here is connected to).
fn repo() -> (tempfile::TempDir, PathBuf, String) {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    let config = top.path().join("ssh_config");
    std::fs::write(&config, "Host web-1 web-2 db-1\n    HostName 127.0.0.1\n").unwrap();
    (top, dir, config.display().to_string())
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// The playbooks `init` wrote into `dir`, for `tsync check`.
fn written_playbooks(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir.join("playbooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    found.sort();
    found
}

/// The names of playbooks/*.kdl in the repo.
fn library() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("playbooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The inventory.kdl init wrote into `dir` is found and read without a problem, and
/// defines the groups the workflows need (when hosts are known), whatever the playbooks' own
/// state; `warning` is the one warning expected, if any.
fn inventory_checks(dir: &Path, ssh_config: &str, warning: &str) {
    let playbook = dir.join("any.kdl");
    std::fs::write(
        &playbook,
        "stage \"s\" {\n    on \"builders\" \"staging\" \"production\" \"primary\"\n    run \"true\"\n}\n",
    )
    .unwrap();
    let run = Test::new()
        .current_dir(dir)
        .args(["check", "any.kdl", "--ssh-config", ssh_config])
        .run()
        .code(0)
        .stderr_has(warning);
    assert!(!run.stderr.contains("inventory.kdl"), "{}", run.stderr);
    std::fs::remove_file(playbook).unwrap();
}

#[test]
fn init_writes_the_chosen_workflows_and_they_check() {
    let (_top, dir, config) = repo();
    Test::new()
        .current_dir(&dir)
        .args([
            "init",
            "--with",
            "disk-report,rolling-restart",
            "--ssh-config",
            &config,
        ])
        .run()
        .code(0)
        .stdout_has("wrote playbooks/disk-report.kdl")
        .stdout_has("tsync check playbooks/*.kdl");
    for file in [
        "playbooks/disk-report.kdl",
        "playbooks/rolling-restart.kdl",
        "playbooks/README.md",
        "playbooks/.gitignore",
    ] {
        assert!(dir.join(file).is_file(), "{file} is written");
    }
    assert!(
        !dir.join("playbooks/deploy.kdl").exists(),
        "only the chosen ones"
    );
    assert_eq!(
        read(dir.join("playbooks/disk-report.kdl")),
        read(Path::new(ROOT).join("playbooks/disk-report.kdl"))
    );
    let inventory = read(dir.join("inventory.kdl"));
    assert!(inventory.contains("group \"web\" \"web-*\""), "{inventory}");
    assert!(
        !inventory.contains("group \"db\""),
        "one host is no group: {inventory}"
    );
    let readme = read(dir.join("playbooks/README.md"));
    for needle in [
        "tsync apply playbooks/disk-report.kdl --quiet --if-locked=skip",
        "tsync apply playbooks/rolling-restart.kdl --quiet --if-locked=skip",
        "--dry-run",
        "75",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}:\n{readme}");
    }
    Test::new()
        .current_dir(&dir)
        .args(["check", "--ssh-config", &config])
        .args(written_playbooks(&dir))
        .run()
        .code(0);
}

#[test]
fn init_of_every_workflow_checks_with_hosts_known_and_with_none() {
    // With hosts: the fleet's names suggest builders, staging and production.
    let (_top, dir, _) = repo();
    let fleet = fixture("fleet/ssh_config");
    Test::new()
        .current_dir(&dir)
        .args(["init", "--ssh-config", &fleet])
        .run()
        .code(0);
    let inventory = read(dir.join("inventory.kdl"));
    for group in [
        "group \"builders\" \"build-1\"",
        "group \"staging\" \"stage-1\" \"stage-2\"",
        "group \"production\" \"prod-web-1\" \"prod-web-2\" \"prod-web-3\" \"prod-web-4\"",
        "group \"primary\" \"build-1\"",
    ] {
        assert!(inventory.contains(group), "{group}:\n{inventory}");
    }
    inventory_checks(&dir, &fleet, "");
    let written = written_playbooks(&dir);
    let expected: Vec<String> = library()
        .iter()
        .map(|n| format!("playbooks/{n}.kdl"))
        .collect();
    assert_eq!(written, expected);
    assert!(dir.join("playbooks/scripts/release.sh").is_file());
    let gitignore = read(dir.join("playbooks/.gitignore"));
    for output in ["backups/", ".build/", ".sync-from-one/", "artifacts/"] {
        assert!(gitignore.contains(output), "{output}:\n{gitignore}");
    }
    Test::new()
        .current_dir(&dir)
        .args(["check", "--ssh-config", &fleet])
        .args(&written)
        .run()
        .code(0);

    // With none: every group it needs is left commented out, and the rest still checks.
    let (top, dir, _) = repo();
    let empty = top.path().join("empty_config");
    std::fs::write(&empty, "").unwrap();
    Test::new()
        .current_dir(&dir)
        .args(["init", "--ssh-config"])
        .args([&empty])
        .run()
        .code(0)
        .stdout_has("left commented out");
    let inventory = read(dir.join("inventory.kdl"));
    assert!(
        inventory.contains("// group \"staging\""),
        "commented out:\n{inventory}"
    );
    assert!(
        !inventory.contains("\ngroup "),
        "no group defined:\n{inventory}"
    );
    inventory_checks(&dir, &empty.display().to_string(), "no hosts are known");
    Test::new()
        .current_dir(&dir)
        .args(["check", "--ssh-config"])
        .args([&empty])
        .args(written_playbooks(&dir))
        .run()
        .code(0);
}

#[test]
fn a_second_init_refuses_names_every_conflict_and_changes_nothing() {
    let (_top, dir, config) = repo();
    Test::new()
        .current_dir(&dir)
        .args(["init", "--with", "disk-report", "--ssh-config", &config])
        .run()
        .code(0);
    std::fs::write(dir.join("inventory.kdl"), "// mine\n").unwrap();
    let run = Test::new()
        .current_dir(&dir)
        .args([
            "init",
            "--with",
            "disk-report,backup",
            "--ssh-config",
            &config,
        ])
        .run()
        .code(2)
        .stderr_has("nothing was written")
        .stderr_has("inventory.kdl exists")
        .stderr_has("playbooks/disk-report.kdl exists")
        .stderr_has("playbooks/README.md exists")
        .stderr_has("playbooks/.gitignore exists");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(read(dir.join("inventory.kdl")), "// mine\n");
    assert!(
        !dir.join("playbooks/backup.kdl").exists(),
        "nothing new either"
    );
    assert!(!dir.join("playbooks/scripts").exists());
}

#[test]
fn an_unknown_workflow_is_refused_with_a_suggestion() {
    let (_top, dir, config) = repo();
    Test::new()
        .current_dir(&dir)
        .args(["init", "--with", "deplyo,backup", "--ssh-config", &config])
        .run()
        .code(2)
        .stderr_has("no built-in workflow named `deplyo`")
        .stderr_has("did you mean `deploy`?");
    assert!(!dir.join("inventory.kdl").exists());
    assert!(!dir.join("playbooks").exists());
}

#[test]
fn tailscale_tags_and_sshsync_groups_become_groups() {
    let (_top, dir, _) = repo();
    Test::new()
        .current_dir(&dir)
        .home_file(".ssh/config", "Host web-1 web-2 db-1\n")
        .home_file(
            ".config/sshsync/config.yml",
            "groups:\n    dbs: [db-1]\n    all-web: [web-1, web-2]\n",
        )
        .tailscale_status(&fixture("tailscale/status.json"))
        .args(["init", "--with", "health-report"])
        .run()
        .code(0)
        .stdout_has("groups all-web, dbs, prod, web");
    let inventory = read(dir.join("inventory.kdl"));
    for group in [
        "group \"dbs\" \"db-1\"",
        "group \"all-web\" \"web-1\" \"web-2\"",
        "group \"prod\" {\n    tag \"tag:prod\"\n}",
        "group \"web\" {\n    tag \"tag:web\"\n}",
        "Tailscale: 5 peers",
        "sshsync's groups in ~/.config/sshsync/config.yml: 2 groups",
    ] {
        assert!(inventory.contains(group), "{group}:\n{inventory}");
    }
    // The tag group came first; the name prefix `web` is not suggested again.
    assert!(
        !inventory.contains("group \"web\" \"web-*\""),
        "{inventory}"
    );

    // The file is found and its groups resolve, without sshsync's config this time.
    let playbook = dir.join("groups.kdl");
    std::fs::write(
        &playbook,
        "stage \"s\" {\n    on \"dbs\" \"all-web\" \"prod\"\n    run \"true\"\n}\n",
    )
    .unwrap();
    let run = Test::new()
        .current_dir(&dir)
        .home_file(".ssh/config", "Host web-1 web-2 db-1\n")
        .tailscale_status(&fixture("tailscale/status.json"))
        .args(["plan", "--format", "json", "groups.kdl"])
        .run()
        .code(0);
    assert_eq!(
        run.json()["stages"][0]["hosts"],
        serde_json::json!(["web-1", "web-2", "db-1"])
    );
}

#[test]
fn the_nearest_inventory_kdl_is_found_from_a_subdirectory() {
    let (_top, dir, config) = repo();
    std::fs::write(dir.join("inventory.kdl"), "group \"web\" \"web-*\"\n").unwrap();
    let sub = dir.join("playbooks/deep");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("web.kdl"),
        "stage \"s\" {\n    on \"web\"\n    run \"true\"\n}\n",
    )
    .unwrap();
    let plan = |dir: &Path| {
        Test::new()
            .current_dir(dir)
            .args(["plan", "--format", "json", "--ssh-config", &config])
            .args([sub.join("web.kdl")])
    };
    let run = plan(&sub).run().code(0);
    assert_eq!(
        run.json()["stages"][0]["hosts"],
        serde_json::json!(["web-1", "web-2"])
    );

    // A mistake in it is reported as in an --inventory file's, with the file named.
    std::fs::write(dir.join("inventory.kdl"), "group \"web\" \"wbe-1\"\n").unwrap();
    plan(&sub)
        .run()
        .code(2)
        .stderr_has("inventory.kdl:1:")
        .stderr_has("`wbe-1` is not a known host")
        .stderr_has("did you mean `web-1`?");

    // `--inventory FILE` reads FILE instead.
    let other = dir.join("other.kdl");
    std::fs::write(&other, "group \"web\" \"db-1\"\n").unwrap();
    let run = plan(&sub)
        .args(["--inventory"])
        .args([&other])
        .run()
        .code(0);
    assert_eq!(
        run.json()["stages"][0]["hosts"],
        serde_json::json!(["db-1"])
    );

    // Outside the repo, nothing is found: `web` is no group there.
    plan(dir.parent().unwrap())
        .run()
        .code(2)
        .stderr_has("`web` is not a known host or group");
}

#[test]
fn workflows_lists_every_playbook_with_its_description_and_vars() {
    let run = Test::new()
        .no_inventory()
        .args(["workflows"])
        .run()
        .code(0)
        .stdout_has("vars: hosts=all limit=90")
        .stdout_has("Report disk usage everywhere; fail hosts above a limit")
        .stdout_has("tsync init");
    for name in library() {
        assert!(
            run.stdout.lines().any(|l| l == name),
            "{name} is listed:\n{}",
            run.stdout
        );
    }
    let run = Test::new()
        .no_inventory()
        .args(["workflows", "--output", "json"])
        .run()
        .code(0);
    let all = run.json();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, library());
    let deploy = &all[0];
    assert_eq!(deploy["name"], "deploy");
    assert_eq!(
        deploy["vars"][0],
        serde_json::json!({"name": "release", "default": "dev"})
    );
    assert_eq!(
        deploy["groups"],
        serde_json::json!(["builders", "staging", "production"])
    );
    assert_eq!(deploy["scripts"], serde_json::json!(["scripts/release.sh"]));
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|w| !w["description"].as_str().unwrap().is_empty())
    );
}

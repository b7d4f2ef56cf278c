//! `tsync apply --dry-run` on labs of real sshd hosts: it says what would run, shows the
//! hosts' health, finds unreachable hosts now, and changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{ROOT, Test, lab, of_kind, playbook};

/// Every file, directory and link under `dir`: its path, kind, mode and contents.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                format!("dir {:o}", meta.permissions().mode())
            } else {
                format!(
                    "file {:o} {:?}",
                    meta.permissions().mode(),
                    std::fs::read(&path).unwrap()
                )
            };
            found.insert(path.display().to_string(), what);
        }
    }
    found
}

#[test]
fn a_dry_run_of_every_playbook_changes_nothing_on_any_host() {
    let lab = lab(3);
    let (_dir, groups) = playbook(
        r#"
group "staging" "lab-1"
group "production" "lab-2" "lab-3"
group "builders" "lab-1"
group "web" "lab-2" "lab-3"
group "primary" "lab-1"
"#,
    );
    // examples/web.kdl names the hosts of its groups: they become aliases of lab hosts.
    let config = std::fs::read_to_string(lab.ssh_config()).unwrap();
    let mut aliased = config.clone();
    for (alias, host) in [
        ("stage-1", "lab-1"),
        ("stage-2", "lab-2"),
        ("prod-web-1", "lab-2"),
        ("prod-web-2", "lab-3"),
    ] {
        let start = config.find(&format!("\nHost {host}\n")).unwrap();
        let block = &config[start + 1..];
        let end = block[1..].find("\nHost ").map_or(block.len(), |e| e + 2);
        aliased.push('\n');
        aliased.push_str(&block[..end].replacen(host, alias, 1));
    }
    let ssh_config = _dir.path().join("ssh_config");
    std::fs::write(&ssh_config, aliased).unwrap();
    let mut playbooks: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["playbooks", "examples"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "kdl") {
                playbooks.push(path);
            }
        }
    }
    playbooks.sort();
    assert!(playbooks.len() >= 5, "{playbooks:?}");
    for file in &playbooks {
        let before: Vec<_> = (0..3).map(|i| tree(&lab.srv(i))).collect();
        let run = Test::new()
            .args(["apply", "--dry-run", "--output", "json"])
            .args([file])
            .args(["--inventory"])
            .args([&groups])
            .args(["--ssh-config"])
            .args([&ssh_config])
            .run();
        assert_eq!(
            run.code,
            0,
            "{}\n{}\n{}",
            file.display(),
            run.stdout,
            run.stderr
        );
        let after: Vec<_> = (0..3).map(|i| tree(&lab.srv(i))).collect();
        assert_eq!(before, after, "{} changed a host", file.display());
        let events = run.events();
        assert!(
            of_kind(&events, "step_started").is_empty(),
            "{}",
            file.display()
        );
        // Every playbook previews steps, or (health-report) only probes its checks.
        let previews =
            of_kind(&events, "step_preview").len() + of_kind(&events, "check_preview").len();
        assert!(previews > 0, "{}", file.display());
        assert_eq!(events.last().unwrap()["summary"]["dry_run"], true);
    }
}

#[test]
fn a_dry_run_shows_commands_health_rollback_and_unreachable_hosts() {
    let mut lab = lab(3);
    let service = lab.http_service(0).unwrap();
    let (_dir, file) = playbook(&format!(
        r#"
vars {{ release "v7" }}
stage "deploy" {{
    on "all"
    rolling batch=1 max-fail=1
    run "echo {{{{release}}}} on {{{{host}}}} > /tmp/never"
    check "up" {{ http "http://{}/up" }}
    rollback {{ run "echo undo {{{{release}}}}" }}
}}
"#,
        service.address()
    ));
    lab.stop(2).unwrap();
    let run = Test::new()
        .args(["apply", "--dry-run"])
        .args([&file])
        .lab(&lab)
        .args(["--connect-timeout", "2s"])
        .run()
        // A host cannot be reached: a real run could not go as planned.
        .code(4);
    for needle in [
        "lab-1: deploy step 1 would run: echo v7 on lab-1 > /tmp/never",
        "lab-2: deploy step 2 would roll back with: echo undo v7",
        "lab-1: deploy check up (http://",
        "healthy now: 200: \"ok\"",
        "✗ lab-3 unreachable",
        "dry run: 2 steps would run on 2 hosts, 0 skipped, 1 unreachable; nothing was changed",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
    assert_eq!(service.requests(), 2, "one probe per reachable host");
}

#[test]
fn a_dry_run_evaluates_guards_until_a_step_would_change_the_host() {
    let lab = lab(1);
    let srv = lab.host_srv(0).display().to_string();
    std::fs::write(lab.srv(0).join("installed"), "").unwrap();
    let (_dir, file) = playbook(&format!(
        r#"
stage "setup" {{
    on "lab-1"
    run "echo install > {srv}/never" creates="{srv}/installed"
    run "echo configure >> {srv}/never" unless="false"
    run "echo reload >> {srv}/never" only-if="true"
}}
"#
    ));
    let run = Test::new()
        .args(["apply", "--dry-run"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    for needle in [
        format!("lab-1: setup step 1 would skip (creates {srv}/installed exists)"),
        "lab-1: setup step 2 would run".to_string(),
        "lab-1: setup step 3 unknown (an earlier step would change this host)".to_string(),
        "dry run: 1 step would run on 1 host, 1 skipped, 1 unknown, 0 unreachable".to_string(),
    ] {
        assert!(run.stdout.contains(&needle), "{needle}\n{}", run.stdout);
    }
    assert!(!lab.srv(0).join("never").exists());
}

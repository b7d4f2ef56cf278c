//! `tsync plan`: stages in order, their hosts, commands with variables filled in, checks and
//! batches; in text, JSON, DOT and Mermaid.

use crate::support::{Test, fixture};

#[test]
fn web_example_resolves_every_stage() {
    let run = Test::new()
        .args(["plan", "examples/web.kdl", "--format", "json"])
        .fleet()
        .tailscale_status(&fixture("tailscale/status.json"))
        .run()
        .code(0);
    let plan = run.json();
    let stages = plan["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "staging", "production"]);
    let hosts = |i: usize| -> Vec<&str> {
        stages[i]["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect()
    };
    assert_eq!(hosts(0), ["build-1"]);
    assert_eq!(hosts(1), ["stage-1", "stage-2"]);
    // `production` is the `prod-web-*` aliases plus every Tailscale peer tagged tag:prod.
    assert_eq!(
        hosts(2),
        [
            "prod-web-1",
            "prod-web-2",
            "prod-web-3",
            "prod-web-4",
            "db-1",
            "web-1",
            "web-2"
        ]
    );
    assert_eq!(
        stages[0]["steps"][0]["commands"]["build-1"],
        "cd -- ~/src/web || exit; make release"
    );
    assert_eq!(stages[0]["steps"][0]["timeout_secs"], 600.0);
    assert_eq!(stages[2]["checks"][0]["retries"], 10);
    // 25% of 7 hosts is one host per batch.
    assert_eq!(stages[2]["rolling"]["batches"].as_array().unwrap().len(), 7);
    assert_eq!(
        plan["waves"],
        serde_json::json!([["build"], ["staging"], ["production"]])
    );
}

#[test]
fn text_plan_shows_order_hosts_checks_and_batches() {
    let run = Test::new()
        .args(["plan", "examples/web.kdl"])
        .fleet()
        .run()
        .code(0);
    insta::assert_snapshot!("web_text", run.stdout);
    // Without Tailscale the tag is only a warning: the host patterns still count.
    assert!(
        run.stderr
            .contains("group `production` selects by `tag:prod`")
    );
}

#[test]
fn independent_stages_are_marked_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fan.kdl");
    std::fs::write(
        &file,
        r#"
stage "build" { on "builders"; run "make"; }
stage "docs" { on "builders"; run "make docs"; }
stage "staging" { needs "build"; on "stage-*"; run "deploy"; }
stage "release" { needs "staging" "docs"; on "prod-web-1"; run "tag"; }
"#,
    )
    .unwrap();
    let run = Test::new()
        .args(["plan", "--format", "json"])
        .args([&file])
        .fleet()
        .run()
        .code(0);
    let plan = run.json();
    assert_eq!(
        plan["waves"],
        serde_json::json!([["build", "docs"], ["staging"], ["release"]])
    );
    let docs = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "docs")
        .unwrap();
    assert_eq!(
        docs["parallel_with"],
        serde_json::json!(["build", "staging"])
    );
    let text = Test::new()
        .args(["plan"])
        .args([&file])
        .fleet()
        .run()
        .code(0);
    assert!(
        text.stdout
            .contains("wave 1 (these stages run in parallel)")
    );

    let dot = Test::new()
        .args(["plan", "--format", "dot"])
        .args([&file])
        .fleet()
        .run()
        .code(0);
    insta::assert_snapshot!("fan_dot", dot.stdout);
    let mermaid = Test::new()
        .args(["plan", "--format", "mermaid"])
        .args([&file])
        .fleet()
        .run()
        .code(0);
    insta::assert_snapshot!("fan_mermaid", mermaid.stdout);
}

#[test]
fn limit_narrows_every_stage() {
    let run = Test::new()
        .args([
            "plan",
            "examples/web.kdl",
            "--format",
            "json",
            "--limit",
            "stage-*, prod-web-[12] & !prod-web-2",
        ])
        .fleet()
        .run()
        .code(0);
    let plan = run.json();
    let hosts: Vec<usize> = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hosts"].as_array().unwrap().len())
        .collect();
    assert_eq!(hosts, [0, 2, 1]);
    Test::new()
        .args(["plan", "examples/web.kdl", "--limit", "stage-1 stage-2"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("--limit:1:9");
}

#[test]
fn hostile_variable_values_stay_literal_in_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.kdl");
    std::fs::write(
        &file,
        r#"
vars { greeting "hello"; }
stage "s" {
    on "build-1"
    run "echo {{greeting}} '{{msg}}' \"{{msg}}\" {{host}}:{{port}}@{{address}}"
}
"#,
    )
    .unwrap();
    let hostile = "$(rm -rf ~) `x` ' \" ; |";
    let run = Test::new()
        .args([
            "plan",
            "--format",
            "json",
            "--var",
            &format!("msg={hostile}"),
        ])
        .args([&file])
        .fleet()
        .run()
        .code(0);
    let command = run.json()["stages"][0]["steps"][0]["commands"]["build-1"]
        .as_str()
        .unwrap()
        .to_string();
    // The command, run by a real shell, prints the value unchanged.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("hello {hostile} {hostile} build-1:22@10.0.0.5\n"),
        "command was {command}"
    );
}

/// A playbook whose stage and lock pick their hosts through variables.
const PICKED_BY_VARS: &str = r#"
lock on="{{db}}"
stage "build" {
    on "least-loaded({{builders}})"
    run "make"
}
stage "deploy" {
    needs "build"
    on "{{hosts}}"
    run "echo {{hosts}}"
}
vars {
    hosts "staging"
    builders "builders, stage-1"
    db "build-1"
}
"#;

#[test]
fn selectors_are_filled_from_vars_and_the_var_flag_wins() {
    let (_dir, path) = crate::support::playbook(PICKED_BY_VARS);
    let hosts = |plan: &serde_json::Value, i: usize| -> Vec<String> {
        plan["stages"][i]["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_string())
            .collect()
    };
    let plan = Test::new()
        .args(["plan", path.to_str().unwrap(), "--format", "json"])
        .fleet()
        .run()
        .code(0)
        .json();
    assert_eq!(
        plan["stages"][0]["selectors"][0],
        "least-loaded(builders, stage-1)"
    );
    assert_eq!(hosts(&plan, 0), ["build-1", "stage-1"]);
    assert_eq!(hosts(&plan, 1), ["stage-1", "stage-2"]);
    assert_eq!(
        plan["stages"][1]["steps"][0]["commands"]["stage-1"],
        "echo staging"
    );
    let plan = Test::new()
        .args(["plan", path.to_str().unwrap(), "--format", "json"])
        .args(["--var", "hosts=prod-web-1,prod-web-2"])
        .fleet()
        .run()
        .code(0)
        .json();
    assert_eq!(plan["stages"][1]["selectors"][0], "prod-web-1,prod-web-2");
    assert_eq!(hosts(&plan, 1), ["prod-web-1", "prod-web-2"]);
}

#[test]
fn a_selector_cannot_use_a_host_variable_or_an_undefined_one() {
    let (_dir, path) = crate::support::playbook(
        "stage \"a\" {\n    on \"{{host}}\" \"{{nope}}\"\n    run \"true\"\n}\n",
    );
    Test::new()
        .args(["plan", path.to_str().unwrap()])
        .fleet()
        .run()
        .code(2)
        .stderr_has("tsync::builtin-variable")
        .stderr_has("`{{host}}` cannot be used in a selector")
        .stderr_has("the selector picks the hosts, so it cannot depend on one")
        .stderr_has("tsync::undefined-variable")
        .stderr_has("variable `nope` is not defined");
}

#[test]
fn a_wrong_filled_in_selector_says_what_it_was_filled_in_with() {
    let (_dir, path) = crate::support::playbook(PICKED_BY_VARS);
    Test::new()
        .args(["plan", path.to_str().unwrap()])
        .args(["--var", "hosts=web-9"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("`web-9` is not a known host or group")
        .stderr_has("`{{hosts}}` is `web-9`")
        .stderr_has("on \"{{hosts}}\"");
    Test::new()
        .args(["check", path.to_str().unwrap()])
        .args(["--var", "hosts=web &"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("tsync::bad-selector")
        .stderr_has("`{{hosts}}` is `web &`");
}

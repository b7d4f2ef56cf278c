//! Variable values reach the hosts as literal text, whatever they hold (issue 6: variables
//! could inject commands through a comment's apostrophe or a `$'…'` string).

use crate::support::{Test, lab, playbook};

/// Values that would each create `pwned` in the host's /srv if any part of them ran.
fn hostile(srv: &str) -> Vec<String> {
    vec![
        format!("v1; touch {srv}/pwned"),
        format!("a\ntouch {srv}/pwned"),
        format!("'; touch {srv}/pwned; #"),
        format!("$(touch {srv}/pwned)"),
        format!("`touch {srv}/pwned`"),
    ]
}

#[test]
fn hostile_values_reach_the_host_literally_in_run_cwd_env_and_script_arguments() {
    let lab = lab(1);
    let srv = lab.host_srv(0).display().to_string();
    let (dir, file) = playbook(
        r#"
stage "deploy" {
    on "all"
    run """
        # don't restart here
        echo "deploying:{{release}}"
        """
    run "echo start # it's fine: {{release}}"
    run "printf '[%s]\n' \"$X\"" cwd="{{dir}}/{{release}}" {
        env X="{{release}}"
    }
    script "show.sh" "{{release}}"
}
"#,
    );
    std::fs::write(dir.path().join("show.sh"), "printf 'arg:[%s]\\n' \"$1\"\n").unwrap();
    for value in hostile(&srv) {
        // The directory named by the value exists, so the `cwd` step can enter it.
        std::fs::create_dir_all(lab.srv(0).join(&value)).unwrap();
        let run = Test::new()
            .args(["apply"])
            .args([&file])
            .lab(&lab)
            .args(["--output", "json"])
            .args(["--var", &format!("release={value}")])
            .args(["--var", &format!("dir={srv}")])
            .run()
            .code(0);
        assert!(
            !lab.srv(0).join("pwned").exists(),
            "{value:?} ran on the host"
        );
        let lines: Vec<String> = run
            .events()
            .iter()
            .filter(|e| e["event"] == "output" && e["stream"] == "stdout")
            .map(|e| e["line"].as_str().unwrap().to_string())
            .collect();
        let text = lines.join("\n");
        assert!(text.contains(&format!("deploying:{value}")), "{text}");
        assert!(text.contains(&format!("[{value}]")), "{text}");
        assert!(text.contains(&format!("arg:[{value}]")), "{text}");
    }
}

#[test]
fn check_refuses_placeholders_it_cannot_quote_with_certainty() {
    let (_dir, file) = playbook(
        r#"
stage "s" {
    on "all"
    run "printf '%s\n' $'{{msg}}'"
    run "sudo sh -c 'echo {{msg}} > /etc/motd'"
    run "echo $(( {{msg}} + 1 ))"
}
"#,
    );
    Test::new()
        .args(["check"])
        .args([&file])
        .args(["--var", "msg=x"])
        .run()
        .code(2)
        .stderr_has("inside a $'…' string, which bash decodes and dash does not")
        .stderr_has("in the code given to `sh -c`")
        .stderr_has("sh -c 'echo \"$1\"' sh {{msg}}")
        .stderr_has("inside an arithmetic expression");
}

#[test]
fn a_missing_cwd_fails_the_step_instead_of_running_in_home() {
    let lab = lab(1);
    let (_dir, file) = playbook(
        r#"
stage "s" {
    on "all"
    run "echo first; touch second-ran" cwd="/nonexistent/dir"
}
"#,
    );
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3)
        .stdout_has("/nonexistent/dir");
    assert!(!run.stdout.contains("│ first"), "{}", run.stdout);
    assert!(!lab.srv(0).join("second-ran").exists());
}

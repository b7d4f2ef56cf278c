//! `tsync apply --retry`: a failed run is finished from the history. What each host finished
//! is skipped, failed and not-started hosts run, and a retry of a retry remembers both.

use crate::support::{Test, lab, playbook};

const BOOK: &str = r#"playbook "three"
stage "build" {
    on "all"
    run "echo built >> /srv/builds"
}
stage "deploy" {
    needs "build"
    on "all"
    run "if [ {{host}} = lab-2 ] && [ ! -e /srv/fixed ]; then echo 'not fixed' >&2; exit 5; fi; echo deployed >> /srv/deploys"
}
stage "verify" {
    needs "deploy"
    on "all"
    run "echo verified >> /srv/verifies"
}
"#;

/// Lines of `/srv/NAME` on each of the lab's hosts.
fn lines(lab: &tsync_lab::Lab, name: &str) -> Vec<usize> {
    (0..3)
        .map(|i| {
            std::fs::read_to_string(lab.srv(i).join(name)).map_or(0, |text| text.lines().count())
        })
        .collect()
}

#[test]
fn a_failed_run_is_finished_where_it_stopped() {
    let lab = lab(3);
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("history.db");
    let (_pb, file) = playbook(BOOK);
    let apply = |args: &[&str]| {
        Test::new()
            .env("TSYNC_HISTORY", &db)
            .args(["apply"])
            .args(args)
            .lab(&lab)
    };
    apply(&[file.to_str().unwrap()]).run().code(3);
    assert_eq!(lines(&lab, "builds"), [1, 1, 1]);
    assert_eq!(lines(&lab, "deploys"), [1, 0, 1]);
    assert_eq!(lines(&lab, "verifies"), [0, 0, 0]);

    // The dry run shows the retry's plan and changes nothing.
    apply(&["--retry", file.to_str().unwrap(), "--dry-run"])
        .run()
        .code(0)
        .stdout_has("retrying run 1")
        .stdout_has("build   done on lab-1, lab-2, lab-3: skipped")
        .stdout_has("deploy  runs on lab-2; done on lab-1, lab-3")
        .stdout_has("verify  runs on lab-1, lab-2, lab-3");
    assert_eq!(lines(&lab, "builds"), [1, 1, 1]);

    // Still broken: the retry fails where the run did, and builds nothing again.
    apply(&["--retry", file.to_str().unwrap()])
        .run()
        .code(3)
        .stdout_has("not fixed");
    assert_eq!(lines(&lab, "builds"), [1, 1, 1]);

    // Fixed: a retry of the retry (the playbook's latest run) finishes it.
    std::fs::write(lab.srv(1).join("fixed"), "").unwrap();
    let run = apply(&[file.to_str().unwrap(), "--retry"]).run().code(0);
    assert!(run.stdout.contains("retrying run 2"), "{}", run.stdout);
    assert_eq!(lines(&lab, "builds"), [1, 1, 1]);
    assert_eq!(lines(&lab, "deploys"), [1, 1, 1]);
    assert_eq!(lines(&lab, "verifies"), [1, 1, 1]);

    apply(&["--retry", file.to_str().unwrap()])
        .run()
        .code(0)
        .stdout_has("succeeded: nothing to retry");
    // A run by its id names its playbook itself; a run that is not an apply is refused.
    apply(&["--retry", "1"]).run().code(0);
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", "false"])
        .run()
        .code(3);
    apply(&["--retry", "5"])
        .run()
        .code(2)
        .stderr_has("only playbook runs can be retried");
}

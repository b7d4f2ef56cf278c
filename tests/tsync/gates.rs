//! Health checks gating stages, against labs of real sshd hosts and real HTTP services
//! bound to the hosts' own addresses.

use serde_json::Value;

use crate::support::{Test, lab, of_kind, playbook, services};

/// A one-stage playbook on `on` with `check` as its only check, after a step that marks
/// the host as deployed.
fn gated(on: &str, check: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    playbook(&format!(
        r#"
stage "web" {{
    on "{on}"
    run "echo deployed"
    {check}
}}
stage "after" {{
    needs "web"
    on "{on}"
    run "echo after"
}}
"#
    ))
}

#[test]
fn a_check_that_passes_after_several_attempts_lets_the_run_go_on() {
    let lab = lab(1);
    let service = lab.http_service(0).unwrap();
    std::fs::write(lab.srv(0).join("health"), "503 503 200").unwrap();
    let url = format!("http://{}/up", service.address());
    let (_dir, file) = gated(
        "lab-1",
        &format!(r#"check "health" {{ http "{url}"; retries 5; interval "50ms" }}"#),
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    let events = run.events();
    let attempts = of_kind(&events, "check_attempt");
    let seen: Vec<(u64, bool)> = attempts
        .iter()
        .map(|a| (a["status"].as_u64().unwrap(), a["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(seen, [(503, false), (503, false), (200, true)]);
    assert_eq!(attempts[0]["attempts"], 6);
    let finished = of_kind(&events, "check_finished");
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["ok"], true);
    assert_eq!(finished[0]["target"], url.as_str());
    assert_eq!(service.requests(), 3);
    assert_eq!(of_kind(&events, "stage_started").len(), 2);
}

#[test]
fn a_check_that_never_passes_fails_the_host_shows_why_and_skips_dependents() {
    let lab = lab(2);
    let (_services, port) = services(&lab, &[]);
    std::fs::write(lab.srv(1).join("health"), "500").unwrap();
    let (_dir, file) = gated(
        "lab-1, lab-2",
        &format!(
            r#"check "health" {{ http "http://{{{{address}}}}:{port}/up"; retries 2; interval "10ms" }}"#
        ),
    );
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let lab2 = &lab.hosts()[1];
    for needle in [
        format!(
            "✗ lab-2: web check health (http://{}:{port}/up) failed after",
            lab2.address
        ),
        "failed 3 attempts".to_string(),
        "attempt 3/3".to_string(),
        r#"500, expected any 2xx: "status 500 from the lab service""#.to_string(),
        "- after skipped: it needs `web`, which failed".to_string(),
    ] {
        assert!(run.stdout.contains(&needle), "{needle}\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("lab-1: web check"), "{}", run.stdout);
}

#[test]
fn a_hung_service_is_cut_off_by_the_timeout() {
    let lab = lab(1);
    let service = lab.http_service(0).unwrap();
    std::fs::write(lab.srv(0).join("health"), "hang").unwrap();
    let (_dir, file) = gated(
        "lab-1",
        &format!(
            r#"check "health" {{ http "http://{}/up"; timeout "300ms" }}"#,
            service.address()
        ),
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let events = run.events();
    let attempts = of_kind(&events, "check_attempt");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["error"], "no answer within 300ms");
    let elapsed = attempts[0]["elapsed_secs"].as_f64().unwrap();
    assert!((0.3..5.0).contains(&elapsed), "{elapsed}");
}

#[test]
fn tcp_and_cmd_probes_pass_and_fail_on_the_host() {
    let lab = lab(1);
    let service = lab.http_service(0).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind((service.address().ip(), 0)).unwrap();
        l.local_addr().unwrap()
    };
    let srv = lab.host_srv(0).display().to_string();
    for (check, code) in [
        (format!(r#"tcp "{}""#, service.address()), 0),
        (format!(r#"tcp "{closed}""#), 3),
        (format!(r#"cmd "test -f {srv}/deployed""#), 0),
        (format!(r#"cmd "test -f {srv}/missing""#), 3),
    ] {
        let (_dir, file) = playbook(&format!(
            r#"
stage "web" {{
    on "lab-1"
    run "touch {srv}/deployed"
    check "probe" {{ {check} }}
}}
"#
        ));
        let run = Test::new()
            .args(["apply", "--output", "json"])
            .args([&file])
            .lab(&lab)
            .run();
        assert_eq!(run.code, code, "{check}\n{}", run.stdout);
        let events = run.events();
        let finished = of_kind(&events, "check_finished");
        assert_eq!(finished[0]["ok"], code == 0, "{check}");
    }
}

/// A check on `lab-1`'s own service with `probe` as its probe: the run's JSON events.
fn probe_once(lab: &tsync_lab::Lab, probe: &str, code: i32) -> Vec<Value> {
    let (_dir, file) = gated("lab-1", &format!(r#"check "health" {{ {probe} }}"#));
    Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(lab)
        .run()
        .code(code)
        .events()
}

#[test]
fn healthy_n_rejects_a_flapping_service_and_passes_a_steady_one() {
    let lab = lab(1);
    let service = lab.http_service(0).unwrap();
    let url = format!("http://{}/up", service.address());
    std::fs::write(lab.srv(0).join("health"), "cycle 200 500").unwrap();
    let events = probe_once(
        &lab,
        &format!(r#"http "{url}"; healthy 3; retries 5; interval "10ms""#),
        3,
    );
    let finished = of_kind(&events, "check_finished");
    assert_eq!(
        finished[0]["error"],
        "not healthy 3 times in a row in 4 attempts"
    );

    std::fs::write(lab.srv(0).join("health"), "200").unwrap();
    let before = service.requests();
    probe_once(
        &lab,
        &format!(r#"http "{url}"; healthy 3; interval "10ms"; retries 2; delay "50ms""#),
        0,
    );
    assert_eq!(service.requests() - before, 3);
}

#[test]
fn statuses_bodies_and_redirects_are_judged_as_written() {
    let lab = lab(1);
    let service = lab.http_service(0).unwrap();
    let url = format!("http://{}/up", service.address());
    // The lab's 2xx body is `ok`.
    probe_once(&lab, &format!(r#"http "{url}" body-contains="ok""#), 0);
    let events = probe_once(&lab, &format!(r#"http "{url}" body-contains="ready""#), 3);
    assert_eq!(
        of_kind(&events, "check_attempt")[0]["error"],
        r#"the body does not contain "ready""#
    );
    // A redirect to a login page is not healthy, unless asked for.
    std::fs::write(lab.srv(0).join("health"), "301").unwrap();
    let events = probe_once(&lab, &format!(r#"http "{url}""#), 3);
    let attempt = of_kind(&events, "check_attempt")[0];
    assert_eq!(attempt["status"], 301);
    assert_eq!(
        attempt["error"],
        "redirected to /login (redirects are not followed)"
    );
    probe_once(&lab, &format!(r#"http "{url}" status="200 301""#), 0);
    // Followed when asked: the login page's answer is judged.
    std::fs::write(lab.srv(0).join("health"), "301 200").unwrap();
    let before = service.requests();
    probe_once(&lab, &format!(r#"http "{url}" follow-redirects=#true"#), 0);
    assert_eq!(service.requests() - before, 2);
    // From this machine instead of the host: the same service, reached directly.
    std::fs::write(lab.srv(0).join("health"), "200").unwrap();
    probe_once(&lab, &format!(r#"http "{url}" from="controller""#), 0);
}

/// `openssl s_server` with a fresh self-signed certificate on `ip`, answering every GET
/// with 200; stopped when dropped.
struct TlsServer {
    child: std::process::Child,
    address: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    fn start(ip: &str) -> TlsServer {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=lab", "-keyout", "key.pem", "-out", "cert.pem"])
            .current_dir(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl is installed (scripts/setup)");
        assert!(made.success());
        let port = std::net::TcpListener::bind((ip, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address: std::net::SocketAddr = format!("{ip}:{port}").parse().unwrap();
        let child = std::process::Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem",
            ])
            .args(["-accept", &address.to_string()])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s_server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        TlsServer {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_with_a_self_signed_certificate_passes_only_when_insecure() {
    let lab = lab(1);
    let server = TlsServer::start(&lab.hosts()[0].address);
    let url = format!("https://{}/", server.address);
    probe_once(&lab, &format!(r#"http "{url}" insecure=#true"#), 0);
    let events = probe_once(&lab, &format!(r#"http "{url}""#), 3);
    let error = of_kind(&events, "check_attempt")[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("TLS") || error.contains("CA"), "{error}");
}

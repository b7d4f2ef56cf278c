//! Tests of [`super`]: tailscale.

use std::fs;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tailscale");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn names(status: &Status) -> Vec<&str> {
    status.peers.iter().map(|peer| peer.name.as_str()).collect()
}

fn peer<'a>(status: &'a Status, name: &str) -> &'a Peer {
    status
        .peers
        .iter()
        .find(|peer| peer.name == name)
        .unwrap_or_else(|| panic!("no peer {name}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn running_tailnet() {
    let status = Status::load(&fixture("status.json")).expect("fixture parses");
    assert!(status.is_running());
    assert_eq!(status.backend_state, "Running");
    assert_eq!(
        status.magic_dns_suffix.as_deref(),
        Some("tail4f2a1c.ts.net")
    );
    assert_eq!(
        names(&status),
        ["alice-mbp", "build-win01", "db-1", "web-1", "web-2"]
    );

    let me = status.self_peer.as_ref().expect("self");
    assert_eq!(me.name, "devbox");
    assert_eq!(me.dns_name, "devbox.tail4f2a1c.ts.net");
    assert_eq!(me.os, "linux");

    assert_eq!(
        peer(&status, "web-1"),
        &Peer {
            name: "web-1".into(),
            dns_name: "web-1.tail4f2a1c.ts.net".into(),
            host_name: "web-1".into(),
            os: "linux".into(),
            online: true,
            tags: strings(&["tag:prod", "tag:web"]),
            ips: strings(&["100.88.12.7", "fd7a:115c:a1e0::a101:c07"]),
            last_seen: None,
            key_expired: false,
            // Tagged devices' keys do not expire.
            key_expiry: None,
            path: Some("direct 203.0.113.10:41641".into()),
        }
    );

    let web2 = peer(&status, "web-2");
    assert!(web2.online);
    assert_eq!(web2.path.as_deref(), Some("relay fra"));
    assert_eq!(web2.tags, ["tag:prod", "tag:web"]);
    assert_eq!(web2.last_seen, None);

    let db = peer(&status, "db-1");
    assert!(!db.online);
    assert_eq!(db.tags, ["tag:prod"]);
    assert_eq!(db.last_seen.as_deref(), Some("2026-11-26T10:00:00Z"));
    assert!(!db.key_expired);

    let mac = peer(&status, "alice-mbp");
    assert_eq!(mac.host_name, "Alices-MacBook-Pro");
    assert_eq!(mac.os, "macos");
    assert!(mac.online);
    assert!(mac.tags.is_empty());
    assert_eq!(mac.last_seen, None);

    let win = peer(&status, "build-win01");
    assert_eq!(win.host_name, "BUILD-WIN01");
    assert_eq!(win.os, "windows");
    assert!(!win.online);
    assert_eq!(win.key_expiry.as_deref(), Some("2026-11-22T13:55:21Z"));
    assert!(win.tags.is_empty());
    assert_eq!(win.last_seen.as_deref(), Some("2026-11-23T08:15:42Z"));
    assert!(win.key_expired);
}

#[test]
fn stopped_keeps_stale_peers() {
    let status = Status::load(&fixture("status-stopped.json")).expect("fixture parses");
    assert_eq!(status.backend_state, "Stopped");
    assert!(!status.is_running());
    assert_eq!(names(&status), ["db-1", "web-1"]);
}

#[test]
fn logged_out_has_no_peers() {
    let status = Status::load(&fixture("status-needslogin.json")).expect("fixture parses");
    assert_eq!(status.backend_state, "NeedsLogin");
    assert!(!status.is_running());
    assert!(status.peers.is_empty());
    assert_eq!(status.magic_dns_suffix, None);
    let me = status.self_peer.expect("self");
    assert_eq!(me.name, "devbox");
    assert_eq!(me.dns_name, "");
    assert!(me.ips.is_empty());
}

#[test]
fn name_falls_back_to_lowercased_host_name() {
    let status = Status::parse(
        r#"{"BackendState":"Running","Peer":{"nodekey:1":{"HostName":"Build-BOX","DNSName":"","OS":"windows","Extra":{"x":1}}},"Later":[1]}"#,
    )
    .expect("parses");
    assert_eq!(names(&status), ["build-box"]);
    assert_eq!(status.peers[0].host_name, "Build-BOX");
    assert!(status.self_peer.is_none());
}

#[test]
fn peers_without_dns_names_stay_apart() {
    // Regression: two peers with empty DNS names and the same host name became one host,
    // and the tags of one landed on the other.
    let status = Status::parse(
        r#"{"BackendState":"Running","Peer":{
            "k1":{"HostName":"localhost","DNSName":"","TailscaleIPs":["100.64.0.2"],"Tags":["tag:db"]},
            "k2":{"HostName":"localhost","DNSName":"","TailscaleIPs":["100.64.0.1"],"Tags":["tag:web"]},
            "k3":{"HostName":"localhost-2","DNSName":"","TailscaleIPs":["100.64.0.3"]},
            "k4":{"HostName":"","DNSName":"","TailscaleIPs":["100.64.0.4"]},
            "k5":{"HostName":"","DNSName":""},
            "k6":{"HostName":"","DNSName":""}}}"#,
    )
    .expect("parses");
    assert_eq!(
        names(&status),
        [
            "peer-2",
            "peer-3",
            "100.64.0.4",
            "localhost",
            "localhost-3",
            "localhost-2"
        ]
    );
    assert_eq!(peer(&status, "localhost").tags, ["tag:web"]);
    assert_eq!(peer(&status, "localhost-3").tags, ["tag:db"]);
}

#[test]
fn bad_json_is_an_error_not_a_panic() {
    let full = fs::read_to_string(fixture("status.json")).expect("read fixture");
    let truncated = full.get(..full.len() / 2).expect("ascii fixture");
    for json in [
        truncated,
        "",
        "garbage",
        "[]",
        "{}",
        "null",
        r#"{"BackendState": 3}"#,
        r#"{"BackendState":"Running","Peer":{"k":null}}"#,
        r#"{"BackendState":"Running","Peer":[]}"#,
    ] {
        let err = Status::parse(json).expect_err(json);
        assert!(matches!(err, TailscaleError::Json { .. }), "{json}");
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("status.json");
    let err = Status::load(&missing).expect_err("missing");
    assert!(matches!(err, TailscaleError::Read { .. }));

    fs::write(&missing, "{\"BackendState\":").expect("write");
    let err = Status::load(&missing).expect_err("truncated");
    assert!(matches!(err, TailscaleError::File { .. }));
    assert!(err.to_string().contains("status.json"));
}

#[test]
fn missing_binary_is_none() {
    let outcome = run("tsync-test-no-such-binary", &[], Duration::from_secs(1));
    assert!(matches!(outcome, Ok(None)));
}

#[test]
fn failure_includes_stderr() {
    let finished = run(
        "sh",
        &["-c", "echo 'not running' >&2; exit 3"],
        QUERY_TIMEOUT,
    )
    .expect("runs")
    .expect("sh is installed");
    let err = finished.into_status().expect_err("non-zero exit");
    assert!(matches!(err, TailscaleError::Failed { .. }));
    assert!(err.to_string().ends_with(": not running"), "{err}");
}

#[test]
fn garbage_output_includes_stderr() {
    let finished = run("sh", &["-c", "echo '{'; echo warning >&2"], QUERY_TIMEOUT)
        .expect("runs")
        .expect("sh is installed");
    let err = finished.into_status().expect_err("bad json");
    assert!(matches!(err, TailscaleError::Output { .. }));
    assert!(err.to_string().ends_with(": warning"), "{err}");
}

#[test]
fn good_output_parses() {
    let cat = format!("cat '{}'", fixture("status.json").display());
    let status = run("sh", &["-c", &cat], QUERY_TIMEOUT)
        .expect("runs")
        .expect("sh is installed")
        .into_status()
        .expect("parses");
    assert_eq!(status.peers.len(), 5);
}

#[test]
fn endless_output_is_cut_off() {
    // Regression: the output of `tailscale` was read whole, however much it printed.
    let started = Instant::now();
    let finished = run("sh", &["-c", "cat /dev/zero"], QUERY_TIMEOUT)
        .expect("runs")
        .expect("sh is installed");
    assert!(started.elapsed() < QUERY_TIMEOUT);
    let err = finished.into_status().expect_err("too large");
    assert!(matches!(err, TailscaleError::OutputTooLarge), "{err:?}");
    let err = Status::load(Path::new("/dev/zero")).expect_err("too large");
    assert!(
        matches!(err, TailscaleError::FileTooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn slow_command_times_out() {
    let started = Instant::now();
    let err = run(
        "sh",
        &["-c", "echo stuck >&2; exec sleep 30"],
        Duration::from_millis(300),
    )
    .err()
    .expect("times out");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(&err, TailscaleError::Timeout { stderr, .. } if stderr == "stuck"),
        "{err:?}"
    );
}

#[test]
fn big_output_does_not_deadlock() {
    let finished = run(
        "sh",
        &[
            "-c",
            "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2",
        ],
        QUERY_TIMEOUT,
    )
    .expect("runs")
    .expect("sh is installed");
    assert_eq!(finished.stdout.len(), 1_000_000);
    assert!(finished.status.success());
}

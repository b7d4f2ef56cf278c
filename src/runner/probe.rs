//! One attempt of a health check's probe on one host, within the attempt's time limit:
//! an HTTP GET or a TCP connection made from the host's own network position (through a
//! tunnel over its SSH connection), or a command run on the host.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::probe_result::{ProbeResult, first_line};
use hyper::Uri;

use crate::playbook::{HttpExpect, Probe, split_host_port};
use crate::transport::{Connection, ExecError, HttpClient, Output};

/// ssh closes a forwarded stream at once when the host cannot connect to the target; a
/// stream still open after this long has its channel open.
const TCP_SETTLE: Duration = Duration::from_millis(500);

/// Redirects followed at most, with `follow-redirects=#true`.
const MAX_REDIRECTS: u32 = 5;

/// Runs `probe` once on the host of `connection`.
pub(super) async fn attempt(
    http: &HttpClient,
    connection: &Connection,
    probe: &Probe<String>,
    timeout: Duration,
) -> ProbeResult {
    let group = AtomicU32::new(0);
    let run = async {
        match probe {
            Probe::Http { url, expect } => http_get(http, connection, url, expect).await,
            Probe::Tcp { address } => tcp(connection, address, timeout).await,
            Probe::Cmd { command } => cmd(connection, command, &group).await,
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => {
            let pid = group.load(Ordering::SeqCst);
            if pid != 0 {
                connection.stop(pid).await;
            }
            ProbeResult::failed(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            ))
        }
    }
}

async fn http_get(
    http: &HttpClient,
    connection: &Connection,
    url: &str,
    expect: &HttpExpect,
) -> ProbeResult {
    // The plan checked the URL.
    let Ok(mut url) = url.parse::<Uri>() else {
        return ProbeResult::failed(format!("`{url}` is not a URL"));
    };
    let mut hops = 0;
    let answer = loop {
        let answer = match get_once(http, connection, &url, expect).await {
            Ok(answer) => answer,
            Err(error) => return ProbeResult::failed(error),
        };
        let next = answer
            .location
            .as_deref()
            .filter(|_| expect.follow_redirects && (300..400).contains(&answer.status))
            .and_then(|location| redirect_target(&url, location));
        match next {
            Some(next) if hops < MAX_REDIRECTS => {
                hops += 1;
                url = next;
            }
            _ => break answer,
        }
    };
    let status_ok = expect.passes(answer.status);
    let body_ok = expect
        .body_contains
        .as_ref()
        .is_none_or(|text| answer.body.contains(text.as_str()));
    let error = if !status_ok {
        Some(match &answer.location {
            Some(location) if (300..400).contains(&answer.status) && !expect.follow_redirects => {
                format!("redirected to {location} (redirects are not followed)")
            }
            Some(location) if (300..400).contains(&answer.status) => {
                format!("still redirected to {location} after {MAX_REDIRECTS} redirects")
            }
            _ => format!("expected {}", expect.expects()),
        })
    } else if !body_ok {
        Some(format!(
            "the body does not contain {:?}",
            expect.body_contains.as_deref().unwrap_or_default()
        ))
    } else {
        None
    };
    ProbeResult {
        ok: status_ok && body_ok,
        status: Some(answer.status),
        exit_code: None,
        body: first_line(&answer.body),
        error,
    }
}

/// One GET of `url`, from the host's position or from here.
async fn get_once(
    http: &HttpClient,
    connection: &Connection,
    url: &Uri,
    expect: &HttpExpect,
) -> Result<crate::transport::HttpAnswer, String> {
    let host = url.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let default_port = if url.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let port = url.port_u16().unwrap_or(default_port);
    if expect.from_controller {
        match TcpStream::connect((host, port)).await {
            Ok(stream) => http.get(stream, url, expect.insecure).await,
            Err(e) => Err(format!("cannot connect from here: {e}")),
        }
    } else {
        let tunnel = connection.tunnel(host, port).await?;
        match tunnel.connect().await {
            Ok(stream) => http.get(stream, url, expect.insecure).await,
            Err(e) => Err(format!("cannot open the tunnel: {e}")),
        }
    }
}

/// Where a redirect from `from` to `location` (absolute, or a path on the same server)
/// leads.
fn redirect_target(from: &Uri, location: &str) -> Option<Uri> {
    let target: Uri = location.parse().ok()?;
    if target.scheme().is_some() {
        return Some(target);
    }
    let mut parts = target.into_parts();
    parts.scheme = from.scheme().cloned();
    parts.authority = from.authority().cloned();
    Uri::from_parts(parts).ok()
}

async fn tcp(connection: &Connection, address: &str, timeout: Duration) -> ProbeResult {
    // The plan checked the address.
    let Some((host, port)) = split_host_port(address) else {
        return ProbeResult::failed(format!("`{address}` is not HOST:PORT"));
    };
    let tunnel = match connection.tunnel(&host, port).await {
        Ok(tunnel) => tunnel,
        Err(e) => return ProbeResult::failed(e),
    };
    let mut stream = match tunnel.connect().await {
        Ok(stream) => stream,
        Err(e) => return ProbeResult::failed(format!("cannot open the tunnel: {e}")),
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(TCP_SETTLE.min(timeout), stream.read(&mut byte)).await {
        // Still open, or the service spoke first: the channel opened.
        Err(_) | Ok(Ok(1..)) => ProbeResult::passed(),
        Ok(Ok(0)) | Ok(Err(_)) => ProbeResult::failed(format!(
            "the host could not connect to {} (refused or unreachable)",
            tunnel.target()
        )),
    }
}

async fn cmd(connection: &Connection, command: &str, group: &AtomicU32) -> ProbeResult {
    let mut output = FirstLine::default();
    match connection.exec(command, None, group, &mut output).await {
        Ok(done) => ProbeResult {
            ok: done.exit_code == Some(0),
            status: None,
            exit_code: done.exit_code,
            body: output.line.or_else(|| first_line(&done.stderr_tail)),
            error: done
                .exit_code
                .is_none()
                .then(|| "killed by a signal".to_string()),
        },
        Err(ExecError::Disconnected(message)) => {
            ProbeResult::failed(format!("connection lost: {message}"))
        }
        Err(ExecError::Failed(error)) => ProbeResult::failed(error),
    }
}

/// Keeps the first non-blank line a probe command printed, on either stream.
#[derive(Default)]
struct FirstLine {
    line: Option<String>,
}

impl FirstLine {
    fn take(&mut self, line: &str) {
        if self.line.is_none() {
            self.line = first_line(line);
        }
    }
}

impl Output for FirstLine {
    async fn stdout_line(&mut self, line: String) {
        self.take(&line);
    }

    async fn stderr_line(&mut self, line: String) {
        self.take(&line);
    }

    async fn flush(&mut self) {}
}

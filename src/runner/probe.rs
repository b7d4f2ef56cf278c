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
    let Ok(url) = url.parse::<Uri>() else {
        return ProbeResult::failed(format!("`{url}` is not a URL"));
    };
    let host = url.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let default_port = if url.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let port = url.port_u16().unwrap_or(default_port);
    let answer = if expect.from_controller {
        match TcpStream::connect((host, port)).await {
            Ok(stream) => http.get(stream, &url, expect.insecure).await,
            Err(e) => Err(format!("cannot connect from here: {e}")),
        }
    } else {
        match connection.tunnel(host, port).await {
            Ok(tunnel) => match tunnel.connect().await {
                Ok(stream) => http.get(stream, &url, expect.insecure).await,
                Err(e) => Err(format!("cannot open the tunnel: {e}")),
            },
            Err(e) => Err(e),
        }
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return ProbeResult::failed(error),
    };
    let status_ok = expect.passes(answer.status);
    let body_ok = expect
        .body_contains
        .as_ref()
        .is_none_or(|text| answer.body.contains(text.as_str()));
    let error = if !status_ok {
        Some(match &answer.location {
            Some(location) if (300..400).contains(&answer.status) => {
                format!("redirected to {location} (redirects are not followed)")
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

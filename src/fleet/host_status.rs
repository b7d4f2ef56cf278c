//! One row of `tsync status`: what SSH found (the truth), beside what Tailscale says.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::load::Load;
use super::score::Score;

#[derive(Debug, Clone, Serialize)]
pub struct HostStatus {
    pub host: String,
    /// The groups the host is in, sorted; the table is sorted by the first, then name.
    pub groups: Vec<String>,
    /// Answered over SSH within the timeout.
    pub online: bool,
    /// Why it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A TCP handshake with the SSH port.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "millis")]
    pub tcp_connect_ms: Option<Duration>,
    /// A round trip over the open SSH connection.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "millis")]
    pub round_trip_ms: Option<Duration>,
    /// Now for a host that answered; else the last time tsync reached it, or Tailscale's
    /// last sight of it, whichever is later.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "rfc3339")]
    pub last_seen: Option<SystemTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tailscale: Option<TailscaleView>,
    /// From the start of the handshake to the answer, or to giving up.
    #[serde(skip)]
    pub took: Duration,
}

/// Tailscale's own view of a host: `Online` means connected to the control plane, not
/// reachable, so it is shown beside the SSH truth, never instead of it.
#[derive(Debug, Clone, Serialize)]
pub struct TailscaleView {
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_expiry: Option<String>,
    pub key_expired: bool,
}

fn millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64((d.as_secs_f64() * 1e5).round() / 100.0),
        None => s.serialize_none(),
    }
}

fn rfc3339<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(&humantime::format_rfc3339_seconds(*t)),
        None => s.serialize_none(),
    }
}

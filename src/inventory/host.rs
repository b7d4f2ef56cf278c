//! One machine tsync can reach, with what the inventory sources know about it.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Host {
    /// The name users type: an ssh config alias or a Tailscale MagicDNS short name.
    pub name: String,
    /// Where ssh connects when the name is not an ssh config alias (Tailscale peers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_to: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Tailscale's view; None when Tailscale does not know the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Tailscale's path to the host ("direct ADDR" or "relay REGION").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// When the host's Tailscale key expires, and whether it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_expiry: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub key_expired: bool,
    pub in_ssh_config: bool,
}

impl Host {
    /// What to hand to `ssh` as the destination.
    pub fn destination(&self) -> &str {
        if self.in_ssh_config {
            &self.name
        } else {
            self.connect_to.as_deref().unwrap_or(&self.name)
        }
    }
}

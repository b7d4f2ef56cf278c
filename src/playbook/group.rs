//! A named set of hosts, defined in a playbook or an inventory file.

use miette::SourceSpan;

use super::spanned::Spanned;

#[derive(Debug, Clone)]
pub struct Group {
    pub name: Spanned<String>,
    /// Host names or glob patterns (`web-*`).
    pub hosts: Vec<Spanned<String>>,
    /// Tailscale tags (`tag:prod`): every peer carrying one is a member.
    pub tags: Vec<Spanned<String>>,
    pub span: SourceSpan,
}

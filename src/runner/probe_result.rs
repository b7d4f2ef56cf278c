//! What one attempt of a health check found: enough to tell, when a check gives up, why
//! the target never became healthy (the status, the start of the body, or the error).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    pub ok: bool,
    /// The HTTP status, for an http probe that got an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The exit code, for a cmd probe whose command exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The first line of the body or of the command's output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Why it failed: refused, timed out, the wrong status, a missing text…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ProbeResult {
    pub fn failed(error: impl Into<String>) -> ProbeResult {
        ProbeResult {
            ok: false,
            status: None,
            exit_code: None,
            body: None,
            error: Some(error.into()),
        }
    }

    pub fn passed() -> ProbeResult {
        ProbeResult {
            ok: true,
            status: None,
            exit_code: None,
            body: None,
            error: None,
        }
    }

    /// One line for people: `500, expected any 2xx: "database down"`, `connection
    /// refused`, `exit code 1: "no such file"`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(status.to_string());
        }
        if let Some(code) = self.exit_code {
            parts.push(format!("exit code {code}"));
        }
        if let Some(error) = &self.error {
            parts.push(error.clone());
        }
        let mut text = if parts.is_empty() {
            "ok".to_string()
        } else {
            parts.join(", ")
        };
        if let Some(body) = self.body.as_deref().filter(|b| !b.is_empty()) {
            text.push_str(&format!(": {body:?}"));
        }
        text
    }
}

/// The first non-blank line of `text`, cut to a readable length.
pub fn first_line(text: &str) -> Option<String> {
    const MAX: usize = 200;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut end = line.len().min(MAX);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    Some(if end < line.len() {
        format!("{}…", &line[..end])
    } else {
        line.to_string()
    })
}

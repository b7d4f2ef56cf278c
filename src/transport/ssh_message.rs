//! The most useful text of an openssh error. Its own file because both the connector and
//! open connections word their errors with it.

/// The most useful text of an openssh error: ssh's own message, found in its source chain.
pub(super) fn ssh_message(error: &openssh::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() {
            message = text;
        }
        source = s.source();
    }
    message.trim().to_string()
}

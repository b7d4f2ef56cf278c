//! Where the run history lives.

use std::path::PathBuf;

use super::HistoryError;

/// `$TSYNC_HISTORY` if set, else `$XDG_STATE_HOME/tsync/history.db`, else
/// `~/.local/state/tsync/history.db` (the XDG default for state).
pub fn default_path() -> Result<PathBuf, HistoryError> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(file) = set("TSYNC_HISTORY") {
        return Ok(PathBuf::from(file));
    }
    let state = set("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .ok_or(HistoryError::NoPlace)?;
    Ok(state.join("tsync/history.db"))
}

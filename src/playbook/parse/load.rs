//! Reading files: a playbook's own text before it is parsed, and after parsing the scripts
//! it names (the load phase), so that parsing itself never touches the disk.

use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, Source};
use crate::limited_read::{LimitedReadError, read_limited, size};
use crate::playbook::{Action, Playbook};

/// Larger playbooks (and inventory files and scripts) are refused, unread past the limit:
/// nobody writes one, and it bounds the time and memory a stray file can cost.
pub const MAX_BYTES: usize = 8 << 20;

/// Reads `path` as UTF-8 text, refusing what cannot be a playbook before parsing it.
pub fn read_source(path: &Path) -> Result<Source, Diagnostic> {
    let name = path.display().to_string();
    let bytes = read_limited(path, MAX_BYTES as u64).map_err(|e| match e {
        LimitedReadError::TooLarge { .. } => Diagnostic::error(
            Code::TooLarge,
            format!("`{name}` is larger than a playbook can be"),
        )
        .help(format!(
            "playbooks are limited to {}",
            size(MAX_BYTES as u64)
        )),
        LimitedReadError::Io(e) => {
            Diagnostic::error(Code::Io, format!("cannot read `{name}`: {e}")).help(
                if e.kind() == std::io::ErrorKind::NotFound {
                    "check the path; playbooks are usually in playbooks/"
                } else {
                    "check the file's permissions"
                },
            )
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(
            Code::NotUtf8,
            format!(
                "`{name}` is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .help("playbooks are KDL text files; is this the right file?")
    })?;
    Ok(Source::new(name, text))
}

/// The load phase: reads what a parsed playbook names from the controller's disk.
pub struct Loader<'a> {
    source: &'a Source,
    /// The playbook's directory, which script paths are relative to.
    base_dir: &'a Path,
}

impl<'a> Loader<'a> {
    pub fn new(source: &'a Source, base_dir: &'a Path) -> Self {
        Loader { source, base_dir }
    }

    /// Resolves the path of each script step against the playbook's directory and reads
    /// the script into the step. Returns one entry per script step, in the order written:
    /// why it could not be read, or `None`.
    pub fn load(&self, playbook: &mut Playbook) -> Vec<Option<Diagnostic>> {
        let steps = playbook.stages.iter_mut().flat_map(|s| s.all_steps_mut());
        steps
            .filter_map(|step| match &mut step.action {
                Action::Script { path, body, .. } => Some((path, body)),
                Action::Run(_) | Action::Sync(_) | Action::Local { .. } => None,
            })
            .map(|(path, body)| {
                path.value = self.base_dir.join(&path.value);
                match read_limited(&path.value, MAX_BYTES as u64)
                    .map_err(|e| e.to_string())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()))
                {
                    Ok(text) => {
                        *body = Arc::from(text);
                        None
                    }
                    Err(e) => Some(
                        Diagnostic::error(
                            Code::MissingScript,
                            format!("cannot read script `{}`: {e}", path.value.display()),
                        )
                        .in_source(self.source)
                        .label(path.span, "this script")
                        .help("script paths are relative to the playbook's directory"),
                    ),
                }
            })
            .collect()
    }
}

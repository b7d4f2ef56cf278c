//! A `sync` or `pull` step: which way files go, between which two paths, and how the
//! destination is compared and pruned.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::template::{RenderError, Template};
use crate::sync::Direction;

/// As parsed, paths and excludes are templates; [`SyncStep::fill`] makes the
/// `SyncStep<String>` of one host, whose `local` is the controller path itself. `tsync
/// push` and `tsync pull` make a `SyncStep<String>` straight away, and
/// [`SyncStep::on_host`] places it for each host.
#[derive(Debug, Clone)]
pub struct SyncStep<T = Template> {
    pub direction: Direction,
    /// On the controller: what a push sends, or where a pull's per-host directories go.
    pub local: T,
    /// On the host; relative to the login's home unless absolute.
    pub remote: T,
    pub delete: bool,
    pub checksum: bool,
    /// Gitignore patterns, relative to the synced directory.
    pub excludes: Vec<T>,
    /// What a relative `local` is relative to: the playbook's directory (set by the load
    /// phase), or empty for tsync's working directory (`tsync push` and `tsync pull`).
    pub base: Arc<Path>,
}

impl SyncStep {
    /// The step for the host named `host`: templates filled in by `fill`, `local` made
    /// relative to `base`, and for a pull the host's own directory under it, so hosts never
    /// overwrite each other. A pull whose `local` names `{{host}}` itself already gives each
    /// host its own place (`backups/{{host}}/latest`), so nothing is added to it.
    pub fn fill(
        &self,
        host: &str,
        fill: impl Fn(&Template) -> Result<String, RenderError>,
    ) -> Result<SyncStep<String>, RenderError> {
        let filled = SyncStep {
            direction: self.direction,
            local: fill(&self.local)?,
            remote: fill(&self.remote)?,
            delete: self.delete,
            checksum: self.checksum,
            excludes: self.excludes.iter().map(fill).collect::<Result<_, _>>()?,
            base: self.base.clone(),
        };
        if self.local.placeholders().any(|p| p.name == "host") {
            return Ok(filled.placed());
        }
        Ok(filled.on_host(host))
    }

    /// The step as written: its two paths, in the order they are given.
    pub fn written(&self) -> String {
        let (from, to) = match self.direction {
            Direction::Push => (&self.local, &self.remote),
            Direction::Pull => (&self.remote, &self.local),
        };
        format!("{} → {}", from.text.value, to.text.value)
    }
}

impl<T> SyncStep<T> {
    /// Every path and pattern of the step.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        [&self.local, &self.remote]
            .into_iter()
            .chain(self.excludes.iter())
    }
}

impl SyncStep<String> {
    /// The step for the host named `host`, its paths filled in already: `local` made
    /// relative to `base`, and for a pull the host's own directory under it.
    pub fn on_host(&self, host: &str) -> SyncStep<String> {
        let mut step = self.placed();
        if self.direction == Direction::Pull {
            step.local = Path::new(&step.local).join(host).display().to_string();
        }
        step
    }

    /// The step with `local` made relative to `base` and nothing else added.
    fn placed(&self) -> SyncStep<String> {
        let mut step = self.clone();
        step.local = self.base.join(&self.local).display().to_string();
        step
    }

    /// The controller's path, as the sync engine takes it.
    pub fn local_path(&self) -> PathBuf {
        PathBuf::from(&self.local)
    }

    /// A readable line for plans and events: `sync ./site/ → /srv/site (delete, exclude *.log)`.
    pub fn describe(&self) -> String {
        let (verb, from, to) = match self.direction {
            Direction::Push => ("sync", &self.local, &self.remote),
            Direction::Pull => ("pull", &self.remote, &self.local),
        };
        let mut options = Vec::new();
        if self.delete {
            options.push("delete".to_string());
        }
        if self.checksum {
            options.push("checksum".to_string());
        }
        if !self.excludes.is_empty() {
            options.push(format!("exclude {}", self.excludes.join(" ")));
        }
        let mut line = format!("{verb} {from} → {to}");
        if !options.is_empty() {
            line.push_str(&format!(" ({})", options.join(", ")));
        }
        line
    }
}

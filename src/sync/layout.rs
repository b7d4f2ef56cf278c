//! Where each entry of a sync lives on both sides. A directory syncs by content (`app` and
//! `app/` alike: its entries land in the destination directory, never `dest/app`); a single
//! file is one entry whose two paths may have different names.

use std::path::{Path, PathBuf};

pub struct Layout {
    /// The controller's directory holding the entries (for a single file, its directory).
    pub local_dir: PathBuf,
    /// The host's directory holding the entries, as a [`host_path`](super::remote_tree::host_path).
    pub remote_dir: PathBuf,
    /// For a single file: its name in the tree, and its path on each side.
    pub single: Option<Single>,
}

pub struct Single {
    pub name: PathBuf,
    pub local: PathBuf,
    pub remote: PathBuf,
}

impl Layout {
    /// The entry `relative` on the controller.
    pub fn local(&self, relative: &Path) -> PathBuf {
        match &self.single {
            Some(single) if single.name == relative => single.local.clone(),
            _ => self.local_dir.join(relative),
        }
    }

    /// The entry `relative` on the host.
    pub fn remote(&self, relative: &Path) -> PathBuf {
        match &self.single {
            Some(single) if single.name == relative => single.remote.clone(),
            _ => self.remote_dir.join(relative),
        }
    }
}

//! `exclude` patterns, in gitignore syntax, relative to the synced directory: an excluded
//! path is neither sent nor deleted.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

pub struct Excludes {
    rules: Gitignore,
}

impl Excludes {
    /// Reads `patterns` as the lines of one `.gitignore` at the synced directory's top.
    pub fn new(patterns: &[String]) -> Result<Excludes, String> {
        // The root only anchors patterns; nothing is read from it.
        let mut builder = GitignoreBuilder::new("/");
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|e| format!("exclude {pattern:?}: {e}"))?;
        }
        let rules = builder.build().map_err(|e| format!("exclude: {e}"))?;
        Ok(Excludes { rules })
    }

    /// Whether `path` (relative) or a directory above it is excluded.
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        !self.rules.is_empty()
            && self
                .rules
                .matched_path_or_any_parents(Path::new("/").join(path), is_dir)
                .is_ignore()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(patterns: &[&str]) -> Excludes {
        Excludes::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn gitignore_rules_apply_to_paths_and_their_parents() {
        let ex = excludes(&["*.log", "target/", "/top.txt", "!keep.log"]);
        assert!(ex.excludes(Path::new("a/b/x.log"), false));
        assert!(!ex.excludes(Path::new("a/keep.log"), false));
        assert!(ex.excludes(Path::new("target"), true));
        assert!(!ex.excludes(Path::new("target"), false));
        assert!(ex.excludes(Path::new("target/debug/app"), false));
        assert!(ex.excludes(Path::new("top.txt"), false));
        assert!(!ex.excludes(Path::new("sub/top.txt"), false));
        assert!(!ex.excludes(Path::new("src/main.rs"), false));
    }

    #[test]
    fn no_patterns_exclude_nothing() {
        assert!(!excludes(&[]).excludes(Path::new("anything"), false));
    }
}

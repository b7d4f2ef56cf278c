//! The name of a lock: one path component on every host, so it is kept to a safe alphabet.

use std::fmt;

use crate::playbook::is_lock_name;

/// A lock's name, as [`is_lock_name`] allows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockName(String);

impl LockName {
    /// `name` as given, if it is a valid lock name.
    pub fn new(name: &str) -> Option<LockName> {
        is_lock_name(name).then(|| LockName(name.to_string()))
    }

    /// A lock name made from a playbook's name: every other character becomes `-`, so
    /// `Web deploy` locks as `Web-deploy`. The same playbook always gets the same name.
    pub fn from_playbook(name: &str) -> LockName {
        let mut cleaned: String = name
            .chars()
            .take(100)
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        while cleaned.starts_with('.') {
            cleaned.remove(0);
        }
        if cleaned.is_empty() {
            cleaned.push_str("playbook");
        }
        LockName(cleaned)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playbook_names_become_safe_lock_names() {
        assert_eq!(LockName::from_playbook("web").as_str(), "web");
        assert_eq!(
            LockName::from_playbook("Web deploy/2").as_str(),
            "Web-deploy-2"
        );
        assert_eq!(LockName::from_playbook("..hidden").as_str(), "hidden");
        assert_eq!(LockName::from_playbook("").as_str(), "playbook");
        assert!(LockName::new("../etc").is_none());
        assert!(LockName::new(".x").is_none());
        assert!(LockName::new("db-1_main.v2").is_some());
    }
}

//! The name of a lock: one path component on every host, so it is kept to a safe alphabet.

use std::fmt;

/// A lock's name, as [`is_lock_name`](crate::playbook::is_lock_name) allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockName(String);

impl LockName {
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
    use crate::playbook::is_lock_name;

    #[test]
    fn playbook_names_become_safe_lock_names() {
        assert_eq!(LockName::from_playbook("web").as_str(), "web");
        assert_eq!(
            LockName::from_playbook("Web deploy/2").as_str(),
            "Web-deploy-2"
        );
        assert_eq!(LockName::from_playbook("..hidden").as_str(), "hidden");
        assert_eq!(LockName::from_playbook("").as_str(), "playbook");
        for name in ["web", "db-1_main.v2", "Web deploy/2", "..hidden", "a/../b"] {
            assert!(
                is_lock_name(LockName::from_playbook(name).as_str()),
                "{name}"
            );
        }
        assert!(!is_lock_name("../etc") && !is_lock_name(".x") && !is_lock_name(""));
    }
}

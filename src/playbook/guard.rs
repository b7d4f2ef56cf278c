//! A guard on a step: a test run on the host before the step that may skip it (`creates`,
//! `unless`, `only-if`). A skipped step is ok and changes nothing, so running a playbook a
//! second time reports only what really changed.

use super::template::{RenderError, Template};

/// As parsed, its value is a template; [`Guard::fill`] makes the `Guard<String>` of one
/// host, which the plan shows and the runner evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard<T = Template> {
    /// Skip the step when this path exists on the host.
    Creates(T),
    /// Skip the step when this command exits 0 on the host.
    Unless(T),
    /// Run the step only when this command exits 0 on the host.
    OnlyIf(T),
}

impl<T> Guard<T> {
    /// The property that sets this guard.
    pub fn property(&self) -> &'static str {
        match self {
            Guard::Creates(_) => "creates",
            Guard::Unless(_) => "unless",
            Guard::OnlyIf(_) => "only-if",
        }
    }

    /// The path or command.
    pub fn value(&self) -> &T {
        match self {
            Guard::Creates(v) | Guard::Unless(v) | Guard::OnlyIf(v) => v,
        }
    }
}

impl Guard {
    /// The guard for one host, its template filled in by `fill`.
    pub fn fill(
        &self,
        fill: impl Fn(&Template) -> Result<String, RenderError>,
    ) -> Result<Guard<String>, RenderError> {
        Ok(match self {
            Guard::Creates(path) => Guard::Creates(fill(path)?),
            Guard::Unless(command) => Guard::Unless(fill(command)?),
            Guard::OnlyIf(command) => Guard::OnlyIf(fill(command)?),
        })
    }
}

impl Guard<String> {
    /// Why the step is skipped when the guard's command exited with `code`; None when the
    /// step runs.
    pub fn skips(&self, code: i32) -> Option<String> {
        match self {
            Guard::Creates(path) => (code == 0).then(|| format!("creates {path} exists")),
            Guard::Unless(command) => (code == 0).then(|| format!("unless `{command}` exited 0")),
            Guard::OnlyIf(command) => {
                (code != 0).then(|| format!("only-if `{command}` exited {code}"))
            }
        }
    }

    /// How `tsync plan` shows the guard.
    pub fn describe(&self) -> String {
        match self {
            Guard::Creates(path) => format!("skip if {path} exists"),
            Guard::Unless(command) => format!("skip if `{command}` exits 0"),
            Guard::OnlyIf(command) => format!("run only if `{command}` exits 0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Guard;

    #[test]
    fn each_guard_skips_on_its_own_exit_codes() {
        let creates = Guard::Creates("/srv/a b".to_string());
        assert_eq!(creates.skips(0).as_deref(), Some("creates /srv/a b exists"));
        assert_eq!(creates.skips(1), None);
        let unless = Guard::Unless("grep -q x f".to_string());
        assert!(unless.skips(0).is_some());
        assert_eq!(unless.skips(2), None);
        let only_if = Guard::OnlyIf("test -d /srv".to_string());
        assert_eq!(only_if.skips(0), None);
        assert_eq!(
            only_if.skips(1).as_deref(),
            Some("only-if `test -d /srv` exited 1")
        );
    }
}

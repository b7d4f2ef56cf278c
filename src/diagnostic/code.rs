//! The kinds of problem a diagnostic reports. Each has a stable name (`tsync::NAME` in the
//! output) that users search for; references/playbook.md documents every one, and a test
//! keeps that table and this enum the same.

use std::fmt;

/// Declares [`Code`] with the name of each kind, so the list is written once.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in the order of the table in references/playbook.md.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The name users see and search for.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }
    };
}

codes! {
    Io => "io",
    TooLarge => "too-large",
    NotUtf8 => "not-utf8",
    TooDeep => "too-deep",
    KdlSyntax => "kdl-syntax",
    UnknownNode => "unknown-node",
    UnknownProperty => "unknown-property",
    DuplicateProperty => "duplicate-property",
    DuplicateNode => "duplicate-node",
    WrongArguments => "wrong-arguments",
    MissingArgument => "missing-argument",
    UnexpectedChildren => "unexpected-children",
    WrongType => "wrong-type",
    OutOfRange => "out-of-range",
    BadDuration => "bad-duration",
    BadAmount => "bad-amount",
    EmptyGroup => "empty-group",
    BadGroupName => "bad-group-name",
    DuplicateGroup => "duplicate-group",
    BadLockName => "bad-lock-name",
    UnknownHost => "unknown-host",
    BadVariableName => "bad-variable-name",
    BuiltinVariable => "builtin-variable",
    DuplicateVariable => "duplicate-variable",
    BadVar => "bad-var",
    UndefinedVariable => "undefined-variable",
    UnsafePlaceholder => "unsafe-placeholder",
    UnsafeValue => "unsafe-value",
    DangerousCommand => "dangerous-command",
    BadEnvName => "bad-env-name",
    EmptyValue => "empty-value",
    MissingOn => "missing-on",
    MissingScript => "missing-script",
    MissingProbe => "missing-probe",
    TwoProbes => "two-probes",
    BadProbe => "bad-probe",
    DuplicateStage => "duplicate-stage",
    SelfNeed => "self-need",
    UnknownStage => "unknown-stage",
    Cycle => "cycle",
    BadSelector => "bad-selector",
    SelectorTooDeep => "selector-too-deep",
    UnknownName => "unknown-name",
    NeedsTailscale => "needs-tailscale",
    NoHosts => "no-hosts",
    NoStages => "no-stages",
    NoInventory => "no-inventory",
    SshConfig => "ssh-config",
    Sshsync => "sshsync",
    Tailscale => "tailscale",
    TailscaleNotRunning => "tailscale-not-running",
    TagWithoutTailscale => "tag-without-tailscale",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// Every code is documented in references/playbook.md, every documented code exists,
    /// and both lists keep one order.
    #[test]
    fn the_codes_are_the_table_of_the_reference() {
        let reference = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/references/playbook.md"
        ))
        .expect("references/playbook.md");
        let table = reference
            .split_once("### Codes")
            .expect("a Codes section")
            .1;
        let mut documented: Vec<&str> = Vec::new();
        for row in table.lines().filter(|l| l.starts_with("| `")) {
            let name = row.split('`').nth(1).expect("a code in backquotes");
            if !documented.contains(&name) {
                documented.push(name);
            }
        }
        let defined: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(defined, documented);
    }
}

//! What is sent to the host for one command: the command line sshd hands to the login
//! shell, and the bytes for the command's stdin.

use std::borrow::Cow;

use super::pid_marker::PidMarker;

/// Longer commands travel over stdin. sshd runs a command as one argument of
/// `SHELL -c COMMAND`, and Linux limits one argument of execve(2) to 128 KiB; ssh's mux
/// protocol refuses messages over 256 KiB ("Broken pipe").
const LONG_COMMAND: usize = 32 * 1024;

pub(super) struct RemoteCommand<'a> {
    pub(super) line: String,
    /// None: the command reads from /dev/null.
    pub(super) stdin: Option<Cow<'a, [u8]>>,
}

impl<'a> RemoteCommand<'a> {
    pub(super) fn new(
        marker: &PidMarker,
        command: &'a str,
        stdin: Option<&'a [u8]>,
    ) -> RemoteCommand<'a> {
        let announce = marker.announce();
        if command.len() <= LONG_COMMAND {
            return RemoteCommand {
                line: format!("{announce}; {command}"),
                stdin: stdin.map(Cow::Borrowed),
            };
        }
        // The shell reads the whole command before it runs any of it, so what the command
        // itself reads from stdin is what follows: nothing, or the step's own input (a
        // script's body). `dd bs=1` reads exactly the command's bytes and not one more.
        match stdin {
            None => RemoteCommand {
                line: format!("{announce}; eval \"$(cat)\""),
                stdin: Some(Cow::Borrowed(command.as_bytes())),
            },
            Some(input) => {
                let mut bytes = Vec::with_capacity(command.len() + input.len());
                bytes.extend_from_slice(command.as_bytes());
                bytes.extend_from_slice(input);
                RemoteCommand {
                    line: format!(
                        "{announce}; eval \"$(dd bs=1 count={} 2>/dev/null)\"",
                        command.len()
                    ),
                    stdin: Some(Cow::Owned(bytes)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    /// Runs the command line as sshd would (`sh -c LINE`), with its stdin.
    fn run(remote: &RemoteCommand) -> String {
        let mut child = Command::new("sh")
            .args(["-c", &remote.line])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = &remote.stdin {
            input.write_all(bytes).unwrap();
        }
        drop(input);
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }

    fn long(tail: &str) -> String {
        format!(": {}; {tail}", "x".repeat(300 * 1024))
    }

    #[test]
    fn short_commands_are_the_command_line() {
        let marker = PidMarker::new();
        let remote = RemoteCommand::new(&marker, "echo short", None);
        assert!(remote.line.ends_with("; echo short"));
        assert!(remote.stdin.is_none());
        assert_eq!(run(&remote), "short\n");
    }

    /// Regression: a command over ~256 KB failed with "Broken pipe".
    #[test]
    fn long_commands_travel_over_stdin() {
        let marker = PidMarker::new();
        let command = long("echo long; cat");
        let remote = RemoteCommand::new(&marker, &command, None);
        assert!(remote.line.len() < 200);
        assert_eq!(run(&remote), "long\n", "the command reads an empty stdin");
    }

    #[test]
    fn a_long_command_keeps_its_own_stdin() {
        let marker = PidMarker::new();
        let command = long("echo long; sh -s -- arg");
        let remote = RemoteCommand::new(&marker, &command, Some(b"echo script got $1\n"));
        assert_eq!(run(&remote), "long\nscript got arg\n");
    }
}

//! Options written before the command move behind its name.

use super::*;
use clap::CommandFactory;

fn hoisted(line: &str) -> String {
    let mut cli = Cli::command();
    cli.build();
    let args = line.split(' ').map(OsString::from).collect();
    let out: Vec<String> = hoist_options(&cli, args)
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect();
    out.join(" ")
}

#[test]
fn options_before_the_command_move_behind_its_name() {
    for (given, meant) in [
        (
            "tsync --ssh-config F run all -- true",
            "tsync run --ssh-config F all -- true",
        ),
        (
            "tsync -j 4 -q run all -- true",
            "tsync run -j 4 -q all -- true",
        ),
        (
            "tsync -j4 --output=json run all -- true",
            "tsync run -j4 --output=json all -- true",
        ),
        // A value that is also a command's name is still the option's value.
        (
            "tsync --limit run apply p.kdl",
            "tsync apply --limit run p.kdl",
        ),
        // An optional value must be glued: `status` here is the command.
        ("tsync --watch status web", "tsync status --watch web"),
        ("tsync --help run", "tsync --help run"),
        ("tsync --color never -h run", "tsync -h run --color never"),
        // Nothing to move, or nothing understood: left for clap.
        (
            "tsync run all -- --ssh-config x",
            "tsync run all -- --ssh-config x",
        ),
        (
            "tsync --bogus run all -- true",
            "tsync run --bogus all -- true",
        ),
        ("tsync web run", "tsync web run"),
    ] {
        assert_eq!(hoisted(given), meant, "{given}");
    }
}

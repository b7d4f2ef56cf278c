//! The rules for each tool, reading its options as the tool itself reads them: `rm -rf`,
//! `rm -fr`, `rm -r -f`, `rm -R`, `rm --recursive` are one thing, and GNU tools take options
//! after operands too (`rm / -rf`).

use super::rule::{Danger, Rule};
use super::target::{Target, is_device, target};
use super::unwrap::command_name;
use super::word::{Part, Word};

/// The danger of running `name` with `args`, if any.
pub fn judge(name: &str, args: &[Word]) -> Option<Danger> {
    match name {
        "rm" => rm(args),
        "chmod" | "chown" | "chgrp" => permissions(name, args),
        "mv" => mv(args),
        "find" => find(args),
        "dd" => dd(args),
        "shred" | "blkdiscard" | "tee" | "cp" => device_operand(name, args),
        "truncate" => key_file_operand(name, args),
        "mke2fs" | "mkfs" | "wipefs" => Some(filesystem(name)),
        n if n.starts_with("mkfs.") => Some(filesystem(name)),
        "mkswap" => device(args).then(|| filesystem(name)),
        "fdisk" | "gdisk" | "cfdisk" | "sfdisk" => partition(name, args),
        "parted" => parted(args),
        "sgdisk" => sgdisk(args),
        // `shutdown -c` cancels a shutdown.
        "shutdown" if has_flag(&flags(args), "c", &[]) => None,
        "shutdown" | "reboot" | "poweroff" | "halt" => Some(Danger::new(
            Rule::PowerOff,
            format!("`{name}` takes the host down"),
        )),
        "init" | "telinit" => operands(args)
            .first()
            .and_then(|w| w.literal())
            .filter(|level| level == "0" || level == "6")
            .map(|level| {
                Danger::new(
                    Rule::PowerOff,
                    format!("`{name} {level}` takes the host down"),
                )
            }),
        "systemctl" => systemctl(args),
        "service" => service(args),
        "kill" => kill(args),
        "killall5" => Some(Danger::new(
            Rule::KillEverything,
            "`killall5` signals every process of the host",
        )),
        "pkill" | "killall" => operands(args)
            .iter()
            .filter_map(|w| w.literal())
            .any(|w| is_ssh_unit(&w))
            .then(|| lockout(&format!("`{name}` of the SSH server"))),
        "crontab" => flags(args)
            .iter()
            .any(|f| !f.starts_with('-') && f.contains('r'))
            .then(|| {
                Danger::new(
                    Rule::CrontabRemove,
                    "`crontab -r` deletes every cron job of the user, with no copy kept",
                )
            }),
        "iptables" | "ip6tables" | "iptables-nft" | "iptables-legacy" | "ip6tables-nft"
        | "ip6tables-legacy" => iptables(name, args),
        "nft" => literals(args).iter().any(|w| w == "flush").then(|| {
            Danger::new(
                Rule::FirewallFlush,
                "`nft flush` removes firewall rules, leaving the host open or unreachable",
            )
        }),
        "ufw" => literals(args).iter().any(|w| w == "reset").then(|| {
            Danger::new(
                Rule::FirewallFlush,
                "`ufw reset` removes every firewall rule and disables the firewall",
            )
        }),
        "firewall-cmd" => literals(args).iter().any(|w| w == "--panic-on").then(|| {
            Danger::new(
                Rule::FirewallFlush,
                "`firewall-cmd --panic-on` drops every packet, SSH's too",
            )
        }),
        _ => None,
    }
}

/// The tools whose operands are paths, judged relative to a known working directory.
pub fn takes_paths(name: &str) -> bool {
    matches!(name, "rm" | "chmod" | "chown" | "chgrp" | "mv" | "find")
}

/// The literal texts of `args`.
fn literals(args: &[Word]) -> Vec<String> {
    args.iter().filter_map(Word::literal).collect()
}

/// Option words (`-x…`, `--x…`) before a `--`, their first `-` taken off.
fn flags(args: &[Word]) -> Vec<String> {
    let mut out = Vec::new();
    for word in args {
        match word.literal() {
            Some(w) if w == "--" => break,
            Some(w) if w.len() > 1 && w.starts_with('-') => out.push(w[1..].to_string()),
            _ => {}
        }
    }
    out
}

/// The words that are not options (all of them after `--`).
fn operands(args: &[Word]) -> Vec<&Word> {
    let mut out = Vec::new();
    let mut done = false;
    for word in args {
        match word.literal() {
            Some(w) if !done && w == "--" => done = true,
            Some(w) if !done && w.len() > 1 && w.starts_with('-') => {}
            _ => out.push(word),
        }
    }
    out
}

/// Some short option cluster holds one of `letters`, or a long option is one of `long`.
fn has_flag(flags: &[String], letters: &str, long: &[&str]) -> bool {
    flags.iter().any(|f| match f.strip_prefix('-') {
        Some(name) => long.contains(&name),
        None => f.contains(|c| letters.contains(c)),
    })
}

fn rm(args: &[Word]) -> Option<Danger> {
    let flags = flags(args);
    if has_flag(&flags, "", &["no-preserve-root"]) {
        return Some(Danger::new(
            Rule::NoPreserveRoot,
            "`rm --no-preserve-root` is only ever needed to delete `/`",
        ));
    }
    let recursive = has_flag(&flags, "rR", &["recursive"]);
    operands(args).into_iter().find_map(|w| match target(w)? {
        Target::KeyFile(path) => Some(Danger::new(
            Rule::KeyFile,
            format!("`rm` of `/{path}` leaves a host nobody can log in to or boot"),
        )),
        t if recursive => Some(Danger::new(
            Rule::RecursiveDelete,
            format!(
                "`rm -r` of {} deletes what the host cannot do without",
                t.describe()
            ),
        )),
        _ => None,
    })
}

fn permissions(name: &str, args: &[Word]) -> Option<Danger> {
    if !has_flag(&flags(args), "R", &["recursive"]) {
        return None;
    }
    operands(args).into_iter().find_map(|w| match target(w)? {
        t @ (Target::Root | Target::RootGlob | Target::System(_)) => Some(Danger::new(
            Rule::RecursivePermissions,
            format!(
                "`{name} -R` of {} breaks every program and login of the host",
                t.describe()
            ),
        )),
        _ => None,
    })
}

fn mv(args: &[Word]) -> Option<Danger> {
    let flags = flags(args);
    let operands = operands(args);
    // With `-t DIR` every operand is a source; otherwise the last one is the destination.
    let sources = if has_flag(&flags, "t", &["target-directory"])
        || flags.iter().any(|f| f.starts_with("-target-directory="))
    {
        &operands[..]
    } else {
        &operands[..operands.len().saturating_sub(1)]
    };
    sources.iter().find_map(|w| {
        let t = target(w)?;
        let rule = if t.is_directory() {
            Rule::MoveSystem
        } else {
            Rule::KeyFile
        };
        Some(Danger::new(
            rule,
            format!(
                "`mv` of {} takes away what the host cannot do without",
                t.describe()
            ),
        ))
    })
}

fn find(args: &[Word]) -> Option<Danger> {
    let starts = args.iter().take_while(|w| {
        !w.literal()
            .is_some_and(|t| t.starts_with('-') || t == "(" || t == "!")
    });
    let start = starts.filter_map(target).find(Target::is_directory)?;
    let deletes = args.windows(2).any(|pair| {
        let action = pair[0].literal().unwrap_or_default();
        matches!(action.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
            && command_name(&pair[1])
                .is_some_and(|c| matches!(c.as_str(), "rm" | "shred" | "unlink" | "rmdir"))
    }) || args
        .iter()
        .any(|w| w.literal().as_deref() == Some("-delete"));
    deletes.then(|| {
        Danger::new(
            Rule::FindDelete,
            format!("`find` over {} deleting what it finds", start.describe()),
        )
    })
}

fn dd(args: &[Word]) -> Option<Danger> {
    args.iter().find_map(|w| {
        let Some(Part::Lit(first)) = w.parts.first() else {
            return None;
        };
        let rest = first.strip_prefix("of=")?;
        let mut parts = vec![Part::Lit(rest.to_string())];
        parts.extend(w.parts[1..].iter().cloned());
        is_device(&Word::new(parts)).then(|| device_write("dd", w))
    })
}

fn device_write(tool: &str, word: &Word) -> Danger {
    Danger::new(
        Rule::DeviceWrite,
        format!(
            "`{tool}` onto `{}` overwrites a disk or memory device",
            word.unquoted_text()
        ),
    )
}

fn device_operand(name: &str, args: &[Word]) -> Option<Danger> {
    let operands = operands(args);
    // `cp` writes only to its last operand.
    let written = if name == "cp" {
        operands
            .last()
            .map(std::slice::from_ref)
            .unwrap_or_default()
    } else {
        &operands[..]
    };
    if let Some(w) = written.iter().find(|w| is_device(w)) {
        return Some(device_write(name, w));
    }
    if name == "tee" {
        if let Some(w) = written.iter().find(|w| is_sysrq(w)) {
            return Some(sysrq(w));
        }
        if !has_flag(&flags(args), "a", &["append"]) {
            return key_file_operand(name, args);
        }
    }
    if name == "shred" {
        return key_file_operand(name, args);
    }
    None
}

fn key_file_operand(name: &str, args: &[Word]) -> Option<Danger> {
    operands(args).into_iter().find_map(|w| match target(w)? {
        Target::KeyFile(path) => Some(Danger::new(
            Rule::KeyFile,
            format!("`{name}` of `/{path}` leaves a host nobody can log in to or boot"),
        )),
        _ => None,
    })
}

/// `/proc/sysrq-trigger`: any letter written there acts at once (`c` crashes, `b` reboots).
pub fn is_sysrq(word: &Word) -> bool {
    word.literal().is_some_and(|p| p == "/proc/sysrq-trigger")
}

pub fn sysrq(word: &Word) -> Danger {
    Danger::new(
        Rule::Sysrq,
        format!(
            "a write to `{}` crashes or reboots the kernel at once",
            word.unquoted_text()
        ),
    )
}

fn device(args: &[Word]) -> bool {
    operands(args).into_iter().any(is_device)
}

fn filesystem(name: &str) -> Danger {
    Danger::new(
        Rule::Filesystem,
        format!("`{name}` erases what is on the device it is given"),
    )
}

fn partition(name: &str, args: &[Word]) -> Option<Danger> {
    let listing = has_flag(
        &flags(args),
        "lsdJvVh",
        &[
            "list",
            "dump",
            "json",
            "show-size",
            "help",
            "version",
            "verify",
        ],
    );
    (device(args) && !listing).then(|| {
        Danger::new(
            Rule::PartitionTable,
            format!("`{name}` on a disk rewrites its partition table"),
        )
    })
}

fn parted(args: &[Word]) -> Option<Danger> {
    let changes = literals(args).into_iter().any(|w| {
        matches!(
            w.as_str(),
            "mklabel" | "mktable" | "rm" | "mkpart" | "resizepart" | "mkpartfs"
        )
    });
    (changes && device(args)).then(|| {
        Danger::new(
            Rule::PartitionTable,
            "`parted` changing a disk's partitions can lose everything on it",
        )
    })
}

fn sgdisk(args: &[Word]) -> Option<Danger> {
    has_flag(&flags(args), "Zzod", &["zap-all", "zap", "clear", "delete"]).then(|| {
        Danger::new(
            Rule::PartitionTable,
            "`sgdisk` erasing partitions loses everything on the disk",
        )
    })
}

fn is_ssh_unit(unit: &str) -> bool {
    let name = unit.split('.').next().unwrap_or(unit);
    matches!(name, "ssh" | "sshd" | "openssh" | "openssh-server")
}

fn lockout(what: &str) -> Danger {
    Danger::new(
        Rule::SshLockout,
        format!("{what} cuts off every SSH connection to the host, tsync's too"),
    )
}

fn systemctl(args: &[Word]) -> Option<Danger> {
    let words: Vec<String> = operands(args)
        .into_iter()
        .filter_map(Word::literal)
        .collect();
    let (verb, units) = words.split_first()?;
    match verb.as_str() {
        "poweroff" | "reboot" | "halt" | "kexec" | "soft-reboot" | "emergency" | "rescue"
        | "suspend" | "hibernate" => Some(Danger::new(
            Rule::PowerOff,
            format!("`systemctl {verb}` takes the host down"),
        )),
        "isolate"
            if units.iter().any(|u| {
                matches!(
                    u.trim_end_matches(".target"),
                    "poweroff"
                        | "reboot"
                        | "halt"
                        | "rescue"
                        | "emergency"
                        | "runlevel0"
                        | "runlevel6"
                )
            }) =>
        {
            Some(Danger::new(
                Rule::PowerOff,
                "`systemctl isolate` of a shutdown or rescue target takes the host down",
            ))
        }
        "stop" | "kill" | "mask" | "disable" if units.iter().any(|u| is_ssh_unit(u)) => {
            // `disable` alone only matters at the next boot; `--now` stops it too.
            let now = verb != "disable" || literals(args).iter().any(|w| w == "--now");
            now.then(|| lockout(&format!("`systemctl {verb}` of the SSH server")))
        }
        _ => None,
    }
}

fn service(args: &[Word]) -> Option<Danger> {
    match literals(args).as_slice() {
        [unit, verb, ..] if is_ssh_unit(unit) && verb == "stop" => {
            Some(lockout("`service … stop` of the SSH server"))
        }
        _ => None,
    }
}

fn kill(args: &[Word]) -> Option<Danger> {
    let mut signal = false;
    let mut words = args.iter().filter_map(Word::literal);
    while let Some(w) = words.next() {
        match w.as_str() {
            "-l" | "-L" | "--list" | "--table" => return None,
            "--" => signal = true,
            "-s" | "-n" | "--signal" => {
                words.next();
                signal = true;
            }
            "-1" if signal => {
                return Some(Danger::new(
                    Rule::KillEverything,
                    "`kill … -1` signals every process the user may signal: as root, the \
                     whole host",
                ));
            }
            w if w.starts_with('-') && !signal => signal = true,
            _ => signal = true,
        }
    }
    None
}

fn iptables(name: &str, args: &[Word]) -> Option<Danger> {
    let words = literals(args);
    let flush = words
        .iter()
        .any(|w| w == "--flush" || (w.starts_with('-') && !w.starts_with("--") && w.contains('F')));
    let drop_policy = words.windows(3).any(|w| {
        matches!(w[0].as_str(), "-P" | "--policy")
            && matches!(w[1].as_str(), "INPUT" | "OUTPUT")
            && matches!(w[2].as_str(), "DROP" | "REJECT")
    });
    (flush || drop_policy).then(|| {
        Danger::new(
            Rule::FirewallFlush,
            format!("`{name}` flushing rules or dropping by policy can leave the host unreachable"),
        )
    })
}

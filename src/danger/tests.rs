use proptest::prelude::*;

use super::{MAX_DEPTH, Rule, judge};

/// Every form here is blocked, by the rule given.
const DANGEROUS: &[(&str, Rule)] = &[
    ("rm -rf /", Rule::RecursiveDelete),
    ("rm -rf / tmp/cache", Rule::RecursiveDelete),
    ("rm -fr /", Rule::RecursiveDelete),
    ("rm -r -f /", Rule::RecursiveDelete),
    ("rm -R /", Rule::RecursiveDelete),
    ("rm --recursive --force /", Rule::RecursiveDelete),
    ("rm / -rf", Rule::RecursiveDelete),
    ("rm -rf //", Rule::RecursiveDelete),
    ("rm -rf /.", Rule::RecursiveDelete),
    ("rm -rf /usr/..", Rule::RecursiveDelete),
    ("rm -rf /*", Rule::RecursiveDelete),
    ("rm -rf ~", Rule::RecursiveDelete),
    ("rm -rf ~/", Rule::RecursiveDelete),
    ("rm -rf ~/*", Rule::RecursiveDelete),
    ("rm -rf $HOME", Rule::RecursiveDelete),
    ("rm -rf \"${HOME}\"", Rule::RecursiveDelete),
    ("rm -rf /etc", Rule::RecursiveDelete),
    ("rm -rf /usr/", Rule::RecursiveDelete),
    ("rm -rf /var", Rule::RecursiveDelete),
    ("rm -rf /boot", Rule::RecursiveDelete),
    ("rm -rf /usr/lib", Rule::RecursiveDelete),
    ("rm -rf /etc/*", Rule::RecursiveDelete),
    ("rm -rf /var/lib/*", Rule::RecursiveDelete),
    ("rm -rf /home/*", Rule::RecursiveDelete),
    ("rm -rf \"$STEAMROOT/\"*", Rule::RecursiveDelete),
    ("rm -rf \"$DIR/\"", Rule::RecursiveDelete),
    ("rm -rf -- /", Rule::RecursiveDelete),
    ("'rm' -rf '/'", Rule::RecursiveDelete),
    ("r\\m -rf /", Rule::RecursiveDelete),
    ("/bin/rm -rf /", Rule::RecursiveDelete),
    ("sudo rm -rf /", Rule::RecursiveDelete),
    ("sudo -u root -E rm -rf /", Rule::RecursiveDelete),
    ("doas rm -rf /", Rule::RecursiveDelete),
    ("env FOO=1 rm -rf /", Rule::RecursiveDelete),
    ("env -i PATH=/bin rm -rf /", Rule::RecursiveDelete),
    ("env -S 'rm -rf /'", Rule::RecursiveDelete),
    ("nice -n 10 rm -rf /", Rule::RecursiveDelete),
    ("nohup rm -rf / &", Rule::RecursiveDelete),
    ("timeout -s KILL 10 rm -rf /", Rule::RecursiveDelete),
    ("command rm -rf /", Rule::RecursiveDelete),
    ("exec rm -rf /", Rule::RecursiveDelete),
    ("time rm -rf /", Rule::RecursiveDelete),
    ("xargs rm -rf /", Rule::RecursiveDelete),
    ("busybox rm -rf /", Rule::RecursiveDelete),
    ("sh -c 'rm -rf /'", Rule::RecursiveDelete),
    ("bash -ec \"rm -rf /\"", Rule::RecursiveDelete),
    ("sudo bash -c 'cd /tmp && rm -rf /'", Rule::RecursiveDelete),
    ("sh -c \"sh -c 'rm -rf /'\"", Rule::RecursiveDelete),
    ("eval 'rm -rf /'", Rule::RecursiveDelete),
    ("eval rm -rf /", Rule::RecursiveDelete),
    ("su -c 'rm -rf /' root", Rule::RecursiveDelete),
    (
        "su - deploy -s /bin/bash -c \"rm -rf ~\"",
        Rule::RecursiveDelete,
    ),
    ("runuser -u web -- rm -rf /", Rule::RecursiveDelete),
    ("ssh -p 2222 db-1 sudo reboot", Rule::PowerOff),
    ("ssh db-1 'rm -rf /var/lib/*'", Rule::RecursiveDelete),
    ("echo hi; rm -rf /", Rule::RecursiveDelete),
    ("true && rm -rf /", Rule::RecursiveDelete),
    ("false || rm -rf /", Rule::RecursiveDelete),
    ("cat x | rm -rf /", Rule::RecursiveDelete),
    ("echo ok\nrm -rf /", Rule::RecursiveDelete),
    ("sh <<EOF\necho hi\nrm -rf /\nEOF", Rule::RecursiveDelete),
    (
        "sudo bash -s <<'EOF'\n\tcd /\n\trm -rf *\nEOF\necho done",
        Rule::RecursiveDelete,
    ),
    ("bash <<< 'reboot'", Rule::PowerOff),
    ("(cd /tmp; rm -rf /)", Rule::RecursiveDelete),
    ("cd / && rm -rf *", Rule::RecursiveDelete),
    ("cd /etc; rm -rf ./*", Rule::RecursiveDelete),
    ("cd && rm -rf *", Rule::RecursiveDelete),
    (
        "cd /usr/local/bin; cd ..; chmod -R 777 .",
        Rule::RecursivePermissions,
    ),
    ("rm -rf ${DIR:-/}", Rule::RecursiveDelete),
    ("{ rm -rf /; }", Rule::RecursiveDelete),
    ("echo $(rm -rf /)", Rule::RecursiveDelete),
    ("echo `rm -rf /`", Rule::RecursiveDelete),
    ("echo `echo \\`rm -rf /\\``", Rule::RecursiveDelete),
    ("if true; then rm -rf /; fi", Rule::RecursiveDelete),
    ("for d in a b; do rm -rf /; done", Rule::RecursiveDelete),
    (
        "case $x in a) echo a;; esac; rm -rf /",
        Rule::RecursiveDelete,
    ),
    (
        "case $x in\n  (a|b) rm -rf /;;\nesac",
        Rule::RecursiveDelete,
    ),
    ("X=$(rm -rf /) true", Rule::RecursiveDelete),
    ("$'rm' -rf $'/'", Rule::RecursiveDelete),
    ("rm --no-preserve-root -rf /", Rule::NoPreserveRoot),
    ("rm -rf --no-preserve-root /tmp/x", Rule::NoPreserveRoot),
    ("> /etc/passwd", Rule::KeyFile),
    ("echo root::0:0::/:/bin/sh > /etc/shadow", Rule::KeyFile),
    ("rm -f /etc/passwd", Rule::KeyFile),
    ("mv /etc/sudoers /tmp/", Rule::KeyFile),
    ("truncate -s 0 /etc/fstab", Rule::KeyFile),
    ("mkfs.ext4 /dev/sdb1", Rule::Filesystem),
    ("mkfs -t xfs /dev/vdb", Rule::Filesystem),
    ("mke2fs /dev/sda1", Rule::Filesystem),
    ("mkswap /dev/sda2", Rule::Filesystem),
    ("wipefs -a /dev/sda", Rule::Filesystem),
    ("dd if=/dev/zero of=/dev/sda bs=1M", Rule::DeviceWrite),
    ("dd if=image.iso of=/dev/nvme0n1", Rule::DeviceWrite),
    ("dd if=/dev/urandom of=/dev/mmcblk0", Rule::DeviceWrite),
    ("dd if=x of=/dev/vda", Rule::DeviceWrite),
    ("cat x > /dev/sda", Rule::DeviceWrite),
    ("echo x >> /dev/xvda1", Rule::DeviceWrite),
    ("shred /dev/sda", Rule::DeviceWrite),
    ("cat img | tee /dev/sdb", Rule::DeviceWrite),
    ("blkdiscard /dev/nvme0n1", Rule::DeviceWrite),
    ("fdisk /dev/sda", Rule::PartitionTable),
    ("sfdisk /dev/vda < layout", Rule::PartitionTable),
    ("parted -s /dev/sda mklabel gpt", Rule::PartitionTable),
    ("sgdisk --zap-all /dev/sda", Rule::PartitionTable),
    (":(){ :|:& };:", Rule::ForkBomb),
    (":(){ :|: & };:", Rule::ForkBomb),
    ("bomb() { bomb | bomb & }; bomb", Rule::ForkBomb),
    ("function f { f & f; }; f", Rule::ForkBomb),
    ("b() {\n  b | b &\n}\nb", Rule::ForkBomb),
    ("chmod -R 000 /", Rule::RecursivePermissions),
    ("chmod -R 777 /etc", Rule::RecursivePermissions),
    ("chown -R nobody /", Rule::RecursivePermissions),
    ("chown --recursive x:x /usr", Rule::RecursivePermissions),
    ("chgrp -R users /*", Rule::RecursivePermissions),
    ("mv / /tmp/old", Rule::MoveSystem),
    ("mv ~ /tmp/old", Rule::MoveSystem),
    ("mv /usr /usr.old", Rule::MoveSystem),
    ("find / -delete", Rule::FindDelete),
    ("find / -name '*.log' -exec rm {} \\;", Rule::FindDelete),
    ("find /etc -type f -exec /bin/rm -f {} +", Rule::FindDelete),
    ("find ~ -delete", Rule::FindDelete),
    ("shutdown -h now", Rule::PowerOff),
    ("reboot", Rule::PowerOff),
    ("sudo poweroff", Rule::PowerOff),
    ("halt -p", Rule::PowerOff),
    ("init 0", Rule::PowerOff),
    ("telinit 6", Rule::PowerOff),
    ("systemctl poweroff", Rule::PowerOff),
    ("systemctl reboot --force", Rule::PowerOff),
    ("systemctl halt", Rule::PowerOff),
    ("systemctl isolate rescue.target", Rule::PowerOff),
    ("kill -9 -1", Rule::KillEverything),
    ("kill -KILL -1", Rule::KillEverything),
    ("kill -s TERM -1", Rule::KillEverything),
    ("kill -- -1", Rule::KillEverything),
    ("killall5 -9", Rule::KillEverything),
    ("crontab -r", Rule::CrontabRemove),
    ("crontab -u web -r", Rule::CrontabRemove),
    ("iptables -F", Rule::FirewallFlush),
    ("iptables -t nat --flush", Rule::FirewallFlush),
    ("ip6tables -P INPUT DROP", Rule::FirewallFlush),
    ("nft flush ruleset", Rule::FirewallFlush),
    ("ufw --force reset", Rule::FirewallFlush),
    ("systemctl stop sshd", Rule::SshLockout),
    ("systemctl disable --now ssh.service", Rule::SshLockout),
    ("service ssh stop", Rule::SshLockout),
    ("pkill sshd", Rule::SshLockout),
    ("echo c > /proc/sysrq-trigger", Rule::Sysrq),
    ("echo b | sudo tee /proc/sysrq-trigger", Rule::Sysrq),
];

/// Everyday commands: none of them is blocked.
const EVERYDAY: &[&str] = &[
    "rm -rf ./build",
    "rm -rf build/ dist/",
    "rm -rf /tmp/x",
    "rm -rf /tmp/*",
    "rm -rf /var/tmp/build-*",
    "rm -rf /srv/app/releases/20261129",
    "rm -rf ~/.cache/pip",
    "rm -rf \"$DIR/cache\"",
    "rm -rf \"${DIR:?}/\"",
    "rm -rf node_modules",
    "cd /srv/app && rm -rf *",
    "cd \"$BUILD\" && rm -rf *",
    "cd /tmp; rm -rf ./*",
    "cd / && ls",
    "rm -rf ${DIR:-/srv/app}/cache",
    "rm -f /etc/nginx/sites-enabled/default",
    "rm /*.tmp",
    "rm -rf '$HOME'",
    "dd if=a of=b",
    "dd if=/dev/zero of=/swapfile bs=1M count=1024",
    "dd if=/dev/sda of=/backup/disk.img",
    "systemctl restart web",
    "systemctl status sshd",
    "systemctl reload ssh",
    "systemctl disable ssh",
    "sudo systemctl restart nginx",
    "echo 'rm -rf /'",
    "echo \"rm -rf /\"",
    "printf '%s\\n' 'mkfs.ext4 /dev/sda'",
    "grep -r 'rm -rf /' .",
    "git commit -m 'stop calling shutdown -h now'",
    "# rm -rf /",
    "echo hi # reboot",
    "cat <<EOF\nrm -rf /\nEOF",
    "sh <<EOF\necho hi\nEOF\necho 'rm -rf /'",
    "python3 - <<EOF\nprint('rm -rf /')\nEOF",
    "bash deploy.sh <<EOF\nreboot\nEOF",
    "cat > /etc/motd <<'EOF'\nnever run shutdown -h now here\nEOF",
    "ls -la /",
    "du -sh /var/*",
    "chmod -R 755 ./public",
    "chmod 600 /etc/ssl/private/key.pem",
    "chown -R www-data:www-data /srv/www",
    "chown -R deploy ~",
    "mv build/app /srv/app/current",
    "mv /srv/app/next /srv/app/current",
    "find /var/log -name '*.gz' -mtime +30 -delete",
    "find . -name '*.pyc' -delete",
    "find / -name core -print",
    "fdisk -l",
    "fdisk -l /dev/sda",
    "parted /dev/sda print",
    "sgdisk -p /dev/sda",
    "mkswap /swapfile",
    "kill -9 1234",
    "kill -1",
    "kill -HUP $(cat /run/nginx.pid)",
    "pkill -f gunicorn",
    "crontab -l",
    "crontab /tmp/jobs",
    "iptables -L -n",
    "iptables -A INPUT -p tcp --dport 443 -j ACCEPT",
    "nft list ruleset",
    "ufw allow 22/tcp",
    "echo hello > /tmp/out",
    "cat /etc/passwd",
    "echo 'x' >> /etc/hosts",
    "grep root /etc/shadow > /tmp/x",
    "tar -czf /backup/etc.tgz /etc",
    "rsync -a --delete ./site/ /srv/site/",
    "sh -c 'echo rm -rf /'",
    "bash deploy.sh",
    "eval \"$(ssh-agent -s)\"",
    "sudo -l",
    "su - deploy -c 'make deploy'",
    "su postgres",
    "ssh db-1 'systemctl status postgresql'",
    "ssh -i key.pem db-1",
    "command -v rm",
    "env | sort",
    "xargs -0 rm -f < list",
    "docker system prune -f",
    "journalctl --vacuum-time=7d",
    "shutdownctl status",
    "apt-get install -y reboot-notifier",
    "test -d /srv || mkdir -p /srv",
    "[[ -d /etc ]] && echo yes",
    "case $x in rm) echo rm;; reboot) echo no;; esac",
    "for host in reboot shutdown; do echo $host; done",
    "f() { echo hi; }; f | cat",
    "tree() { for d in \"$1\"/*; do echo \"$d\"; tree \"$d\" | sed 's/^/  /'; done; }",
    "shutdown -c",
    "rm -rf /var/log/app/*",
    "rm -rf /home/deploy/old",
    "tee -a /etc/passwd < /dev/null",
    "cp /dev/null /tmp/x",
    "echo $((1+2))",
];

#[test]
fn every_dangerous_form_is_blocked_by_its_rule() {
    assert!(DANGEROUS.len() >= 40);
    let wrong: Vec<String> = DANGEROUS
        .iter()
        .filter_map(|(command, rule)| match judge(command) {
            Some(d) if d.rule == *rule => None,
            found => Some(format!("{command:?}: expected {rule}, got {found:?}")),
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_everyday_command_is_blocked() {
    assert!(EVERYDAY.len() >= 40);
    let wrong: Vec<String> = EVERYDAY
        .iter()
        .filter_map(|command| judge(command).map(|d| format!("{command:?}: {d}")))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn nesting_past_the_limit_is_refused_without_exhausting_the_stack() {
    let evals = format!("{}true", "eval ".repeat(MAX_DEPTH + 1));
    assert_eq!(judge(&evals).map(|d| d.rule), Some(Rule::TooDeep));
    let within = format!("{}true", "eval ".repeat(MAX_DEPTH));
    assert_eq!(judge(&within), None);
    let deep = format!("{}true{}", "$(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(judge(&deep).map(|d| d.rule), Some(Rule::TooDeep));
}

#[test]
fn long_commands_are_read_in_linear_time() {
    let long =
        "sudo ".repeat(20_000) + "true; " + &"(".repeat(20_000) + &"echo x | ".repeat(20_000);
    let started = std::time::Instant::now();
    assert_eq!(judge(&long), None);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

proptest! {
    /// Whatever the text, the guard answers: no panic, no hang (the fuzzer's inputs reach it
    /// through playbooks too).
    #[test]
    fn any_text_is_judged_without_a_panic(text in "[a-z0-9 /~*.$(){}`'\"\\\\;|&<>#=\n-]{0,300}") {
        let _ = judge(&text);
    }
}

//! Tests of [`super`]: ssh_config.

use super::*;

const BASIC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ssh/basic/config"
);
const LOOP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ssh/loop/config"
);

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create fixture dir");
    }
    fs::write(&path, text).expect("write fixture");
    path
}

fn split(line: &str) -> Option<(String, Vec<String>)> {
    split_line(line)
        .unwrap_or_else(|UnterminatedQuote| panic!("unterminated quote in {line:?}"))
        .map(|(keyword, args)| (keyword.to_owned(), args))
}

#[test]
fn the_passwd_home_config_is_read_by_ssh_and_another_is_not() {
    let other = tempfile::tempdir().expect("tempdir");
    let config = other.path().join("config");
    fs::write(&config, "Host x\n").expect("write");
    assert!(!read_by_ssh(&config));
    if let Some(home) = passwd_home() {
        let own = home.join(".ssh/config");
        assert_eq!(read_by_ssh(&own), own.exists());
    }
}

#[test]
fn lists_aliases_in_order_following_includes() {
    let found = aliases(Path::new(BASIC)).expect("basic fixture parses");
    assert_eq!(
        found,
        [
            "bastion",
            "web-1",
            "web-2",
            "db-1",
            "db-2",
            "cache-1",
            "ci-runner",
            "app-1",
            "app-nested",
            "app-2",
            "extra-1",
            "last"
        ]
    );
}

#[test]
fn include_loop_stops_at_depth_limit() {
    let err = aliases(Path::new(LOOP)).expect_err("a self-including config must fail");
    assert!(
        matches!(&err, SshConfigError::IncludeDepth { path } if path.ends_with("loop/config")),
        "{err:?}"
    );
}

#[test]
fn include_depth_sixteen_is_allowed_seventeen_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    for level in 0..=17 {
        let next = level + 1;
        write(
            dir.path(),
            &format!("f{level}"),
            &format!("Host h{level}\nInclude f{next}\n"),
        );
    }
    let err = aliases(&dir.path().join("f0")).expect_err("18 levels is too deep");
    assert!(
        matches!(&err, SshConfigError::IncludeDepth { path } if path.ends_with("f17")),
        "{err:?}"
    );

    let found = aliases(&dir.path().join("f1")).expect("17 levels (depth 16) is fine");
    assert_eq!(found.len(), 17);
    assert_eq!(found.first().map(String::as_str), Some("h1"));
    assert_eq!(found.last().map(String::as_str), Some("h17"));
}

#[test]
fn missing_top_level_file_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope");
    let err = aliases(&path).expect_err("missing file");
    assert!(
        matches!(&err, SshConfigError::Missing { path: p } if *p == path),
        "{err:?}"
    );
}

#[test]
fn unreadable_or_binary_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("binary");
    fs::write(&binary, b"Host ok\nHost \xff\xfe\n").expect("write");
    let err = aliases(&binary).expect_err("not utf-8");
    assert!(matches!(&err, SshConfigError::NotUtf8 { path } if *path == binary));
    assert!(err.to_string().contains("binary"));

    let err = aliases(dir.path()).expect_err("a directory is not a config");
    assert!(matches!(&err, SshConfigError::Read { .. }), "{err:?}");

    let top = write(dir.path(), "top", "Include binary\n");
    let err = aliases(&top).expect_err("included binary file");
    assert!(matches!(&err, SshConfigError::NotUtf8 { path } if *path == binary));
}

#[test]
fn unterminated_quote_reports_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "config", "Host a\n\nHost \"b c\n");
    let err = aliases(&path).expect_err("bad quote");
    assert!(
        matches!(&err, SshConfigError::Quote { line: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().ends_with(":3: unterminated quote"));
}

#[test]
fn include_skips_directories_dot_files_and_missing_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "d/b.conf", "Host b\n");
    write(dir.path(), "d/a.conf", "Host a\n");
    write(dir.path(), "d/.hidden.conf", "Host hidden\n");
    write(dir.path(), "d/sub.conf/inner", "Host inner\n");
    write(dir.path(), "d/.dot.conf", "Host dot\n");
    let top = write(
        dir.path(),
        "config",
        "Include d/*.conf nothing-here d/none-*\ninclude=d/.dot*\n",
    );
    assert_eq!(aliases(&top).expect("parses"), ["a", "b", "dot"]);
}

#[test]
fn include_globs_in_directory_components_and_absolute_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "x1/hosts", "Host x1\n");
    write(dir.path(), "x2/hosts", "Host x2\n");
    write(dir.path(), "y/hosts", "Host y\n");
    let absolute = dir.path().join("y/hosts");
    let top = write(
        dir.path(),
        "config",
        &format!("Include x?/hosts \"{}\"\n", absolute.display()),
    );
    assert_eq!(aliases(&top).expect("parses"), ["x1", "x2", "y"]);
}

#[test]
fn tilde_expands_to_home() {
    let home = tempfile::tempdir().expect("tempdir");
    let conf = tempfile::tempdir().expect("tempdir");
    write(home.path(), "extra/one.conf", "Host from-home\n");
    let top = write(conf.path(), "config", "Include ~/extra/*.conf\n");
    let found = aliases_with_home(&top, Some(home.path().to_path_buf())).expect("parses");
    assert_eq!(found, ["from-home"]);

    let err = aliases_with_home(&top, None).expect_err("no home");
    assert!(matches!(err, SshConfigError::NoHome { line: 1, .. }));
}

#[test]
fn splits_keywords_and_arguments_like_openssh() {
    let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    assert_eq!(split("   "), None);
    assert_eq!(split("  # Host nope"), None);
    assert_eq!(split("Host a b"), Some(("Host".into(), owned(&["a", "b"]))));
    assert_eq!(split("Host=a"), Some(("Host".into(), owned(&["a"]))));
    assert_eq!(
        split("\tHost = a\t b "),
        Some(("Host".into(), owned(&["a", "b"])))
    );
    assert_eq!(
        split(r#"Host "a b" 'c"d' e\ f g\"h # tail"#),
        Some(("Host".into(), owned(&["a b", "c\"d", "e f", "g\"h"])))
    );
    assert_eq!(split(r"Host a\b"), Some(("Host".into(), owned(&[r"a\b"]))));
    assert_eq!(split("Host a#b"), Some(("Host".into(), owned(&["a#b"]))));
    assert_eq!(split("Host"), Some(("Host".into(), owned(&[]))));
    assert!(split_line("Host 'a").is_err());
}

#[test]
fn concrete_patterns() {
    for pattern in ["web-1", "10.0.0.1", "db.example.com"] {
        assert!(is_concrete(pattern), "{pattern}");
    }
    for pattern in ["", "*", "web-?", "!web-1", "%h.example.com", "*.internal"] {
        assert!(!is_concrete(pattern), "{pattern}");
    }
}

#[test]
fn parses_ssh_g_output() {
    // Captured from `ssh -G -T -F config web-1` (OpenSSH 9.2), trimmed.
    let sample = "host web-1\nuser deploy\nhostname 10.0.0.5\nport 2222\n\
                  addressfamily any\nbatchmode no\nuserknownhostsfile /root/.ssh/known_hosts \
                  /root/.ssh/known_hosts2\nidentityfile ~/.ssh/id_rsa\n";
    assert_eq!(
        parse_ssh_g(sample),
        Ok(Resolved {
            hostname: "10.0.0.5".into(),
            user: "deploy".into(),
            port: 2222,
        })
    );
    assert!(parse_ssh_g("").is_err());
    assert!(parse_ssh_g("hostname h\nuser u\n").is_err());
    assert_eq!(
        parse_ssh_g("hostname h\nuser u\nport 99999\n"),
        Err("ssh -G printed an invalid port \"99999\"".to_owned())
    );
}

#[test]
fn resolves_through_real_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "config",
        "Host web-1\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n\
         Host *\n  User fallback\n",
    );

    let mut wanted: Vec<String> = (0..40).map(|i| format!("h{i}")).collect();
    wanted.push("web-1".into());
    wanted.push("bad host".into());
    wanted.push("-oProxyCommand=false".into());

    let (resolved, failed) = resolve(Some(&config), &wanted);
    assert_eq!(
        resolved.get("web-1"),
        Some(&Resolved {
            hostname: "10.0.0.5".into(),
            user: "deploy".into(),
            port: 2222,
        })
    );
    for i in 0..40 {
        let alias = format!("h{i}");
        assert_eq!(
            resolved.get(&alias),
            Some(&Resolved {
                hostname: alias.clone(),
                user: "fallback".into(),
                port: 22,
            })
        );
    }
    let failed_aliases: Vec<&str> = failed.iter().map(|(alias, _)| alias.as_str()).collect();
    assert_eq!(failed_aliases, ["bad host", "-oProxyCommand=false"]);
    assert!(failed[0].1.contains("invalid characters"), "{failed:?}");
    assert_eq!(resolved.len(), 41);
}

#[test]
fn resolve_of_nothing_is_empty() {
    let (resolved, failed) = resolve(None, &[]);
    assert!(resolved.is_empty() && failed.is_empty());
}

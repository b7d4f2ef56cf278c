use super::*;

fn file(size: u64, mtime: i64) -> Entry {
    Entry {
        kind: Kind::File,
        size,
        mtime,
        mode: 0o644,
    }
}

fn dir() -> Entry {
    Entry {
        kind: Kind::Dir,
        size: 4096,
        mtime: 1,
        mode: 0o755,
    }
}

fn tree(entries: &[(&str, Entry)]) -> Tree {
    entries
        .iter()
        .map(|(p, e)| (PathBuf::from(p), e.clone()))
        .collect()
}

fn marks(changes: &Changes) -> Vec<String> {
    changes
        .items
        .iter()
        .map(|i| format!("{} {}", i.change.mark(), i.path))
        .collect()
}

fn rules<'a>(excludes: &'a Excludes, delete: bool) -> Rules<'a> {
    Rules {
        excludes,
        delete,
        equal_content: None,
    }
}

#[test]
fn quick_check_sends_only_what_differs_in_size_or_mtime() {
    let none = Excludes::new(&[]).unwrap();
    let source = tree(&[
        ("a", file(1, 10)),
        ("b", file(2, 10)),
        ("c", file(3, 10)),
        ("d", dir()),
        ("d/e", file(4, 10)),
    ]);
    let dest = tree(&[("a", file(1, 10)), ("b", file(2, 11)), ("c", file(9, 10))]);
    let changes = Changes::between(&source, &dest, &rules(&none, false));
    assert_eq!(marks(&changes), ["~ b", "~ c", "+ d", "+ d/e"]);
    assert_eq!(changes.unchanged, 1);
    assert_eq!(changes.to_send(), (3, 9));
    assert!(matches!(changes.ops[0], Op::Mkdir { .. }));
}

#[test]
fn delete_removes_deepest_first_and_spares_excluded_paths_and_their_parents() {
    let ex = Excludes::new(&["*.keep".into()]).unwrap();
    let source = tree(&[("a", file(1, 1))]);
    let dest = tree(&[
        ("a", file(1, 1)),
        ("old", dir()),
        ("old/x", file(1, 1)),
        ("logs", dir()),
        ("logs/y.keep", file(1, 1)),
        ("logs/z", file(1, 1)),
    ]);
    let changes = Changes::between(&source, &dest, &rules(&ex, true));
    assert_eq!(marks(&changes), ["- logs/z", "- old", "- old/x"]);
    let removed: Vec<_> = changes
        .ops
        .iter()
        .map(|op| match op {
            Op::Remove { path, .. } => path.to_str().unwrap(),
            other => panic!("only removals expected: {other:?}"),
        })
        .collect();
    assert_eq!(removed, ["old/x", "old", "logs/z"]);
    let without = Changes::between(&source, &dest, &rules(&ex, false));
    assert!(without.ops.is_empty());
}

#[test]
fn a_file_replacing_a_directory_removes_what_the_directory_held() {
    let none = Excludes::new(&[]).unwrap();
    let source = tree(&[("x", file(5, 1))]);
    let dest = tree(&[("x", dir()), ("x/inner", file(1, 1))]);
    let changes = Changes::between(&source, &dest, &rules(&none, false));
    assert_eq!(
        changes.ops,
        [
            Op::Remove {
                path: "x/inner".into(),
                dir: false
            },
            Op::Remove {
                path: "x".into(),
                dir: true
            },
            Op::Send {
                path: "x".into(),
                entry: file(5, 1)
            },
        ]
    );
}

#[test]
fn links_compare_by_target_and_checksum_mode_compares_content() {
    let none = Excludes::new(&[]).unwrap();
    let link = |t: &str| Entry {
        kind: Kind::Symlink(t.into()),
        size: 1,
        mtime: 1,
        mode: 0o777,
    };
    let source = tree(&[("l", link("a")), ("m", link("b")), ("f", file(3, 20))]);
    let dest = tree(&[("l", link("a")), ("m", link("c")), ("f", file(3, 10))]);
    let equal: HashSet<PathBuf> = [PathBuf::from("f")].into();
    let changes = Changes::between(
        &source,
        &dest,
        &Rules {
            excludes: &none,
            delete: false,
            equal_content: Some(&equal),
        },
    );
    assert_eq!(marks(&changes), ["~ f", "+ m"]);
    assert!(changes.ops.contains(&Op::Touch {
        path: "f".into(),
        mode: 0o644,
        mtime: 20
    }));
}

#[test]
fn directories_get_their_mtime_back_last_and_deepest_first() {
    let none = Excludes::new(&[]).unwrap();
    let moved = Entry { mtime: 5, ..dir() };
    let source = tree(&[
        ("a", dir()),
        ("a/b", dir()),
        ("a/b/new", file(1, 1)),
        ("c", dir()),
        ("d", dir()),
        ("d/same", file(1, 1)),
    ]);
    let dest = tree(&[
        ("a", dir()),
        ("a/b", moved.clone()),
        ("c", moved),
        ("d", dir()),
        ("d/same", file(1, 1)),
    ]);
    let changes = Changes::between(&source, &dest, &rules(&none, false));
    // An mtime alone is no item: the one change is the new file.
    assert_eq!(marks(&changes), ["+ a/b/new"]);
    let restored: Vec<_> = changes
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::DirAttrs { path, mtime, .. } => Some((path.to_str().unwrap(), *mtime)),
            _ => None,
        })
        .collect();
    // c differs; a/b differs and gets a file; a and d are as they should be and untouched.
    assert_eq!(restored, [("c", 1), ("a/b", 1)]);
    assert!(matches!(changes.ops.last(), Some(Op::DirAttrs { .. })));
}

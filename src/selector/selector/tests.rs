//! The selector grammar, case by case.

use super::*;

fn parse(text: &str) -> Result<Expr, SelectorError> {
    Selector::parse(text, Some(0), (0, text.len()).into()).map(|s| s.expr)
}

fn word(w: &str, at: usize) -> Expr {
    Expr::Atom(atom(w, at).unwrap(), (at, w.len()).into())
}

#[test]
fn precedence_is_not_then_and_then_or() {
    assert_eq!(
        parse("web, db & !db-1").unwrap(),
        Expr::Or(vec![
            word("web", 0),
            Expr::And(vec![word("db", 5), Expr::Not(Box::new(word("db-1", 11)))]),
        ])
    );
    assert_eq!(
        parse("(web,db)&tag:prod").unwrap(),
        Expr::And(vec![
            Expr::Or(vec![word("web", 1), word("db", 5)]),
            word("tag:prod", 9)
        ])
    );
}

#[test]
fn words_become_atoms() {
    assert_eq!(atom("all", 0), Ok(Atom::All));
    assert_eq!(atom("tag:prod", 0), Ok(Atom::Tag("tag:prod".into())));
    assert_eq!(atom("os:Linux", 0), Ok(Atom::Os("linux".into())));
    assert_eq!(atom("web-*", 0), Ok(Atom::Glob("web-*".into())));
    assert_eq!(
        parse("web-[!0-9] & !db").unwrap(),
        Expr::And(vec![
            word("web-[!0-9]", 0),
            Expr::Not(Box::new(word("db", 14)))
        ])
    );
    assert_eq!(
        atom("web-1.example.com", 0),
        Ok(Atom::Name("web-1.example.com".into()))
    );
    assert!(atom("tag:", 0).is_err());
}

#[test]
fn errors_point_at_the_faulty_character() {
    let at = |text: &str| parse(text).unwrap_err().span;
    assert_eq!(at("web | db"), (4, 1).into());
    assert_eq!(at("web db"), (4, 2).into());
    assert_eq!(at("web &"), (5, 0).into());
    assert_eq!(at("(web, db"), (0, 1).into());
    assert_eq!(at("web)"), (3, 1).into());
    assert_eq!(at(""), (0, 0).into());
    // Offsets are moved to where the selector sits in its file.
    let err = Selector::parse("a b", Some(100), (99, 5).into()).unwrap_err();
    assert_eq!(err.span, (102, 1).into());
    let err = Selector::parse("a | b", Some(100), (99, 7).into()).unwrap_err();
    assert_eq!(err.span, (102, 1).into());
}

#[test]
fn nesting_is_bounded() {
    // Regression: thousands of `(` or `!` overflowed the stack while parsing.
    for open in ["(", "!", "!("] {
        let text = format!("{}web", open.repeat(100_000));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code, Code::SelectorTooDeep);
        assert_eq!(err.span.len(), 1);
        assert!(err.span.offset() >= MAX_DEPTH);
    }
    let fine = format!(
        "{}web{}",
        "(!".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    assert!(parse(&fine).is_ok());
}

#[test]
fn least_loaded_wraps_a_whole_selector_with_an_optional_count() {
    let one = Selector::parse("least-loaded(web & !web-3)", Some(0), (0, 26).into()).unwrap();
    assert_eq!(one.pick, Some(1));
    assert_eq!(
        one.expr,
        Expr::And(vec![
            word("web", 13),
            Expr::Not(Box::new(word("web-3", 20)))
        ])
    );
    let two = Selector::parse("least-loaded(web, db, 2)", Some(0), (0, 24).into()).unwrap();
    assert_eq!(two.pick, Some(2));
    assert_eq!(two.expr, Expr::Or(vec![word("web", 13), word("db", 18)]));
    // A host that is only called `least-loaded` is still a host.
    let plain = Selector::parse("least-loaded", Some(0), (0, 12).into()).unwrap();
    assert_eq!(plain.pick, None);
}

#[test]
fn least_loaded_misuse_points_at_the_fault() {
    let at = |text: &str| {
        let e = Selector::parse(text, Some(0), (0, text.len()).into()).unwrap_err();
        (e.message, e.span)
    };
    assert_eq!(
        at("least-loaded(web), db"),
        (
            "`least-loaded(…)` must be the whole selector".into(),
            (0, 17).into()
        )
    );
    assert_eq!(
        at("db, least-loaded(web)"),
        (
            "`least-loaded(…)` must be the whole selector".into(),
            (4, 12).into()
        )
    );
    assert_eq!(
        at("least-loaded(web, 0)"),
        (
            "`least-loaded` picks from 1 to 1000 hosts".into(),
            (18, 1).into()
        )
    );
    assert_eq!(
        at("least-loaded()"),
        (
            "`least-loaded` needs the hosts to pick from".into(),
            (12, 2).into()
        )
    );
    assert_eq!(at("least-loaded(web").1, (12, 1).into());
    // The inner selector's own errors point into it.
    assert_eq!(at("least-loaded(web db)").1, (17, 2).into());
}

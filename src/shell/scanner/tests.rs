//! Spots of holes in quotes, comments, substitutions and here-documents, the refusals, and
//! inputs deep enough to exhaust a recursive scanner.

use super::*;
use crate::shell::HereDoc;

/// The spots of a command written with `@` for each hole.
fn scan(command: &str) -> Vec<Spot> {
    let mut pieces = Vec::new();
    for (k, text) in command.split('@').enumerate() {
        if k > 0 {
            pieces.push(Piece::Hole);
        }
        pieces.push(Piece::Text(text));
    }
    spots(pieces)
}

fn one(command: &str) -> Spot {
    let spots = scan(command);
    assert_eq!(spots.len(), 1, "{command}");
    spots.into_iter().next().unwrap()
}

fn refused(command: &str) -> Refusal {
    match one(command) {
        Spot::Refused(r) => r,
        other => panic!("{command:?} gave {other:?}"),
    }
}

#[test]
fn quotes_comments_and_substitutions() {
    assert_eq!(one("echo @"), Spot::Bare);
    assert_eq!(one("echo '@'"), Spot::Single);
    assert_eq!(one("echo \"a @\""), Spot::Double);
    assert_eq!(one("echo $\"a @\""), Spot::Double);
    assert_eq!(one("echo \"$(echo @)\""), Spot::Bare);
    assert_eq!(one("echo \"$(echo '@')\""), Spot::Single);
    assert_eq!(one("echo <(echo @)"), Spot::Bare);
    assert_eq!(one("# it's @"), Spot::Comment);
    assert_eq!(one("echo a#b @"), Spot::Bare);
    // The apostrophe of a comment opens no quote (the injection of issue 6).
    assert_eq!(one("# don't restart here\necho deploying @"), Spot::Bare);
    assert_eq!(one("echo start # it's fine: @"), Spot::Comment);
    assert_eq!(one("echo $(echo ')') @"), Spot::Bare);
    assert_eq!(one("echo \\' @"), Spot::Bare);
    assert_eq!(one("echo 'a\\' @"), Spot::Bare);
    assert_eq!(one("echo \"\\\"\" @"), Spot::Bare);
    assert_eq!(one("echo a\\\n'@'"), Spot::Single);
    assert_eq!(one("echo $'a\\\\' @"), Spot::Bare);
    assert_eq!(one("echo ${HOME} $((1+2)) ${x:-${y}} @"), Spot::Bare);
    assert_eq!(one("[[ -n x ]] && echo @"), Spot::Bare);
    // A line continuation vanishes first…
    assert_eq!(one("echo \"$(\\\necho @)\""), Spot::Bare);
    assert_eq!(refused("echo \"$(\\\n(echo @))\""), Refusal::Arithmetic);
    assert_eq!(one("echo \"$(echo\\\n @)\""), Spot::Bare);
    assert_eq!(one("echo \\\\\n@"), Spot::Bare);
    assert_eq!(one("echo a\\\n#b @"), Spot::Bare);
    assert_eq!(one("echo a \\\n#b @"), Spot::Comment);
}

#[test]
fn here_documents() {
    let here = |delimiter: &str, quoted, strip_tabs| {
        Spot::HereDoc(HereDoc {
            delimiter: delimiter.into(),
            quoted,
            strip_tabs,
        })
    };
    assert_eq!(one("cat <<EOF\n@\nEOF"), here("EOF", false, false));
    assert_eq!(one("cat <<'EOF'\n'@\nEOF"), here("EOF", true, false));
    assert_eq!(one("cat <<-\"E F\"\n@\n\tE F\n"), here("E F", true, true));
    assert_eq!(one("cat <<E\\OF\n@\nEOF"), here("EOF", true, false));
    assert_eq!(one("cat <<EOF\nx\nEOF\necho @"), Spot::Bare);
    assert_eq!(one("cat <<A <<B\na\nA\n'\nB\necho @"), Spot::Bare);
    assert_eq!(one("cat <<EOF\n$(echo @)\nEOF"), Spot::Bare);
    // The newline inside the quote is not the one after which the text begins.
    assert_eq!(one("cat <<EOF; echo '\n@\nEOF"), Spot::Single);
    assert_eq!(one("cat <<< @"), Spot::Bare);
    assert_eq!(refused("cat <<@\nx\n"), Refusal::HereDocDelimiter);
    assert_eq!(refused("cat <<EOF\n\\@\nEOF"), Refusal::AfterBackslash);
    assert_eq!(refused("sh <<EOF\necho @\nEOF"), Refusal::ShellInput);
    assert_eq!(
        refused("cat <<EOF | sudo bash\n@\nEOF"),
        Refusal::ShellInput
    );
    assert_eq!(refused("bash <<< @"), Refusal::ShellInput);
    assert_eq!(
        refused("bash 2>/dev/null >log <<EOF\n@\nEOF"),
        Refusal::ShellInput
    );
    assert_eq!(refused("ssh -p 22 web <<EOF\n@\nEOF"), Refusal::ShellInput);
    assert_eq!(one("ssh web cat <<EOF\n@\nEOF"), here("EOF", false, false));
    assert_eq!(
        one("bash deploy.sh <<EOF\n@\nEOF"),
        here("EOF", false, false)
    );
}

#[test]
fn constructs_without_certain_quoting_are_refused() {
    assert_eq!(refused("echo `echo @`"), Refusal::Backtick);
    assert_eq!(refused("echo \"`@`\""), Refusal::Backtick);
    assert_eq!(refused("echo ${X:-@}"), Refusal::ParameterExpansion);
    assert_eq!(refused("echo $(( @ + 1 ))"), Refusal::Arithmetic);
    assert_eq!(refused("(( n = @ ))"), Refusal::Arithmetic);
    assert_eq!(refused("printf '%s\\n' $'@'"), Refusal::AnsiCString);
    assert_eq!(refused("echo $@"), Refusal::AfterDollar);
    assert_eq!(refused("echo \"$@\""), Refusal::AfterDollar);
    assert_eq!(refused("echo \\@"), Refusal::AfterBackslash);
    assert_eq!(refused("echo \"\\@\""), Refusal::AfterBackslash);
    assert_eq!(refused("[[ @ -eq 1 ]]"), Refusal::Conditional);
    assert_eq!(refused("[[ a == b && @ ]]"), Refusal::Conditional);
    assert_eq!(refused("a[@]=1"), Refusal::ArraySubscript);
    // dash, bash and zsh compare `[ … -gt … ]` operands as plain integers.
    assert_eq!(one("[ @ -gt 3 ]"), Spot::Bare);
    assert_eq!(refused("let n=@"), Refusal::IntegerVariable);
    assert_eq!(refused("declare -i n=@"), Refusal::IntegerVariable);
    assert_eq!(refused("eval echo @"), Refusal::Eval);
    assert_eq!(refused("sudo sh -c 'echo @'"), Refusal::CommandString);
    assert_eq!(refused("bash -ec \"x=@\""), Refusal::CommandString);
    assert_eq!(refused("python3 -c 'print(\"@\")'"), Refusal::CommandString);
    // The value as an argument after the code is what the help suggests.
    assert_eq!(one("sh -c 'echo \"$1\"' sh @"), Spot::Bare);
}

#[test]
fn after_an_ambiguous_construct_nothing_is_certain() {
    let after = |command| match refused(command) {
        Refusal::After(a) => a,
        other => panic!("{command:?} gave {other:?}"),
    };
    assert_eq!(after("echo $'it\\'s' @"), Ambiguity::AnsiCEscapedQuote);
    assert_eq!(after("echo `echo \"x\"` @"), Ambiguity::QuotedBacktick);
    assert_eq!(
        after("echo ${x:-\"}\"} @"),
        Ambiguity::QuotedParameterExpansion
    );
    assert_eq!(after("echo $((echo a); (echo b)) @"), Ambiguity::Arithmetic);
    assert_eq!(
        after("echo \"$(case $x in a) echo;; esac)\" @"),
        Ambiguity::CaseInSubstitution
    );
    assert_eq!(after("echo $[1+2] @"), Ambiguity::OldArithmetic);
    assert_eq!(after("ls *(e:'@':)"), Ambiguity::GlobQualifier);
    assert_eq!(one("f() { echo @; }"), Spot::Bare);
    // …but zsh does not join `$\<newline>(` inside double quotes.
    assert_eq!(after("echo \"$\\\n(echo @)\""), Ambiguity::ContinuedDollar);
    assert_eq!(after("echo $\\\n'@'"), Ambiguity::ContinuedDollar);
    assert_eq!(
        after("cat <<EOF\na\\\nEOF\n@"),
        Ambiguity::HereDocContinuation
    );
    assert_eq!(after("x=$(cat <<EOF) @"), Ambiguity::HereDocInSubstitution);
}

#[test]
fn deep_nesting_does_not_exhaust_the_stack() {
    let deep = "$(".repeat(100_000) + "echo @" + &")".repeat(100_000);
    assert_eq!(one(&deep), Spot::Bare);
    let quotes = "\"$(echo ".repeat(50_000) + "'@'";
    assert_eq!(one(&quotes), Spot::Single);
}

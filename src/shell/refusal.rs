//! Why a placeholder cannot stand where it does, and what to write instead.

/// A spot where no quoting of a value is certain to keep it one literal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Inside `` `…` ``, where quotes and backslashes are read twice.
    Backtick,
    /// Inside `${…}`, whose quoting rules differ between shells.
    ParameterExpansion,
    /// Inside `$((…))`, `((…))` or `$[…]`: bash evaluates a value there as an expression,
    /// and an expression can run commands (`a[$(…)]`).
    Arithmetic,
    /// Inside `$'…'`, which bash decodes and dash does not.
    AnsiCString,
    /// Right after a `$`: the value would become (part of) a variable name.
    AfterDollar,
    /// Right after a `\`: the backslash would act on the value's first character.
    AfterBackslash,
    /// In the word that names a here-document's end.
    HereDocDelimiter,
    /// Inside `[[ … ]]`, where some operands are evaluated as arithmetic.
    Conditional,
    /// In an array subscript, evaluated as arithmetic.
    ArraySubscript,
    /// An argument of `let`, `declare -i` or `integer`: evaluated as arithmetic.
    IntegerVariable,
    /// After `eval`, which runs its arguments as shell code.
    Eval,
    /// The command string of `sh -c`, `su -c`, `python -c`…: code for another interpreter.
    CommandString,
    /// Text of a here-document or here-string that a shell reads as its commands.
    ShellInput,
    /// After a construct that shells end in different places, so nothing after it is
    /// certain.
    After(Ambiguity),
}

/// A construct whose extent dash, bash and zsh do not agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// `$'…\'…'`: bash reads `\'` as a quote, dash as the end of the string.
    AnsiCEscapedQuote,
    /// A quote, comment or substitution inside backticks (undefined in POSIX).
    QuotedBacktick,
    /// A quote, backslash or command substitution inside `${…}`.
    QuotedParameterExpansion,
    /// `$((…)` closed by a single parenthesis, or quotes inside an arithmetic expression.
    Arithmetic,
    /// `case` inside `$(…)`, whose patterns close parentheses.
    CaseInSubstitution,
    /// bash's old `$[…]` arithmetic.
    OldArithmetic,
    /// A here-document whose end-of-text word holds a placeholder or is missing.
    HereDocDelimiter,
    /// A backslash at the end of a line of a here-document's text.
    HereDocContinuation,
    /// A here-document started inside `$(…)` that closes before its text begins.
    HereDocInSubstitution,
    /// A line continuation right after `$`, which zsh and dash join differently.
    ContinuedDollar,
    /// Parentheses right after a word: a zsh glob qualifier (which can run code) or a bash
    /// extended glob.
    GlobQualifier,
}

impl Refusal {
    /// Where the placeholder stands, to follow "`{{v}}` stands …".
    pub fn reason(self) -> String {
        match self {
            Refusal::Backtick => "inside `…` (a backtick command substitution)".into(),
            Refusal::ParameterExpansion => "inside a ${…} parameter expansion".into(),
            Refusal::Arithmetic => "inside an arithmetic expression, which bash can make run commands".into(),
            Refusal::AnsiCString => "inside a $'…' string, which bash decodes and dash does not".into(),
            Refusal::AfterDollar => "right after `$`, where its value would become a variable name".into(),
            Refusal::AfterBackslash => "right after `\\`, which would act on its first character".into(),
            Refusal::HereDocDelimiter => "in the word that ends a here-document".into(),
            Refusal::Conditional => "inside [[ … ]], where bash evaluates some operands as arithmetic".into(),
            Refusal::ArraySubscript => "in an array subscript, which bash evaluates as arithmetic".into(),
            Refusal::IntegerVariable => "in an arithmetic assignment (let, declare -i)".into(),
            Refusal::Eval => "after `eval`, which runs its arguments as shell code".into(),
            Refusal::CommandString => "in the code given to `sh -c` (or another interpreter's -c/-e), which runs it as code".into(),
            Refusal::ShellInput => "in a here-document or here-string that a shell reads as commands".into(),
            Refusal::After(a) => format!("after {}, so where it stands is not certain", a.describe()),
        }
    }

    /// What to write instead.
    pub fn help(self) -> &'static str {
        match self {
            Refusal::Backtick => "use $(…) instead of backticks",
            Refusal::ParameterExpansion | Refusal::AfterDollar => {
                "set a shell variable first and expand that: `v={{name}}; echo \"${v:-default}\"`"
            }
            Refusal::Arithmetic
            | Refusal::Conditional
            | Refusal::ArraySubscript
            | Refusal::IntegerVariable => {
                "check that the value is a number first, then use a variable: `n={{name}}; case $n in ''|*[!0-9]*) exit 1;; esac; echo $((n + 1))`"
            }
            Refusal::AnsiCString => "put it in '…' or \"…\" instead of $'…'",
            Refusal::AfterBackslash => "remove the backslash: the value is quoted for you",
            Refusal::HereDocDelimiter => "write the here-document's end word literally",
            Refusal::Eval | Refusal::CommandString | Refusal::ShellInput => {
                "pass the value as an argument and use \"$1\" in the code: sh -c 'echo \"$1\"' sh {{name}}"
            }
            Refusal::After(Ambiguity::AnsiCEscapedQuote) => {
                "write the quote as \\047 inside $'…', or use '…' \"…\" quoting"
            }
            Refusal::After(Ambiguity::QuotedBacktick) => "use $(…) instead of backticks",
            Refusal::After(Ambiguity::QuotedParameterExpansion) => {
                "keep quotes and substitutions out of ${…}: set a variable first"
            }
            Refusal::After(Ambiguity::Arithmetic | Ambiguity::OldArithmetic) => {
                "write arithmetic as $(( … )) with plain variable names"
            }
            Refusal::After(Ambiguity::CaseInSubstitution) => "move the case statement out of $(…)",
            Refusal::After(Ambiguity::ContinuedDollar) => {
                "keep `$` and what follows it on one line"
            }
            Refusal::After(Ambiguity::GlobQualifier) => {
                "put a space before the parenthesis, or filter the files another way"
            }
            Refusal::After(
                Ambiguity::HereDocDelimiter
                | Ambiguity::HereDocContinuation
                | Ambiguity::HereDocInSubstitution,
            ) => "end every here-document with a literal word on a line of its own",
        }
    }
}

impl Ambiguity {
    fn describe(self) -> &'static str {
        match self {
            Ambiguity::AnsiCEscapedQuote => {
                "a $'…' string holding \\' (dash and bash end it in different places)"
            }
            Ambiguity::QuotedBacktick => "quotes or substitutions inside backticks",
            Ambiguity::QuotedParameterExpansion => "quotes or substitutions inside ${…}",
            Ambiguity::Arithmetic => "an arithmetic expression that shells end differently",
            Ambiguity::CaseInSubstitution => "a case statement inside $(…)",
            Ambiguity::OldArithmetic => "bash's $[…]",
            Ambiguity::HereDocDelimiter => "a here-document without a literal end word",
            Ambiguity::HereDocContinuation => "a here-document line ending in \\",
            Ambiguity::HereDocInSubstitution => "a here-document inside $(…)",
            Ambiguity::ContinuedDollar => "a line continuation right after `$`",
            Ambiguity::GlobQualifier => "parentheses right after a word (a zsh glob qualifier)",
        }
    }
}

//! The execute half of `weld wast`.
//!
//! In: a script's text, what compiling each of its directives gave ([`Compiled`], decided by the
//! compiler), and the shared library the compiled modules were linked into. Out: one
//! [`DirectiveResult`] per directive — where it starts and whether it behaved as the script says.
//!
//! It is a crate of its own, built only on `weld-runtime` and the `wast` parser, so that it runs
//! where the compiled code runs: inside the compiler's process for the host target, and as the
//! `weld-wast-run` program on the target (aarch64, riscv64 under qemu-user) for cross targets,
//! where the compiler cannot load the code. Between the two halves travels a *plan*: one line
//! per directive (see [`Compiled::to_line`]); the results come back one line per directive
//! (see [`DirectiveResult::to_line`]). Skip lists and counting stay with the compiler.

mod cvalues;
mod runner;
mod values;

pub use runner::MAX_STACK_VAR;
use weld_runtime::Library;

/// The first line of a plan file.
pub const PLAN_HEADER: &str = "weld-wast-plan 1";

/// What compiling one directive's module gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// Not a module directive.
    None,
    /// The text did not encode (malformed text).
    TextError(String),
    /// weld refused it; `invalid` when because the module is invalid (not, say, unsupported).
    Refused { invalid: bool, message: String },
    /// A compiled core module: its symbol prefix in the library.
    Core(String),
    /// A compiled component: its symbol prefix in the library.
    Component(String),
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

impl Compiled {
    /// The plan line for this directive.
    pub fn to_line(&self) -> String {
        match self {
            Compiled::None => "none".into(),
            Compiled::TextError(m) => format!("text-error {}", one_line(m)),
            Compiled::Refused {
                invalid: true,
                message,
            } => format!("invalid {}", one_line(message)),
            Compiled::Refused {
                invalid: false,
                message,
            } => format!("refused {}", one_line(message)),
            Compiled::Core(p) => format!("core {p}"),
            Compiled::Component(p) => format!("component {p}"),
        }
    }

    /// Parse a plan line.
    pub fn from_line(line: &str) -> Result<Compiled, String> {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        Ok(match word {
            "none" => Compiled::None,
            "text-error" => Compiled::TextError(rest.into()),
            "invalid" | "refused" => Compiled::Refused {
                invalid: word == "invalid",
                message: rest.into(),
            },
            "core" => Compiled::Core(rest.into()),
            "component" => Compiled::Component(rest.into()),
            _ => return Err(format!("bad plan line {line:?}")),
        })
    }
}

/// A plan: what each directive's compilation gave, and whether linking the library failed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Why the library could not be linked, if it could not.
    pub link_error: Option<String>,
    /// One entry per directive of the script, in order.
    pub directives: Vec<Compiled>,
}

impl Plan {
    /// The plan file's text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{PLAN_HEADER}\n");
        if let Some(e) = &self.link_error {
            s.push_str(&format!("link-error {}\n", one_line(e)));
        }
        for c in &self.directives {
            s.push_str(&c.to_line());
            s.push('\n');
        }
        s
    }

    /// Parse a plan file's text.
    pub fn from_text(text: &str) -> Result<Plan, String> {
        let mut lines = text.lines();
        if lines.next() != Some(PLAN_HEADER) {
            return Err(format!("not a plan (first line is not {PLAN_HEADER:?})"));
        }
        let mut plan = Plan::default();
        for line in lines {
            match line.strip_prefix("link-error ") {
                Some(e) => plan.link_error = Some(e.into()),
                None => plan.directives.push(Compiled::from_line(line)?),
            }
        }
        Ok(plan)
    }
}

/// How one directive went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveResult {
    /// 1-based line where the directive starts.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// `Err` says what was expected and what happened.
    pub outcome: Result<(), String>,
}

impl DirectiveResult {
    /// The result line `LINE:COL ok` or `LINE:COL fail MESSAGE`.
    pub fn to_line(&self) -> String {
        match &self.outcome {
            Ok(()) => format!("{}:{} ok", self.line, self.col),
            Err(m) => format!("{}:{} fail {}", self.line, self.col, one_line(m)),
        }
    }

    /// Parse a result line.
    pub fn from_line(s: &str) -> Result<DirectiveResult, String> {
        let bad = || format!("bad result line {s:?}");
        let (pos, rest) = s.split_once(' ').ok_or_else(bad)?;
        let (line, col) = pos.split_once(':').ok_or_else(bad)?;
        let line = line.parse().map_err(|_| bad())?;
        let col = col.parse().map_err(|_| bad())?;
        let outcome = match rest.split_once(' ') {
            None if rest == "ok" => Ok(()),
            Some(("fail", m)) => Err(m.to_string()),
            _ => return Err(bad()),
        };
        Ok(DirectiveResult { line, col, outcome })
    }
}

/// Parse `text` as a `.wast` script (allowing the confusable Unicode some spec scripts contain).
/// `f` gets the parsed script; parse errors come back as one line.
pub fn with_script<R>(text: &str, f: impl FnOnce(&mut wast::Wast<'_>) -> R) -> Result<R, String> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf =
        wast::parser::ParseBuffer::new_with_lexer(lexer).map_err(|e| format!("cannot lex: {e}"))?;
    let mut script: wast::Wast<'_> = wast::parser::parse(&buf)
        .map_err(|e| format!("cannot parse: {}", one_line(&e.to_string())))?;
    Ok(f(&mut script))
}

/// Run the directives of the script `text` against `library` (`None` when nothing was linked),
/// as `plan` says each was compiled.
pub fn execute(
    text: &str,
    plan: &Plan,
    library: Option<Library>,
) -> Result<Vec<DirectiveResult>, String> {
    with_script(text, |script| {
        if script.directives.len() != plan.directives.len() {
            return Err(format!(
                "the plan has {} directives, the script {}",
                plan.directives.len(),
                script.directives.len()
            ));
        }
        let mut runner = runner::Runner::new(library, plan.link_error.clone());
        let mut results = Vec::with_capacity(plan.directives.len());
        for (d, c) in script.directives.iter().zip(&plan.directives) {
            let (line, col) = d.span().linecol_in(text);
            results.push(DirectiveResult {
                line: line as u32 + 1,
                col: col as u32 + 1,
                outcome: runner.directive(d, c),
            });
        }
        Ok(results)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_read_back_what_was_written() {
        let plan = Plan {
            link_error: Some("cc failed:\nundefined".into()),
            directives: vec![
                Compiled::None,
                Compiled::TextError("unexpected token".into()),
                Compiled::Refused {
                    invalid: true,
                    message: "type mismatch\nat 12".into(),
                },
                Compiled::Refused {
                    invalid: false,
                    message: "threads are not supported".into(),
                },
                Compiled::Core("m4".into()),
                Compiled::Component("m5".into()),
            ],
        };
        let back = Plan::from_text(&plan.to_text()).unwrap();
        assert_eq!(back.directives.len(), 6);
        assert_eq!(back.link_error.as_deref(), Some("cc failed: undefined"));
        assert_eq!(
            back.directives[2],
            Compiled::Refused {
                invalid: true,
                message: "type mismatch at 12".into()
            }
        );
        assert_eq!(back.directives[3..], plan.directives[3..]);
        assert!(Plan::from_text("core m1\n").is_err());
        assert!(Plan::from_text(&format!("{PLAN_HEADER}\nmodule m1\n")).is_err());
    }

    #[test]
    fn result_lines_read_back_what_was_written() {
        for r in [
            DirectiveResult {
                line: 12,
                col: 3,
                outcome: Ok(()),
            },
            DirectiveResult {
                line: 7,
                col: 1,
                outcome: Err("expected 1 results, got trap: unreachable".into()),
            },
        ] {
            assert_eq!(DirectiveResult::from_line(&r.to_line()).unwrap(), r);
        }
        for bad in ["", "12 ok", "a:1 ok", "1:1 maybe", "1:1 fail"] {
            assert!(DirectiveResult::from_line(bad).is_err(), "{bad:?}");
        }
    }
}

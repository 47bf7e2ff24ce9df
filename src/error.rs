//! The one error type of the commands, and the one place errors, warnings and
//! diagnostics reach stderr. A command returns `Result<i32, Error>`: `Ok` holds the exit
//! status of work done (a run's 0, 1 or 130); an `Error` turns into its status through
//! [`Error::code`] in one place, `commands::run`.
use std::io::IsTerminal;

use crate::source::{Diagnostic, SourceFile, render};

/// Exit status: every check passed.
pub const EXIT_PASSED: i32 = 0;
/// Exit status: a step or assertion failed, or the command could not do its work.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: the scenario or the command line is invalid; nothing was executed.
pub const EXIT_INVALID: i32 = 2;
/// Exit status: interrupted (Ctrl-C, SIGTERM, SIGHUP).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line did not parse, or asked for `--help` or `--version`: clap prints
    /// it (exit 2, or 0 for the help and the version).
    #[error("{0}")]
    Cli(#[from] clap::Error),
    /// A scenario that does not load, validate or prepare: its diagnostics, drawn against
    /// its file (exit 2).
    #[error("{}", .0.headline())]
    Scenario(Box<ScenarioError>),
    /// The command line or an input cannot be used: `error: <message>` (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// The command could not do its work (the runtime, the HTTP client, writing the
    /// evidence): `error: <message>` (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Several errors, printed in order (a suite's checks; a scenario that does not
    /// compile beside a record that does not read): the last one ended the command and
    /// gives the exit status.
    #[error("{}", .0.last().map(ToString::to_string).unwrap_or_default())]
    Several(Vec<Error>),
    /// Problems printed as they were found, by a command that went on past them
    /// (`validate a.yaml b.yaml` checks every file): nothing more to print (exit 2).
    #[error("problems were reported above")]
    Reported,
    /// A thread of the command panicked; the panic hook printed why (exit 1).
    #[error("a thread panicked")]
    Panicked,
    /// An error met while the run was being interrupted: printed as itself, and the
    /// run exits as interrupted (130).
    #[error("{0}")]
    Interrupted(Box<Error>),
    /// A second signal: exit at once, without waiting for clean-up (130).
    #[error("interrupted again: exiting without waiting for clean-up")]
    InterruptedAgain,
}

/// The diagnostics of one scenario.
#[derive(Debug)]
pub struct ScenarioError {
    /// Each problem, with its location.
    pub diagnostics: Vec<Diagnostic>,
    /// The scenario's text, to draw the lines they point at (None when it was not read).
    pub file: Option<SourceFile>,
    /// The closing line, when there is one (`3 problem(s) in x.yaml; nothing was run`).
    pub summary: Option<String>,
}

impl ScenarioError {
    fn headline(&self) -> String {
        self.summary
            .clone()
            .or_else(|| self.diagnostics.first().map(|d| d.message.clone()))
            .unwrap_or_default()
    }
}

impl Error {
    /// A scenario's diagnostics, drawn against `file`.
    pub fn scenario(diagnostics: Vec<Diagnostic>, file: Option<&SourceFile>) -> Error {
        Error::Scenario(Box::new(ScenarioError {
            diagnostics,
            file: file.cloned(),
            summary: None,
        }))
    }

    /// The same, with a closing line.
    pub fn scenario_with_summary(
        diagnostics: Vec<Diagnostic>,
        file: &SourceFile,
        summary: String,
    ) -> Error {
        Error::Scenario(Box::new(ScenarioError {
            diagnostics,
            file: Some(file.clone()),
            summary: Some(summary),
        }))
    }

    /// The exit status this error ends the process with.
    pub fn code(&self) -> i32 {
        match self {
            Error::Cli(e) if !e.use_stderr() => EXIT_PASSED,
            Error::Cli(_) | Error::Scenario(_) | Error::Invalid(_) | Error::Reported => {
                EXIT_INVALID
            }
            Error::Failed(_) | Error::Panicked => EXIT_FAILED,
            Error::Several(all) => all.last().map_or(EXIT_INVALID, Error::code),
            Error::Interrupted(_) | Error::InterruptedAgain => EXIT_INTERRUPTED,
        }
    }

    /// Prints the error for the user: clap's text, a scenario's diagnostics, or
    /// `error: <message>` on stderr.
    pub fn print(&self) {
        match self {
            Error::Cli(e) => {
                let _ = e.print();
            }
            Error::Scenario(s) => {
                print_diagnostics(&s.diagnostics, s.file.as_ref());
                if let Some(summary) = &s.summary {
                    eprintln!("error: {summary}");
                }
            }
            Error::Invalid(message) | Error::Failed(message) => eprintln!("error: {message}"),
            Error::Several(all) => all.iter().for_each(Error::print),
            Error::Reported | Error::Panicked => {}
            Error::Interrupted(inner) => inner.print(),
            Error::InterruptedAgain => eprintln!("{self}"),
        }
    }
}

/// Prints warnings (diagnostics of a valid scenario) on stderr, drawn against `file`.
pub fn print_warnings(diagnostics: &[Diagnostic], file: &SourceFile) {
    print_diagnostics(diagnostics, Some(file));
}

/// Prints `warning: <message>` on stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Draws diagnostics on stderr: in colour on a terminal unless NO_COLOR is set.
fn print_diagnostics(diagnostics: &[Diagnostic], file: Option<&SourceFile>) {
    let colored = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for d in diagnostics {
        eprintln!("{}", render(d, file, colored));
    }
}

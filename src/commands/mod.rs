//! The commands, one file each; this module only dispatches, and is the one place an
//! [`Error`] becomes an exit status (0 passed · 1 a step failed · 2 invalid scenario or
//! command line · 130 interrupted).
mod completions;
mod demo;
mod merge;
mod plan;
mod render;
mod run;
mod schema;
mod validate;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Error;

/// Runs the command line; returns the process exit status.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    match Cli::try_parse_from(args)
        .map_err(Error::from)
        .and_then(dispatch)
    {
        Ok(code) => code,
        Err(e) => {
            e.print();
            status(e.code())
        }
    }
}

/// The exit status of work done (a run's 0, 1 or 130), or of an error's `code()`.
fn status(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs one command: the exit status of the work it did, or why it stopped.
fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Completions { shell } => completions::completions(shell),
        Command::Schema { which } => schema::schema(which),
        Command::Validate {
            scenarios,
            env_files,
        } => validate::validate(&scenarios, &env_files),
        Command::Render { run_dir, scenario } => render::render(&run_dir, scenario.as_deref()),
        Command::Plan { scenario, mut args } => {
            args.scenario = scenario;
            plan::plan(&args)
        }
        Command::Run {
            paths,
            args,
            suite,
            output,
        } => run::run(paths, args, suite, output),
        Command::Merge { dirs, out } => merge::merge(&dirs, &out),
        Command::Demo {
            out,
            tags,
            loader_fail,
        } => demo::demo(out, tags, loader_fail),
    }
}

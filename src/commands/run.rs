//! `qtscen run PATH...`: one file runs as a single scenario, anything more as a suite.
use std::process::ExitCode;

use crate::cli::{OutputArgs, RunArgs, SuiteArgs};
use crate::error::Error;

/// Runs the scenario, or the suite, the paths name; the run's exit status.
pub(super) fn run(
    paths: Vec<String>,
    mut args: RunArgs,
    suite: SuiteArgs,
    output: OutputArgs,
) -> Result<ExitCode, Error> {
    if crate::suite::is_suite(&paths, suite.shard.is_some()) {
        return crate::suite::run(&paths, args, suite, output).map(super::status);
    }
    args.scenario = paths.into_iter().next().unwrap_or_default();
    crate::pipeline::run_single(&args, &output).map(super::status)
}

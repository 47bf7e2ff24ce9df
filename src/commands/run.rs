//! `qtscen run PATH...`: one file runs as a single scenario, anything more as a suite.
use crate::cli::{OutputArgs, RunArgs, SuiteArgs};
use crate::error::Error;

/// Runs the scenario, or the suite, the paths name; the run's exit status.
pub(super) fn run(
    paths: Vec<String>,
    mut args: RunArgs,
    suite: SuiteArgs,
    output: OutputArgs,
) -> Result<i32, Error> {
    if crate::suite::is_suite(&paths, suite.shard.is_some()) {
        return crate::suite::run(&paths, args, suite, output);
    }
    args.scenario = paths.into_iter().next().unwrap_or_default();
    crate::pipeline::run_single(&args, &output)
}

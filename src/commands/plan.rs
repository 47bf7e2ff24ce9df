//! `qtscen plan FILE`: every selected step's request rendered and printed; nothing is
//! sent.
use std::process::ExitCode;

use crate::cli::RunArgs;
use crate::error::Error;
use crate::pipeline::{compile, prepare, run_options};
use crate::runner::Clock;

/// Prints the plan of the scenario `args.scenario`, secrets masked.
pub(super) fn plan(args: &RunArgs) -> Result<ExitCode, Error> {
    let clock = Clock::new(args.now);
    let (loaded, mut plan) = compile(&args.scenario, clock.start(), &args.env_files)?;
    let opts = run_options(&plan, args)?;
    let rc = prepare(args, &loaded, &mut plan, clock)?;
    print!(
        "{}",
        rc.redactor
            .redact(&crate::runner::describe_plan(&plan, &rc, &opts))
    );
    Ok(ExitCode::SUCCESS)
}

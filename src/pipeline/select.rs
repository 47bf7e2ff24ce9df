//! Pipeline: the steps `run` and `plan` select — the tags (each must name a tag of some
//! step) and `--step` with the steps its `needs` require.
use crate::cli::RunArgs;
use crate::error::Error;
use crate::plan::Plan;
use crate::runner::RunOptions;

/// Every `--tags`/`--skip-tags` name must be a tag of some step: a typo would otherwise
/// run nothing and pass.
fn check_tags(plan: &Plan, args: &RunArgs) -> Result<(), Error> {
    let known: std::collections::BTreeSet<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    for tag in args.tags.iter().chain(&args.skip_tags) {
        if !known.contains(tag.as_str()) {
            let list = known.iter().copied().collect::<Vec<_>>().join(", ");
            return Err(Error::Invalid(format!(
                "no step has the tag `{tag}`; the scenario's tags are: {list}"
            )));
        }
    }
    Ok(())
}

/// The step selection of `run` and `plan`: the tags (checked) and `--step` with the
/// steps its `needs` require.
pub(crate) fn run_options(plan: &Plan, args: &RunArgs) -> Result<RunOptions, Error> {
    check_tags(plan, args)?;
    Ok(RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        allow_empty: args.allow_empty,
        steps: args.steps.clone(),
        needed: crate::runner::needed_steps(plan, &args.steps).map_err(Error::Invalid)?,
    })
}

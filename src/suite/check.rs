//! Suite: every file checked before anything runs — loaded and validated (every file of
//! the suite, on every shard, so all machines agree), and this shard's scenarios
//! prepared (env, vars); the tags and `--var`s checked across the suite. Any problem:
//! exit 2 and nothing executed.
use std::collections::BTreeSet;

use super::paths::Entry;
use super::scenario::{Job, scenario_args, suite_options};
use crate::cli::RunArgs;
use crate::error::Error;
use crate::pipeline::{compile, prepare};
use crate::runner::{Clock, selection_reason};

/// The scenarios this shard runs, and those its tags leave without a step (with why).
pub struct Checked {
    /// To run, in path order.
    pub jobs: Vec<Job>,
    /// Skipped by the tags: the job and the reason.
    pub skipped: Vec<(Job, String)>,
}

/// Checks every file of `all`, prepares those of `mine`. A file's problems are printed
/// when it is checked (the next one is checked still); the error returned names what
/// is wrong with the suite as a whole.
pub fn check_suite(all: &[Entry], mine: &[Entry], args: &RunArgs) -> Result<Checked, Error> {
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let opts = suite_options(args);
    let mut bad = 0usize;
    let mut tags: BTreeSet<String> = BTreeSet::new();
    let mut vars: BTreeSet<String> = BTreeSet::new();
    let mut checked = Checked {
        jobs: Vec::new(),
        skipped: Vec::new(),
    };
    for entry in all {
        let (loaded, mut plan) = match compile(&entry.path, now, &args.env_files) {
            Ok(compiled) => compiled,
            Err(e) => {
                e.print();
                bad += 1;
                continue;
            }
        };
        tags.extend(plan.steps.iter().flat_map(|s| s.tags.iter().cloned()));
        vars.extend(plan.vars.iter().map(|(n, _)| n.clone()));
        let Some(index) = mine.iter().position(|m| m.path == entry.path) else {
            continue;
        };
        let job = Job {
            index,
            entry: entry.clone(),
            name: plan.scenario.name.clone(),
        };
        let by_tags = !args.tags.is_empty() || !args.skip_tags.is_empty();
        if by_tags
            && plan
                .steps
                .iter()
                .all(|s| selection_reason(s, &opts).is_some())
        {
            checked.skipped.push((job, why_skipped(args)));
            continue;
        }
        let own = scenario_args(args, &entry.path, &plan);
        let clock = Clock::new(Some(now));
        if let Err(e) = prepare(&own, &loaded, &mut plan, clock) {
            e.print();
            bad += 1;
            continue;
        }
        checked.jobs.push(job);
    }
    let mut problems = Vec::new();
    for tag in args.tags.iter().chain(&args.skip_tags) {
        if !tags.contains(tag) {
            let list = tags.iter().cloned().collect::<Vec<_>>().join(", ");
            problems.push(Error::Invalid(format!(
                "no step of any scenario has the tag `{tag}`; the suite's tags are: {list}"
            )));
        }
    }
    for (name, _) in &args.vars {
        if !vars.contains(name) {
            problems.push(Error::Invalid(format!(
                "--var {name}: no scenario of the suite declares a var `{name}` in `vars:`"
            )));
        }
    }
    if bad > 0 {
        problems.push(Error::Invalid(format!(
            "{bad} of {} scenario file(s) have problems; nothing was run",
            all.len()
        )));
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(Error::Several(problems))
    }
}

/// Why the tags leave a scenario without a step.
fn why_skipped(args: &RunArgs) -> String {
    match (args.tags.is_empty(), args.skip_tags.is_empty()) {
        (false, true) => format!("--tags {} selects no step", args.tags.join(",")),
        (true, false) => format!("--skip-tags {} skips every step", args.skip_tags.join(",")),
        _ => format!(
            "--tags {} and --skip-tags {} leave no step",
            args.tags.join(","),
            args.skip_tags.join(",")
        ),
    }
}

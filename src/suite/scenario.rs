//! Suite: one scenario of a suite, from its file to its evidence folder — its own clock,
//! env, vars, captures and secrets (its own Redactor), exactly the stages of a single run.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::paths::Entry;
use super::summary::{FailedStep, ScenarioLine, Verdict};
use crate::cli::{OutputArgs, RunArgs};
use crate::exec::HttpClient;
use crate::pipeline::{compile, open_run_folder, prepare, print_run_end, record_and_write};
use crate::plan::Plan;
use crate::record::{RunOutcome, RunRecord, StepOutcome};
use crate::report::Console;
use crate::runner::{Clock, EventSink, RunOptions, run_plan};
use crate::secrets::Redactor;

/// What every scenario of a suite shares: the command line and the suite folder.
pub struct Shared {
    /// `run`'s options (the scenario field is set per scenario).
    pub args: RunArgs,
    /// Console options.
    pub output: OutputArgs,
    /// The suite folder.
    pub dir: PathBuf,
    /// `-j 1`: each scenario prints its steps as a single run does.
    pub verbose_console: bool,
    /// Set on Ctrl-C, SIGTERM, SIGHUP.
    pub interrupted: tokio::sync::watch::Receiver<bool>,
}

/// A scenario to run.
#[derive(Clone, Debug)]
pub struct Job {
    /// Its place in the suite (path order).
    pub index: usize,
    /// Its file and folder.
    pub entry: Entry,
    /// Its name, from validation.
    pub name: String,
}

/// A scenario that ended: its line in the suite, and the secrets it knew.
pub struct Finished {
    /// Its place in the suite.
    pub index: usize,
    /// Its line.
    pub line: ScenarioLine,
    /// Its redactor (the suite files mask the union of all of them).
    pub redactor: Redactor,
}

/// The options of a scenario in a suite: the suite's, with only the `--var`s it declares.
pub fn scenario_args(args: &RunArgs, path: &str, plan: &Plan) -> RunArgs {
    let mut own = args.clone();
    own.scenario = path.to_string();
    own.vars
        .retain(|(k, _)| plan.vars.iter().any(|(name, _)| name == k));
    own
}

/// The step selection of a scenario in a suite: the tags (checked across the suite, not
/// per scenario) and `--allow-empty`; `--step` is refused for suites.
pub fn suite_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        allow_empty: args.allow_empty,
        steps: Vec::new(),
        needed: Vec::new(),
    }
}

/// A line for a scenario that did not get to run its steps.
pub fn line_without_run(job: &Job, verdict: Verdict, reason: String) -> ScenarioLine {
    ScenarioLine {
        file: job.entry.path.clone(),
        name: job.name.clone(),
        folder: None,
        verdict,
        exit_code: if verdict == Verdict::Failed { 1 } else { 0 },
        reason: Some(reason),
        started_at: None,
        duration_ms: 0,
        steps: None,
        failed_steps: Vec::new(),
        report: None,
        results: None,
    }
}

/// Runs one scenario of the suite into its folder; `sink` hears its steps when the
/// console does not print them itself (`-j` above 1). `started` is told the scenario's
/// redactor once its secrets are known.
pub async fn run_scenario(
    job: &Job,
    shared: &Shared,
    sink: &dyn EventSink,
    started: &dyn Fn(&Redactor),
) -> Finished {
    let fail = |reason: String| Finished {
        index: job.index,
        line: line_without_run(job, Verdict::Failed, reason),
        redactor: Redactor::default(),
    };
    let began = Instant::now();
    let args = &shared.args;
    let clock = match args.now {
        Some(now) => Clock::new(Some(now)).with_zone(jiff::tz::TimeZone::UTC),
        None => Clock::new(None),
    };
    let path = job.entry.path.as_str();
    let (loaded, mut plan) = match compile(path, clock.start(), &args.env_files) {
        Ok(compiled) => compiled,
        Err(e) => {
            e.print();
            return fail("the scenario could not be compiled (see the errors above)".into());
        }
    };
    let own = scenario_args(args, path, &plan);
    let opts = suite_options(args);
    let mut rc = match prepare(&own, &loaded, &mut plan, clock.clone()) {
        Ok(rc) => rc,
        Err(e) => {
            e.print();
            return fail(
                "the scenario's env or vars could not be prepared (see the errors above)".into(),
            );
        }
    };
    started(&rc.redactor);
    let dir = shared.dir.join(&job.entry.folder);
    let folder = match open_run_folder(dir.to_str(), &plan.scenario.name, "") {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let client = match HttpClient::new() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let console = shared
        .verbose_console
        .then(|| Arc::new(Console::new(rc.redactor.clone(), shared.output.console())));
    if let Some(console) = &console {
        console.info(&format!(
            "qtscen {} — {} ({path})",
            env!("CARGO_PKG_VERSION"),
            plan.scenario.name
        ));
    }
    let ticker = console.clone().map(|console| {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(crate::report::FLUSH_EVERY).await;
                console.flush();
            }
        })
    });
    let events: &dyn EventSink = match &console {
        Some(c) => &**c,
        None => sink,
    };
    let ran = run_plan(
        &plan,
        &mut rc,
        &opts,
        &client,
        events,
        &dir,
        &shared.interrupted,
    )
    .await;
    if let Some(t) = ticker {
        t.abort();
    }
    let written = record_and_write(&plan, path, &rc, &opts, ran, began, &dir);
    let (record, written) = match written {
        Ok(x) => x,
        Err(e) => return fail(e.to_string()),
    };
    if let Some(console) = &console {
        print_run_end(console, &record, &written, &dir, &plan, None);
    }
    let report = plan
        .reports
        .first()
        .map(|(_, p)| format!("{}/{p}", job.entry.folder));
    let line = line_of(job, &record, report);
    drop(folder);
    Finished {
        index: job.index,
        line,
        redactor: rc.redactor.clone(),
    }
}

/// A scenario's line from its finished record.
fn line_of(job: &Job, record: &RunRecord, report: Option<String>) -> ScenarioLine {
    let verdict = match record.outcome {
        RunOutcome::Passed => Verdict::Passed,
        RunOutcome::Failed => Verdict::Failed,
        RunOutcome::Interrupted => Verdict::Interrupted,
    };
    ScenarioLine {
        file: job.entry.path.clone(),
        name: record.scenario.clone(),
        folder: Some(job.entry.folder.clone()),
        verdict,
        exit_code: record.exit_code,
        reason: record
            .nothing_ran
            .as_ref()
            .map(|why| format!("nothing ran: {why}")),
        started_at: Some(record.started_at.clone()),
        duration_ms: record.duration_ms,
        steps: Some(record.summary.clone()),
        failed_steps: record
            .steps
            .iter()
            .filter(|s| s.outcome == StepOutcome::Failed)
            .map(|s| FailedStep {
                id: s.id.clone(),
                class: s
                    .failure
                    .as_ref()
                    .map(|f| f.class.word().to_string())
                    .unwrap_or_else(|| "assertion".into()),
            })
            .collect(),
        report,
        results: Some(format!("{}/results.json", job.entry.folder)),
    }
}

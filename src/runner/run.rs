//! Run stage: the step loop — selection by `--step`/tags, `needs`, a critical failure or
//! an interrupt stopping the rest — producing the steps of the RunRecord (one step's own
//! run is in `step.rs`).
use std::collections::HashMap;
use std::path::Path;

use super::interrupted::{Exec, Raw};
use super::step_record::skipped;
use super::view::step_view;
use super::{Event, EventSink, RunContext};
use crate::exec::HttpClient;
use crate::plan::{Plan, StepPlan};
use crate::record::{StepOutcome, StepRecord};

/// Choices from the command line.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run only steps with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Skip steps with one of these tags.
    pub skip_tags: Vec<String>,
    /// A run in which no step ran passes (`--allow-empty`).
    pub allow_empty: bool,
    /// Run only these steps (`--step`; all when empty) …
    pub steps: Vec<String>,
    /// … and these, which they `needs` (see [`super::needed_steps`]).
    pub needed: Vec<String>,
}

/// Why `--step`, `--tags` or `--skip-tags` leave the step out, if they do.
pub fn selection_reason(step: &StepPlan, opts: &RunOptions) -> Option<String> {
    if !opts.steps.is_empty() && !opts.steps.contains(&step.id) && !opts.needed.contains(&step.id) {
        return Some(format!("not selected by --step {}", opts.steps.join(",")));
    }
    if !opts.tags.is_empty() && !step.tags.iter().any(|t| opts.tags.contains(t)) {
        return Some(format!("not selected by --tags {}", opts.tags.join(",")));
    }
    if let Some(t) = step.tags.iter().find(|t| opts.skip_tags.contains(t)) {
        return Some(format!("tag `{t}` skipped by --skip-tags"));
    }
    None
}

fn is_empty_value(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Why a step cannot run for its `needs`; `done` maps a finished step's id to its record.
fn needs_reason(step: &StepPlan, done: &HashMap<&str, &StepRecord>) -> Option<String> {
    for (sid, cap) in &step.needs {
        let Some(rec) = done.get(sid.as_str()) else {
            return Some(format!("needs `{sid}`, which did not run"));
        };
        match cap {
            None if rec.outcome != StepOutcome::Passed => {
                let what = match rec.outcome {
                    StepOutcome::Skipped => "was skipped",
                    _ => "failed",
                };
                return Some(format!("needs `{sid}`, which {what}"));
            }
            Some(c) if rec.captures.get(c).is_none_or(is_empty_value) => {
                return Some(format!("needs `{sid}.{c}`, which is empty"));
            }
            _ => {}
        }
    }
    None
}

/// The finished steps by id (`needs` is rare, so this is built only when asked); a
/// `for_each` step is there as the whole of its items (`wholes`).
fn finished<'a>(
    records: &'a [StepRecord],
    wholes: &'a [StepRecord],
) -> HashMap<&'a str, &'a StepRecord> {
    records
        .iter()
        .chain(wholes)
        .map(|r| (r.id.as_str(), r))
        .collect()
}

/// Runs every step of a plan; `out_dir` receives step artifacts.
pub async fn run_plan(
    plan: &Plan,
    rc: &mut RunContext,
    opts: &RunOptions,
    client: &HttpClient,
    events: &dyn EventSink,
    out_dir: &Path,
    interrupted: &tokio::sync::watch::Receiver<bool>,
) -> (Vec<StepRecord>, bool) {
    let mut records: Vec<StepRecord> = Vec::with_capacity(plan.steps.len());
    let mut stop_reason: Option<String> = None;
    let mut was_interrupted = false;
    let mut wholes: Vec<StepRecord> = Vec::new();
    let total = plan.steps.len();
    for (index, step) in plan.steps.iter().enumerate() {
        if *interrupted.borrow() && stop_reason.is_none() {
            stop_reason = Some("the run was interrupted".into());
            was_interrupted = true;
        }
        let unselected = selection_reason(step, opts);
        let pre = unselected
            .clone()
            .or_else(|| stop_reason.clone())
            .or_else(|| {
                let needs = !step.needs.is_empty();
                needs
                    .then(|| needs_reason(step, &finished(&records, &wholes)))
                    .flatten()
            });
        let ran: Vec<(StepRecord, Raw)> = match pre {
            Some(reason) => {
                let mut r = skipped(step, reason);
                r.selected = unselected.is_none();
                vec![(r, Raw::new())]
            }
            None => {
                let exec = Exec {
                    plan,
                    client,
                    events,
                    out_dir,
                    interrupted,
                    index,
                    total,
                };
                let (ran, stopped) = match &step.for_each {
                    None => {
                        let (r, stopped) = exec.step(step, (&step.id, &step.title), rc).await;
                        (vec![r], stopped)
                    }
                    Some(each) => super::for_each::run(&exec, step, each, rc).await,
                };
                if stopped {
                    was_interrupted = true;
                    stop_reason = Some("the run was interrupted".into());
                }
                ran
            }
        };
        if ran.iter().all(|(r, _)| r.id != step.id) {
            // `steps.<id>` of a `for_each` step: the whole, its captures as lists.
            let (whole, raw) = super::for_each::whole(step, &ran);
            rc.set_step(&step.id, step_view(&whole, None, Some(&raw)));
            wholes.push(whole);
        }
        for (record, _) in ran {
            // A `for_each` item was shown as it finished.
            if record.selected && record.id == step.id {
                events.emit(Event::StepFinished(&record));
            }
            if record.outcome == StepOutcome::Failed && step.critical && stop_reason.is_none() {
                stop_reason = Some(format!("critical step `{}` failed", step.id));
            }
            rc.set_step_if_absent(&record.id, || step_view(&record, None, None));
            records.push(record);
        }
    }
    (records, was_interrupted)
}

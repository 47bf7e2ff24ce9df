//! Run stage: the step loop — selection by `--step`/tags, `needs`, a critical failure or
//! an interrupt stopping the rest — producing the steps of the RunRecord (one step's own
//! run is in `step.rs`).
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use super::interrupted::interrupted_record;
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

pub(super) fn skipped(step: &StepPlan, reason: String) -> StepRecord {
    StepRecord {
        id: step.id.clone(),
        title: step.title.clone(),
        description: None,
        kind: step.action.kind().into(),
        tags: step.tags.clone(),
        selected: true,
        outcome: StepOutcome::Skipped,
        skip_reason: Some(reason),
        failure: None,
        started_at: None,
        duration_ms: 0,
        attempts: Vec::new(),
        assertions: Vec::new(),
        captures: BTreeMap::new(),
        items_count: None,
        output: None,
        notes: None,
        used_fallback: false,
        artifacts: Vec::new(),
        item: None,
    }
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

/// A step's captures as later templates read them (unmasked).
pub(crate) type Raw = serde_json::Map<String, serde_json::Value>;

/// What running one step needs besides the step and the run's values.
pub(crate) struct Exec<'a> {
    pub(super) plan: &'a Plan,
    pub(super) client: &'a HttpClient,
    pub(super) events: &'a dyn EventSink,
    pub(super) out_dir: &'a Path,
    pub(super) interrupted: &'a tokio::sync::watch::Receiver<bool>,
    index: usize,
    total: usize,
}

impl Exec<'_> {
    /// Runs `step` recorded as `id` (`orders`, or `orders[2]` for a `for_each` item);
    /// true when the run was interrupted during it.
    pub(crate) async fn step(
        &self,
        step: &StepPlan,
        (id, title): (&str, &str),
        rc: &mut RunContext,
    ) -> ((StepRecord, Raw), bool) {
        self.events.emit(Event::StepStarted {
            index: self.index,
            total: self.total,
            id,
            title,
        });
        let mut interrupted = self.interrupted.clone();
        // Owned here, not by the step: a step dropped at Ctrl-C leaves its
        // attempts (the one in flight included) for the record.
        let mut attempts = Vec::new();
        let mut raw = Raw::new();
        let since = (rc.clock.now(), Instant::now());
        tokio::select! {
            r = self.run_step(step, id, rc, &mut attempts, &mut raw) => ((r, raw), false),
            _ = interrupted.wait_for(|v| *v) => {
                let mut r = interrupted_record(step, rc, attempts, since, self.out_dir);
                r.id = id.to_string();
                ((r, Raw::new()), true)
            }
        }
    }
}

/// `name` for one item of a `for_each` step: `load.log` → `load-2.log`.
pub(crate) fn per_item(name: &str, index: Option<usize>) -> String {
    match (index, name.rsplit_once('.')) {
        (None, _) => name.to_string(),
        (Some(i), Some((stem, ext))) if !stem.is_empty() => format!("{stem}-{i}.{ext}"),
        (Some(i), _) => format!("{name}-{i}"),
    }
}

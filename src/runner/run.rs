//! Run stage: the step loop — selection by tags, `when`/`needs`, execution, assertions,
//! captures, artifacts — producing the RunRecord.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use super::checks::{capture, collect_files, implicit_exit, implicit_queries, implicit_status};
use super::failure::classify;
use super::http_step::HttpRun;
use super::outcome::ActionOutcome;
use super::process_step::{ProcessFacts, run_program};
use super::sql_step::run_sql;
use super::view::{response_value, step_view};
use super::{Event, EventSink, RunContext};
use crate::assert::eval_check;
use crate::exec::HttpClient;
use crate::plan::{Action, Plan, StepPlan};
use crate::record::{
    AssertionRecord, Attempt, Failure, FailureClass, StepOutcome, StepRecord, TransportKind,
};

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

/// The strings inside a captured value (a token, or the fields of a captured object).
fn secret_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| secret_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| secret_strings(x, out)),
        _ => {}
    }
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
    client: &'a HttpClient,
    pub(super) events: &'a dyn EventSink,
    out_dir: &'a Path,
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

/// The record of a step the run was interrupted in: every attempt made so far (one in
/// flight shows as `interrupted`, with what was sent), and the log the program wrote.
fn interrupted_record(
    step: &StepPlan,
    rc: &RunContext,
    attempts: Vec<Attempt>,
    since: (jiff::Timestamp, Instant),
    out_dir: &Path,
) -> StepRecord {
    let mut r = skipped(step, String::new());
    r.skip_reason = None;
    r.description = step.description.clone();
    r.outcome = StepOutcome::Failed;
    r.started_at = Some(rc.clock.format(since.0));
    r.duration_ms = since.1.elapsed().as_millis() as u64;
    let in_flight = attempts.last().filter(|a| {
        a.transport_error
            .as_ref()
            .is_some_and(|t| t.kind == TransportKind::Interrupted)
    });
    let during = match in_flight {
        Some(a) if matches!(a.request.method.as_str(), "EXEC" | "DOCKER") => {
            " while its program ran (its process group was killed)".to_string()
        }
        Some(a) => format!(
            " while {} {} waited for its answer",
            a.request.method, a.request.url_readable
        ),
        None if attempts.is_empty() => String::new(),
        None => " between attempts".to_string(),
    };
    r.failure = Some(Failure {
        class: FailureClass::Interrupted,
        message: format!(
            "the run was interrupted (Ctrl-C, SIGTERM or SIGHUP){during}; {} attempt(s) recorded",
            attempts.len()
        ),
    });
    r.attempts = attempts;
    add_body_files(&mut r);
    if let crate::plan::Action::Process(p) = &step.action {
        let index = rc.each.as_ref().map(|e| e.1);
        r.artifacts.extend(
            p.log
                .iter()
                .map(|l| per_item(l, index))
                .filter(|l| out_dir.join(l).exists()),
        );
    }
    r
}

/// The files holding bodies too large to keep in memory are the step's artifacts.
fn add_body_files(record: &mut StepRecord) {
    let files = record
        .attempts
        .iter()
        .filter(|a| !matches!(a.request.method.as_str(), "EXEC" | "DOCKER"))
        .filter_map(|a| a.response.as_ref()?.body_file.clone());
    for f in files.collect::<Vec<_>>() {
        if !record.artifacts.contains(&f) {
            record.artifacts.push(f);
        }
    }
}

impl Exec<'_> {
    /// Runs one step (or one item of a `for_each` step) recorded as `id`; `raw_captures`
    /// receives its captures unmasked, for later templates.
    async fn run_step(
        &self,
        step: &StepPlan,
        id: &str,
        rc: &mut RunContext,
        attempts: &mut Vec<Attempt>,
        raw_captures: &mut Raw,
    ) -> StepRecord {
        let (plan, client, events, out_dir) = (self.plan, self.client, self.events, self.out_dir);
        let t = &plan.templates;
        let started = Instant::now();
        let mut record = skipped(step, String::new());
        record.id = id.to_string();
        record.skip_reason = None;
        record.started_at = Some(rc.clock.now_text());
        record.description = step.description.clone();
        if let Some((when, src)) = &step.when {
            match t.eval_bool(when, &rc.value(&[])) {
                Ok(true) => {}
                Ok(false) => {
                    record.skip_reason = Some(format!("`when: {src}` is false"));
                    return record;
                }
                Err(e) => {
                    record.outcome = StepOutcome::Failed;
                    record.failure = Some(Failure {
                        class: FailureClass::Engine,
                        message: format!("when: {}", e.message),
                    });
                    return record;
                }
            }
        }
        let mut facts: Option<ProcessFacts> = None;
        let mut outcome = match &step.action {
            Action::Http(http) => {
                let runner = HttpRun {
                    client,
                    templates: t,
                    clock: &rc.clock,
                    events,
                    step_id: id,
                    out_dir,
                };
                let checks = &step.checks;
                let mut outcome = runner
                    .run(http, &step.retry, rc, false, checks, attempts)
                    .await;
                let primary_failed = outcome.engine_error.is_none()
                    && !outcome
                        .observation
                        .status
                        .is_some_and(|s| (200..300).contains(&s));
                if let (true, Some(fb)) = (primary_failed, &step.fallback) {
                    let mut fb_outcome = runner
                        .run(fb, &step.retry, rc, true, checks, attempts)
                        .await;
                    record.used_fallback = true;
                    // Later steps compare against the request the step was written for.
                    fb_outcome.request = std::mem::take(&mut outcome.request);
                    outcome = fb_outcome;
                }
                outcome
            }
            Action::Sql(sql) => run_sql(sql, &step.retry, t, rc, events, id, attempts).await,
            Action::Process(proc_plan) => {
                let (o, f) = run_program(proc_plan, t, rc, events, id, out_dir, attempts).await;
                facts = f;
                if let (Some(log), None) = (&proc_plan.log, &o.engine_error) {
                    record
                        .artifacts
                        .push(per_item(log, rc.each.as_ref().map(|e| e.1)));
                }
                o
            }
            Action::Reconcile(r) => {
                let (o, file) =
                    super::reconcile::run_reconcile(r, t, rc, id, out_dir, events, attempts).await;
                record.artifacts.extend(file);
                o
            }
            Action::Check => ActionOutcome::default(),
        };
        record.attempts = std::mem::take(attempts);
        add_body_files(&mut record);
        record.output = outcome.text.clone();
        record.items_count = outcome.observation.walk.as_ref().map(|w| w.count as usize);
        if let Some((name, _)) = outcome
            .observation
            .walk
            .as_ref()
            .and_then(|w| w.file.as_ref())
        {
            record.artifacts.push(name.clone());
        }
        if let Some(e) = &outcome.engine_error {
            record.outcome = StepOutcome::Failed;
            record.failure = Some(Failure {
                class: FailureClass::Engine,
                message: rc.redactor.redact(e),
            });
            record.duration_ms = started.elapsed().as_millis() as u64;
            return record;
        }
        // A program's output is its body: captures and checks read `response.body`.
        let with_body = matches!(step.action, Action::Process(_));
        let response = response_value(&outcome.observation, with_body);
        let ctx = rc.value(&[
            ("response", response),
            ("request", crate::template::to_value(&outcome.request)),
        ]);
        for check in &step.checks {
            collect_files(check, out_dir, &mut outcome.observation.files);
        }
        let obs = &outcome.observation;
        let mut assertions: Vec<AssertionRecord> = step
            .checks
            .iter()
            .map(|c| eval_check(c, obs, t, &ctx))
            .collect();
        match &step.action {
            Action::Http(_)
                if !step
                    .checks
                    .iter()
                    .any(|c| matches!(c.subject, crate::assert::Subject::Status)) =>
            {
                assertions.insert(0, implicit_status(obs));
            }
            Action::Sql(_) => assertions.insert(0, implicit_queries(&outcome)),
            Action::Process(_)
                if !step
                    .checks
                    .iter()
                    .any(|c| matches!(c.subject, crate::assert::Subject::ExitCode)) =>
            {
                assertions.insert(0, implicit_exit(facts.as_ref()));
            }
            Action::Reconcile(_) if step.checks.is_empty() => {
                assertions.insert(0, super::reconcile::implicit_reconciled(&outcome));
            }
            Action::Http(_) | Action::Process(_) | Action::Reconcile(_) | Action::Check => {}
        }
        if outcome.pages_left {
            assertions.push(AssertionRecord {
                description: "every page was read".into(),
                passed: false,
                soft: false,
                expected:
                    "the last page (no next page, or `paginate.until` true) before `max_pages`"
                        .into(),
                actual: format!("stopped after {} pages with more announced", outcome.pages),
                message: Some("raise paginate.max_pages, or check the stop condition".into()),
            });
        }
        if let Some(e) = &outcome.page_loop {
            assertions.push(AssertionRecord {
                description: "every page is new".into(),
                passed: false,
                soft: false,
                expected: "each next cursor or URL asked for once".into(),
                actual: format!("stopped after {} pages", outcome.pages),
                message: Some(e.clone()),
            });
        }
        for a in &mut assertions {
            a.expected = rc.redactor.redact(&a.expected);
            a.actual = rc.redactor.redact(&a.actual);
            a.message = a.message.as_deref().map(|m| rc.redactor.redact(m));
        }
        record.failure = classify(
            &step.action,
            &outcome,
            facts.as_ref(),
            &assertions,
            record.attempts.len(),
            &rc.redactor,
        );
        if record.used_fallback {
            if let (Some(f), Some(first)) = (
                record.failure.as_mut(),
                record.attempts.iter().rfind(|a| !a.fallback),
            ) {
                f.message = format!(
                    "{} {} answered {}, then the fallback: {}",
                    first.request.method, first.request.url, first.code, f.message
                );
            }
        }
        record.outcome = if record.failure.is_some() {
            StepOutcome::Failed
        } else {
            StepOutcome::Passed
        };
        record.assertions = assertions;
        for cap in &step.captures {
            let value = capture(cap, obs, t, &ctx);
            let mut value = match value {
                Ok(v) => v,
                Err(e) => {
                    record.assertions.push(AssertionRecord {
                        description: format!("capture {}", cap.name),
                        passed: false,
                        soft: true,
                        expected: "a value".into(),
                        actual: "error".into(),
                        message: Some(rc.redactor.redact(&e)),
                    });
                    serde_json::Value::Null
                }
            };
            if cap.secret {
                let mut found = Vec::new();
                secret_strings(&value, &mut found);
                rc.redactor.add(found);
            }
            // Later templates read the value as it is; the record keeps it masked.
            raw_captures.insert(cap.name.clone(), value.clone());
            rc.redactor.redact_json(&mut value);
            record.captures.insert(cap.name.clone(), value);
        }
        if step.captures.iter().any(|c| c.secret) {
            // The answer that carried the secret was recorded before it was known.
            for a in &mut record.attempts {
                if let Some(r) = a.response.as_mut() {
                    r.body = rc.redactor.redact(&r.body);
                    for v in r.headers.values_mut() {
                        *v = rc.redactor.redact(v);
                    }
                }
            }
            for a in &mut record.assertions {
                a.actual = rc.redactor.redact(&a.actual);
                a.expected = rc.redactor.redact(&a.expected);
            }
            record.output = record.output.as_deref().map(|o| rc.redactor.redact(o));
            // A program's log, a body in a file, were written before the secret was known.
            for name in &record.artifacts {
                let _ = super::body_file::mask_file_in_place(&out_dir.join(name), &rc.redactor);
            }
        }
        // Later templates see the outcome through `steps.<id>`, shared rather than copied.
        let outcome = std::sync::Arc::new(outcome);
        if step.notes.is_some() || !step.artifacts.is_empty() {
            let view = step_view(&record, Some(outcome.clone()), Some(raw_captures));
            let sctx = rc.value(&[
                ("step", view),
                ("response", response_value(&outcome.observation, false)),
            ]);
            if let Some(n) = &step.notes {
                record.notes = Some(match t.render_string(n, &sctx) {
                    Ok(s) => rc.redactor.redact(&s),
                    Err(e) => format!("(notes could not be rendered: {})", e.message),
                });
            }
            for (name, content) in &step.artifacts {
                let name = &per_item(name, rc.each.as_ref().map(|e| e.1));
                let text = match t.render_string(content, &sctx) {
                    Ok(s) => s,
                    Err(e) => format!("artifact could not be rendered: {}\n", e.message),
                };
                let written = crate::report::write_atomic(
                    &out_dir.join(name),
                    rc.redactor.redact(&text).as_bytes(),
                );
                if written.is_ok() {
                    record.artifacts.push(name.clone());
                }
            }
        }
        record.duration_ms = started.elapsed().as_millis() as u64;
        rc.set_step(id, step_view(&record, Some(outcome), Some(raw_captures)));
        record
    }
}

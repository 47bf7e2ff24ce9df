//! Record stage: the finished RunRecord — counts, outcome, exit code, masked vars and env.
use std::time::Instant;

use super::{RunContext, RunOptions};
use crate::plan::Plan;
use crate::record::{RunOutcome, RunRecord, StepOutcome, StepRecord, Summary};

/// Builds the finished record from the steps run (and whether the run was interrupted).
pub fn finish_record(
    plan: &Plan,
    file: &str,
    rc: &RunContext,
    opts: &RunOptions,
    (steps, interrupted): (Vec<StepRecord>, bool),
    started: Instant,
    artifacts: Vec<String>,
) -> RunRecord {
    let mut summary = Summary::default();
    for s in &steps {
        match s.outcome {
            StepOutcome::Passed => summary.passed += 1,
            StepOutcome::Failed => summary.failed += 1,
            StepOutcome::Skipped if !s.selected => summary.not_selected += 1,
            StepOutcome::Skipped => summary.skipped += 1,
        }
        summary.warnings += s.assertions.iter().filter(|a| a.soft && !a.passed).count();
        summary.requests += s.attempts.len();
    }
    let nothing_ran = (!interrupted && summary.passed + summary.failed == 0)
        .then(|| why_nothing_ran(&steps, opts));
    let empty_fails = nothing_ran.is_some() && !opts.allow_empty && !plan.scenario.allow_empty;
    let outcome = if interrupted {
        RunOutcome::Interrupted
    } else if summary.failed > 0 || empty_fails {
        RunOutcome::Failed
    } else {
        RunOutcome::Passed
    };
    let exit_code = match outcome {
        RunOutcome::Passed => 0,
        RunOutcome::Failed => 1,
        RunOutcome::Interrupted => 130,
    };
    let mut vars = rc.vars.clone();
    // Secrets by name are masked whole, however short their values.
    for (name, v) in vars.iter_mut() {
        if rc.secret_names.contains(name) {
            *v = serde_json::Value::String(crate::secrets::MASK.into());
        }
        rc.redactor.redact_json(v);
    }
    let env = rc
        .env
        .iter()
        .map(|(k, v)| {
            let shown = if rc.secret_names.contains(k) {
                crate::secrets::MASK.to_string()
            } else {
                rc.redactor.redact(v)
            };
            (k.clone(), shown)
        })
        .collect();
    RunRecord {
        record_version: crate::record::RECORD_VERSION,
        qtscen_version: env!("CARGO_PKG_VERSION").into(),
        scenario: plan.scenario.name.clone(),
        scenario_file: file.into(),
        description: plan.scenario.description.clone(),
        title: plan
            .scenario
            .report
            .title
            .clone()
            .unwrap_or_else(|| plan.scenario.name.clone()),
        started_at: rc.clock.format(rc.clock.start()),
        finished_at: rc.clock.now_text(),
        duration_ms: started.elapsed().as_millis() as u64,
        outcome,
        exit_code,
        tags: opts.tags.clone(),
        skip_tags: opts.skip_tags.clone(),
        only_steps: opts.steps.clone(),
        needed_steps: opts.needed.clone(),
        vars,
        env,
        steps,
        summary,
        artifacts,
        verdict: plan.summary.as_ref().map(|c| {
            let text = plan
                .templates
                .render_string(c, &rc.value(&[]))
                .unwrap_or_else(|e| format!("(the verdict could not be rendered: {})", e.message));
            rc.redactor.redact(&text)
        }),
        nothing_ran,
    }
}

/// Why no step ran: the tag selection, or the reason the selected steps were skipped.
fn why_nothing_ran(steps: &[StepRecord], opts: &RunOptions) -> String {
    let selected: Vec<&StepRecord> = steps.iter().filter(|s| s.selected).collect();
    if selected.is_empty() && !opts.steps.is_empty() {
        return format!(
            "--tags/--skip-tags leave out every step --step {} selects",
            opts.steps.join(",")
        );
    }
    if selected.is_empty() {
        let tags = opts.tags.join(",");
        let skip = opts.skip_tags.join(",");
        let tagged = steps
            .iter()
            .filter(|s| s.tags.iter().any(|t| opts.tags.contains(t)))
            .count();
        return match (opts.tags.is_empty(), opts.skip_tags.is_empty()) {
            (false, false) => format!(
                "--tags {tags} selects {tagged} step(s) and --skip-tags {skip} skips them all"
            ),
            (false, true) => format!("--tags {tags} selects no step"),
            (true, false) => format!("--skip-tags {skip} skips every step"),
            (true, true) => "the scenario has no step to run".to_string(),
        };
    }
    let first = selected
        .iter()
        .find_map(|s| s.skip_reason.as_deref().map(|r| format!("`{}`: {r}", s.id)))
        .unwrap_or_default();
    format!(
        "all {} selected step(s) were skipped (first: {first})",
        selected.len()
    )
}

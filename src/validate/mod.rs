//! Validate stage: everything that can be checked without running, compiled into a Plan;
//! problems are located by YAML path. `ctx` holds what the parts share and imports none
//! of them; the vars and steps are compiled in `steps` (their actions in `http` with
//! `paginate`, `sql`, `process` and `reconcile`, their `assert:` and `capture:` in `checks`,
//! what their templates read checked in `refs`), the reports in `reports`.
mod checks;
mod ctx;
mod http;
mod paginate;
mod process;
mod reconcile;
mod refs;
mod reports;
mod sql;
mod steps;

use std::collections::{BTreeSet, HashMap};

pub use ctx::{Problem, safe_file_name};
pub(crate) use http::ca_file_problems;
pub use reports::REPORT_ROOTS;

use crate::plan::{Plan, StepPlan};
use crate::scenario::Scenario;
use crate::source::YamlPath;
use crate::template::{CompiledJson, Templates};
use crate::yp;
use ctx::Ctx;
use refs::unguarded_env;
use reports::{check_limits, check_output_names, compile_reports};
use steps::compile_steps;

/// A scenario that validated: its plan, and the notices found on the way (warnings: valid,
/// but maybe not what the author expects).
pub type Validated = (Plan, Vec<Problem>);

/// Checks and compiles a scenario. `report_sources` maps report template names to their
/// text (the built-in one included).
pub fn validate_scenario(
    scenario: Scenario,
    templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Validated, Vec<Problem>> {
    plan_from(scenario, templates, report_sources, compile_steps)
}

/// A plan for `qtscen render`: the report part only (the steps ran already; their record
/// is in results.json), so a 10,000-step scenario is not compiled again.
pub fn validate_report_only(
    scenario: Scenario,
    templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Validated, Vec<Problem>> {
    plan_from(scenario, templates, report_sources, |_, _| {
        (Vec::new(), Vec::new())
    })
}

/// Compiles the scenario's vars and steps with `body`, then its reports: the plan and its
/// notices, or every problem found.
fn plan_from(
    scenario: Scenario,
    mut templates: Templates,
    report_sources: &HashMap<String, String>,
    body: impl FnOnce(&mut Ctx<'_>, &Scenario) -> (Vec<(String, CompiledJson)>, Vec<StepPlan>),
) -> Result<Validated, Vec<Problem>> {
    let mut cx = Ctx {
        t: &mut templates,
        problems: Vec::new(),
        env_refs: Vec::new(),
        notices: Vec::new(),
    };
    let (vars, steps) = body(&mut cx, &scenario);
    let (reports, summary) = compile_reports(&mut cx, &scenario, report_sources);
    check_output_names(&mut cx, &scenario);
    check_limits(&mut cx, &scenario.limits);
    let refs = cx.t.take_refs();
    cx.env_refs.extend(unguarded_env(refs));
    let problems = std::mem::take(&mut cx.problems);
    let env_refs = std::mem::take(&mut cx.env_refs);
    let notices = std::mem::take(&mut cx.notices);
    if !problems.is_empty() {
        return Err(problems);
    }
    let plan = Plan {
        scenario,
        templates,
        vars,
        steps,
        reports,
        summary,
        env_refs,
    };
    Ok((plan, notices))
}

/// Env variables read without a default that the scenario does not declare (in
/// `env.required`, `env.defaults`, `env.optional`, or one of its env files), and
/// `secrets:` entries that name nothing: no declared or read env variable, no var,
/// no capture.
pub fn check_declared(plan: &Plan, env_file_names: &BTreeSet<String>) -> Vec<Problem> {
    let env = &plan.scenario.env;
    let declared = |name: &str| {
        env.required.iter().any(|n| n == name)
            || env.defaults.contains_key(name)
            || env.optional.iter().any(|n| n == name)
            || env_file_names.contains(name)
    };
    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for r in &plan.env_refs {
        let name = &r.path[0];
        if declared(name) || !reported.insert(name.clone()) {
            continue;
        }
        problems.push(Problem {
            path: YamlPath::of_origin(&r.origin).unwrap_or_default(),
            message: format!(
                "`env.{name}` is not declared: list it in `env.required` (or `env.optional` if only some steps need it), give it a value in `env.defaults`, or write `env.{name} | default(…)`"
            ),
            at_key: false,
        });
    }
    for (i, name) in plan.scenario.secrets.iter().enumerate() {
        let known = declared(name)
            || plan.env_refs.iter().any(|r| &r.path[0] == name)
            || plan.scenario.vars.contains_key(name)
            || plan
                .scenario
                .steps
                .iter()
                .any(|s| s.capture.contains_key(name));
        if !known {
            problems.push(Problem {
                path: yp!["secrets", i],
                message: format!(
                    "`{name}` names nothing to mask: no env variable the scenario declares or reads, no var and no capture has that name"
                ),
                at_key: false,
            });
        }
    }
    problems
}

/// Turns validation problems into diagnostics located through the source map.
pub fn problems_to_diagnostics(
    problems: &[Problem],
    loaded: &crate::load::Loaded,
) -> Vec<crate::source::Diagnostic> {
    problems
        .iter()
        .map(|p| {
            let (map, yp) = (loaded.map(), &p.path);
            let exact = if p.at_key {
                map.key(yp).or_else(|| map.value(yp))
            } else {
                map.value(yp)
            };
            let span = exact.or_else(|| map.nearest(yp));
            crate::source::Diagnostic::error(format!("{}: {}", p.path, p.message))
                .with_file(loaded.file.name.clone())
                .with_span(span)
        })
        .collect()
}

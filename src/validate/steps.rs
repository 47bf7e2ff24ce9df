//! Validate stage: a scenario's version, vars and steps — one action per step, unique
//! ids, its checks, captures, fallback and artifacts — compiled into step plans (what
//! the templates read is checked in `refs`).
use std::collections::{HashMap, HashSet};

use super::checks::{compile_captures, compile_checks};
use super::ctx::{Ctx, safe_file_name, valid_id};
use super::http::compile_http;
use super::process::{compile_docker, compile_exec};
use super::reconcile::compile_reconcile;
use super::refs::{
    check_each, check_refs, check_step_refs, check_var_refs, compile_needs, unguarded_env,
    unsent_default_headers,
};
use super::sql::compile_sql;
use crate::plan::{Action, ForEach, HttpPlan, StepPlan};
use crate::scenario::{RetryPolicy, Scenario, Step};
use crate::source::YamlPath;
use crate::template::{Compiled, CompiledJson};
use crate::yp;

/// What the steps of a scenario are compiled against: the scenario, the index of each
/// step id (its first use), and the default headers already noted as unsent.
struct Scope<'s> {
    scenario: &'s Scenario,
    index: HashMap<&'s str, usize>,
    told: HashSet<String>,
}

/// `for_each:` — a list (its strings may be templates) or an expression (bare, or one
/// `{{ … }}`) that gives the items.
fn compile_for_each(cx: &mut Ctx, at: &YamlPath, v: &serde_json::Value) -> Option<ForEach> {
    match v {
        serde_json::Value::Array(_) => cx.json(at, v).map(ForEach::List),
        serde_json::Value::String(src) => {
            let src = src.trim();
            let bare = src
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"))
                .filter(|e| !e.contains("{{") && !e.contains("}}"))
                .unwrap_or(src);
            cx.expr(at, bare.trim())
                .map(|c| ForEach::Expr(c, src.to_string()))
        }
        _ => {
            cx.problem(
                at,
                "`for_each` is a list of items, or an expression that gives one (`steps.campaigns.captures.ids`)",
            );
            None
        }
    }
}

/// The scenario's vars and steps, compiled; problems go to `cx`.
pub(super) fn compile_steps(
    cx: &mut Ctx<'_>,
    scenario: &Scenario,
) -> (Vec<(String, CompiledJson)>, Vec<StepPlan>) {
    if scenario.version != 1 {
        cx.problem(
            yp!["version"],
            format!(
                "unknown format version {}; this qtscen reads version 1",
                scenario.version
            ),
        );
    }
    if scenario.steps.is_empty() {
        cx.problem(yp!["steps"], "a scenario needs at least one step");
    }
    let vars = compile_vars(cx, scenario);
    check_ids(cx, scenario);
    if !cx.t.take_step_refs().is_empty() {
        check_var_refs(cx, scenario);
    }
    let mut scope = Scope {
        scenario,
        index: scenario
            .steps
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect(),
        told: HashSet::new(),
    };
    let steps = (scenario.steps.iter().enumerate())
        .filter_map(|(i, step)| compile_step(cx, &mut scope, i, step))
        .collect();
    (vars, steps)
}

/// `vars:`, in order: each may read the vars above it.
fn compile_vars(cx: &mut Ctx<'_>, scenario: &Scenario) -> Vec<(String, CompiledJson)> {
    let mut vars = Vec::new();
    for (name, value) in &scenario.vars {
        if !valid_id(name) {
            cx.key_problem(
                yp!["vars", name],
                format!("`{name}` is not a valid name (letters, digits, `_`)"),
            );
        }
        let _ = cx.t.take_refs();
        if let Some(c) = cx.json(&yp!["vars", name], value) {
            vars.push((name.clone(), c));
        }
        let refs = cx.t.take_refs();
        check_each(cx, &refs, false);
        check_refs(
            cx,
            scenario,
            &refs,
            scenario.vars.get_index_of(name.as_str()),
        );
        cx.env_refs.extend(unguarded_env(refs));
    }
    vars
}

/// Step ids: valid names, each used once.
fn check_ids(cx: &mut Ctx<'_>, scenario: &Scenario) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        if !valid_id(&step.id) {
            cx.problem(
                yp!["steps", i, "id"],
                format!(
                    "`{}` is not a valid step id (letters, digits, `_`, not starting with a digit)",
                    step.id
                ),
            );
        }
        if let Some(first) = seen.insert(step.id.as_str(), i) {
            cx.problem(
                yp!["steps", i, "id"],
                format!(
                    "duplicate step id `{}` (first used by steps[{first}])",
                    step.id
                ),
            );
        }
    }
}

/// Step `i`, compiled: its plan, or None when it has problems that leave no action.
fn compile_step(
    cx: &mut Ctx<'_>,
    scope: &mut Scope<'_>,
    i: usize,
    step: &Step,
) -> Option<StepPlan> {
    let scenario = scope.scenario;
    let p = yp!["steps", i];
    let _ = cx.t.take_step_refs();
    let _ = cx.t.take_refs();
    let kinds = step.kinds();
    if kinds.len() > 1 {
        cx.key_problem(
            p.at(kinds[1]),
            format!("a step has one action, found {}", kinds.join(" and ")),
        );
        return None;
    }
    let for_each = step
        .for_each
        .as_ref()
        .and_then(|v| compile_for_each(cx, &p.at("for_each"), v));
    let for_each_names = cx.t.take_refs();
    check_each(cx, &for_each_names, false);
    check_refs(cx, scenario, &for_each_names, None);
    let for_each_env = unguarded_env(for_each_names);
    let action = compile_action(cx, scope, i, step)?;
    if step.fallback.is_some() && step.sql.is_some() {
        cx.key_problem(
            p.at("fallback"),
            "a fallback is an HTTP request; SQL steps take none",
        );
    }
    let when = step
        .when
        .as_ref()
        .and_then(|w| cx.expr(&p.at("when"), w).map(|c| (c, w.clone())));
    let needs = compile_needs(cx, scenario, &scope.index, i, step);
    let checks = compile_checks(cx, &p, step);
    let captures = compile_captures(cx, scenario, &p, step);
    let fallback = compile_fallback(cx, scope, i, step);
    let artifacts = compile_artifacts(cx, &p, step);
    let notes = step.notes.as_ref().and_then(|n| cx.text(&p.at("notes"), n));
    let retry = step
        .retry
        .clone()
        .or_else(|| scenario.defaults.retry.clone())
        .unwrap_or_else(RetryPolicy::once);
    if retry.attempts == 0 {
        cx.problem(
            p.at("retry").at("attempts"),
            "attempts counts the first one too: use 1 or more",
        );
    }
    let refs = cx.t.take_step_refs();
    check_step_refs(cx, scenario, &scope.index, i, &refs);
    let names = cx.t.take_refs();
    check_each(cx, &names, for_each.is_some());
    check_refs(cx, scenario, &names, None);
    let mut env_refs = unguarded_env(names);
    env_refs.extend(for_each_env);
    cx.env_refs.extend(env_refs.iter().cloned());
    Some(StepPlan {
        id: step.id.clone(),
        title: step.title.clone().unwrap_or_else(|| step.id.clone()),
        description: step.description.clone(),
        tags: step.tags.clone(),
        when,
        needs,
        critical: step.critical,
        action: action?,
        retry,
        checks,
        captures,
        fallback,
        artifacts,
        notes,
        env_refs,
        for_each,
    })
}

/// The step's one action: `Some(None)` when it has problems (the rest of the step is
/// still checked), None when the step has no action at all (then nothing else is).
fn compile_action(
    cx: &mut Ctx<'_>,
    scope: &mut Scope<'_>,
    i: usize,
    step: &Step,
) -> Option<Option<Action>> {
    let scenario = scope.scenario;
    let p = yp!["steps", i];
    Some(if let Some(h) = &step.http {
        compile_http(cx, &p.at("http"), h, &scenario.defaults.http).map(|mut plan| {
            unsent_default_headers(
                cx,
                scenario,
                (&scope.index, i),
                h,
                &mut plan,
                &mut scope.told,
            );
            Action::Http(plan)
        })
    } else if let Some(q) = &step.sql {
        compile_sql(cx, &p.at("sql"), q, &scenario.defaults.sql).map(Action::Sql)
    } else if let Some(e) = &step.exec {
        compile_exec(cx, &p.at("exec"), e).map(Action::Process)
    } else if let Some(d) = &step.docker {
        compile_docker(cx, &p.at("docker"), d).map(Action::Process)
    } else if let Some(r) = &step.reconcile {
        compile_reconcile(cx, &p.at("reconcile"), r, scenario, (&scope.index, i))
            .map(Action::Reconcile)
    } else if !step.assert.is_empty() || !step.capture.is_empty() {
        // A check of earlier results, or values computed mid-run (`capture:` with
        // `expr:` joins pages, derives a date range, …).
        Some(Action::Check)
    } else {
        cx.problem(
            &p,
            format!(
                "step `{}` does nothing: add `http:`, `sql:`, `exec:` or `docker:`, `assert:` for a check, or `capture:` for values computed mid-run",
                step.id
            ),
        );
        return None;
    })
}

/// `fallback:`: another step's request (`step:`) or one of its own (`http:`).
fn compile_fallback(
    cx: &mut Ctx<'_>,
    scope: &mut Scope<'_>,
    i: usize,
    step: &Step,
) -> Option<HttpPlan> {
    let scenario = scope.scenario;
    let p = yp!["steps", i];
    let f = step.fallback.as_ref()?;
    let (h, at) = match (&f.step, &f.http) {
        (Some(other), None) => match scenario.steps.iter().find(|s| &s.id == other) {
            Some(s) if s.id == step.id => {
                cx.problem(
                    p.at("fallback").at("step"),
                    "a step cannot be its own fallback",
                );
                return None;
            }
            Some(s) => (s.http.as_ref()?, p.at("fallback").at("step")),
            None => {
                cx.problem(
                    p.at("fallback").at("step"),
                    format!("no step has id `{other}`"),
                );
                return None;
            }
        },
        (None, Some(h)) => (h, p.at("fallback").at("http")),
        _ => {
            cx.problem(
                p.at("fallback"),
                "a fallback takes exactly one of `step` or `http`",
            );
            return None;
        }
    };
    let mut plan = compile_http(cx, &at, h, &scenario.defaults.http)?;
    unsent_default_headers(
        cx,
        scenario,
        (&scope.index, i),
        h,
        &mut plan,
        &mut scope.told,
    );
    Some(plan)
}

/// `artifacts:`: files written into the run folder, each a template.
fn compile_artifacts(cx: &mut Ctx<'_>, p: &YamlPath, step: &Step) -> Vec<(String, Compiled)> {
    let mut artifacts = Vec::new();
    for (name, content) in &step.artifacts {
        if !safe_file_name(name) {
            cx.key_problem(
                p.at("artifacts").at(name),
                format!("`{name}` must be a plain file name inside the run folder"),
            );
        }
        if let Some(c) = cx.text(&p.at("artifacts").at(name), content) {
            artifacts.push((name.clone(), c));
        }
    }
    artifacts
}

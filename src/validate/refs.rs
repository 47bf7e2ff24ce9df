//! Validate stage: what a scenario's templates read — `steps.<id>` only of steps that
//! run before (vars read none), `vars.x` and `steps.<id>.captures.c` that exist, `each`
//! only in a `for_each` step, `env.X` reads without a default — and the default headers
//! a step cannot send yet.
use std::collections::{HashMap, HashSet};

use super::ctx::Ctx;
use crate::scenario::Scenario;
use crate::source::YamlPath;
use crate::template::NameRef;
use crate::yp;

/// Every string below `value` that names `steps.<id>`: (YAML path, id).
fn step_refs(value: &serde_json::Value, path: YamlPath, out: &mut Vec<(YamlPath, String)>) {
    match value {
        serde_json::Value::String(text) => {
            out.extend(
                crate::template::step_refs_in(text)
                    .into_iter()
                    .map(|id| (path.clone(), id)),
            );
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                step_refs(v, path.at(i), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                step_refs(v, path.at(k), out);
            }
        }
        _ => {}
    }
}

/// Vars are rendered before any step: they cannot read `steps`.
pub(super) fn check_var_refs(cx: &mut Ctx, scenario: &Scenario) {
    let mut refs = Vec::new();
    if let Ok(vars) = serde_json::to_value(&scenario.vars) {
        step_refs(&vars, yp!["vars"], &mut refs);
    }
    for (path, id) in refs {
        cx.problem(
            path,
            format!("vars are rendered before any step runs, so they cannot read `steps.{id}`"),
        );
    }
}

/// Templates of step `i` may only read steps that run before it. `refs` are the ids its
/// templates name (collected while compiling); only when one is wrong is the step
/// walked again to point at the exact field.
pub(super) fn check_step_refs(
    cx: &mut Ctx,
    scenario: &Scenario,
    index: &HashMap<&str, usize>,
    i: usize,
    refs: &[String],
) {
    // One item of a `for_each` step, `steps['stats[2]']`, is the step `stats`.
    let at = |id: &str| {
        let base = id
            .strip_suffix(']')
            .and_then(|r| r.rsplit_once('['))
            .filter(|(_, n)| n.parse::<usize>().is_ok())
            .map_or(id, |(b, _)| b);
        index.get(base).copied()
    };
    if refs.iter().all(|id| at(id).is_some_and(|j| j < i)) {
        return;
    }
    let step = &scenario.steps[i];
    let mut found = Vec::new();
    if let Ok(value) = serde_json::to_value(step) {
        step_refs(&value, yp!["steps", i], &mut found);
    }
    for (path, id) in found {
        if at(&id).is_some_and(|j| j < i) {
            continue;
        }
        let why = if id == step.id {
            "itself (use `response`, `request` or, in notes and artifacts, `step`)".to_string()
        } else if index.contains_key(id.as_str()) {
            format!("`{id}`, a step that runs later")
        } else {
            format!("`{id}`, a step that does not exist")
        };
        cx.problem(path, format!("refers to {why}"));
    }
}

/// The `env.X` reads that are not guarded by `default` or `is defined`, one per name.
pub(super) fn unguarded_env(refs: Vec<NameRef>) -> Vec<NameRef> {
    let mut out: Vec<NameRef> = Vec::new();
    for r in refs {
        if r.root == "env"
            && !r.guarded
            && !r.path.is_empty()
            && !out.iter().any(|o| o.path[0] == r.path[0])
        {
            out.push(r);
        }
    }
    out
}

/// Names templates read that no part of the scenario defines: `vars.x` with no var
/// `x` (or, inside a var, one defined after it), `steps.id.captures.c` that step `id`
/// does not capture. Reads through `default` or `is defined` may be absent.
/// `in_var`: the index of the var being compiled.
pub(super) fn check_refs(
    cx: &mut Ctx,
    scenario: &Scenario,
    refs: &[NameRef],
    in_var: Option<usize>,
) {
    for r in refs.iter().filter(|r| !r.guarded) {
        let Some(first) = r.path.first() else {
            continue;
        };
        match r.root.as_str() {
            "vars" => match scenario.vars.get_index_of(first.as_str()) {
                Some(at) if in_var.is_none_or(|v| at < v) => {}
                Some(_) => cx.problem(
                    YamlPath::of_origin(&r.origin).unwrap_or_default(),
                    format!(
                        "`vars.{first}` is defined at or after this var; vars are rendered in order, so move it up"
                    ),
                ),
                None => {
                    let names: Vec<&str> = scenario.vars.keys().map(String::as_str).collect();
                    let hint = crate::source::did_you_mean(first, &names)
                        .map(|n| format!("; did you mean `vars.{n}`?"))
                        .unwrap_or_default();
                    cx.problem(
                        YamlPath::of_origin(&r.origin).unwrap_or_default(),
                        format!("`vars.{first}` is not defined: no var has that name{hint} (write `vars.{first} | default(…)` if it may be absent)"),
                    );
                }
            },
            "steps" => {
                let (Some(kind), Some(cap)) = (r.path.get(1), r.path.get(2)) else {
                    continue;
                };
                if kind != "captures" {
                    continue;
                }
                let Some(step) = scenario.steps.iter().find(|s| &s.id == first) else {
                    continue;
                };
                if step.capture.contains_key(cap.as_str()) {
                    continue;
                }
                let names: Vec<&str> = step.capture.keys().map(String::as_str).collect();
                let hint = crate::source::did_you_mean(cap, &names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_else(|| {
                        if names.is_empty() {
                            " (it captures nothing)".into()
                        } else {
                            format!(" (it captures {})", names.join(", "))
                        }
                    });
                cx.problem(
                    YamlPath::of_origin(&r.origin).unwrap_or_default(),
                    format!("`steps.{first}.captures.{cap}`: step `{first}` captures no `{cap}`{hint}"),
                );
            }
            _ => {}
        }
    }
}

/// Default headers that read captures of this step or a later one are not sent by it:
/// the value does not exist yet (`Authorization: Bearer {{ steps.login.captures.token }}`
/// in `defaults.http.headers` is sent from the step after `login` on). `at` is the step
/// index map and this step's index; `told` holds the headers already noted.
pub(super) fn unsent_default_headers(
    cx: &mut Ctx,
    scenario: &Scenario,
    at: (&HashMap<&str, usize>, usize),
    own: &crate::scenario::HttpSpec,
    plan: &mut crate::plan::HttpPlan,
    told: &mut HashSet<String>,
) {
    let (index, i) = at;
    if !own.use_defaults {
        return;
    }
    for (name, src) in &scenario.defaults.http.headers {
        if own.headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            continue;
        }
        let last = crate::template::step_refs_in(src)
            .into_iter()
            .filter_map(|id| index.get(id.as_str()).map(|j| (*j, id)))
            .max();
        let Some((j, later)) = last.filter(|(j, _)| *j >= i) else {
            continue;
        };
        plan.headers.retain(|(k, _)| k != name);
        if told.insert(name.clone()) {
            let from = scenario.steps.get(j + 1).map_or_else(
                || "no step sends it".to_string(),
                |s| format!("it is sent from `{}` on", s.id),
            );
            cx.notice(
                yp!["defaults", "http", "headers", name],
                format!(
                    "reads `steps.{later}`, so `{later}` and the steps before it do not send this header (its value does not exist yet); {from}"
                ),
            );
        }
    }
}

/// `each` and `each_index` exist only in the templates of a `for_each` step.
pub(super) fn check_each(cx: &mut Ctx, refs: &[NameRef], allowed: bool) {
    if allowed {
        return;
    }
    for r in refs
        .iter()
        .filter(|r| r.root == "each" || r.root == "each_index")
    {
        cx.problem(
            YamlPath::of_origin(&r.origin).unwrap_or_default(),
            format!(
                "`{}` is the item of a `for_each` step, and this is not one (add `for_each:` to the step)",
                r.root
            ),
        );
    }
}

/// `needs:` — steps (or one capture of a step, `login.token`) that run before this one.
pub(super) fn compile_needs(
    cx: &mut Ctx,
    scenario: &Scenario,
    index: &HashMap<&str, usize>,
    i: usize,
    step: &crate::scenario::Step,
) -> Vec<(String, Option<String>)> {
    let mut needs = Vec::new();
    for (n, need) in step.needs.iter().enumerate() {
        let (sid, cap) = match need.split_once('.') {
            Some((s, c)) => (s, Some(c.to_string())),
            None => (need.as_str(), None),
        };
        let at = yp!["steps", i, "needs", n];
        if index.get(sid).is_none_or(|j| *j >= i) {
            let why = if index.contains_key(sid) {
                "comes later"
            } else {
                "does not exist"
            };
            cx.problem(at, format!("needs `{sid}`, a step that {why}"));
        } else if let Some(c) = &cap {
            let declared = scenario
                .steps
                .iter()
                .find(|s| s.id == sid)
                .is_some_and(|s| s.capture.contains_key(c));
            if !declared {
                cx.problem(at, format!("step `{sid}` captures no `{c}`"));
            }
        }
        needs.push((sid.to_string(), cap));
    }
    needs
}

//! Validate stage: a scenario's version, vars and steps — one action per step, unique
//! ids, `needs` and `steps.<id>` references that point backwards — compiled into step plans.
use std::collections::{HashMap, HashSet};

use crate::assert::{CapturePlan, Check};
use crate::plan::{Action, ForEach, StepPlan};
use crate::scenario::{RetryPolicy, Scenario};
use crate::template::{CompiledJson, NameRef};
use crate::validate::{Ctx, safe_file_name};
use crate::validate_http::{compile_http, compile_sql};
use crate::validate_process::{compile_docker, compile_exec};

/// Every string below `value` that names `steps.<id>`: (YAML path, id).
fn step_refs(value: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
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
                step_refs(v, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let plain = k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                let child = if plain {
                    format!("{path}.{k}")
                } else {
                    format!("{path}[{k:?}]")
                };
                step_refs(v, child, out);
            }
        }
        _ => {}
    }
}

/// Vars are rendered before any step: they cannot read `steps`.
fn check_var_refs(cx: &mut Ctx, scenario: &Scenario) {
    let mut refs = Vec::new();
    if let Ok(vars) = serde_json::to_value(&scenario.vars) {
        step_refs(&vars, "vars".into(), &mut refs);
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
fn check_step_refs(
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
        step_refs(&value, format!("steps[{i}]"), &mut found);
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

/// Checks and compiles a `reconcile` step, step `i` of `scenario`.
fn compile_reconcile(
    cx: &mut Ctx,
    p: &str,
    r: &crate::scenario::ReconcileSpec,
    scenario: &Scenario,
    (index, i): (&HashMap<&str, usize>, usize),
) -> Option<crate::plan::ReconcilePlan> {
    let mut side = |name: &str, s: &crate::scenario::ReconcileSide| {
        let at = format!("{p}.{name}");
        let source = side_source(cx, &at, name, s, scenario, (index, i));
        let key = row_expr(cx, &format!("{at}.key"), &s.key);
        let values: Vec<(String, crate::plan::RowExpr)> = s
            .values
            .iter()
            .filter_map(|(k, v)| {
                row_expr(cx, &format!("{at}.values.{k}"), v).map(|c| (k.clone(), c))
            })
            .collect();
        Some(crate::plan::ReconcileSidePlan {
            name: s.name.clone().unwrap_or_else(|| name.to_string()),
            source: source?,
            key: key?,
            values,
        })
    };
    let left = side("left", &r.left);
    let right = side("right", &r.right);
    for (i, m) in r.compare.iter().enumerate() {
        let on = |s: &crate::scenario::ReconcileSide| m == "count" || s.values.contains_key(m);
        if !on(&r.left) || !on(&r.right) {
            cx.problem(
                format!("{p}.compare[{i}]"),
                format!("`{m}` is not a measure of both sides: name it in `left.values` and `right.values`, or compare `count`"),
            );
        }
    }
    if r.tolerance.is_nan() || r.tolerance < 0.0 {
        cx.problem(
            format!("{p}.tolerance"),
            "a tolerance is a number of 0 or more",
        );
    }
    Some(crate::plan::ReconcilePlan {
        sides: [left?, right?],
        compare: r.compare.clone(),
        tolerance: r.tolerance,
        show: r.show,
    })
}

/// Where a side's rows come from: exactly one of `rows`, `items` (an earlier page
/// walk's id) and `sql`.
fn side_source(
    cx: &mut Ctx,
    at: &str,
    name: &str,
    s: &crate::scenario::ReconcileSide,
    scenario: &Scenario,
    (index, i): (&HashMap<&str, usize>, usize),
) -> Option<crate::plan::RowSource> {
    use crate::plan::RowSource;
    let given: Vec<&str> = [
        ("rows", s.rows.is_some()),
        ("items", s.items.is_some()),
        ("sql", s.sql.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    match given.len() {
        1 => {}
        0 => {
            cx.problem(
                at,
                "a side needs its rows: one of `rows` (an expression giving a list), `items` (an earlier page walk's id) or `sql` (a ClickHouse query)",
            );
            return None;
        }
        _ => {
            cx.key_problem(
                format!("{at}.{}", given[1]),
                format!(
                    "a side takes exactly one of `rows`, `items` and `sql`, found {}",
                    given.join(" and ")
                ),
            );
            return None;
        }
    }
    if let Some(rows) = &s.rows {
        return cx.expr(&format!("{at}.rows"), rows).map(RowSource::Rows);
    }
    if let Some(q) = &s.sql {
        return crate::validate_http::compile_side_query(
            cx,
            &format!("{at}.sql"),
            name,
            q,
            &scenario.defaults.sql,
        )
        .map(|plan| RowSource::Sql(Box::new(plan)));
    }
    let id = s.items.as_deref().unwrap_or_default();
    let problem = match index.get(id) {
        None => Some(format!("`{id}` is not a step of this scenario")),
        Some(j) if *j >= i => Some(format!(
            "`{id}` runs later: `items` names an earlier page walk"
        )),
        Some(j) => {
            let walk = scenario.steps[*j]
                .http
                .as_ref()
                .and_then(|h| h.paginate.as_ref());
            match walk {
                Some(pg) if pg.collect.is_some() => None,
                _ => Some(format!(
                    "`{id}` collects no items: `items` names a step whose `http.paginate` has `collect`"
                )),
            }
        }
    };
    match problem {
        Some(why) => {
            cx.problem(format!("{at}.items"), why);
            None
        }
        None => Some(RowSource::Items(id.to_string())),
    }
}

/// An expression over one `row`; `row.a.b` and `row['a']` are also kept as a path to
/// read directly.
fn row_expr(cx: &mut Ctx, at: &str, src: &str) -> Option<crate::plan::RowExpr> {
    let expr = cx.expr(at, src)?;
    Some(crate::plan::RowExpr {
        expr,
        path: row_path(src),
    })
}

/// `row.id` → `["id"]`, `row.client['name']` → `["client", "name"]`; None for any other
/// expression.
fn row_path(src: &str) -> Option<Vec<String>> {
    let mut rest = src.trim().strip_prefix("row")?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            path.push(name.to_string());
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let quote = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let inner = &r[1..];
            let end = inner.find(quote)?;
            let name = &inner[..end];
            if name.contains('\\') {
                return None;
            }
            path.push(name.to_string());
            rest = inner[end + 1..].strip_prefix(']')?;
        } else {
            return None;
        }
    }
    (!path.is_empty()).then_some(path)
}

/// The `env.X` reads that are not guarded by `default` or `is defined`, one per name.
pub(crate) fn unguarded_env(refs: Vec<NameRef>) -> Vec<NameRef> {
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
fn check_refs(cx: &mut Ctx, scenario: &Scenario, refs: &[NameRef], in_var: Option<usize>) {
    for r in refs.iter().filter(|r| !r.guarded) {
        let Some(first) = r.path.first() else {
            continue;
        };
        match r.root.as_str() {
            "vars" => match scenario.vars.get_index_of(first.as_str()) {
                Some(at) if in_var.is_none_or(|v| at < v) => {}
                Some(_) => cx.problem(
                    r.origin.to_string(),
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
                        r.origin.to_string(),
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
                    r.origin.to_string(),
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
fn unsent_default_headers(
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
                format!("defaults.http.headers.{name}"),
                format!(
                    "reads `steps.{later}`, so `{later}` and the steps before it do not send this header (its value does not exist yet); {from}"
                ),
            );
        }
    }
}

/// `for_each:` — a list (its strings may be templates) or an expression (bare, or one
/// `{{ … }}`) that gives the items.
fn compile_for_each(cx: &mut Ctx, at: &str, v: &serde_json::Value) -> Option<ForEach> {
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

/// `each` and `each_index` exist only in the templates of a `for_each` step.
pub(crate) fn check_each(cx: &mut Ctx, refs: &[NameRef], allowed: bool) {
    if allowed {
        return;
    }
    for r in refs
        .iter()
        .filter(|r| r.root == "each" || r.root == "each_index")
    {
        cx.problem(
            r.origin.to_string(),
            format!(
                "`{}` is the item of a `for_each` step, and this is not one (add `for_each:` to the step)",
                r.root
            ),
        );
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The scenario's vars and steps, compiled; problems go to `cx`.
pub(crate) fn compile_steps(
    cx: &mut Ctx<'_>,
    scenario: &Scenario,
) -> (Vec<(String, CompiledJson)>, Vec<StepPlan>) {
    if scenario.version != 1 {
        cx.problem(
            "version",
            format!(
                "unknown format version {}; this qtscen reads version 1",
                scenario.version
            ),
        );
    }
    if scenario.steps.is_empty() {
        cx.problem("steps", "a scenario needs at least one step");
    }
    let mut vars = Vec::new();
    for (name, value) in &scenario.vars {
        if !valid_id(name) {
            cx.key_problem(
                format!("vars.{name}"),
                format!("`{name}` is not a valid name (letters, digits, `_`)"),
            );
        }
        let _ = cx.t.take_refs();
        if let Some(c) = cx.json(&format!("vars.{name}"), value) {
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
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        if !valid_id(&step.id) {
            cx.problem(
                format!("steps[{i}].id"),
                format!(
                    "`{}` is not a valid step id (letters, digits, `_`, not starting with a digit)",
                    step.id
                ),
            );
        }
        if let Some(first) = seen.insert(step.id.as_str(), i) {
            cx.problem(
                format!("steps[{i}].id"),
                format!(
                    "duplicate step id `{}` (first used by steps[{first}])",
                    step.id
                ),
            );
        }
    }
    if !cx.t.take_step_refs().is_empty() {
        check_var_refs(cx, scenario);
    }
    let index: HashMap<&str, usize> = scenario
        .steps
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let ids: HashSet<&str> = scenario.steps.iter().map(|s| s.id.as_str()).collect();
    let default_retry = scenario.defaults.retry.clone();
    let mut steps = Vec::new();
    let mut told = HashSet::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let p = format!("steps[{i}]");
        let _ = cx.t.take_step_refs();
        let _ = cx.t.take_refs();
        let kinds = step.kinds();
        if kinds.len() > 1 {
            cx.key_problem(
                format!("{p}.{}", kinds[1]),
                format!("a step has one action, found {}", kinds.join(" and ")),
            );
            continue;
        }
        let for_each = step
            .for_each
            .as_ref()
            .and_then(|v| compile_for_each(cx, &format!("{p}.for_each"), v));
        let for_each_names = cx.t.take_refs();
        check_each(cx, &for_each_names, false);
        check_refs(cx, scenario, &for_each_names, None);
        let for_each_env = unguarded_env(for_each_names);
        let action = if let Some(h) = &step.http {
            compile_http(cx, &format!("{p}.http"), h, &scenario.defaults.http).map(|mut plan| {
                unsent_default_headers(cx, scenario, (&index, i), h, &mut plan, &mut told);
                Action::Http(plan)
            })
        } else if let Some(q) = &step.sql {
            compile_sql(cx, &format!("{p}.sql"), q, &scenario.defaults.sql).map(Action::Sql)
        } else if let Some(e) = &step.exec {
            compile_exec(cx, &format!("{p}.exec"), e).map(Action::Process)
        } else if let Some(d) = &step.docker {
            compile_docker(cx, &format!("{p}.docker"), d).map(Action::Process)
        } else if let Some(r) = &step.reconcile {
            compile_reconcile(cx, &format!("{p}.reconcile"), r, scenario, (&index, i))
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
            continue;
        };
        if step.fallback.is_some() && step.sql.is_some() {
            cx.key_problem(
                format!("{p}.fallback"),
                "a fallback is an HTTP request; SQL steps take none",
            );
        }
        let when = step
            .when
            .as_ref()
            .and_then(|w| cx.expr(&format!("{p}.when"), w).map(|c| (c, w.clone())));
        let mut needs = Vec::new();
        for (n, need) in step.needs.iter().enumerate() {
            let (sid, cap) = match need.split_once('.') {
                Some((s, c)) => (s, Some(c.to_string())),
                None => (need.as_str(), None),
            };
            if index.get(sid).is_none_or(|j| *j >= i) {
                let why = if ids.contains(sid) {
                    "comes later"
                } else {
                    "does not exist"
                };
                cx.problem(
                    format!("{p}.needs[{n}]"),
                    format!("needs `{sid}`, a step that {why}"),
                );
            } else if let Some(c) = &cap {
                let declared = scenario
                    .steps
                    .iter()
                    .find(|s| s.id == sid)
                    .is_some_and(|s| s.capture.contains_key(c));
                if !declared {
                    cx.problem(
                        format!("{p}.needs[{n}]"),
                        format!("step `{sid}` captures no `{c}`"),
                    );
                }
            }
            needs.push((sid.to_string(), cap));
        }
        let mut checks = Vec::new();
        for (n, a) in step.assert.iter().enumerate() {
            cx.t.set_origin(&format!("{p}.assert[{n}]"));
            match Check::compile(a, cx.t) {
                Ok(c) => checks.push(c),
                Err((sub, msg)) => {
                    let path = if sub.is_empty() {
                        format!("{p}.assert[{n}]")
                    } else {
                        format!("{p}.assert[{n}].{sub}")
                    };
                    cx.problem(path, msg);
                }
            }
        }
        let mut captures = Vec::new();
        for (name, c) in &step.capture {
            if !valid_id(name) {
                cx.key_problem(
                    format!("{p}.capture.{name}"),
                    format!("`{name}` is not a valid capture name"),
                );
            }
            cx.t.set_origin(&format!("{p}.capture.{name}"));
            match CapturePlan::compile(name, c, cx.t) {
                Ok(mut c) => {
                    c.secret |= scenario.secrets.iter().any(|s| s == name);
                    captures.push(c)
                }
                Err((sub, msg)) => {
                    let path = if sub.is_empty() {
                        format!("{p}.capture.{name}")
                    } else {
                        format!("{p}.capture.{name}.{sub}")
                    };
                    cx.problem(path, msg);
                }
            }
        }
        let fallback_spec = match &step.fallback {
            None => None,
            Some(f) => match (&f.step, &f.http) {
                (Some(other), None) => match scenario.steps.iter().find(|s| &s.id == other) {
                    Some(s) if s.id == step.id => {
                        cx.problem(
                            format!("{p}.fallback.step"),
                            "a step cannot be its own fallback",
                        );
                        None
                    }
                    Some(s) => s.http.as_ref().map(|h| (h, format!("{p}.fallback.step"))),
                    None => {
                        cx.problem(
                            format!("{p}.fallback.step"),
                            format!("no step has id `{other}`"),
                        );
                        None
                    }
                },
                (None, Some(h)) => Some((h, format!("{p}.fallback.http"))),
                _ => {
                    cx.problem(
                        format!("{p}.fallback"),
                        "a fallback takes exactly one of `step` or `http`",
                    );
                    None
                }
            },
        };
        let fallback = fallback_spec.and_then(|(h, at)| {
            let mut plan = compile_http(cx, &at, h, &scenario.defaults.http)?;
            unsent_default_headers(cx, scenario, (&index, i), h, &mut plan, &mut told);
            Some(plan)
        });
        let mut artifacts = Vec::new();
        for (name, content) in &step.artifacts {
            if !safe_file_name(name) {
                cx.key_problem(
                    format!("{p}.artifacts.{name}"),
                    format!("`{name}` must be a plain file name inside the run folder"),
                );
            }
            if let Some(c) = cx.text(&format!("{p}.artifacts.{name}"), content) {
                artifacts.push((name.clone(), c));
            }
        }
        let notes = step
            .notes
            .as_ref()
            .and_then(|n| cx.text(&format!("{p}.notes"), n));
        let retry = step
            .retry
            .clone()
            .or_else(|| default_retry.clone())
            .unwrap_or_else(RetryPolicy::once);
        if retry.attempts == 0 {
            cx.problem(
                format!("{p}.retry.attempts"),
                "attempts counts the first one too: use 1 or more",
            );
        }
        let refs = cx.t.take_step_refs();
        check_step_refs(cx, scenario, &index, i, &refs);
        let names = cx.t.take_refs();
        check_each(cx, &names, for_each.is_some());
        check_refs(cx, scenario, &names, None);
        let mut env_refs = unguarded_env(names);
        env_refs.extend(for_each_env);
        cx.env_refs.extend(env_refs.iter().cloned());
        if let Some(action) = action {
            steps.push(StepPlan {
                id: step.id.clone(),
                title: step.title.clone().unwrap_or_else(|| step.id.clone()),
                description: step.description.clone(),
                tags: step.tags.clone(),
                when,
                needs,
                critical: step.critical,
                action,
                retry,
                checks,
                captures,
                fallback,
                artifacts,
                notes,
                env_refs,
                for_each,
            });
        }
    }
    (vars, steps)
}

//! Validate stage: everything that can be checked without running — one action per
//! step, unique ids, references, templates, JSONPaths and regexes — compiled into a Plan.
use std::collections::{HashMap, HashSet};

use crate::assert::{CapturePlan, Check};
use crate::plan::Action;
use crate::plan::{Plan, StepPlan};
use crate::scenario::{RetryPolicy, Scenario};
use crate::template::{Compiled, CompiledJson, TemplateError, Templates};
use crate::validate_http::{compile_http, compile_sql};
use crate::validate_process::{compile_docker, compile_exec};

/// A problem found in a scenario, located by its YAML path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// YAML path such as `steps[2].http.method`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Point at the key instead of the value (unknown or conflicting fields).
    pub at_key: bool,
}

pub(crate) struct Ctx<'a> {
    pub(crate) t: &'a mut Templates,
    pub(crate) problems: Vec<Problem>,
}

impl Ctx<'_> {
    pub(crate) fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: false,
        });
    }

    pub(crate) fn key_problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: true,
        });
    }

    fn template_problem(&mut self, path: &str, e: TemplateError) {
        let at = e
            .line
            .filter(|l| *l > 1)
            .map(|l| format!(" (template line {l})"))
            .unwrap_or_default();
        self.problem(path, format!("template error: {}{at}", e.message));
    }

    pub(crate) fn text(&mut self, path: &str, src: &str) -> Option<Compiled> {
        match self.t.compile_text(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn expr(&mut self, path: &str, src: &str) -> Option<Compiled> {
        match self.t.compile_expr(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn json(&mut self, path: &str, v: &serde_json::Value) -> Option<CompiledJson> {
        match CompiledJson::compile(self.t, v) {
            Ok(c) => Some(c),
            Err((sub, e)) => {
                self.template_problem(&format!("{path}{sub}"), e);
                None
            }
        }
    }
}

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
    if refs
        .iter()
        .all(|id| index.get(id.as_str()).is_some_and(|j| *j < i))
    {
        return;
    }
    let step = &scenario.steps[i];
    let mut found = Vec::new();
    if let Ok(value) = serde_json::to_value(step) {
        step_refs(&value, format!("steps[{i}]"), &mut found);
    }
    for (path, id) in found {
        if index.get(id.as_str()).is_some_and(|j| *j < i) {
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

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks and compiles a scenario. `report_sources` maps report template names to their
/// text (the built-in one included).
pub fn validate_scenario(
    scenario: Scenario,
    mut templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Plan, Vec<Problem>> {
    let mut cx = Ctx {
        t: &mut templates,
        problems: Vec::new(),
    };
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
        if let Some(c) = cx.json(&format!("vars.{name}"), value) {
            vars.push((name.clone(), c));
        }
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
        check_var_refs(&mut cx, &scenario);
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
    for (i, step) in scenario.steps.iter().enumerate() {
        let p = format!("steps[{i}]");
        let _ = cx.t.take_step_refs();
        let kinds = step.kinds();
        if kinds.len() > 1 {
            cx.key_problem(
                format!("{p}.{}", kinds[1]),
                format!("a step has one action, found {}", kinds.join(" and ")),
            );
            continue;
        }
        let action = if let Some(h) = &step.http {
            compile_http(&mut cx, &format!("{p}.http"), h, &scenario.defaults.http)
                .map(Action::Http)
        } else if let Some(q) = &step.sql {
            compile_sql(&mut cx, &format!("{p}.sql"), q, &scenario.defaults.sql).map(Action::Sql)
        } else if let Some(e) = &step.exec {
            compile_exec(&mut cx, &format!("{p}.exec"), e).map(Action::Process)
        } else if let Some(d) = &step.docker {
            compile_docker(&mut cx, &format!("{p}.docker"), d).map(Action::Process)
        } else if !step.assert.is_empty() {
            Some(Action::Check)
        } else {
            cx.problem(
                &p,
                format!(
                    "step `{}` does nothing: add `http:`, `sql:`, `exec:` or `docker:`, or `assert:` for a check",
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
            match CapturePlan::compile(name, c, cx.t) {
                Ok(c) => captures.push(c),
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
        let fallback = match &step.fallback {
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
                    Some(s) => s.http.as_ref().map(|h| {
                        compile_http(
                            &mut cx,
                            &format!("{p}.fallback.step"),
                            h,
                            &scenario.defaults.http,
                        )
                    }),
                    None => {
                        cx.problem(
                            format!("{p}.fallback.step"),
                            format!("no step has id `{other}`"),
                        );
                        None
                    }
                },
                (None, Some(h)) => Some(compile_http(
                    &mut cx,
                    &format!("{p}.fallback.http"),
                    h,
                    &scenario.defaults.http,
                )),
                _ => {
                    cx.problem(
                        format!("{p}.fallback"),
                        "a fallback takes exactly one of `step` or `http`",
                    );
                    None
                }
            },
        };
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
        check_step_refs(&mut cx, &scenario, &index, i, &refs);
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
                fallback: fallback.flatten(),
                artifacts,
                notes,
            });
        }
    }
    let (reports, summary) = compile_reports(&mut cx, &scenario, report_sources);
    let problems = std::mem::take(&mut cx.problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Plan {
        scenario,
        templates,
        vars,
        steps,
        reports,
        summary,
    })
}

/// The report part of a scenario: its output templates (compiled under `report:<name>`)
/// and the summary template.
fn compile_reports(
    cx: &mut Ctx<'_>,
    scenario: &Scenario,
    report_sources: &HashMap<String, String>,
) -> (Vec<(String, String)>, Option<Compiled>) {
    let mut reports = Vec::new();
    for (i, out) in scenario.report.outputs.iter().enumerate() {
        if !safe_file_name(&out.path) {
            cx.problem(
                format!("report.outputs[{i}].path"),
                format!(
                    "`{}` must be a plain file name inside the run folder",
                    out.path
                ),
            );
        }
        match report_sources.get(&out.template) {
            Some(src) => {
                let name = format!("report:{}", out.template);
                if let Err(e) =
                    cx.t.add_named(&name, src.clone(), crate::report::REPORT_ROOTS)
                {
                    cx.template_problem(&format!("report.outputs[{i}].template"), e);
                }
                reports.push((name, out.path.clone()));
            }
            None => cx.problem(
                format!("report.outputs[{i}].template"),
                format!("template `{}` was not found", out.template),
            ),
        }
    }
    if !safe_file_name(&scenario.report.errors_file) {
        cx.problem(
            "report.errors_file",
            "must be a plain file name inside the run folder",
        );
    }
    let summary = scenario
        .report
        .summary
        .as_ref()
        .and_then(|s| cx.text("report.summary", s));
    (reports, summary)
}

/// A plan for `qtscen render`: the report part only (the steps ran already; their record
/// is in results.json), so a 10,000-step scenario is not compiled again.
pub fn validate_report_only(
    scenario: Scenario,
    mut templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Plan, Vec<Problem>> {
    let mut cx = Ctx {
        t: &mut templates,
        problems: Vec::new(),
    };
    let (reports, summary) = compile_reports(&mut cx, &scenario, report_sources);
    let problems = std::mem::take(&mut cx.problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Plan {
        scenario,
        templates,
        vars: Vec::new(),
        steps: Vec::new(),
        reports,
        summary,
    })
}

/// A file name that stays inside the run folder.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && !name.contains('\\')
        && name != "."
        && name != ".."
        && !name.starts_with('.')
}

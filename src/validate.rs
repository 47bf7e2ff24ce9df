//! Validate stage: everything that can be checked without running, compiled into a Plan —
//! the steps in `validate_steps`, the reports here; problems are located by YAML path.
use std::collections::{BTreeSet, HashMap};

use crate::plan::{Plan, StepPlan};
use crate::scenario::Scenario;
use crate::template::{Compiled, CompiledJson, NameRef, TemplateError, Templates};
use crate::validate_steps::{compile_steps, unguarded_env};

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
    /// Every `env.X` read without a default, anywhere in the scenario.
    pub(crate) env_refs: Vec<NameRef>,
    /// Things worth knowing that do not stop the scenario (shown as warnings).
    pub(crate) notices: Vec<Problem>,
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

    /// A warning: the scenario is valid, but does something the author may not expect.
    pub(crate) fn notice(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.notices.push(Problem {
            path: path.into(),
            message: message.into(),
            at_key: false,
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
        self.t.set_origin(path);
        match self.t.compile_text(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn expr(&mut self, path: &str, src: &str) -> Option<Compiled> {
        self.t.set_origin(path);
        match self.t.compile_expr(src) {
            Ok(c) => Some(c),
            Err(e) => {
                self.template_problem(path, e);
                None
            }
        }
    }

    pub(crate) fn json(&mut self, path: &str, v: &serde_json::Value) -> Option<CompiledJson> {
        self.t.set_origin(path);
        match CompiledJson::compile(self.t, v) {
            Ok(c) => Some(c),
            Err((sub, e)) => {
                self.template_problem(&format!("{path}{sub}"), e);
                None
            }
        }
    }
}

/// Checks and compiles a scenario. `report_sources` maps report template names to their
/// text (the built-in one included).
pub fn validate_scenario(
    scenario: Scenario,
    templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Plan, Vec<Problem>> {
    plan_from(scenario, templates, report_sources, compile_steps)
}

/// A plan for `qtscen render`: the report part only (the steps ran already; their record
/// is in results.json), so a 10,000-step scenario is not compiled again.
pub fn validate_report_only(
    scenario: Scenario,
    templates: Templates,
    report_sources: &HashMap<String, String>,
) -> Result<Plan, Vec<Problem>> {
    plan_from(scenario, templates, report_sources, |_, _| {
        (Vec::new(), Vec::new())
    })
}

/// Compiles the scenario's vars and steps with `body`, then its reports: the plan, or
/// every problem found.
fn plan_from(
    scenario: Scenario,
    mut templates: Templates,
    report_sources: &HashMap<String, String>,
    body: impl FnOnce(&mut Ctx<'_>, &Scenario) -> (Vec<(String, CompiledJson)>, Vec<StepPlan>),
) -> Result<Plan, Vec<Problem>> {
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
    Ok(Plan {
        scenario,
        templates,
        vars,
        steps,
        reports,
        summary,
        env_refs,
        notices,
    })
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
            path: r.origin.to_string(),
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
                path: format!("secrets[{i}]"),
                message: format!(
                    "`{name}` names nothing to mask: no env variable the scenario declares or reads, no var and no capture has that name"
                ),
                at_key: false,
            });
        }
    }
    problems
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
                cx.t.set_origin(&format!("report.outputs[{i}].template"));
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

/// `limits:` values the engine cannot honour.
fn check_limits(cx: &mut Ctx<'_>, limits: &crate::scenario::Limits) {
    use crate::scenario::MAX_DEPTH_CEILING;
    if limits.max_depth == 0 || limits.max_depth > MAX_DEPTH_CEILING {
        cx.problem(
            "limits.max_depth",
            format!("from 1 to {MAX_DEPTH_CEILING} (the YAML reader nests no deeper)"),
        );
    }
    if limits.template_fuel == 0 {
        cx.problem("limits.template_fuel", "at least 1 (default 10000000)");
    }
}

/// Every file a run writes into its folder has its own name: two outputs with one name
/// (step logs, artifacts, reports, the errors file) would lose one of them, and
/// `results.json` is the engine's. Names are compared ignoring ASCII case, as a
/// case-insensitive file system would.
fn check_output_names(cx: &mut Ctx<'_>, scenario: &Scenario) {
    // (name, YAML path, whether the path ends at a key)
    let mut outputs: Vec<(&str, String, bool)> = vec![(
        scenario.report.errors_file.as_str(),
        "report.errors_file".to_string(),
        false,
    )];
    for (i, o) in scenario.report.outputs.iter().enumerate() {
        outputs.push((&o.path, format!("report.outputs[{i}].path"), false));
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let log = (step
            .exec
            .as_ref()
            .and_then(|e| e.log.as_deref())
            .map(|l| (l, "exec")))
        .or_else(|| {
            step.docker
                .as_ref()
                .and_then(|d| d.log.as_deref())
                .map(|l| (l, "docker"))
        });
        if let Some((log, kind)) = log {
            outputs.push((log, format!("steps[{i}].{kind}.log"), false));
        }
        for name in step.artifacts.keys() {
            outputs.push((name, format!("steps[{i}].artifacts.{name}"), true));
        }
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, path, at_key) in outputs {
        let folded = name.to_ascii_lowercase();
        let message = if folded == "results.json" {
            format!("`{name}` is the run record's file name; choose another name")
        } else if let Some(first) = seen.get(&folded) {
            format!(
                "`{name}` is also written by `{first}`: two outputs with one name would lose one of them"
            )
        } else {
            seen.insert(folded, path);
            continue;
        };
        if at_key {
            cx.key_problem(path, message);
        } else {
            cx.problem(path, message);
        }
    }
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

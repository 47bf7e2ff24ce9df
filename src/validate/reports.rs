//! Validate stage: the report part of a scenario (its output templates and summary),
//! the names of the files a run writes, and `limits:`.
use std::collections::HashMap;

use super::ctx::{Ctx, safe_file_name};
use crate::scenario::Scenario;
use crate::source::YamlPath;
use crate::template::Compiled;
use crate::yp;

/// The names a report template sees.
pub const REPORT_ROOTS: &[&str] = &["run", "excerpt_chars", "errors_file"];

/// The report part of a scenario: its output templates (compiled under `report:<name>`)
/// and the summary template.
pub(super) fn compile_reports(
    cx: &mut Ctx<'_>,
    scenario: &Scenario,
    report_sources: &HashMap<String, String>,
) -> (Vec<(String, String)>, Option<Compiled>) {
    let mut reports = Vec::new();
    for (i, out) in scenario.report.outputs.iter().enumerate() {
        if !safe_file_name(&out.path) {
            cx.problem(
                yp!["report", "outputs", i, "path"],
                format!(
                    "`{}` must be a plain file name inside the run folder",
                    out.path
                ),
            );
        }
        match report_sources.get(&out.template) {
            Some(src) => {
                let name = format!("report:{}", out.template);
                cx.set_origin(&yp!["report", "outputs", i, "template"]);
                if let Err(e) = cx.t.add_named(&name, src.clone(), REPORT_ROOTS) {
                    cx.template_problem(&yp!["report", "outputs", i, "template"], e);
                }
                reports.push((name, out.path.clone()));
            }
            None => cx.problem(
                yp!["report", "outputs", i, "template"],
                format!("template `{}` was not found", out.template),
            ),
        }
    }
    if !safe_file_name(&scenario.report.errors_file) {
        cx.problem(
            yp!["report", "errors_file"],
            "must be a plain file name inside the run folder",
        );
    }
    let summary = scenario
        .report
        .summary
        .as_ref()
        .and_then(|s| cx.text(&yp!["report", "summary"], s));
    (reports, summary)
}

/// `limits:` values the engine cannot honour.
pub(super) fn check_limits(cx: &mut Ctx<'_>, limits: &crate::scenario::Limits) {
    use crate::scenario::MAX_DEPTH_CEILING;
    if limits.max_depth == 0 || limits.max_depth > MAX_DEPTH_CEILING {
        cx.problem(
            yp!["limits", "max_depth"],
            format!("from 1 to {MAX_DEPTH_CEILING} (the YAML reader nests no deeper)"),
        );
    }
    if limits.template_fuel == 0 {
        cx.problem(
            yp!["limits", "template_fuel"],
            "at least 1 (default 10000000)",
        );
    }
}

/// Every file a run writes into its folder has its own name: two outputs with one name
/// (step logs, artifacts, reports, the errors file) would lose one of them, and
/// `results.json` is the engine's. Names are compared ignoring ASCII case, as a
/// case-insensitive file system would.
pub(super) fn check_output_names(cx: &mut Ctx<'_>, scenario: &Scenario) {
    // (name, YAML path, whether the path ends at a key)
    let mut outputs: Vec<(&str, YamlPath, bool)> = vec![(
        scenario.report.errors_file.as_str(),
        yp!["report", "errors_file"],
        false,
    )];
    for (i, o) in scenario.report.outputs.iter().enumerate() {
        outputs.push((&o.path, yp!["report", "outputs", i, "path"], false));
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
            outputs.push((log, yp!["steps", i, kind, "log"], false));
        }
        for name in step.artifacts.keys() {
            outputs.push((name, yp!["steps", i, "artifacts", name], true));
        }
    }
    let mut seen: HashMap<String, YamlPath> = HashMap::new();
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

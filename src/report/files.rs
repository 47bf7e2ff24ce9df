//! Report stage: writing results.json, the errors file and the reports, atomically, every
//! byte through the redactor (the writing itself is `evidence`'s).
use std::path::Path;
use std::sync::Arc;

use crate::evidence::{write_json_masked, write_masked};
use crate::plan::Plan;
use crate::record::RunRecord;
use crate::secrets::Redactor;

/// The errors file: every non-2xx answer and transport failure, with status, headers, body.
pub fn errors_json(record: &RunRecord) -> serde_json::Value {
    let mut errors = Vec::new();
    for step in &record.steps {
        for a in &step.attempts {
            if matches!(a.request.method.as_str(), "EXEC" | "DOCKER") {
                continue;
            }
            let bad = match &a.response {
                Some(r) => !(200..300).contains(&r.status),
                None => true,
            };
            if !bad {
                continue;
            }
            let mut entry = serde_json::json!({
                "step": step.id,
                "title": step.title,
                "attempt": a.attempt,
                "of": a.of,
                "page": a.page,
                "fallback": a.fallback,
                "timestamp": a.started_at,
                "method": a.request.method,
                "url": a.request.url,
                "code": a.code,
                "status": a.response.as_ref().map(|r| r.status),
                "headers": a.response.as_ref().map(|r| &r.headers),
                "body": a.response.as_ref().map(|r| &r.body),
                "transport_error": a.transport_error,
                "duration_ms": a.duration_ms,
            });
            // A body too large to hold: `body` is its start, the file holds it whole.
            if let Some(file) = a.response.as_ref().and_then(|r| r.body_file.as_ref()) {
                entry["body_file"] = file.as_str().into();
            }
            errors.push(entry);
        }
    }
    serde_json::json!({
        "scenario": record.scenario,
        "started_at": record.started_at,
        "count": errors.len(),
        "errors": errors,
    })
}

/// Writes results.json, the errors file and every report; returns the files written.
/// A report that fails to render is replaced by a file saying why (the record is kept).
pub fn write_run_files(
    plan: &Plan,
    record: &Arc<RunRecord>,
    redactor: &Redactor,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let put = |name: &str, text: String| -> Result<String, String> {
        write_masked(&dir.join(name), text, redactor)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
        Ok(name.to_string())
    };
    let errors_file = &plan.scenario.report.errors_file;
    // The reports render while the record is written, but are written after it: a run
    // stopped in between leaves a record without a report, never a report without its
    // record.
    std::thread::scope(|scope| {
        let files = scope.spawn(|| -> Result<Vec<String>, String> {
            let cannot = |name: &str, e: std::io::Error| {
                format!("cannot write {}: {e}", dir.join(name).display())
            };
            write_json_masked(&dir.join("results.json"), &**record, redactor)
                .map_err(|e| cannot("results.json", e))?;
            write_json_masked(&dir.join(errors_file), &errors_json(record), redactor)
                .map_err(|e| cannot(errors_file, e))?;
            Ok(vec!["results.json".to_string(), errors_file.clone()])
        });
        let reports = render_report_texts(plan, record, redactor);
        let mut written = files
            .join()
            .unwrap_or_else(|_| Err("writing results.json failed".into()))?;
        for (path, text) in reports {
            written.push(put(&path, text)?);
        }
        Ok(written)
    })
}

/// Renders the scenario's reports from a finished record into `dir`; a report that fails
/// to render is replaced by a file saying why.
pub fn render_reports(
    plan: &Plan,
    record: &Arc<RunRecord>,
    redactor: &Redactor,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let mut written = Vec::new();
    for (path, text) in render_report_texts(plan, record, redactor) {
        write_masked(&dir.join(&path), text, redactor)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(&path).display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Each report's file name and text, rendered from a finished record.
fn render_report_texts(
    plan: &Plan,
    record: &Arc<RunRecord>,
    redactor: &Redactor,
) -> Vec<(String, String)> {
    // What report templates see: `run` (the record, read in place), `excerpt_chars`
    // and `errors_file`; and, hidden, the redactor the Markdown filters mask with before
    // they escape.
    let ctx = minijinja::context! {
        run => minijinja::Value::from_object(super::record_view::RunView(record.clone())),
        excerpt_chars => plan.scenario.report.excerpt_chars,
        errors_file => plan.scenario.report.errors_file.as_str(),
        __qtscen_redactor => minijinja::Value::from_object(
            crate::template::RedactorValue(redactor.clone())
        ),
    };
    let junit = format!("report:{}", super::BUILTIN_JUNIT_NAME);
    plan.reports
        .iter()
        .map(|(template, path)| {
            let rendered = if *template == junit {
                super::junit_xml(record).map_err(|e| e.to_string())
            } else {
                plan.templates
                    .render_report(template, &ctx)
                    .map_err(|e| e.message)
            };
            let text = match rendered {
                Ok(t) => t,
                Err(e) => format!(
                    "# Report could not be rendered\n\n{e}\n\nThe run record is in results.json.\n"
                ),
            };
            (path.clone(), text)
        })
        .collect()
}

/// Writes the run's JUnit XML to `path` (`--junit FILE`, anywhere), masked like every
/// file the run writes.
pub fn write_junit(record: &RunRecord, redactor: &Redactor, path: &Path) -> Result<(), String> {
    let xml = super::junit_xml(record)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    write_masked(path, xml, redactor).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

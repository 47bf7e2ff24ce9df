//! Report stage: writing results.json, the errors file and the reports, atomically, every
//! byte through the redactor.
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use crate::plan::Plan;
use crate::record::RunRecord;
use crate::secrets::Redactor;

/// Writes a file via a temporary file and a rename, so a reader never sees half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

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
            errors.push(serde_json::json!({
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
            }));
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
        let safe = redactor.redact_owned(text);
        write_atomic(&dir.join(name), safe.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
        Ok(name.to_string())
    };
    let errors_file = &plan.scenario.report.errors_file;
    // The record files and the reports are independent: write them side by side.
    let (files, reports) = std::thread::scope(|scope| {
        let files = scope.spawn(|| -> Result<Vec<String>, String> {
            let json = record_json(record)?;
            let errors =
                serde_json::to_string_pretty(&errors_json(record)).map_err(|e| e.to_string())?;
            Ok(vec![
                put("results.json", json + "\n")?,
                put(errors_file, errors + "\n")?,
            ])
        });
        let reports = render_reports(plan, record, redactor, dir);
        let files = files
            .join()
            .unwrap_or_else(|_| Err("writing results.json failed".into()));
        (files, reports)
    });
    let mut written = files?;
    written.extend(reports?);
    Ok(written)
}

/// results.json's text, written into a buffer sized for it up front (growing a 20 MB
/// buffer by doubling copies it over and over).
fn record_json(record: &RunRecord) -> Result<String, String> {
    let bodies: usize = record
        .steps
        .iter()
        .flat_map(|s| &s.attempts)
        .map(|a| a.response.as_ref().map_or(0, |r| r.body.len()) + 1200)
        .sum();
    // Bodies are JSON-escaped (`"` becomes `\"`): room for a quarter more.
    let mut out = Vec::with_capacity(4096 + record.steps.len() * 1200 + bodies * 5 / 4);
    serde_json::to_writer_pretty(&mut out, record).map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Renders the scenario's reports from a finished record into `dir`; a report that fails
/// to render is replaced by a file saying why.
pub fn render_reports(
    plan: &Plan,
    record: &Arc<RunRecord>,
    redactor: &Redactor,
    dir: &Path,
) -> Result<Vec<String>, String> {
    // What report templates see: `run` (the record, read in place), `excerpt_chars`
    // and `errors_file`; and, hidden, the redactor the Markdown filters mask with before
    // they escape.
    let ctx = minijinja::context! {
        run => minijinja::Value::from_object(super::record_view::RunView(record.clone())),
        excerpt_chars => plan.scenario.report.excerpt_chars,
        errors_file => plan.scenario.report.errors_file.as_str(),
        __qtscen_redactor => minijinja::Value::from_object(
            super::filters::RedactorValue(redactor.clone())
        ),
    };
    let mut written = Vec::new();
    let junit = format!("report:{}", super::BUILTIN_JUNIT_NAME);
    for (template, path) in &plan.reports {
        let rendered = if *template == junit {
            super::junit_xml(record).map_err(|e| e.to_string())
        } else {
            plan.templates
                .render_named(template, &ctx)
                .map_err(|e| e.message)
        };
        let text = match rendered {
            Ok(t) => t,
            Err(e) => format!(
                "# Report could not be rendered\n\n{e}\n\nThe run record is in results.json.\n"
            ),
        };
        write_atomic(&dir.join(path), redactor.redact_owned(text).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", dir.join(path).display()))?;
        written.push(path.clone());
    }
    Ok(written)
}

/// Writes the run's JUnit XML to `path` (`--junit FILE`, anywhere), masked like every
/// file the run writes.
pub fn write_junit(record: &RunRecord, redactor: &Redactor, path: &Path) -> Result<(), String> {
    let xml = super::junit_xml(record)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    write_atomic(path, redactor.redact_owned(xml).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

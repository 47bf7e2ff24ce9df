//! Report stage: writing results.json, the errors file and the reports, atomically, every
//! byte through the redactor.
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use crate::plan::Plan;
use crate::record::RunRecord;
use crate::secrets::Redactor;

/// Writes a file via a temporary file and a rename, so a reader never sees half of it.
/// The temporary file is created new, never through a symlink (a name planted in the
/// folder cannot redirect the write), and removed when the write fails (a full disk).
/// The rename replaces a symlink at `path` itself, not its target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes into the temporary file (a document serialized
/// as it is written, never whole in memory).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}-{seq}", std::process::id()));
    let written = create_new_file(&tmp).and_then(|mut f| {
        fill(&mut f)?;
        f.sync_all()
    });
    let done = written.and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Creates a file that does not exist yet, refusing a symlink at its name.
pub fn create_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Opens a file of the run folder for writing from its start (a program's log), refusing
/// to follow a symlink at its name: a link planted there cannot redirect the write.
pub fn create_in_run_folder(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other(format!(
                    "{} is a symlink; qtscen does not write through links",
                    path.display()
                ))
            } else {
                e
            }
        })
}

/// Writes `value` as pretty JSON (and a final newline) to `path`, atomically,
/// serialized straight into the file through the redactor: a record of thousands of
/// attempts is never one string in memory.
pub fn write_json_masked<T: serde::Serialize + ?Sized>(
    path: &Path,
    value: &T,
    redactor: &Redactor,
) -> std::io::Result<()> {
    write_atomic_with(path, |f| {
        let file = std::io::BufWriter::with_capacity(1 << 16, f);
        let masked = MaskWriter {
            out: file,
            mask: redactor.stream(),
            partial: Vec::new(),
        };
        // Pieces of 64 KiB reach the redactor, not each token serde_json writes.
        let mut w = std::io::BufWriter::with_capacity(1 << 16, masked);
        serde_json::to_writer_pretty(&mut w, value).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        let masked = w.into_inner().map_err(|e| e.into_error())?;
        masked.finish()
    })
}

/// Masks secrets in text written to it in pieces (a piece may end inside a UTF-8
/// character), then writes it on.
struct MaskWriter<W: Write> {
    out: W,
    mask: crate::secrets::MaskStream,
    partial: Vec<u8>,
}

impl<W: Write> Write for MaskWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(buf);
        let ok = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&self.partial[..ok]).unwrap_or_default();
        let safe = self.mask.push(text);
        self.out.write_all(safe.as_bytes())?;
        self.partial.drain(..ok);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> MaskWriter<W> {
    fn finish(mut self) -> std::io::Result<()> {
        let rest = String::from_utf8_lossy(&self.partial).into_owned();
        let tail = self.mask.push(&rest) + &self.mask.finish();
        self.out.write_all(tail.as_bytes())?;
        self.out.flush()
    }
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
        let safe = redactor.redact_owned(text);
        write_atomic(&dir.join(name), safe.as_bytes())
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
        write_atomic(&dir.join(&path), redactor.redact_owned(text).as_bytes())
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
            super::filters::RedactorValue(redactor.clone())
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
    write_atomic(path, redactor.redact_owned(xml).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        // A non-empty folder at the name: the rename fails after the data was written.
        let target = tmp.path().join("results.json");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "x").unwrap();
        assert!(write_atomic(&target, b"{}").is_err());
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["results.json"]);
    }

    #[test]
    fn json_is_masked_as_it_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Redactor::new(["s3cr3t-value".to_string()]);
        // Long enough to cross the 64 KiB pieces, with characters of several bytes.
        let value: Vec<String> = (0..4000)
            .map(|i| format!("Щелкунчик {i} s3cr3t-value ✓"))
            .collect();
        let path = tmp.path().join("results.json");
        write_json_masked(&path, &value, &r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let whole = serde_json::to_string_pretty(&value).unwrap() + "\n";
        assert_eq!(text, r.redact(&whole));
        assert!(!text.contains("s3cr3t") && text.contains("Щелкунчик 3999 *** ✓"));
    }

    #[test]
    fn a_symlink_at_the_name_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = tmp.path().join("report.md");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert!(create_in_run_folder(&tmp.path().join("l")).is_ok());
        std::os::unix::fs::symlink(&victim, tmp.path().join("log")).unwrap();
        let err = create_in_run_folder(&tmp.path().join("log")).unwrap_err();
        assert!(err.to_string().contains("is a symlink"), "{err}");
    }
}

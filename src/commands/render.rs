//! `qtscen render RUN_DIR`: the reports of a finished run, rendered again from its
//! results.json and the scenario's report part (templates edited after the run apply).
use std::process::ExitCode;

use crate::error::Error;
use crate::pipeline::compile_with;
use crate::secrets::Redactor;

/// Renders the reports of the run in `run_dir`; `scenario` overrides the one the record
/// names.
pub(super) fn render(run_dir: &str, scenario: Option<&str>) -> Result<ExitCode, Error> {
    let dir = std::path::Path::new(run_dir);
    let results = dir.join("results.json");
    let text = std::fs::read_to_string(&results)
        .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", results.display())))?;
    // The record's head names the scenario and the start time: the scenario compiles
    // while the (large) record is parsed.
    let head_field = |name: &str| -> Option<String> {
        let head: String = text.chars().take(4096).collect();
        let re = regex::Regex::new(&format!(r#""{name}":\s*"((?:[^"\\]|\\.)*)""#)).ok()?;
        let raw = re.captures(&head)?.get(1)?.as_str().to_string();
        serde_json::from_str::<String>(&format!("\"{raw}\"")).ok()
    };
    let Some(scenario) = scenario
        .map(str::to_string)
        .or_else(|| head_field("scenario_file"))
    else {
        return Err(Error::Invalid(format!(
            "{} names no scenario; give it with --scenario",
            results.display()
        )));
    };
    let now = head_field("started_at")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let (record, compiled) = std::thread::scope(|scope| {
        let record = scope.spawn(|| serde_json::from_str::<crate::record::RunRecord>(&text));
        let compiled = compile_with(
            &scenario,
            now,
            crate::load::load_report_part,
            crate::validate::validate_report_only,
            &[],
        );
        (record.join(), compiled)
    });
    // The scenario's problems come first, as they did while it compiled.
    let record = match record {
        Ok(Ok(r)) => std::sync::Arc::new(r),
        Ok(Err(e)) => {
            let unread = Error::Invalid(format!("cannot read {}: {e}", results.display()));
            return Err(match compiled {
                Err(problems) => Error::Several(vec![problems, unread]),
                Ok(_) => unread,
            });
        }
        Err(_) => {
            return Err(match compiled {
                Err(problems) => Error::Several(vec![problems, Error::Panicked]),
                Ok(_) => Error::Panicked,
            });
        }
    };
    let (_, plan) = compiled?;
    let written = crate::report::render_reports(&plan, &record, &Redactor::default(), dir)
        .map_err(Error::Failed)?;
    for w in written {
        println!("wrote {}", dir.join(w).display());
    }
    // The process ends next; freeing the record and the plan piece by piece is wasted.
    std::mem::forget((record, plan, text));
    Ok(ExitCode::SUCCESS)
}

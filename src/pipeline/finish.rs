//! Pipeline: the end of a scenario's run — its record finished and its files written
//! (results.json, the errors file, the reports), and its closing lines on the console.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::error::Error;
use crate::plan::Plan;
use crate::record::{RunOutcome, RunRecord, StepRecord};
use crate::report::{Console, write_run_files};
use crate::runner::{RunContext, RunOptions, finish_record};

/// The finished record of a run, and its files written into `dir` (results.json, the
/// errors file, the reports); the names of the files written.
pub(crate) fn record_and_write(
    plan: &Plan,
    file: &str,
    rc: &RunContext,
    opts: &RunOptions,
    ran: (Vec<StepRecord>, bool),
    started: Instant,
    dir: &Path,
) -> Result<(Arc<RunRecord>, Vec<String>), Error> {
    let step_artifacts: Vec<String> = ran.0.iter().flat_map(|s| s.artifacts.clone()).collect();
    let mut record = finish_record(plan, file, rc, opts, ran, started, step_artifacts);
    let mut names = vec![
        "results.json".to_string(),
        plan.scenario.report.errors_file.clone(),
    ];
    names.extend(plan.reports.iter().map(|(_, p)| p.clone()));
    record.artifacts.extend(names);
    let record = Arc::new(record);
    let written = write_run_files(plan, &record, &rc.redactor, dir).map_err(Error::Failed)?;
    Ok((record, written))
}

/// The end of a run on the console: the summary table, the PASSED/FAILED line, the files
/// written and the report's path.
pub(crate) fn print_run_end(
    console: &Console,
    record: &RunRecord,
    written: &[String],
    dir: &Path,
    plan: &Plan,
    junit: Option<&str>,
) {
    console.print_summary(record);
    let s = &record.summary;
    console.line(&format!(
        "{}: {} passed, {} failed, {} skipped, {} not selected, {} warnings, {} requests in {} ms",
        match record.outcome {
            RunOutcome::Passed => "PASSED",
            RunOutcome::Failed => "FAILED",
            RunOutcome::Interrupted => "INTERRUPTED",
        },
        s.passed,
        s.failed,
        s.skipped,
        s.not_selected,
        s.warnings,
        s.requests,
        record.duration_ms
    ));
    if let Some(why) = &record.nothing_ran {
        console.line(&format!("nothing ran: {why}"));
    }
    for w in written {
        console.info(&format!("wrote {}", dir.join(w).display()));
    }
    if let Some(path) = junit {
        console.info(&format!("wrote {path}"));
    }
    if let Some((_, report)) = plan.reports.first() {
        console.line(&format!("report: {}", dir.join(report).display()));
    }
    console.flush();
}

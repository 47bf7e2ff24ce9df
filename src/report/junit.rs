//! Report stage: the run as JUnit XML for CI (GitLab, Jenkins, GitHub test reporters) —
//! one testsuite for the scenario, one testcase per step. The text is masked by the
//! caller's writer like every other file.
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::record::{Attempt, FailureClass, RunRecord, StepOutcome, StepRecord};

/// The name scenarios use for the JUnit output in `report.outputs[].template`.
pub const BUILTIN_JUNIT_NAME: &str = "builtin:junit";

/// The run as JUnit XML: a `<testsuite>` named after the scenario, a `<testcase>` per
/// step (`classname` the scenario, `name` the step id): skipped and unselected steps as
/// `<skipped>`, failures as `<failure type="<class>">` (engine problems as `<error>`)
/// with every failed check's expected and actual value, the attempts in `<system-out>`.
pub fn junit_xml(record: &RunRecord) -> Result<String, String> {
    let mut report = Report::new(record.title.as_str());
    let mut suite = TestSuite::new(record.scenario.as_str());
    suite.set_time(Duration::from_millis(record.duration_ms));
    for step in &record.steps {
        suite.add_test_case(test_case(record, step));
    }
    report.add_test_suite(suite);
    report.to_string().map_err(|e| format!("JUnit XML: {e}"))
}

/// A scenario of a suite, for [`junit_suite_xml`].
pub enum SuitePart<'a> {
    /// It ran (fully or in part): its record.
    Ran(&'a RunRecord),
    /// It did not run: skipped by the tags, not started, or it could not start.
    NotRun {
        /// The scenario's name.
        name: &'a str,
        /// Why.
        reason: &'a str,
        /// Whether that counts as a failure (it could not start) or a skip.
        failed: bool,
    },
}

/// A suite as JUnit XML: a `<testsuite>` per scenario, each as [`junit_xml`] writes it;
/// a scenario that did not run is a testsuite with one testcase, `(scenario)`, skipped
/// (or failed) with the reason.
pub fn junit_suite_xml(title: &str, parts: &[SuitePart<'_>]) -> Result<String, String> {
    let mut report = Report::new(title);
    for part in parts {
        match part {
            SuitePart::Ran(record) => {
                let mut suite = TestSuite::new(record.scenario.as_str());
                suite.set_time(Duration::from_millis(record.duration_ms));
                for step in &record.steps {
                    suite.add_test_case(test_case(record, step));
                }
                report.add_test_suite(suite);
            }
            SuitePart::NotRun {
                name,
                reason,
                failed,
            } => {
                let mut suite = TestSuite::new(*name);
                let mut status = if *failed {
                    TestCaseStatus::non_success(NonSuccessKind::Error)
                } else {
                    TestCaseStatus::skipped()
                };
                status.set_message(*reason);
                let mut case = TestCase::new("(scenario)", status);
                case.set_classname(*name);
                suite.add_test_case(case);
                report.add_test_suite(suite);
            }
        }
    }
    report.to_string().map_err(|e| format!("JUnit XML: {e}"))
}

fn test_case(record: &RunRecord, step: &StepRecord) -> TestCase {
    let status = match step.outcome {
        StepOutcome::Passed => TestCaseStatus::success(),
        StepOutcome::Skipped => {
            let mut s = TestCaseStatus::skipped();
            let why = step.skip_reason.as_deref().unwrap_or("skipped");
            s.set_message(why);
            s
        }
        StepOutcome::Failed => {
            let class = step.failure.as_ref().map(|f| f.class);
            let kind = match class {
                Some(FailureClass::Engine) => NonSuccessKind::Error,
                _ => NonSuccessKind::Failure,
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let Some(f) = &step.failure {
                s.set_message(f.message.as_str());
                s.set_type(f.class.word());
            }
            s.set_description(failed_checks(step));
            s
        }
    };
    let mut case = TestCase::new(step.id.as_str(), status);
    case.set_classname(record.scenario.as_str());
    case.set_time(Duration::from_millis(step.duration_ms));
    if !step.attempts.is_empty() {
        case.set_system_out(attempts_text(&step.attempts));
    }
    case
}

/// Every failed hard check, a line each: what, expected, actual.
fn failed_checks(step: &StepRecord) -> String {
    let mut out = String::new();
    if let Some(f) = &step.failure {
        let _ = writeln!(out, "{}: {}", f.class.word(), f.message);
    }
    for a in step.assertions.iter().filter(|a| !a.passed && !a.soft) {
        let _ = writeln!(
            out,
            "{}: expected {}, actual {}{}",
            a.description,
            a.expected,
            a.actual,
            a.message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
    }
    out
}

/// The attempts, a line each (and the curl line that repeats an HTTP request).
fn attempts_text(attempts: &[Attempt]) -> String {
    let mut out = String::new();
    for a in attempts {
        let page = a.page.map(|p| format!(" page {p}")).unwrap_or_default();
        let fb = if a.fallback { " (fallback)" } else { "" };
        let no_answer = a
            .transport_error
            .as_ref()
            .map(|t| format!(" no answer: {}", t.message))
            .unwrap_or_default();
        let retry = a
            .retry_after_ms
            .map(|ms| format!(", retry in {ms} ms"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} attempt {}/{}{page}{fb}: {} {} -> {}{no_answer} ({} ms{retry})",
            a.started_at,
            a.attempt,
            a.of,
            a.request.method,
            a.request.url_readable,
            a.code,
            a.duration_ms
        );
    }
    out
}

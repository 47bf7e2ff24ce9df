//! Suite: the suite's record (`suite.json`), its Markdown summary (`suite.md`) and its
//! JUnit XML (`junit.xml`, a testsuite per scenario), each written through the redactor
//! that masks the secrets of every scenario of the suite.
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::evidence::write_masked;
use crate::record::{RunRecord, Summary};
use crate::report::markdown::{cell, cell_markdown, code_span};
use crate::report::{SuitePart, junit_suite_xml};
use crate::secrets::Redactor;

/// `suite.json`: the suite and a line per scenario, in path order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SuiteRecord {
    /// Version of this record's shape.
    pub suite_version: u32,
    /// The qtscen version that wrote it.
    pub qtscen_version: String,
    /// When the suite started and ended (the earliest start and latest end of a merge).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// `passed`, `failed` or `interrupted`.
    pub outcome: SuiteOutcome,
    /// The exit code: the worst of the scenarios' (0, 1, 130).
    pub exit_code: i32,
    /// `-j` (null for a merge).
    pub jobs: Option<u16>,
    /// `--fail-fast`.
    pub fail_fast: bool,
    /// `--shard K/N`, when given.
    pub shard: Option<Shard>,
    /// A merge: the shard folders merged, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// A merge: shares of N that no merged folder held (the merge fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_shards: Vec<u32>,
    /// `--tags`.
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// Counts of the scenarios' verdicts.
    pub summary: SuiteSummary,
    /// The scenarios, in path order.
    pub scenarios: Vec<ScenarioLine>,
}

/// `--shard K/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, 1-based.
    pub index: u32,
    /// N.
    pub total: u32,
}

/// How a suite ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuiteOutcome {
    /// Every scenario passed or was skipped.
    Passed,
    /// A scenario failed (or a shard is missing from a merge).
    Failed,
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted,
}

/// A scenario's verdict in the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It ran and passed.
    Passed,
    /// It ran and failed, or could not be run.
    Failed,
    /// `--tags`/`--skip-tags` leave out every step: not run, not a failure.
    Skipped,
    /// It was running when the suite was interrupted; its evidence is partial.
    Interrupted,
    /// Never started: `--fail-fast` after a failure, or an interrupt.
    NotRun,
}

impl Verdict {
    /// The word the console and suite.md show.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
            Verdict::Interrupted => "interrupted",
            Verdict::NotRun => "not_run",
        }
    }
}

/// Counts of verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSummary {
    /// Scenarios in the suite (this shard's share, for a shard).
    pub scenarios: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped by the tags.
    pub skipped: usize,
    /// Interrupted.
    pub interrupted: usize,
    /// Not started.
    pub not_run: usize,
}

/// One scenario in `suite.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioLine {
    /// The scenario file, normalized, relative to the working folder.
    pub file: String,
    /// The scenario's `name`.
    pub name: String,
    /// Its folder inside the suite folder (null when it did not run).
    pub folder: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Its exit code as a single run (0, 1, 130; 0 when skipped or not run).
    pub exit_code: i32,
    /// Why it was skipped, not run, or could not run.
    pub reason: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
    /// Its wall time.
    pub duration_ms: u64,
    /// Its step counts (as in its results.json).
    pub steps: Option<Summary>,
    /// The steps that failed.
    pub failed_steps: Vec<FailedStep>,
    /// Its first report, relative to the suite folder.
    pub report: Option<String>,
    /// Its results.json, relative to the suite folder.
    pub results: Option<String>,
}

/// A failed step, as the suite lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStep {
    /// Step id.
    pub id: String,
    /// Failure class word.
    pub class: String,
}

impl SuiteSummary {
    /// The counts of these lines.
    pub fn of(lines: &[ScenarioLine]) -> Self {
        let mut s = SuiteSummary {
            scenarios: lines.len(),
            ..SuiteSummary::default()
        };
        for l in lines {
            match l.verdict {
                Verdict::Passed => s.passed += 1,
                Verdict::Failed => s.failed += 1,
                Verdict::Skipped => s.skipped += 1,
                Verdict::Interrupted => s.interrupted += 1,
                Verdict::NotRun => s.not_run += 1,
            }
        }
        s
    }
}

/// The outcome and exit code of these lines: interrupted (130) over failed (1) over
/// passed (0).
pub fn outcome_of(lines: &[ScenarioLine], interrupted: bool) -> (SuiteOutcome, i32) {
    let worst = lines.iter().map(|l| l.exit_code).max().unwrap_or(0);
    if interrupted || worst >= 130 {
        (SuiteOutcome::Interrupted, 130)
    } else if worst > 0 || lines.iter().any(|l| l.verdict == Verdict::Failed) {
        (SuiteOutcome::Failed, 1)
    } else {
        (SuiteOutcome::Passed, 0)
    }
}

/// The outcome in capitals, as the console's closing line says it.
pub fn outcome_word(o: SuiteOutcome) -> &'static str {
    match o {
        SuiteOutcome::Passed => "PASSED",
        SuiteOutcome::Failed => "FAILED",
        SuiteOutcome::Interrupted => "INTERRUPTED",
    }
}

/// The counts in words: `2 passed, 1 failed, 1 skipped, 0 interrupted, 0 not run`.
pub fn counts_text(s: &SuiteSummary) -> String {
    format!(
        "{} passed, {} failed, {} skipped, {} interrupted, {} not run",
        s.passed, s.failed, s.skipped, s.interrupted, s.not_run
    )
}

/// `suite.md`.
pub fn markdown(r: &SuiteRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Suite {}: {} scenario(s)\n",
        outcome_word(r.outcome),
        r.summary.scenarios
    );
    let _ = writeln!(
        out,
        "Started {}, finished {} ({} ms); exit code {}.",
        r.started_at, r.finished_at, r.duration_ms, r.exit_code
    );
    if let Some(s) = r.shard {
        let _ = writeln!(out, "Shard {}/{} of the suite.", s.index, s.total);
    }
    if !r.merged_from.is_empty() {
        let _ = writeln!(out, "Merged from {} shard folder(s).", r.merged_from.len());
    }
    if !r.missing_shards.is_empty() {
        let list: Vec<String> = r.missing_shards.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "**Missing shards: {}.**", list.join(", "));
    }
    out.push_str(
        "\n| # | scenario | file | verdict | duration | steps | failed steps | report |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for (i, l) in r.scenarios.iter().enumerate() {
        let steps = l.steps.as_ref().map_or_else(
            || l.reason.as_deref().map(cell).unwrap_or_default(),
            |s| {
                format!(
                    "{} passed, {} failed, {} skipped",
                    s.passed, s.failed, s.skipped
                )
            },
        );
        let failed: Vec<String> = l
            .failed_steps
            .iter()
            .map(|f| format!("{} ({})", code_span(&f.id), f.class))
            .collect();
        let report = l
            .report
            .as_deref()
            .map(|p| format!("[report](<{}>)", p.replace('>', "%3E")))
            .unwrap_or_else(|| "-".into());
        let verdict = match l.verdict {
            Verdict::Passed | Verdict::Skipped | Verdict::NotRun => l.verdict.word().to_string(),
            v => format!("**{}**", v.word()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {verdict} | {} ms | {steps} | {} | {report} |",
            i + 1,
            cell(&l.name),
            cell_markdown(&code_span(&l.file)),
            l.duration_ms,
            cell_markdown(&failed.join(", ")),
        );
    }
    let _ = writeln!(
        out,
        "\n**Totals:** {} scenario(s): {}.",
        r.summary.scenarios,
        counts_text(&r.summary)
    );
    out
}

/// Writes suite.md, suite.json and junit.xml into `dir` (and the JUnit to `junit` too,
/// when given), every byte through `redactor`; returns the names written. The JUnit is
/// built from each scenario's results.json in `dir`.
pub fn write_suite(
    dir: &Path,
    r: &SuiteRecord,
    redactor: &Redactor,
    junit: Option<&str>,
) -> Result<Vec<String>, String> {
    let put = |path: &Path, text: String| -> Result<(), String> {
        write_masked(path, text, redactor)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let json = serde_json::to_string_pretty(r).map_err(|e| e.to_string())? + "\n";
    put(&dir.join("suite.json"), json)?;
    put(&dir.join("suite.md"), markdown(r))?;
    let xml = junit_text(dir, r)?;
    put(&dir.join("junit.xml"), xml.clone())?;
    if let Some(path) = junit {
        let path = Path::new(path);
        if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        put(path, xml)?;
    }
    Ok(vec![
        "suite.md".into(),
        "suite.json".into(),
        "junit.xml".into(),
    ])
}

/// The suite's JUnit XML: each scenario's run read back from its results.json (what a
/// merge has too), a placeholder testsuite for one that did not run.
fn junit_text(dir: &Path, r: &SuiteRecord) -> Result<String, String> {
    let records: Vec<Option<RunRecord>> = r
        .scenarios
        .iter()
        .map(|l| {
            let text = std::fs::read_to_string(dir.join(l.results.as_deref()?)).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    let parts: Vec<SuitePart<'_>> = r
        .scenarios
        .iter()
        .zip(&records)
        .map(|(l, rec)| match rec {
            Some(rec) => SuitePart::Ran(rec),
            None => SuitePart::NotRun {
                name: &l.name,
                reason: l.reason.as_deref().unwrap_or(l.verdict.word()),
                failed: matches!(l.verdict, Verdict::Failed | Verdict::Interrupted),
            },
        })
        .collect();
    junit_suite_xml("qtscen suite", &parts)
}

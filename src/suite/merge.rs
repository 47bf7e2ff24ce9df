//! Suite: `qtscen merge DIR... --out DIR` — the shard folders of one suite put back
//! together: each scenario's folder copied, the lines of every suite.json combined in
//! path order, and suite.md, suite.json and junit.xml written as an unsharded run would.
use std::path::Path;

use super::console::SuiteConsole;
use super::summary::{self, SuiteRecord, SuiteSummary};
use crate::error::{Error, warn};
use crate::secrets::Redactor;

/// Runs `qtscen merge`: the merged suite's exit status, or why there is none (an input
/// is not a suite folder, two hold the same scenario, or `out` already holds a suite).
pub fn merge(dirs: &[String], out: &str) -> Result<i32, Error> {
    merge_into(dirs, out).map_err(Error::Invalid)
}

fn read_suite(dir: &str) -> Result<SuiteRecord, String> {
    let path = Path::new(dir).join("suite.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (merge takes the folders `qtscen run --shard K/N` wrote)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a suite.json: {e}", path.display()))
}

fn merge_into(dirs: &[String], out: &str) -> Result<i32, String> {
    let shards: Vec<SuiteRecord> = dirs
        .iter()
        .map(|d| read_suite(d))
        .collect::<Result<_, _>>()?;
    let out_dir = Path::new(out);
    if out_dir.join("suite.json").exists() {
        return Err(format!(
            "{out} already holds a suite (suite.json); merge into a new folder"
        ));
    }
    let folder = crate::pipeline::open_run_folder(Some(out), "suite", "")?;
    let mut lines = Vec::new();
    for (dir, shard) in dirs.iter().zip(&shards) {
        for line in &shard.scenarios {
            if let Some(other) = lines
                .iter()
                .find(|(_, l): &&(&String, super::ScenarioLine)| l.file == line.file)
            {
                return Err(format!(
                    "{} is in two of the folders: {} and {dir}",
                    line.file, other.0
                ));
            }
            lines.push((dir, line.clone()));
        }
    }
    for (dir, line) in &lines {
        if let Some(name) = &line.folder {
            let from = Path::new(dir).join(name);
            if from.is_dir() {
                copy_dir(&from, &out_dir.join(name))?;
            }
        }
    }
    let mut lines: Vec<super::ScenarioLine> = lines.into_iter().map(|(_, l)| l).collect();
    lines.sort_by(|a, b| a.file.cmp(&b.file));
    let missing = missing_shards(&shards);
    let interrupted = shards
        .iter()
        .any(|s| s.outcome == summary::SuiteOutcome::Interrupted);
    let (mut outcome, mut exit_code) = summary::outcome_of(&lines, interrupted);
    if !missing.is_empty() && exit_code == 0 {
        (outcome, exit_code) = (summary::SuiteOutcome::Failed, 1);
    }
    let (started_at, finished_at, duration_ms) = span(&shards);
    let first = &shards[0];
    let record = SuiteRecord {
        suite_version: 1,
        qtscen_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at,
        duration_ms,
        outcome,
        exit_code,
        jobs: None,
        fail_fast: shards.iter().any(|s| s.fail_fast),
        shard: None,
        merged_from: dirs.to_vec(),
        missing_shards: missing.clone(),
        tags: first.tags.clone(),
        skip_tags: first.skip_tags.clone(),
        summary: SuiteSummary::of(&lines),
        scenarios: lines,
    };
    // Every scenario's files were masked when its run wrote them.
    let redactor = Redactor::default();
    let written = summary::write_suite(out_dir, &record, &redactor, None)?;
    let console = SuiteConsole::new(redactor, crate::report::ConsoleOptions::default(), false);
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(u32::to_string).collect();
        warn(&format!(
            "no folder of shard(s) {} was given: the merged suite is incomplete",
            list.join(", ")
        ));
    }
    console.summary(&record);
    console.written(out_dir, &written, None);
    drop(folder);
    Ok(record.exit_code)
}

/// Shares of N no folder held, when the folders are shards of one N.
fn missing_shards(shards: &[SuiteRecord]) -> Vec<u32> {
    let Some(total) = shards.iter().find_map(|s| s.shard.map(|x| x.total)) else {
        return Vec::new();
    };
    (1..=total)
        .filter(|k| {
            !shards
                .iter()
                .any(|s| s.shard.is_some_and(|x| x.index == *k))
        })
        .collect()
}

/// The earliest start, the latest end, and the wall time between them.
fn span(shards: &[SuiteRecord]) -> (String, String, u64) {
    let parse = |s: &str| s.parse::<jiff::Timestamp>().ok();
    let first = shards
        .iter()
        .min_by_key(|s| parse(&s.started_at))
        .map(|s| s.started_at.clone())
        .unwrap_or_default();
    let last = shards
        .iter()
        .max_by_key(|s| parse(&s.finished_at))
        .map(|s| s.finished_at.clone())
        .unwrap_or_default();
    let longest = shards.iter().map(|s| s.duration_ms).max().unwrap_or(0);
    let ms = match (parse(&first), parse(&last)) {
        (Some(a), Some(b)) => u64::try_from(b.duration_since(a).as_millis()).unwrap_or(longest),
        _ => longest,
    };
    (first, last, ms.max(longest))
}

/// Copies a scenario's folder (files and folders; links are left out).
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    if to.exists() {
        return Err(format!("{} exists already", to.display()));
    }
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries.flatten() {
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
        }
    }
    Ok(())
}

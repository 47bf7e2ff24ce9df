//! Suite: the console of a suite with `-j` above 1 — a line per finished scenario, and on
//! a terminal a live line per running scenario (its step, how long it has run) redrawn
//! below them; the suite's table and closing line at the end. Every line is masked with
//! the suite's redactor (the union of the scenarios' secrets).
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use comfy_table::{ContentArrangement, Table, presets};

use super::summary::{ScenarioLine, SuiteRecord, Verdict, counts_text, outcome_word};
use crate::report::{ConsoleOptions, use_color};
use crate::runner::{Event, EventSink};
use crate::secrets::Redactor;

/// What a running scenario is doing, for its live line.
#[derive(Clone, Debug)]
struct Running {
    name: String,
    since: Instant,
    step: String,
}

/// The scenarios running now, by index; written by their sinks, read by the console.
#[derive(Default)]
pub struct Progress(Mutex<BTreeMap<usize, Running>>);

impl Progress {
    /// A scenario starts.
    pub fn start(&self, index: usize, name: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(
                index,
                Running {
                    name: name.to_string(),
                    since: Instant::now(),
                    step: String::new(),
                },
            );
        }
    }

    /// A scenario ended.
    pub fn end(&self, index: usize) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(&index);
        }
    }
}

/// The event sink of one running scenario: its current step, for the live line.
pub struct ProgressSink {
    /// The scenario's index.
    pub index: usize,
    /// Shared with the console.
    pub progress: Arc<Progress>,
}

impl EventSink for ProgressSink {
    fn emit(&self, event: Event<'_>) {
        if let Event::StepStarted {
            index, total, id, ..
        } = event
        {
            if let Ok(mut m) = self.progress.0.lock() {
                if let Some(r) = m.get_mut(&self.index) {
                    r.step = format!("[{}/{total}] {id}", index + 1);
                }
            }
        }
    }
}

/// The suite's console.
pub struct SuiteConsole {
    redactor: Redactor,
    opts: ConsoleOptions,
    color: bool,
    live: bool,
    /// Rows of the live block now showing.
    shown: Mutex<usize>,
}

impl SuiteConsole {
    /// A console on stdout; `live` lines only on a terminal with colour (they move the
    /// cursor, and without colour no escape code is written).
    pub fn new(redactor: Redactor, opts: ConsoleOptions, live_lines: bool) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let color = use_color(opts.color, terminal, |n| std::env::var_os(n));
        SuiteConsole {
            redactor,
            opts,
            color,
            live: live_lines && terminal && color && !opts.quiet,
            shown: Mutex::new(0),
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        crate::report::paint(self.color, text, code)
    }

    /// Prints a line (above the live block, which is redrawn on the next tick).
    pub fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if *shown > 0 {
            let _ = write!(out, "\x1b[{}A\r\x1b[J", *shown);
            *shown = 0;
        }
        let _ = writeln!(out, "{}", self.redactor.redact(text));
        let _ = out.flush();
    }

    /// A line unless `-q`.
    pub fn info(&self, text: &str) {
        if !self.opts.quiet {
            self.line(text);
        }
    }

    /// Redraws the live block: a line per running scenario.
    pub fn tick(&self, progress: &Progress) {
        if !self.live {
            return;
        }
        let rows: Vec<String> = match progress.0.lock() {
            Ok(m) => m
                .values()
                .map(|r| {
                    let step = if r.step.is_empty() {
                        "starting"
                    } else {
                        &r.step
                    };
                    let text = format!(
                        "  … {} · {step} · {:.1} s",
                        r.name,
                        r.since.elapsed().as_secs_f64()
                    );
                    self.redactor.cut(&text, 110)
                })
                .collect(),
            Err(_) => return,
        };
        let mut out = std::io::stdout().lock();
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if *shown > 0 {
            let _ = write!(out, "\x1b[{}A\r\x1b[J", *shown);
        }
        for row in &rows {
            let _ = writeln!(out, "{row}");
        }
        *shown = rows.len();
        let _ = out.flush();
    }

    /// The line of a finished (or skipped) scenario.
    pub fn finished(&self, l: &ScenarioLine) {
        let word = match l.verdict {
            Verdict::Passed => self.paint("PASSED     ", "32"),
            Verdict::Failed => self.paint("FAILED     ", "31"),
            Verdict::Interrupted => self.paint("INTERRUPTED", "33"),
            Verdict::Skipped => "SKIPPED    ".to_string(),
            Verdict::NotRun => "NOT RUN    ".to_string(),
        };
        let mut text = format!("{word} {} ({})", l.name, l.file);
        if let Some(s) = &l.steps {
            text.push_str(&format!(
                ": {} passed, {} failed, {} skipped in {} ms",
                s.passed, s.failed, s.skipped, l.duration_ms
            ));
        }
        if !l.failed_steps.is_empty() {
            let failed: Vec<String> = l
                .failed_steps
                .iter()
                .map(|f| format!("{} ({})", f.id, f.class))
                .collect();
            text.push_str(&format!("; failed: {}", failed.join(", ")));
        }
        if let Some(reason) = &l.reason {
            text.push_str(&format!("; {reason}"));
        }
        if self.opts.quiet && matches!(l.verdict, Verdict::Passed | Verdict::Skipped) {
            return;
        }
        self.line(&text);
    }

    /// The suite's table (in `-q`, only the scenarios that did not pass) and closing line.
    pub fn summary(&self, r: &SuiteRecord) {
        let shown: Vec<&ScenarioLine> = r
            .scenarios
            .iter()
            .filter(|l| {
                !self.opts.quiet || !matches!(l.verdict, Verdict::Passed | Verdict::Skipped)
            })
            .collect();
        if !shown.is_empty() {
            let mut table = Table::new();
            table
                .load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(vec![
                    "scenario",
                    "file",
                    "result",
                    "steps",
                    "failed steps",
                    "time",
                ]);
            for l in shown {
                let steps = l.steps.as_ref().map_or_else(
                    || l.reason.clone().unwrap_or_default(),
                    |s| format!("{} passed, {} failed", s.passed, s.failed),
                );
                let failed: Vec<&str> = l.failed_steps.iter().map(|f| f.id.as_str()).collect();
                table.add_row(vec![
                    l.name.clone(),
                    l.file.clone(),
                    l.verdict.word().to_string(),
                    steps,
                    failed.join(", "),
                    format!("{} ms", l.duration_ms),
                ]);
            }
            self.line(&table.to_string());
        }
        self.line(&format!(
            "SUITE {}: {} scenario(s): {} in {} ms",
            outcome_word(r.outcome),
            r.summary.scenarios,
            counts_text(&r.summary),
            r.duration_ms
        ));
    }

    /// The files written, and the summary's path last.
    pub fn written(&self, dir: &std::path::Path, names: &[String], junit: Option<&str>) {
        for name in names {
            self.info(&format!("wrote {}", dir.join(name).display()));
        }
        if let Some(path) = junit {
            self.info(&format!("wrote {path}"));
        }
        self.line(&format!("summary: {}", dir.join("suite.md").display()));
    }
}

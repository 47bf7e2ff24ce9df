//! Report stage: the console — a line per attempt and step while the run goes, a
//! comfy-table summary at the end. On a terminal each running step has one live line
//! (attempt n/N, status, duration) rewritten in place; plain lines otherwise.
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use comfy_table::{ContentArrangement, Table, presets};

use crate::record::{RunRecord, StepOutcome};
use crate::runner::{Event, EventSink};
use crate::secrets::Redactor;

/// Console output; every line goes through the redactor.
pub struct Console {
    redactor: Redactor,
    color: bool,
    live: bool,
    out: Mutex<String>,
    /// Plain lines not written yet, and when lines were last written.
    pending: Mutex<(String, Instant)>,
}

/// The longest a plain (not terminal) line waits before it is written: lines are written
/// in batches (a write per line cost three system calls per step), and the run calls
/// [`Console::flush`] on this timer while it waits for an answer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

impl Console {
    /// A console; colour only on a terminal and without `NO_COLOR`.
    pub fn new(redactor: Redactor) -> Self {
        let live = std::io::stdout().is_terminal();
        let color = live && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Console {
            redactor,
            color,
            live,
            out: Mutex::new(String::new()),
            pending: Mutex::new((String::new(), Instant::now())),
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Prints a line.
    pub fn line(&self, text: &str) {
        if !self.live {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.0.push_str(&self.redactor.redact(text));
            pending.0.push('\n');
            if pending.1.elapsed() >= FLUSH_EVERY {
                Self::write_out(&mut pending);
            }
            return;
        }
        let _guard = self.out.lock();
        let mut stdout = std::io::stdout().lock();
        // Replace whatever live line is showing.
        let _ = writeln!(stdout, "\r\x1b[2K{}", self.redactor.redact(text));
        let _ = stdout.flush();
    }

    /// Writes the plain lines still waiting.
    pub fn flush(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            Self::write_out(&mut pending);
        }
    }

    fn write_out(pending: &mut (String, Instant)) {
        if !pending.0.is_empty() {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(pending.0.as_bytes());
            let _ = stdout.flush();
            pending.0.clear();
        }
        pending.1 = Instant::now();
    }

    /// Shows `text` as the live line (terminals only), cut to fit one row.
    fn show_live(&self, text: &str) {
        let cut = self.redactor.cut(text, 110);
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "\r\x1b[2K{cut}");
        let _ = stdout.flush();
    }

    /// Prints the summary table (masked once, on its way out like every line).
    pub fn print_summary(&self, record: &RunRecord) {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(vec!["step", "title", "result", "code", "requests", "time"]);
        for s in record.steps.iter().filter(|s| s.selected) {
            let result = match s.outcome {
                StepOutcome::Passed => "passed".to_string(),
                StepOutcome::Failed => format!(
                    "FAILED ({})",
                    s.failure
                        .as_ref()
                        .map(|f| format!("{:?}", f.class))
                        .unwrap_or_default()
                ),
                StepOutcome::Skipped => "skipped".to_string(),
            };
            let code = s
                .attempts
                .last()
                .map(|a| a.code.clone())
                .unwrap_or_else(|| "-".into());
            table.add_row(vec![
                s.id.clone(),
                s.title.clone(),
                result,
                code,
                s.attempts.len().to_string(),
                format!("{} ms", s.duration_ms),
            ]);
        }
        self.line(&table.to_string());
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.flush();
    }
}

impl EventSink for Console {
    fn emit(&self, event: Event<'_>) {
        match event {
            Event::StepStarted {
                index,
                total,
                id,
                title,
            } => {
                let head = format!("[{}/{}] {id} — {title}", index + 1, total);
                if self.live {
                    if let Ok(mut prefix) = self.out.lock() {
                        prefix.clone_from(&head);
                    }
                    self.show_live(&format!("{head} …"));
                } else {
                    self.line(&head);
                }
            }
            Event::AttemptFinished { attempt, .. } => {
                let page = attempt
                    .page
                    .map(|p| format!(" page {p}"))
                    .unwrap_or_default();
                let fb = match (attempt.fallback, attempt.resent.is_some()) {
                    (true, _) => " (fallback)",
                    (false, true) => " (sent again: a kept-alive connection was closed)",
                    (false, false) => "",
                };
                let code = match &attempt.transport_error {
                    Some(t) => format!("000 {}", t.kind.as_str()),
                    None => attempt.code.clone(),
                };
                let retry = attempt
                    .retry_after_ms
                    .map(|ms| format!(", retrying in {ms} ms"))
                    .unwrap_or_default();
                if self.live {
                    let head = self.out.lock().map(|p| p.clone()).unwrap_or_default();
                    self.show_live(&format!(
                        "{head} · {}{page}{fb} attempt {}/{} · {code} · {} ms{retry}",
                        attempt.request.method, attempt.attempt, attempt.of, attempt.duration_ms
                    ));
                    return;
                }
                self.line(&format!(
                    "      {} {}{page}{fb}  attempt {}/{}  {code}  {} ms{retry}",
                    attempt.request.method,
                    attempt.request.url_readable,
                    attempt.attempt,
                    attempt.of,
                    attempt.duration_ms
                ));
            }
            Event::StepFinished(s) => {
                let text = match s.outcome {
                    StepOutcome::Passed => self.paint("passed", "32"),
                    StepOutcome::Failed => self.paint("FAILED", "31;1"),
                    StepOutcome::Skipped => self.paint("skipped", "33"),
                };
                let why = s
                    .failure
                    .as_ref()
                    .map(|f| f.message.clone())
                    .or_else(|| s.skip_reason.clone())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                let requests = match s.attempts.len() {
                    0 => String::new(),
                    1 => format!(" (1 request, {} ms)", s.duration_ms),
                    n => format!(" ({n} requests, {} ms)", s.duration_ms),
                };
                self.line(&format!("  {} {text}{requests}{why}", s.id));
            }
        }
    }
}

//! Report stage: the console — a line per attempt and step while the run goes, a
//! comfy-table summary at the end. On a terminal each running step has one live line
//! (attempt n/N, status, duration; while it waits, what for and a countdown) rewritten
//! in place; plain lines otherwise, with a timestamped line now and then while a step
//! waits. `quiet` keeps the failures and the summary; `verbose` adds headers.
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use comfy_table::{ContentArrangement, Table, presets};

use crate::record::{RunRecord, StepOutcome};
use crate::runner::{Event, EventSink};
use crate::secrets::Redactor;

/// `text` in the ANSI colour `code` when `color` is on.
pub fn paint(color: bool, text: &str, code: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// When to colour the console.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorMode {
    /// On a terminal, unless `NO_COLOR` is set (non-empty); `CLICOLOR_FORCE` (non-empty,
    /// not `0`) colours even when not a terminal.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How much the console says, and in colour or not.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsoleOptions {
    /// Only failures and the summary.
    pub quiet: bool,
    /// Also each request's and response's headers.
    pub verbose: bool,
    /// Colour.
    pub color: ColorMode,
}

/// Whether to colour, given the mode, whether the output is a terminal and the
/// environment's `NO_COLOR` and `CLICOLOR_FORCE`.
pub fn use_color(
    mode: ColorMode,
    terminal: bool,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "0");
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto if var("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        ColorMode::Auto => terminal || set("CLICOLOR_FORCE"),
    }
}

/// What the live line shows (terminals) and what a step waits for.
struct LiveState {
    /// `[i/n] id — title` of the running step.
    head: String,
    /// The step's last attempt, in words.
    last: String,
    /// When the running step (or its last attempt) started.
    since: Instant,
    /// A retry pause: when it ends, and the attempt that follows.
    retry: Option<(Instant, String)>,
    /// Characters of the live line now showing (to blank it without escape codes).
    shown: usize,
    /// When a plain "still waiting" line was last written.
    noticed: Instant,
}

/// A plain "still waiting" line at most this often (not a terminal).
const NOTICE_EVERY: Duration = Duration::from_secs(5);

/// Console output; every line goes through the redactor.
pub struct Console {
    redactor: Redactor,
    color: bool,
    live: bool,
    opts: ConsoleOptions,
    state: Mutex<LiveState>,
    /// Plain lines not written yet, and when lines were last written.
    pending: Mutex<(String, Instant)>,
}

/// The longest a plain (not terminal) line waits before it is written: lines are written
/// in batches (a write per line cost three system calls per step), and the run calls
/// [`Console::flush`] on this timer while it waits for an answer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

impl Console {
    /// A console on stdout: live lines on a terminal, colour as `opts.color` says.
    pub fn new(redactor: Redactor, opts: ConsoleOptions) -> Self {
        let live = std::io::stdout().is_terminal();
        let color = use_color(opts.color, live, |n| std::env::var_os(n));
        Console {
            redactor,
            color,
            live,
            opts,
            state: Mutex::new(LiveState {
                head: String::new(),
                last: String::new(),
                since: Instant::now(),
                retry: None,
                shown: 0,
                noticed: Instant::now(),
            }),
            pending: Mutex::new((String::new(), Instant::now())),
        }
    }

    /// Prints a line unless the console is quiet.
    pub fn info(&self, text: &str) {
        if !self.opts.quiet {
            self.line(text);
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        paint(self.color, text, code)
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
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let mut stdout = std::io::stdout().lock();
        // Replace whatever live line is showing.
        let blank = self.blank(state.shown);
        state.shown = 0;
        let _ = writeln!(stdout, "{blank}{}", self.redactor.redact(text));
        let _ = stdout.flush();
    }

    /// What erases a live line of `shown` characters: an escape code in colour, else
    /// spaces (`NO_COLOR` means no escape codes at all).
    fn blank(&self, shown: usize) -> String {
        if self.color {
            "\r\x1b[2K".to_string()
        } else if shown == 0 {
            "\r".to_string()
        } else {
            format!("\r{}\r", " ".repeat(shown))
        }
    }

    /// Writes the plain lines still waiting; on a terminal, redraws the live line (the
    /// countdown of a retry pause, the time a request has waited). The run calls it every
    /// [`FLUSH_EVERY`].
    pub fn flush(&self) {
        if self.live {
            self.tick();
            return;
        }
        self.notice();
        if let Ok(mut pending) = self.pending.lock() {
            Self::write_out(&mut pending);
        }
    }

    /// What the running step waits for, with the seconds left or waited.
    fn waiting(state: &LiveState) -> Option<String> {
        if state.head.is_empty() {
            return None;
        }
        Some(match &state.retry {
            Some((until, next)) => {
                let left = until.saturating_duration_since(Instant::now());
                format!("{next} in {:.1} s", left.as_secs_f64())
            }
            None => format!(
                "waiting for the answer, {:.1} s",
                state.since.elapsed().as_secs_f64()
            ),
        })
    }

    fn tick(&self) {
        let text = {
            let Ok(state) = self.state.lock() else {
                return;
            };
            let Some(wait) = Self::waiting(&state) else {
                return;
            };
            let last = if state.last.is_empty() {
                String::new()
            } else {
                format!(" · {}", state.last)
            };
            format!("{}{last} · {wait}", state.head)
        };
        self.show_live(&text);
    }

    /// Not a terminal: a timestamped line every [`NOTICE_EVERY`] while a step waits.
    fn notice(&self) {
        let text = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            if state.noticed.elapsed() < NOTICE_EVERY || state.since.elapsed() < NOTICE_EVERY {
                return;
            }
            let Some(wait) = Self::waiting(&state) else {
                return;
            };
            state.noticed = Instant::now();
            let at = jiff::Timestamp::now()
                .to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S");
            format!("      {at} {}: {wait}", state.head)
        };
        if !self.opts.quiet {
            self.line(&text);
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
        if self.opts.quiet {
            return;
        }
        let cut = self.redactor.cut(text, 110);
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let blank = self.blank(state.shown);
        state.shown = cut.chars().count();
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{blank}{cut}");
        let _ = stdout.flush();
    }

    /// Prints the summary table (masked once, on its way out like every line); a quiet
    /// console lists only the failed steps, and nothing when none failed.
    pub fn print_summary(&self, record: &RunRecord) {
        let shown = |s: &&crate::record::StepRecord| {
            s.selected && (!self.opts.quiet || s.outcome == StepOutcome::Failed)
        };
        if !record.steps.iter().any(|s| shown(&s)) {
            return;
        }
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(vec!["step", "title", "result", "code", "requests", "time"]);
        for s in record.steps.iter().filter(shown) {
            let result = match s.outcome {
                StepOutcome::Passed => "passed".to_string(),
                StepOutcome::Failed => format!(
                    "FAILED ({})",
                    s.failure
                        .as_ref()
                        .map(|f| f.class.word())
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
                if let Ok(mut state) = self.state.lock() {
                    state.head.clone_from(&head);
                    state.last.clear();
                    state.since = Instant::now();
                    state.retry = None;
                    state.noticed = Instant::now();
                }
                if self.live {
                    self.show_live(&format!("{head} …"));
                } else {
                    self.info(&head);
                }
            }
            Event::AttemptFinished { attempt, .. } => self.attempt_finished(attempt),
            Event::StepFinished(s) => {
                if let Ok(mut state) = self.state.lock() {
                    state.head.clear();
                    state.retry = None;
                }
                if self.opts.quiet && s.outcome != StepOutcome::Failed {
                    return;
                }
                let text = match s.outcome {
                    StepOutcome::Passed => self.paint("passed", "32"),
                    StepOutcome::Failed => {
                        let class = s
                            .failure
                            .as_ref()
                            .map(|f| format!(" ({})", f.class.word()))
                            .unwrap_or_default();
                        self.paint(&format!("FAILED{class}"), "31;1")
                    }
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

mod attempt;

#[cfg(test)]
mod tests;

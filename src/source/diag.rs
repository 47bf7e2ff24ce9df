//! Diagnostics and the one caret renderer (rustc/Hurl style).
//!
//! ```text
//! error: unknown field `methd`, expected one of `method`, `path`, ...
//!   --> scenarios/prod_smoke.yaml:42:7
//!    |
//! 42 |       methd: GET
//!    |       ^^^^^
//!    = help: did you mean `method`?
//! ```

use annotate_snippets::{Level, Renderer, Snippet};

use super::file::SourceFile;
use super::span::Span;

pub use super::suggest::did_you_mean;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the run.
    Error,
    /// Reported, but the run goes on.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message about a place in a source file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The one-line headline.
    pub message: String,
    /// The file name as the user gave it.
    pub file: Option<String>,
    /// The region to underline.
    pub span: Option<Span>,
    /// Extra `= note:` lines.
    pub notes: Vec<String>,
    /// An optional `= help:` line, shown last.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the given severity and message and nothing else.
    pub fn new(severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity,
            message: message.into(),
            file: None,
            span: None,
            notes: Vec::new(),
            help: None,
        }
    }

    /// An error with the given message.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, message)
    }

    /// A warning with the given message.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, message)
    }

    /// Sets the file name.
    pub fn with_file(mut self, file: impl Into<String>) -> Diagnostic {
        self.file = Some(file.into());
        self
    }

    /// Sets (or clears) the span.
    pub fn with_span(mut self, span: impl Into<Option<Span>>) -> Diagnostic {
        self.span = span.into();
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// Renders a diagnostic as text ending with a newline, with annotate-snippets.
///
/// The file shown is `diag.file`, else `source`'s name. The source line is shown when
/// both a span and a source containing that line are given; control characters in it
/// become `�` (a scenario cannot paint the terminal), and the underline is clamped to
/// the rest of the line (at least one caret). `colored` adds annotate-snippets' ANSI
/// styles (bold red errors, yellow warnings, blue gutter).
pub fn render(diag: &Diagnostic, source: Option<&SourceFile>, colored: bool) -> String {
    let level = match diag.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let file = diag
        .file
        .as_deref()
        .or(source.map(|f| f.name.as_str()))
        .unwrap_or("<input>");
    // An empty line is not shown (annotate-snippets draws nothing to point at): the place
    // alone, as when the line is unknown.
    let line = diag
        .span
        .and_then(|s| Some((s, source?.line(s.line)?)))
        .filter(|(_, text)| !text.trim_end_matches(['\r', '\n']).is_empty());
    // The title and footers of the message; the snippet when its line is known.
    let shown = line.map(|(span, text)| (span, shown_line(text, span)));
    let mut message = level.title(&diag.message);
    if let Some((span, (text, range))) = &shown {
        message = message.snippet(
            Snippet::source(text)
                .line_start(span.line)
                .origin(file)
                .annotation(level.span(range.clone())),
        );
    }
    let footers: Vec<(Level, &str)> = diag
        .notes
        .iter()
        .map(|n| (Level::Note, n.as_str()))
        .chain(diag.help.as_deref().map(|h| (Level::Help, h)))
        .collect();
    message = message.footers(footers.iter().map(|(l, t)| l.title(t)));
    let renderer = if colored {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.render(message).to_string();
    if line.is_none() && (diag.file.is_some() || source.is_some() || diag.span.is_some()) {
        // No line to show: the place alone, under the title.
        let at = match diag.span {
            Some(s) => format!("{file}:{}:{}", s.line, s.col),
            None => file.to_string(),
        };
        let title_end = out.find('\n').unwrap_or(out.len());
        let arrow = if colored {
            "\x1b[1m\x1b[94m-->\x1b[0m"
        } else {
            "-->"
        };
        out.insert_str(title_end, &format!("\n {arrow} {at}"));
    }
    out.push('\n');
    out
}

/// The line as shown and the byte range to underline in it: a tab shown as one space and
/// control characters as `�`, one character for one, so the columns annotate-snippets
/// counts for `-->` stay those of the file; `span`'s columns count characters; the range
/// is clamped to the line and at least one character wide (past the end: one caret
/// after it).
fn shown_line(text: &str, span: Span) -> (String, std::ops::Range<usize>) {
    let shown: String = text
        .trim_end_matches(['\r', '\n'])
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect();
    let at = |col: usize| {
        shown
            .char_indices()
            .nth(col)
            .map_or(shown.len(), |(i, _)| i)
    };
    let start = at(span.col.saturating_sub(1));
    let end = at(span.col.saturating_sub(1) + span.len.max(1));
    let range = if end > start {
        start..end
    } else {
        start..start + 1
    };
    (shown, range)
}

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

use std::fmt::Write as _;

use super::file::SourceFile;
use super::span::Span;

pub use super::suggest::did_you_mean;

/// Tab stops used when showing a source line.
const TAB_WIDTH: usize = 4;
/// Minimum width of the line-number gutter, so `-->` lines up across messages.
const MIN_GUTTER: usize = 2;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";

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

/// Paints `text` when colours are on.
fn paint(out: &mut String, colored: bool, style: &str, text: &str) {
    if colored {
        out.push_str(style);
        out.push_str(text);
        out.push_str(RESET);
    } else {
        out.push_str(text);
    }
}

/// Renders a diagnostic as text ending with a newline.
///
/// The file shown is `diag.file`, else `source`'s name. The source line is
/// shown when both a span and a source containing that line are given; tabs
/// are expanded to 4-column stops and control characters replaced by `�`,
/// with the carets placed accordingly. The underline is clamped to the rest
/// of the line (at least one caret). `colored` adds ANSI bold red (error) or
/// yellow (warning) and bold blue for the gutter.
pub fn render(diag: &Diagnostic, source: Option<&SourceFile>, colored: bool) -> String {
    let line_text = diag.span.and_then(|s| source.and_then(|f| f.line(s.line)));
    let gutter = diag
        .span
        .map_or(0, |s| s.line.to_string().len())
        .max(MIN_GUTTER);
    let pad = " ".repeat(gutter);
    let sev_style = match diag.severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    };
    let mut out = String::new();

    paint(&mut out, colored, sev_style, diag.severity.as_str());
    paint(&mut out, colored, BOLD, &format!(": {}", diag.message));
    out.push('\n');

    let file = diag.file.as_deref().or(source.map(|f| f.name.as_str()));
    if file.is_some() || diag.span.is_some() {
        out.push_str(&pad);
        paint(&mut out, colored, BLUE, "-->");
        let _ = match diag.span {
            Some(s) => writeln!(out, " {}:{}:{}", file.unwrap_or("<input>"), s.line, s.col),
            None => writeln!(out, " {}", file.unwrap_or("<input>")),
        };
    }

    if let (Some(span), Some(text)) = (diag.span, line_text) {
        let (shown, offset, width) = layout(text, span);
        let _ = write!(out, "{pad} ");
        paint(&mut out, colored, BLUE, "|");
        out.push('\n');
        paint(
            &mut out,
            colored,
            BLUE,
            &format!("{:>gutter$} |", span.line),
        );
        if !shown.is_empty() {
            out.push(' ');
            out.push_str(&shown);
        }
        out.push('\n');
        let _ = write!(out, "{pad} ");
        paint(&mut out, colored, BLUE, "|");
        out.push(' ');
        out.push_str(&" ".repeat(offset));
        paint(&mut out, colored, sev_style, &"^".repeat(width));
        out.push('\n');
    }

    let labelled = diag
        .notes
        .iter()
        .map(|n| ("note", n.as_str()))
        .chain(diag.help.as_deref().map(|h| ("help", h)));
    for (label, text) in labelled {
        let _ = write!(out, "{pad} ");
        paint(&mut out, colored, BLUE, "=");
        out.push(' ');
        paint(&mut out, colored, BOLD, &format!("{label}:"));
        let indent = " ".repeat(gutter + label.len() + 5);
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                out.push_str(&indent);
            } else {
                out.push(' ');
            }
            out.push_str(part.trim_end_matches('\r'));
            out.push('\n');
        }
    }
    out
}

/// Expands `text` for display and finds the caret offset and width (both
/// in display columns) for `span`.
fn layout(text: &str, span: Span) -> (String, usize, usize) {
    let chars: Vec<char> = text.chars().collect();
    let start = span.col.saturating_sub(1).min(chars.len());
    let end = start.saturating_add(span.len.max(1)).min(chars.len());
    let mut shown = String::new();
    let mut column = 0;
    let mut offset = 0;
    let mut caret_end = 0;
    for (i, &c) in chars.iter().enumerate() {
        if i == start {
            offset = column;
        }
        if c == '\t' {
            let next = (column / TAB_WIDTH + 1) * TAB_WIDTH;
            shown.push_str(&" ".repeat(next - column));
            column = next;
        } else {
            shown.push(if c.is_control() { '\u{FFFD}' } else { c });
            column += 1;
        }
        if i + 1 == end {
            caret_end = column;
        }
    }
    if start >= chars.len() {
        offset = column;
    }
    let width = caret_end.saturating_sub(offset).max(1);
    (shown, offset, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile {
        SourceFile::new("scenarios/prod_smoke.yaml", text)
    }

    #[test]
    fn renders_the_reference_example() {
        let mut text = "x: 1\n".repeat(41);
        text.push_str("      methd: GET\n");
        let diag =
            Diagnostic::error("unknown field `methd`, expected one of `method`, `path`, ...")
                .with_file("scenarios/prod_smoke.yaml")
                .with_span(Span::new(42, 7, 5))
                .with_help("did you mean `method`?");
        let expected = "\
error: unknown field `methd`, expected one of `method`, `path`, ...
  --> scenarios/prod_smoke.yaml:42:7
   |
42 |       methd: GET
   |       ^^^^^
   = help: did you mean `method`?
";
        assert_eq!(render(&diag, Some(&source(&text)), false), expected);
    }

    #[test]
    fn without_span_or_source() {
        let diag = Diagnostic::error("cannot read file").with_file("a.yaml");
        assert_eq!(
            render(&diag, None, false),
            "error: cannot read file\n  --> a.yaml\n"
        );
        let diag = Diagnostic::warning("bare").with_note("n1");
        assert_eq!(render(&diag, None, false), "warning: bare\n   = note: n1\n");
        // A span but no source: location only.
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(3, 2, 1));
        assert_eq!(render(&diag, None, false), "error: e\n  --> f:3:2\n");
        // The line is not in the source: location only.
        let diag = diag.with_span(Span::new(9, 1, 1));
        assert_eq!(
            render(&diag, Some(&source("a")), false),
            "error: e\n  --> f:9:1\n"
        );
    }

    #[test]
    fn file_name_falls_back_to_source() {
        let diag = Diagnostic::error("e").with_span(Span::new(1, 1, 1));
        let out = render(&diag, Some(&SourceFile::new("s.yaml", "abc")), false);
        assert_eq!(out, "error: e\n  --> s.yaml:1:1\n   |\n 1 | abc\n   | ^\n");
    }

    #[test]
    fn notes_help_and_wide_gutter() {
        let text = "\n".repeat(99) + "key: value";
        let diag = Diagnostic::warning("w")
            .with_file("f.yaml")
            .with_span(Span::new(100, 6, 50))
            .with_note("first\nsecond")
            .with_help("h");
        let expected = "\
warning: w
   --> f.yaml:100:6
    |
100 | key: value
    |      ^^^^^
    = note: first
            second
    = help: h
";
        assert_eq!(render(&diag, Some(&source(&text)), false), expected);
    }

    #[test]
    fn tabs_are_expanded_consistently() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(1, 3, 3));
        let out = render(&diag, Some(&source("a\t\tbc d")), false);
        assert_eq!(
            out,
            "error: e\n  --> f:1:3\n   |\n 1 | a       bc d\n   |     ^^^^^^\n"
        );
    }

    #[test]
    fn caret_clamped_and_past_end() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(1, 3, 99));
        let out = render(&diag, Some(&source("abcd")), false);
        assert!(out.ends_with(" 1 | abcd\n   |   ^^\n"), "{out}");
        let diag = diag.with_span(Span::new(1, 50, 3));
        let out = render(&diag, Some(&source("abcd")), false);
        assert!(out.ends_with(" 1 | abcd\n   |     ^\n"), "{out}");
        let diag = diag.with_span(Span::new(1, 1, 1));
        let out = render(&diag, Some(&source("")), false);
        assert!(out.ends_with(" 1 |\n   | ^\n"), "{out}");
    }

    #[test]
    fn unicode_and_control_chars() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(2, 7, 6));
        let out = render(&diag, Some(&source("a: b\r\nname: Привет\r\n")), false);
        assert!(
            out.ends_with(" 2 | name: Привет\n   |       ^^^^^^\n"),
            "{out:?}"
        );
        let diag = diag.with_span(Span::new(1, 2, 1));
        let out = render(&diag, Some(&source("a\u{1b}[31mb")), false);
        assert!(out.contains(" 1 | a\u{FFFD}[31mb\n"), "{out:?}");
    }

    #[test]
    fn colored_output() {
        let diag = Diagnostic::error("boom")
            .with_file("f")
            .with_span(Span::new(1, 1, 2));
        let out = render(&diag, Some(&source("ab")), true);
        assert!(
            out.starts_with("\x1b[1;31merror\x1b[0m\x1b[1m: boom\x1b[0m\n"),
            "{out:?}"
        );
        assert!(out.contains("\x1b[1;34m-->\x1b[0m f:1:1\n"), "{out:?}");
        assert!(out.contains("\x1b[1;31m^^\x1b[0m"), "{out:?}");
        let plain = render(&diag, Some(&source("ab")), false);
        assert!(!plain.contains('\x1b'));
    }
}

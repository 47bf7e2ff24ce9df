//! A location in a source file: 1-based line and column, plus an underline length.

/// A region on a single line of a source file.
///
/// `line` and `col` are 1-based; `col` and `len` count characters (Unicode
/// scalar values), not bytes. `len` is the number of characters to underline
/// and is always at least 1 when built through [`Span::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Number of characters to underline (at least 1).
    pub len: usize,
}

impl Span {
    /// Builds a span, forcing `line`, `col` and `len` to be at least 1.
    pub fn new(line: usize, col: usize, len: usize) -> Span {
        Span {
            line: line.max(1),
            col: col.max(1),
            len: len.max(1),
        }
    }

    /// A one-character span at `line:col` (both 1-based).
    pub fn point(line: usize, col: usize) -> Span {
        Span::new(line, col, 1)
    }

    /// The same span with a different underline length (at least 1).
    pub fn with_len(self, len: usize) -> Span {
        Span {
            len: len.max(1),
            ..self
        }
    }
}

impl std::fmt::Display for Span {
    /// Formats as `line:col`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

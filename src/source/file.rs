//! A named source text and line access consistent with the YAML scanner.

/// A source file as loaded by the caller.
///
/// `name` is the path as the user gave it (e.g. `scenarios/prod_smoke.yaml`),
/// used verbatim in diagnostics. Invalid UTF-8 is the caller's business: the
/// text here is already a `String`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The file name as the user gave it.
    pub name: String,
    /// The whole text of the file.
    pub text: String,
}

impl SourceFile {
    /// Creates a source file from a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Returns line `n` (1-based) without its line terminator.
    ///
    /// Lines are separated by `\n`, `\r\n` or a lone `\r`, like the YAML
    /// scanners count them. `n == 0` or past the end gives `None`. A text
    /// ending with a newline has a last, empty line.
    pub fn line(&self, n: usize) -> Option<&str> {
        n.checked_sub(1)
            .and_then(|i| split_lines(&self.text).nth(i))
    }

    /// The number of lines, as [`SourceFile::line`] counts them (at least 1).
    pub fn line_count(&self) -> usize {
        split_lines(&self.text).count()
    }
}

/// Splits `text` into lines at `\n`, `\r\n` and lone `\r`, dropping the
/// terminators. Always yields at least one (possibly empty) line.
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\n', '\r']) {
            None => {
                rest = None;
                Some(current)
            }
            Some(i) => {
                let line = &current[..i];
                let after = &current[i..];
                let skip = if after.starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&after[skip..]);
                Some(line)
            }
        }
    })
}

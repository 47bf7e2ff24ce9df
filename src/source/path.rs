//! A path to a node inside a YAML document, like `steps[2].http.query.where`.

use std::fmt;
use std::str::FromStr;

/// One step of a [`YamlPath`]: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    /// A mapping key (scalar keys only, as written in the source).
    Key(String),
    /// A 0-based sequence index.
    Index(usize),
}

/// A path from the document root to a node.
///
/// Displayed as `steps[2].http.query.where`; keys that would be ambiguous
/// (empty, or containing dots, spaces, brackets, quotes, backslashes or
/// control characters) are shown quoted: `headers["X-Api.Key"]`. The empty
/// path (the root) displays as the empty string. [`FromStr`] parses the
/// display form back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YamlPath(Vec<PathSeg>);

/// Error returned when a string is not a valid [`YamlPath`] display form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid YAML path at character {position}: {message}")]
pub struct ParsePathError {
    /// What went wrong.
    pub message: String,
    /// 0-based character position in the input.
    pub position: usize,
}

impl YamlPath {
    /// The empty path, pointing at the document root.
    pub fn root() -> YamlPath {
        YamlPath(Vec::new())
    }

    /// Parses the display form (same as [`FromStr`]).
    pub fn parse(s: &str) -> Result<YamlPath, ParsePathError> {
        s.parse()
    }

    /// The segments, root first.
    pub fn segments(&self) -> &[PathSeg] {
        &self.0
    }

    /// True for the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the root path (same as [`YamlPath::is_root`]).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The last segment, if any.
    pub fn last(&self) -> Option<&PathSeg> {
        self.0.last()
    }

    /// Appends a key segment in place.
    pub fn push_key(&mut self, key: impl Into<String>) {
        self.0.push(PathSeg::Key(key.into()));
    }

    /// Appends an index segment in place.
    pub fn push_index(&mut self, index: usize) {
        self.0.push(PathSeg::Index(index));
    }

    /// Removes and returns the last segment.
    pub fn pop(&mut self) -> Option<PathSeg> {
        self.0.pop()
    }

    /// The path without its last segment; `None` for the root.
    pub fn parent(&self) -> Option<YamlPath> {
        let (_, init) = self.0.split_last()?;
        Some(YamlPath(init.to_vec()))
    }

    /// A new path with `key` appended.
    pub fn child_key(&self, key: &str) -> YamlPath {
        let mut p = self.clone();
        p.push_key(key);
        p
    }

    /// A new path with `index` appended.
    pub fn child_index(&self, index: usize) -> YamlPath {
        let mut p = self.clone();
        p.push_index(index);
        p
    }

    /// True if `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &YamlPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl From<Vec<PathSeg>> for YamlPath {
    fn from(segs: Vec<PathSeg>) -> Self {
        YamlPath(segs)
    }
}

impl FromIterator<PathSeg> for YamlPath {
    fn from_iter<I: IntoIterator<Item = PathSeg>>(iter: I) -> Self {
        YamlPath(iter.into_iter().collect())
    }
}

fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || key.chars().any(|c| {
            matches!(c, '.' | '[' | ']' | '"' | '\\') || c.is_whitespace() || c.is_control()
        })
}

fn write_quoted(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    f.write_str("[\"")?;
    for c in key.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"]")
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Index(n) => write!(f, "[{n}]")?,
                PathSeg::Key(k) if needs_quotes(k) => write_quoted(f, k)?,
                PathSeg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
            }
        }
        Ok(())
    }
}

impl serde::Serialize for YamlPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A tiny cursor over the characters of a path string.
struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn error(&self, message: &str) -> ParsePathError {
        ParsePathError {
            message: message.to_owned(),
            position: self.pos,
        }
    }

    fn expect(&mut self, want: char) -> Result<(), ParsePathError> {
        match self.peek() {
            Some(c) if c == want => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.error(&format!("expected `{want}`"))),
        }
    }

    /// A bare key: everything up to the next `.` or `[`.
    fn bare_key(&mut self) -> Result<String, ParsePathError> {
        let mut key = String::new();
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' {
                break;
            }
            key.push(c);
            self.pos += 1;
        }
        if key.is_empty() {
            return Err(self.error("expected a key"));
        }
        Ok(key)
    }

    /// The inside of `[...]`, the opening bracket already consumed.
    fn bracket(&mut self) -> Result<PathSeg, ParsePathError> {
        if self.peek() == Some('"') {
            self.pos += 1;
            let key = self.quoted()?;
            self.expect(']')?;
            return Ok(PathSeg::Key(key));
        }
        let start = self.pos;
        let mut digits = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.pos += 1;
        }
        if digits.is_empty() {
            return Err(self.error("expected an index or a quoted key"));
        }
        let index = digits.parse::<usize>().map_err(|_| ParsePathError {
            message: "index out of range".to_owned(),
            position: start,
        })?;
        self.expect(']')?;
        Ok(PathSeg::Index(index))
    }

    /// A quoted key body, the opening quote already consumed.
    fn quoted(&mut self) -> Result<String, ParsePathError> {
        let mut key = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated quoted key")),
                Some('"') => return Ok(key),
                Some('\\') => key.push(self.escape()?),
                Some(c) => key.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, ParsePathError> {
        match self.bump() {
            Some('"') => Ok('"'),
            Some('\\') => Ok('\\'),
            Some('n') => Ok('\n'),
            Some('r') => Ok('\r'),
            Some('t') => Ok('\t'),
            Some('u') => {
                self.expect('{')?;
                let mut hex = String::new();
                while let Some(c) = self.peek().filter(char::is_ascii_hexdigit) {
                    hex.push(c);
                    self.pos += 1;
                }
                self.expect('}')?;
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.error("invalid unicode escape"))
            }
            _ => Err(self.error("invalid escape")),
        }
    }
}

impl FromStr for YamlPath {
    type Err = ParsePathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut cur = Cursor {
            chars: s.chars().collect(),
            pos: 0,
        };
        let mut path = YamlPath::root();
        while let Some(c) = cur.peek() {
            if c == '[' {
                cur.pos += 1;
                path.0.push(cur.bracket()?);
            } else if path.is_root() {
                path.0.push(PathSeg::Key(cur.bare_key()?));
            } else if c == '.' {
                cur.pos += 1;
                path.0.push(PathSeg::Key(cur.bare_key()?));
            } else {
                return Err(cur.error("expected `.` or `[`"));
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathSeg {
        PathSeg::Key(k.to_owned())
    }

    #[test]
    fn display_simple() {
        let p = YamlPath::root()
            .child_key("steps")
            .child_index(2)
            .child_key("http")
            .child_key("query")
            .child_key("where");
        assert_eq!(p.to_string(), "steps[2].http.query.where");
        assert_eq!(YamlPath::root().to_string(), "");
        assert_eq!(
            YamlPath::root().child_index(0).child_key("a").to_string(),
            "[0].a"
        );
    }

    #[test]
    fn display_quoted() {
        let p = YamlPath(vec![key("headers"), key("X-Api.Key")]);
        assert_eq!(p.to_string(), r#"headers["X-Api.Key"]"#);
        let p = YamlPath(vec![key("a b"), key(""), key("q\"\\\n"), key("ок")]);
        assert_eq!(p.to_string(), r#"["a b"][""]["q\"\\\n"].ок"#);
    }

    #[test]
    fn parse_roundtrip() {
        for s in [
            "",
            "steps[2].http.query.where",
            r#"headers["X-Api.Key"]"#,
            r#"["a b"][""]["q\"\\\n"].ок"#,
            "[0][1].x",
            "a.0.b",
            r#"x["\u{1}"]"#,
        ] {
            let p: YamlPath = s.parse().unwrap();
            assert_eq!(p.to_string(), s, "roundtrip of {s:?}");
        }
        assert_eq!(
            YamlPath::parse("a[3]").unwrap(),
            YamlPath(vec![key("a"), PathSeg::Index(3)])
        );
    }

    #[test]
    fn parse_errors() {
        for s in [
            ".a", "a.", "a..b", "a[", "a[x]", "a[1", r#"a["x"#, r#"a["x""#, "a[]b", "a]b[0]c",
        ] {
            assert!(YamlPath::parse(s).is_err(), "{s:?} should fail");
        }
        assert!(YamlPath::parse("a[99999999999999999999999]").is_err());
        assert!(YamlPath::parse(r#"a["\u{d800}"]"#).is_err());
    }

    #[test]
    fn parent_and_children() {
        let mut p = YamlPath::parse("a.b[1]").unwrap();
        assert_eq!(p.parent().unwrap().to_string(), "a.b");
        assert_eq!(YamlPath::root().parent(), None);
        assert!(p.starts_with(&YamlPath::parse("a").unwrap()));
        p.push_key("c");
        p.push_index(0);
        assert_eq!(p.to_string(), "a.b[1].c[0]");
        assert_eq!(p.pop(), Some(PathSeg::Index(0)));
        assert_eq!(p.len(), 4);
        assert_eq!(p.last(), Some(&key("c")));
    }
}

//! A path to a node inside a YAML document, like `steps[2].http.query.where`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

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
/// path (the root) displays as the empty string. Built with [`YamlPath::at`] or
/// [`yp!`](crate::yp), never parsed from text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YamlPath(Vec<PathSeg>);

impl YamlPath {
    /// The empty path, pointing at the document root.
    pub fn root() -> YamlPath {
        YamlPath(Vec::new())
    }

    /// The segments, root first.
    pub fn segments(&self) -> &[PathSeg] {
        &self.0
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

    /// A new path with `seg` appended: a key (`&str`, `String`) or an index (`usize`).
    pub fn at(&self, seg: impl Into<PathSeg>) -> YamlPath {
        let mut p = self.clone();
        p.0.push(seg.into());
        p
    }
}

impl From<&str> for PathSeg {
    fn from(key: &str) -> Self {
        PathSeg::Key(key.to_owned())
    }
}

impl From<&&str> for PathSeg {
    fn from(key: &&str) -> Self {
        PathSeg::Key((*key).to_owned())
    }
}

impl From<&YamlPath> for YamlPath {
    fn from(path: &YamlPath) -> Self {
        path.clone()
    }
}

impl From<&String> for PathSeg {
    fn from(key: &String) -> Self {
        PathSeg::Key(key.clone())
    }
}

impl From<String> for PathSeg {
    fn from(key: String) -> Self {
        PathSeg::Key(key)
    }
}

impl From<usize> for PathSeg {
    fn from(index: usize) -> Self {
        PathSeg::Index(index)
    }
}

/// A path from the root through the given keys (`&str`, `String`) and indices (`usize`):
/// `yp!["steps", i, "http"]` is `steps[2].http`.
#[macro_export]
macro_rules! yp {
    ($($seg:expr),* $(,)?) => {
        $crate::source::YamlPath::root()$(.at($seg))*
    };
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

/// Where templates stand, by the text they keep: a template knows its origin only as
/// the display form of its path (template/ keeps no `YamlPath`), so every origin handed
/// out by [`YamlPath::origin`] is remembered here and read back by
/// [`YamlPath::of_origin`] — never parsed.
static ORIGINS: Mutex<BTreeMap<String, YamlPath>> = Mutex::new(BTreeMap::new());

impl YamlPath {
    /// This path as a template origin (its display form), remembered for
    /// [`YamlPath::of_origin`].
    pub fn origin(&self) -> String {
        let text = self.to_string();
        if let Ok(mut map) = ORIGINS.lock() {
            map.entry(text.clone()).or_insert_with(|| self.clone());
        }
        text
    }

    /// The path an origin given by [`YamlPath::origin`] stands for.
    pub fn of_origin(origin: &str) -> Option<YamlPath> {
        ORIGINS.lock().ok()?.get(origin).cloned()
    }

    /// This path followed by `sub`, a relative path another stage wrote as text
    /// (`length.equals`, `[2].name`: keys after `.`, indices in `[]`, nothing quoted).
    pub fn join_relative(&self, sub: &str) -> YamlPath {
        let mut p = self.clone();
        for part in sub.split('.').filter(|s| !s.is_empty()) {
            let (key, indices) = part.split_once('[').unwrap_or((part, ""));
            if !key.is_empty() {
                p.push_key(key);
            }
            for index in indices.split('[').map(|i| i.trim_end_matches(']')) {
                match index.parse() {
                    Ok(n) => p.push_index(n),
                    Err(_) if index.is_empty() => {}
                    Err(_) => p.push_key(index),
                }
            }
        }
        p
    }
}

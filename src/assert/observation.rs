//! Assert stage: what a step produced, normalised for every step kind; a body too large
//! to hold is read from its file, and parsed as JSON once, only when something reads it.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::predicate::Outcome;

/// What a step produced, normalised for every step kind.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Headers with lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Body as text: the whole body, or — when it is in `body_file` — its start.
    pub body: Arc<str>,
    /// The file of the run folder holding the whole body, when it was larger than
    /// `limits.body_in_memory` (secrets masked).
    pub body_file: Option<Arc<Path>>,
    /// Body as JSON, parsed once when first read, when it is JSON.
    pub json: LazyJson,
    /// Items collected over pages, when they are held in memory (see `walk`).
    pub items: Option<Arc<Value>>,
    /// What a page walk collected: how many items, the file holding them when they were
    /// too many to hold, and the `items:` checks judged as the pages came.
    pub walk: Option<Arc<WalkItems>>,
    /// Files of the run folder that `file` checks read, by name.
    pub files: BTreeMap<String, Arc<str>>,
}

impl Observation {
    /// The whole body: held, or read from its file (each time: it is not kept).
    pub fn body_text(&self) -> Arc<str> {
        match &self.body_file {
            None => self.body.clone(),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => Arc::from(text),
                Err(e) => Arc::from(format!(
                    "[qtscen: the body's file {} could not be read: {e}]",
                    path.display()
                )),
            },
        }
    }
}

/// A JSON document parsed from text or a file when first read, then shared.
#[derive(Clone, Debug, Default)]
pub struct LazyJson(Arc<Lazy>);

#[derive(Debug, Default)]
struct Lazy {
    source: Source,
    parsed: OnceLock<Option<Arc<Value>>>,
}

#[derive(Debug, Default)]
enum Source {
    #[default]
    None,
    Text(Arc<str>),
    File(Arc<Path>),
}

impl LazyJson {
    /// A document already at hand (or none).
    pub fn ready(doc: Option<Arc<Value>>) -> Self {
        let lazy = Lazy::default();
        let _ = lazy.parsed.set(doc);
        LazyJson(Arc::new(lazy))
    }

    /// `text` as JSON, parsed when first read (none when it is not JSON).
    pub fn of_text(text: Arc<str>) -> Self {
        LazyJson(Arc::new(Lazy {
            source: Source::Text(text),
            parsed: OnceLock::new(),
        }))
    }

    /// The file at `path` as JSON, parsed when first read straight from the file (no
    /// copy of its text is held).
    pub fn of_file(path: Arc<Path>) -> Self {
        LazyJson(Arc::new(Lazy {
            source: Source::File(path),
            parsed: OnceLock::new(),
        }))
    }

    /// The document, when the source is JSON.
    pub fn get(&self) -> Option<&Arc<Value>> {
        self.0
            .parsed
            .get_or_init(|| {
                let doc = match &self.0.source {
                    Source::None => None,
                    Source::Text(t) => serde_json::from_str(t).ok(),
                    Source::File(path) => std::fs::File::open(path).ok().and_then(|f| {
                        serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, f)).ok()
                    }),
                };
                doc.map(Arc::new)
            })
            .as_ref()
    }

    /// The document, by reference.
    pub fn doc(&self) -> Option<&Value> {
        self.get().map(|d| &**d)
    }
}

/// What a page walk collected, besides the items it holds (`Observation::items`).
#[derive(Debug, Default)]
pub struct WalkItems {
    /// How many items were collected, held or not.
    pub count: u64,
    /// `limits.items_in_memory` when the walk ran.
    pub limit: u64,
    /// The file of the run folder holding every item, one JSON line each, when there
    /// were more than `limit`: its name, and its path.
    pub file: Option<(String, Arc<Path>)>,
    /// Outcomes of `items:` checks judged as the pages came, by check ([`super::key_of`]).
    pub judged: Vec<(usize, Outcome)>,
}

impl WalkItems {
    /// Why the items cannot be read whole: they were not held. `what` says who wanted
    /// them (`` `steps.orders.items` cannot be read whole ``).
    pub fn refusal(&self, what: &str) -> Option<String> {
        let (name, _) = self.file.as_ref()?;
        Some(format!(
            "{what}: the walk collected {} items, more than limits.items_in_memory ({}), so they are not held in memory; they are in `{name}` in the run folder, one JSON line each. Check them with `items:` assertions (all/any/none over `$[*]…`, or `length`) or a reconcile side `items: <step id>`, which read them as they stream, or raise `limits: {{ items_in_memory: {} }}` to hold them",
            self.count, self.limit, self.count
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_when_first_read() {
        assert_eq!(
            LazyJson::of_text(Arc::from("{\"a\": 1}")).doc(),
            Some(&serde_json::json!({"a": 1}))
        );
        assert_eq!(LazyJson::of_text(Arc::from("not json")).doc(), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.body");
        std::fs::write(&path, "[1, 2]").unwrap();
        let lazy = LazyJson::of_file(Arc::from(path.as_path()));
        assert_eq!(lazy.doc(), Some(&serde_json::json!([1, 2])));
        assert_eq!(LazyJson::default().doc(), None);
    }
}

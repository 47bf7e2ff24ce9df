//! A source map for YAML text: from a [`YamlPath`] to where its key and value are.

use std::collections::HashMap;

use super::map_build;
use super::path::{PathSeg, YamlPath};
use super::span::Span;
use super::tree::NodeTree;
pub use super::tree::SyntaxError;

/// Where each node of the first YAML document of a text is.
///
/// Value spans: scalars cover their token on its first line (quotes
/// included; block scalars `|`/`>` cover their first content line, as
/// yaml-rust2 reports them there); aliases cover the
/// `*name` token; block collections are a one-character span at their start
/// (the first key or the first `-`); flow collections written on one line
/// cover `{...}`/`[...]`, otherwise their opening bracket. An implicit null
/// (`key:` with nothing after it) points at its key. Only scalar keys are
/// indexed; nodes under complex keys, aliases and duplicate keys are not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceMap {
    tree: NodeTree,
}

impl SourceMap {
    /// Parses `text` and records the spans of the first document's nodes.
    ///
    /// An empty text (or one with only comments) gives an empty map. Later
    /// documents are not parsed.
    pub fn build(text: &str) -> Result<SourceMap, SyntaxError> {
        map_build::build(text).map(|tree| SourceMap { tree })
    }

    /// The span of the value at `path`.
    pub fn value(&self, path: &YamlPath) -> Option<Span> {
        self.tree.get(path).map(|n| n.value)
    }

    /// The span of the key whose value is at `path` (mapping entries only).
    pub fn key(&self, path: &YamlPath) -> Option<Span> {
        self.tree.get(path).and_then(|n| n.key)
    }

    /// The key span at `path` if it is a mapping entry, else its value span.
    pub fn key_or_value(&self, path: &YamlPath) -> Option<Span> {
        self.tree.get(path).map(|n| n.key.unwrap_or(n.value))
    }

    /// The value span of `path`, or of its closest ancestor that exists.
    ///
    /// Meant for errors about missing fields. `None` only when the map is
    /// empty (no document).
    pub fn nearest(&self, path: &YamlPath) -> Option<Span> {
        let mut current = path.clone();
        loop {
            if let Some(node) = self.tree.get(&current) {
                return Some(node.value);
            }
            current.pop()?;
        }
    }

    /// The keys of the mapping at `path`, in source order; empty if `path`
    /// is not a mapping.
    pub fn keys_of(&self, path: &YamlPath) -> Vec<String> {
        self.tree
            .get(path)
            .and_then(|n| n.keys.clone())
            .unwrap_or_default()
    }

    /// The widest key or value token starting at `line:col` (1-based), if any.
    pub fn token_at(&self, line: usize, col: usize) -> Option<Span> {
        self.tree
            .nodes
            .iter()
            .flat_map(|n| n.key.into_iter().chain([n.value]))
            .filter(|s| s.line == line && s.col == col)
            .max_by_key(|s| s.len)
    }

    /// True if a node exists at `path`.
    pub fn contains(&self, path: &YamlPath) -> bool {
        self.tree.find(path).is_some()
    }

    /// True if no document was found.
    pub fn is_empty(&self) -> bool {
        self.tree.nodes.is_empty()
    }

    /// The path of every recorded node, the root first.
    pub fn paths(&self) -> Vec<YamlPath> {
        let mut parent: HashMap<u32, (u32, &PathSeg)> = HashMap::new();
        for ((p, seg), id) in &self.tree.children {
            parent.insert(*id, (*p, seg));
        }
        (0..self.tree.nodes.len() as u32)
            .map(|id| {
                let mut segs = Vec::new();
                let mut at = id;
                while let Some((p, seg)) = parent.get(&at) {
                    segs.push((*seg).clone());
                    at = *p;
                }
                segs.reverse();
                segs.into_iter().collect()
            })
            .collect()
    }
}

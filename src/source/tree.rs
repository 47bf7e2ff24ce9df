//! Source: what the source map records — the nodes of a YAML document as a tree, each
//! with the spans of its key and value — and the syntax error that stops it.
use std::collections::HashMap;

use super::diag::{Diagnostic, Severity};
use super::path::{PathSeg, YamlPath};
use super::span::Span;

/// A YAML syntax error with the position the scanner reported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {}, column {}", span.line, span.col)]
pub struct SyntaxError {
    /// The scanner's message, e.g. `mapping values are not allowed in this context`.
    pub message: String,
    /// Where the error was detected (1-based).
    pub span: Span,
}

impl SyntaxError {
    /// An error diagnostic for this syntax error, optionally naming the file.
    pub fn to_diagnostic(&self, file: Option<&str>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: format!("invalid YAML: {}", self.message),
            file: file.map(str::to_owned),
            span: Some(self.span),
            notes: Vec::new(),
            help: None,
        }
    }
}

/// What the map knows about one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    /// The value: a scalar token, an alias token, or the start of a collection.
    pub(crate) value: Span,
    /// The key token, for values of mapping entries.
    pub(crate) key: Option<Span>,
    /// The keys in source order, for mappings; `None` for other nodes.
    pub(crate) keys: Option<Vec<String>>,
}

/// The recorded nodes as a tree: each node is found from its parent by one key or
/// index, so building costs the same whatever the depth (a table keyed by whole paths
/// hashes and copies every path: time and memory grow with the square of the depth).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeTree {
    /// The nodes; the root (when there is a document) is the first.
    pub(crate) nodes: Vec<NodeInfo>,
    /// (parent, key or index) → child.
    pub(crate) children: HashMap<(u32, PathSeg), u32>,
}

impl NodeTree {
    /// The node at `path`.
    pub(crate) fn find(&self, path: &YamlPath) -> Option<u32> {
        if self.nodes.is_empty() {
            return None;
        }
        path.segments().iter().try_fold(0u32, |id, seg| {
            self.children.get(&(id, seg.clone())).copied()
        })
    }

    pub(crate) fn get(&self, path: &YamlPath) -> Option<&NodeInfo> {
        self.find(path).and_then(|id| self.nodes.get(id as usize))
    }
}

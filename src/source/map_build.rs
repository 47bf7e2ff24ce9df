//! Building the source map (`SourceMap`) from yaml-rust2's marked events.

use std::panic::{AssertUnwindSafe, catch_unwind};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::file::split_lines;
use super::path::PathSeg;
use super::span::Span;
use super::token;
use super::tree::{NodeInfo, NodeTree, SyntaxError};

/// How many lines to look back for the `-` of an empty sequence entry.
const LOOKBACK_LINES: usize = 50;
/// Nodes nested deeper than this are not recorded (serde_yaml stops at 128
/// too).
const MAX_DEPTH: usize = 128;

/// Parses the first document of `text` and returns the node table.
pub(super) fn build(text: &str) -> Result<NodeTree, SyntaxError> {
    let first = guarded_run(text);
    match first {
        // yaml-rust2 is stricter about tabs than libyaml (serde_yaml), e.g.
        // it rejects `key:<TAB>value`. Tabs are one character like spaces,
        // so spans stay the same when retrying with tabs turned into spaces;
        // real tab problems are still reported by serde_yaml.
        Err(_) if text.contains('\t') => guarded_run(&text.replace('\t', " ")).or(first),
        _ => first,
    }
}

/// Runs the builder, turning a parser panic into a syntax error.
fn guarded_run(text: &str) -> Result<NodeTree, SyntaxError> {
    // yaml-rust2 is not supposed to panic, but it has internal `unwrap`s and
    // `unreachable!`s; a config file must never crash us, so guard anyway.
    match catch_unwind(AssertUnwindSafe(|| Builder::new(text).run())) {
        Ok(result) => result,
        Err(_) => Err(SyntaxError {
            message: "internal YAML parser error".to_owned(),
            span: Span::point(1, 1),
        }),
    }
}

/// A collection being filled.
struct Frame {
    /// Its node and depth, or `None` when nothing under it is recorded.
    node: Option<(u32, usize)>,
    kind: FrameKind,
    /// Where it starts (for measuring one-line flow collections).
    start: Marker,
    /// Whether the first key's position should become the mapping's span.
    start_at_first_key: bool,
}

enum FrameKind {
    Seq {
        next: usize,
    },
    Map {
        /// `None` while expecting a key; `Some` once the key was read.
        pending: Option<PendingKey>,
    },
}

/// A mapping key waiting for its value.
struct PendingKey {
    /// The key text, or `None` for keys we cannot name (collections, aliases).
    name: Option<String>,
    span: Span,
}

/// Where a node sits in its parent.
enum Role {
    Key,
    Value {
        /// The parent node, the key or index under it, and the depth.
        slot: Option<Slot>,
        key: Option<Span>,
        in_seq: bool,
    },
}

/// Where a value goes: the root, or under a recorded node.
enum Slot {
    Root,
    Child(u32, PathSeg, usize),
}

struct Builder<'t> {
    text: &'t str,
    lines: Vec<&'t str>,
    /// The characters of each line: a token is measured from its column without
    /// walking the line again (a 1 MB scenario on one line would cost a walk per node).
    chars: Vec<Vec<char>>,
    tree: NodeTree,
    stack: Vec<Frame>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        let lines: Vec<&str> = split_lines(text).collect();
        Builder {
            text,
            chars: lines.iter().map(|l| l.chars().collect()).collect(),
            lines,
            tree: NodeTree::default(),
            stack: Vec::new(),
        }
    }

    fn run(mut self) -> Result<NodeTree, SyntaxError> {
        let mut parser = Parser::new_from_str(self.text);
        let mut seen_node = false;
        loop {
            let (event, mark) = parser.next_token().map_err(|e| self.syntax_error(&e))?;
            match event {
                Event::StreamEnd => break,
                Event::DocumentEnd if seen_node => break,
                Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..) => {
                    seen_node = true;
                    // An empty sequence entry's mark points past the next
                    // entry's `-`, unless it is the last entry.
                    let last_entry = if token::is_implicit_null(&event) {
                        match parser.peek() {
                            Ok((next, _)) => *next == Event::SequenceEnd,
                            Err(e) => return Err(self.syntax_error(&e)),
                        }
                    } else {
                        false
                    };
                    self.node(&event, mark, last_entry);
                }
                Event::MappingEnd | Event::SequenceEnd => self.end(mark),
                _ => {}
            }
        }
        Ok(self.tree)
    }

    /// The characters of line `line` (1-based) from `col0` (0-based) on.
    fn rest(&self, line: usize, col0: usize) -> &[char] {
        line.checked_sub(1)
            .and_then(|i| self.chars.get(i))
            .and_then(|l| l.get(col0..))
            .unwrap_or_default()
    }

    /// Records a node; returns its id, or `None` when it is not recorded (too deep, or
    /// under a key seen before: the first occurrence is kept).
    fn record(&mut self, slot: Slot, info: NodeInfo) -> Option<(u32, usize)> {
        let id = u32::try_from(self.tree.nodes.len()).ok()?;
        let depth = match slot {
            Slot::Root if self.tree.nodes.is_empty() => 0,
            Slot::Root => return None,
            Slot::Child(parent, seg, depth) => {
                if depth > MAX_DEPTH {
                    return None;
                }
                match self.tree.children.entry((parent, seg)) {
                    std::collections::hash_map::Entry::Occupied(_) => return None,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(id);
                    }
                }
                depth
            }
        };
        self.tree.nodes.push(info);
        Some((id, depth))
    }

    fn role(&mut self) -> Role {
        let Some(top) = self.stack.last_mut() else {
            return Role::Value {
                slot: Some(Slot::Root),
                key: None,
                in_seq: false,
            };
        };
        match &mut top.kind {
            FrameKind::Seq { next } => {
                let index = *next;
                *next += 1;
                Role::Value {
                    slot: top
                        .node
                        .map(|(id, depth)| Slot::Child(id, PathSeg::Index(index), depth + 1)),
                    key: None,
                    in_seq: true,
                }
            }
            FrameKind::Map { pending } => match pending.take() {
                None => Role::Key,
                Some(k) => Role::Value {
                    slot: match (top.node, k.name) {
                        (Some((id, depth)), Some(name)) => {
                            Some(Slot::Child(id, PathSeg::Key(name), depth + 1))
                        }
                        _ => None,
                    },
                    key: Some(k.span),
                    in_seq: false,
                },
            },
        }
    }

    fn node(&mut self, event: &Event, mark: Marker, last_entry: bool) {
        let role = self.role();
        let span = self.clamp(self.node_span(event, mark, &role, last_entry));
        let node = match role {
            Role::Key => {
                self.set_key(event, span);
                None
            }
            Role::Value { slot, key, .. } => slot.and_then(|slot| {
                let keys = matches!(event, Event::MappingStart(..)).then(Vec::new);
                let info = NodeInfo {
                    value: span,
                    key,
                    keys,
                };
                self.record(slot, info)
            }),
        };
        let kind = match event {
            Event::MappingStart(..) => FrameKind::Map { pending: None },
            Event::SequenceStart(..) => FrameKind::Seq { next: 0 },
            _ => return,
        };
        let opener = self.rest(mark.line(), mark.col()).first().copied();
        self.stack.push(Frame {
            node,
            kind,
            start: mark,
            // Block mappings are reported at their first `:`; use the first key.
            start_at_first_key: matches!(event, Event::MappingStart(..)) && opener != Some('{'),
        });
    }

    /// Records a mapping key read at the top frame.
    fn set_key(&mut self, event: &Event, span: Span) {
        let name = match event {
            Event::Scalar(value, ..) => Some(value.clone()),
            _ => None,
        };
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        let first_key = std::mem::take(&mut top.start_at_first_key);
        if let Some((id, _)) = top.node {
            // A key seen before already has its value recorded.
            let duplicate = name.as_ref().is_none_or(|n| {
                self.tree
                    .children
                    .contains_key(&(id, PathSeg::Key(n.clone())))
            });
            if let Some(node) = self.tree.nodes.get_mut(id as usize) {
                if first_key {
                    node.value = Span::point(span.line, span.col);
                }
                if let (Some(keys), Some(name), false) = (node.keys.as_mut(), &name, duplicate) {
                    keys.push(name.clone());
                }
            }
        }
        if let FrameKind::Map { pending } = &mut top.kind {
            *pending = Some(PendingKey { name, span });
        }
    }

    fn node_span(&self, event: &Event, mark: Marker, role: &Role, last_entry: bool) -> Span {
        let (line, col0) = (mark.line(), mark.col());
        let at = |len| Span::new(line, col0 + 1, len);
        let rest = self.rest(line, col0);
        match event {
            Event::Scalar(value, style, ..) if value.is_empty() && !token::is_quoted(*style) => {
                match role {
                    Role::Value { key: Some(k), .. } => *k,
                    Role::Value { in_seq: true, .. } if token::is_implicit_null(event) => {
                        let mut found = self.previous_token(line, col0);
                        if !last_entry {
                            found = found.and_then(|s| self.previous_token(s.line, s.col - 1));
                        }
                        found.unwrap_or(at(1))
                    }
                    _ => at(1),
                }
            }
            Event::Scalar(value, style, ..) => at(match style {
                TScalarStyle::Plain => token::plain_len(rest, value),
                TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => token::quoted_len(rest),
                // Block scalars are reported at their first content line.
                TScalarStyle::Literal | TScalarStyle::Folded => token::trimmed_len(rest),
            }),
            Event::Alias(_) => at(token::alias_len(rest)),
            // Indentless sequences (`key:` then `- a` at the same indent) are
            // reported after their first `-`.
            Event::SequenceStart(..) if !matches!(rest.first(), Some('-' | '[')) => {
                self.previous_token(line, col0).unwrap_or(at(1))
            }
            _ => at(1),
        }
    }

    /// On the end of a collection: pop it, and widen one-line flow collections.
    fn end(&mut self, mark: Marker) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let Some((id, _)) = frame.node else {
            return;
        };
        let start = frame.start;
        let opener = self.rest(start.line(), start.col()).first().copied();
        let closer = self.rest(mark.line(), mark.col()).first().copied();
        let one_line_flow = matches!(
            (opener, closer),
            (Some('{'), Some('}')) | (Some('['), Some(']'))
        ) && mark.line() == start.line()
            && mark.col() > start.col();
        if one_line_flow && let Some(node) = self.tree.nodes.get_mut(id as usize) {
            node.value.len = mark.col() - start.col() + 1;
        }
    }

    /// The last non-blank, non-comment character before `line:col0`, e.g. the
    /// `-` of an empty sequence entry (whose event points at the next token).
    fn previous_token(&self, line: usize, col0: usize) -> Option<Span> {
        let mut limit = Some(col0);
        for l in (line.saturating_sub(LOOKBACK_LINES).max(1)..=line).rev() {
            let Some(chars) = self.chars.get(l - 1) else {
                limit = None;
                continue;
            };
            let upto = limit.map_or(chars.len(), |c| c.min(chars.len()));
            let mut slice = &chars[..upto];
            let comment = (0..slice.len())
                .find(|&i| slice[i] == '#' && (i == 0 || slice[i - 1].is_whitespace()));
            if let Some(p) = comment {
                slice = &slice[..p];
            }
            if let Some(i) = slice.iter().rposition(|c| !c.is_whitespace()) {
                return Some(Span::point(l, i + 1));
            }
            limit = None;
        }
        None
    }

    /// Moves a span that lies past the end of its line or of the text (the
    /// scanner reports end of input on a virtual extra line) to the end of
    /// the last existing line.
    fn clamp(&self, span: Span) -> Span {
        let line = span.line.min(self.lines.len()).max(1);
        let width = self.chars.get(line - 1).map_or(0, Vec::len);
        let col = if line < span.line {
            width + 1
        } else {
            span.col.min(width + 1)
        };
        Span::new(line, col, span.len)
    }

    /// Converts a scan error, moving end-of-input errors to just after the
    /// last non-blank character so the caret lands on something visible.
    fn syntax_error(&self, err: &ScanError) -> SyntaxError {
        let mark = err.marker();
        let total = self.text.chars().count();
        let span = if mark.index() >= total || mark.line() > self.lines.len() {
            self.lines
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, l)| {
                    let trimmed = l.trim_end().chars().count();
                    (trimmed > 0).then(|| Span::point(i + 1, trimmed + 1))
                })
                .unwrap_or(Span::point(1, 1))
        } else {
            self.clamp(Span::point(mark.line(), mark.col() + 1))
        };
        SyntaxError {
            message: err.info().to_owned(),
            span,
        }
    }
}

//! Assert stage: `items:` checks judged as a page walk's items stream by — page by page
//! while the walk runs, or line by line from its `.items.jsonl` when there were more
//! items than `limits.items_in_memory` — without holding the items. The outcome is the
//! one the same check gives over the items held in memory (a test holds the two
//! together): `all`/`any`/`none` over `$[*]…`, and `length` (with `exists`, `type`) of
//! `$` or of `$[*]…`.
use std::io::BufRead;
use std::path::Path;

use jsonpath_rust::parser::model::{Segment, Selector};
use serde_json::Value;

use super::jsonpath::select;
use super::observation::Observation;
use super::plan::{Check, Subject};
use super::predicate::{
    Expected, FAILING_SHOWN, Outcome, describe, render_expected, short, summarize, test,
};
use crate::scenario::Quantifier;
use crate::template::Templates;

/// A check's identity while a step runs: its address in the plan (the walk and the
/// step's assertions read the same compiled checks).
pub fn key_of(check: &Check) -> usize {
    check as *const Check as usize
}

/// How a check is judged without the items whole.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// `all`/`any`/`none` over the values of `$[*]…`.
    Each,
    /// An inline `length`/`exists`/`type` of what `$[*]…` selects.
    Selection,
    /// An inline `length`/`exists`/`type` of `$`, the list of items itself.
    Whole,
}

fn mode(check: &Check) -> Option<Mode> {
    let Subject::Items(q, _) = &check.subject else {
        return None;
    };
    // Each item alone decides what `$[*]…` selects of it, so pages concatenate.
    let per_item = matches!(
        q.segments.first(),
        Some(Segment::Selector(Selector::Wildcard))
    );
    match check.quantifier {
        Quantifier::Value => {
            let p = &check.predicate;
            let counted = p.ops.is_empty()
                && p.matches.is_none()
                && p.not_matches.is_none()
                && p.lines.is_none();
            match (counted, q.segments.is_empty(), per_item) {
                (true, true, _) => Some(Mode::Whole),
                (true, false, true) => Some(Mode::Selection),
                _ => None,
            }
        }
        _ => per_item.then_some(Mode::Each),
    }
}

/// The `items:` checks among `checks`, nested ones included.
pub fn items_checks<'a>(checks: &'a [Check], out: &mut Vec<&'a Check>) {
    for c in checks {
        match &c.subject {
            Subject::Items(..) => out.push(c),
            Subject::AllOf(list) | Subject::AnyOf(list) => items_checks(list, out),
            _ => {}
        }
    }
}

/// One check judged over items as they come.
pub struct ItemsTally {
    mode: Mode,
    /// The path past its first `[*]`: what one item gives.
    rest: jsonpath_rust::parser::model::JpQuery,
    expected: Expected,
    /// Values selected (items, for `$`).
    total: usize,
    passing: usize,
    failing: Vec<String>,
    /// The first value selected.
    first: Option<Value>,
    /// The start of the selection written as a JSON list, as the report shows it.
    shown: String,
    cut: bool,
}

impl ItemsTally {
    /// A tally for `check`, its expected values rendered in `ctx`; None when the check
    /// cannot be judged item by item, or its expected values cannot be rendered here.
    pub fn start(check: &Check, t: &Templates, ctx: &minijinja::Value) -> Option<ItemsTally> {
        let mode = mode(check)?;
        let expected = render_expected(&check.predicate, t, ctx).ok()?;
        let Subject::Items(q, _) = &check.subject else {
            return None;
        };
        let rest = jsonpath_rust::parser::model::JpQuery::new(
            q.segments.iter().skip(1).cloned().collect(),
        );
        Some(ItemsTally {
            mode,
            rest,
            expected,
            total: 0,
            passing: 0,
            failing: Vec::new(),
            first: None,
            shown: String::new(),
            cut: false,
        })
    }

    /// Takes in the next items (`chunk`, a list).
    pub fn feed(&mut self, check: &Check, chunk: &Value) {
        let items: Vec<&Value> = chunk.as_array().into_iter().flatten().collect();
        self.feed_items(check, &items);
    }

    /// Takes in the next items.
    pub fn feed_items(&mut self, check: &Check, items: &[&Value]) {
        if self.mode == Mode::Whole {
            for item in items {
                self.total += 1;
                self.show(item);
            }
            return;
        }
        // `$[*]…` over the list is `…` over each item, in order.
        for item in items {
            for v in select(&self.rest, item) {
                self.take(check, v);
            }
        }
    }

    fn take(&mut self, check: &Check, v: &Value) {
        let i = self.total;
        self.total += 1;
        if self.mode == Mode::Selection {
            if self.first.is_none() {
                self.first = Some(v.clone());
            }
            self.show(v);
            return;
        }
        match test(&check.predicate, &self.expected, Some(v)) {
            Ok(()) => self.passing += 1,
            Err(why) => {
                if self.failing.len() < FAILING_SHOWN {
                    self.failing.push(format!("[{i}] {} ({why})", short(v)));
                }
            }
        }
    }

    /// Adds `v` to the shown start of the list, until it is longer than the report shows.
    fn show(&mut self, v: &Value) {
        if self.cut {
            return;
        }
        self.shown
            .push(if self.shown.is_empty() { '[' } else { ',' });
        self.shown.push_str(&v.to_string());
        if self.shown.chars().count() > 121 {
            self.cut = true;
        }
    }

    /// The outcome, as the check over the items held would give it.
    pub fn finish(self, check: &Check) -> Outcome {
        let Subject::Items(_, src) = &check.subject else {
            return (false, String::new(), String::new(), String::new(), None);
        };
        let label = format!("items {src}");
        let p = &check.predicate;
        let expected_text = describe(p, &self.expected);
        if self.mode == Mode::Each {
            return summarize(
                check.quantifier,
                label,
                expected_text,
                (self.total, self.passing),
                self.failing,
                check.allow_empty,
            );
        }
        let (actual, verdict) = match (self.mode, self.total, &self.first) {
            (Mode::Selection, 0, _) => ("nothing".to_string(), test(p, &self.expected, None)),
            (Mode::Selection, 1, Some(v)) => (short(v), test(p, &self.expected, Some(v))),
            _ => {
                let text = if self.cut {
                    self.shown
                } else if self.shown.is_empty() {
                    "[]".to_string()
                } else {
                    self.shown + "]"
                };
                (
                    short(&Value::String(text)),
                    counted(check, &self.expected, self.total),
                )
            }
        };
        match verdict {
            Ok(()) => (true, label, expected_text, actual, None),
            Err(why) => (false, label, expected_text, actual, Some(why)),
        }
    }
}

/// `test` of a list of `n` values, for a predicate of `length`, `exists` and `type`.
fn counted(check: &Check, e: &Expected, n: usize) -> Result<(), String> {
    let p = &check.predicate;
    if p.exists == Some(false) {
        return Err("a value exists".into());
    }
    if let (Some(lp), Some(le)) = (&p.length, &e.length) {
        test(lp, le, Some(&Value::from(n))).map_err(|why| format!("length {n}: {why}"))?;
    }
    if let Some(ty) = &p.type_name {
        if ty != "array" {
            return Err(format!("is array, not {ty}"));
        }
    }
    Ok(())
}

/// The outcome of an `items:` check on a walk's items that were not held in memory
/// whole, or judged as the pages came; None when they are to be judged in memory.
pub(super) fn judged(
    check: &Check,
    obs: &Observation,
    t: &Templates,
    ctx: &minijinja::Value,
) -> Option<Outcome> {
    let walk = obs.walk.as_deref()?;
    let key = key_of(check);
    if let Some((_, o)) = walk.judged.iter().find(|(k, _)| *k == key) {
        return Some(o.clone());
    }
    let (name, path) = walk.file.as_ref()?;
    let Subject::Items(_, src) = &check.subject else {
        return None;
    };
    let label = format!("items {src}");
    let fail = |msg: String| {
        (
            false,
            label.clone(),
            "?".into(),
            "not evaluated".into(),
            Some(msg),
        )
    };
    if mode(check).is_none() {
        let why = walk
            .refusal("this check needs the items whole, which")
            .unwrap_or_default();
        return Some(fail(format!(
            "{why}; item by item, a check reads `$[*]…` with all/any/none, or `length` of `$` or `$[*]…`"
        )));
    }
    let Some(mut tally) = ItemsTally::start(check, t, ctx) else {
        let why = render_expected(&check.predicate, t, ctx).err();
        return Some(fail(why.unwrap_or_default()));
    };
    match read_lines(path, 1000, |chunk| tally.feed(check, chunk)) {
        Ok(_) => Some(tally.finish(check)),
        Err(e) => Some(fail(format!("cannot read `{name}`: {e}"))),
    }
}

/// Reads a JSON-lines file in lists of up to `per_chunk` values; returns how many.
pub fn read_lines(
    path: &Path,
    per_chunk: usize,
    mut each: impl FnMut(&Value),
) -> std::io::Result<u64> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut chunk = Vec::with_capacity(per_chunk);
    let mut n = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {}: {e}", n + 1),
            )
        })?;
        n += 1;
        chunk.push(v);
        if chunk.len() == per_chunk {
            let list = Value::Array(std::mem::take(&mut chunk));
            each(&list);
        }
    }
    if !chunk.is_empty() {
        each(&Value::Array(chunk));
    }
    Ok(n)
}

#[cfg(test)]
mod tests;

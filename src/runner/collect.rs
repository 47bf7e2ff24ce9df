//! Run stage: what a page walk collects — the items, held in memory up to
//! `limits.items_in_memory` and beyond it written, one JSON line each with secrets
//! masked, to `<step id>.items.jsonl` in the run folder (then none is held) — and the
//! step's `items:` checks, judged page by page as the items come.
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::assert::{Check, ItemsTally, WalkItems, items_checks, key_of};
use crate::exec::SpillWriter;
use crate::secrets::Redactor;

/// The name of the file a walk's items go to when they are too many to hold.
pub(crate) fn items_file_name(step_id: &str) -> String {
    format!("{step_id}.items.jsonl")
}

/// Where a walk puts what it collects.
pub(crate) struct Collector<'a> {
    limit: u64,
    held: Vec<Value>,
    count: u64,
    file: Option<Box<dyn SpillWriter>>,
    out_dir: &'a Path,
    name: String,
    redactor: &'a Redactor,
    tallies: Vec<(&'a Check, ItemsTally)>,
    /// Up to 256 items' lines, written at once.
    lines: Vec<u8>,
}

impl<'a> Collector<'a> {
    /// A collector for the walk of step `step_id`; `checks` are the step's assertions,
    /// whose `items:` checks that can be judged item by item (their expected values
    /// rendered in `ctx`) are judged as the pages come.
    pub(crate) fn new(
        limit: u64,
        out_dir: &'a Path,
        step_id: &str,
        redactor: &'a Redactor,
        checks: &'a [Check],
        judge: impl Fn(&Check) -> Option<ItemsTally>,
    ) -> Self {
        let mut found = Vec::new();
        items_checks(checks, &mut found);
        let tallies = found
            .into_iter()
            .filter_map(|c| judge(c).map(|t| (c, t)))
            .collect();
        Collector {
            limit,
            held: Vec::new(),
            count: 0,
            file: None,
            out_dir,
            name: items_file_name(step_id),
            redactor,
            tallies,
            lines: Vec::new(),
        }
    }

    /// How many items were collected so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Takes one page's items (copied only when they are held).
    pub(crate) fn push(&mut self, page: &[&Value]) -> Result<(), String> {
        for (check, tally) in &mut self.tallies {
            tally.feed_items(check, page);
        }
        self.count += page.len() as u64;
        if self.file.is_none() && self.count > self.limit {
            // Too many to hold: every item so far, and every one after, goes to the file.
            let file = super::body_file::open_body_file(self.out_dir, &self.name, self.redactor)
                .map_err(|e| self.cannot(e))?;
            self.file = Some(file);
            let held = std::mem::take(&mut self.held);
            let refs: Vec<&Value> = held.iter().collect();
            self.write(&refs)?;
        }
        if self.file.is_some() {
            self.write(page)
        } else {
            self.held.extend(page.iter().map(|v| (*v).clone()));
            Ok(())
        }
    }

    fn write(&mut self, items: &[&Value]) -> Result<(), String> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        for chunk in items.chunks(256) {
            self.lines.clear();
            for item in chunk {
                // Writing JSON into memory cannot fail.
                let _ = serde_json::to_writer(&mut self.lines, item);
                self.lines.push(b'\n');
            }
            // serde_json writes UTF-8.
            let text = std::str::from_utf8(&self.lines).unwrap_or_default();
            file.write(text).map_err(|e| {
                format!(
                    "cannot write {}: {e}",
                    self.out_dir.join(&self.name).display()
                )
            })?;
        }
        Ok(())
    }

    fn cannot(&self, e: std::io::Error) -> String {
        format!(
            "cannot write {}: {e}",
            self.out_dir.join(&self.name).display()
        )
    }

    /// The items held (none when they went to the file) and what the walk collected.
    pub(crate) fn finish(self) -> Result<(Option<Arc<Value>>, WalkItems), String> {
        let judged = self
            .tallies
            .into_iter()
            .map(|(c, t)| (key_of(c), t.finish(c)))
            .collect();
        let mut walk = WalkItems {
            count: self.count,
            limit: self.limit,
            file: None,
            judged,
        };
        match self.file {
            None => Ok((Some(Arc::new(Value::Array(self.held))), walk)),
            Some(file) => {
                let (name, path) = file.finish().map_err(|e| {
                    format!(
                        "cannot write {}: {e}",
                        self.out_dir.join(&self.name).display()
                    )
                })?;
                walk.file = Some((name, Arc::from(path.as_path())));
                Ok((None, walk))
            }
        }
    }
}

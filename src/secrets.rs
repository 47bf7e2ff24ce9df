//! Record stage: the Redactor every outgoing byte passes through — console, logs,
//! artifacts, results.json and reports.
use std::sync::{Arc, RwLock};

/// The mask written in place of a secret.
pub const MASK: &str = "***";

/// Whether an env variable name marks a secret by itself.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "PASSWORD", "SECRET", "KEY"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Replaces secret values, and every encoded form of them the engine can produce, with
/// `***`. Clones share one set of secrets: a secret added during the run (a captured
/// token) is masked from then on by every writer holding a clone — the console, the
/// program logs, the record files.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    shared: Arc<RwLock<Arc<Needles>>>,
}

/// The needles of a set of secrets, and one automaton over them all.
#[derive(Debug, Default)]
struct Needles {
    secrets: Vec<String>,
    needles: Vec<String>,
    // Every needle at once: one pass over a text whatever the number of secret forms.
    // Should it ever fail to build, the needles are searched one by one (never unmasked).
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Needles {
    fn build(secrets: Vec<String>) -> Needles {
        let mut needles: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for secret in &secrets {
            for variant in encodings(secret) {
                if variant.len() >= 4 && seen.insert(variant.clone()) {
                    needles.push(variant);
                }
            }
        }
        let matcher = (!needles.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&needles).ok())
            .flatten();
        Needles {
            secrets,
            needles,
            matcher,
        }
    }
}

/// The shortest secret that is masked: masking every `1` would make the evidence
/// unreadable, and such values are not secrets anyone can steal.
const MIN_SECRET_CHARS: usize = 4;

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored).
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let redactor = Redactor::default();
        redactor.add(secrets);
        redactor
    }

    /// Adds secrets (a token captured during the run): every clone masks them from now on.
    pub fn add<I: IntoIterator<Item = String>>(&self, secrets: I) {
        let mut fresh: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .collect();
        if fresh.is_empty() {
            return;
        }
        let Ok(mut guard) = self.shared.write() else {
            return;
        };
        let mut all = guard.secrets.clone();
        fresh.retain(|s| !all.contains(s));
        if fresh.is_empty() {
            return;
        }
        all.extend(fresh);
        *guard = Arc::new(Needles::build(all));
    }

    /// Adds every secret `other` masks now: a suite's redactor takes in each scenario's,
    /// so the suite's files mask the union while each scenario's files keep their own.
    pub fn absorb(&self, other: &Redactor) {
        let theirs = other.current().secrets.clone();
        self.add(theirs);
    }

    fn current(&self) -> Arc<Needles> {
        match self.shared.read() {
            Ok(g) => g.clone(),
            // A writer panicked mid-update: keep masking with what was there.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The byte ranges to mask: every occurrence of every needle, overlapping ones
    /// merged, so a secret that overlaps another is masked whole; and, before a cut
    /// mark (`…`), the start of a needle that the cut left behind.
    fn spans(n: &Needles, text: &str) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = match &n.matcher {
            Some(matcher) => matcher
                .find_overlapping_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect(),
            None => n
                .needles
                .iter()
                .flat_map(|needle| {
                    text.match_indices(needle.as_str())
                        .map(|(i, m)| (i, i + m.len()))
                })
                .collect(),
        };
        if text.contains(CUT_MARK) {
            found.extend(cut_prefixes(&n.needles, text));
        }
        found.sort_unstable();
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match spans.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => spans.push((start, end)),
            }
        }
        spans
    }

    fn mask(text: &str, spans: &[(usize, usize)]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for &(start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Like [`Redactor::redact`], but keeps the text itself when nothing is secret (a
    /// 20 MB results.json is not copied).
    pub fn redact_owned(&self, text: String) -> String {
        let n = self.current();
        let spans = Self::spans(&n, &text);
        if spans.is_empty() {
            text
        } else {
            Self::mask(&text, &spans)
        }
    }

    /// Whether there is anything to mask.
    pub fn is_empty(&self) -> bool {
        self.current().needles.is_empty()
    }

    /// The text with every secret form masked.
    pub fn redact(&self, text: &str) -> String {
        Self::mask(text, &Self::spans(&self.current(), text))
    }

    /// Masks first, then cuts to `max_chars` characters followed by `…`: the cut never
    /// leaves the start of a secret at its edge.
    pub fn cut(&self, text: &str, max_chars: usize) -> String {
        let safe = self.redact(text);
        match safe.char_indices().nth(max_chars) {
            None => safe,
            Some((at, _)) => self.redact(&format!("{}{CUT_MARK}", &safe[..at])),
        }
    }

    /// Masks every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        let n = self.current();
        redact_json_with(&n, value);
    }

    /// A masker for a text that comes in pieces (a body streamed to a file): a secret
    /// split between two pieces is masked too.
    pub fn stream(&self) -> MaskStream {
        let needles = self.current();
        let keep = needles.needles.iter().map(String::len).max().unwrap_or(1) - 1;
        MaskStream {
            needles,
            keep,
            carry: String::new(),
        }
    }
}

/// Masks a text piece by piece, holding back the end of each piece that could be the
/// start of a secret (see [`Redactor::stream`]).
pub struct MaskStream {
    needles: Arc<Needles>,
    /// Bytes held back: the longest secret form less one.
    keep: usize,
    carry: String,
}

impl MaskStream {
    /// The next piece; returns what can be written so far, masked.
    pub fn push(&mut self, piece: &str) -> String {
        self.carry.push_str(piece);
        if self.needles.needles.is_empty() {
            return std::mem::take(&mut self.carry);
        }
        let text = &self.carry;
        let spans = Redactor::spans(&self.needles, text);
        let mut safe = text.len().saturating_sub(self.keep);
        while !text.is_char_boundary(safe) {
            safe -= 1;
        }
        // A secret that runs over the edge is held back whole.
        if let Some(&(start, _)) = spans.iter().find(|(s, e)| *s < safe && *e > safe) {
            safe = start;
        }
        let done: Vec<(usize, usize)> = spans.into_iter().filter(|(_, e)| *e <= safe).collect();
        let out = Redactor::mask(&text[..safe], &done);
        self.carry.drain(..safe);
        out
    }

    /// The rest, masked.
    pub fn finish(&mut self) -> String {
        let text = std::mem::take(&mut self.carry);
        let spans = Redactor::spans(&self.needles, &text);
        Redactor::mask(&text, &spans)
    }
}

fn redact_json_with(n: &Needles, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let spans = Redactor::spans(n, s);
            if !spans.is_empty() {
                *s = Redactor::mask(s, &spans);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json_with(n, v)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_json_with(n, v)),
        _ => {}
    }
}

/// What every cut in the engine ends with (an excerpt, a long assertion value, a body
/// cut at its size limit): the redactor masks a secret's start left before it.
pub const CUT_MARK: char = '…';

/// Spans of needle starts (of 4 characters or more) that end right before a cut mark.
fn cut_prefixes(needles: &[String], text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(CUT_MARK) {
        let before = &text[..at];
        for needle in needles {
            // The longest start of the needle that `before` ends with.
            let ends: Vec<usize> = needle.char_indices().map(|(i, _)| i).collect();
            let longest = ends
                .into_iter()
                .rev()
                .filter(|&len| len >= 4)
                .find(|&len| before.ends_with(&needle[..len]));
            if let Some(len) = longest {
                out.push((at - len, at));
            }
        }
    }
    out
}

mod encodings;
pub use encodings::encodings;

#[cfg(test)]
mod tests;

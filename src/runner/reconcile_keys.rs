//! Run stage: the keys of one reconcile side, compact — a key that is a whole number
//! (`4100000`, or the text `"4100000"` ClickHouse writes for a UInt64) as a `u64`, any
//! other in one string arena, each with the row it came from; measures kept only when
//! `compare` names them — and the sorted merge of two sides. Measured for 1,000,000
//! numeric keys: 15 MiB a side sorted like this; a `HashSet<u64>` 27 MiB (without the
//! order or the measures); a `HashMap<u64, u32>` and a list in first-seen order 58 MiB;
//! the `HashMap<String, …>` this replaced 248 MiB. The merge is in `reconcile_merge`.
use serde_json::Value;

/// A key as compared: two keys are the same when their texts are (`5` and `"5"` are).
pub(super) enum Key<'a> {
    Num(u64),
    Text(std::borrow::Cow<'a, str>),
}

/// The key a value gives; None for null (the row is left out).
pub(super) fn key_of(v: &Value) -> Option<Key<'_>> {
    Some(match v {
        Value::Null => return None,
        Value::Number(n) => match n.as_u64() {
            Some(u) => Key::Num(u),
            None => Key::Text(n.to_string().into()),
        },
        Value::String(s) => match whole_number(s) {
            Some(u) => Key::Num(u),
            None => Key::Text(s.as_str().into()),
        },
        other => Key::Text(other.to_string().into()),
    })
}

/// `s` as a `u64` when it is written exactly as that number is (no sign, no leading
/// zero), so the key's text is kept.
fn whole_number(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// One side's rows, by key.
#[derive(Default)]
pub(super) struct Keyed {
    /// Rows read.
    pub(super) rows: u64,
    /// Rows whose key was null.
    pub(super) left_out: u64,
    /// Numeric keys, each with its row (the rows with a key, counted from 0).
    pub(super) nums: Vec<(u64, u32)>,
    /// Other keys, as (start, length) in `arena`, and the row.
    pub(super) texts: Vec<(u32, u32, u32)>,
    pub(super) arena: String,
    /// Measures per row with a key, `width` each.
    width: usize,
    measures: Vec<Value>,
    next: u32,
}

impl Keyed {
    /// A side keeping `width` measures a row.
    pub(super) fn new(width: usize) -> Keyed {
        Keyed {
            width,
            ..Keyed::default()
        }
    }

    /// Makes room for `n` more rows with numeric keys (a side's size known beforehand:
    /// growing by doubling would hold the old list and the new one at once).
    pub(super) fn reserve(&mut self, n: usize) {
        self.nums.reserve_exact(n);
        self.measures.reserve_exact(n * self.width);
    }

    /// Takes one row: its key (None: left out) and its measures.
    pub(super) fn push(&mut self, key: Option<Key>, measures: Vec<Value>) -> Result<(), String> {
        self.rows += 1;
        let Some(key) = key else {
            self.left_out += 1;
            return Ok(());
        };
        let row = self.next;
        self.next = row
            .checked_add(1)
            .ok_or("more than 4,294,967,295 rows on one side")?;
        match key {
            Key::Num(n) => self.nums.push((n, row)),
            Key::Text(t) => {
                let start = u32::try_from(self.arena.len())
                    .ok()
                    .filter(|s| s.checked_add(t.len() as u32).is_some())
                    .ok_or("the keys of one side are more than 4 GiB of text")?;
                self.arena.push_str(&t);
                self.texts.push((start, t.len() as u32, row));
            }
        }
        self.measures.extend(
            measures
                .into_iter()
                .chain(std::iter::repeat(Value::Null))
                .take(self.width),
        );
        Ok(())
    }

    pub(super) fn measures_of(&self, row: u32) -> &[Value] {
        let at = row as usize * self.width;
        &self.measures[at..at + self.width]
    }

    /// Sorts the keys (by key, then row) for the merge.
    pub(super) fn sort(&mut self) {
        self.nums.sort_unstable();
        let arena = &self.arena;
        let text = |(s, l, _): &(u32, u32, u32)| &arena[*s as usize..(*s + *l) as usize];
        self.texts
            .sort_unstable_by(|a, b| text(a).cmp(text(b)).then(a.2.cmp(&b.2)));
    }
}

/// A key or value as text (`5`, `2025-11-04`).
pub(super) fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

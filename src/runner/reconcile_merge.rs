//! Run stage: the sorted merge of two reconcile sides (see `reconcile_keys`) — keys on
//! one side only, keys whose measures differ (summed per key, compared within the
//! tolerance) — every difference handed on in key order, the first few of each kind kept
//! in their side's order.
use std::cmp::Ordering;

use serde_json::Value;

use super::reconcile_keys::{Keyed, key_text};

/// The merge of two sides.
#[derive(Default)]
pub(super) struct Merged {
    pub(super) left_keys: u64,
    pub(super) right_keys: u64,
    pub(super) matched: u64,
    pub(super) only_left: u64,
    pub(super) only_right: u64,
    /// Keys with at least one measure different.
    pub(super) different: u64,
    /// The first keys of each kind, in the order their side gave them.
    pub(super) first_only_left: Vec<String>,
    pub(super) first_only_right: Vec<String>,
    /// The first differences: `{kind, key, measure, <left>, <right>}`.
    pub(super) first_differences: Vec<Value>,
}

/// What the merge needs besides the sides.
pub(super) struct MergeSpec<'a> {
    /// Compared per key: `count`, or a measure's name.
    pub(super) compare: &'a [String],
    /// The measures kept per row, in order (the names of `compare` but `count`).
    pub(super) measures: &'a [String],
    pub(super) tolerance: f64,
    pub(super) show: usize,
    /// The sides' names.
    pub(super) names: (&'a str, &'a str),
}

/// Merges the sorted sides; every difference goes to `line` (in key order), the first
/// `show` of each kind (in their side's order) into the result.
pub(super) fn merge(
    mut left: Keyed,
    mut right: Keyed,
    spec: &MergeSpec,
    line: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<Merged, String> {
    left.sort();
    right.sort();
    let mut m = Merged::default();
    let mut firsts = Firsts::default();
    let (l_nums, r_nums) = (
        std::mem::take(&mut left.nums),
        std::mem::take(&mut right.nums),
    );
    let cx = Merging {
        sides: (&left, &right),
        spec,
        m: &mut m,
        firsts: &mut firsts,
        line: &mut *line,
    };
    merge_runs(&l_nums, &r_nums, cx)?;
    drop((l_nums, r_nums));
    fn texts(k: &Keyed) -> Vec<(&str, u32)> {
        k.texts
            .iter()
            .map(|(s, l, r)| (&k.arena[*s as usize..(*s + *l) as usize], *r))
            .collect()
    }
    let (l_texts, r_texts) = (texts(&left), texts(&right));
    let cx = Merging {
        sides: (&left, &right),
        spec,
        m: &mut m,
        firsts: &mut firsts,
        line: &mut *line,
    };
    merge_runs(&l_texts, &r_texts, cx)?;
    m.first_only_left = firsts.only_left.take(spec.show);
    m.first_only_right = firsts.only_right.take(spec.show);
    m.first_differences = firsts.differences.take(spec.show);
    Ok(m)
}

/// The first few of a kind, by the order their side gave them.
struct FirstN<T>(Vec<(u64, T)>);

impl<T> Default for FirstN<T> {
    fn default() -> Self {
        FirstN(Vec::new())
    }
}

impl<T> FirstN<T> {
    fn push(&mut self, order: u64, item: T, n: usize) {
        self.0.push((order, item));
        if self.0.len() > 2 * n.max(8) {
            self.0.sort_unstable_by_key(|(o, _)| *o);
            self.0.truncate(n);
        }
    }

    fn take(mut self, n: usize) -> Vec<T> {
        self.0.sort_unstable_by_key(|(o, _)| *o);
        self.0.truncate(n);
        self.0.into_iter().map(|(_, t)| t).collect()
    }
}

#[derive(Default)]
struct Firsts {
    only_left: FirstN<String>,
    only_right: FirstN<String>,
    differences: FirstN<Value>,
}

/// The end of the run of entries sharing the key at `from`.
fn run_end<K: Ord>(v: &[(K, u32)], from: usize) -> usize {
    let mut end = from + 1;
    while end < v.len() && v[end].0 == v[from].0 {
        end += 1;
    }
    end
}

/// What the merge of one kind of key (numbers, then texts) works with.
struct Merging<'a> {
    sides: (&'a Keyed, &'a Keyed),
    spec: &'a MergeSpec<'a>,
    m: &'a mut Merged,
    firsts: &'a mut Firsts,
    line: &'a mut dyn FnMut(Value) -> Result<(), String>,
}

fn merge_runs<K: Ord + std::fmt::Display>(
    l: &[(K, u32)],
    r: &[(K, u32)],
    cx: Merging,
) -> Result<(), String> {
    let Merging {
        sides: (left, right),
        spec,
        m,
        firsts,
        line,
    } = cx;
    let (mut i, mut j) = (0, 0);
    let (ln, rn) = spec.names;
    while i < l.len() || j < r.len() {
        let order = match (l.get(i), r.get(j)) {
            (Some(a), Some(b)) => a.0.cmp(&b.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                let end = run_end(l, i);
                let key = l[i].0.to_string();
                m.left_keys += 1;
                m.only_left += 1;
                line(serde_json::json!({"kind": "only_left", "key": key}))?;
                firsts.only_left.push(l[i].1 as u64, key, spec.show);
                i = end;
            }
            Ordering::Greater => {
                let end = run_end(r, j);
                let key = r[j].0.to_string();
                m.right_keys += 1;
                m.only_right += 1;
                line(serde_json::json!({"kind": "only_right", "key": key}))?;
                firsts.only_right.push(r[j].1 as u64, key, spec.show);
                j = end;
            }
            Ordering::Equal => {
                let (li, rj) = (run_end(l, i), run_end(r, j));
                m.left_keys += 1;
                m.right_keys += 1;
                let key = l[i].0.to_string();
                let mut differs = false;
                for (n, name) in spec.compare.iter().enumerate() {
                    let a = measure(left, &l[i..li], name, spec.measures);
                    let b = measure(right, &r[j..rj], name, spec.measures);
                    if !same(&a, &b, spec.tolerance) {
                        differs = true;
                        let d = serde_json::json!({"kind": "different", "key": key, "measure": name, ln: a, rn: b});
                        line(d.clone())?;
                        let order = ((l[i].1 as u64) << 16) | n.min(0xffff) as u64;
                        firsts.differences.push(order, d, spec.show);
                    }
                }
                if differs {
                    m.different += 1;
                } else {
                    m.matched += 1;
                }
                (i, j) = (li, rj);
            }
        }
    }
    Ok(())
}

/// A measure over the rows of one key: `count`, or a value summed (numbers; whole
/// numbers stay whole) or else the first one.
fn measure<K>(side: &Keyed, run: &[(K, u32)], name: &str, names: &[String]) -> Value {
    if name == "count" {
        return Value::from(run.len() as u64);
    }
    let Some(at) = names.iter().position(|n| n == name) else {
        return Value::Null;
    };
    let mut total: Option<Value> = None;
    for (_, row) in run {
        let v = &side.measures_of(*row)[at];
        total = Some(match (total, number(v)) {
            (Some(prev), Some(n)) => match (prev.as_i64(), v.as_i64()) {
                (Some(a), Some(b)) => Value::from(a.saturating_add(b)),
                _ => number(&prev)
                    .map(|p| serde_json::json!(p + n))
                    .unwrap_or(v.clone()),
            },
            (Some(prev), None) => prev,
            (None, _) => v.clone(),
        });
    }
    total.unwrap_or(Value::Null)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn same(a: &Value, b: &Value, tolerance: f64) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= tolerance + f64::EPSILON * x.abs().max(y.abs()),
        _ => key_text(a) == key_text(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::reconcile_keys::key_of;
    use serde_json::json;

    fn side(rows: &[(Value, Value)]) -> Keyed {
        let mut k = Keyed::new(1);
        for (key, v) in rows {
            k.push(key_of(key), vec![v.clone()]).unwrap();
        }
        k
    }

    #[test]
    fn numbers_and_their_texts_are_one_key_and_the_first_keys_keep_their_order() {
        let left = side(&[
            (json!(9), json!(1)),
            (json!("5"), json!(2)),
            (json!(7), json!(3)),
            (json!("2025-11-04"), json!(10)),
            (json!("2025-11-04"), json!(5)),
            (json!(null), json!(0)),
            (json!("05"), json!(1)),
        ]);
        let right = side(&[
            (json!("5"), json!(2)),
            (json!("2025-11-04"), json!(16)),
            (json!(5), json!(0)),
            (json!(11), json!(1)),
        ]);
        assert_eq!((left.rows, left.left_out), (7, 1));
        let mut lines = Vec::new();
        let spec = MergeSpec {
            compare: &["count".to_string(), "revenue".to_string()],
            measures: &["revenue".to_string()],
            tolerance: 0.5,
            show: 20,
            names: ("api", "ch"),
        };
        let m = merge(left, right, &spec, &mut |v| {
            lines.push(v);
            Ok(())
        })
        .unwrap();
        assert_eq!((m.left_keys, m.right_keys), (5, 3));
        assert_eq!(
            (m.matched, m.only_left, m.only_right, m.different),
            (0, 3, 1, 2)
        );
        // In the order the left side gave them, not the key order.
        assert_eq!(m.first_only_left, ["9", "7", "05"]);
        assert_eq!(m.first_only_right, ["11"]);
        // `5` twice on the right (as text and as a number): count 1 against 2.
        assert_eq!(
            m.first_differences[0],
            json!({"kind": "different", "key": "5", "measure": "count", "api": 1, "ch": 2})
        );
        // The day's revenue summed: 15 against 16.
        assert_eq!(
            m.first_differences[2],
            json!({"kind": "different", "key": "2025-11-04", "measure": "revenue", "api": 15, "ch": 16})
        );
        assert_eq!(lines.len(), 3 + 1 + 3);
    }
}

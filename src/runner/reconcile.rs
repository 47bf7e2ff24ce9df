//! Run stage: a `reconcile` step — two datasets compared by key, in memory.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::RunContext;
use super::http_step::ActionOutcome;
use crate::assert::Observation;
use crate::plan::{ReconcilePlan, ReconcileSidePlan};
use crate::record::AssertionRecord;
use crate::template::Templates;

/// One side, aggregated by key (keys in first-seen order).
struct Grouped {
    rows: usize,
    /// Rows whose key is null: left out of the comparison.
    left_out: usize,
    order: Vec<String>,
    groups: HashMap<String, Measures>,
}

/// A key's measures: the number of rows, and each value (numbers summed).
#[derive(Default)]
struct Measures {
    count: u64,
    values: BTreeMap<String, serde_json::Value>,
}

fn key_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn group(side: &ReconcileSidePlan, t: &Templates, rc: &RunContext) -> Result<Grouped, String> {
    let rows = t
        .eval(&side.rows, &rc.value(&[]))
        .map_err(|e| format!("{}.rows: {}", side.name, e.message))?;
    let iter = rows
        .try_iter()
        .map_err(|_| format!("{}.rows is not a list (it is {})", side.name, rows.kind()))?;
    let mut out = Grouped {
        rows: 0,
        left_out: 0,
        order: Vec::new(),
        groups: HashMap::new(),
    };
    for row in iter {
        out.rows += 1;
        let ctx = rc.value(&[("row", row)]);
        let key = t
            .eval_json(&side.key, &ctx)
            .map_err(|e| format!("{}.key of row {}: {}", side.name, out.rows, e.message))?;
        if key.is_null() {
            out.left_out += 1;
            continue;
        }
        let key = key_text(&key);
        let m = out.groups.entry(key.clone()).or_insert_with(|| {
            out.order.push(key.clone());
            Measures::default()
        });
        m.count += 1;
        for (name, c) in &side.values {
            let v = t
                .eval_json(c, &ctx)
                .map_err(|e| format!("{}.values.{name}: {}", side.name, e.message))?;
            let merged = match (m.values.get(name), number(&v)) {
                // Whole numbers stay whole (`271`, not `271.0`).
                (Some(prev), Some(n)) => match (prev.as_i64(), v.as_i64()) {
                    (Some(a), Some(b)) => serde_json::json!(a.saturating_add(b)),
                    _ => number(prev).map(|p| serde_json::json!(p + n)).unwrap_or(v),
                },
                (Some(prev), None) => prev.clone(),
                (None, _) => v,
            };
            m.values.insert(name.clone(), merged);
        }
    }
    Ok(out)
}

fn measure(m: &Measures, name: &str) -> serde_json::Value {
    if name == "count" {
        serde_json::json!(m.count)
    } else {
        m.values
            .get(name)
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    }
}

fn same(a: &serde_json::Value, b: &serde_json::Value, tolerance: f64) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= tolerance + f64::EPSILON * x.abs().max(y.abs()),
        _ => key_text(a) == key_text(b),
    }
}

/// Runs the comparison; the result is the step's `response.json`, its text the report's
/// table, every difference a line of `<id>.reconcile.jsonl`.
pub(crate) fn run_reconcile(
    plan: &ReconcilePlan,
    t: &Templates,
    rc: &RunContext,
    step_id: &str,
    out_dir: &Path,
) -> (ActionOutcome, Option<String>) {
    let mut out = ActionOutcome::default();
    let (left, right) = match (group(&plan.sides[0], t, rc), group(&plan.sides[1], t, rc)) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => {
            out.engine_error = Some(e);
            return (out, None);
        }
    };
    let (ln, rn) = (&plan.sides[0].name, &plan.sides[1].name);
    let mut lines: Vec<serde_json::Value> = Vec::new();
    let mut only_left = Vec::new();
    let mut different = Vec::new();
    let mut matched = 0u64;
    for key in &left.order {
        let l = &left.groups[key];
        let Some(r) = right.groups.get(key) else {
            only_left.push(key.clone());
            lines.push(serde_json::json!({"kind": "only_left", "key": key}));
            continue;
        };
        let mut differs = false;
        for name in &plan.compare {
            let (a, b) = (measure(l, name), measure(r, name));
            if !same(&a, &b, plan.tolerance) {
                differs = true;
                let d = serde_json::json!({"kind": "different", "key": key, "measure": name, ln.as_str(): a, rn.as_str(): b});
                different.push(d.clone());
                lines.push(d);
            }
        }
        if !differs {
            matched += 1;
        }
    }
    let only_right: Vec<String> = right
        .order
        .iter()
        .filter(|k| !left.groups.contains_key(*k))
        .cloned()
        .collect();
    lines.extend(
        only_right
            .iter()
            .map(|k| serde_json::json!({"kind": "only_right", "key": k})),
    );
    let different_keys = {
        let mut keys: Vec<&str> = different.iter().filter_map(|d| d["key"].as_str()).collect();
        keys.dedup();
        keys.len()
    };
    let file = format!("{step_id}.reconcile.jsonl");
    let mut jsonl = String::new();
    for l in &lines {
        jsonl.push_str(&l.to_string());
        jsonl.push('\n');
    }
    let written =
        crate::report::write_atomic(&out_dir.join(&file), rc.redactor.redact(&jsonl).as_bytes())
            .is_ok();
    let show = plan.show;
    let result = serde_json::json!({
        "left": ln,
        "right": rn,
        "left_rows": left.rows,
        "right_rows": right.rows,
        "left_left_out": left.left_out,
        "right_left_out": right.left_out,
        "left_keys": left.order.len(),
        "right_keys": right.order.len(),
        "matched": matched,
        "only_left": only_left.len(),
        "only_right": only_right.len(),
        "different": different_keys,
        "only_left_keys": only_left.iter().take(show).collect::<Vec<_>>(),
        "only_right_keys": only_right.iter().take(show).collect::<Vec<_>>(),
        "differences": different.iter().take(show).collect::<Vec<_>>(),
        "file": file,
    });
    let mut text = format!(
        "{ln}: {} rows, {} keys · {rn}: {} rows, {} keys\n{matched} matched · {} only in {ln} · {} only in {rn} · {different_keys} different\n",
        left.rows,
        left.order.len(),
        right.rows,
        right.order.len(),
        only_left.len(),
        only_right.len(),
    );
    let list = |keys: &[String]| {
        let mut s: Vec<&str> = keys.iter().take(show).map(String::as_str).collect();
        if keys.len() > show {
            s.push("…");
        }
        s.join(", ")
    };
    for (name, side) in [(ln, &left), (rn, &right)] {
        if side.left_out > 0 {
            text.push_str(&format!(
                "{name}: {} rows left out (their key is null)\n",
                side.left_out
            ));
        }
    }
    if !only_left.is_empty() {
        text.push_str(&format!("only in {ln}: {}\n", list(&only_left)));
    }
    if !only_right.is_empty() {
        text.push_str(&format!("only in {rn}: {}\n", list(&only_right)));
    }
    for d in different.iter().take(show) {
        text.push_str(&format!(
            "different: {} {}: {ln} {} · {rn} {}\n",
            key_text(&d["key"]),
            key_text(&d["measure"]),
            d[ln.as_str()],
            d[rn.as_str()],
        ));
    }
    if written {
        text.push_str(&format!("every difference: {file}\n"));
    }
    out.observation = Observation {
        body_file: None,
        json: crate::assert::LazyJson::ready(Some(Arc::new(result))),
        ..Observation::default()
    };
    out.text = Some(text);
    (out, written.then_some(file))
}

/// Without assertions, a reconciliation passes when both sides hold the same keys with
/// the same measures.
pub(crate) fn implicit_reconciled(outcome: &ActionOutcome) -> AssertionRecord {
    let j = outcome.observation.json.doc();
    let n = |k: &str| j.and_then(|j| j[k].as_u64()).unwrap_or(0);
    let (l, r, d) = (n("only_left"), n("only_right"), n("different"));
    AssertionRecord {
        description: "both sides hold the same keys and measures".into(),
        passed: l + r + d == 0,
        soft: false,
        expected: "only_left 0, only_right 0, different 0".into(),
        actual: format!("only_left {l}, only_right {r}, different {d}"),
        message: None,
    }
}

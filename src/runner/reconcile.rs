//! Run stage: a `reconcile` step — two datasets compared by key: each side read row by
//! row into compact sorted keys (see `reconcile_keys`), then merged; every difference
//! streams to `<step id>.reconcile.jsonl`.
use std::path::Path;
use std::sync::Arc;

use super::outcome::ActionOutcome;
use super::reconcile_keys::key_text;
use super::reconcile_merge::{MergeSpec, merge};
use super::reconcile_read::{SideIo, read_side};
use super::{EventSink, RunContext};
use crate::assert::Observation;
use crate::plan::ReconcilePlan;
use crate::record::{AssertionRecord, Attempt};
use crate::template::Templates;

/// Runs the comparison; the result is the step's `response.json`, its text the report's
/// table, every difference a line of `<id>.reconcile.jsonl`. A side's query is an
/// attempt of the step.
pub(crate) async fn run_reconcile(
    plan: &ReconcilePlan,
    t: &Templates,
    rc: &RunContext,
    step_id: &str,
    out_dir: &Path,
    events: &dyn EventSink,
    attempts: &mut Vec<Attempt>,
) -> (ActionOutcome, Option<String>) {
    let mut out = ActionOutcome::default();
    // The measures kept per row: what `compare` names, but `count`.
    let mut measures: Vec<String> = Vec::new();
    for m in &plan.compare {
        if m != "count" && !measures.contains(m) {
            measures.push(m.clone());
        }
    }
    let io = SideIo {
        t,
        rc,
        events,
        step_id,
    };
    let left = match read_side(&plan.sides[0], &measures, &io, attempts, 0).await {
        Ok(l) => l,
        Err(e) => {
            out.engine_error = Some(e);
            return (out, None);
        }
    };
    let right = match read_side(&plan.sides[1], &measures, &io, attempts, left.rows).await {
        Ok(r) => r,
        Err(e) => {
            out.engine_error = Some(e);
            return (out, None);
        }
    };
    let (ln, rn) = (&plan.sides[0].name, &plan.sides[1].name);
    let (left_rows, right_rows) = ((left.rows, left.left_out), (right.rows, right.left_out));
    let file = format!("{step_id}.reconcile.jsonl");
    let mut writer = crate::evidence::MaskedFile::create(out_dir, &file, &rc.redactor).ok();
    let mut text_line = Vec::new();
    let spec = MergeSpec {
        compare: &plan.compare,
        measures: &measures,
        tolerance: plan.tolerance,
        show: plan.show,
        names: (ln, rn),
    };
    let merged = merge(left, right, &spec, &mut |v| {
        if let Some(w) = writer.as_mut() {
            text_line.clear();
            let _ = serde_json::to_writer(&mut text_line, &v);
            text_line.push(b'\n');
            if w.write(&String::from_utf8_lossy(&text_line)).is_err() {
                writer = None;
            }
        }
        Ok(())
    });
    let m = match merged {
        Ok(m) => m,
        Err(e) => {
            out.engine_error = Some(e);
            return (out, None);
        }
    };
    let written = writer.is_some_and(|w| w.finish().is_ok());
    let show = plan.show;
    let result = serde_json::json!({
        "left": ln,
        "right": rn,
        "left_rows": left_rows.0,
        "right_rows": right_rows.0,
        "left_left_out": left_rows.1,
        "right_left_out": right_rows.1,
        "left_keys": m.left_keys,
        "right_keys": m.right_keys,
        "matched": m.matched,
        "only_left": m.only_left,
        "only_right": m.only_right,
        "different": m.different,
        "only_left_keys": m.first_only_left,
        "only_right_keys": m.first_only_right,
        "differences": m.first_differences,
        "file": file,
    });
    let mut text = format!(
        "{ln}: {} rows, {} keys · {rn}: {} rows, {} keys\n{} matched · {} only in {ln} · {} only in {rn} · {} different\n",
        left_rows.0,
        m.left_keys,
        right_rows.0,
        m.right_keys,
        m.matched,
        m.only_left,
        m.only_right,
        m.different,
    );
    let list = |keys: &[String], total: u64| {
        let mut s: Vec<&str> = keys.iter().take(show).map(String::as_str).collect();
        if total > s.len() as u64 {
            s.push("…");
        }
        s.join(", ")
    };
    for (name, (_, left_out)) in [(ln, left_rows), (rn, right_rows)] {
        if left_out > 0 {
            text.push_str(&format!(
                "{name}: {left_out} rows left out (their key is null)\n"
            ));
        }
    }
    if m.only_left > 0 {
        text.push_str(&format!(
            "only in {ln}: {}\n",
            list(&m.first_only_left, m.only_left)
        ));
    }
    if m.only_right > 0 {
        text.push_str(&format!(
            "only in {rn}: {}\n",
            list(&m.first_only_right, m.only_right)
        ));
    }
    for d in m.first_differences.iter().take(show) {
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

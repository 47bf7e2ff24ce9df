//! Validate stage: a `reconcile` step — its two sides (rows, key, values) and what it
//! compares — checked and compiled.
use super::ctx::Ctx;

/// Checks and compiles a `reconcile` step.
pub(super) fn compile_reconcile(
    cx: &mut Ctx,
    p: &str,
    r: &crate::scenario::ReconcileSpec,
) -> Option<crate::plan::ReconcilePlan> {
    let mut side = |name: &str, s: &crate::scenario::ReconcileSide| {
        let at = format!("{p}.{name}");
        let rows = cx.expr(&format!("{at}.rows"), &s.rows);
        let key = cx.expr(&format!("{at}.key"), &s.key);
        let values: Vec<(String, crate::template::Compiled)> = s
            .values
            .iter()
            .filter_map(|(k, v)| {
                cx.expr(&format!("{at}.values.{k}"), v)
                    .map(|c| (k.clone(), c))
            })
            .collect();
        Some(crate::plan::ReconcileSidePlan {
            name: s.name.clone().unwrap_or_else(|| name.to_string()),
            rows: rows?,
            key: key?,
            values,
        })
    };
    let left = side("left", &r.left);
    let right = side("right", &r.right);
    for (i, m) in r.compare.iter().enumerate() {
        let on = |s: &crate::scenario::ReconcileSide| m == "count" || s.values.contains_key(m);
        if !on(&r.left) || !on(&r.right) {
            cx.problem(
                format!("{p}.compare[{i}]"),
                format!("`{m}` is not a measure of both sides: name it in `left.values` and `right.values`, or compare `count`"),
            );
        }
    }
    if r.tolerance.is_nan() || r.tolerance < 0.0 {
        cx.problem(
            format!("{p}.tolerance"),
            "a tolerance is a number of 0 or more",
        );
    }
    Some(crate::plan::ReconcilePlan {
        sides: [left?, right?],
        compare: r.compare.clone(),
        tolerance: r.tolerance,
        show: r.show,
    })
}

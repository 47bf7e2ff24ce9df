//! Validate stage: a `reconcile` step — its two sides (where their rows come from: `rows`,
//! `items` of an earlier walk, or a streamed `sql` query; key, values) and what it
//! compares — checked and compiled.
use std::collections::HashMap;

use super::ctx::Ctx;
use crate::scenario::Scenario;
use crate::source::YamlPath;

/// Checks and compiles a `reconcile` step, step `i` of `scenario`.
pub(super) fn compile_reconcile(
    cx: &mut Ctx,
    p: &YamlPath,
    r: &crate::scenario::ReconcileSpec,
    scenario: &Scenario,
    (index, i): (&HashMap<&str, usize>, usize),
) -> Option<crate::plan::ReconcilePlan> {
    let mut side = |name: &str, s: &crate::scenario::ReconcileSide| {
        let at = p.at(name);
        let source = side_source(cx, &at, name, s, scenario, (index, i));
        let key = row_expr(cx, &at.at("key"), &s.key);
        let values: Vec<(String, crate::plan::RowExpr)> = s
            .values
            .iter()
            .filter_map(|(k, v)| row_expr(cx, &at.at("values").at(k), v).map(|c| (k.clone(), c)))
            .collect();
        Some(crate::plan::ReconcileSidePlan {
            name: s.name.clone().unwrap_or_else(|| name.to_string()),
            source: source?,
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
                p.at("compare").at(i),
                format!("`{m}` is not a measure of both sides: name it in `left.values` and `right.values`, or compare `count`"),
            );
        }
    }
    if r.tolerance.is_nan() || r.tolerance < 0.0 {
        cx.problem(p.at("tolerance"), "a tolerance is a number of 0 or more");
    }
    Some(crate::plan::ReconcilePlan {
        sides: [left?, right?],
        compare: r.compare.clone(),
        tolerance: r.tolerance,
        show: r.show,
    })
}

/// Where a side's rows come from: exactly one of `rows`, `items` (an earlier page
/// walk's id) and `sql`.
fn side_source(
    cx: &mut Ctx,
    at: &YamlPath,
    name: &str,
    s: &crate::scenario::ReconcileSide,
    scenario: &Scenario,
    (index, i): (&HashMap<&str, usize>, usize),
) -> Option<crate::plan::RowSource> {
    use crate::plan::RowSource;
    let given: Vec<&str> = [
        ("rows", s.rows.is_some()),
        ("items", s.items.is_some()),
        ("sql", s.sql.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    match given.len() {
        1 => {}
        0 => {
            cx.problem(
                at,
                "a side needs its rows: one of `rows` (an expression giving a list), `items` (an earlier page walk's id) or `sql` (a ClickHouse query)",
            );
            return None;
        }
        _ => {
            cx.key_problem(
                at.at(given[1]),
                format!(
                    "a side takes exactly one of `rows`, `items` and `sql`, found {}",
                    given.join(" and ")
                ),
            );
            return None;
        }
    }
    if let Some(rows) = &s.rows {
        return cx.expr(&at.at("rows"), rows).map(RowSource::Rows);
    }
    if let Some(q) = &s.sql {
        return super::sql::compile_side_query(cx, &at.at("sql"), name, q, &scenario.defaults.sql)
            .map(|plan| RowSource::Sql(Box::new(plan)));
    }
    let id = s.items.as_deref().unwrap_or_default();
    let problem = match index.get(id) {
        None => Some(format!("`{id}` is not a step of this scenario")),
        Some(j) if *j >= i => Some(format!(
            "`{id}` runs later: `items` names an earlier page walk"
        )),
        Some(j) => {
            let walk = scenario.steps[*j]
                .http
                .as_ref()
                .and_then(|h| h.paginate.as_ref());
            match walk {
                Some(pg) if pg.collect.is_some() => None,
                _ => Some(format!(
                    "`{id}` collects no items: `items` names a step whose `http.paginate` has `collect`"
                )),
            }
        }
    };
    match problem {
        Some(why) => {
            cx.problem(at.at("items"), why);
            None
        }
        None => Some(RowSource::Items(id.to_string())),
    }
}

/// An expression over one `row`; `row.a.b` and `row['a']` are also kept as a path to
/// read directly.
fn row_expr(cx: &mut Ctx, at: &YamlPath, src: &str) -> Option<crate::plan::RowExpr> {
    let expr = cx.expr(at, src)?;
    Some(crate::plan::RowExpr {
        expr,
        path: row_path(src),
    })
}

/// `row.id` → `["id"]`, `row.client['name']` → `["client", "name"]`; None for any other
/// expression.
fn row_path(src: &str) -> Option<Vec<String>> {
    let mut rest = src.trim().strip_prefix("row")?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            path.push(name.to_string());
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let quote = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let inner = &r[1..];
            let end = inner.find(quote)?;
            let name = &inner[..end];
            if name.contains('\\') {
                return None;
            }
            path.push(name.to_string());
            rest = inner[end + 1..].strip_prefix(']')?;
        } else {
            return None;
        }
    }
    (!path.is_empty()).then_some(path)
}

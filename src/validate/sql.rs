//! Validate stage: a SQL action — its queries, and where and as whom they run — and the
//! query of a reconcile side, checked and compiled.
use std::time::Duration;

use super::ctx::Ctx;
use super::http::compile_ca_file;
use crate::exec::placeholders;
use crate::plan::{QueryPlan, SqlPlan};
use crate::scenario::{QuerySpec, SqlDefaults, SqlSpec};
use crate::source::YamlPath;
use crate::yp;

/// Checks and compiles SQL queries; problems go into `cx`.
pub(super) fn compile_sql(
    cx: &mut Ctx,
    p: &YamlPath,
    q: &SqlSpec,
    d: &SqlDefaults,
) -> Option<SqlPlan> {
    if q.queries.is_empty() {
        cx.problem(p.at("queries"), "an sql step needs at least one query");
    }
    let mut plan = sql_connection(cx, p, q, d);
    for (name, spec) in &q.queries {
        let qp = p.at("queries").at(name);
        plan.queries.extend(compile_query(
            cx,
            &qp,
            name,
            spec,
            "leave out the FORMAT clause: results are read as JSON",
        ));
    }
    Some(plan)
}

/// The query of a reconcile side (`<side>.sql`): its rows are read as they stream, on
/// the connection SQL steps use (`defaults.sql`, `CLICKHOUSE_*`).
pub(crate) fn compile_side_query(
    cx: &mut Ctx,
    at: &YamlPath,
    name: &str,
    spec: &QuerySpec,
    d: &SqlDefaults,
) -> Option<SqlPlan> {
    if spec.optional {
        cx.problem(
            at.at("optional"),
            "a reconcile side's query is not optional: its rows are what is compared",
        );
    }
    let own = SqlSpec {
        url: None,
        database: None,
        timeout: None,
        tls: None,
        queries: Default::default(),
    };
    let mut plan = sql_connection(cx, at, &own, d);
    let query = compile_query(
        cx,
        at,
        name,
        spec,
        "leave out the FORMAT clause: the rows are read as JSONEachRow",
    )?;
    plan.queries.push(query);
    Some(plan)
}

/// Where and as whom a step's queries run: its own settings, else `defaults.sql`.
fn sql_connection(cx: &mut Ctx, p: &YamlPath, q: &SqlSpec, d: &SqlDefaults) -> SqlPlan {
    let url = match (&q.url, &d.url) {
        (Some(u), _) => cx.text(&p.at("url"), u),
        (None, Some(u)) => cx.text(&yp!["defaults", "sql", "url"], u),
        _ => None,
    };
    let database = match (&q.database, &d.database) {
        (Some(db), _) => cx.text(&p.at("database"), db),
        (None, Some(db)) => cx.text(&yp!["defaults", "sql", "database"], db),
        _ => None,
    };
    let user = d
        .user
        .as_ref()
        .and_then(|u| cx.text(&yp!["defaults", "sql", "user"], u));
    let password = d
        .password
        .as_ref()
        .and_then(|u| cx.text(&yp!["defaults", "sql", "password"], u));
    let timeout = q
        .timeout
        .or(d.timeout)
        .map(|t| t.0)
        .unwrap_or(Duration::from_secs(30));
    let ca_file = compile_ca_file(
        cx,
        (q.tls.as_ref(), &p.at("tls")),
        (d.tls.as_ref(), &yp!["defaults", "sql", "tls"]),
    );
    SqlPlan {
        url,
        database,
        user,
        password,
        timeout,
        ca_file,
        queries: Vec::new(),
    }
}

/// One query at `qp` (a string, or a mapping with `query`).
fn compile_query(
    cx: &mut Ctx,
    qp: &YamlPath,
    name: &str,
    spec: &QuerySpec,
    no_format: &str,
) -> Option<QueryPlan> {
    let query_path = if spec.params.is_empty() && !spec.optional {
        qp.clone()
    } else {
        qp.at("query")
    };
    if spec
        .query
        .to_ascii_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0] == "FORMAT")
    {
        cx.problem(&query_path, no_format);
    }
    for (param, _) in placeholders(&spec.query) {
        if !spec.params.contains_key(&param) {
            cx.problem(
                &query_path,
                format!("`{{{param}:…}}` has no value: add `params: {{{param}: …}}`"),
            );
        }
    }
    let sql = cx.text(&query_path, &spec.query);
    let mut params = Vec::new();
    for (k, v) in &spec.params {
        params.extend(cx.json(&qp.at("params").at(k), v).map(|c| (k.clone(), c)));
    }
    Some(QueryPlan {
        name: name.to_string(),
        sql: sql?,
        params,
        optional: spec.optional,
    })
}

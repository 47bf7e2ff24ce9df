//! Run stage: reading a reconcile side's rows — an expression's list, a page walk's items
//! (held, or streamed from its `.items.jsonl`), or a ClickHouse query read as it streams
//! (JSONEachRow) — into its compact keys, one row at a time.
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::in_flight::InFlight;
use super::reconcile_keys::{Keyed, key_of};
use super::{Event, EventSink, RunContext};
use crate::exec::{SqlClient, StreamFailure, fill_params, stream_rows};
use crate::plan::{ReconcileSidePlan, RowExpr, RowSource};
use crate::record::{Attempt, ResponseRecord};
use crate::template::Templates;

/// What reading a side needs besides its plan.
pub(super) struct SideIo<'a> {
    pub(super) t: &'a Templates,
    pub(super) rc: &'a RunContext,
    pub(super) events: &'a dyn EventSink,
    pub(super) step_id: &'a str,
}

/// Reads one side: its rows' keys and the `measures` `compare` asks for; `hint` is
/// how many rows it likely has, when nothing better is known (the other side's).
pub(super) async fn read_side(
    side: &ReconcileSidePlan,
    measures: &[String],
    io: &SideIo<'_>,
    attempts: &mut Vec<Attempt>,
    hint: u64,
) -> Result<Keyed, String> {
    let exprs: Vec<&RowExpr> = measures
        .iter()
        .filter_map(|m| side.values.iter().find(|(n, _)| n == m).map(|(_, e)| e))
        .collect();
    let mut keyed = Keyed::new(exprs.len());
    let name = &side.name;
    match &side.source {
        RowSource::Rows(c) => {
            let (t, rc) = (io.t, io.rc);
            let rows = t
                .eval(c, &rc.value(&[]))
                .map_err(|e| format!("{name}.rows: {}", e.message))?;
            let iter = rows
                .try_iter()
                .map_err(|_| format!("{name}.rows is not a list (it is {})", rows.kind()))?;
            for row in iter {
                let ctx = rc.value(&[("row", row)]);
                let n = keyed.rows + 1;
                let key = t
                    .eval_json(&side.key.expr, &ctx)
                    .map_err(|e| format!("{name}.key of row {n}: {}", e.message))?;
                let mut values = Vec::with_capacity(exprs.len());
                for (m, e) in measures.iter().zip(&exprs) {
                    values.push(
                        t.eval_json(&e.expr, &ctx)
                            .map_err(|e| format!("{name}.values.{m}: {}", e.message))?,
                    );
                }
                keyed.push(key_of(&key), values)?;
            }
        }
        RowSource::Items(id) => {
            let step = io.rc.step(id).ok_or_else(|| {
                format!("{name}.items: `{id}` did not run, so it collected no items")
            })?;
            match super::view::walk_items(&step, id).map_err(|e| format!("{name}.items: {e}"))? {
                super::view::StepItems::Held(items) => {
                    keyed.reserve(items.as_array().map_or(0, Vec::len));
                    for row in items.as_array().into_iter().flatten() {
                        take_row(&mut keyed, row, side, (measures, &exprs), io)?;
                    }
                }
                super::view::StepItems::File(file, path, count) => {
                    use std::io::BufRead;
                    keyed.reserve(usize::try_from(count).unwrap_or(0));
                    let cannot =
                        |e: std::io::Error| format!("{name}.items: cannot read `{file}`: {e}");
                    let f = std::fs::File::open(&*path).map_err(cannot)?;
                    let mut reader = std::io::BufReader::with_capacity(1 << 16, f);
                    let mut line = String::new();
                    while reader.read_line(&mut line).map_err(cannot)? > 0 {
                        if !line.trim().is_empty() {
                            take_text(&mut keyed, &line, side, (measures, &exprs), io)?;
                        }
                        line.clear();
                    }
                }
            }
        }
        RowSource::Sql(plan) => {
            keyed.reserve(usize::try_from(hint).unwrap_or(0));
            read_sql(plan, &mut keyed, side, (measures, &exprs), io, attempts).await?;
        }
    }
    Ok(keyed)
}

/// One row given as JSON text: what `row.a.b` expressions read is taken from the text
/// (the rest skipped); any other expression, or a field not there, parses it whole.
fn take_text(
    keyed: &mut Keyed,
    text: &str,
    side: &ReconcileSidePlan,
    (measures, exprs): (&[String], &[&RowExpr]),
    io: &SideIo,
) -> Result<(), String> {
    let n = keyed.rows + 1;
    let not_json = |e: serde_json::Error| format!("{}: row {n} is not JSON: {e}", side.name);
    let paths: Option<Vec<&[String]>> = std::iter::once(&side.key)
        .chain(exprs.iter().copied())
        .map(|e| e.path.as_deref())
        .collect();
    if let Some(paths) = paths {
        let found = super::row_extract::extract(text, &paths).map_err(not_json)?;
        if found.iter().all(Option::is_some) {
            let mut found = found.into_iter().flatten();
            let key = found.next().unwrap_or_default();
            return keyed.push(key_of(&key), found.collect());
        }
    }
    let row: Value = serde_json::from_str(text).map_err(not_json)?;
    take_row(keyed, &row, side, (measures, exprs), io)
}

/// One row given as JSON: its key and measures, read directly for `row.a.b`, else by
/// the template engine.
fn take_row(
    keyed: &mut Keyed,
    row: &Value,
    side: &ReconcileSidePlan,
    (measures, exprs): (&[String], &[&RowExpr]),
    io: &SideIo,
) -> Result<(), String> {
    let name = &side.name;
    let mut view = None;
    let n = keyed.rows + 1;
    let key = eval_row(&side.key, row, &mut view, io)
        .map_err(|e| format!("{name}.key of row {n}: {e}"))?;
    let mut values = Vec::with_capacity(exprs.len());
    for (m, e) in measures.iter().zip(exprs) {
        values
            .push(eval_row(e, row, &mut view, io).map_err(|e| format!("{name}.values.{m}: {e}"))?);
    }
    keyed.push(key_of(&key), values)
}

fn eval_row(
    e: &RowExpr,
    row: &Value,
    view: &mut Option<minijinja::Value>,
    io: &SideIo,
) -> Result<Value, String> {
    if let Some(path) = &e.path {
        let found = path.iter().try_fold(row, |v, k| v.as_object()?.get(k));
        if let Some(v) = found {
            return Ok(v.clone());
        }
    }
    // The engine reads what a path does not (and says why a field is missing).
    let view = view.get_or_insert_with(|| crate::template::JsonView::value(Arc::new(row.clone())));
    io.t.eval_json(&e.expr, &io.rc.value(&[("row", view.clone())]))
        .map_err(|e| e.message)
}

/// A side's query: rows read as they stream, recorded as one attempt of the step.
async fn read_sql(
    plan: &crate::plan::SqlPlan,
    keyed: &mut Keyed,
    side: &ReconcileSidePlan,
    exprs: (&[String], &[&RowExpr]),
    io: &SideIo<'_>,
    attempts: &mut Vec<Attempt>,
) -> Result<(), String> {
    let (t, rc, name) = (io.t, io.rc, &side.name);
    let conn =
        super::sql_step::resolve_conn(plan, t, rc).map_err(|e| format!("{name}.sql: {e}"))?;
    let client = SqlClient::new(conn.ca_file.as_deref()).map_err(|e| format!("{name}.sql: {e}"))?;
    let Some(q) = plan.queries.first() else {
        return Err(format!("{name}.sql: no query"));
    };
    let ctx = rc.value(&[]);
    let mut params = serde_json::Map::new();
    for (k, c) in &q.params {
        let v = c
            .render(t, &ctx)
            .map_err(|e| format!("{name}.sql param `{k}`: {}", e.message))?;
        params.insert(k.clone(), v);
    }
    let sql = t
        .render_string(&q.sql, &ctx)
        .map_err(|e| e.message)
        .and_then(|s| fill_params(&s, &params))
        .map_err(|e| format!("{name}.sql: {e}"))?;
    let started = rc.clock.now();
    let request = super::sql_step::sql_request(&conn, &sql, rc);
    let mut pending = Attempt::pending(request, rc.clock.format(started));
    pending.label = Some(name.clone());
    let mut slot = InFlight::start(attempts, pending, "reading the query's rows");
    let (result, took) = stream_rows(&client, &conn, &sql, |row| {
        take_text(keyed, row, side, exprs, io)
    })
    .await;
    let a = slot.attempt();
    a.duration_ms = took.as_millis() as u64;
    a.transport_error = None;
    let outcome = match result {
        Ok(n) => {
            a.code = "OK".into();
            a.response = Some(ResponseRecord {
                status: 200,
                headers: BTreeMap::new(),
                body: format!("{n} rows, read as they streamed (JSONEachRow)"),
                body_file: None,
                body_bytes: None,
                body_excerpt: false,
            });
            Ok(())
        }
        Err(StreamFailure::Row(e)) => {
            a.code = "OK".into();
            Err(e)
        }
        Err(StreamFailure::Sql(f)) => {
            a.code = f.code();
            let message = match &f {
                crate::exec::SqlFailure::Transport(tr) => {
                    let mut tr = tr.clone();
                    tr.message = rc.redactor.redact(&tr.message);
                    let m = tr.message.clone();
                    a.transport_error = Some(tr);
                    m
                }
                crate::exec::SqlFailure::Server(m) => {
                    let m = rc.redactor.redact(m);
                    a.server_error = Some(m.clone());
                    m
                }
            };
            Err(format!("{name}.sql: {message}"))
        }
    };
    io.events.emit(Event::AttemptFinished {
        id: io.step_id,
        attempt: slot.attempt(),
    });
    drop(slot);
    outcome
}

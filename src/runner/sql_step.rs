//! Run stage: one SQL step's queries — connection from the scenario or the loader's
//! `CLICKHOUSE_*` env, params quoted by the engine, retries, every try recorded.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::outcome::ActionOutcome;
use super::retry::{Retried, Retries};
use super::{EventSink, RunContext};
use crate::assert::Observation;
use crate::exec::{QueryResult, SqlClient, SqlConn, SqlFailure, fill_params, run_query};
use crate::plan::SqlPlan;
use crate::record::{Attempt, RequestRecord, ResponseRecord};
use crate::scenario::RetryPolicy;
use crate::template::Templates;

/// Resolves the connection: scenario templates first, then the loader's env keys.
pub fn resolve_conn(plan: &SqlPlan, t: &Templates, rc: &RunContext) -> Result<SqlConn, String> {
    let ctx = rc.value(&[]);
    let render = |c: &Option<crate::template::Compiled>| -> Result<Option<String>, String> {
        c.as_ref()
            .map(|c| t.render_string(c, &ctx).map_err(|e| e.message))
            .transpose()
    };
    let env = |k: &str| rc.env.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let url = match render(&plan.url)? {
        Some(u) => u,
        None => {
            let host = env("CLICKHOUSE_HOST")
                .ok_or("set `defaults.sql.url` or the env variable CLICKHOUSE_HOST")?;
            let secure = env("CLICKHOUSE_SECURE")
                .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
            // ClickHouse's own defaults: http_port 8123, https_port 8443.
            let port = env("CLICKHOUSE_PORT")
                .unwrap_or_else(|| if secure { "8443" } else { "8123" }.into());
            format!("{}://{host}:{port}", if secure { "https" } else { "http" })
        }
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "ClickHouse URL `{url}` must start with http:// or https://"
        ));
    }
    Ok(SqlConn {
        url: url.trim_end_matches('/').to_string(),
        database: render(&plan.database)?
            .or_else(|| env("CLICKHOUSE_DB"))
            .unwrap_or_default(),
        user: render(&plan.user)?
            .or_else(|| env("CLICKHOUSE_USER"))
            .unwrap_or_else(|| "default".into()),
        password: render(&plan.password)?
            .or_else(|| env("CLICKHOUSE_PASSWORD"))
            .unwrap_or_default(),
        timeout: plan.timeout,
        ca_file: rc.ca_file(plan.ca_file.as_ref(), t, &ctx)?,
    })
}

/// Runs every query of a step.
pub async fn run_sql(
    plan: &SqlPlan,
    policy: &RetryPolicy,
    t: &Templates,
    rc: &RunContext,
    events: &dyn EventSink,
    step_id: &str,
    attempts: &mut Vec<Attempt>,
) -> ActionOutcome {
    let mut out = ActionOutcome::default();
    let conn = match resolve_conn(plan, t, rc) {
        Ok(c) => c,
        Err(e) => {
            out.engine_error = Some(e);
            return out;
        }
    };
    // One client for the step's queries; a `tls.ca_file` that cannot be read fails here.
    let client = match SqlClient::new(conn.ca_file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            let at = plan.ca_file.as_ref().map_or("tls.ca_file", |c| &c.at);
            out.engine_error = Some(format!("{at}: {e}"));
            return out;
        }
    };
    let ctx = rc.value(&[]);
    let mut results = serde_json::Map::new();
    let mut texts = Vec::new();
    let mut sent = serde_json::Map::new();
    for q in &plan.queries {
        let sql = t
            .render_string(&q.sql, &ctx)
            .map_err(|e| e.message)
            .and_then(|sql| {
                let mut params = serde_json::Map::new();
                for (k, c) in &q.params {
                    params.insert(
                        k.clone(),
                        c.render(t, &ctx)
                            .map_err(|e| format!("param `{k}`: {}", e.message))?,
                    );
                }
                fill_params(&sql, &params)
            });
        let sql = match sql {
            Ok(s) => s,
            Err(e) => {
                out.engine_error = Some(format!("query `{}`: {e}", q.name));
                return out;
            }
        };
        sent.insert(q.name.clone(), Value::String(sql.clone()));
        let result = if out.transport.is_some() {
            Err(SqlFailure::Server(
                "not run: the server could not be reached for an earlier query".into(),
            ))
        } else {
            let query = OneQuery {
                client: &client,
                conn: &conn,
                sql: &sql,
                name: &q.name,
                rc,
            };
            let retries = Retries {
                policy,
                clock: &rc.clock,
                events,
                step_id,
            };
            retries.run(&query, attempts).await.0
        };
        let (entry, text_result) = match result {
            Ok(r) => (
                json!({
                    "columns": r.columns.iter().map(|(n, ty)| json!({"name": n, "type": ty})).collect::<Vec<_>>(),
                    "rows": r.rows,
                    "row_count": r.rows.len(),
                    "error": null,
                    "optional": q.optional,
                }),
                Ok(r),
            ),
            Err(f) => {
                let message = match &f {
                    SqlFailure::Transport(tr) => {
                        out.transport = Some(tr.clone());
                        tr.message.clone()
                    }
                    SqlFailure::Server(m) => m.clone(),
                };
                let message = rc.redactor.redact(&message);
                out.query_errors
                    .push((q.name.clone(), message.clone(), q.optional));
                (
                    json!({"columns": [], "rows": [], "row_count": 0, "error": message, "optional": q.optional}),
                    Err(message),
                )
            }
        };
        results.insert(q.name.clone(), entry);
        texts.push((q.name.clone(), sql, text_result));
    }
    let text = rc.redactor.redact(&crate::exec::results_text(&texts));
    out.request =
        json!({"url": conn.url, "database": conn.database, "user": conn.user, "queries": sent});
    out.observation = Observation {
        status: None,
        headers: BTreeMap::new(),
        body: Arc::from(text.as_str()),
        body_file: None,
        json: crate::assert::LazyJson::ready(Some(Arc::new(Value::Object(results)))),
        items: None,
        walk: None,
        files: Default::default(),
    };
    out.text = Some(text);
    out
}

/// One query of a step, as the retry loop runs it.
struct OneQuery<'a> {
    client: &'a SqlClient,
    conn: &'a SqlConn,
    sql: &'a str,
    name: &'a str,
    rc: &'a RunContext,
}

impl Retried for OneQuery<'_> {
    type Answer = (Result<QueryResult, SqlFailure>, Duration);

    const WAITING: &'static str = "waiting for the query's result";

    fn record(&self, started_at: String, n: u32, of: u32) -> Attempt {
        let mut a = Attempt::pending(sql_request(self.conn, self.sql, self.rc), started_at);
        (a.attempt, a.of, a.label) = (n, of, Some(self.name.to_string()));
        a
    }

    async fn attempt(&self, _index: usize) -> Self::Answer {
        run_query(self.client, self.conn, self.sql).await
    }

    fn retryable(&self, (result, _): &Self::Answer, policy: &RetryPolicy) -> bool {
        result
            .as_ref()
            .err()
            .is_some_and(|f| f.is_retryable(policy.on_timeout, policy.on_connect_error))
    }

    fn fill(&self, a: &mut Attempt, (result, took): &Self::Answer, pause: Option<Duration>) {
        fill_result(a, result, *took, pause, self.rc);
    }
}

/// The query as sent (masked).
pub(super) fn sql_request(conn: &SqlConn, sql: &str, rc: &RunContext) -> RequestRecord {
    let r = &rc.redactor;
    let url = if conn.database.is_empty() {
        conn.url.clone()
    } else {
        format!("{}/?database={}", conn.url, conn.database)
    };
    RequestRecord {
        method: "SQL".into(),
        url_readable: r.redact(&url),
        url: r.redact(&url),
        query: Vec::new(),
        headers: BTreeMap::from([("X-ClickHouse-User".to_string(), r.redact(&conn.user))]),
        body: Some(r.redact(sql)),
    }
}

/// Completes a query's attempt with its result or failure (masked).
fn fill_result(
    a: &mut Attempt,
    result: &Result<QueryResult, SqlFailure>,
    took: Duration,
    delay: Option<Duration>,
    rc: &RunContext,
) {
    let r = &rc.redactor;
    a.response = None;
    a.transport_error = None;
    a.server_error = None;
    match result {
        Ok(res) => {
            a.response = Some(ResponseRecord {
                status: 200,
                headers: BTreeMap::new(),
                body: r.redact(&res.raw),
                body_file: None,
                body_bytes: None,
                body_excerpt: false,
            });
            a.code = "OK".to_string();
        }
        Err(f) => {
            a.code = f.code();
            match f {
                SqlFailure::Transport(t) => {
                    let mut t = t.clone();
                    t.message = r.redact(&t.message);
                    a.transport_error = Some(t);
                }
                SqlFailure::Server(m) => a.server_error = Some(r.redact(m)),
            }
        }
    }
    a.duration_ms = took.as_millis() as u64;
    a.retry_after_ms = delay.map(|d| d.as_millis() as u64);
}

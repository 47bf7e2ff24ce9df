//! Execute stage: SQL over ClickHouse's HTTP interface with the `clickhouse` crate;
//! results are read generically as `FORMAT JSON` (column names and types + rows), which
//! ClickHouse 18.16 and current releases both speak. http:// and https:// both work:
//! TLS is rustls with the verifier HTTP steps use (the machine's roots plus the step's
//! `tls.ca_file`).
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use serde_json::{Map, Value};

use crate::record::{TransportError, TransportKind};

/// Where and as whom queries run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlConn {
    /// HTTP URL of the server, without credentials.
    pub url: String,
    /// Database (empty: the user's default).
    pub database: String,
    /// User.
    pub user: String,
    /// Password.
    pub password: String,
    /// Per-query timeout.
    pub timeout: Duration,
    /// CA certificates trusted besides the machine's roots (a resolved path).
    pub ca_file: Option<PathBuf>,
}

/// The client of one SQL step: HTTP/1.1 over plain TCP or TLS, connections kept alive
/// between the step's queries.
#[derive(Clone)]
pub struct SqlClient(clickhouse::Client);

impl SqlClient {
    /// A client trusting the machine's roots and, if given, the CA file's certificates;
    /// the file is read here, so an unreadable one is reported before any query.
    pub fn new(ca_file: Option<&Path>) -> Result<SqlClient, String> {
        let roots = match ca_file {
            Some(path) => super::tls::read_ca_file(path)?,
            None => Vec::new(),
        };
        // As the `clickhouse` crate's own default client: TCP keep-alive 60 s, idle
        // connections dropped after 2 s (before the server's 3 s keep_alive_timeout).
        let mut tcp = HttpConnector::new();
        tcp.set_keepalive(Some(Duration::from_secs(60)));
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(super::tls::client_config(roots)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(2))
            .build(connector);
        Ok(SqlClient(clickhouse::Client::with_http_client(http)))
    }
}

/// A query's result, decoded generically.
#[derive(Clone, Debug, Default)]
pub struct QueryResult {
    /// `(name, type)` of every column.
    pub columns: Vec<(String, String)>,
    /// Rows as JSON objects; 64-bit integers stay exact (ClickHouse sends them as strings).
    pub rows: Vec<Map<String, Value>>,
    /// The server's JSON answer as received.
    pub raw: String,
}

/// Why a query gave no result.
#[derive(Clone, Debug)]
pub enum SqlFailure {
    /// The server was not reached or did not answer in time.
    Transport(TransportError),
    /// The server answered with an error (e.g. `Code: 60. DB::Exception: Table … doesn't exist`).
    Server(String),
}

impl SqlFailure {
    /// Whether another attempt may help: transport failures and server-side timeouts
    /// (`Code: 159`, `Code: 209`), not syntax errors or missing tables.
    pub fn is_retryable(&self, on_timeout: bool, on_connect: bool) -> bool {
        match self {
            SqlFailure::Transport(t) if t.kind == TransportKind::Timeout => on_timeout,
            SqlFailure::Transport(t) => t.kind.is_connection_failure() && on_connect,
            SqlFailure::Server(msg) => {
                on_timeout && (msg.contains("Code: 159") || msg.contains("Code: 209"))
            }
        }
    }

    /// The code the report shows: `000` for no answer, `Code: NN` for a server error.
    pub fn code(&self) -> String {
        match self {
            SqlFailure::Transport(_) => "000".into(),
            SqlFailure::Server(msg) => server_code(msg)
                .map(|c| format!("Code: {c}"))
                .unwrap_or_else(|| "error".into()),
        }
    }
}

fn server_code(msg: &str) -> Option<u32> {
    let rest = msg.split("Code: ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The client for `conn`: its URL, user, password and database. `wait_end_of_query`: an
/// error in the middle of a result becomes an error status, not a 200 with the exception
/// appended to the data (18.16).
fn connected(client: &SqlClient, conn: &SqlConn) -> clickhouse::Client {
    let mut client = client
        .0
        .clone()
        .with_url(&conn.url)
        .with_user(&conn.user)
        .with_setting("wait_end_of_query", "1");
    if !conn.password.is_empty() {
        client = client.with_password(&conn.password);
    }
    if !conn.database.is_empty() {
        client = client.with_database(&conn.database);
    }
    client
}

/// Runs one query; returns the result or why there is none, and how long it took.
pub async fn run_query(
    client: &SqlClient,
    conn: &SqlConn,
    sql: &str,
) -> (Result<QueryResult, SqlFailure>, Duration) {
    let started = Instant::now();
    let client = connected(client, conn);
    let fetch = async {
        let mut cursor = client.query_raw(sql).fetch_bytes("JSON")?;
        cursor.collect().await
    };
    let result = match tokio::time::timeout(conn.timeout, fetch).await {
        Err(_) => Err(SqlFailure::Transport(TransportError {
            kind: TransportKind::Timeout,
            message: format!("no answer within {} ms", conn.timeout.as_millis()),
        })),
        Ok(Err(e)) => Err(classify(e)),
        Ok(Ok(bytes)) => decode(&String::from_utf8_lossy(&bytes)),
    };
    (result, started.elapsed())
}

/// Why a streamed query stopped short.
#[derive(Debug)]
pub enum StreamFailure {
    /// The query failed (as [`run_query`] reports it).
    Sql(SqlFailure),
    /// A row could not be taken (not JSON, or the reader refused it).
    Row(String),
}

/// Runs a query whose rows are read as they stream (`FORMAT JSONEachRow`, one JSON
/// object a line) and handed to `each` one by one as text, none kept; returns how many,
/// and how long it took. `conn.timeout` bounds the whole read.
pub async fn stream_rows(
    client: &SqlClient,
    conn: &SqlConn,
    sql: &str,
    mut each: impl FnMut(&str) -> Result<(), String>,
) -> (Result<u64, StreamFailure>, Duration) {
    let started = Instant::now();
    let client = connected(client, conn);
    let read = async {
        let mut cursor = client
            .query_raw(sql)
            .fetch_bytes("JSONEachRow")
            .map_err(|e| StreamFailure::Sql(classify(e)))?;
        let mut pending: Vec<u8> = Vec::new();
        let mut rows = 0u64;
        let mut take = |line: &[u8], rows: &mut u64| -> Result<(), StreamFailure> {
            if line.iter().all(u8::is_ascii_whitespace) {
                return Ok(());
            }
            let row = std::str::from_utf8(line).map_err(|e| {
                StreamFailure::Row(format!("row {} is not UTF-8 text: {e}", *rows + 1))
            })?;
            *rows += 1;
            each(row).map_err(StreamFailure::Row)
        };
        while let Some(chunk) = cursor
            .next()
            .await
            .map_err(|e| StreamFailure::Sql(classify(e)))?
        {
            pending.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
                take(&pending[start..start + end], &mut rows)?;
                start += end + 1;
            }
            pending.drain(..start);
        }
        take(&pending, &mut rows)?;
        Ok(rows)
    };
    let result = match tokio::time::timeout(conn.timeout, read).await {
        Err(_) => Err(StreamFailure::Sql(SqlFailure::Transport(TransportError {
            kind: TransportKind::Timeout,
            message: format!("no whole answer within {} ms", conn.timeout.as_millis()),
        }))),
        Ok(r) => r,
    };
    (result, started.elapsed())
}

fn classify(err: clickhouse::error::Error) -> SqlFailure {
    use clickhouse::error::Error as E;
    match err {
        E::BadResponse(msg) => SqlFailure::Server(msg.trim().to_string()),
        E::TimedOut => SqlFailure::Transport(TransportError {
            kind: TransportKind::Timeout,
            message: "timeout expired".into(),
        }),
        E::Network(e) => SqlFailure::Transport(TransportError {
            // Refused, or dropped mid-answer: both retried under `on_connect_error`.
            kind: super::transport::kind_of(&*e).unwrap_or(TransportKind::Refused),
            message: super::transport::full_message(&*e),
        }),
        other => SqlFailure::Transport(TransportError {
            kind: TransportKind::Other,
            message: other.to_string(),
        }),
    }
}

/// Decodes a `FORMAT JSON` answer: `{"meta":[{"name","type"}], "data":[{…}], …}`.
pub fn decode(text: &str) -> Result<QueryResult, SqlFailure> {
    let bad = |why: &str| {
        SqlFailure::Server(format!(
            "unexpected answer ({why}): {}",
            text.chars().take(300).collect::<String>()
        ))
    };
    // Statements without a result set (CREATE, INSERT) answer nothing.
    if text.trim().is_empty() {
        return Ok(QueryResult::default());
    }
    let v: Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
    let columns = v["meta"]
        .as_array()
        .ok_or_else(|| bad("no meta"))?
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let rows = v["data"]
        .as_array()
        .ok_or_else(|| bad("no data"))?
        .iter()
        .filter_map(|r| r.as_object().cloned())
        .collect();
    Ok(QueryResult {
        columns,
        rows,
        raw: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_meta_and_rows_keeping_64_bit_integers_exact() {
        let r = decode(r#"{"meta":[{"name":"c","type":"UInt64"}],"data":[{"c":"18446744073709551615"}],"rows":1}"#).unwrap();
        assert_eq!(r.columns, vec![("c".to_string(), "UInt64".to_string())]);
        assert_eq!(r.rows[0]["c"], "18446744073709551615");
    }

    #[test]
    fn server_codes_and_retryability() {
        let missing = SqlFailure::Server(
            "Code: 60, e.displayText() = DB::Exception: Table zakaz.x doesn't exist.".into(),
        );
        assert_eq!(missing.code(), "Code: 60");
        assert!(!missing.is_retryable(true, true));
        let timeout = SqlFailure::Server("Code: 159. DB::Exception: Timeout exceeded".into());
        assert!(timeout.is_retryable(true, true));
        assert!(decode("garbage").is_err());
    }
}

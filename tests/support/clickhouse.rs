//! Test setup: a real ClickHouse server on 127.0.0.1 with the `zakaz` schema, started by
//! `scripts/clickhouse-local.sh` with all its state in a temporary folder.
//!
//! Debian 12 ships ClickHouse 18.16: HTTP interface only, one statement per request,
//! `LowCardinality` behind `allow_experimental_low_cardinality_type=1` (set in the
//! server's default profile), UInt64/Int64 quoted as strings in JSON formats, DateTime
//! written `YYYY-MM-DD hh:mm:ss` in the server's timezone (UTC here).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The password-protected user of every test server.
pub const USER: &str = "qtscen";
/// `USER`'s password; tests check that it never appears in any output.
pub const PASSWORD: &str = "ch-SECRET-pass-42";

/// A running server; dropping it stops the server and deletes its folder.
pub struct ClickHouse {
    pub http_port: u16,
    dir: tempfile::TempDir,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/clickhouse-local.sh")
}

/// Runs the script; Ok(stdout) on success, Err(what failed, with its stderr) otherwise.
fn run_script(args: &[&str]) -> Result<String, String> {
    run_script_with(args, &[])
}

/// [`run_script`] with extra environment variables.
fn run_script_with(args: &[&str], env: &[(&str, &Path)]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .envs(env.iter().copied())
        // A killed test binary must not leave a server behind: the script's watcher
        // stops the server once this process is gone.
        .env("QTSCEN_CH_WATCH_PID", std::process::id().to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`clickhouse-local.sh {}` failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// `clickhouse-local.sh install`, once per test binary (the script also locks across
/// processes, so parallel test binaries install once).
fn install() -> Result<(), String> {
    static INSTALL: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALL
        .get_or_init(|| run_script(&["install"]).map(drop))
        .clone()
}

impl ClickHouse {
    /// Installs ClickHouse if needed (root + apt), starts a server on free loopback
    /// ports and creates the `zakaz` schema without `_loaded_at`.
    ///
    /// Returns `None`, after printing the reason to stderr, only when ClickHouse is not
    /// installed and cannot be (not root, no apt, no network); the caller decides
    /// whether that fails the test (`.expect("ClickHouse")`). A server that is
    /// installed but fails to start or to take the schema panics with the script's
    /// output and the tail of the server log.
    pub fn start() -> Option<ClickHouse> {
        Self::start_with_loaded_at(false)
    }

    /// Like [`ClickHouse::start`]; with `true` the staging table
    /// `zakaz.stg_qtickets_api_orders_raw` also has `_loaded_at DateTime DEFAULT now()`.
    pub fn start_with_loaded_at(with_loaded_at: bool) -> Option<ClickHouse> {
        Self::start_with(with_loaded_at, "migrated")
    }

    /// Like [`ClickHouse::start`], with the schema a fresh `bootstrap_clickhouse.sh`
    /// leaves: without the utm migration (no `utm_*`, no `payload_json`, no
    /// `fact_qtickets_sales_utm_daily`).
    pub fn start_bootstrap() -> Option<ClickHouse> {
        Self::start_with(false, "bootstrap")
    }

    fn start_with(with_loaded_at: bool, flavour: &str) -> Option<ClickHouse> {
        let ch = Self::launch(&[])?;
        let with = if with_loaded_at { "1" } else { "0" };
        run_script(&["schema", &ch.http_port.to_string(), with, flavour])
            .unwrap_or_else(|e| panic!("{e}"));
        Some(ch)
    }

    /// A server that also serves https with this PEM certificate and key (see
    /// [`ClickHouse::https_port`]); no `zakaz` schema. `None` as for [`ClickHouse::start`].
    pub fn start_with_https(cert: &Path, key: &Path) -> Option<ClickHouse> {
        Self::launch(&[("QTSCEN_CH_HTTPS_CERT", cert), ("QTSCEN_CH_HTTPS_KEY", key)])
    }

    fn launch(env: &[(&str, &Path)]) -> Option<ClickHouse> {
        if let Err(reason) = install() {
            eprintln!("ClickHouse is not available: {reason}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("qtscen-ch-")
            .tempdir()
            .expect("a temporary folder for ClickHouse");
        let dir_arg = dir.path().to_str().expect("temporary folder path is UTF-8");
        let stdout = run_script_with(&["start", dir_arg], env).unwrap_or_else(|e| panic!("{e}"));
        let http_port: u16 = stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("clickhouse-local.sh start printed {stdout:?}"));
        // From here on, Drop stops the server.
        Some(ClickHouse { http_port, dir })
    }

    /// The https port of a server from [`ClickHouse::start_with_https`].
    pub fn https_port(&self) -> u16 {
        let file = self.dir.path().join("https_port");
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{} holds {text:?}", file.display()))
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The server's folder: `log/clickhouse-server.log` and `.err.log` are there.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs one statement as `default` (no password): the response body on 200, the
    /// error body (`Code: 60, e.displayText() = DB::Exception: Table zakaz.x doesn't
    /// exist., e.what() = DB::Exception`) on any other status or a transport failure.
    /// For INSERT, put the data after the statement (`... FORMAT JSONEachRow {...}`).
    pub fn query(&self, sql: &str) -> Result<String, String> {
        self.query_with_auth(None, sql)
    }

    /// Like [`ClickHouse::query`], as `user` with `password` (`X-ClickHouse-User`/`-Key`).
    pub fn query_as(&self, user: &str, password: &str, sql: &str) -> Result<String, String> {
        self.query_with_auth(Some((user, password)), sql)
    }

    /// Runs a SELECT with `FORMAT JSONEachRow` appended and parses one object per line.
    /// 64-bit integers come back as JSON strings (`"5"`), as ClickHouse writes them.
    pub fn rows(&self, select: &str) -> Result<Vec<serde_json::Value>, String> {
        let body = self.query(&format!("{select} FORMAT JSONEachRow"))?;
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
            .collect()
    }

    fn query_with_auth(&self, auth: Option<(&str, &str)>, sql: &str) -> Result<String, String> {
        // wait_end_of_query: an error in the middle of a result gives a 500, not a 200
        // whose body ends with the exception text.
        match post(self.http_port, "/?wait_end_of_query=1", auth, sql) {
            Ok((200, body)) => Ok(body),
            Ok((_, body)) => Err(body),
            Err(e) => Err(format!("HTTP request to {} failed: {e}", self.url())),
        }
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        let dir = self.dir.path().to_string_lossy();
        if let Err(e) = run_script(&["stop", &dir]) {
            eprintln!("{e}");
        }
    }
}

/// One HTTP/1.1 POST to 127.0.0.1:`port` with `Connection: close`; returns status and
/// body (chunked transfer encoding decoded).
pub fn post(
    port: u16,
    path_and_query: &str,
    auth: Option<(&str, &str)>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "POST {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((user, password)) = auth {
        head.push_str(&format!(
            "X-ClickHouse-User: {user}\r\nX-ClickHouse-Key: {password}\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn parse_response(raw: &[u8]) -> std::io::Result<(u16, String)> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of HTTP headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or_else(|| bad("body shorter than Content-Length"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut rest: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("truncated chunk size"))?;
        let size_field = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_field.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| bad(format!("bad chunk size {size_hex:?}")))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or_else(|| bad("truncated chunk"))?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(size + 2..)
            .ok_or_else(|| bad("truncated chunk end"))?;
    }
}

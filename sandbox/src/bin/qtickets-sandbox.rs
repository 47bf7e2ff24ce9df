//! `qtickets-sandbox`: runs the QTickets-compatible sandbox server from the command line.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use jiff::Timestamp;
use qtickets_sandbox::{
    API_PREFIX, FAULT_SYNTAX, FaultRule, PaginationStyle, SandboxConfig, SandboxMode, serve,
};

/// A QTickets-compatible sandbox: deterministic orders and events, the compact-offset
/// bug, selectable pagination shapes and injectable faults. Loopback only.
#[derive(Debug, Parser)]
#[command(name = "qtickets-sandbox", version, after_help = FAULT_SYNTAX)]
struct Args {
    /// Address to listen on; only loopback addresses are accepted (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:0", value_parser = parse_loopback)]
    listen: SocketAddr,

    /// Bearer token every API request must carry.
    #[arg(long, default_value = "sandbox-token")]
    token: String,

    /// The sandbox clock as RFC 3339 (e.g. 2025-11-05T16:46:54+03:00); default: now.
    #[arg(long, value_parser = parse_now)]
    now: Option<Timestamp>,

    /// Number of orders to generate.
    #[arg(long, default_value_t = 450)]
    orders: usize,

    /// Number of events to generate.
    #[arg(long, default_value_t = 6)]
    events: usize,

    /// Seed of the data generator.
    #[arg(long, default_value_t = qtickets_sandbox::DEFAULT_SEED)]
    seed: u64,

    /// Pagination shape: full, has-next, next-page, total-pages or links-only.
    #[arg(long, default_value = "full")]
    pagination: PaginationStyle,

    /// Honour datetime filters with a compact offset (+0300) or none, instead of
    /// silently dropping them as the buggy production environment does.
    #[arg(long)]
    strict_offsets: bool,

    /// Which API to serve: qtickets, or ads (an OAuth2 client-credentials token at
    /// /oauth/token, cursor-paged /ads/v2/stats, Link-header-paged /ads/v2/campaigns;
    /// the client id is `ads-client`, the secret is --token).
    #[arg(long, default_value = "qtickets")]
    mode: SandboxMode,

    /// A fault rule, e.g. "GET /orders 503 x2" (repeatable; see the syntax below).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<FaultRule>,

    /// Write the bound port (followed by a newline) to this file once listening.
    #[arg(long, value_name = "PATH")]
    port_file: Option<PathBuf>,
}

fn parse_loopback(raw: &str) -> Result<SocketAddr, String> {
    let addr = match raw.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .map_err(|e| format!("bad port {port:?}: {e}"))?,
        None => raw
            .parse::<SocketAddr>()
            .map_err(|e| format!("{raw:?} is not an IP:PORT address: {e}"))?,
    };
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!(
            "{addr} is not a loopback address; the sandbox only listens on 127.0.0.1 or ::1"
        ))
    }
}

fn parse_now(raw: &str) -> Result<Timestamp, String> {
    raw.parse::<Timestamp>()
        .map_err(|e| format!("{raw:?} is not an RFC 3339 timestamp: {e}"))
}

/// Writes `port` to `path` via a temporary file and a rename, so readers never see half a file.
fn write_port_file(path: &Path, port: u16) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path)
}

/// Registers for Ctrl-C/SIGINT and (on Unix) SIGTERM right away, so a signal that
/// arrives after the banner is never missed; the returned future completes on either.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("qtickets-sandbox: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = SandboxConfig {
        token: args.token,
        now: args.now,
        orders: args.orders,
        events: args.events,
        seed: args.seed,
        ignore_compact_offsets: !args.strict_offsets,
        pagination_style: args.pagination,
        faults: args.faults,
        mode: args.mode,
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("qtickets-sandbox: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("qtickets-sandbox: cannot read the bound address: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.port_file
        && let Err(e) = write_port_file(path, addr.port())
    {
        eprintln!(
            "qtickets-sandbox: cannot write the port file {}: {e}",
            path.display()
        );
        return ExitCode::FAILURE;
    }
    let prefix = match args.mode {
        SandboxMode::Qtickets => API_PREFIX,
        SandboxMode::Ads => qtickets_sandbox::ADS_PREFIX,
    };
    let mut stdout = std::io::stdout().lock();
    // If stdout is closed nobody is reading the banner; keep serving anyway.
    let _ = writeln!(
        stdout,
        "qtickets-sandbox listening on http://{addr}{prefix}"
    );
    let _ = stdout.flush();
    drop(stdout);

    tokio::select! {
        result = serve(listener, config) => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("qtickets-sandbox: server error: {e}");
                ExitCode::FAILURE
            }
        },
        () = stop => ExitCode::SUCCESS,
    }
}

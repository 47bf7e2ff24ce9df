//! The HTTP/1 server loop: per-connection hyper service, request recording and fault injection.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HOST};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use jiff::Timestamp;
use tokio::net::{TcpListener, TcpStream};

use super::config::SandboxConfig;
use super::control::control;
use super::faults::{API_PREFIX, FaultKind};
use super::query::decode_query;
use super::record::RecordedRequest;
use super::response::{self, Resp};
use super::routes::{ApiRequest, api};
use super::state::State;

/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by a sandbox fault rule")
    }
}

impl std::error::Error for DropConnection {}

/// Serves the sandbox on `listener` until the future is dropped or accepting fails
/// for good. Data is generated from `config` before the first connection is accepted.
pub async fn serve(listener: TcpListener, config: SandboxConfig) -> io::Result<()> {
    let state = Arc::new(State::new(config, listener.local_addr()?));
    run(listener, state, std::future::pending::<()>()).await
}

/// Accepts connections until `shutdown` completes.
pub(crate) async fn run(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, Arc::clone(&state)));
                }
                // Transient (aborted handshakes, too many open files): keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    // Best effort: a failure only costs latency.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { handle(&state, req).await }
    });
    // Errors end this connection only: client hang-ups and deliberate drops. Half-closed
    // connections are served like production's web server does: a client that shuts its
    // write side after the request (busybox nc, the example loader's GET with a body)
    // still gets its answer.
    let _ = http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The path after `/api/rest/v1`, if `path` is under it.
fn api_path(path: &str) -> Option<&str> {
    match path.strip_prefix(API_PREFIX)? {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

async fn read_body(body: Incoming) -> Result<String, Resp> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(String::from_utf8_lossy(&collected.to_bytes()).into_owned()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(response::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )),
        Err(_) => Err(response::error(
            StatusCode::BAD_REQUEST,
            "could not read the request body",
        )),
    }
}

async fn handle(state: &State, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(text) => text,
        Err(resp) => return Ok(resp),
    };
    let path = parts.uri.path();
    if let Some(sub) = path.strip_prefix("/__sandbox")
        && (sub.is_empty() || sub.starts_with('/'))
    {
        return Ok(control(state, &parts.method, sub, &body));
    }

    let raw_query = parts.uri.query().unwrap_or("");
    let query = decode_query(raw_query);
    let header_text = |name| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let authorization = header_text(AUTHORIZATION);
    let origin = match header_text(HOST) {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => format!("http://{}", state.local_addr),
    };
    state.record(RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: path.to_owned(),
        query: raw_query.to_owned(),
        query_pairs: query.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.clone(),
        time: Timestamp::now(),
    });

    if state.mode == super::config::SandboxMode::Ads {
        let content_type = header_text(hyper::header::CONTENT_TYPE);
        return Ok(super::ads::route(
            state,
            &super::ads::AdsRequest {
                method: &parts.method,
                path,
                query: &query,
                authorization: authorization.as_deref(),
                content_type: content_type.as_deref(),
                body: &body,
            },
        ));
    }
    let Some(api_path) = api_path(path) else {
        return Ok(response::not_found_html());
    };
    if let Some(rule) = state.faults.fire(parts.method.as_str(), api_path) {
        match rule.kind {
            FaultKind::Status(code) => return Ok(response::fault_status(code, rule.retry_after)),
            FaultKind::Delay(pause) => tokio::time::sleep(pause).await,
            FaultKind::Drop => return Err(DropConnection),
        }
    }
    Ok(api(
        state,
        &ApiRequest {
            method: &parts.method,
            api_path,
            query: &query,
            authorization: authorization.as_deref(),
            body: &body,
            origin,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_prefix_is_matched_on_segments() {
        assert_eq!(api_path("/api/rest/v1/orders"), Some("/orders"));
        assert_eq!(api_path("/api/rest/v1"), Some("/"));
        assert_eq!(api_path("/api/rest/v10/orders"), None);
        assert_eq!(api_path("/orders"), None);
    }
}

//! Building the sandbox's HTTP responses: JSON bodies, QTickets-style errors and the HTML 404.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// Every response the sandbox sends.
pub(crate) type Resp = Response<Full<Bytes>>;

fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &Value) -> Resp {
    with_body(status, "application/json", value.to_string())
}

/// The documented error shape: `{"error":"…","status":N}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Resp {
    json(
        status,
        &json!({"error": message, "status": status.as_u16()}),
    )
}

/// The answer of a status fault. 503 is exactly what production sent on 2025-11-05.
pub(crate) fn fault_status(code: u16, retry_after: Option<u32>) -> Resp {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if status == StatusCode::SERVICE_UNAVAILABLE {
        json(
            status,
            &json!({"error": "unknown error", "status": 503, "code": "UNKNOWN_ERROR"}),
        )
    } else {
        error(status, status.canonical_reason().unwrap_or("Some error"))
    };
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The HTML page an unknown path answers with (QTickets answers HTML, not JSON, there).
pub(crate) fn not_found_html() -> Resp {
    const PAGE: &str = "<!DOCTYPE html>\n<html lang=\"ru\">\n<head><meta charset=\"utf-8\"><title>404 Not Found</title></head>\n<body>\n<h1>404 — Страница не найдена</h1>\n<p>The requested URL was not found on this server (qtickets-sandbox).</p>\n</body>\n</html>\n";
    with_body(StatusCode::NOT_FOUND, "text/html; charset=utf-8", PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bodies() {
        let resp = fault_status(429, Some(1));
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            resp.headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        assert!(fault_status(503, None).headers().get(RETRY_AFTER).is_none());
        assert_eq!(not_found_html().status(), StatusCode::NOT_FOUND);
    }
}

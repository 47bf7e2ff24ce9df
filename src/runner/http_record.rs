//! Run stage: the record of an HTTP request — what was sent and what came back, masked
//! as it is recorded; a later page's body kept as an excerpt.
use crate::exec::{Body, ResolvedRequest};
use crate::record::{Attempt, RequestRecord, ResponseRecord, TransportError};

use super::RunContext;

/// What a request got: status, headers and body, or why there were none.
pub(super) type Answer =
    Result<(u16, std::collections::BTreeMap<String, String>, Body), TransportError>;

/// How many characters of a later page's body the record keeps.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// What was sent, masked (and the Basic credential a URL's user info makes).
fn request_record(req: &ResolvedRequest, url: &str, rc: &RunContext) -> RequestRecord {
    let r = &rc.redactor;
    let mut headers: Vec<(String, String)> = req.headers.clone();
    if let Some(basic) = userinfo_basic(url) {
        // What the client sends for `https://user:password@host`: its password is a
        // secret, in the Basic credential too.
        if let Some(password) = basic.1 {
            r.add([password]);
        }
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("Authorization".into(), basic.0));
        }
    }
    RequestRecord {
        method: req.method.clone(),
        url_readable: r.redact(&readable_url(url)),
        url: r.redact(url),
        query: req
            .query
            .iter()
            .map(|(k, v)| (k.clone(), r.redact(v)))
            .collect(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), r.redact(v)))
            .collect(),
        body: req.body.as_deref().map(|b| r.redact(b)),
    }
}

/// The record of a request as it goes out (no answer yet: code `000`), attempt 1 of 1.
pub(super) fn sent_attempt(
    req: &ResolvedRequest,
    url: &str,
    fallback: bool,
    started_at: String,
    rc: &RunContext,
) -> Attempt {
    let request = request_record(req, url, rc);
    let curl = crate::curl::curl_line(&request);
    let mut attempt = Attempt::pending(request, started_at);
    attempt.fallback = fallback;
    attempt.curl = Some(curl);
    attempt
}

/// An attempt recorded in one go, after its answer (a token request of `auth:`).
pub(super) fn finished_attempt(
    req: &ResolvedRequest,
    url: &str,
    result: &Answer,
    fallback: bool,
    started_at: String,
    duration: std::time::Duration,
    rc: &RunContext,
) -> Attempt {
    let mut a = sent_attempt(req, url, fallback, started_at, rc);
    fill_answer(&mut a, result, (duration, None), false, rc);
    a
}

/// Completes an attempt with its answer or transport failure (masked); with `excerpt`,
/// a 2xx body is kept as its first [`EXCERPT_CHARS`] characters.
pub(super) fn fill_answer(
    a: &mut Attempt,
    result: &Answer,
    (duration, delay): (std::time::Duration, Option<std::time::Duration>),
    excerpt: bool,
    rc: &RunContext,
) {
    let r = &rc.redactor;
    match result {
        Ok((status, headers, body)) => {
            let excerpt = excerpt && (200..300).contains(status);
            let (text, file, bytes, cut) = match body {
                // A short body is whole, excerpt or not.
                Body::Text(t) if excerpt && t.chars().nth(EXCERPT_CHARS).is_some() => {
                    // Masked as far as any secret starting in the excerpt can reach, not
                    // all of a large body.
                    let mut end = t.len().min(EXCERPT_CHARS * 4 + 8192);
                    while !t.is_char_boundary(end) {
                        end -= 1;
                    }
                    (
                        r.cut(&t[..end], EXCERPT_CHARS),
                        None,
                        Some(t.len() as u64),
                        true,
                    )
                }
                Body::Text(t) => (r.redact(t), None, None, false),
                // Its start, cut where the redactor sees the cut.
                Body::File(f) if excerpt => (
                    r.cut(
                        &format!("{}{}", f.head, crate::secrets::CUT_MARK),
                        EXCERPT_CHARS,
                    ),
                    Some(f.name.clone()),
                    Some(f.bytes),
                    true,
                ),
                Body::File(f) => (
                    r.redact(&format!("{}{}", f.head, crate::secrets::CUT_MARK)),
                    Some(f.name.clone()),
                    Some(f.bytes),
                    false,
                ),
            };
            a.response = Some(ResponseRecord {
                status: *status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.clone(), r.redact(v)))
                    .collect(),
                body: text,
                body_file: file,
                body_bytes: bytes,
                body_excerpt: cut,
            });
            a.transport_error = None;
            a.code = format!("{status:03}");
        }
        Err(t) => {
            a.response = None;
            a.transport_error = Some(TransportError {
                kind: t.kind,
                message: r.redact(&t.message),
            });
            a.code = "000".to_string();
        }
    }
    a.duration_ms = duration.as_millis() as u64;
    a.retry_after_ms = delay.map(|d| d.as_millis() as u64);
}

/// The `Authorization: Basic …` value a client derives from a URL's user info, and the
/// decoded password.
fn userinfo_basic(url: &str) -> Option<(String, Option<String>)> {
    use base64::Engine;
    let parsed = reqwest::Url::parse(url).ok()?;
    if parsed.username().is_empty() && parsed.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(parsed.username());
    let password = parsed.password().map(decode);
    let pair = format!("{user}:{}", password.as_deref().unwrap_or(""));
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    Some((value, password))
}

/// The URL with its query string percent-decoded (`+` as a space), for people to read.
pub fn readable_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let decoded = percent_encoding::percent_decode_str(&query.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            format!("{base}?{decoded}")
        }
        None => url.to_string(),
    }
}

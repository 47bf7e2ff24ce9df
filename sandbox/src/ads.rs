//! The "ads API" mode: a second, very ordinary API style for scenarios to be tried
//! against — an OAuth2 client-credentials token endpoint (form body or Basic client
//! auth), statistics paged by an opaque `next_cursor`, a campaign list paged by an RFC
//! 8288 `Link: <…>; rel="next"` header with relative URLs, a 429 with `Retry-After`, and
//! tokens that expire mid-walk (401).
//!
//! Routes (no prefix other than these): `POST /oauth/token`, `GET /ads/v2/stats`
//! (`date_from`, `date_to`, `limit`, `cursor` or `offset`; `account=loop` makes the
//! server hand out a cursor it already gave), `GET /ads/v2/campaigns` (`page`, `per_page`).
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use base64::Engine;
use hyper::header::{HeaderValue, LINK, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::response::{self, Resp};
use super::state::State;
use super::sync::lock;

/// The client id the token endpoint accepts (the secret is the sandbox's token).
pub const ADS_CLIENT_ID: &str = "ads-client";
/// API requests one access token is good for; the next one answers 401 (an expired
/// token, as a long walk meets it).
pub const ADS_TOKEN_USES: u32 = 5;
/// Where the ads API's routes live.
pub const ADS_PREFIX: &str = "/ads/v2";

const CAMPAIGNS: [&str; 7] = [
    "Осенняя распродажа",
    "Brand search",
    "Retargeting 30d",
    "Театр: премьеры",
    "Концерты — Москва",
    "Lookalike 2%",
    "Video pre-roll",
];

/// Tokens handed out and what happened once.
#[derive(Debug, Default)]
pub(crate) struct AdsState {
    issued: AtomicU32,
    /// Token → API requests it was used for.
    tokens: Mutex<HashMap<String, u32>>,
    /// The stats walk's first request for its second page was answered 429 already.
    throttled: AtomicBool,
}

/// One ads API request.
pub(crate) struct AdsRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(String, String)],
    pub(crate) authorization: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a str,
}

impl AdsRequest<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers an ads API request.
pub(crate) fn route(state: &State, req: &AdsRequest) -> Resp {
    match (req.method, req.path) {
        (&Method::POST, "/oauth/token") => token(state, req),
        (&Method::GET, p) if p == format!("{ADS_PREFIX}/stats") => {
            authorized(state, req).unwrap_or_else(|| stats(state, req))
        }
        (&Method::GET, p) if p == format!("{ADS_PREFIX}/campaigns") => {
            authorized(state, req).unwrap_or_else(|| campaigns(req))
        }
        _ => response::error(StatusCode::NOT_FOUND, "no such route in the ads API"),
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    response::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn token(state: &State, req: &AdsRequest) -> Resp {
    if !req
        .content_type
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the token request must be a form (application/x-www-form-urlencoded)",
        );
    }
    let form = super::query::decode_query(req.body);
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    // client_secret_basic or client_secret_post.
    let basic = req
        .authorization
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| super::query::decode_query(&format!("x={s}"))[0].1.clone();
            Some((decode(id), decode(secret)))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            field("client_id").unwrap_or_default(),
            field("client_secret").unwrap_or_default(),
        ),
    };
    if id != ADS_CLIENT_ID || secret != state.token {
        let mut resp = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ads\""),
        );
        return resp;
    }
    let n = state.ads.issued.fetch_add(1, Ordering::SeqCst) + 1;
    // Opaque, with characters that encodings change.
    let raw = format!("ads:{n}:{}:{}", state.token.len(), state.now.as_second());
    let access = format!(
        "at{n}.{}+/=",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_bytes())
    );
    lock(&state.ads.tokens).insert(access.clone(), 0);
    let scope = field("scope").unwrap_or_else(|| "stats:read".into());
    response::json(
        StatusCode::OK,
        &json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": scope}),
    )
}

/// None when the bearer token is good (and counts the use); else the 401.
fn authorized(state: &State, req: &AdsRequest) -> Option<Resp> {
    let token = req
        .authorization
        .and_then(|a| a.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let mut tokens = lock(&state.ads.tokens);
    let (error, description) = match token.as_ref().and_then(|t| tokens.get_mut(t)) {
        Some(uses) if *uses < ADS_TOKEN_USES => {
            *uses += 1;
            return None;
        }
        Some(_) => ("invalid_token", "The access token expired"),
        None => ("invalid_token", "The access token is missing or unknown"),
    };
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, error, description);
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    Some(resp)
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

fn stats(state: &State, req: &AdsRequest) -> Resp {
    let day = |name: &str| {
        req.param(name)
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
    };
    let (Some(from), Some(to)) = (day("date_from"), day("date_to")) else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "date_from and date_to (YYYY-MM-DD) are required",
        );
    };
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(5)
        .clamp(1, 100);
    // `offset` (offset/limit paging) or an opaque `cursor`.
    let offset = match req.param("cursor").filter(|c| !c.is_empty()) {
        None => match req.param("offset").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(o)) => o,
            Some(Err(_)) => return response::error(StatusCode::BAD_REQUEST, "invalid offset"),
        },
        Some(c) => match decode_cursor(c) {
            Some(o) => o,
            None => return response::error(StatusCode::BAD_REQUEST, "invalid cursor"),
        },
    };
    if offset == limit && !state.ads.throttled.swap(true, Ordering::SeqCst) {
        let mut resp = response::error(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    }
    let mut rows = Vec::new();
    let mut d = from;
    let mut i = 0u64;
    while d <= to && rows.len() < 1000 {
        for (c, _) in CAMPAIGNS.iter().enumerate().take(2) {
            i += 1;
            let noon = d
                .at(12, 0, 0, 0)
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp().as_second())
                .unwrap_or(0);
            rows.push(json!({
                "date": d.to_string(),
                "campaign_id": 1001 + c as u64,
                "impressions": 1000 + 37 * i,
                "clicks": 10 + 3 * i,
                "cost_micros": 2_500_000 * i,
                "updated_at": noon,
            }));
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    let page: Vec<Value> = rows.iter().skip(offset).take(limit).cloned().collect();
    let next = offset + limit;
    let looping = req.param("account") == Some("loop") && offset >= limit;
    let next_cursor = if looping {
        // The server's bug: the third page points back at the second.
        Value::from(encode_cursor(offset))
    } else if next < rows.len() {
        Value::from(encode_cursor(next))
    } else {
        Value::Null
    };
    response::json(
        StatusCode::OK,
        &json!({"data": page, "meta": {"limit": limit, "next_cursor": next_cursor, "total": rows.len()}}),
    )
}

fn campaigns(req: &AdsRequest) -> Resp {
    let per_page = req
        .param("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(3)
        .clamp(1, 50);
    let page = req
        .param("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = CAMPAIGNS.len().div_ceil(per_page);
    let data: Vec<Value> = CAMPAIGNS
        .iter()
        .enumerate()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(i, name)| json!({"id": 1001 + i as u64, "name": name, "status": if i % 3 == 2 { "paused" } else { "active" }}))
        .collect();
    let mut resp = response::json(StatusCode::OK, &json!({ "data": data }));
    // Relative references, resolved against the request's URL (RFC 3986).
    let mut links = vec![format!(
        "<campaigns?page=1&per_page={per_page}>; rel=\"first\""
    )];
    if page < last {
        links.push(format!(
            "<campaigns?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        ));
    }
    links.push(format!(
        "<campaigns?page={last}&per_page={per_page}>; rel=\"last\""
    ));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        resp.headers_mut().insert(LINK, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_round_trip() {
        let c = encode_cursor(10);
        assert!(!c.contains("10"));
        assert_eq!(decode_cursor(&c), Some(10));
        assert_eq!(decode_cursor("nonsense"), None);
    }
}

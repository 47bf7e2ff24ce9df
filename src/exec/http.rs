//! Execute stage: HTTP over one shared keep-alive client; every outcome is data —
//! a timeout or a refused connection is an `Exchange` too, not an engine error.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::body::{Body, BodyPolicy, BodyReader};
use crate::record::{TransportError, TransportKind};

/// Redirects followed at most.
const MAX_REDIRECTS: u32 = 5;

/// Headers that carry credentials whatever their value.
fn is_credential(name: &str) -> bool {
    ["authorization", "cookie", "proxy-authorization"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

/// A request with every template rendered.
#[derive(Clone, Debug)]
pub struct ResolvedRequest {
    /// Upper-case method.
    pub method: String,
    /// URL without the query string.
    pub url: String,
    /// Query pairs in order (values already text; JSON encoded as JSON).
    pub query: Vec<(String, String)>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: Option<String>,
    /// Whole-answer timeout.
    pub timeout: Duration,
}

impl ResolvedRequest {
    /// The URL as sent, query string encoded.
    pub fn full_url(&self) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("invalid URL `{}`: {e}", self.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "invalid URL `{}`: only http and https are supported",
                self.url
            ));
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }
}

/// What one send produced.
#[derive(Debug)]
pub struct Exchange {
    /// How long it took.
    pub duration: Duration,
    /// Status, headers and body, or why there were none.
    pub result: Result<(u16, BTreeMap<String, String>, Body), TransportError>,
    /// Why the request was sent twice: the kept-alive connection it first went out on
    /// was closed by the server before any answer.
    pub resent: Option<String>,
}

/// The run's HTTP client: one for the machine's roots, and one per `tls.ca_file`.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    /// Clients that also trust a CA file, by its path, made at its first use.
    with_ca: Arc<Mutex<HashMap<PathBuf, reqwest::Client>>>,
    /// Origins whose last answer left a connection open for the next request: a failure
    /// there before any answer is likely that connection gone stale.
    kept_alive: Arc<Mutex<HashSet<String>>>,
}

impl HttpClient {
    /// A keep-alive client; no proxy from the environment, no redirects followed silently.
    pub fn new() -> Result<Self, String> {
        Ok(HttpClient {
            client: build(Vec::new())?,
            with_ca: Arc::default(),
            kept_alive: Arc::default(),
        })
    }

    /// The same client, trusting the CA certificates of `ca_file` too (read once a run).
    pub fn with_ca_file(&self, ca_file: &Path) -> Result<HttpClient, String> {
        let mut clients = self.with_ca.lock().unwrap_or_else(|e| e.into_inner());
        let client = match clients.get(ca_file) {
            Some(c) => c.clone(),
            None => {
                let c = build(super::tls::read_ca_file(ca_file)?)?;
                clients.insert(ca_file.to_path_buf(), c.clone());
                c
            }
        };
        Ok(HttpClient {
            client,
            with_ca: self.with_ca.clone(),
            kept_alive: self.kept_alive.clone(),
        })
    }

    /// Sends one request; never fails — failures are recorded in the exchange.
    /// `url` is `req.full_url()`, made once by the caller (it is also recorded).
    /// Redirects are followed (5 at most); on a redirect to another origin every
    /// credential header, and every header whose value `is_secret` says carries a
    /// secret, is left behind. The body is kept as `body` says (in memory up to a cap,
    /// in a file beyond it).
    pub async fn send(
        &self,
        req: &ResolvedRequest,
        url: &reqwest::Url,
        is_secret: &(dyn Fn(&str) -> bool + Sync),
        body: BodyPolicy<'_>,
    ) -> Exchange {
        let started = Instant::now();
        let mut resent = None;
        let result = self.try_send(req, url, is_secret, &mut resent, body).await;
        Exchange {
            duration: started.elapsed(),
            result,
            resent,
        }
    }

    /// Whether the last answer from `url`'s origin left its connection in the pool.
    fn pooled(&self, url: &reqwest::Url) -> bool {
        let origin = url.origin().ascii_serialization();
        self.kept_alive
            .lock()
            .map(|set| set.contains(&origin))
            .unwrap_or(false)
    }

    /// Notes whether the connection that carried an answer from `url` stays open.
    fn note_connection(&self, url: &reqwest::Url, kept: bool) {
        let origin = url.origin().ascii_serialization();
        if let Ok(mut set) = self.kept_alive.lock() {
            if kept {
                set.insert(origin);
            } else {
                set.remove(&origin);
            }
        }
    }

    async fn try_send(
        &self,
        req: &ResolvedRequest,
        url: &reqwest::Url,
        is_secret: &(dyn Fn(&str) -> bool + Sync),
        resent: &mut Option<String>,
        policy: BodyPolicy<'_>,
    ) -> Result<(u16, BTreeMap<String, String>, Body), TransportError> {
        let other = |message: String| TransportError {
            kind: TransportKind::Other,
            message,
        };
        let mut method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| other(format!("invalid method `{}`", req.method)))?;
        let mut url = url.clone();
        let mut headers = req.headers.clone();
        let mut body = req.body.clone();
        let mut hops = 0;
        let response = loop {
            let make = || {
                let mut builder = self
                    .client
                    .request(method.clone(), url.clone())
                    .timeout(req.timeout);
                for (k, v) in &headers {
                    builder = builder.header(k.as_str(), v.as_str());
                }
                if let Some(body) = &body {
                    builder = builder.body(body.clone());
                }
                builder
            };
            let response = match make().send().await {
                Ok(r) => r,
                // A server may close an idle keep-alive connection just as a request goes
                // out on it (without `Connection: close`): nothing was answered, so an
                // idempotent request is sent again, once, on a new connection — as curl
                // does — and the record says so.
                Err(e)
                    if resent.is_none()
                        && idempotent(&method)
                        && self.pooled(&url)
                        && super::transport::closed_before_answer(&e) =>
                {
                    self.note_connection(&url, false);
                    *resent = Some(format!(
                        "sent again on a new connection: the kept-alive connection was closed before any answer ({})",
                        super::transport::full_message(&e)
                    ));
                    make().send().await.map_err(classify)?
                }
                Err(e) => {
                    self.note_connection(&url, false);
                    return Err(classify(e));
                }
            };
            let closes = response
                .headers()
                .get(reqwest::header::CONNECTION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
            self.note_connection(
                &url,
                !closes && response.version() != reqwest::Version::HTTP_10,
            );
            let next = response
                .status()
                .is_redirection()
                .then(|| response.headers().get(reqwest::header::LOCATION))
                .flatten()
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(next) = next.filter(|_| hops < MAX_REDIRECTS) else {
                break response;
            };
            hops += 1;
            if next.origin() != url.origin() {
                headers.retain(|(k, v)| !is_credential(k) && !is_secret(v));
            }
            // 301/302/303 turn a request with a body into a GET, as browsers and curl do.
            let code = response.status().as_u16();
            let to_get = code == 303 || matches!(code, 301 | 302);
            if to_get && method != reqwest::Method::GET && method != reqwest::Method::HEAD {
                method = reqwest::Method::GET;
                body = None;
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            }
            url = next;
        };
        let status = response.status().as_u16();
        let mut headers = BTreeMap::new();
        for (name, value) in response.headers() {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_string())
                .and_modify(|e: &mut String| {
                    e.push_str(", ");
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        let mut response = response;
        let mut reader = BodyReader::new(policy);
        let final_url = url.clone();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            self.note_connection(&final_url, false);
            classify(e)
        })? {
            if !reader.push(&chunk) {
                // Cut: the rest is not read, so the connection cannot be used again.
                self.note_connection(&final_url, false);
                break;
            }
        }
        Ok((status, headers, reader.finish()))
    }
}

fn build(
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<reqwest::Client, String> {
    let mut tls = super::tls::client_config(extra_roots)?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .no_proxy()
        .user_agent(concat!("qtscen/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        // Redirects are followed by `send`, which decides what crosses origins.
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn classify(err: reqwest::Error) -> TransportError {
    let message = super::transport::full_message(&err);
    let kind = if err.is_builder() {
        TransportKind::Request
    } else if err.is_timeout() {
        TransportKind::Timeout
    } else if let Some(kind) = super::transport::kind_of(&err) {
        kind
    } else if err.is_connect() {
        TransportKind::Refused
    } else if err.is_request() || err.is_body() || err.is_decode() {
        // The connection ended before the answer was whole.
        TransportKind::Reset
    } else {
        TransportKind::Other
    };
    TransportError { kind, message }
}

/// Methods a client may send again on its own (RFC 9110 §9.2.2): doing so twice has the
/// effect of doing so once.
fn idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method as M;
    [M::GET, M::HEAD, M::OPTIONS, M::TRACE, M::PUT, M::DELETE].contains(method)
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = when.as_second() - now.as_second();
    Some(Duration::from_secs(secs.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now: jiff::Timestamp = "2025-11-05T13:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 05 Nov 2025 13:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn query_json_is_url_encoded() {
        let req = ResolvedRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:1/api/orders".into(),
            query: vec![(
                "where".into(),
                r#"[{"value":"2025-11-05T16:46:54+03:00"}]"#.into(),
            )],
            headers: vec![],
            body: None,
            timeout: Duration::from_secs(1),
        };
        let url = req.full_url().unwrap().to_string();
        assert!(url.contains("%2B03%3A00"), "{url}");
    }
}

//! The log of requests the sandbox received, for tests and `GET /__sandbox/requests`.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One request as the server saw it (control requests under `/__sandbox` are not logged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, upper case (`GET`).
    pub method: String,
    /// The path, percent-encoded as sent (`/api/rest/v1/orders`).
    pub path: String,
    /// The raw query string without `?` (empty when there was none).
    pub query: String,
    /// The decoded query pairs, in order.
    pub query_pairs: Vec<(String, String)>,
    /// Headers with lower-case names, in order (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// When the request arrived (real clock), serialised as RFC 3339.
    #[serde(serialize_with = "ser_ts", deserialize_with = "de_ts")]
    pub time: Timestamp,
}

impl RecordedRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first decoded query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

fn ser_ts<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(ts)
}

fn de_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_lookups() {
        let req = RecordedRequest {
            method: "GET".to_owned(),
            path: "/api/rest/v1/orders".to_owned(),
            query: "page=2".to_owned(),
            query_pairs: vec![("page".to_owned(), "2".to_owned())],
            headers: vec![("authorization".to_owned(), "Bearer t".to_owned())],
            body: r#"{"per_page":200}"#.to_owned(),
            time: Timestamp::UNIX_EPOCH,
        };
        let text = serde_json::to_string(&req).expect("serialises");
        assert!(text.contains("1970-01-01T00:00:00Z"));
        let back: RecordedRequest = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, req);
        assert_eq!(req.header("Authorization"), Some("Bearer t"));
        assert_eq!(req.query_param("page"), Some("2"));
        assert_eq!(
            req.body_json().map(|v| v["per_page"].clone()),
            Some(serde_json::json!(200))
        );
    }
}

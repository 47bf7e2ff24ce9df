//! Load stage: HTTP requests, their defaults, pagination and fallback.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DurationSpec, TlsSpec};

/// Settings every HTTP step starts from.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpDefaults {
    /// Prefix of every relative `path`, e.g. `{{ env.QTICKETS_BASE_URL }}`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Headers sent with every request (a step's own headers win).
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Query parameters sent with every request (a step's own win).
    #[serde(default)]
    pub query: IndexMap<String, serde_json::Value>,
    /// How long to wait for a whole answer (default 30s).
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// How https servers are trusted, e.g. `{ca_file: certs/internal-ca.pem}` (a step's
    /// own `tls.ca_file` wins).
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

/// One HTTP request as written. Strings are templates.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// A full URL; or use `path` with `base_url`.
    #[serde(default)]
    pub url: Option<String>,
    /// Path appended to the base URL.
    #[serde(default)]
    pub path: Option<String>,
    /// Overrides `defaults.http.base_url`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Query parameters. A mapping or list value is sent as JSON, URL-encoded.
    #[serde(default)]
    pub query: IndexMap<String, serde_json::Value>,
    /// Request headers.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// A JSON body, sent on any method, GET included.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A form body (`application/x-www-form-urlencoded`): name → value, each value a
    /// template, encoded by qtscen (an OAuth token request: `{grant_type:
    /// client_credentials, client_id: "{{ env.CLIENT_ID }}"}`). A null value is left out;
    /// lists and mappings are sent as JSON. At most one of `json`, `body` and `form`.
    #[serde(default)]
    pub form: Option<IndexMap<String, serde_json::Value>>,
    /// How long to wait for the whole answer.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// Walk pages until a stop condition holds.
    #[serde(default)]
    pub paginate: Option<PaginateSpec>,
    /// How the https server is trusted; overrides `defaults.http.tls`.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// Start from `defaults.http` (base URL, headers, query, timeout, tls). Set false for a
    /// request to another server, so the API's token is not sent there.
    #[serde(default = "yes")]
    pub use_defaults: bool,
}

fn yes() -> bool {
    true
}

fn get() -> String {
    "GET".to_string()
}

/// A walk over pages: each request keeps every parameter and changes only the page.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginateSpec {
    /// Name of the page parameter.
    #[serde(default = "page")]
    pub param: String,
    /// Where the page parameter goes; default: `body` when the request has a JSON
    /// body that sets it, else `query`.
    #[serde(default)]
    pub r#in: Option<PageIn>,
    /// The first page number.
    #[serde(default = "one")]
    pub start: u64,
    /// A template expression over `response` (status, headers, json) and `page`; the walk
    /// stops after the page for which it is true. E.g. `not response.json.meta.has_next`.
    pub until: String,
    /// At most this many pages.
    #[serde(default = "hundred")]
    pub max_pages: u64,
    /// JSONPath whose values on every page are collected into `items`.
    #[serde(default)]
    pub collect: Option<String>,
}

/// Where a page parameter is sent.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PageIn {
    /// In the query string.
    Query,
    /// In the JSON body.
    Body,
}

fn page() -> String {
    "page".to_string()
}
fn one() -> u64 {
    1
}
fn hundred() -> u64 {
    100
}

/// What to try when a step fails: another step's request or an inline one.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackSpec {
    /// Id of a step whose request is sent (rendered in this step's context).
    #[serde(default)]
    pub step: Option<String>,
    /// An inline request.
    #[serde(default)]
    pub http: Option<HttpSpec>,
}

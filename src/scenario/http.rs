//! Load stage: HTTP requests, their defaults, pagination and fallback.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AuthSpec, DurationSpec, TlsSpec};

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
    /// How every request authenticates (a step's own `auth` wins): `bearer`, `basic` or
    /// `oauth2_client_credentials`.
    #[serde(default)]
    pub auth: Option<AuthSpec>,
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
    /// How the request authenticates; overrides `defaults.http.auth`. Sets the
    /// `Authorization` header.
    #[serde(default)]
    pub auth: Option<AuthSpec>,
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

/// A walk over pages in one step. Every request keeps the step's parameters and changes
/// only what the style says: a page number (the default: `param`, `start`), an offset
/// (`offset`), a cursor read from each answer (`cursor`) or a next URL (`next_url`).
/// The walk stops when there is no next value, when `until` is true, or at `max_pages`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginateSpec {
    /// Page-number style: name of the page parameter (default `page`).
    #[serde(default)]
    pub param: Option<String>,
    /// Page-number style: where the page parameter goes; default: `body` when the
    /// request has a JSON body that sets it, else `query`.
    #[serde(default)]
    pub r#in: Option<PageIn>,
    /// Page-number style: the first page number (default 1).
    #[serde(default)]
    pub start: Option<u64>,
    /// Offset/limit style, e.g. `{param: offset, limit: 100, limit_param: limit}`.
    #[serde(default)]
    pub offset: Option<OffsetSpec>,
    /// Cursor style: the next cursor is read from each answer and sent as a parameter,
    /// e.g. `{from: "$.meta.next_cursor", param: cursor}`. No cursor (null, empty,
    /// missing) ends the walk.
    #[serde(default)]
    pub cursor: Option<CursorSpec>,
    /// Next-URL style: the next page's URL is read from each answer and followed as
    /// given (relative URLs resolved against the current one), e.g. `{from:
    /// link_header}` (RFC 8288 `Link: <…>; rel="next"`) or `{from: "$.links.next"}`.
    /// No URL ends the walk.
    #[serde(default)]
    pub next_url: Option<NextUrlSpec>,
    /// A template expression over `response` (status, headers with lower-case keys,
    /// json) and `page` (the page number, or the page's index from 1 for the other
    /// styles); the walk stops after the page for which it is true, e.g. `not
    /// response.json.meta.has_next`. Required for the page-number style; optional for the
    /// others.
    #[serde(default)]
    pub until: Option<String>,
    /// At most this many pages (default 100); more announced fails the step.
    #[serde(default = "hundred")]
    pub max_pages: u64,
    /// JSONPath whose values on every page are collected into `items`.
    #[serde(default)]
    pub collect: Option<String>,
}

/// Offset/limit pagination: the offset grows by `limit` on every page.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffsetSpec {
    /// Name of the offset parameter (default `offset`).
    #[serde(default = "offset")]
    pub param: String,
    /// Items per page: the offset's step.
    pub limit: u64,
    /// Also send the limit, under this name (e.g. `limit`).
    #[serde(default)]
    pub limit_param: Option<String>,
    /// The first offset (default 0).
    #[serde(default)]
    pub start: u64,
    /// Where the parameters go; default: `body` when the request has a JSON body that
    /// sets the offset, else `query`.
    #[serde(default)]
    pub r#in: Option<PageIn>,
}

/// Cursor pagination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorSpec {
    /// Where the next cursor is read: a JSONPath over the answer's JSON (starting with
    /// `$`, e.g. `$.meta.next_cursor`), or else a template expression over `response`
    /// (e.g. `response.headers['x-next-cursor'] | default(none)`).
    pub from: String,
    /// The parameter the cursor is sent as (e.g. `cursor`). The first request sends
    /// it only if the step sets it.
    pub param: String,
    /// Where the cursor goes; default: `body` when the request has a JSON body that sets
    /// it, else `query`.
    #[serde(default)]
    pub r#in: Option<PageIn>,
}

/// Next-URL pagination.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextUrlSpec {
    /// `link_header`: the `Link` header's `rel="next"` target (RFC 8288); a JSONPath
    /// over the answer's JSON (starting with `$`, e.g. `$.links.next`); or else a
    /// template expression over `response`. The URL is followed as given (the step's
    /// query parameters are not added again; headers, method and body are kept).
    pub from: String,
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

fn offset() -> String {
    "offset".to_string()
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

//! Load stage: TLS settings of HTTP requests and ClickHouse connections.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How https servers are trusted. Certificates are always verified: against the
/// machine's roots, plus the CA certificates of `ca_file`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// A PEM file of CA certificates to trust in addition to the machine's roots (e.g. a
    /// private CA that signed an internal server's certificate). Relative to the
    /// scenario file; a template (rendering to an empty string means none). A literal
    /// path is checked by `validate`.
    #[serde(default)]
    pub ca_file: Option<String>,
}

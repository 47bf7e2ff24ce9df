//! Load stage: SQL steps (ClickHouse over HTTP) and their connection defaults.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::{DurationSpec, TlsSpec};

/// Connection settings every SQL step starts from. Unset fields come from the env
/// variables the loader uses: `CLICKHOUSE_HOST`, `CLICKHOUSE_PORT`, `CLICKHOUSE_DB`,
/// `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`, `CLICKHOUSE_SECURE`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlDefaults {
    /// The server's HTTP URL, e.g. `http://127.0.0.1:8123`; wins over host/port/secure.
    #[serde(default)]
    pub url: Option<String>,
    /// Database queries run in (`CLICKHOUSE_DB`).
    #[serde(default)]
    pub database: Option<String>,
    /// User (`CLICKHOUSE_USER`).
    #[serde(default)]
    pub user: Option<String>,
    /// Password (`CLICKHOUSE_PASSWORD`); always treated as a secret.
    #[serde(default)]
    pub password: Option<String>,
    /// How long one query may take (default 30s).
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// How an https server (`https://` URL or `CLICKHOUSE_SECURE=1`) is trusted, e.g.
    /// `{ca_file: certs/clickhouse-ca.pem}` (a step's own `tls.ca_file` wins).
    #[serde(default)]
    pub tls: Option<TlsSpec>,
}

/// A step that runs one or more named queries.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlSpec {
    /// Overrides `defaults.sql.url`.
    #[serde(default)]
    pub url: Option<String>,
    /// Overrides `defaults.sql.database`.
    #[serde(default)]
    pub database: Option<String>,
    /// Overrides the query timeout.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// How an https server is trusted; overrides `defaults.sql.tls`.
    #[serde(default)]
    pub tls: Option<TlsSpec>,
    /// Queries by name, run in order: a SQL string, or `{query, params, optional}`.
    pub queries: IndexMap<String, QuerySpec>,
}

/// One query. `{name:Type}` placeholders are filled from `params`, quoted by the engine.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QuerySpec {
    /// The SQL (a template); no `FORMAT` clause — results are read as JSON.
    pub query: String,
    /// Values for `{name:Type}` placeholders (templates), quoted by the engine.
    #[serde(default)]
    pub params: IndexMap<String, serde_json::Value>,
    /// A failure of this query (e.g. a column only some deployments have) is recorded
    /// and does not fail the step.
    #[serde(default)]
    pub optional: bool,
}

/// A query with parameters.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "QueryMap")]
struct QueryFields {
    /// The SQL (a template), without a `FORMAT` clause.
    query: String,
    /// Values for `{name:Type}` placeholders, quoted by the engine.
    #[serde(default)]
    params: IndexMap<String, serde_json::Value>,
    /// A failure is recorded and does not fail the step.
    #[serde(default)]
    optional: bool,
}

impl JsonSchema for QuerySpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Query".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = generator.subschema_for::<QueryFields>();
        schemars::json_schema!({
            "description": "A SQL string, or a mapping with `query`, `params`, `optional`.",
            "anyOf": [{ "type": "string" }, fields]
        })
    }
}

impl<'de> Deserialize<'de> for QuerySpec {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = QuerySpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a SQL string, or a mapping with `query`, `params`, `optional`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<QuerySpec, E> {
                Ok(QuerySpec {
                    query: v.to_string(),
                    params: IndexMap::new(),
                    optional: false,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<QuerySpec, A::Error> {
                let f =
                    QueryFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(QuerySpec {
                    query: f.query,
                    params: f.params,
                    optional: f.optional,
                })
            }
        }
        de.deserialize_any(Visitor)
    }
}

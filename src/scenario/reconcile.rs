//! Load stage: a `reconcile` step as written — two datasets compared by key.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Compares two datasets by key: what the API returned (`left`) with what the warehouse
/// holds (`right`). Rows of one side that share a key are aggregated (numbers summed,
/// `count` counted). The result — `matched`, `only_left`, `only_right`, `different`,
/// with the first keys of each — is the step's `response.json`; every difference goes to
/// `<step id>.reconcile.jsonl` in the run folder.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileSpec {
    /// The first dataset (e.g. the orders the API returned).
    pub left: ReconcileSide,
    /// The second dataset (e.g. the rows ClickHouse holds).
    pub right: ReconcileSide,
    /// The measures compared per key: names of `values` on both sides, or `count` (the
    /// number of rows with that key). Default: none (keys only).
    #[serde(default)]
    pub compare: Vec<String>,
    /// Numbers closer than this are equal (default 0: exactly equal).
    #[serde(default)]
    pub tolerance: f64,
    /// How many keys and differences of each kind the report lists (default 20; all of
    /// them are in the `.reconcile.jsonl` file).
    #[serde(default = "default_show")]
    pub show: usize,
}

fn default_show() -> usize {
    20
}

/// One side of a reconciliation: its rows come from exactly one of `rows`, `items` or
/// `sql`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileSide {
    /// What the report calls it (default `left` / `right`).
    #[serde(default)]
    pub name: Option<String>,
    /// An expression giving the rows, a list (`steps.orders.items`,
    /// `steps.ch.queries.ids.rows`), held in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// The id of an earlier paginated step: its collected items are the rows, read
    /// from memory or, when the walk had more than `limits.items_in_memory`, streamed
    /// from its `<step id>.items.jsonl` (any number of items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// A ClickHouse query (a SQL string, or `{query, params}`) whose rows are read as
    /// they stream (`FORMAT JSONEachRow`, added by qtscen; write no FORMAT clause), on
    /// the connection SQL steps use (`defaults.sql`, `CLICKHOUSE_*`). Any number of rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<super::QuerySpec>,
    /// An expression over one row, `row`, giving its key (`row.id`, or
    /// `row.payed_at | tz('Europe/Moscow') | strftime('%Y-%m-%d')` for a Moscow day). A
    /// row whose key is null (`none`) is left out, and counted as such: `key: "row.id if
    /// row.payed else none"` compares only paid orders.
    pub key: String,
    /// Measures per row: name → expression over `row` (`revenue: row.price`).
    #[serde(default)]
    pub values: IndexMap<String, String>,
}

//! Load stage: one step as written; at most one action field (`http`, …) is set.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    AssertionSpec, CaptureSpec, DockerSpec, ExecSpec, FallbackSpec, HttpSpec, ReconcileSpec,
    RetryPolicy, SqlSpec,
};

/// One step of a scenario: at most one action (`http`, `sql`, `exec`, `docker` or
/// `reconcile`); a step without one checks (`assert:`) or computes (`capture:`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique id: letters, digits and `_`; later steps refer to `steps.<id>`.
    pub id: String,
    /// Human title shown in the console and the report (e.g. the runbook's number).
    #[serde(default)]
    pub title: Option<String>,
    /// Longer explanation for the report.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags for `--tags` / `--skip-tags`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A template expression; the step is skipped (with the reason) when it is false.
    #[serde(default)]
    pub when: Option<String>,
    /// Step ids (`orders`) that must have passed, or captures (`orders.fresh_id`) that
    /// must be non-empty; otherwise the step is skipped with the reason.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Stop the whole run when this step fails (default: record and go on).
    #[serde(default)]
    pub critical: bool,
    /// An HTTP request (or a walk over pages).
    #[serde(default)]
    pub http: Option<HttpSpec>,
    /// Named SQL queries against ClickHouse.
    #[serde(default)]
    pub sql: Option<SqlSpec>,
    /// A program to run.
    #[serde(default)]
    pub exec: Option<ExecSpec>,
    /// A docker build or run.
    #[serde(default)]
    pub docker: Option<DockerSpec>,
    /// Two datasets compared by key (the API's orders against ClickHouse's rows).
    #[serde(default)]
    pub reconcile: Option<ReconcileSpec>,
    /// Retry policy; default `defaults.retry`.
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
    /// What must hold for the step to pass. Default for HTTP: status is 2xx.
    #[serde(default)]
    pub assert: Vec<AssertionSpec>,
    /// Values kept for later steps as `steps.<id>.captures.<name>`.
    #[serde(default)]
    pub capture: IndexMap<String, CaptureSpec>,
    /// Another request to try when this one fails (e.g. the POST fallback).
    #[serde(default)]
    pub fallback: Option<FallbackSpec>,
    /// Files written into the run folder after the step: name → template.
    #[serde(default)]
    pub artifacts: IndexMap<String, String>,
    /// A template shown in the report's notes column for this step.
    #[serde(default)]
    pub notes: Option<String>,
    /// Run the step once per item: a YAML list (`[2026-11-29, 2026-11-30]`, templates
    /// allowed in its strings), or an expression that gives a list
    /// (`steps.campaigns.captures.ids`). Templates of the step read the item as `each`
    /// and its position (from 0) as `each_index`; each run is recorded as `<id>[<index>]`.
    #[serde(default)]
    #[schemars(with = "Option<ForEachSchema>")]
    pub for_each: Option<serde_json::Value>,
}

/// `for_each`: a list of items, or an expression that evaluates to one.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum ForEachSchema {
    /// The items, in order.
    List(Vec<serde_json::Value>),
    /// An expression giving the items (`steps.campaigns.captures.ids`).
    Expr(String),
}

impl Step {
    /// The action fields; a step sets at most one.
    pub const ACTIONS: [&'static str; 5] = ["http", "sql", "exec", "docker", "reconcile"];

    /// The kind of action the step performs, if exactly one is set.
    pub fn kind(&self) -> Option<&'static str> {
        let kinds = self.kinds();
        if kinds.len() == 1 {
            Some(kinds[0])
        } else {
            None
        }
    }

    /// Every action field that is set.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.http.is_some() {
            kinds.push("http");
        }
        if self.sql.is_some() {
            kinds.push("sql");
        }
        if self.exec.is_some() {
            kinds.push("exec");
        }
        if self.docker.is_some() {
            kinds.push("docker");
        }
        if self.reconcile.is_some() {
            kinds.push("reconcile");
        }
        kinds
    }
}

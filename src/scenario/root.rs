//! Load stage: the top of a scenario file.
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HttpDefaults, Limits, ReportSpec, RetryPolicy, SqlDefaults, Step};

/// One `include:` entry.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Include {
    /// A YAML file, relative to the including one.
    Path(String),
    /// A YAML file with values for its `params:`.
    WithParams {
        /// The file, relative to the including one.
        file: String,
        /// Param name → value; each `{{ params.NAME }}` in the file is replaced by it
        /// when the file is loaded (a string that is only that becomes the value itself).
        #[serde(default)]
        with: IndexMap<String, serde_json::Value>,
    },
}

/// A scenario: one YAML file that turns a runbook into steps.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("patternProperties" = {"^x-": {"description": "Holds YAML anchors for `<<: *name` merge keys and `*name` aliases; ignored otherwise."}}))]
pub struct Scenario {
    /// Format version; only `1` exists.
    #[serde(default = "one")]
    pub version: u32,
    /// Short name; used for the default output folder `runs/<name>/<timestamp>/`.
    pub name: String,
    /// Other YAML files merged in first (paths relative to this file): their mappings
    /// key by key (this file wins), their `steps` before this file's. Resolved when the
    /// file is loaded (always empty afterwards); a cycle or a missing file is an error.
    /// Top-level `x-…` keys hold YAML anchors and are ignored; `<<: *anchor` merge keys
    /// are applied. An entry `{ file: lib.yaml, with: { id: ads_token } }` gives the
    /// included file's `params:` their values (`{{ params.id }}` in that file).
    #[serde(default)]
    pub include: Vec<Include>,
    /// What the scenario proves, shown at the top of the report.
    #[serde(default)]
    pub description: Option<String>,
    /// Environment: dotenv files, required and default variables.
    #[serde(default)]
    pub env: EnvSpec,
    /// Names of env variables or vars whose values must never be printed. Env names
    /// containing TOKEN, PASSWORD, SECRET or KEY are secrets without being listed.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Variables, rendered in order once at the start of the run (each may use the ones
    /// above it, `env` and `now()`). Strings are templates.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Settings every step of a kind starts from.
    #[serde(default)]
    pub defaults: Defaults,
    /// The report's templates and output file names.
    #[serde(default)]
    pub report: ReportSpec,
    /// The steps, run in order.
    pub steps: Vec<Step>,
    /// A run in which no step ran (every step filtered out by tags, or skipped) passes.
    /// Without it such a run fails with "nothing ran" (exit 1): an empty selection is
    /// usually a typo, not a green run.
    #[serde(default)]
    pub allow_empty: bool,
    /// Bounds on memory and time (response bodies held in memory, program output kept,
    /// template work, scenario size and nesting), each with a default this can raise.
    #[serde(default)]
    pub limits: Limits,
}

/// The default format version.
pub(crate) fn one() -> u32 {
    1
}

/// Where the environment comes from.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    /// Dotenv files, relative to the scenario file; `--env-file` adds more.
    /// A path starting with `?` is optional.
    #[serde(default)]
    pub files: Vec<String>,
    /// Variables that must be set (and not empty) before anything runs.
    #[serde(default)]
    pub required: Vec<String>,
    /// Values used when neither the env files nor the process environment set them.
    #[serde(default)]
    pub defaults: IndexMap<String, String>,
    /// Variables only some steps need (a checkout folder for the `prep` steps): a run
    /// stops before its first step, naming the variable and where it is used, when a
    /// selected step reads one that is not set.
    #[serde(default)]
    pub optional: Vec<String>,
}

/// Defaults per step kind.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Defaults of every `http` step.
    #[serde(default)]
    pub http: HttpDefaults,
    /// Connection defaults of every `sql` step.
    #[serde(default)]
    pub sql: SqlDefaults,
    /// The retry policy of every step that names none (HTTP default: no retries).
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
}

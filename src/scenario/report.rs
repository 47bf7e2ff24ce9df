//! Load stage: which reports a run writes.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The evidence a run leaves behind in its output folder.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// Reports rendered from the run record. Default: the built-in Markdown report as
    /// `report.md`.
    #[serde(default = "default_outputs")]
    pub outputs: Vec<ReportOutput>,
    /// File receiving every non-2xx answer and transport failure (status, headers, body).
    #[serde(default = "default_errors_file")]
    pub errors_file: String,
    /// How many characters of a response body the report shows.
    #[serde(default = "default_excerpt")]
    pub excerpt_chars: usize,
    /// Title of the report.
    #[serde(default)]
    pub title: Option<String>,
    /// A Markdown template rendered after the last step (it sees `steps`, `vars`, `env`,
    /// `run`) and shown at the top of the report as the verdict.
    #[serde(default)]
    pub summary: Option<String>,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            outputs: default_outputs(),
            errors_file: default_errors_file(),
            excerpt_chars: default_excerpt(),
            title: None,
            summary: None,
        }
    }
}

/// One rendered report.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportOutput {
    /// A minijinja template file relative to the scenario, `builtin:markdown` (the
    /// built-in Markdown report) or `builtin:junit` (the run as JUnit XML, for CI).
    #[serde(default = "builtin")]
    pub template: String,
    /// File name inside the run's output folder.
    pub path: String,
}

fn builtin() -> String {
    "builtin:markdown".to_string()
}

fn default_outputs() -> Vec<ReportOutput> {
    vec![ReportOutput {
        template: builtin(),
        path: "report.md".to_string(),
    }]
}

fn default_errors_file() -> String {
    "errors.json".to_string()
}

fn default_excerpt() -> usize {
    600
}

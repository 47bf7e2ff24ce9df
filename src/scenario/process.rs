//! Load stage: steps that run programs — `exec` (a program with arguments) and `docker`
//! (build an image or run a container through the docker CLI).
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DurationSpec;

/// A program with arguments; no shell unless `shell` is used.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    /// The program (looked up on PATH).
    #[serde(default)]
    pub program: Option<String>,
    /// Its arguments, each a template.
    #[serde(default)]
    pub args: Vec<String>,
    /// A command line run by `sh -c` instead of `program`/`args`.
    #[serde(default)]
    pub shell: Option<String>,
    /// Working directory (e.g. `{{ env.DASHBOARD_DIR }}`).
    #[serde(default)]
    pub dir: Option<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: IndexMap<String, String>,
    /// Also pass the run's env (dotenv files and the variables the scenario uses).
    #[serde(default)]
    pub pass_env: bool,
    /// Kill the process group after this long (default 10m).
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// File in the run folder receiving the output, line by line with timestamps.
    #[serde(default)]
    pub log: Option<String>,
}

/// The Docker engine, through the docker CLI: exactly one of `build` or `run`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerSpec {
    /// Build an image.
    #[serde(default)]
    pub build: Option<DockerBuildSpec>,
    /// Run a container.
    #[serde(default)]
    pub run: Option<DockerRunSpec>,
    /// Give up after this long (default 10m); a running container is removed.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// File in the run folder receiving the build log or the container's output.
    #[serde(default)]
    pub log: Option<String>,
}

/// `docker build`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerBuildSpec {
    /// Build context folder; the build runs there, as `docker build … .`.
    pub context: String,
    /// Dockerfile, relative to the context (default `Dockerfile`).
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// Image tag, e.g. `qtickets_api:latest`.
    pub tag: String,
    /// `--build-arg` values.
    #[serde(default)]
    pub args: IndexMap<String, String>,
}

/// `docker run`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerRunSpec {
    /// Image.
    pub image: String,
    /// `--network`.
    #[serde(default)]
    pub network: Option<String>,
    /// `--env-file` (the loader's dotenv).
    #[serde(default)]
    pub env_file: Option<String>,
    /// `-e NAME=value`.
    #[serde(default)]
    pub env: IndexMap<String, String>,
    /// `-v host:container[:ro]`.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `--rm` (default true).
    #[serde(default = "yes")]
    pub rm: bool,
    /// `--name` (default: a unique `qtscen-…` name, so the container can be removed).
    #[serde(default)]
    pub name: Option<String>,
    /// Command and arguments after the image.
    #[serde(default)]
    pub command: Vec<String>,
    /// `--pull`: `never` (default: the image is the one built in the run, and a smoke
    /// run never reaches out to a registry), `missing` or `always`.
    #[serde(default = "never")]
    pub pull: String,
}

fn never() -> String {
    "never".to_string()
}

fn yes() -> bool {
    true
}

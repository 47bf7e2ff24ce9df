//! Shared test setup: the real sandbox on 127.0.0.1 and the real qtscen binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use qtickets_sandbox::{SandboxConfig, SandboxHandle, spawn};

/// The token tests use; it must never appear in any output.
pub const TOKEN: &str = "tok-SECRET-9f8e7d6c5b4a";

/// A sandbox with a fixed clock and the test token.
pub fn sandbox() -> SandboxHandle {
    spawn(SandboxConfig {
        token: TOKEN.into(),
        now: Some("2025-11-05T13:46:54Z".parse().unwrap()),
        ..SandboxConfig::default()
    })
    .expect("sandbox starts")
}

/// A scenario in its own temporary folder, run through the real binary: the one setup
/// every end-to-end test starts from. Build it, then `run` (or `validate`, or `command`
/// for a test that acts while the run goes):
///
/// ```ignore
/// let out = Case::new(yaml).against(&sb).run(&["--tags", "smoke"]);
/// let out = Case::fixture("process/loader.yaml").live().run(&[]);
/// ```
pub struct Case {
    pub dir: tempfile::TempDir,
    pub scenario: PathBuf,
    /// The env file given with `--env-file` (when there is one).
    pub env_file: PathBuf,
    /// `--now` (the fixed test clock), or none for the real clock.
    now: Option<&'static str>,
}

/// The clock of every test run that does not ask for the real one.
pub const NOW: &str = "2025-11-05T13:46:54Z";

impl Case {
    /// `yaml` as `scenario.yaml` in a new folder; no env file; the fixed clock.
    pub fn new(yaml: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("scenario.yaml");
        std::fs::write(&scenario, yaml).unwrap();
        let env_file = dir.path().join(".env");
        Case {
            dir,
            scenario,
            env_file,
            now: Some(NOW),
        }
    }

    /// The scenario in `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Case {
        Case::new(&fixture(name))
    }

    /// With an env file holding `env` (given with `--env-file`).
    pub fn with_env(self, env: &str) -> Case {
        std::fs::write(&self.env_file, env).unwrap();
        self
    }

    /// With the env of the sandbox tests: `QTICKETS_BASE_URL` pointing at `sb`, the test
    /// token, `ORG_NAME`.
    pub fn against(self, sb: &SandboxHandle) -> Case {
        let env = format!(
            "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\nORG_NAME=irs-prod\n",
            sb.base_url()
        );
        self.with_env(&env)
    }

    /// Runs on the real clock (no `--now`).
    pub fn live(mut self) -> Case {
        self.now = None;
        self
    }

    /// `qtscen validate` of the scenario, in its folder: (exit code, stdout, stderr).
    pub fn validate(&self) -> (i32, String, String) {
        qtscen(
            &["validate", self.scenario.to_str().unwrap()],
            self.dir.path(),
        )
    }

    /// Writes `text` to `rel` inside the case's folder (creating folders on the way), as
    /// an included file, a library or a fixture next to the scenario.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `qtscen run` on the case into `out_dir`, as a command to adjust (its environment,
    /// its signals) before it is started.
    pub fn command(&self, out_dir: &Path) -> Command {
        self.command_at(out_dir, self.now)
    }

    fn command_at(&self, out_dir: &Path, now: Option<&str>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_qtscen"));
        cmd.arg("run").arg(&self.scenario);
        if self.env_file.exists() {
            cmd.arg("--env-file").arg(&self.env_file);
        }
        cmd.arg("--out").arg(out_dir);
        if let Some(now) = now {
            cmd.args(["--now", now]);
        }
        cmd.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("QTICKETS_TOKEN")
            .env_remove("QTICKETS_BASE_URL");
        cmd
    }

    /// Runs `qtscen run` on the case into `out/` of its folder; `extra` args appended.
    pub fn run(&self, extra: &[&str]) -> Output {
        let out_dir = self.dir.path().join("out");
        let out = self
            .command(&out_dir)
            .args(extra)
            .output()
            .expect("qtscen runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            out_dir,
        }
    }
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sandbox head ([`HEAD`]) followed by the steps in `tests/fixtures/<name>`.
pub fn with_head(name: &str) -> String {
    format!("{HEAD}{}", fixture(name))
}

/// A scenario run against the sandbox `sb` (see [`Case::against`]).
pub fn case(sb: &SandboxHandle, yaml: &str) -> Case {
    Case::new(yaml).against(sb)
}

/// A scenario with an env file holding `env`.
pub fn case_with_env(yaml: &str, env: &str) -> Case {
    Case::new(yaml).with_env(env)
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub out_dir: PathBuf,
}

impl Output {
    /// The ids of the steps in results.json, in order.
    pub fn step_ids(&self) -> Vec<String> {
        let r = self.results();
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.out_dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
    pub fn results(&self) -> serde_json::Value {
        serde_json::from_str(&self.file("results.json")).unwrap()
    }
    /// results.json, or null when the run wrote none.
    pub fn results_if_any(&self) -> serde_json::Value {
        std::fs::read_to_string(self.out_dir.join("results.json"))
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or_default()
    }
    /// What the run printed, stdout then stderr.
    pub fn console(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
    /// Every byte the run wrote (files in the run folder, recursively) and printed: what
    /// a leak test scans.
    pub fn everything(&self) -> String {
        fn walk(dir: &Path, text: &mut String) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, text);
                } else {
                    text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                    text.push('\n');
                }
            }
        }
        let mut text = format!("{}\n{}\n", self.stdout, self.stderr);
        walk(&self.out_dir, &mut text);
        text
    }
}

pub fn qtscen(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qtscen"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("QTICKETS_TOKEN")
        .env_remove("QTICKETS_BASE_URL")
        .output()
        .expect("qtscen runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `qtscen run` on the case on the real clock, as a command to adjust: for tests that
/// time what happens while the run goes.
pub fn run_command(c: &Case, out_dir: &Path) -> Command {
    c.command_at(out_dir, None)
}

/// Runs `qtscen run` on the case (`--now` fixed unless the case is `live`); extra args
/// appended.
pub fn run(c: &Case, extra: &[&str]) -> Output {
    c.run(extra)
}

/// A scenario head with the sandbox defaults and fast retries.
pub const HEAD: &str = r#"
name: test
env:
  required: [QTICKETS_BASE_URL, QTICKETS_TOKEN]
vars:
  window_to: "{{ now('Europe/Moscow') }}"
  window_from: "{{ now('Europe/Moscow') | minus('48h') }}"
  where:
    - { column: payed, value: 1 }
    - { column: payed_at, operator: ">=", value: "{{ vars.window_from }}" }
    - { column: payed_at, operator: "<", value: "{{ vars.window_to }}" }
defaults:
  http:
    base_url: "{{ env.QTICKETS_BASE_URL }}"
    headers:
      Authorization: "Bearer {{ env.QTICKETS_TOKEN }}"
    timeout: 2s
  retry:
    attempts: 3
    backoff: { kind: exponential, initial: 100ms, max: 1s }
"#;
pub mod clickhouse;
pub mod junit;
pub mod suite;

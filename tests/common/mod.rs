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

/// A temporary folder with a scenario and the env file pointing at `sb`.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub scenario: PathBuf,
    pub env_file: PathBuf,
}

impl Case {
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
}

pub fn case(sb: &SandboxHandle, yaml: &str) -> Case {
    let env = format!(
        "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\nORG_NAME=irs-prod\n",
        sb.base_url()
    );
    case_with_env(yaml, &env)
}

/// A temporary folder with a scenario and an env file holding `env`.
pub fn case_with_env(yaml: &str, env: &str) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, yaml).unwrap();
    let env_file = dir.path().join(".env");
    std::fs::write(&env_file, env).unwrap();
    Case {
        dir,
        scenario,
        env_file,
    }
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

/// `qtscen run` on the case (real clock) as a command to adjust, for tests that set its
/// environment or act while it runs.
pub fn run_command(c: &Case, out_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qtscen"));
    cmd.args([
        "run",
        c.scenario.to_str().unwrap(),
        "--env-file",
        c.env_file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ])
    .env("NO_COLOR", "1");
    cmd
}

/// Runs `qtscen run` on the case with `--now` fixed; extra args appended.
pub fn run(c: &Case, extra: &[&str]) -> Output {
    let out_dir = c.dir.path().join("out");
    let scenario = c.scenario.to_str().unwrap();
    let env = c.env_file.to_str().unwrap();
    let out = out_dir.to_str().unwrap();
    let mut args = vec![
        "run",
        scenario,
        "--env-file",
        env,
        "--out",
        out,
        "--now",
        "2025-11-05T13:46:54Z",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = qtscen(&args, c.dir.path());
    Output {
        code,
        stdout,
        stderr,
        out_dir,
    }
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

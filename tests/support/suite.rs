//! Helpers of the suite tests (tests/suite.rs, tests/suite_stop.rs).
use std::path::{Path, PathBuf};

use super::TOKEN;

/// The repository: suites are run from here, so the fixtures' paths (and folder names)
/// are `tests/fixtures/suite/...`.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn env_file(sb: &qtickets_sandbox::SandboxHandle, dir: &Path) -> String {
    let path = dir.join("sandbox.env");
    let text = format!(
        "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\nORG_NAME=irs-prod\n",
        sb.base_url()
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// file → verdict, from a suite.json.
pub fn verdicts(suite: &serde_json::Value) -> Vec<(String, String)> {
    suite["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every byte under `dir`, recursively.
pub fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

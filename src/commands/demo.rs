//! `qtscen demo`: the built-in QTickets sandbox and a throwaway local ClickHouse on
//! 127.0.0.1, and `scenarios/prod_smoke.yaml` run against them.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::process::ExitCode;

use crate::cli::RunArgs;
use crate::error::{Error, warn};
use crate::pipeline::run_single;

/// The scenario the demo runs when `scenarios/prod_smoke.yaml` is not beside us.
const EMBEDDED_PROD_SMOKE: &str = include_str!("../../scenarios/prod_smoke.yaml");
const CLICKHOUSE_SCRIPT: &str = "scripts/clickhouse-local.sh";

/// A ClickHouse server started by `scripts/clickhouse-local.sh`, stopped on drop.
struct LocalClickHouse {
    dir: PathBuf,
    port: u16,
}

impl LocalClickHouse {
    /// Starts a server whose session time zone is Europe/Moscow (production's) and
    /// creates the schema: with the utm migration, or as a fresh bootstrap leaves it.
    fn start(dir: &Path, bootstrap: bool) -> Result<LocalClickHouse, String> {
        if !Path::new(CLICKHOUSE_SCRIPT).exists() {
            return Err(format!(
                "{CLICKHOUSE_SCRIPT} not found (run the demo from the repository root)"
            ));
        }
        let run = |args: &[&str]| -> Result<String, String> {
            let out = Command::new("bash")
                .arg(CLICKHOUSE_SCRIPT)
                .args(args)
                .env("QTSCEN_CH_WATCH_PID", std::process::id().to_string())
                .env("QTSCEN_CH_TIMEZONE", "Europe/Moscow")
                .output()
                .map_err(|e| format!("cannot run {CLICKHOUSE_SCRIPT}: {e}"))?;
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
            }
        };
        run(&["install"])?;
        let dir_text = dir.display().to_string();
        let port_text = run(&["start", &dir_text])?;
        let port = port_text
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("unexpected port `{port_text}`"))?;
        let server = LocalClickHouse {
            dir: dir.to_path_buf(),
            port,
        };
        let flavour = if bootstrap { "bootstrap" } else { "migrated" };
        run(&["schema", &port.to_string(), "0", flavour])?;
        Ok(server)
    }
}

impl Drop for LocalClickHouse {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(CLICKHOUSE_SCRIPT)
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

const LOADER_DIR: &str = "examples/loader";

/// Whether the Docker engine answers; asked up to three times, since a busy engine (an
/// image build running) can miss one `docker info`.
fn docker_available() -> bool {
    (0..3).any(|attempt| {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=qtscen demo",
            "-c",
            "user.email=demo@localhost",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Debian's static busybox, installed with apt when missing (as root).
fn ensure_busybox() -> Result<(), String> {
    if Path::new("/bin/busybox").exists() {
        return Ok(());
    }
    let installed = Command::new("sh")
        .args(["-c", "apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null"])
        .status()
        .is_ok_and(|s| s.success());
    if installed && Path::new("/bin/busybox").exists() {
        Ok(())
    } else {
        Err("/bin/busybox is missing: install Debian's busybox-static".into())
    }
}

/// A miniature dashboard checkout: a git repository (with an `origin` to pull from)
/// holding the example loader as `integrations/qtickets_api/Dockerfile`.
fn make_dashboard(work: &Path) -> Result<PathBuf, String> {
    ensure_busybox()?;
    let dash = work.join("dashboard");
    let loader = dash.join("integrations/qtickets_api");
    std::fs::create_dir_all(&loader).map_err(|e| e.to_string())?;
    let dockerfile = std::fs::read_to_string(Path::new(LOADER_DIR).join("Dockerfile"))
        .map_err(|e| e.to_string())?;
    let dockerfile = dockerfile
        .replace("COPY busybox ", "COPY integrations/qtickets_api/busybox ")
        .replace(
            "COPY loader.sh ",
            "COPY integrations/qtickets_api/loader.sh ",
        );
    std::fs::write(loader.join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    std::fs::copy(
        Path::new(LOADER_DIR).join("loader.sh"),
        loader.join("loader.sh"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy("/bin/busybox", loader.join("busybox"))
        .map_err(|e| format!("/bin/busybox (Debian's busybox-static): {e}"))?;
    git(&dash, &["init", "-q", "-b", "main"])?;
    git(&dash, &["add", "."])?;
    git(&dash, &["commit", "-q", "-m", "loader"])?;
    git(work, &["clone", "-q", "--bare", "dashboard", "origin.git"])?;
    git(&dash, &["remote", "add", "origin", "../origin.git"])?;
    git(&dash, &["fetch", "-q", "origin"])?;
    git(&dash, &["branch", "-q", "-u", "origin/main"])?;
    Ok(dash)
}

/// The failure modes of `qtscen demo --loader-fail MODE`.
const LOADER_FAIL_MODES: [&str; 9] = [
    "exception",
    "traceback",
    "ch-write",
    "ch-retry",
    "no-utm",
    "api-error",
    "backfill",
    "drop-rows",
    "utc-days",
];

/// Records an earlier successful run of the loader in `meta_job_runs`, so that this
/// run is not its first (`--loader-fail backfill`).
fn record_earlier_run(port: u16) -> Result<(), String> {
    let sql = "INSERT INTO zakaz.meta_job_runs (job, started_at, finished_at, status, rows_processed, message, metrics) \
               SELECT 'qtickets_api', now() - 7200, now() - 7190, 'ok', 0, 'an earlier run (qtscen demo)', '{\"window_hours\": 2}'";
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--data-binary", sql])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "recording an earlier run failed: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs the demo; the run's exit status.
pub(super) fn demo(
    out: Option<String>,
    tags: Vec<String>,
    loader_fail: Option<String>,
) -> Result<ExitCode, Error> {
    let mode = loader_fail.as_deref().unwrap_or("");
    if !mode.is_empty() && !LOADER_FAIL_MODES.contains(&mode) {
        return Err(Error::Invalid(format!(
            "unknown --loader-fail mode `{mode}` (expected one of: {})",
            LOADER_FAIL_MODES.join(", ")
        )));
    }
    let image = format!("qtscen-demo-loader-{}:latest", std::process::id());
    let mut config = qtickets_sandbox::SandboxConfig::default();
    if mode == "api-error" {
        config.faults.push(qtickets_sandbox::FaultRule::new(
            None,
            "/orders",
            qtickets_sandbox::FaultKind::Status(503),
        ));
    }
    let token = config.token.clone();
    let sandbox = qtickets_sandbox::spawn(config)
        .map_err(|e| Error::Failed(format!("cannot start the QTickets sandbox: {e}")))?;
    let work = std::env::temp_dir().join(format!("qtscen-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work)
        .map_err(|e| Error::Failed(format!("cannot create {}: {e}", work.display())))?;
    println!("QTickets sandbox listening on {}", sandbox.base_url());
    let mut env_text = format!(
        "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={token}\nORG_NAME=irs-prod\n",
        sandbox.base_url()
    );
    let all = tags.is_empty();
    let mut tags = if all {
        vec![
            "api".to_string(),
            "snapshot".to_string(),
            "prep".to_string(),
            "loader".to_string(),
        ]
    } else {
        tags
    };
    let clickhouse = if tags.iter().any(|t| t != "api") {
        let started =
            LocalClickHouse::start(&work.join("clickhouse"), mode == "no-utm").and_then(|ch| {
                if mode == "backfill" {
                    record_earlier_run(ch.port)?;
                }
                Ok(ch)
            });
        match started {
            Ok(ch) => {
                println!("ClickHouse listening on http://127.0.0.1:{}", ch.port);
                // Every key the real loader requires (its sample dotenv's values).
                env_text.push_str(&format!(
                    "CLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={}\nCLICKHOUSE_DB=zakaz\nCLICKHOUSE_USER=default\nCLICKHOUSE_PASSWORD=\nCLICKHOUSE_SECURE=false\nCLICKHOUSE_VERIFY_SSL=false\nTZ=Europe/Moscow\nREPORT_TZ=Europe/Moscow\nJOB_NAME=qtickets_api\nQTICKETS_SINCE_HOURS=2\nQTICKETS_INITIAL_BACKFILL_HOURS=720\n",
                    ch.port
                ));
                Some(ch)
            }
            Err(e) => {
                warn(&format!(
                    "no local ClickHouse ({e}); running the api steps only"
                ));
                tags.retain(|t| t == "api");
                None
            }
        }
    } else {
        None
    };
    let env_file = work.join(".env.qtickets_api");
    if tags.iter().any(|t| t == "prep" || t == "loader") {
        let ready = if !docker_available() {
            Err("the Docker engine is not reachable".to_string())
        } else if !Path::new(LOADER_DIR).exists() {
            Err(format!(
                "{LOADER_DIR} not found (run the demo from the repository root)"
            ))
        } else {
            make_dashboard(&work)
        };
        match ready {
            Ok(dash) => {
                env_text.push_str(&format!(
                    "DRY_RUN=false\nDASHBOARD_DIR={}\nDOCKER_NETWORK=host\nLOADER_IMAGE={image}\nLOADER_ENV_FILE={}\n",
                    dash.display(),
                    env_file.display()
                ));
                match mode {
                    "exception" | "traceback" | "ch-write" | "ch-retry" | "drop-rows"
                    | "utc-days" => {
                        env_text.push_str(&format!("LOADER_FAIL={mode}\n"));
                    }
                    "backfill" => env_text.push_str("LOADER_BACKFILL_BUG=true\n"),
                    _ => {}
                }
            }
            Err(e) => {
                warn(&format!(
                    "no loader run ({e}); skipping the prep and loader steps"
                ));
                tags.retain(|t| t == "api" || t == "snapshot");
            }
        }
    }
    let mut scenario = "scenarios/prod_smoke.yaml".to_string();
    if !Path::new(&scenario).exists() {
        let path = work.join("prod_smoke.yaml");
        std::fs::write(&path, EMBEDDED_PROD_SMOKE)
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
        scenario = path.display().to_string();
    }
    std::fs::write(&env_file, env_text)
        .map_err(|e| Error::Failed(format!("cannot write {}: {e}", env_file.display())))?;
    let args = RunArgs {
        scenario,
        env_files: vec![env_file.display().to_string()],
        vars: Vec::new(),
        out,
        tags,
        steps: Vec::new(),
        skip_tags: Vec::new(),
        now: None,
        allow_empty: false,
    };
    let ran = run_single(&args, &Default::default()).map(super::status);
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
    drop(clickhouse);
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&work);
    ran
}

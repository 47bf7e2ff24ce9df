//! prod_smoke's loader steps (4.1–4.4, 5.x) judge the example loader (examples/loader,
//! a busybox miniature of the real one, built FROM scratch) in each outcome the real
//! loader has, with its real exit codes: the real sandbox on 127.0.0.1, a real
//! ClickHouse server and the real Docker engine. Without Docker or /bin/busybox these
//! tests print why they are skipped and end early.
mod support;

use std::sync::Mutex;

use qtickets_sandbox::{FaultKind, FaultRule, SandboxHandle};
use support::clickhouse::{ClickHouse, PASSWORD, USER};
use support::*;

/// One loader run at a time: each starts a ClickHouse server and builds the image, and
/// the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn ready(test: &str) -> bool {
    let docker = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    let busybox = std::path::Path::new("/bin/busybox").exists();
    if !docker || !busybox {
        eprintln!(
            "SKIPPED {test}: docker engine reachable: {docker}, /bin/busybox present: {busybox}"
        );
    }
    docker && busybox
}

struct Image(String);

impl Image {
    /// Builds the example loader with examples/loader/build.sh.
    fn build(ctx: &std::path::Path) -> Image {
        let tag = format!(
            "qtscen-test-pipeline-{}-{}:latest",
            std::process::id(),
            ctx.file_name().unwrap().to_string_lossy().to_lowercase()
        );
        let root = env!("CARGO_MANIFEST_DIR");
        let out = std::process::Command::new("sh")
            .arg(format!("{root}/examples/loader/build.sh"))
            .arg(ctx)
            .arg(&tag)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "build.sh: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Image(tag)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .output();
    }
}

/// How one loader run is set up.
#[derive(Default)]
struct Setup {
    /// Extra dotenv lines (the loader's knobs).
    env: &'static str,
    /// Fault rules on the sandbox.
    faults: Vec<FaultRule>,
    /// The ClickHouse schema as a fresh bootstrap leaves it (no utm migration).
    bootstrap: bool,
    /// An earlier ok run of the job in meta_job_runs.
    earlier_ok: bool,
}

struct Outcome {
    code: i32,
    console: String,
    report: String,
    log: String,
    results: serde_json::Value,
    ch: ClickHouse,
    _sb: SandboxHandle,
    _c: Case,
}

impl Outcome {
    fn step(&self, id: &str) -> &serde_json::Value {
        self.results["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    }

    fn count(&self, table: &str) -> u64 {
        let rows = self
            .ch
            .rows(&format!("SELECT count() AS n FROM zakaz.{table}"))
            .unwrap();
        rows[0]["n"].as_str().unwrap().parse().unwrap()
    }

    /// The "Whose problem" line of a step, from the verdict.
    fn whose(&self, id: &str) -> String {
        let marker = format!("- `{id}`: ");
        self.report
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(&marker))
            .unwrap_or_else(|| panic!("no whose-problem line for {id} in:\n{}", self.report))
            .to_string()
    }
}

/// Runs prod_smoke's loader and snapshot steps (`--tags loader,snapshot`) against a
/// fresh sandbox, ClickHouse server and the example loader's image.
fn run_loader(name: &str, setup: Setup) -> Outcome {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sb = sandbox();
    for rule in setup.faults {
        sb.add_fault(rule);
    }
    let ch = if setup.bootstrap {
        ClickHouse::start_bootstrap()
    } else {
        ClickHouse::start()
    }
    .expect("ClickHouse could not be installed; see the message above");
    if setup.earlier_ok {
        ch.query(
            "INSERT INTO zakaz.meta_job_runs (job, started_at, finished_at, status, rows_processed, message, metrics) \
             VALUES ('qtickets_api', 1762339614, 1762339624, 'ok', 12, 'earlier', '{\"window_hours\": 2}')",
        )
        .unwrap();
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = Image::build(&dir.path().join(name));
    let env_path = dir.path().join("loader.env");
    let env = format!(
        "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\nORG_NAME=irs-prod\n\
         CLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={}\nCLICKHOUSE_DB=zakaz\n\
         CLICKHOUSE_USER={USER}\nCLICKHOUSE_PASSWORD={PASSWORD}\nCLICKHOUSE_SECURE=false\n\
         CLICKHOUSE_VERIFY_SSL=false\nTZ=Europe/Moscow\nREPORT_TZ=Europe/Moscow\n\
         JOB_NAME=qtickets_api\nDRY_RUN=false\nQTICKETS_SINCE_HOURS=2\n\
         LOADER_IMAGE={}\nDOCKER_NETWORK=host\nLOADER_ENV_FILE={}\n\
         LOADER_NOW=2025-11-05T13:46:54Z\n{}",
        sb.base_url(),
        ch.http_port,
        image.0,
        env_path.display(),
        setup.env
    );
    std::fs::write(&env_path, &env).unwrap();
    let c = case_with_env(&yaml, &env);
    let out = run(&c, &["--tags", "loader,snapshot"]);
    let console = format!("{}{}", out.stdout, out.stderr);
    let report = out.file("qtickets_api_live.md");
    let log = out.file("qtickets_loader_prod.log");
    let results = out.results();
    // Nothing secret leaves qtscen: not the token, not the ClickHouse password, not the
    // token's fingerprint the loader prints (token_fp, its first and last 4 characters).
    let fingerprint = format!("{}***{}", &TOKEN[..4], &TOKEN[TOKEN.len() - 4..]);
    let results_text = std::fs::read_to_string(out.out_dir.join("results.json")).unwrap();
    for text in [&console, &report, &log, &results_text] {
        assert!(
            !text.contains(TOKEN) && !text.contains(PASSWORD) && !text.contains(&fingerprint),
            "{text}"
        );
    }
    drop(image);
    Outcome {
        code: out.code,
        console,
        report,
        log,
        results,
        ch,
        _sb: sb,
        _c: c,
    }
}

#[test]
fn a_successful_run_with_rows_is_a_success_with_its_inserted_counts() {
    if !ready("a_successful_run_with_rows_is_a_success_with_its_inserted_counts") {
        return;
    }
    let o = run_loader("ok", Setup::default());
    assert_eq!(o.code, 0, "{}\n{}", o.console, o.report);
    let loader = o.step("loader_run");
    assert_eq!(loader["outcome"], "passed", "{}", o.log);
    assert_eq!(loader["attempts"][0]["code"], "exit 0");
    // The rows it reports are the rows ClickHouse holds.
    let captured = |name: &str| {
        loader["captures"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {:#}\n{}", loader["captures"], o.report))
    };
    let stg = captured("stg_rows");
    let fact = captured("fact_rows");
    assert_eq!(stg, o.count("stg_qtickets_api_orders_raw"));
    assert_eq!(fact, o.count("fact_qtickets_sales_daily"));
    assert!(
        stg > 242 && fact > 0,
        "the first run backfills 720 h: {}",
        o.log
    );
    assert!(o.count("fact_qtickets_sales_utm_daily") > 0);
    assert_eq!(o.count("dim_events"), 6);
    // Seat lists are served: the inventory has a row per event.
    assert_eq!(o.count("fact_qtickets_inventory_latest"), 6);
    assert!(
        o.log
            .contains("Inserted 6 rows into zakaz.fact_qtickets_inventory_latest")
    );
    assert!(o.log.contains("\"token_fp\": \"***\""), "{}", o.log);
    let meta =
        o.ch.rows("SELECT status, toString(run_id) AS run_id, metrics FROM zakaz.meta_job_runs")
            .unwrap();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0]["status"], "ok");
    assert_eq!(meta[0]["run_id"], "00000000-0000-0000-0000-000000000000");
    // Its log is the production shape: bare warnings, the helper's Inserted lines only.
    assert!(
        o.log
            .contains("Skipping clients list: API returned 404 | metrics={"),
        "{}",
        o.log
    );
    assert!(
        o.log
            .contains("integrations.common.ch INFO Inserted 1 rows into zakaz.meta_job_runs")
    );
    assert!(!o.log.contains("Fetching orders via GET"));
    assert!(!o.log.contains("Traceback"));
    // The verdict: success, the counts, the logging finding, the window as expected.
    assert!(
        o.report.contains(&format!(
            "**it succeeded** (exit code 0 and a fresh `meta_job_runs` row with status ok); it reported {stg} rows inserted into `zakaz.stg_qtickets_api_orders_raw` and {fact} into `zakaz.fact_qtickets_sales_daily`"
        )),
        "{}",
        o.report
    );
    assert!(
        o.report
            .contains("Runbook 4.3 cannot be confirmed from the loader's log")
    );
    assert!(
        o.report.contains("the loader fetched **720 h** (2025-10-06T16:46:54+03:00 .. 2025-11-05T16:46:54+03:00); expected 720 h (first run: QTICKETS_INITIAL_BACKFILL_HOURS) — as expected."),
        "{}",
        o.report
    );
    assert!(!o.report.contains("Whose problem"), "{}", o.report);
    // The two 4.3 expectations the log cannot show are warnings, not failures.
    let soft: Vec<_> = loader["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["soft"] == true && a["passed"] == false)
        .collect();
    assert_eq!(soft.len(), 2, "{loader:#}");
}

#[test]
fn an_empty_window_is_a_success_with_0_fact_rows() {
    if !ready("an_empty_window_is_a_success_with_0_fact_rows") {
        return;
    }
    // A year before the sandbox's data, over 2 h: no paid order at all.
    let o = run_loader(
        "empty",
        Setup {
            env: "QTICKETS_INITIAL_BACKFILL_HOURS=2\nLOADER_NOW=2024-11-05T13:46:54Z\n",
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 0, "{}\n{}", o.console, o.report);
    let loader = o.step("loader_run");
    assert_eq!(loader["captures"]["fact_rows"], 0, "{}", o.log);
    assert_eq!(loader["captures"]["stg_rows"], 0);
    assert!(
        !o.log.contains("rows into zakaz.fact_qtickets_sales_daily"),
        "{}",
        o.log
    );
    assert_eq!(o.count("fact_qtickets_sales_daily"), 0);
    assert!(
        o.report.contains("it reported 0 rows inserted into `zakaz.stg_qtickets_api_orders_raw` and 0 into `zakaz.fact_qtickets_sales_daily`"),
        "{}",
        o.report
    );
    assert!(
        o.report
            .contains("expected 2 h (first run: QTICKETS_INITIAL_BACKFILL_HOURS) — as expected.")
    );
}

#[test]
fn a_retried_clickhouse_error_with_a_traceback_then_exit_0_is_a_handled_error() {
    if !ready("a_retried_clickhouse_error_with_a_traceback_then_exit_0_is_a_handled_error") {
        return;
    }
    let o = run_loader(
        "retry",
        Setup {
            env: "LOADER_FAIL=ch-retry\n",
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 0, "{}\n{}", o.console, o.report);
    assert!(
        o.log.contains("Traceback (most recent call last)"),
        "{}",
        o.log
    );
    assert!(
        o.log.contains("Cannot insert into table in readonly mode"),
        "{}",
        o.log
    );
    assert_eq!(o.step("loader_run")["outcome"], "passed");
    assert_eq!(o.step("loader_run")["captures"]["tracebacks"], 1);
    assert!(o.report.contains("**it succeeded**"), "{}", o.report);
    assert!(
        o.report
            .contains("The Traceback in its log (1) was a **handled error**"),
        "{}",
        o.report
    );
    assert!(!o.report.contains("crashed"), "{}", o.report);
}

#[test]
fn an_api_error_exits_1_and_is_put_on_qtickets() {
    if !ready("an_api_error_exits_1_and_is_put_on_qtickets") {
        return;
    }
    let o = run_loader(
        "api",
        Setup {
            faults: vec![FaultRule::new(None, "/orders", FaultKind::Status(503))],
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 1, "{}", o.console);
    assert_eq!(o.step("loader_run")["attempts"][0]["code"], "exit 1");
    // Three GETs with a JSON body, then the POST fallback, each a bare warning.
    assert!(
        o.log.contains("QTickets API request failed | metrics={\"method\": \"GET\", \"path\": \"orders\", \"token_fp\": "),
        "{}",
        o.log
    );
    for attempt in 1..=3 {
        assert!(o.log.contains(&format!(
            "\"http_status\": 503, \"attempt\": {attempt}, \"max_attempts\": 3"
        )));
    }
    assert!(o.log.contains("\"method\": \"POST\""));
    assert!(o.log.contains("[qtickets_api] Configuration or API error: QTickets API request failed: POST orders page 1: HTTP 503"));
    let requests = o._sb.requests();
    let gets: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/orders"))
        .collect();
    assert_eq!(gets.len(), 3);
    assert!(
        gets.iter()
            .all(|r| r.query.is_empty() && r.body.contains("\"organization\": \"irs-prod\""))
    );
    assert!(
        o.report
            .contains("**it stopped on a configuration or API error**"),
        "{}",
        o.report
    );
    assert!(
        o.whose("loader_run").starts_with("QTickets' side"),
        "{}",
        o.report
    );
    assert!(
        o.report
            .contains("a row for this run exists with status **error**")
    );
    // 4.4: it ended its retries.
    assert_eq!(o.step("ch_job_run")["outcome"], "passed");
}

#[test]
fn a_clickhouse_write_failure_exits_1_and_is_put_on_the_clickhouse_side() {
    if !ready("a_clickhouse_write_failure_exits_1_and_is_put_on_the_clickhouse_side") {
        return;
    }
    let o = run_loader(
        "chwrite",
        Setup {
            env: "LOADER_FAIL=ch-write\n",
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 1, "{}", o.console);
    assert_eq!(o.step("loader_run")["attempts"][0]["code"], "exit 1");
    assert!(
        o.log
            .contains("[qtickets_api] Failed to write to ClickHouse: "),
        "{}",
        o.log
    );
    assert_eq!(o.count("stg_qtickets_api_orders_raw"), 0);
    assert!(
        o.report.contains("**it could not write to ClickHouse**"),
        "{}",
        o.report
    );
    assert!(
        o.whose("loader_run")
            .starts_with("the ClickHouse/loader side, not QTickets"),
        "{}",
        o.report
    );
}

#[test]
fn the_bootstrap_schema_without_utm_columns_fails_like_production() {
    if !ready("the_bootstrap_schema_without_utm_columns_fails_like_production") {
        return;
    }
    let o = run_loader(
        "noutm",
        Setup {
            bootstrap: true,
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 1, "{}", o.console);
    assert!(o.log.contains("No such column utm_source"), "{}", o.log);
    assert!(
        o.whose("loader_run")
            .contains("`No such column utm_source`: the schema lacks the utm migration"),
        "{}",
        o.report
    );
}

#[test]
fn an_unexpected_exception_exits_1_and_is_put_on_the_loaders_code() {
    if !ready("an_unexpected_exception_exits_1_and_is_put_on_the_loaders_code") {
        return;
    }
    let o = run_loader(
        "exception",
        Setup {
            env: "LOADER_FAIL=exception\n",
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 1, "{}", o.console);
    assert_eq!(o.step("loader_run")["attempts"][0]["code"], "exit 1");
    assert!(
        o.log
            .contains("[qtickets_api] Unexpected failure during ingestion")
    );
    assert!(o.log.contains("KeyError: 'payed_at'"));
    assert!(
        o.report.contains("**it crashed with an unhandled exception** (`Unexpected failure during ingestion` and a Traceback)"),
        "{}",
        o.report
    );
    assert!(
        o.whose("loader_run").starts_with("the loader's code"),
        "{}",
        o.report
    );
    assert!(
        o.report
            .contains("a row for this run exists with status **error**")
    );
}

#[test]
fn a_loader_that_backfills_720_h_after_an_ok_run_is_a_finding_not_a_failure() {
    if !ready("a_loader_that_backfills_720_h_after_an_ok_run_is_a_finding_not_a_failure") {
        return;
    }
    let o = run_loader(
        "backfill",
        Setup {
            env: "LOADER_BACKFILL_BUG=true\n",
            earlier_ok: true,
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 0, "{}\n{}", o.console, o.report);
    assert!(
        o.report.contains("the loader fetched **720 h** (2025-10-06T16:46:54+03:00 .. 2025-11-05T16:46:54+03:00); expected 2 h (QTICKETS_SINCE_HOURS: an earlier run of `qtickets_api` ended ok) — **finding**: it backfilled 720 h although this was not its first run"),
        "{}",
        o.report
    );
    let window = o.step("ch_job_run")["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["description"]
                .as_str()
                .unwrap()
                .starts_with("the loader's window")
        })
        .unwrap()
        .clone();
    assert!(
        window["soft"] == true && window["passed"] == false,
        "{window:#}"
    );

    // Without the bug, the same setup fetches QTICKETS_SINCE_HOURS.
    let o = run_loader(
        "since",
        Setup {
            earlier_ok: true,
            ..Setup::default()
        },
    );
    assert_eq!(o.code, 0, "{}\n{}", o.console, o.report);
    assert!(
        o.report.contains("the loader fetched **2 h** (2025-11-05T14:46:54+03:00 .. 2025-11-05T16:46:54+03:00); expected 2 h (QTICKETS_SINCE_HOURS"),
        "{}",
        o.report
    );
}

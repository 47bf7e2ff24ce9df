//! The README's first command end to end: `qtscen demo` starts the sandbox and a local
//! ClickHouse, builds the example loader image from a miniature dashboard checkout and
//! runs every section of prod_smoke.yaml. Needs the Docker engine.
mod common;

use common::qtscen;

fn docker_ready() -> bool {
    let ok = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: the Docker engine is not reachable");
    }
    ok
}

fn demo(extra: &[&str]) -> (i32, String, std::path::PathBuf, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut args = vec!["demo", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = qtscen(&args, std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    (code, format!("{stdout}{stderr}"), out, tmp)
}

/// A file the demo wrote; when it is missing, the failure shows what the demo said.
fn read_out(out: &std::path::Path, name: &str, console: &str) -> String {
    std::fs::read_to_string(out.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}; the demo said:\n{console}"))
}

fn number_after(text: &str, pattern: &str) -> u64 {
    let re = regex::Regex::new(pattern).unwrap();
    re.captures(text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no /{pattern}/ in:\n{text}"))
}

#[test]
fn demo_runs_every_section_and_the_report_states_rows_and_deltas() {
    if !docker_ready() {
        return;
    }
    let (code, console, out, _tmp) = demo(&[]);
    assert_eq!(code, 0, "{console}");
    let report = read_out(&out, "qtickets_api_live.md", &console);
    let log = read_out(&out, "qtickets_loader_prod.log", &console);
    let stg = number_after(
        &log,
        r"Inserted (\d+) rows into zakaz\.stg_qtickets_api_orders_raw",
    );
    let fact = number_after(
        &log,
        r"Inserted (\d+) rows into zakaz\.fact_qtickets_sales_daily",
    );
    assert!(stg > 200 && fact > 0, "{log}");
    assert!(
        report.contains(&format!(
            "| `zakaz.stg_qtickets_api_orders_raw` | 0 | {stg} | +{stg} |"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "| `zakaz.fact_qtickets_sales_daily` | 0 | {fact} | +{fact} |"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("it reported {fact} rows inserted")),
        "{report}"
    );
    assert!(
        report.contains("a row for this run exists with status **ok**"),
        "{report}"
    );
    for f in [
        "qtickets_ch_state_before.txt",
        "qtickets_ch_state_after.txt",
        "docker_build.log",
        "prep_git.log",
        "qtickets_api_errors.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert!(!console.contains("sandbox-token"));
}

#[test]
fn demo_with_a_crashing_loader_says_so_keeps_the_log_and_exits_1() {
    if !docker_ready() {
        return;
    }
    let (code, console, out, _tmp) = demo(&["--loader-fail", "traceback"]);
    assert_eq!(code, 1, "{console}");
    let report = read_out(&out, "qtickets_api_live.md", &console);
    assert!(
        report.contains("it crashed with an unhandled exception (Traceback)"),
        "{report}"
    );
    assert!(
        report.contains("a row for this run exists with status **error**"),
        "{report}"
    );
    let log = read_out(&out, "qtickets_loader_prod.log", &console);
    assert!(log.contains("Traceback (most recent call last):"), "{log}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let loader = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "loader_run")
        .unwrap();
    assert_eq!(loader["failure"]["class"], "program_failed");
    assert_eq!(loader["attempts"][0]["code"], "exit 1");
}

//! The README's first command end to end: `qtscen demo` starts the sandbox and a local
//! ClickHouse, builds the example loader image from a miniature dashboard checkout and
//! runs every section of prod_smoke.yaml. Needs the Docker engine.
mod support;

use support::qtscen;

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
    // 5.3: every order the API returned for the 48-hour window reached staging (the
    // loader's 720-hour first run wrote more: `stg` counts those too).
    assert!(
        report.contains("ClickHouse holds **all ")
            && report.contains(" API orders** of the window in `zakaz.stg_qtickets_api_orders_raw`, and their revenue matches"),
        "{report}"
    );
    // 5.4: the daily facts of the window's whole Moscow days add up to the API's orders.
    assert!(
        report.contains("per-day tickets and revenue in `zakaz.fact_qtickets_sales_daily` match the API's orders on all 1 whole day(s) of the window"),
        "{report}"
    );
    // The production-like loader: bare warnings, the helper's lines, no INFO of its own.
    assert!(
        log.contains("Skipping clients list: API returned 404 | metrics={"),
        "{log}"
    );
    assert!(log.contains("integrations.common.ch INFO Inserted 1 rows into zakaz.meta_job_runs"));
    assert!(!log.contains("Fetching orders via GET"), "{log}");
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
        report.contains(&format!(
            "**it succeeded** (exit code 0 and a fresh `meta_job_runs` row with status ok); it reported {stg} rows inserted into `zakaz.stg_qtickets_api_orders_raw` and {fact} into"
        )),
        "{report}"
    );
    assert!(
        report.contains("a row for this run exists with status **ok**"),
        "{report}"
    );
    // 3.1 in both forms, and the window the loader used (its first run: 720 h).
    assert!(
        report.contains("| JSON body, no query string (`orders_get`) | 200 |"),
        "{report}"
    );
    assert!(
        report.contains("| `where`/`orderBy` in the query string (`orders_get_query`) | 200 |"),
        "{report}"
    );
    assert!(
        report.contains("the loader fetched **720 h**")
            && report.contains(
                "expected 720 h (first run: QTICKETS_INITIAL_BACKFILL_HOURS) — as expected."
            ),
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

/// The "Whose problem" line of a step, from the verdict.
fn whose(report: &str, id: &str) -> String {
    let marker = format!("- `{id}`: ");
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&marker))
        .unwrap_or_else(|| panic!("no whose-problem line for {id} in:\n{report}"))
        .to_string()
}

#[test]
fn each_loader_fault_mode_of_the_demo_gets_its_verdict() {
    if !docker_ready() {
        return;
    }
    // (mode, exit code of the run, the verdict's words, whose problem for loader_run)
    let modes: [(&str, i32, &str, Option<&str>); 6] = [
        (
            "exception",
            1,
            "**it crashed with an unhandled exception** (`Unexpected failure during ingestion` and a Traceback)",
            Some("the loader's code"),
        ),
        (
            "ch-write",
            1,
            "**it could not write to ClickHouse** (`Failed to write to ClickHouse`)",
            Some("the ClickHouse/loader side, not QTickets"),
        ),
        (
            "no-utm",
            1,
            "`No such column utm_source` — the table lacks the utm columns",
            Some(
                "the ClickHouse/loader side, not QTickets: the loader could not write to ClickHouse (`No such column utm_source`",
            ),
        ),
        (
            "api-error",
            1,
            "**it stopped on a configuration or API error** (`Configuration or API error`)",
            Some("QTickets' side"),
        ),
        (
            "ch-retry",
            0,
            "was a **handled error**: its ClickHouse helper retried and the run ended with exit code 0",
            None,
        ),
        (
            "backfill",
            0,
            "— **finding**: it backfilled 720 h although this was not its first run",
            None,
        ),
    ];
    for (mode, want, words, who) in modes {
        let (code, console, out, _tmp) = demo(&["--loader-fail", mode]);
        let report = read_out(&out, "qtickets_api_live.md", &console);
        assert_eq!(code, want, "{mode}: {console}\n{report}");
        assert!(report.contains(words), "{mode}: {report}");
        match who {
            Some(who) => assert!(
                whose(&report, "loader_run").starts_with(who),
                "{mode}: {report}"
            ),
            None => assert!(!report.contains("- `loader_run`: "), "{mode}: {report}"),
        }
        let log = read_out(&out, "qtickets_loader_prod.log", &console);
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap())
                .unwrap();
        let loader = r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "loader_run")
            .unwrap();
        assert_eq!(
            loader["attempts"][0]["code"],
            format!("exit {want}"),
            "{mode}: {log}"
        );
    }
}

#[test]
fn a_loader_that_drops_orders_is_caught_by_the_reconciliation() {
    if !docker_ready() {
        return;
    }
    let (code, console, out, _tmp) = demo(&["--loader-fail", "drop-rows"]);
    let report = read_out(&out, "qtickets_api_live.md", &console);
    assert_eq!(code, 1, "{console}\n{report}");
    // The loader itself reports success; only the reconciliation sees the loss.
    assert!(report.contains("**it succeeded**"), "{report}");
    assert!(
        report.contains("**3 of the ")
            && report.contains("API orders of the window are missing from ClickHouse** (ids "),
        "{report}"
    );
    assert!(
        whose(&report, "reconcile_orders").starts_with("the loader's: orders the API returned"),
        "{report}"
    );
    let jsonl = read_out(&out, "reconcile_orders.reconcile.jsonl", &console);
    assert_eq!(
        jsonl.lines().filter(|l| l.contains("only_left")).count(),
        3,
        "{jsonl}"
    );
}

#[test]
fn a_loader_that_files_sales_under_utc_days_is_caught_by_the_daily_reconciliation() {
    if !docker_ready() {
        return;
    }
    let (code, console, out, _tmp) = demo(&["--loader-fail", "utc-days"]);
    let report = read_out(&out, "qtickets_api_live.md", &console);
    assert_eq!(code, 1, "{console}\n{report}");
    // Staging is right (5.3 passes); the daily facts are filed under UTC days (5.4).
    assert!(
        report.contains("ClickHouse holds **all ")
            && report.contains("Daily facts vs the API (5.4"),
        "{report}"
    );
    let verdict = report
        .lines()
        .find(|l| l.contains("Daily facts vs the API (5.4"))
        .unwrap();
    assert!(
        verdict.contains(" revenue: API ") && verdict.contains(", ClickHouse "),
        "{verdict}"
    );
    assert!(
        whose(&report, "reconcile_days").starts_with("the loader's: its daily facts"),
        "{report}"
    );
    let jsonl = read_out(&out, "reconcile_days.reconcile.jsonl", &console);
    let diffs: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        diffs
            .iter()
            .any(|d| d["kind"] == "different" && d["measure"] == "revenue"),
        "{jsonl}"
    );
    for d in &diffs {
        assert_ne!(d["API"], d["ClickHouse"], "{d}");
    }
}

//! `run --shard K/N` and `merge` through the binary: the shares cover every scenario
//! exactly once, and their merge equals the unsharded suite (timings aside). And the CI
//! and Kubernetes examples that use them.
mod support;

use std::path::{Path, PathBuf};

use support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// suite.json without what only timing, -j and provenance change.
fn timeless(mut v: serde_json::Value) -> serde_json::Value {
    for key in [
        "started_at",
        "finished_at",
        "duration_ms",
        "jobs",
        "shard",
        "merged_from",
    ] {
        v.as_object_mut().unwrap().remove(key);
    }
    for s in v["scenarios"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("started_at");
        s.as_object_mut().unwrap().remove("duration_ms");
    }
    v
}

/// A text with every `N ms`, `time="…"` and timestamp replaced.
fn no_timings(text: &str) -> String {
    let ms = regex::Regex::new(r"\d+ ms").unwrap();
    let time = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    let stamp = regex::Regex::new(r"\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d").unwrap();
    let text = ms.replace_all(text, "N ms");
    let text = time.replace_all(&text, "time=\"T\"");
    stamp.replace_all(&text, "STAMP").into_owned()
}

/// suite.md's table and totals (the head says when, which shard, what was merged).
fn table(md: &str) -> String {
    md.lines()
        .filter(|l| l.starts_with('|') || l.starts_with("**Totals"))
        .map(no_timings)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shards_cover_every_scenario_once_and_their_merge_equals_the_whole_suite() {
    let sb = sandbox();
    let tmp = tempfile::tempdir().unwrap();
    let env = tmp.path().join("sandbox.env");
    std::fs::write(
        &env,
        format!(
            "QTICKETS_BASE_URL={}\nQTICKETS_TOKEN={TOKEN}\n",
            sb.base_url()
        ),
    )
    .unwrap();
    let env = env.to_str().unwrap();
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "run",
            "tests/fixtures/suite/",
            "--skip-tags",
            "slow",
            "--env-file",
            env,
            "--now",
            "2025-11-05T13:46:54Z",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = qtscen(&args, &root());
        assert!(code == 0 || code == 1, "{stdout}{stderr}");
        code
    };
    let whole_dir = tmp.path().join("whole");
    let whole_code = run(&whole_dir, &[]);
    assert_eq!(whole_code, 1);
    let whole = read_json(&whole_dir.join("suite.json"));
    let n = 3;
    let mut seen: Vec<String> = Vec::new();
    let mut dirs = Vec::new();
    for k in 1..=n {
        let dir = tmp.path().join(format!("shard-{k}"));
        run(&dir, &["--shard", &format!("{k}/{n}"), "-j", "2"]);
        let share = read_json(&dir.join("suite.json"));
        assert_eq!(share["shard"]["index"], k);
        assert_eq!(share["shard"]["total"], n);
        for s in share["scenarios"].as_array().unwrap() {
            seen.push(s["file"].as_str().unwrap().to_string());
        }
        dirs.push(dir);
    }
    let mut all: Vec<String> = whole["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "every scenario in exactly one share");
    // Index modulo N over the sorted paths.
    let first = read_json(&dirs[0].join("suite.json"));
    let files: Vec<&str> = first["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, [all[0].as_str(), all[3].as_str()]);

    let merged = tmp.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(["--out", merged.to_str().unwrap()]);
    let (code, stdout, stderr) = qtscen(&args, tmp.path());
    assert_eq!(code, whole_code, "{stdout}{stderr}");
    assert!(stdout.contains("SUITE FAILED: 4 scenario(s)"), "{stdout}");
    let m = read_json(&merged.join("suite.json"));
    assert_eq!(m["merged_from"].as_array().unwrap().len(), 3);
    assert_eq!(timeless(m), timeless(whole));
    let md = |d: &Path| std::fs::read_to_string(d.join("suite.md")).unwrap();
    assert_eq!(table(&md(&merged)), table(&md(&whole_dir)));
    let xml = |d: &Path| no_timings(&std::fs::read_to_string(d.join("junit.xml")).unwrap());
    assert_eq!(xml(&merged), xml(&whole_dir));
    // The scenario folders came along: every link of the summary resolves.
    for s in read_json(&merged.join("suite.json"))["scenarios"]
        .as_array()
        .unwrap()
    {
        if let Some(report) = s["report"].as_str() {
            assert!(merged.join(report).is_file(), "{report}");
        }
    }

    // A share missing: named, and the merge fails.
    let partial = tmp.path().join("partial");
    let (code, _, stderr) = qtscen(
        &[
            "merge",
            dirs[0].to_str().unwrap(),
            dirs[2].to_str().unwrap(),
            "--out",
            partial.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("shard(s) 2"), "{stderr}");
    assert_eq!(
        read_json(&partial.join("suite.json"))["missing_shards"][0],
        2
    );
    // The same share twice, or a folder that is not a suite: exit 2.
    let d0 = dirs[0].to_str().unwrap();
    let again = tmp.path().join("again");
    let (code, _, stderr) = qtscen(
        &["merge", d0, d0, "--out", again.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is in two of the folders"), "{stderr}");
    let (code, _, stderr) = qtscen(
        &["merge", tmp.path().to_str().unwrap(), "--out", "x"],
        tmp.path(),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("suite.json"), "{stderr}");
}

#[test]
fn the_ci_examples_parse_and_shard_the_suite() {
    for file in [
        "examples/ci/gitlab-ci.yml",
        "examples/ci/github-actions.yml",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(doc.is_mapping(), "{file}");
        assert!(text.contains("--shard"), "{file}");
        assert!(text.contains("qtscen merge"), "{file}");
    }
    let gitlab: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("examples/ci/gitlab-ci.yml")).unwrap(),
    )
    .unwrap();
    let jobs = gitlab.as_mapping().unwrap();
    let sharded = jobs
        .values()
        .find(|j| j.get("parallel").is_some())
        .expect("a job with `parallel: N`");
    let script = serde_yaml::to_string(&sharded["script"]).unwrap();
    assert!(
        script.contains("--shard \"$CI_NODE_INDEX/$CI_NODE_TOTAL\""),
        "{script}"
    );
    assert!(sharded["artifacts"]["paths"].is_sequence());
    let github: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("examples/ci/github-actions.yml")).unwrap(),
    )
    .unwrap();
    let matrix = github["jobs"]
        .as_mapping()
        .unwrap()
        .values()
        .find_map(|j| j["strategy"]["matrix"]["shard"].as_sequence())
        .expect("a matrix over shards");
    assert!(matrix.len() >= 2);
}

#[test]
fn the_kubernetes_example_is_an_indexed_job_that_shards_by_its_index() {
    let text = std::fs::read_to_string(root().join("examples/k8s/indexed-job.yaml")).unwrap();
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    for d in &docs {
        assert!(
            d["apiVersion"].is_string() && d["kind"].is_string(),
            "{d:?}"
        );
        assert!(d["metadata"]["name"].is_string(), "{d:?}");
    }
    let job = docs
        .iter()
        .find(|d| d["kind"] == "Job" && !d["spec"]["completionMode"].is_null())
        .expect("an Indexed Job in the manifest");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert!(job["metadata"]["name"].is_string());
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert!(matches!(
        pod["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    ));
    let containers = pod["containers"].as_sequence().expect("containers");
    assert!(!containers.is_empty());
    let c = &containers[0];
    assert!(c["name"].is_string() && c["image"].is_string());
    let command = serde_yaml::to_string(&(&c["command"], &c["args"])).unwrap();
    assert!(command.contains("JOB_COMPLETION_INDEX"), "{command}");
    assert!(command.contains("--shard"), "{command}");
    let shards = c["env"]
        .as_sequence()
        .and_then(|env| env.iter().find(|e| e["name"] == "SHARDS"))
        .map(|e| e["value"].as_str().unwrap().to_string());
    assert_eq!(
        shards,
        Some(completions.to_string()),
        "SHARDS is the completions"
    );
    assert!(command.contains("$SHARDS"), "{command}");
    // The merge runs over the shares' folders.
    let merge = serde_yaml::to_string(&docs).unwrap();
    assert!(merge.contains("qtscen merge /evidence/shard-*"), "{merge}");
}

#[test]
fn merge_help_ends_with_examples_and_run_help_names_the_suite_options() {
    let dir = tempfile::tempdir().unwrap();
    let (code, help, _) = qtscen(&["merge", "--help"], dir.path());
    assert_eq!(code, 0);
    let tail = help.trim_end();
    let at = tail.rfind("Examples:").expect(&help);
    assert!(
        tail[at..]
            .lines()
            .skip(1)
            .all(|l| l.starts_with("  qtscen merge ")),
        "{help}"
    );
    let (_, help, _) = qtscen(&["run", "--help"], dir.path());
    for word in [
        "--jobs",
        "--shard <K/N>",
        "--fail-fast",
        "qtscen run scenarios/ ",
    ] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

//! Composition and loops (issue 11): `for_each:` on a step, `include:` with params, and
//! default headers that read a later step's captures. Through the binary, against the
//! sandbox on 127.0.0.1.
mod support;

use support::{HEAD, case, case_with_env, run, sandbox, with_head};

#[test]
fn for_each_runs_a_step_per_item_and_records_each_with_its_item() {
    let sb = sandbox();
    let yaml = with_head("compose/for_each.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(
        out.step_ids(),
        [
            "days",
            "per_day[0]",
            "per_day[1]",
            "per_day[2]",
            "literal[0]",
            "literal[1]",
            "after"
        ]
    );
    assert_eq!(steps[1]["item"], "2026-11-29");
    assert_eq!(steps[3]["item"], "bad-day");
    assert_eq!(steps[1]["outcome"], "passed");
    assert_eq!(steps[3]["outcome"], "failed");
    assert_eq!(steps[6]["outcome"], "passed", "{}", steps[6]);
    let seen = sb.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].query_param("day"), Some("2026-11-30"));
    assert_eq!(seen[2].query_param("n"), Some("2"));
    // The console shows each item as it finishes, before the next one starts.
    let done_0 = out
        .stdout
        .find("per_day[0] passed")
        .expect("item 0 finished");
    let start_1 = out.stdout.find("per_day[1] — ").expect("item 1 started");
    assert!(done_0 < start_1, "{}", out.stdout);
    let report = out.file("report.md");
    assert!(report.contains("per_day[2]"), "{report}");
    assert!(report.contains("bad-day"), "{report}");
}

#[test]
fn for_each_that_gives_no_list_fails_and_an_empty_one_skips() {
    let sb = sandbox();
    let yaml = with_head("compose/for_each_no_list.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    assert_eq!(r["steps"][0]["outcome"], "skipped");
    assert_eq!(r["steps"][0]["skip_reason"], "`for_each` gave no items");
    assert_eq!(r["steps"][1]["outcome"], "failed");
    let why = r["steps"][1]["failure"]["message"].as_str().unwrap();
    assert!(why.contains("`42`, not a list"), "{why}");
    assert!(sb.requests().is_empty());
}

#[test]
fn each_outside_a_for_each_step_is_refused_with_its_place() {
    let c = case_with_env(
        "name: t\nsteps:\n  - id: x\n    assert:\n      - expr: \"each == 1\"\n",
        "",
    );
    let (code, stdout, stderr) = c.validate();
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("`each` is the item of a `for_each` step"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.yaml:5:"), "{stderr}");
}

#[test]
fn an_included_step_library_takes_params() {
    let sb = sandbox();
    let c = case(
        &sb,
        &format!(
            "{HEAD}\ninclude:\n  - file: lib/probe.yaml\n    with: {{ id: first, path: /events, limit: 7 }}\n  - {{ file: lib/probe.yaml, with: {{ id: second, path: /events }} }}\nsteps:\n  - id: own\n    assert: [{{ expr: \"steps.first.captures.limit == 7 and steps.second.captures.limit == 100\" }}]\n"
        ),
    );
    c.write(
        "lib/probe.yaml",
        "params:\n  id: ~          # required\n  path: ~\n  limit: 100    # a default\nsteps:\n  - id: \"{{ params.id }}\"\n    title: \"probe {{ params.id }}\"\n    http: { path: \"{{ params.path }}\", query: { limit: \"{{ params.limit }}\" } }\n    capture:\n      limit: { expr: \"{{ params.limit }} + 0\" }\n",
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    assert_eq!(out.step_ids(), ["first", "second", "own"]);
    assert_eq!(r["steps"][0]["title"], "probe first");
    let seen = sb.requests();
    assert_eq!(seen[0].query_param("limit"), Some("7"));
    assert_eq!(seen[1].query_param("limit"), Some("100"));
}

#[test]
fn a_wrong_or_missing_param_exits_2_with_the_place() {
    let c = case_with_env(
        "name: t\ninclude:\n  - file: lib.yaml\n    with: { idd: x }\nsteps:\n  - id: own\n    assert: [{ expr: 'true' }]\n",
        "",
    );
    c.write(
        "lib.yaml",
        "params: { id: ~ }\nsteps:\n  - id: \"{{ params.id }}\"\n    assert: [{ expr: 'true' }]\n",
    );
    let (code, stdout, stderr) = c.validate();
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("`idd` is not a param of `lib.yaml`")
            && stderr.contains("did you mean `id`?"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.yaml:4:"), "{stderr}");

    std::fs::write(
        &c.scenario,
        "name: t\ninclude: [lib.yaml]\nsteps:\n  - id: own\n    assert: [{ expr: 'true' }]\n",
    )
    .unwrap();
    let (code, _, stderr) = c.validate();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("param `id` is required"), "{stderr}");
    assert!(stderr.contains("lib.yaml:1:"), "{stderr}");
}

#[test]
fn a_default_header_that_reads_a_capture_starts_after_that_step() {
    let sb = sandbox();
    let yaml = r#"
name: t
env:
  required: [QTICKETS_BASE_URL, QTICKETS_TOKEN]
defaults:
  http:
    base_url: "{{ env.QTICKETS_BASE_URL }}"
    headers:
      Authorization: "Bearer {{ env.QTICKETS_TOKEN }}"
      X-Session: "s-{{ steps.login.captures.session }}"
steps:
  - id: before
    http: { path: /events }
  - id: login
    http: { path: /events }
    capture:
      session: { expr: "'abc'" }
  - id: after
    http: { path: /events }
"#;
    let c = case(&sb, yaml);
    let (code, stdout, stderr) = c.validate();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("warning")
            && stderr.contains("`login` and the steps before it do not send this header")
            && stderr.contains("it is sent from `after` on"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.yaml:10:18"), "{stderr}");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen = sb.requests();
    let session = |i: usize| {
        seen[i]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-session"))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(session(0), None);
    assert_eq!(session(1), None);
    assert_eq!(session(2).as_deref(), Some("s-abc"));
}

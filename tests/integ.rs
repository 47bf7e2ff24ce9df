//! Any integration from YAML alone (issue 11): values computed mid-run, form bodies,
//! every pagination style in one step, auth blocks, and the ads API example. Through the
//! binary, against the sandbox on 127.0.0.1.
mod common;

use common::{HEAD, TOKEN, case, run, sandbox};

#[test]
fn a_step_with_only_captures_computes_values_mid_run() {
    let sb = sandbox();
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: orders
    http:
      path: /orders
      query: {{ where: "{{{{ vars.where }}}}", per_page: 100 }}
      paginate: {{ until: "not (response.json | has_more)", collect: "$.data[*]" }}
  - id: derived
    capture:
      count: {{ expr: "steps.orders.items | length" }}
      first_id: {{ expr: "steps.orders.items[0].id" }}
      range: {{ expr: "[vars.window_from, vars.window_to] | join(' .. ')" }}
  - id: judged
    assert:
      - expr: "steps.derived.captures.count > 200"
      - expr: "steps.derived.captures.first_id == steps.orders.items[0].id"
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let derived = &r["steps"][1];
    assert_eq!(derived["outcome"], "passed");
    assert_eq!(derived["attempts"].as_array().unwrap().len(), 0);
    assert_eq!(
        derived["captures"]["count"].as_u64(),
        r["steps"][0]["items_count"].as_u64()
    );
    assert!(
        derived["captures"]["range"]
            .as_str()
            .unwrap()
            .contains(" .. ")
    );
    assert_eq!(r["steps"][2]["outcome"], "passed");
}

#[test]
fn a_form_body_is_encoded_by_qtscen_and_recorded_masked() {
    let sb = sandbox();
    let yaml = format!(
        r#"{HEAD}
steps:
  - id: token
    http:
      method: POST
      path: /nowhere
      use_defaults: false
      base_url: "{{{{ env.QTICKETS_BASE_URL }}}}"
      form:
        grant_type: client_credentials
        client_secret: "{{{{ env.QTICKETS_TOKEN }}}}"
        note: "a b&c=d/é"
        pages: 2
        absent: null
    assert:
      - status: 404
      - expr: "request.form.note == 'a b&c=d/é' and request.form.pages == 2"
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen = sb.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body,
        format!(
            "grant_type=client_credentials&client_secret={TOKEN}&note=a+b%26c%3Dd%2F%C3%A9&pages=2"
        )
    );
    let content_type = seen[0].headers.iter().find(|(k, _)| k == "content-type");
    assert_eq!(
        content_type.map(|(_, v)| v.as_str()),
        Some("application/x-www-form-urlencoded")
    );
    let results = out.file("results.json");
    assert!(!results.contains(TOKEN));
    assert!(results.contains("client_secret=***"), "{results}");
}

#[test]
fn two_bodies_are_refused_with_the_line() {
    let c = common::case_with_env(
        "name: t\nsteps:\n  - id: a\n    http:\n      url: http://127.0.0.1:9/\n      json: {a: 1}\n      form: {a: 1}\n",
        "",
    );
    let (code, stdout, stderr) =
        common::qtscen(&["validate", c.scenario.to_str().unwrap()], c.dir.path());
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("scenario.yaml:7:7"), "{stderr}");
    assert!(
        stderr.contains("give one body: `json`, `body` or `form`, not json and form"),
        "{stderr}"
    );
}

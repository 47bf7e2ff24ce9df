//! Any integration from YAML alone (issue 11): values computed mid-run, form bodies,
//! every pagination style in one step, auth blocks, and the ads API example. Through the
//! binary, against the sandbox on 127.0.0.1.
mod common;

use common::{HEAD, case, run, sandbox};

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

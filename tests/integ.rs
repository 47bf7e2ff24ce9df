//! Any integration from YAML alone (issue 11): values computed mid-run, form bodies,
//! every pagination style in one step, auth blocks, and the ads API example. Through the
//! binary, against the sandbox on 127.0.0.1.
mod support;

use support::{TOKEN, case, fixture, run, sandbox, with_head};

#[test]
fn a_step_with_only_captures_computes_values_mid_run() {
    let sb = sandbox();
    let yaml = with_head("integ/computed_captures.yaml");
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
    let yaml = with_head("integ/form_body.yaml");
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
    let c = support::case_with_env(
        "name: t\nsteps:\n  - id: a\n    http:\n      url: http://127.0.0.1:9/\n      json: {a: 1}\n      form: {a: 1}\n",
        "",
    );
    let (code, stdout, stderr) = c.validate();
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("scenario.yaml:7:7"), "{stderr}");
    assert!(
        stderr.contains("give one body: `json`, `body` or `form`, not json and form"),
        "{stderr}"
    );
}

/// A sandbox serving the ads API, its client secret [`TOKEN`].
fn ads() -> qtickets_sandbox::SandboxHandle {
    qtickets_sandbox::spawn(qtickets_sandbox::SandboxConfig {
        token: TOKEN.into(),
        now: Some("2025-11-05T13:46:54Z".parse().unwrap()),
        mode: qtickets_sandbox::SandboxMode::Ads,
        ..Default::default()
    })
    .expect("sandbox starts")
}

/// A scenario head for the ads API with a login step (a token good for 5 requests),
/// followed by the steps in `tests/fixtures/<steps>`.
fn ads_case(sb: &qtickets_sandbox::SandboxHandle, steps: &str) -> support::Case {
    let yaml = [fixture("integ/ads_head.yaml"), fixture(steps)].concat();
    let env = format!("ADS_URL={}\nADS_CLIENT_SECRET={TOKEN}\n", sb.ads_url());
    support::case_with_env(&yaml, &env)
}

#[test]
fn a_cursor_walk_sends_each_next_cursor_once_and_collects_every_page() {
    let sb = ads();
    let c = ads_case(&sb, "integ/ads_cursor.yaml");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let stats: Vec<_> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/stats"))
        .collect();
    // Page 1, page 2 answered 429 then sent again, page 3.
    assert_eq!(stats.len(), 4);
    assert_eq!(stats[0].query_param("cursor"), None);
    assert!(stats[1].query_param("cursor").is_some());
    assert_eq!(
        stats[1].query_param("cursor"),
        stats[2].query_param("cursor")
    );
    assert_ne!(
        stats[2].query_param("cursor"),
        stats[3].query_param("cursor")
    );
    for r in &stats {
        assert_eq!(r.query_param("date_from"), Some("2025-11-01"));
        assert_eq!(r.query_param("limit"), Some("5"));
    }
    let r = out.results();
    assert_eq!(r["steps"][1]["items_count"], 14);
    let codes: Vec<_> = r["steps"][1]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["code"].as_str().unwrap().to_string(), a["page"].as_u64()))
        .collect();
    assert_eq!(
        codes,
        [
            ("200".to_string(), Some(1)),
            ("429".to_string(), Some(2)),
            ("200".to_string(), Some(2)),
            ("200".to_string(), Some(3))
        ]
    );
}

#[test]
fn a_repeated_cursor_fails_the_step_naming_both_pages() {
    let sb = ads();
    let c = ads_case(&sb, "integ/ads_repeated_cursor.yaml");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let step = &r["steps"][1];
    assert_eq!(step["outcome"], "failed");
    let text = step.to_string();
    assert!(
        text.contains("page 2 gave the next cursor") && text.contains("already sent for page 2"),
        "{text}"
    );
    // It stopped at once: pages 1 and 2 (and the 429), not 50 pages.
    assert_eq!(step["attempts"].as_array().unwrap().len(), 3);
}

#[test]
fn a_link_header_walk_follows_relative_next_urls() {
    let sb = ads();
    let c = ads_case(&sb, "integ/ads_link_header.yaml");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen: Vec<String> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/campaigns"))
        .map(|r| format!("{}?{}", r.path, r.query))
        .collect();
    assert_eq!(
        seen,
        [
            "/ads/v2/campaigns?per_page=3",
            "/ads/v2/campaigns?page=2&per_page=3",
            "/ads/v2/campaigns?page=3&per_page=3"
        ]
    );
    let r = out.results();
    assert_eq!(
        r["steps"][1]["captures"]["names"].as_array().unwrap().len(),
        7
    );
}

#[test]
fn an_offset_walk_stops_on_a_short_page() {
    let sb = ads();
    let c = ads_case(&sb, "integ/ads_offset.yaml");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let offsets: Vec<String> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/stats"))
        .map(|r| {
            format!(
                "{}/{}",
                r.query_param("offset").unwrap(),
                r.query_param("limit").unwrap()
            )
        })
        .collect();
    // 12 rows by 4: a full last page, then an empty one ends the walk; the 429 at
    // offset 4 is retried.
    assert_eq!(offsets, ["0/4", "4/4", "4/4", "8/4", "12/4"]);
}

#[test]
fn a_next_url_from_the_body_is_followed_as_given() {
    let sb = qtickets_sandbox::spawn(qtickets_sandbox::SandboxConfig {
        token: TOKEN.into(),
        now: Some("2025-11-05T13:46:54Z".parse().unwrap()),
        pagination_style: qtickets_sandbox::PaginationStyle::LinksOnly,
        ..Default::default()
    })
    .unwrap();
    let yaml = with_head("integ/next_url_body.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen = sb.requests();
    assert!(seen.len() >= 3, "{}", seen.len());
    for req in &seen {
        assert_eq!(req.query_param("where"), seen[0].query_param("where"));
        // Followed as given: the step's query is not added a second time.
        assert_eq!(req.query.matches("per_page=").count(), 1, "{}", req.query);
    }
}

fn validate_text(yaml: &str) -> (i32, String) {
    let c = support::case_with_env(yaml, "");
    let (code, stdout, stderr) = c.validate();
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn pagination_misuse_is_refused_with_the_line() {
    let head =
        "name: t\nsteps:\n  - id: a\n    http:\n      url: http://127.0.0.1:9/\n      paginate:\n";
    for (body, at, says) in [
        (
            "        cursor: { from: $.next, param: c }\n        next_url: { from: link_header }\n",
            "scenario.yaml:8:9",
            "a walk has one style: found cursor and next_url",
        ),
        (
            "        param: page\n        cursor: { from: $.next, param: c }\n",
            "scenario.yaml:7:9",
            "`param` belongs to page-number pagination",
        ),
        (
            "        cursor: { from: link_header, param: c }\n",
            "scenario.yaml:7:25",
            "`link_header` gives a next URL",
        ),
        (
            "        next_url: { from: \"$.links[\" }\n",
            "scenario.yaml:7:27",
            "paginate.next_url.from",
        ),
        (
            "        max_pages: 3\n",
            "scenario.yaml:7:9",
            "page numbers need `until`",
        ),
    ] {
        let (code, text) = validate_text(&format!("{head}{body}"));
        assert_eq!(code, 2, "{text}");
        assert!(text.contains(at), "{at} in {text}");
        assert!(text.contains(says), "{says} in {text}");
    }
}

/// The bearer tokens the sandbox saw (each once).
fn bearer_tokens(sb: &qtickets_sandbox::SandboxHandle) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for r in sb.requests() {
        for (k, v) in &r.headers {
            if k == "authorization" {
                if let Some(t) = v.strip_prefix("Bearer ") {
                    if !tokens.iter().any(|x| x == t) {
                        tokens.push(t.to_string());
                    }
                }
            }
        }
    }
    tokens
}

#[test]
fn an_oauth2_token_is_fetched_once_refreshed_on_a_401_and_never_written() {
    let sb = ads();
    let yaml = r#"name: ads
env:
  required: [ADS_URL, ADS_OAUTH_URL, ADS_CLIENT_SECRET]
defaults:
  http:
    base_url: "{{ env.ADS_URL }}"
    auth:
      oauth2_client_credentials:
        token_url: "{{ env.ADS_OAUTH_URL }}"
        client_id: ads-client
        client_secret: "{{ env.ADS_CLIENT_SECRET }}"
        client_auth: basic
  retry:
    attempts: 3
    on_status: [429]
    backoff: { kind: fixed, initial: 100ms, max: 2s }
steps:
  - id: stats
    http:
      path: /stats
      query: { date_from: "2025-11-01", date_to: "2025-11-07", limit: 5 }
      paginate: { cursor: { from: "$.meta.next_cursor", param: cursor }, collect: "$.data[*]" }
  - id: campaigns
    http:
      path: /campaigns
      paginate: { next_url: { from: link_header }, collect: "$.data[*]" }
    assert:
      - items: "$"
        length: 7
"#;
    let env = format!(
        "ADS_URL={}\nADS_OAUTH_URL={}/oauth/token\nADS_CLIENT_SECRET={TOKEN}\n",
        sb.ads_url(),
        sb.origin()
    );
    let c = support::case_with_env(yaml, &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let token_requests: Vec<_> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .collect();
    // Once for the run, once more after the 401 in the middle of the campaign walk.
    assert_eq!(token_requests.len(), 2);
    for r in &token_requests {
        assert_eq!(r.body, "grant_type=client_credentials");
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "authorization" && v.starts_with("Basic "))
        );
    }
    let tokens = bearer_tokens(&sb);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let r = out.results();
    let codes = |i: usize| -> Vec<String> {
        r["steps"][i]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(0), ["200", "200", "429", "200", "200"]);
    assert_eq!(r["steps"][0]["attempts"][0]["label"], "oauth2 token");
    assert_eq!(codes(1), ["200", "401", "200", "200", "200"]);
    let all = out.everything();
    for secret in tokens.iter().map(String::as_str).chain([TOKEN]) {
        assert!(!all.contains(secret), "{secret} leaked");
    }
}

#[test]
fn bearer_and_basic_auth_set_the_header_and_stay_masked() {
    let sb = sandbox();
    let yaml = with_head("integ/bearer_basic.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let auth: Vec<String> = sb
        .requests()
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone())
                .unwrap()
        })
        .collect();
    assert_eq!(auth[0], format!("Bearer {TOKEN}"));
    assert!(auth[1].starts_with("Basic "));
    let all = out.everything();
    assert!(!all.contains(TOKEN));
    assert!(!all.contains(&auth[1][6..]), "the Basic credential leaked");
}

#[test]
fn an_auth_block_takes_one_kind() {
    let (code, text) = validate_text(
        "name: t\ndefaults:\n  http:\n    auth:\n      bearer: { token: x }\n      basic: { username: u, password: p }\nsteps:\n  - id: a\n    http: { url: http://127.0.0.1:9/ }\n",
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("scenario.yaml:6:7"), "{text}");
    assert!(
        text.contains("`auth` takes one kind, found bearer and basic"),
        "{text}"
    );
}

#[test]
fn the_ads_example_passes_against_the_sandbox_and_writes_no_secret() {
    let sb = ads();
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/ads_smoke.yaml")).unwrap();
    let env = format!(
        "ADS_BASE_URL={}\nADS_OAUTH_URL={}/oauth/token\nADS_CLIENT_ID={}\nADS_CLIENT_SECRET={TOKEN}\n",
        sb.ads_url(),
        sb.origin(),
        qtickets_sandbox::ADS_CLIENT_ID
    );
    let c = support::case_with_env(&yaml, &env);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "no step per page");
    let codes = |i: usize| -> Vec<String> {
        steps[i]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_string())
            .collect()
    };
    // The token, page 1, the 429 on page 2 and its retry, page 3.
    assert_eq!(codes(0), ["200", "200", "429", "200", "200"]);
    // The token expires in the middle of the Link walk: 401, a fresh token, the same page.
    assert_eq!(codes(1), ["200", "401", "200", "200", "200"]);
    assert_eq!(steps[0]["items_count"], 14);
    assert_eq!(steps[2]["captures"]["strays"], 0);
    assert_eq!(
        steps[2]["captures"]["newest"], "2025-11-04T12:00:00+00:00",
        "epoch seconds read with datetime"
    );
    // The form was encoded by qtscen; the secret and both tokens appear nowhere.
    let token_bodies: Vec<String> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .map(|r| r.body)
        .collect();
    assert_eq!(token_bodies.len(), 2);
    assert!(token_bodies[0].contains("scope=stats%3Aread"));
    let tokens = bearer_tokens(&sb);
    assert_eq!(tokens.len(), 2);
    let all = out.everything();
    for secret in tokens.iter().map(String::as_str).chain([TOKEN]) {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    assert!(
        out.file("report.md")
            .contains("**Fresh statistics:** 14 rows")
    );
}

#[test]
fn merge_keys_and_x_anchor_holders_are_honoured() {
    let sb = sandbox();
    let yaml = with_head("integ/merge_keys.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let seen = sb.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].path.ends_with("/events"), "{}", seen[0].path);
    assert_eq!(seen[0].query_param("organization"), Some("irs-prod"));
    assert_eq!(seen[0].query_param("<<"), None);
    assert!(
        seen[0]
            .headers
            .iter()
            .any(|(k, v)| k == "x-probe" && v == "one")
    );
    assert_eq!(seen[1].query_param("organization"), Some("other"));
}

#[test]
fn includes_bring_defaults_and_steps_relative_to_the_including_file() {
    let sb = sandbox();
    let c = case(
        &sb,
        "name: composed\ninclude: [lib/base.yaml]\nsteps:\n  - id: own\n    http: { path: /events }\n",
    );
    c.write("lib/base.yaml", "include: [defaults.yaml]\nsteps:\n  - id: shared\n    http: { path: /events, query: { from: lib } }\n");
    c.write(
        "lib/defaults.yaml",
        "env:\n  required: [QTICKETS_BASE_URL, QTICKETS_TOKEN]\ndefaults:\n  http:\n    base_url: \"{{ env.QTICKETS_BASE_URL }}\"\n    auth: { bearer: { token: \"{{ env.QTICKETS_TOKEN }}\" } }\n",
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.step_ids(), ["shared", "own"]);
    assert_eq!(sb.requests()[0].query_param("from"), Some("lib"));
}

#[test]
fn an_include_cycle_and_a_missing_include_exit_2_with_the_place() {
    let c = support::case_with_env(
        "name: t\ninclude:\n  - a.yaml\nsteps:\n  - id: x\n    assert: [{ expr: 'true' }]\n",
        "",
    );
    c.write("a.yaml", "include: [b.yaml]\n");
    c.write("b.yaml", "include: [a.yaml]\n");
    let (code, stdout, stderr) = c.validate();
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("include cycle:"), "{stderr}");
    assert!(
        stderr.contains("a.yaml → ") && stderr.contains("b.yaml → "),
        "{stderr}"
    );
    assert!(stderr.contains("b.yaml:1:11"), "{stderr}");

    let c = support::case_with_env(
        "name: t\ninclude:\n  - missing.yaml\nsteps:\n  - id: x\n    assert: [{ expr: 'true' }]\n",
        "",
    );
    let (code, _, stderr) = c.validate();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot read include"), "{stderr}");
    assert!(stderr.contains("scenario.yaml:3:5"), "{stderr}");
}

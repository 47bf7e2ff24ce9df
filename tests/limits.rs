//! `limits:` through the binary: a body beyond `body_in_memory` lands in a file of the run
//! folder and checks still read it; a program's output beyond `output_tail` is in its log
//! while results.json holds the tail once; deep or large YAML is refused before parsing;
//! a runaway template stops with a named error; raising a limit changes the behaviour.
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use support::{Case, Output, case_with_env, fixture, run};

/// A server on 127.0.0.1 answering every GET with `body` (JSON); its URL.
fn serve(body: String) -> String {
    serve_status(200, body)
}

/// The same, answering with `status`.
fn serve_status(status: u16, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

const SECRET: &str = "tok-LIMITS-5e4d3c2b1a";

/// A JSON body of about 450 KB whose last item carries the secret.
fn big_body() -> String {
    let items: Vec<String> = (0..5000)
        .map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}", "x".repeat(80)))
        .collect();
    format!(
        "{{\"count\":5000,\"items\":[{}],\"token\":\"{SECRET}\"}}",
        items.join(",")
    )
}

/// A fixture's `limits: {}` line replaced with `limits` (a `limits:` line, or nothing).
fn with_limits(fixture: &str, limits: &str) -> String {
    assert!(fixture.contains("\nlimits: {}\n"), "{fixture}");
    fixture.replacen("limits: {}", limits, 1)
}

fn body_case(url: &str, limits: &str) -> Case {
    let yaml = with_limits(&fixture("limits/big_body.yaml"), limits).replace("SERVER", url);
    case_with_env(&yaml, &format!("API_TOKEN={SECRET}\n"))
}

#[test]
fn a_body_beyond_body_in_memory_is_a_file_in_the_run_folder_and_checks_read_it() {
    let url = serve(big_body());
    let c = body_case(&url, "limits: { body_in_memory: 64KiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = out.results();
    let step = &r["steps"][0];
    assert_eq!(step["captures"]["last"], 4999);
    let resp = &step["attempts"][0]["response"];
    assert_eq!(resp["body_file"], "big-1.body");
    assert_eq!(resp["body_bytes"], big_body().len() as u64);
    // results.json keeps the start of the body, not a copy of it.
    let excerpt = resp["body"].as_str().unwrap();
    assert!(excerpt.len() < 20_000 && excerpt.starts_with("{\"count\":5000"));
    assert!(
        step["artifacts"]
            .as_array()
            .unwrap()
            .contains(&"big-1.body".into())
    );
    let file = out.file("big-1.body");
    assert_eq!(file.len(), big_body().len() - SECRET.len() + 3);
    assert!(
        file.ends_with("\"token\":\"***\"}"),
        "secrets are masked in the file"
    );
    assert!(out.file("report.md").contains("is in `big-1.body`"));
    assert!(!out.everything().contains(SECRET));
}

#[test]
fn raising_body_in_memory_keeps_the_body_in_memory() {
    let url = serve(big_body());
    let c = body_case(&url, "limits: { body_in_memory: 2MiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let resp = &out.results()["steps"][0]["attempts"][0]["response"];
    assert!(resp.get("body_file").is_none());
    assert_eq!(
        resp["body"].as_str().unwrap().len(),
        big_body().len() - SECRET.len() + 3
    );
    assert!(!out.out_dir.join("big-1.body").exists());
}

#[test]
fn a_body_beyond_max_body_is_cut_and_says_so() {
    let url = serve(big_body());
    let c = body_case(&url, "limits: { body_in_memory: 16KiB, max_body: 100KiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "the cut body is not JSON: {}", out.stderr);
    let resp = &out.results()["steps"][0]["attempts"][0]["response"];
    assert_eq!(resp["body_bytes"], 100 * 1024);
    let file = out.file("big-1.body");
    assert!(
        file.ends_with("[qtscen: the body was cut after 102400 bytes: limits.max_body (100KiB)]")
    );
}

#[test]
fn an_error_answer_with_a_large_body_names_its_file_in_the_errors_file() {
    let url = serve_status(503, big_body());
    let c = body_case(&url, "limits: { body_in_memory: 64KiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let errors: serde_json::Value = serde_json::from_str(&out.file("errors.json")).unwrap();
    assert_eq!(errors["errors"][0]["body_file"], "big-1.body");
    assert!(errors["errors"][0]["body"].as_str().unwrap().len() < 20_000);
    assert!(out.file("big-1.body").starts_with("{\"count\":5000"));
}

fn program_case(limits: &str) -> Case {
    let yaml = with_limits(&fixture("limits/loud_program.yaml"), limits);
    case_with_env(&yaml, "")
}

#[test]
fn program_output_beyond_output_tail_is_in_the_log_and_results_hold_the_tail_once() {
    let c = program_case("limits: { output_tail: 4KiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let log = out.file("loud.log");
    assert_eq!(
        log.lines().filter(|l| l.contains(" stdout ")).count(),
        200_000
    );
    let r = out.results();
    let step = &r["steps"][0];
    let output = step["output"].as_str().unwrap();
    assert!(output.len() < 4096 + 300, "{}", output.len());
    assert!(
        output.starts_with("[qtscen: ")
            && output.contains("the whole output is in the log `loud.log`")
    );
    assert!(output.ends_with("200000\ndone\n"), "{output}");
    // Once: the attempt points at the log instead of holding the output again.
    let resp = &step["attempts"][0]["response"];
    assert_eq!(resp["body"], "");
    assert_eq!(resp["body_file"], "loud.log");
    assert_eq!(resp["body_bytes"], 1_288_895 + 5);
}

#[test]
fn raising_output_tail_holds_all_of_it() {
    let c = program_case("limits: { output_tail: 16MiB }");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let output = out.results()["steps"][0]["output"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(output.starts_with("1\n2\n3\n") && output.len() == 1_288_895 + 5);
}

fn validate(yaml: &str) -> (i32, String) {
    let c = case_with_env(yaml, "");
    let (code, _, stderr) = c.validate();
    (code, stderr)
}

#[test]
fn deep_yaml_is_refused_before_parsing_with_its_place() {
    let yaml = format!(
        "name: deep\nsteps: {}{}\n",
        "[".repeat(120_000),
        "]".repeat(120_000)
    );
    let (code, stderr) = validate(&yaml);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("nested more than 64 levels deep (limits.max_depth)"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.yaml:2:71"), "{stderr}");
}

#[test]
fn max_depth_can_be_lowered_and_raised() {
    let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let yaml = |limits: &str, n: usize| {
        with_limits(&fixture("limits/nested.yaml"), limits).replace("NESTED", &nested(n))
    };
    assert_eq!(validate(&yaml("", 50)).0, 0);
    let (code, stderr) = validate(&yaml("limits: { max_depth: 10 }", 50));
    assert_eq!(code, 2);
    assert!(stderr.contains("scenario.yaml:4:"), "{stderr}");
    assert_eq!(validate(&yaml("", 100)).0, 2);
    assert_eq!(validate(&yaml("limits: { max_depth: 120 }", 100)).0, 0);
    let (code, stderr) = validate(&yaml("limits: { max_depth: 500 }", 5));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("limits.max_depth: from 1 to 128"),
        "{stderr}"
    );
}

#[test]
fn a_scenario_larger_than_max_scenario_size_is_refused_unless_raised() {
    let padding = format!("description: \"{}\"\n", "y".repeat(17 << 20));
    let body = [
        "name: big\n",
        &padding,
        "steps:\n  - id: s\n    assert: [{ expr: 'true' }]\n",
    ]
    .concat();
    let (code, stderr) = validate(&body);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("more than limits.max_scenario_size (16MiB)"),
        "{stderr}"
    );
    assert!(stderr.contains("max_scenario_size: 32MiB"), "{stderr}");
    let raised = ["limits: { max_scenario_size: 32MiB }\n", &body].concat();
    assert_eq!(validate(&raised).0, 0);
    let lowered = "limits: { max_scenario_size: 50 }\nname: small\nsteps:\n  - id: s\n    assert: [{ expr: 'true' }]\n";
    assert_eq!(validate(lowered).0, 2);
}

#[test]
fn a_runaway_template_stops_with_an_error_naming_it() {
    let c = case_with_env(
        // `vars.spin` loops 10^10 times.
        &fixture("limits/spin.yaml"),
        "",
    );
    let out: Output = run(&c, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("vars.spin: template ran out of fuel (limits.template_fuel: 10000000)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("scenario.yaml:3:9"), "{}", out.stderr);
}

#[test]
fn template_fuel_bounds_a_step_template_and_can_be_raised() {
    let yaml = |limits: &str| with_limits(&fixture("limits/fuel.yaml"), limits);
    let c = case_with_env(&yaml("limits: { template_fuel: 5000 }"), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let a = &out.results()["steps"][0]["assertions"][0];
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("template ran out of fuel (limits.template_fuel: 5000)"),
        "{a}"
    );
    assert!(
        a["message"].as_str().unwrap().contains("scenario.yaml:6:"),
        "{a}"
    );
    let c = case_with_env(&yaml(""), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

//! Evidence that cannot lie (issue 9): strict names, no empty green, typed operands,
//! secrets born during the run, every encoding masked, cuts that leave nothing behind,
//! credentials that stay on their origin. Through the binary, against real servers on
//! 127.0.0.1.
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use support::{case_with_env, fixture, run};

/// The token the OAuth endpoint hands out; it must appear in no byte qtscen writes.
const BORN: &str = "born-TOKEN/x+y==7Q";
/// A secret with every character that encodings change.
const API_TOKEN: &str = r#"s3cr3t/T0k+en=="q<&>x_y*z"#;

/// One request as the echo server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

/// A small HTTP/1.1 server on 127.0.0.1: `POST /token` answers an OAuth token,
/// `/redirect?to=URL` answers 302 to URL, anything else echoes the request as JSON.
struct EchoServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl EchoServer {
    fn start() -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        EchoServer { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    log.lock().unwrap().push(Seen {
        path: path.to_string(),
        headers: headers.clone(),
    });
    let (status, extra, text) = if path == "/token" {
        let token =
            serde_json::json!({"access_token": BORN, "token_type": "bearer", "expires_in": 3600});
        ("200 OK", String::new(), token.to_string())
    } else if path == "/redirect" {
        let to = query.strip_prefix("to=").unwrap_or("/");
        let to = percent_decode(to);
        ("302 Found", format!("Location: {to}\r\n"), String::new())
    } else {
        let status = if path.starts_with("/status/500") {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        let echo = serde_json::json!({
            "path": path,
            "query": query,
            "headers": headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "body": String::from_utf8_lossy(&body),
        });
        (status, String::new(), echo.to_string())
    };
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn validate(yaml: &str) -> (i32, String) {
    let c = case_with_env(yaml, "");
    let (code, stdout, stderr) = c.validate();
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn a_typo_in_an_operand_fails_validate_with_its_name_and_place() {
    let (code, out) = validate(
        "name: t\nvars:\n  expected_status: 200\nsteps:\n  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    assert:\n      - jsonpath: $.status\n        equals: \"{{ vars.expected_statuz }}\"\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("`vars.expected_statuz` is not defined"),
        "{out}"
    );
    assert!(out.contains("did you mean `vars.expected_status`"), "{out}");
    assert!(out.contains("scenario.yaml:8:"), "{out}");
}

#[test]
fn an_undeclared_env_variable_fails_validate() {
    let (code, out) = validate(
        "name: t\nvars:\n  a: \"{{ env.NOPE }}\"\nsteps:\n  - id: a\n    assert: [{ expr: \"vars.a == 1\" }]\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("`env.NOPE` is not declared"), "{out}");
    assert!(out.contains("scenario.yaml:3:6"), "{out}");
    // Declared as optional, or read with a default: fine.
    let (code, out) = validate(
        "name: t\nenv: { optional: [NOPE] }\nvars:\n  a: \"{{ env.NOPE }}\"\n  b: \"{{ env.OTHER | default('x') }}\"\nsteps:\n  - id: a\n    assert: [{ expr: \"vars.a == 1\" }]\n",
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_capture_the_step_does_not_make_and_a_secret_that_names_nothing_fail_validate() {
    let (code, out) = validate(
        "name: t\nsteps:\n  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    capture: { tok: { jsonpath: $.t } }\n  - id: b\n    http: { url: \"http://127.0.0.1:9/{{ steps.a.captures.tokn }}\" }\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("step `a` captures no `tokn`; did you mean `tok`?"),
        "{out}"
    );
    assert!(out.contains("scenario.yaml:7:"), "{out}");
    let (code, out) = validate(
        "name: t\nsecrets: [tok, no_such_thing]\nsteps:\n  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    capture: { tok: { jsonpath: $.t } }\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("`no_such_thing` names nothing to mask"),
        "{out}"
    );
    assert!(!out.contains("`tok` names nothing"), "{out}");
    assert!(out.contains("scenario.yaml:2:"), "{out}");
}

#[test]
fn a_status_that_is_not_a_number_fails_validate() {
    let (code, out) = validate(
        "name: t\nsteps:\n  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    assert:\n      - status: \"200 OK\"\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("`\"200 OK\"` is not one"), "{out}");
    assert!(out.contains("scenario.yaml:6:"), "{out}");
    let (code, out) = validate(
        "name: t\nsteps:\n  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    assert:\n      - jsonpath: $.n\n        gte: soon\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("`gte` orders numbers and datetimes"), "{out}");
}

#[test]
fn an_undefined_name_at_run_time_is_named_with_its_place() {
    let server = EchoServer::start();
    let c = case_with_env(
        "name: t\nenv: { required: [BASE] }\nsteps:\n  - id: a\n    http: { url: \"{{ env.BASE }}/echo\" }\n    assert:\n      - expr: \"response.json.missing_field == 1\"\n",
        &format!("BASE={}\n", server.url()),
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let message = out.results()["steps"][0]["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect::<String>();
    assert!(
        message.contains("`response.json.missing_field` is undefined"),
        "{message}"
    );
    assert!(message.contains("scenario.yaml:7:"), "{message}");
}

#[test]
fn a_run_in_which_nothing_ran_is_not_green() {
    let c = case_with_env(
        "name: t\nsteps:\n  - id: a\n    tags: [api]\n    assert: [{ expr: \"1 == 1\" }]\n",
        "",
    );
    let out = run(&c, &["--tags", "api", "--skip-tags", "api"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "nothing ran: --tags api selects 1 step(s) and --skip-tags api skips them all"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(out.results()["outcome"], "failed");
    let out = run(
        &c,
        &["--tags", "api", "--skip-tags", "api", "--allow-empty"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn a_token_born_during_the_run_is_masked_everywhere() {
    let server = EchoServer::start();
    let yaml = r#"
name: oauth
env: { required: [BASE] }
report:
  summary: "The token was {{ steps.login.captures.token }} ({{ steps.login.captures.token | urlencode }})."
steps:
  - id: login
    http:
      method: POST
      url: "{{ env.BASE }}/token"
      body: "grant_type=client_credentials"
    capture:
      token: { jsonpath: $.access_token, secret: true }
  - id: use
    http:
      url: "{{ env.BASE }}/echo"
      headers:
        Authorization: "Bearer {{ steps.login.captures.token }}"
        X-Encoded: "{{ steps.login.captures.token | urlencode }}"
      query:
        t: "{{ steps.login.captures.token }}"
        list: ["{{ steps.login.captures.token }}"]
    assert:
      - name: the echoed header is the token
        jsonpath: $.headers.authorization
        equals: "Bearer {{ steps.login.captures.token }}"
      - name: a failing check shows its actual value, masked
        soft: true
        jsonpath: $.headers.authorization
        equals: "no"
    capture:
      echoed: { jsonpath: $.headers.authorization }
  - id: refused
    http:
      url: "{{ env.BASE }}/status/500"
      headers: { Authorization: "Bearer {{ steps.login.captures.token }}" }
    assert:
      - { status: 500 }
    notes: "sent {{ steps.login.captures.token }} and {{ steps.login.captures.token | md }}"
    artifacts:
      token.txt: "{{ steps.login.captures.token | tojson }}"
"#;
    let c = case_with_env(yaml, &format!("BASE={}\n", server.url()));
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // It was sent for real.
    let seen = server.seen();
    let echo = seen.iter().find(|s| s.path == "/echo").unwrap();
    assert!(
        echo.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {BORN}"))
    );
    let all = out.everything();
    for form in secret_forms(BORN) {
        assert!(
            !all.contains(&form),
            "`{form}` of the token was written:\n{all}"
        );
    }
    assert!(all.contains("***"), "the mask is there");
    // The errors file holds the 500's echo of the header, masked.
    let errors = out.file("errors.json");
    assert!(errors.contains("Bearer ***"), "{errors}");
    assert!(
        out.results()["verdict"]
            .as_str()
            .unwrap()
            .contains("The token was ***")
    );
}

#[test]
fn a_value_cut_for_display_never_ends_in_the_start_of_a_secret() {
    let server = EchoServer::start();
    // The path is shown cut at 120 characters: 5 of them fall on the key.
    let yaml = r#"
name: cut
env: { required: [BASE, API_KEY] }
steps:
  - id: a
    http: { url: "{{ env.BASE }}/echo/{{ 'x' * 109 }}{{ env.API_KEY }}" }
    assert:
      - { jsonpath: $.path, equals: "no", soft: true }
"#;
    let c = case_with_env(
        yaml,
        &format!("BASE={}\nAPI_KEY=k3yVALUE42abcdef\n", server.url()),
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let actual = out.results()["steps"][0]["assertions"][1]["actual"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(actual.ends_with("***…"), "{actual}");
    let all = out.everything();
    assert!(!all.contains("k3yVA"), "{all}");
}

/// A secret and the forms a reader could turn back into it.
fn secret_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    vec![
        secret.to_string(),
        enc(secret),
        enc(secret).to_lowercase(),
        b64.encode(secret),
        serde_json::to_string(secret).unwrap(),
        secret.replace('+', " "),
        // Its first eight characters are enough to identify it.
        secret.chars().take(8).collect(),
    ]
}

#[test]
fn every_filter_and_channel_leaks_nothing() {
    // Each filter the engine has, applied to the secret in a capture, sent in a header,
    // a query and a body to a server that echoes them back, and written to an artifact.
    let filters = qtscen::report::templates("2025-11-05T13:46:54Z".parse().unwrap()).filter_names();
    assert!(filters.len() > 40, "{filters:?}");
    let args = |f: &str| match f {
        // Arguments that keep the secret's text: what a filter does to the secret
        // itself is what the Redactor must know.
        "replace" => "('#', '!')",
        "format" | "indent" | "batch" | "slice" | "excerpt" | "lastlines" => "(5)",
        "split" => "('/')",
        _ => "",
    };
    let mut captures = String::new();
    let mut query = String::new();
    for f in &filters {
        let expr = format!("env.API_TOKEN | {f}{}", args(f));
        let key = format!("f_{f}");
        captures.push_str(&["      ", &key, ": { expr: ", &format!("{expr:?}"), " }\n"].concat());
        query.push_str(
            &"        KEY: \"{{ steps.filters.captures.KEY | default('') }}\"\n"
                .replace("KEY", &key),
        );
    }
    // A capture and a query parameter for each filter, in place of the placeholders.
    let yaml = fixture("trust/leak.yaml")
        .replace("      CAPTURES: ~\n", &captures)
        .replace("        QUERY: ~\n", &query);
    assert!(
        !yaml.contains(": ~\n"),
        "every placeholder is filled:\n{yaml}"
    );
    let server = EchoServer::start();
    let c = case_with_env(
        &yaml,
        &format!("BASE={}\nAPI_TOKEN='{API_TOKEN}'\n", server.url()),
    );
    let out = run(&c, &[]);
    assert!(
        out.code == 0 || out.code == 1,
        "{}{}",
        out.stdout,
        out.stderr
    );
    let all = out.everything();
    // What each filter makes of the secret, computed by the engine's own templates.
    let mut t = qtscen::report::templates("2025-11-05T13:46:54Z".parse().unwrap());
    let ctx = qtscen::template::to_value(serde_json::json!({"env": {"API_TOKEN": API_TOKEN}}));
    let mut checked = 0;
    for f in &filters {
        let Ok(c) = t.compile_expr(&format!("env.API_TOKEN | {f}{}", args(f))) else {
            continue;
        };
        let Ok(v) = t.render_string(&c, &ctx) else {
            continue;
        };
        // Outputs long enough to carry the secret (a length or a first letter does not).
        if v.chars().count() < 8 {
            continue;
        }
        checked += 1;
        assert!(!all.contains(&v), "`{f}` writes `{v}` unmasked:\n{all}");
    }
    assert!(checked >= 15, "only {checked} filters were checked");
    for form in secret_forms(API_TOKEN) {
        assert!(!all.contains(&form), "`{form}` was written:\n{all}");
    }
}

#[test]
fn a_redirect_to_another_origin_leaves_secret_headers_behind() {
    let a = EchoServer::start();
    let b = EchoServer::start();
    let yaml = r#"
name: redirect
env: { required: [A, B, API_KEY] }
steps:
  - id: same
    http:
      url: "{{ env.A }}/redirect?to={{ (env.A ~ '/echo') | urlencode }}"
      headers: { X-Api-Key: "{{ env.API_KEY }}", X-Plain: visible }
  - id: other
    http:
      url: "{{ env.A }}/redirect?to={{ (env.B ~ '/echo') | urlencode }}"
      headers: { X-Api-Key: "{{ env.API_KEY }}", X-Plain: visible, Authorization: "Bearer {{ env.API_KEY }}" }
"#;
    let c = case_with_env(
        yaml,
        &format!("A={}\nB={}\nAPI_KEY=k3y-VALUE-42\n", a.url(), b.url()),
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let header = |s: &Seen, name: &str| {
        s.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let same = a.seen().into_iter().find(|s| s.path == "/echo").unwrap();
    assert_eq!(header(&same, "x-api-key").as_deref(), Some("k3y-VALUE-42"));
    let other = b.seen().into_iter().find(|s| s.path == "/echo").unwrap();
    assert_eq!(header(&other, "x-api-key"), None, "{other:?}");
    assert_eq!(header(&other, "authorization"), None, "{other:?}");
    assert_eq!(header(&other, "x-plain").as_deref(), Some("visible"));
}

#[test]
fn a_basic_credential_from_the_url_is_recorded_and_masked() {
    let server = EchoServer::start();
    let c = case_with_env(
        "name: t\nenv: { required: [PORT, DB_PASSWORD] }\nsteps:\n  - id: a\n    http: { url: \"http://loader:{{ env.DB_PASSWORD }}@127.0.0.1:{{ env.PORT }}/echo\" }\n",
        &format!("PORT={}\nDB_PASSWORD=pa55-Word-77\n", server.port),
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let sent = r["steps"][0]["attempts"][0]["request"]["headers"]["Authorization"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sent.starts_with("Basic ") && sent.contains("***"), "{sent}");
    let all = out.everything();
    for form in secret_forms("pa55-Word-77") {
        assert!(!all.contains(&form), "`{form}` was written:\n{all}");
    }
}

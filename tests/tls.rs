//! https against real TLS servers on 127.0.0.1 (`openssl s_server` with a self-signed
//! certificate; ClickHouse's https port with a certificate from a private CA): the
//! certificate is verified — the platform's roots, read at the first handshake, do not
//! vouch for it — and the refusal is recorded with its reason; `tls.ca_file` makes the
//! private CA trusted for HTTP and SQL steps alike.
mod support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::clickhouse::{ClickHouse, PASSWORD, USER};
use support::qtscen;

/// Kills the TLS server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_certificate_no_root_vouches_for_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: the openssl command is not available");
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait (bounded) until it listens.
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(
        dir.path().join("s.yaml"),
        support::fixture("tls/secure.yaml").replace("127.0.0.1:PORT", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let (code, stdout, stderr) = qtscen(&["run", "s.yaml", "--out", "out"], dir.path());
    assert_eq!(code, 1, "{stdout}{stderr}");
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    let step = &r["steps"][0];
    assert_eq!(step["failure"]["class"], "no_response", "{step:#}");
    let reason = step["attempts"][0]["transport_error"]["message"]
        .as_str()
        .unwrap_or_default();
    // Checked against the machine's roots (had none loaded, the error would say so).
    assert!(
        reason.contains("invalid peer certificate: UnknownIssuer"),
        "{step:#}"
    );
    assert!(step["attempts"][0]["response"].is_null(), "{step:#}");
}

/// Runs openssl with `args` in `dir`; false (after saying why) when it is missing or fails.
fn openssl(dir: &Path, args: &[&str]) -> bool {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("SKIPPED: the openssl command is not available ({e})");
            false
        }
    }
}

/// In `dir`: a private CA (`ca.pem`) and a certificate it signed for 127.0.0.1
/// (`server.crt`, key `server.key`). False when openssl is missing.
fn private_ca(dir: &Path) -> bool {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=qtscen test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    ) && openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    )
}

/// Waits (bounded) until something listens on 127.0.0.1:`port`.
fn wait_listening(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

#[test]
fn clickhouse_over_https_is_trusted_through_tls_ca_file_and_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    if !private_ca(&certs) {
        return;
    }
    let ch = ClickHouse::start_with_https(&certs.join("server.crt"), &certs.join("server.key"))
        .expect("ClickHouse could not be installed; see the message above");
    let https = ch.https_port();
    wait_listening(https);
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "CLICKHOUSE_HOST=127.0.0.1\nCLICKHOUSE_PORT={https}\nCLICKHOUSE_SECURE=1\nCLICKHOUSE_USER={USER}\nCLICKHOUSE_PASSWORD={PASSWORD}\n"
        ),
    )
    .unwrap();
    let run = |name: &str, yaml: String| {
        std::fs::write(dir.path().join(name), yaml).unwrap();
        let out = format!("out-{name}");
        let (code, stdout, stderr) = qtscen(
            &["run", name, "--env-file", ".env", "--out", &out],
            dir.path(),
        );
        let text = std::fs::read_to_string(dir.path().join(&out).join("results.json"))
            .unwrap_or_else(|e| panic!("{e}\n{stdout}{stderr}"));
        let r: serde_json::Value = serde_json::from_str(&text).unwrap();
        (code, r, format!("{stdout}{stderr}"))
    };

    // Trusted: the CA file is relative to the scenario, for SQL and HTTP alike.
    let (code, r, console) = run(
        "trusted.yaml",
        // SQL over https (`CLICKHOUSE_SECURE=1`, as the loader's env says) and the https
        // `/ping`, with the private CA `ca_file` in `defaults.sql.tls` and the HTTP step's
        // `tls`.
        support::fixture("tls/https_trusted.yaml"),
    );
    assert_eq!(code, 0, "{console}\n{r:#}");
    let numbers = &r["steps"][0];
    assert_eq!(numbers["outcome"], "passed", "{numbers:#}");
    let attempt = &numbers["attempts"][0];
    assert!(
        attempt["request"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://127.0.0.1:{https}")),
        "{attempt:#}"
    );
    let body: serde_json::Value =
        serde_json::from_str(attempt["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["data"],
        serde_json::json!([{"number": "0"}, {"number": "1"}, {"number": "2"}])
    );
    assert_eq!(r["steps"][1]["outcome"], "passed", "{:#}", r["steps"][1]);
    assert!(!console.contains(PASSWORD));

    // Not trusted: each step fails with the certificate's reason recorded, no panic.
    let (code, r, console) = run(
        "untrusted.yaml",
        support::fixture("tls/https_untrusted.yaml"),
    );
    assert_eq!(code, 1, "{console}\n{r:#}");
    assert!(!console.contains("panicked"), "{console}");
    for step in r["steps"].as_array().unwrap() {
        assert_eq!(step["outcome"], "failed", "{step:#}");
        assert_eq!(step["failure"]["class"], "no_response", "{step:#}");
        let reason = step["attempts"][0]["transport_error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            reason.contains("invalid peer certificate: UnknownIssuer"),
            "{step:#}"
        );
        assert!(!reason.contains("scheme is not http"), "{step:#}");
    }
}

#[test]
fn a_missing_literal_ca_file_is_named_by_validate_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-pem.txt"), "hello\n").unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: t\ndefaults:\n  sql:\n    tls: { ca_file: certs/missing.pem }\nsteps:\n  - id: a\n    http:\n      url: https://127.0.0.1:9/\n      tls:\n        ca_file: not-pem.txt\n",
    )
    .unwrap();
    let (code, stdout, stderr) = qtscen(&["validate", "s.yaml"], dir.path());
    let out = format!("{stdout}{stderr}");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--> s.yaml:4:21"), "{out}");
    assert!(
        out.contains("defaults.sql.tls.ca_file: cannot read the CA file `certs/missing.pem`"),
        "{out}"
    );
    assert!(out.contains("--> s.yaml:10:18"), "{out}");
    assert!(
        out.contains("the CA file `not-pem.txt` holds no certificate"),
        "{out}"
    );
}

#[test]
fn a_templated_ca_file_that_cannot_be_read_fails_its_step_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: t\nvars:\n  ca: nowhere.pem\nsteps:\n  - id: a\n    http:\n      url: https://127.0.0.1:9/\n      tls: { ca_file: \"certs/{{ vars.ca }}\" }\n  - id: b\n    sql:\n      url: https://127.0.0.1:9\n      tls: { ca_file: \"{{ vars.ca }}\" }\n      queries: { one: SELECT 1 }\n",
    )
    .unwrap();
    let (code, stdout, stderr) = qtscen(&["validate", "s.yaml"], dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = qtscen(&["run", "s.yaml", "--out", "out"], dir.path());
    assert_eq!(code, 1, "{stdout}{stderr}");
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    for (i, at) in ["steps[0].http.tls.ca_file", "steps[1].sql.tls.ca_file"]
        .iter()
        .enumerate()
    {
        let step = &r["steps"][i];
        assert_eq!(step["failure"]["class"], "engine", "{step:#}");
        let message = step["failure"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{at}: cannot read the CA file `")),
            "{step:#}"
        );
        assert!(message.contains("nowhere.pem"), "{step:#}");
        assert!(
            step["attempts"].as_array().is_none_or(|a| a.is_empty()),
            "{step:#}"
        );
    }
}

//! https against a real TLS server on 127.0.0.1 (`openssl s_server` with a self-signed
//! certificate): the certificate is verified — the platform's roots, read at the first
//! handshake, do not vouch for it — and the refusal is recorded with its reason.
mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::qtscen;

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
        format!("name: tls\nsteps:\n  - id: secure\n    http: {{ url: \"https://127.0.0.1:{port}/\", timeout: 5s }}\n"),
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

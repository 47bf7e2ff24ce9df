//! The binary under faults: evidence kept on Ctrl-C, output folders that cannot collide
//! or be redirected, dropped connections retried, limits.
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use qtickets_sandbox::{FaultKind, FaultRule};
use support::*;

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Starts `qtscen run` on the case, waits (bounded) until `ready` holds, then sends
/// SIGINT; returns the exit code.
fn interrupt_when(c: &Case, out_dir: &Path, ready: impl Fn() -> bool) -> i32 {
    let mut child = run_command(c, out_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if ready() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap().code().unwrap_or(-1)
}

#[test]
fn ctrl_c_during_a_backoff_keeps_the_429_in_results_and_the_errors_file() {
    let sb = sandbox();
    sb.add_fault(
        FaultRule::new(Some("GET"), "/events", FaultKind::Status(429)).with_retry_after(30),
    );
    let yaml = with_head("faults/retried_then_after.yaml");
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let code = interrupt_when(&c, &out_dir, || !sb.requests().is_empty());
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let step = &r["steps"][0];
    let attempts = step["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{step:#}");
    assert_eq!(attempts[0]["code"], "429");
    assert_eq!(attempts[0]["retry_after_ms"], 30000);
    assert_eq!(attempts[0]["response"]["status"], 429);
    assert_eq!(step["outcome"], "failed");
    assert_eq!(step["failure"]["class"], "interrupted");
    assert!(
        step["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("between attempts"),
        "{step:#}"
    );
    assert_eq!(r["summary"]["requests"], 1);
    let errors = read_json(&out_dir.join("errors.json"));
    assert_eq!(errors["count"], 1);
    assert_eq!(errors["errors"][0]["status"], 429);
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("| 429 |"), "{report}");
}

#[test]
fn a_request_in_flight_at_ctrl_c_is_recorded_as_interrupted_with_what_was_sent() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(20)),
    ));
    let yaml = with_head("faults/slow_marker.yaml");
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let code = interrupt_when(&c, &out_dir, || !sb.requests().is_empty());
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let a = &r["steps"][0]["attempts"][0];
    assert_eq!(a["code"], "000", "{a:#}");
    assert_eq!(a["transport_error"]["kind"], "interrupted");
    assert!(
        a["request"]["url"]
            .as_str()
            .unwrap()
            .contains("marker=m-42")
    );
    assert!(a["duration_ms"].as_u64().unwrap() >= 100, "{a:#}");
    // The token is masked in the record of the request in flight too.
    let text = std::fs::read_to_string(out_dir.join("results.json")).unwrap();
    assert!(!text.contains(TOKEN));
    assert_eq!(r["steps"][0]["failure"]["class"], "interrupted");
    let errors = read_json(&out_dir.join("errors.json"));
    assert_eq!(errors["count"], 1);
    assert_eq!(
        errors["errors"][0]["transport_error"]["kind"],
        "interrupted"
    );
}

#[test]
fn ctrl_c_during_a_for_each_item_records_it_and_the_items_not_started() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/events",
        FaultKind::Delay(Duration::from_secs(20)),
    ));
    let yaml = with_head("faults/for_each_days.yaml");
    let c = case(&sb, &yaml);
    let out_dir = c.dir.path().join("out");
    let code = interrupt_when(&c, &out_dir, || !sb.requests().is_empty());
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let steps = r["steps"].as_array().unwrap();
    let ids: Vec<&str> = steps.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["days[0]", "days[1]", "days[2]", "after"], "{r:#}");
    assert_eq!(steps[0]["failure"]["class"], "interrupted");
    assert_eq!(steps[0]["item"], "a");
    assert_eq!(
        steps[0]["attempts"][0]["transport_error"]["kind"],
        "interrupted"
    );
    for s in &steps[1..] {
        assert_eq!(s["outcome"], "skipped", "{s:#}");
        assert_eq!(s["skip_reason"], "the run was interrupted", "{s:#}");
    }
    assert_eq!(steps[2]["item"], "c");
    // Only the first item's request reached the server.
    assert_eq!(sb.requests().len(), 1);
}

#[test]
fn a_program_running_at_ctrl_c_is_recorded_with_its_command_and_log() {
    let yaml = "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo started-42; sleep 30\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    let log = out_dir.join("prog.log");
    let code = interrupt_when(&c, &out_dir, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("started-42"))
    });
    assert_eq!(code, 130);
    let r = read_json(&out_dir.join("results.json"));
    let step = &r["steps"][0];
    assert_eq!(step["attempts"][0]["code"], "interrupted", "{step:#}");
    assert!(
        step["attempts"][0]["request"]["url"]
            .as_str()
            .unwrap()
            .contains("sleep 30")
    );
    assert_eq!(step["artifacts"][0], "prog.log");
    assert_eq!(step["failure"]["class"], "interrupted");
}

const PROGRAM: &str = "name: folders\nsteps:\n  - id: prog\n    exec: { program: \"true\" }\n";

#[test]
fn concurrent_runs_without_out_get_distinct_folders() {
    let c = case_with_env(PROGRAM, "");
    // The same fixed clock: every run wants the same `runs/folders/<stamp>/`.
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_qtscen"))
                .args(["run", "scenario.yaml", "--now", "2026-12-01T00:55:30Z"])
                .current_dir(c.dir.path())
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut reports = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        let report = stdout
            .lines()
            .find_map(|l| l.strip_prefix("report: "))
            .unwrap()
            .to_string();
        reports.insert(report);
    }
    assert_eq!(reports.len(), 4, "{reports:?}");
    let mut folders: Vec<String> = std::fs::read_dir(c.dir.path().join("runs/folders"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(
        folders,
        [
            "20261201T005530Z",
            "20261201T005530Z-2",
            "20261201T005530Z-3",
            "20261201T005530Z-4"
        ]
    );
    for f in folders {
        let r = read_json(
            &c.dir
                .path()
                .join("runs/folders")
                .join(f)
                .join("results.json"),
        );
        assert_eq!(r["outcome"], "passed");
    }
}

#[test]
fn a_second_run_into_the_same_out_fails_at_once() {
    let yaml =
        "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo up; sleep 5\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    let mut first = run_command(&c, &out_dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = out_dir.join("prog.log");
    for _ in 0..200 {
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("up")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let second = run_command(&c, &out_dir).output().unwrap();
    let first_still_running = first.try_wait().unwrap().is_none();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("another qtscen run is writing into"),
        "{stderr}"
    );
    assert!(first_still_running, "the second run waited for the first");
    assert_eq!(first.wait().unwrap().code(), Some(0));
    // The first run's evidence is whole: one log, its own.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("stdout up").count(), 1, "{text}");
}

#[test]
fn a_symlinked_log_name_is_refused_and_its_target_untouched() {
    let yaml =
        "name: t\nsteps:\n  - id: prog\n    exec: { shell: \"echo overwritten\", log: prog.log }\n";
    let c = case_with_env(yaml, "");
    let out_dir = c.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let victim = c.dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("prog.log")).unwrap();
    let out = run_command(&c, &out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let r = read_json(&out_dir.join("results.json"));
    let failure = &r["steps"][0]["failure"];
    assert_eq!(failure["class"], "engine", "{failure:#}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("is a symlink"),
        "{failure:#}"
    );
    // An artifact or report name planted as a link is replaced, not written through.
    std::fs::remove_file(out_dir.join("prog.log")).unwrap();
    std::fs::remove_file(out_dir.join("report.md")).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("report.md")).unwrap();
    let out = run_command(&c, &out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!out_dir.join("report.md").is_symlink());
}

#[test]
fn two_outputs_with_one_name_or_an_engine_name_are_invalid() {
    let yaml = r#"name: t
report:
  errors_file: Report.md
steps:
  - id: a
    exec: { program: "true", log: same.log }
  - id: b
    exec: { program: "true", log: same.log }
    artifacts:
      results.json: "x"
"#;
    let c = case_with_env(yaml, "");
    let (code, _, stderr) = qtscen(&["validate", "scenario.yaml"], c.dir.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`same.log` is also written by `steps[0].exec.log`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`results.json` is the run record's file name"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`report.md` is also written by `report.errors_file`"),
        "{stderr}"
    );
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
}

/// What the fault server does with one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    /// `200` with a JSON body; the connection stays open (no `Connection: close`).
    Answer,
    /// The head and part of the body, then a reset (RST).
    ResetMidBody,
    /// The head and part of the body, then a plain close (FIN).
    CloseMidBody,
    /// Reads the request and closes without a byte: an idle connection closed by the
    /// server just as the request went out on it.
    CloseUnanswered,
    /// Something that is not HTTP.
    Garbage,
}

/// A small HTTP/1.1 server on 127.0.0.1 whose every answer `act` decides from
/// (requests seen so far, requests seen on this connection).
struct FaultServer {
    port: u16,
    seen: Arc<AtomicUsize>,
}

impl FaultServer {
    fn start(act: fn(usize, usize) -> Act) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || serve_faults(stream, &counter, act));
            }
        });
        FaultServer { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve_faults(stream: TcpStream, counter: &AtomicUsize, act: fn(usize, usize) -> Act) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    for on_conn in 0.. {
        // Read one request head (GET, no body).
        let mut got = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.trim().is_empty() && got => break,
                Ok(_) => got = true,
            }
        }
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let body = format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(200));
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        match act(n, on_conn) {
            Act::Answer => {
                if stream
                    .write_all(format!("{head}{body}").as_bytes())
                    .is_err()
                {
                    return;
                }
            }
            Act::ResetMidBody | Act::CloseMidBody => {
                let _ = stream.write_all(format!("{head}{}", &body[..20]).as_bytes());
                let _ = stream.flush();
                std::thread::sleep(Duration::from_millis(20));
                if act(n, on_conn) == Act::ResetMidBody {
                    set_linger_zero(&stream);
                }
                return;
            }
            Act::CloseUnanswered => return,
            Act::Garbage => {
                let _ = stream.write_all(b"HTTX/9 what\r\n\r\nnonsense");
                return;
            }
        }
    }
}

/// Makes the next close send a reset (RST) instead of a FIN.
fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// One GET of `<url>/x` with the step's `retry` block given as YAML.
fn one_get(url: &str, retry: &str) -> String {
    fixture("faults/one_get.yaml")
        .replace("RETRY", retry)
        .replace("SERVER", url)
}

#[test]
fn a_reset_mid_body_is_retried_under_on_connect_error() {
    let server = FaultServer::start(|n, _| {
        if n == 0 {
            Act::ResetMidBody
        } else {
            Act::Answer
        }
    });
    let retry = "{ attempts: 3, backoff: { initial: 10ms } }";
    let c = case_with_env(&one_get(&server.url(), retry), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let a = r["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(a.len(), 2, "{a:#?}");
    assert_eq!(a[0]["code"], "000");
    assert_eq!(a[0]["transport_error"]["kind"], "reset", "{:#}", a[0]);
    assert_eq!(a[1]["code"], "200");
}

#[test]
fn a_close_mid_body_is_retried_and_on_connect_error_false_stops_it() {
    let server = FaultServer::start(|n, _| {
        if n == 0 {
            Act::CloseMidBody
        } else {
            Act::Answer
        }
    });
    let retry = "{ attempts: 3, backoff: { initial: 10ms } }";
    let c = case_with_env(&one_get(&server.url(), retry), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = out.results();
    let a = r["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(a.len(), 2, "{a:#?}");
    assert_eq!(a[0]["transport_error"]["kind"], "reset", "{:#}", a[0]);

    let server = FaultServer::start(|_, _| Act::CloseMidBody);
    let retry = "{ attempts: 3, on_connect_error: false }";
    let c = case_with_env(&one_get(&server.url(), retry), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    assert_eq!(r["steps"][0]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(r["steps"][0]["failure"]["class"], "no_response");
    assert!(
        r["steps"][0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("dropped the connection before the answer was whole")
    );
}

#[test]
fn a_malformed_answer_is_named_so_and_not_retried() {
    let server = FaultServer::start(|_, _| Act::Garbage);
    let retry = "{ attempts: 3, backoff: { initial: 10ms } }";
    let c = case_with_env(&one_get(&server.url(), retry), "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1);
    let r = out.results();
    let a = r["steps"][0]["attempts"].as_array().unwrap();
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["transport_error"]["kind"], "malformed_response");
    assert!(
        r["steps"][0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid HTTP")
    );
    assert!(
        out.stdout.contains("000 malformed_response"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_server_closing_idle_keep_alive_connections_passes_every_step() {
    // Every connection answers one request; the next request on it is read and the
    // connection closed without a byte, as a server closing idle connections does when a
    // request races the close.
    let server = FaultServer::start(|_, on_conn| {
        if on_conn == 0 {
            Act::Answer
        } else {
            Act::CloseUnanswered
        }
    });
    let mut yaml = String::from("name: t\nsteps:\n");
    for i in 0..100 {
        // Built here: a hundred steps alike but for the id.
        yaml.push_str(
            &"  - id: getN\n    retry: { attempts: 1 }\n    http: { url: \"SERVER/x\" }\n"
                .replace("getN", &format!("get{i}"))
                .replace("SERVER", &server.url()),
        );
    }
    let c = case_with_env(&yaml, "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.results();
    assert_eq!(r["summary"]["passed"], 100);
    let steps = r["steps"].as_array().unwrap();
    let resent = steps
        .iter()
        .filter(|s| s["attempts"][0]["resent"].is_string())
        .count();
    assert!(resent >= 90, "{resent} re-sent");
    assert!(
        steps
            .iter()
            .all(|s| s["attempts"].as_array().unwrap().len() == 1)
    );
    assert!(
        steps[1]["attempts"][0]["resent"]
            .as_str()
            .unwrap()
            .contains("kept-alive connection was closed before any answer")
    );
    // 100 answered requests and one closed per re-send.
    assert_eq!(server.seen.load(Ordering::SeqCst), 100 + resent);
}

#[test]
fn a_post_is_not_sent_twice_on_its_own() {
    let server = FaultServer::start(|_, on_conn| {
        if on_conn == 0 {
            Act::Answer
        } else {
            Act::CloseUnanswered
        }
    });
    let url = server.url();
    let yaml = fixture("faults/post_not_resent.yaml").replace("SERVER", &url);
    let c = case_with_env(&yaml, "");
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let r = out.results();
    let a = &r["steps"][1]["attempts"][0];
    assert_eq!(a["transport_error"]["kind"], "reset", "{a:#}");
    assert!(a["resent"].is_null());
}

const NEEDS_ENV: &str = "name: t\nenv:\n  required: [GREETING]\nsteps:\n  - id: prog\n    exec: { program: \"true\" }\n";

#[test]
fn an_env_file_with_a_byte_order_mark_is_read() {
    let c = case_with_env(NEEDS_ENV, "\u{feff}GREETING=hello\nOTHER=1\n");
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.results()["env"]["GREETING"], "hello");
}

#[test]
fn an_env_file_error_points_into_the_env_file_without_its_line() {
    let c = case_with_env(
        NEEDS_ENV,
        "# comment\nGREETING=hello\nAPI_TOKEN=s3cr3t-value oops=\"x\n",
    );
    let out = run(&c, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let env = c.env_file.display().to_string();
    assert!(
        out.stderr.contains(&format!("--> {env}:3:")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cr3t-value"), "{}", out.stderr);
    assert!(!out.stderr.contains("scenario.yaml:"), "{}", out.stderr);
}

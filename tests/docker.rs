//! `docker` steps against the real Docker engine: images are built `FROM scratch` with
//! Debian's busybox-static (no registry is needed). Without a Docker engine these tests
//! print why they are skipped and end early.
mod support;

use support::{Case, fixture};

fn docker_ready(test: &str) -> bool {
    let ok = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    let busybox = std::path::Path::new("/bin/busybox").exists();
    if !ok || !busybox {
        eprintln!("SKIPPED {test}: docker engine reachable: {ok}, /bin/busybox present: {busybox}");
    }
    ok && busybox
}

struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .output();
    }
}

/// A scenario with a busybox build context next to it and an env file with a secret.
fn setup(yaml: &str, tag: &str) -> Case {
    let case = Case::new(&yaml.replace("TAG", tag))
        .with_env("LOADER_TOKEN=tok-DOCKER-SECRET-77\nORG_NAME=irs-prod\n")
        .live();
    case.write(
        "ctx/Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\", \"sh\", \"-c\"]\n",
    );
    std::fs::copy("/bin/busybox", case.dir.path().join("ctx/busybox")).unwrap();
    case
}

/// Runs the case: (exit code, console, results.json).
fn run(case: &Case) -> (i32, String, serde_json::Value) {
    let out = case.run(&[]);
    (out.code, out.console(), out.results_if_any())
}

fn containers_named(prefix: &str) -> String {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("name={prefix}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn docker_build_run_slow_log_exit_code_and_env_file() {
    if !docker_ready("docker_build_run_slow_log_exit_code_and_env_file") {
        return;
    }
    let tag = format!("qtscen-test-{}:latest", std::process::id());
    let _image = Image(tag.clone());
    let dir = setup(
        r#"
name: docker
steps:
  - id: build
    docker:
      build: { context: ctx, tag: "TAG" }
      log: build.log
  - id: loader
    needs: [build]
    docker:
      run:
        image: "TAG"
        network: host
        env_file: .env
        command: ["echo 'Fetching orders via GET…'; sleep 1; echo \"token=$LOADER_TOKEN org=$ORG_NAME\"; echo 'Inserted 7 rows into zakaz.fact_qtickets_sales_daily'"]
      log: qtickets_loader_prod.log
    assert:
      - body: { not_contains: Traceback }
      - body: { contains: "org=irs-prod" }
    capture:
      rows: { regex: "Inserted (?P<rows>\\d+) rows", group: rows }
  - id: fails
    needs: [build]
    docker:
      run: { image: "TAG", command: ["echo 'Traceback (most recent call last):' >&2; exit 1"] }
"#,
        &tag,
    );
    let (code, console, r) = run(&dir);
    assert_eq!(code, 1, "{console}");
    assert_eq!(r["steps"][0]["outcome"], "passed", "{console}");
    assert_eq!(r["steps"][1]["outcome"], "passed", "{console}");
    assert_eq!(r["steps"][1]["captures"]["rows"], "7");
    assert_eq!(r["steps"][2]["failure"]["class"], "program_failed");
    assert_eq!(r["steps"][2]["attempts"][0]["code"], "exit 1");
    let cmd = r["steps"][1]["attempts"][0]["request"]["url"]
        .as_str()
        .unwrap();
    assert!(
        cmd.starts_with("docker run --name qtscen-loader-")
            && cmd.contains("--rm --network host --env-file .env"),
        "{cmd}"
    );
    // The log arrived slowly: its lines carry the times they came.
    let log = std::fs::read_to_string(dir.dir.path().join("out/qtickets_loader_prod.log")).unwrap();
    let t: Vec<jiff::Timestamp> = log
        .lines()
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(t.len(), 3, "{log}");
    assert!(
        t[1].duration_since(t[0]) >= jiff::SignedDuration::from_millis(900),
        "{log}"
    );
    assert!(
        std::fs::read_to_string(dir.dir.path().join("out/build.log"))
            .unwrap()
            .contains("Successfully tagged")
    );
    // The secret from the env file reached the container but no file and no console line.
    assert!(log.contains("token=***"), "{log}");
    assert!(!console.contains("tok-DOCKER-SECRET-77"));
    for entry in std::fs::read_dir(dir.dir.path().join("out")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("tok-DOCKER-SECRET-77"), "{text}");
    }
}

#[test]
fn docker_timeout_kills_and_removes_the_container() {
    if !docker_ready("docker_timeout_kills_and_removes_the_container") {
        return;
    }
    let tag = format!("qtscen-test-timeout-{}:latest", std::process::id());
    let _image = Image(tag.clone());
    let name = format!("qtscen-timeout-{}", std::process::id());
    let dir = setup(
        &fixture("docker/timeout.yaml").replace("CONTAINER", &name),
        &tag,
    );
    let (code, console, r) = run(&dir);
    assert_eq!(code, 1, "{console}");
    assert_eq!(r["steps"][1]["failure"]["class"], "no_response");
    assert_eq!(r["steps"][1]["attempts"][0]["code"], "timeout");
    assert!(r["steps"][1]["attempts"][0]["response"].is_null());
    assert_eq!(
        containers_named(&name),
        "",
        "nothing is left behind, even without --rm"
    );
}

#[test]
fn docker_unreachable_engine_is_named() {
    if !docker_ready("docker_unreachable_engine_is_named") {
        return;
    }
    let case =
        Case::new("name: noengine\nsteps:\n  - id: run\n    docker: { run: { image: nothing } }\n")
            .live();
    let out_dir = case.dir.path().join("out");
    let out = case
        .command(&out_dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    let message = r["steps"][0]["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("the Docker engine is unreachable"),
        "{message}"
    );
}

#[test]
fn docker_ctrl_c_removes_the_running_container_and_writes_the_report() {
    if !docker_ready("docker_ctrl_c_removes_the_running_container_and_writes_the_report") {
        return;
    }
    let tag = format!("qtscen-test-int-{}:latest", std::process::id());
    let _image = Image(tag.clone());
    let name = format!("qtscen-int-{}", std::process::id());
    let dir = setup(
        &fixture("docker/interrupt.yaml").replace("CONTAINER", &name),
        &tag,
    );
    let mut child = dir
        .command(&dir.dir.path().join("out"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the container runs and its first line reached the log.
    let log = dir.dir.path().join("out/hang.log");
    for _ in 0..300 {
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains("stdout started")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(containers_named(&name), name, "the container runs");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(containers_named(&name), "", "the container is removed");
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.dir.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["outcome"], "interrupted");
    assert!(
        std::fs::read_to_string(dir.dir.path().join("out/hang.log"))
            .unwrap()
            .contains("stdout started")
    );
}

//! Validate stage: `exec` and `docker` steps compiled into program invocations.
use std::time::Duration;

use super::ctx::{Ctx, safe_file_name};
use crate::plan::{ArgPart, ProcessPlan};
use crate::scenario::{DockerSpec, ExecSpec};
use crate::source::YamlPath;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

fn check_log(cx: &mut Ctx, p: &YamlPath, log: &Option<String>) {
    if let Some(name) = log {
        if !safe_file_name(name) {
            cx.problem(
                p.at("log"),
                format!("`{name}` must be a plain file name inside the run folder"),
            );
        }
    }
}

fn env_pairs(
    cx: &mut Ctx,
    p: &YamlPath,
    env: &indexmap::IndexMap<String, String>,
) -> Vec<(String, crate::template::Compiled)> {
    let mut out = Vec::new();
    for (k, v) in env {
        out.extend(cx.text(&p.at("env").at(k), v).map(|c| (k.clone(), c)));
    }
    out
}

/// Compiles an `exec` step.
pub(super) fn compile_exec(cx: &mut Ctx, p: &YamlPath, e: &ExecSpec) -> Option<ProcessPlan> {
    check_log(cx, p, &e.log);
    let (program, args) = match (&e.program, &e.shell) {
        (Some(prog), None) => {
            let mut args = Vec::new();
            for (i, a) in e.args.iter().enumerate() {
                args.extend(cx.text(&p.at("args").at(i), a).map(ArgPart::Arg));
            }
            (prog.clone(), args)
        }
        (None, Some(line)) => {
            if !e.args.is_empty() {
                cx.key_problem(
                    p.at("args"),
                    "`args` go with `program`; a `shell` line carries its own",
                );
            }
            let line = cx.text(&p.at("shell"), line)?;
            (
                "sh".to_string(),
                vec![ArgPart::Lit("-c"), ArgPart::Arg(line)],
            )
        }
        (Some(_), Some(_)) => {
            cx.key_problem(
                p.at("shell"),
                "give either `program` (with `args`) or `shell`, not both",
            );
            return None;
        }
        (None, None) => {
            cx.problem(p, "an exec step needs `program` (with `args`) or `shell`");
            return None;
        }
    };
    Some(ProcessPlan {
        kind: "exec",
        program,
        args,
        dir: e.dir.as_ref().and_then(|d| cx.text(&p.at("dir"), d)),
        env: env_pairs(cx, p, &e.env),
        pass_env: e.pass_env,
        timeout: e.timeout.map(|t| t.0).unwrap_or(DEFAULT_TIMEOUT),
        log: e.log.clone(),
        container: None,
    })
}

/// Compiles a `docker` step into a docker CLI invocation.
pub(super) fn compile_docker(cx: &mut Ctx, p: &YamlPath, d: &DockerSpec) -> Option<ProcessPlan> {
    check_log(cx, p, &d.log);
    let mut args = Vec::new();
    let mut container = None;
    let mut dir = None;
    match (&d.build, &d.run) {
        (Some(b), None) => {
            let b_path = p.at("build");
            args.push(ArgPart::Lit("build"));
            if let Some(f) = &b.dockerfile {
                args.extend(
                    cx.text(&b_path.at("dockerfile"), f)
                        .map(|c| ArgPart::Flag("-f", c)),
                );
            }
            args.extend(
                cx.text(&b_path.at("tag"), &b.tag)
                    .map(|c| ArgPart::Flag("-t", c)),
            );
            for (k, v) in &b.args {
                let kv = format!("{k}={v}");
                args.extend(
                    cx.text(&b_path.at("args").at(k), &kv)
                        .map(|c| ArgPart::Flag("--build-arg", c)),
                );
            }
            // Run from the context, as the runbook does (`docker build -f … .` from the
            // dashboard root), so `dockerfile` is relative to it.
            dir = cx.text(&b_path.at("context"), &b.context);
            args.push(ArgPart::Lit("."));
        }
        (None, Some(r)) => {
            let r_path = p.at("run");
            args.push(ArgPart::Lit("run"));
            if !["never", "missing", "always"].contains(&r.pull.as_str()) {
                cx.problem(r_path.at("pull"), "pull is one of never, missing, always");
            }
            args.push(ArgPart::Lit("--pull"));
            args.push(ArgPart::Lit(match r.pull.as_str() {
                "always" => "always",
                "missing" => "missing",
                _ => "never",
            }));
            if r.rm {
                args.push(ArgPart::Lit("--rm"));
            }
            let name = r.name.as_ref().and_then(|n| cx.text(&r_path.at("name"), n));
            container = Some(name);
            if let Some(n) = &r.network {
                args.extend(
                    cx.text(&r_path.at("network"), n)
                        .map(|c| ArgPart::Flag("--network", c)),
                );
            }
            if let Some(f) = &r.env_file {
                args.extend(
                    cx.text(&r_path.at("env_file"), f)
                        .map(|c| ArgPart::Flag("--env-file", c)),
                );
            }
            for (k, v) in &r.env {
                let kv = format!("{k}={v}");
                args.extend(
                    cx.text(&r_path.at("env").at(k), &kv)
                        .map(|c| ArgPart::Flag("-e", c)),
                );
            }
            for (i, v) in r.volumes.iter().enumerate() {
                args.extend(
                    cx.text(&r_path.at("volumes").at(i), v)
                        .map(|c| ArgPart::Flag("-v", c)),
                );
            }
            args.extend(cx.text(&r_path.at("image"), &r.image).map(ArgPart::Arg));
            for (i, a) in r.command.iter().enumerate() {
                args.extend(cx.text(&r_path.at("command").at(i), a).map(ArgPart::Arg));
            }
        }
        (Some(_), Some(_)) => {
            cx.key_problem(
                p.at("run"),
                "a docker step either builds or runs: give `build` or `run`, not both",
            );
            return None;
        }
        (None, None) => {
            cx.problem(p, "a docker step needs `build:` or `run:`");
            return None;
        }
    }
    Some(ProcessPlan {
        kind: "docker",
        program: "docker".into(),
        args,
        dir,
        env: Vec::new(),
        pass_env: false,
        timeout: d.timeout.map(|t| t.0).unwrap_or(DEFAULT_TIMEOUT),
        log: d.log.clone(),
        container,
    })
}

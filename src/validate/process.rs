//! Validate stage: `exec` and `docker` steps compiled into program invocations.
use std::time::Duration;

use super::ctx::{Ctx, safe_file_name};
use crate::plan::{ArgPart, ProcessPlan};
use crate::scenario::{DockerSpec, ExecSpec};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

fn check_log(cx: &mut Ctx, p: &str, log: &Option<String>) {
    if let Some(name) = log {
        if !safe_file_name(name) {
            cx.problem(
                format!("{p}.log"),
                format!("`{name}` must be a plain file name inside the run folder"),
            );
        }
    }
}

fn env_pairs(
    cx: &mut Ctx,
    p: &str,
    env: &indexmap::IndexMap<String, String>,
) -> Vec<(String, crate::template::Compiled)> {
    let mut out = Vec::new();
    for (k, v) in env {
        out.extend(cx.text(&format!("{p}.env.{k}"), v).map(|c| (k.clone(), c)));
    }
    out
}

/// Compiles an `exec` step.
pub(super) fn compile_exec(cx: &mut Ctx, p: &str, e: &ExecSpec) -> Option<ProcessPlan> {
    check_log(cx, p, &e.log);
    let (program, args) = match (&e.program, &e.shell) {
        (Some(prog), None) => {
            let mut args = Vec::new();
            for (i, a) in e.args.iter().enumerate() {
                args.extend(cx.text(&format!("{p}.args[{i}]"), a).map(ArgPart::Arg));
            }
            (prog.clone(), args)
        }
        (None, Some(line)) => {
            if !e.args.is_empty() {
                cx.key_problem(
                    format!("{p}.args"),
                    "`args` go with `program`; a `shell` line carries its own",
                );
            }
            let line = cx.text(&format!("{p}.shell"), line)?;
            (
                "sh".to_string(),
                vec![ArgPart::Lit("-c"), ArgPart::Arg(line)],
            )
        }
        (Some(_), Some(_)) => {
            cx.key_problem(
                format!("{p}.shell"),
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
        dir: e.dir.as_ref().and_then(|d| cx.text(&format!("{p}.dir"), d)),
        env: env_pairs(cx, p, &e.env),
        pass_env: e.pass_env,
        timeout: e.timeout.map(|t| t.0).unwrap_or(DEFAULT_TIMEOUT),
        log: e.log.clone(),
        container: None,
    })
}

/// Compiles a `docker` step into a docker CLI invocation.
pub(super) fn compile_docker(cx: &mut Ctx, p: &str, d: &DockerSpec) -> Option<ProcessPlan> {
    check_log(cx, p, &d.log);
    let mut args = Vec::new();
    let mut container = None;
    let mut dir = None;
    match (&d.build, &d.run) {
        (Some(b), None) => {
            let b_path = format!("{p}.build");
            args.push(ArgPart::Lit("build"));
            if let Some(f) = &b.dockerfile {
                args.extend(
                    cx.text(&format!("{b_path}.dockerfile"), f)
                        .map(|c| ArgPart::Flag("-f", c)),
                );
            }
            args.extend(
                cx.text(&format!("{b_path}.tag"), &b.tag)
                    .map(|c| ArgPart::Flag("-t", c)),
            );
            for (k, v) in &b.args {
                let kv = format!("{k}={v}");
                args.extend(
                    cx.text(&format!("{b_path}.args.{k}"), &kv)
                        .map(|c| ArgPart::Flag("--build-arg", c)),
                );
            }
            // Run from the context, as the runbook does (`docker build -f … .` from the
            // dashboard root), so `dockerfile` is relative to it.
            dir = cx.text(&format!("{b_path}.context"), &b.context);
            args.push(ArgPart::Lit("."));
        }
        (None, Some(r)) => {
            let r_path = format!("{p}.run");
            args.push(ArgPart::Lit("run"));
            if !["never", "missing", "always"].contains(&r.pull.as_str()) {
                cx.problem(
                    format!("{r_path}.pull"),
                    "pull is one of never, missing, always",
                );
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
            let name = r
                .name
                .as_ref()
                .and_then(|n| cx.text(&format!("{r_path}.name"), n));
            container = Some(name);
            if let Some(n) = &r.network {
                args.extend(
                    cx.text(&format!("{r_path}.network"), n)
                        .map(|c| ArgPart::Flag("--network", c)),
                );
            }
            if let Some(f) = &r.env_file {
                args.extend(
                    cx.text(&format!("{r_path}.env_file"), f)
                        .map(|c| ArgPart::Flag("--env-file", c)),
                );
            }
            for (k, v) in &r.env {
                let kv = format!("{k}={v}");
                args.extend(
                    cx.text(&format!("{r_path}.env.{k}"), &kv)
                        .map(|c| ArgPart::Flag("-e", c)),
                );
            }
            for (i, v) in r.volumes.iter().enumerate() {
                args.extend(
                    cx.text(&format!("{r_path}.volumes[{i}]"), v)
                        .map(|c| ArgPart::Flag("-v", c)),
                );
            }
            args.extend(
                cx.text(&format!("{r_path}.image"), &r.image)
                    .map(ArgPart::Arg),
            );
            for (i, a) in r.command.iter().enumerate() {
                args.extend(
                    cx.text(&format!("{r_path}.command[{i}]"), a)
                        .map(ArgPart::Arg),
                );
            }
        }
        (Some(_), Some(_)) => {
            cx.key_problem(
                format!("{p}.run"),
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

//! Run stage: `exec` and `docker` steps — render the command, run it with its output
//! streamed to the log file (timestamped, secrets masked), record it as one attempt. Only
//! the output's last lines (`limits.output_tail`) are held: the step's `output`.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::in_flight::InFlight;
use super::outcome::ActionOutcome;
use super::{Event, EventSink, RunContext};
use crate::assert::Observation;
use crate::evidence::MaskedLog;
use crate::exec::{ProcessOutput, ResolvedCommand, Stream, run_process};
use crate::plan::{ArgPart, ProcessPlan};
use crate::record::{Attempt, RequestRecord, ResponseRecord};
use crate::template::Templates;

/// How a program ended, for classification.
#[derive(Clone, Debug)]
pub struct ProcessFacts {
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Killed on timeout.
    pub timed_out: bool,
    /// Why it could not run at all (not started, Docker engine unreachable).
    pub not_run: Option<String>,
}

fn render(
    plan: &ProcessPlan,
    t: &Templates,
    rc: &RunContext,
    step_id: &str,
) -> Result<ResolvedCommand, String> {
    let ctx = rc.value(&[]);
    let r = |c: &crate::template::Compiled| t.render_string(c, &ctx).map_err(|e| e.message);
    let mut args = Vec::new();
    let mut cleanup = None;
    for part in &plan.args {
        match part {
            ArgPart::Lit(s) => {
                args.push(s.to_string());
                if *s == "run" && args.len() == 1 {
                    if let Some(name) = &plan.container {
                        let name = match name {
                            Some(c) => r(c)?,
                            None => format!(
                                "qtscen-{}-{}-{}",
                                step_id.replace('_', "-"),
                                std::process::id(),
                                fastrand::u32(..)
                            ),
                        };
                        args.push("--name".into());
                        args.push(name.clone());
                        cleanup = Some(vec!["docker".into(), "rm".into(), "-f".into(), name]);
                    }
                }
            }
            ArgPart::Arg(c) => args.push(r(c)?),
            ArgPart::Flag(flag, c) => {
                let v = r(c)?;
                if !v.trim().is_empty() {
                    args.push(flag.to_string());
                    args.push(v);
                }
            }
        }
    }
    let mut env: Vec<(String, String)> = Vec::new();
    if plan.pass_env {
        env.extend(rc.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (k, c) in &plan.env {
        env.push((k.clone(), r(c)?));
    }
    Ok(ResolvedCommand {
        program: plan.program.clone(),
        args,
        dir: plan.dir.as_ref().map(r).transpose()?,
        env,
        timeout: plan.timeout,
        cleanup,
    })
}

fn docker_unreachable(out: &ProcessOutput) -> Option<String> {
    let text = &out.stderr;
    let markers = [
        "Cannot connect to the Docker daemon",
        "Is the docker daemon running",
        "permission denied while trying to connect to the Docker daemon",
        "error during connect",
    ];
    markers
        .iter()
        .any(|m| text.contains(m))
        .then(|| format!("the Docker engine is unreachable: {}", text.trim()))
}

/// Runs an `exec` or `docker` step.
pub async fn run_program(
    plan: &ProcessPlan,
    t: &Templates,
    rc: &RunContext,
    events: &dyn EventSink,
    step_id: &str,
    out_dir: &Path,
    attempts: &mut Vec<Attempt>,
) -> (ActionOutcome, Option<ProcessFacts>) {
    let mut outcome = ActionOutcome::default();
    let cmd = match render(plan, t, rc, step_id) {
        Ok(c) => c,
        Err(e) => {
            outcome.engine_error = Some(e);
            return (outcome, None);
        }
    };
    // The log is opened without following a symlink at its name; a log that cannot be
    // written stops the step before the program starts (its output would be lost).
    let log = match plan.log.as_ref().map(|name| {
        let name = &super::step_record::per_item(name, rc.each.as_ref().map(|e| e.1));
        MaskedLog::create(&out_dir.join(name), &rc.redactor)
            .map_err(|e| format!("cannot write the log `{name}`: {e}"))
    }) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            outcome.engine_error = Some(e);
            return (outcome, None);
        }
    };
    let log = Arc::new(log);
    let sink_log = log.clone();
    let clock = rc.clock.clone();
    let sink = move |stream: Stream, line: &str| {
        if let Some(file) = sink_log.as_ref() {
            let tag = match stream {
                Stream::Stdout => "stdout",
                Stream::Stderr => "stderr",
            };
            file.line(|| clock.now_text(), tag, line);
        }
    };
    let started = rc.clock.now();
    let red = &rc.redactor;
    let command_line = red.redact(&cmd.display());
    // On record before it starts: an interrupted run still shows the command.
    let request = RequestRecord {
        method: plan.kind.to_ascii_uppercase(),
        url: command_line.clone(),
        url_readable: command_line.clone(),
        query: Vec::new(),
        headers: cmd
            .dir
            .iter()
            .map(|d| ("dir".to_string(), red.redact(d)))
            .collect::<BTreeMap<_, _>>(),
        body: None,
    };
    let mut pending = Attempt::pending(request, rc.clock.format(started));
    pending.code = "interrupted".to_string();
    let mut slot = InFlight::start(
        attempts,
        pending,
        "the program ran (its process group was killed)",
    );
    let result = run_process(&cmd, &sink, rc.limits.output_tail.bytes()).await;
    let not_run = result.spawn_error.clone().or_else(|| {
        if plan.kind == "docker" {
            docker_unreachable(&result)
        } else {
            None
        }
    });
    let code = match (&not_run, result.timed_out, result.exit_code) {
        (Some(_), _, _) => "000".to_string(),
        (None, true, _) => "timeout".to_string(),
        (None, false, Some(c)) => format!("exit {c}"),
        (None, false, None) => "killed".to_string(),
    };
    if let (Some(file), Some(reason)) = (log.as_ref(), &not_run) {
        file.line(|| rc.clock.now_text(), "qtscen", reason);
    }
    let attempt = slot.attempt();
    attempt.duration_ms = result.duration.as_millis() as u64;
    // The output is recorded once, as the step's `output`; the whole of it is in the log.
    attempt.response = result.exit_code.map(|c| ResponseRecord {
        status: u16::try_from(c).unwrap_or(u16::MAX),
        headers: BTreeMap::new(),
        body: String::new(),
        body_file: plan.log.clone(),
        body_bytes: Some(result.total_bytes),
        body_excerpt: false,
    });
    attempt.transport_error = None;
    attempt.code = code;
    attempt.server_error = not_run.as_ref().map(|s| red.redact(s));
    events.emit(Event::AttemptFinished {
        id: step_id,
        attempt: slot.attempt(),
    });
    drop(slot);
    let combined = red.redact(&result.combined);
    outcome.request = json!({"command": command_line, "dir": cmd.dir});
    outcome.observation = Observation {
        status: None,
        headers: BTreeMap::new(),
        body: Arc::from(combined.as_str()),
        body_file: None,
        json: crate::assert::LazyJson::ready(Some(Arc::new(json!({
            "exit_code": result.exit_code,
            "timed_out": result.timed_out,
            "stdout": red.redact(&result.stdout),
            "stderr": red.redact(&result.stderr),
            "command": command_line,
        })))),
        items: None,
        walk: None,
        files: Default::default(),
    };
    outcome.text = Some(if result.dropped_bytes > 0 {
        let whole = match &plan.log {
            Some(log) => format!("the whole output is in the log `{log}`"),
            None => "give the step a `log:` to keep all of it".to_string(),
        };
        format!(
            "[qtscen: {} bytes of output before these last lines are not held (limits.output_tail: {}); {whole}]\n{combined}",
            result.dropped_bytes,
            rc.limits.output_tail.display()
        )
    } else {
        combined
    });
    let facts = ProcessFacts {
        exit_code: result.exit_code,
        timed_out: result.timed_out,
        not_run,
    };
    (outcome, Some(facts))
}

/// The command line `run` would execute, with the working directory and timeout.
pub fn describe(
    plan: &ProcessPlan,
    t: &Templates,
    rc: &RunContext,
    step_id: &str,
) -> Result<String, String> {
    let cmd = render(plan, t, rc, step_id)?;
    let dir = cmd
        .dir
        .as_ref()
        .map(|d| format!("  (in {d})"))
        .unwrap_or_default();
    Ok(format!(
        "$ {}{dir}\n  timeout: {} s",
        cmd.display(),
        cmd.timeout.as_secs()
    ))
}

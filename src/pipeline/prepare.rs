//! Pipeline, before the first step: the environment, the secrets and the vars.
use std::collections::BTreeMap;

use crate::cli::RunArgs;
use crate::error::Error;
use crate::load::{Loaded, load_env};
use crate::plan::{Action, ArgPart, Plan};
use crate::runner::{Clock, RunContext};
use crate::secrets::{Redactor, is_secret_name};
use crate::source::Diagnostic;

/// Env, secrets and vars: everything needed before the first step.
pub(crate) fn prepare(
    args: &RunArgs,
    loaded: &Loaded,
    plan: &mut Plan,
    clock: Clock,
) -> Result<RunContext, Error> {
    let env = load_env(loaded, &plan.scenario, &args.env_files)
        .map_err(|d| Error::scenario(d, Some(&loaded.file)))?;
    if let Err(problems) = check_selected_env(args, plan, &env) {
        let diags = crate::validate::problems_to_diagnostics(&problems, loaded);
        return Err(Error::scenario(diags, Some(&loaded.file)));
    }
    let declared = &plan.scenario.secrets;
    let is_secret = |name: &str| is_secret_name(name) || declared.iter().any(|d| d == name);
    let mut secrets: Vec<String> = env
        .iter()
        .filter(|(k, _)| is_secret(k))
        .map(|(_, v)| v.clone())
        .collect();
    // Programs inherit the process environment: its secrets are masked in their output.
    secrets.extend(
        std::env::vars()
            .filter(|(k, _)| is_secret_name(k))
            .map(|(_, v)| v),
    );
    let mut rc = RunContext::new(
        env,
        Redactor::new(secrets.clone()),
        clock,
        plan.scenario.name.clone(),
    );
    rc.secret_names = rc.env.keys().filter(|k| is_secret(k)).cloned().collect();
    rc.scenario_dir = loaded.dir.clone();
    rc.limits = plan.scenario.limits.clone();
    let files = args
        .env_files
        .iter()
        .map(|f| {
            std::path::absolute(f)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| f.clone())
        })
        .collect();
    rc = rc.set_env_files(files);
    let overrides: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    let names: Vec<String> = plan.vars.iter().map(|(n, _)| n.clone()).collect();
    if let Some(unknown) = overrides.keys().find(|k| !names.contains(k)) {
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        let hint = crate::source::did_you_mean(unknown, &list)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(Error::Invalid(format!(
            "--var {unknown}: the scenario declares no var `{unknown}`{hint} (a --var sets a var of `vars:`; its vars: {})",
            list.join(", ")
        )));
    }
    for name in names {
        let compiled = plan.vars.iter().find(|(n, _)| *n == name).map(|(_, c)| c);
        let value = match (overrides.get(&name), compiled) {
            (Some(v), _) => serde_json::Value::String(v.clone()),
            (None, Some(c)) => match c.render(&plan.templates, &rc.value(&[])) {
                Ok(v) => v,
                Err(e) => {
                    let d = Diagnostic::error(format!(
                        "vars.{name}: {}",
                        rc.redactor.redact(&e.message)
                    ))
                    .with_file(loaded.file.name.clone());
                    return Err(Error::scenario(vec![d], Some(&loaded.file)));
                }
            },
            (None, None) => continue,
        };
        if is_secret(&name) {
            if let Some(s) = value.as_str() {
                secrets.push(s.to_string());
                // Mask it at once: a later var's error message may quote it.
                rc.redactor = Redactor::new(secrets.clone());
            }
            rc.secret_names.push(name.clone());
        }
        rc.set_var(&name, value);
    }
    secrets.extend(program_secrets(plan, &rc));
    rc.redactor = Redactor::new(secrets);
    Ok(rc)
}

/// Every env variable a selected step reads without a default must be set: a run
/// stops before its first step rather than in the middle, naming the variable and
/// where it is read.
fn check_selected_env(
    args: &RunArgs,
    plan: &Plan,
    env: &BTreeMap<String, String>,
) -> Result<(), Vec<crate::validate::Problem>> {
    let opts = crate::runner::RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        allow_empty: args.allow_empty,
        steps: args.steps.clone(),
        // The ids were checked before (`run_options`).
        needed: crate::runner::needed_steps(plan, &args.steps).unwrap_or_default(),
    };
    let problems: Vec<crate::validate::Problem> = plan
        .steps
        .iter()
        .filter(|s| crate::runner::selection_reason(s, &opts).is_none())
        .flat_map(|s| s.env_refs.iter().map(move |r| (s, r)))
        .filter(|(_, r)| !env.contains_key(&r.path[0]))
        .map(|(s, r)| crate::validate::Problem {
            path: crate::source::YamlPath::of_origin(&r.origin).unwrap_or_default(),
            message: format!(
                "`env.{}` is not set, and step `{}` reads it: set it (an env file, the environment), or leave the step out (--skip-tags)",
                r.path[0], s.id
            ),
            at_key: false,
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Secrets a scenario hands to others: a ClickHouse password, program environment
/// under secret-looking names, and the secret values of a container's `--env-file`.
fn program_secrets(plan: &Plan, rc: &RunContext) -> Vec<String> {
    let ctx = rc.value(&[]);
    let render = |c: &crate::template::Compiled| plan.templates.render_string(c, &ctx).ok();
    let mut out = Vec::new();
    for step in &plan.steps {
        match &step.action {
            Action::Sql(sql) => out.extend(sql.password.as_ref().and_then(render)),
            Action::Process(p) => {
                for (k, c) in &p.env {
                    if is_secret_name(k) {
                        out.extend(render(c));
                    }
                }
                for part in &p.args {
                    let ArgPart::Flag(flag, c) = part else {
                        continue;
                    };
                    let Some(value) = render(c) else { continue };
                    match *flag {
                        "-e" | "--build-arg" => {
                            if let Some((k, v)) = value.split_once('=') {
                                if is_secret_name(k) {
                                    out.push(v.to_string());
                                }
                            }
                        }
                        "--env-file" => {
                            if let Ok(iter) = dotenvy::from_path_iter(&value) {
                                out.extend(
                                    iter.flatten()
                                        .filter(|(k, _)| is_secret_name(k))
                                        .map(|(_, v)| v),
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
            Action::Http(_) | Action::Reconcile(_) | Action::Check => {}
        }
    }
    out
}

//! The commands: `run`, `validate`, `plan`, `schema`, and their exit codes
//! (0 passed · 1 a step failed · 2 invalid scenario or command line · 130 interrupted).
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use crate::cli::{Cli, Command, RunArgs};
use crate::exec::HttpClient;
use crate::load::{Loaded, load_env, load_report_sources, load_scenario, problems_to_diagnostics};
use crate::plan::Plan;
use crate::report::{Console, write_run_files};
use crate::runner::{Clock, RunContext, RunOptions, finish_record, run_plan};
use crate::secrets::{Redactor, is_secret_name};
use crate::source::{Diagnostic, render};
use crate::template::Templates;
use crate::validate::validate_scenario;

/// Exit code: invalid scenario or command line.
pub const EXIT_INVALID: i32 = 2;

/// Runs the command line; returns the process exit code.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INVALID } else { 0 };
        }
    };
    match cli.command {
        Command::Schema => {
            print!("{}", crate::schema::scenario_schema());
            0
        }
        Command::Validate { scenarios } => validate_command(&scenarios),
        Command::Render { run_dir, scenario } => render_command(&run_dir, scenario.as_deref()),
        Command::Plan(args) => plan_command(&args),
        Command::Run(args) => block_on_run(&args),
        Command::Demo {
            out,
            tags,
            loader_fail,
        } => crate::demo::demo_command(out, tags, loader_fail),
    }
}

/// Runs `qtscen run` with these arguments on a fresh runtime.
pub(crate) fn block_on_run(args: &RunArgs) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run_command(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            1
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], loaded: Option<&Loaded>) {
    let colored = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for d in diags {
        eprintln!("{}", render(d, loaded.map(|l| &l.file), colored));
    }
}

/// Loads and compiles a scenario; prints diagnostics on failure.
fn compile(path: &str, now: jiff::Timestamp) -> Result<(Loaded, Plan), i32> {
    let mut loaded = match load_scenario(path) {
        Ok(l) => l,
        Err(d) => {
            print_diagnostics(&d, None);
            return Err(EXIT_INVALID);
        }
    };
    let sources = match load_report_sources(&loaded) {
        Ok(s) => s,
        Err(d) => {
            print_diagnostics(&d, Some(&loaded));
            return Err(EXIT_INVALID);
        }
    };
    let scenario = std::mem::replace(&mut loaded.scenario, placeholder());
    match validate_scenario(scenario, Templates::new(now), &sources) {
        Ok(plan) => {
            loaded.scenario = plan.scenario.clone();
            Ok((loaded, plan))
        }
        Err(problems) => {
            let diags = problems_to_diagnostics(&problems, &loaded);
            print_diagnostics(&diags, Some(&loaded));
            eprintln!(
                "error: {} problem(s) in {path}; nothing was run",
                diags.len()
            );
            Err(EXIT_INVALID)
        }
    }
}

fn placeholder() -> crate::scenario::Scenario {
    crate::scenario::Scenario {
        version: 1,
        name: String::new(),
        description: None,
        env: Default::default(),
        secrets: Vec::new(),
        vars: Default::default(),
        defaults: Default::default(),
        report: Default::default(),
        steps: Vec::new(),
    }
}

fn validate_command(paths: &[String]) -> i32 {
    let mut code = 0;
    for path in paths {
        match compile(path, jiff::Timestamp::now()) {
            Ok((_, plan)) => println!("ok: {path} ({} steps)", plan.steps.len()),
            Err(c) => code = c,
        }
    }
    code
}

/// Env, secrets and vars: everything needed before the first step.
fn prepare(
    args: &RunArgs,
    loaded: &Loaded,
    plan: &mut Plan,
    clock: Clock,
) -> Result<RunContext, i32> {
    let env = match load_env(loaded, &args.env_files) {
        Ok(e) => e,
        Err(d) => {
            print_diagnostics(&d, Some(loaded));
            return Err(EXIT_INVALID);
        }
    };
    let secret_names = &plan.scenario.secrets;
    let mut secret_values: Vec<String> = env
        .iter()
        .filter(|(k, _)| is_secret_name(k) || secret_names.contains(k))
        .map(|(_, v)| v.clone())
        .collect();
    let mut rc = RunContext::new(
        env,
        Redactor::new(secret_values.clone()),
        clock,
        plan.scenario.name.clone(),
    );
    rc.env_files = args
        .env_files
        .iter()
        .map(|f| {
            std::path::absolute(f)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| f.clone())
        })
        .collect();
    let overrides: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    for (name, compiled) in &plan.vars {
        let value = match overrides.get(name) {
            Some(v) => serde_json::Value::String(v.clone()),
            None => match compiled.render(&plan.templates, &rc.value(&[])) {
                Ok(v) => v,
                Err(e) => {
                    let d = Diagnostic::error(format!(
                        "vars.{name}: {}",
                        rc.redactor.redact(&e.message)
                    ))
                    .with_file(loaded.file.name.clone());
                    print_diagnostics(&[d], Some(loaded));
                    return Err(EXIT_INVALID);
                }
            },
        };
        if secret_names.contains(name) || is_secret_name(name) {
            if let Some(s) = value.as_str() {
                secret_values.push(s.to_string());
            }
        }
        rc.set_var(name, value);
    }
    for (name, v) in &overrides {
        if !rc.vars.contains_key(name) {
            rc.set_var(name, serde_json::Value::String(v.clone()));
        }
    }
    // A password written into the scenario is a secret whatever its source.
    // So is an environment value given to a program under a secret-looking name.
    let ctx = rc.value(&[]);
    let render = |c: &crate::template::Compiled| plan.templates.render_string(c, &ctx).ok();
    for step in &plan.steps {
        match &step.action {
            crate::plan::Action::Sql(sql) => {
                secret_values.extend(sql.password.as_ref().and_then(render))
            }
            crate::plan::Action::Process(p) => {
                for (k, c) in &p.env {
                    if is_secret_name(k) {
                        secret_values.extend(render(c));
                    }
                }
                for part in &p.args {
                    if let crate::plan::ArgPart::Flag("-e", c) = part {
                        if let Some((k, v)) = render(c).as_deref().and_then(|kv| kv.split_once('='))
                        {
                            if is_secret_name(k) {
                                secret_values.push(v.to_string());
                            }
                        }
                    }
                }
            }
            crate::plan::Action::Http(_) | crate::plan::Action::Check => {}
        }
    }
    rc.redactor = Redactor::new(secret_values);
    Ok(rc)
}

fn out_dir(args: &RunArgs, name: &str, clock: &Clock) -> Result<PathBuf, String> {
    let dir = match &args.out {
        Some(d) => PathBuf::from(d),
        None => {
            let stamp = clock.start().strftime("%Y%m%dT%H%M%SZ").to_string();
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let base = PathBuf::from("runs").join(safe).join(&stamp);
            let mut dir = base.clone();
            let mut n = 2;
            while dir.exists() {
                dir = PathBuf::from(format!("{}-{n}", base.display()));
                n += 1;
            }
            dir
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create output folder {}: {e}", dir.display()))?;
    Ok(dir)
}

async fn run_command(args: &RunArgs) -> i32 {
    let started = Instant::now();
    let clock = match args.now {
        Some(now) => Clock::new(Some(now)).with_zone(jiff::tz::TimeZone::UTC),
        None => Clock::new(None),
    };
    let (loaded, mut plan) = match compile(&args.scenario, clock.start()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut rc = match prepare(args, &loaded, &mut plan, clock.clone()) {
        Ok(rc) => rc,
        Err(code) => return code,
    };
    let dir = match out_dir(args, &plan.scenario.name, &clock) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let client = match HttpClient::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let console = Console::new(rc.redactor.clone());
    console.line(&format!(
        "qtscen {} — {} ({})",
        env!("CARGO_PKG_VERSION"),
        plan.scenario.name,
        args.scenario
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    let opts = RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
    };
    let (steps, interrupted) = run_plan(&plan, &mut rc, &opts, &client, &console, &dir, &rx).await;
    let step_artifacts: Vec<String> = steps.iter().flat_map(|s| s.artifacts.clone()).collect();
    let mut record = finish_record(
        &plan,
        &args.scenario,
        &rc,
        &opts,
        steps,
        interrupted,
        started,
        step_artifacts,
    );
    let mut names = vec![
        "results.json".to_string(),
        plan.scenario.report.errors_file.clone(),
    ];
    names.extend(plan.reports.iter().map(|(_, p)| p.clone()));
    record.artifacts.extend(names);
    let written = match write_run_files(&plan, &record, &rc.redactor, &dir) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    println!("{}", console.summary(&record));
    let s = &record.summary;
    console.line(&format!(
        "{}: {} passed, {} failed, {} skipped, {} not selected, {} warnings, {} requests in {} ms",
        match record.outcome {
            crate::record::RunOutcome::Passed => "PASSED",
            crate::record::RunOutcome::Failed => "FAILED",
            crate::record::RunOutcome::Interrupted => "INTERRUPTED",
        },
        s.passed,
        s.failed,
        s.skipped,
        s.not_selected,
        s.warnings,
        s.requests,
        record.duration_ms
    ));
    for w in &written {
        console.line(&format!("wrote {}", dir.join(w).display()));
    }
    if let Some((_, report)) = plan.reports.first() {
        console.line(&format!("report: {}", dir.join(report).display()));
    }
    record.exit_code
}

fn plan_command(args: &RunArgs) -> i32 {
    let clock = Clock::new(args.now);
    let (loaded, mut plan) = match compile(&args.scenario, clock.start()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rc = match prepare(args, &loaded, &mut plan, clock) {
        Ok(rc) => rc,
        Err(code) => return code,
    };
    let opts = RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
    };
    print!(
        "{}",
        rc.redactor
            .redact(&crate::runner::describe_plan(&plan, &rc, &opts))
    );
    0
}

fn render_command(run_dir: &str, scenario: Option<&str>) -> i32 {
    let dir = std::path::Path::new(run_dir);
    let results = dir.join("results.json");
    let record: crate::record::RunRecord = match std::fs::read_to_string(&results)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", results.display());
            return EXIT_INVALID;
        }
    };
    let scenario = scenario.unwrap_or(&record.scenario_file).to_string();
    let now = record
        .started_at
        .parse()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let (_, plan) = match compile(&scenario, now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match crate::report::render_reports(&plan, &record, &Redactor::default(), dir) {
        Ok(written) => {
            for w in written {
                println!("wrote {}", dir.join(w).display());
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

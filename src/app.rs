//! The commands: `run`, `validate`, `plan`, `schema`, and their exit codes
//! (0 passed · 1 a step failed · 2 invalid scenario or command line · 130 interrupted).
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use clap::Parser;

use crate::cli::{Cli, Command, OutputArgs, RunArgs, SchemaKind};
use crate::exec::HttpClient;
use crate::load::{Loaded, load_report_sources, load_scenario, problems_to_diagnostics};
use crate::plan::Plan;
use crate::prepare::prepare;
use crate::report::{Console, write_run_files};
use crate::runner::{Clock, RunOptions, finish_record, run_plan};
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
        Command::Completions { shell } => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(&crate::cli::completions(shell));
            0
        }
        Command::Schema { which } => {
            print!(
                "{}",
                match which {
                    SchemaKind::Scenario => crate::schema::scenario_schema(),
                    SchemaKind::Results => crate::schema::results_schema(),
                }
            );
            0
        }
        Command::Validate {
            scenarios,
            env_files,
        } => validate_command(&scenarios, &env_files),
        Command::Render { run_dir, scenario } => {
            crate::render_command::render_command(&run_dir, scenario.as_deref())
        }
        Command::Plan { scenario, mut args } => {
            args.scenario = scenario;
            plan_command(&args)
        }
        Command::Run {
            paths,
            args,
            suite,
            output,
        } => crate::suite::run_command(paths, args, suite, output),
        Command::Merge { dirs, out } => crate::suite::merge_command(&dirs, &out),
        Command::Demo {
            out,
            tags,
            loader_fail,
        } => crate::demo::demo_command(out, tags, loader_fail),
    }
}

/// Runs `qtscen run` with these arguments on a fresh runtime.
pub(crate) fn block_on_run(args: &RunArgs, output: &OutputArgs) -> i32 {
    // One thread, like the raw client: a smoke run sends one request at a time, and
    // cross-thread wake-ups per request cost more than they give.
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run_command(args, output)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            1
        }
    }
}

pub(crate) fn print_diagnostics(diags: &[Diagnostic], loaded: Option<&Loaded>) {
    let colored = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for d in diags {
        eprintln!("{}", render(d, loaded.map(|l| &l.file), colored));
    }
}

/// Loads and compiles a scenario; prints diagnostics on failure.
/// `env_files`: the `--env-file` files; the names they set count as declared.
pub(crate) fn compile(
    path: &str,
    now: jiff::Timestamp,
    env_files: &[String],
) -> Result<(Loaded, Plan), i32> {
    let (loaded, plan) = compile_with(path, now, load_scenario, validate_scenario, env_files)?;
    // Files the steps will read (a literal `tls.ca_file`) must be there and usable.
    let problems = crate::validate::ca_file_problems(&plan.scenario, &loaded.dir);
    if problems.is_empty() {
        Ok((loaded, plan))
    } else {
        report_problems(path, &problems, &loaded);
        Err(EXIT_INVALID)
    }
}

pub(crate) type Validator = fn(
    crate::scenario::Scenario,
    Templates,
    &std::collections::HashMap<String, String>,
)
    -> Result<crate::validate::Validated, Vec<crate::validate::Problem>>;

pub(crate) fn compile_with(
    path: &str,
    now: jiff::Timestamp,
    load: fn(&str) -> Result<Loaded, Vec<Diagnostic>>,
    validate: Validator,
    env_files: &[String],
) -> Result<(Loaded, Plan), i32> {
    let mut loaded = match load(path) {
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
    let mut env_names = crate::load::env_file_names(&loaded);
    for f in env_files {
        env_names.extend(crate::load::dotenv_names(std::path::Path::new(f)));
    }
    let scenario = std::mem::replace(&mut loaded.scenario, placeholder());
    let mut templates = Templates::new(now);
    templates.set_fuel(scenario.limits.template_fuel);
    let checked = validate(scenario, templates, &sources).and_then(|(plan, notices)| {
        // A report-only plan (`render`) has no steps and reads no env.
        if plan.steps.is_empty() {
            return Ok((plan, notices));
        }
        let problems = crate::validate::check_declared(&plan, &env_names);
        if problems.is_empty() {
            Ok((plan, notices))
        } else {
            Err(problems)
        }
    });
    match checked {
        // The scenario lives on in the plan; `loaded` keeps the text and positions.
        Ok((mut plan, notices)) => {
            plan.templates.set_locator(crate::load::locator(&loaded));
            let mut notes = problems_to_diagnostics(&notices, &loaded);
            for n in &mut notes {
                n.severity = crate::source::Severity::Warning;
            }
            print_diagnostics(&notes, Some(&loaded));
            Ok((loaded, plan))
        }
        Err(problems) => {
            report_problems(path, &problems, &loaded);
            Err(EXIT_INVALID)
        }
    }
}

fn report_problems(path: &str, problems: &[crate::validate::Problem], loaded: &Loaded) {
    let diags = problems_to_diagnostics(problems, loaded);
    print_diagnostics(&diags, Some(loaded));
    eprintln!(
        "error: {} problem(s) in {path}; nothing was run",
        diags.len()
    );
}

fn placeholder() -> crate::scenario::Scenario {
    crate::scenario::Scenario {
        version: 1,
        name: String::new(),
        include: Vec::new(),
        description: None,
        env: Default::default(),
        secrets: Vec::new(),
        vars: Default::default(),
        defaults: Default::default(),
        report: Default::default(),
        steps: Vec::new(),
        allow_empty: false,
        limits: Default::default(),
    }
}

fn validate_command(paths: &[String], env_files: &[String]) -> i32 {
    let mut code = 0;
    for path in paths {
        match compile(path, jiff::Timestamp::now(), env_files) {
            Ok(compiled) => {
                println!("ok: {path} ({} steps)", compiled.1.steps.len());
                // The process ends next: freeing a compiled scenario piece by piece is
                // wasted time (a tenth of `validate` on 1,000 steps).
                std::mem::forget(compiled);
            }
            Err(c) => code = c,
        }
    }
    code
}

/// Ctrl-C, SIGTERM and SIGHUP (a closed SSH session, a stopped cron job) end the run the
/// same way: the running step is stopped (its process group killed, its container
/// removed) and the partial report is written. A second signal exits at once.
pub(crate) async fn watch_signals(tx: tokio::sync::watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
        return;
    };
    for round in 0..2 {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        if round == 0 {
            let _ = tx.send(true);
        } else {
            eprintln!("interrupted again: exiting without waiting for clean-up");
            std::process::exit(130);
        }
    }
}

/// Every `--tags`/`--skip-tags` name must be a tag of some step: a typo would otherwise
/// run nothing and pass.
fn check_tags(plan: &Plan, args: &RunArgs) -> Result<(), String> {
    let known: std::collections::BTreeSet<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.tags.iter().map(String::as_str))
        .collect();
    for tag in args.tags.iter().chain(&args.skip_tags) {
        if !known.contains(tag.as_str()) {
            let list = known.iter().copied().collect::<Vec<_>>().join(", ");
            return Err(format!(
                "no step has the tag `{tag}`; the scenario's tags are: {list}"
            ));
        }
    }
    Ok(())
}

/// The step selection of `run` and `plan`: the tags (checked) and `--step` with the
/// steps its `needs` require.
fn run_options(plan: &Plan, args: &RunArgs) -> Result<RunOptions, String> {
    check_tags(plan, args)?;
    Ok(RunOptions {
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        allow_empty: args.allow_empty,
        steps: args.steps.clone(),
        needed: crate::runner::needed_steps(plan, &args.steps)?,
    })
}

async fn run_command(args: &RunArgs, output: &OutputArgs) -> i32 {
    let started = Instant::now();
    let clock = match args.now {
        Some(now) => Clock::new(Some(now)).with_zone(jiff::tz::TimeZone::UTC),
        None => Clock::new(None),
    };
    let (loaded, mut plan) = match compile(&args.scenario, clock.start(), &args.env_files) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let compiled_at = started.elapsed();
    let opts = match run_options(&plan, args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let mut rc = match prepare(args, &loaded, &mut plan, clock.clone()) {
        Ok(rc) => rc,
        Err(code) => return code,
    };
    let stamp = clock.start().strftime("%Y%m%dT%H%M%SZ").to_string();
    let folder = match crate::run_folder::open_run_folder(
        args.out.as_deref(),
        &plan.scenario.name,
        &stamp,
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let dir = folder.path.clone();
    let client = match HttpClient::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let console = std::sync::Arc::new(Console::new(rc.redactor.clone(), output.console()));
    console.info(&format!(
        "qtscen {} — {} ({})",
        env!("CARGO_PKG_VERSION"),
        plan.scenario.name,
        args.scenario
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(watch_signals(tx));
    let steps_from = started.elapsed();
    let ticker = {
        let console = console.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(crate::report::FLUSH_EVERY).await;
                console.flush();
            }
        })
    };
    let (steps, interrupted) = run_plan(&plan, &mut rc, &opts, &client, &*console, &dir, &rx).await;
    ticker.abort();
    let steps_to = started.elapsed();
    let (record, written) = match record_and_write(
        &plan,
        &args.scenario,
        &rc,
        &opts,
        (steps, interrupted),
        started,
        &dir,
    ) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if let Some(path) = &output.junit {
        if let Err(e) = crate::report::write_junit(&record, &rc.redactor, Path::new(path)) {
            eprintln!("error: {e}");
            return 1;
        }
    }
    let files_to = started.elapsed();
    print_run_end(
        &console,
        &record,
        &written,
        &dir,
        &plan,
        output.junit.as_deref(),
    );
    if std::env::var_os("QTSCEN_TIMINGS").is_some() {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: load+validate {:.1} ms, setup {:.1} ms, steps {:.1} ms, evidence files {:.1} ms, console summary {:.1} ms",
            ms(compiled_at),
            ms(steps_from - compiled_at),
            ms(steps_to - steps_from),
            ms(files_to - steps_to),
            ms(started.elapsed() - files_to)
        );
    }
    let code = record.exit_code;
    // The process ends now: freeing every step's record, view and plan one by one would
    // only delay the exit (it was ~8% of a 2,000-step run).
    std::mem::forget((record, plan, loaded, rc, client));
    // The folder's lock is held to the very end.
    drop(folder);
    code
}

/// The finished record of a run, and its files written into `dir` (results.json, the
/// errors file, the reports); the names of the files written.
pub(crate) fn record_and_write(
    plan: &Plan,
    file: &str,
    rc: &crate::runner::RunContext,
    opts: &RunOptions,
    (steps, interrupted): (Vec<crate::record::StepRecord>, bool),
    started: Instant,
    dir: &Path,
) -> Result<(std::sync::Arc<crate::record::RunRecord>, Vec<String>), String> {
    let step_artifacts: Vec<String> = steps.iter().flat_map(|s| s.artifacts.clone()).collect();
    let mut record = finish_record(
        plan,
        file,
        rc,
        opts,
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
    let record = std::sync::Arc::new(record);
    let written = write_run_files(plan, &record, &rc.redactor, dir)?;
    Ok((record, written))
}

/// The end of a run on the console: the summary table, the PASSED/FAILED line, the files
/// written and the report's path.
pub(crate) fn print_run_end(
    console: &Console,
    record: &crate::record::RunRecord,
    written: &[String],
    dir: &Path,
    plan: &Plan,
    junit: Option<&str>,
) {
    console.print_summary(record);
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
    if let Some(why) = &record.nothing_ran {
        console.line(&format!("nothing ran: {why}"));
    }
    for w in written {
        console.info(&format!("wrote {}", dir.join(w).display()));
    }
    if let Some(path) = junit {
        console.info(&format!("wrote {path}"));
    }
    if let Some((_, report)) = plan.reports.first() {
        console.line(&format!("report: {}", dir.join(report).display()));
    }
    console.flush();
}

fn plan_command(args: &RunArgs) -> i32 {
    let clock = Clock::new(args.now);
    let (loaded, mut plan) = match compile(&args.scenario, clock.start(), &args.env_files) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let opts = match run_options(&plan, args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let rc = match prepare(args, &loaded, &mut plan, clock) {
        Ok(rc) => rc,
        Err(code) => return code,
    };
    print!(
        "{}",
        rc.redactor
            .redact(&crate::runner::describe_plan(&plan, &rc, &opts))
    );
    0
}

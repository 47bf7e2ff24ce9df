//! Pipeline: one scenario run on its own (`qtscen run FILE`, the demo): compiled,
//! prepared, its steps run into its folder, its evidence written.
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::compile::compile;
use super::finish::{print_run_end, record_and_write};
use super::folder::open_run_folder;
use super::prepare::prepare;
use super::select::run_options;
use super::signals::watch_signals;
use crate::cli::{OutputArgs, RunArgs};
use crate::error::Error;
use crate::exec::HttpClient;
use crate::report::Console;
use crate::runner::{Clock, run_plan};

/// Runs the scenario `args.scenario` on a fresh runtime; the run's exit status.
pub(crate) fn run_single(args: &RunArgs, output: &OutputArgs) -> Result<i32, Error> {
    // One thread, like the raw client: a smoke run sends one request at a time, and
    // cross-thread wake-ups per request cost more than they give.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?
        .block_on(run(args, output))
}

async fn run(args: &RunArgs, output: &OutputArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let clock = match args.now {
        Some(now) => Clock::new(Some(now)).with_zone(jiff::tz::TimeZone::UTC),
        None => Clock::new(None),
    };
    let (loaded, mut plan) = compile(&args.scenario, clock.start(), &args.env_files)?;
    let compiled_at = started.elapsed();
    let opts = run_options(&plan, args)?;
    let mut rc = prepare(args, &loaded, &mut plan, clock.clone())?;
    let stamp = clock.start().strftime("%Y%m%dT%H%M%SZ").to_string();
    let folder = open_run_folder(args.out.as_deref(), &plan.scenario.name, &stamp)
        .map_err(Error::Invalid)?;
    let dir = folder.path.clone();
    let client = HttpClient::new().map_err(Error::Failed)?;
    let console = Arc::new(Console::new(rc.redactor.clone(), output.console()));
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
    let (record, written) = record_and_write(
        &plan,
        &args.scenario,
        &rc,
        &opts,
        (steps, interrupted),
        started,
        &dir,
    )?;
    if let Some(path) = &output.junit {
        crate::report::write_junit(&record, &rc.redactor, Path::new(path))
            .map_err(Error::Failed)?;
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
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
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
    Ok(code)
}

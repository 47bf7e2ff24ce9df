//! Suites: `qtscen run PATH...` over many scenarios — every file checked first, then run
//! `-j N` at a time (steps inside a scenario in order), each into its own folder of the
//! suite folder, and summed up in suite.md, suite.json and junit.xml; `--shard K/N` runs
//! a stable share, and `qtscen merge` puts the shares back together.
mod check;
mod console;
mod merge;
mod paths;
mod pool;
mod scenario;
mod summary;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use merge::merge;
pub use paths::{Entry, expand, is_suite, shard};
pub use summary::{
    ScenarioLine, Shard, SuiteOutcome, SuiteRecord, SuiteSummary, Verdict, markdown,
};

use crate::cli::{OutputArgs, RunArgs, SuiteArgs};
use crate::error::Error;
use crate::runner::Clock;
use crate::secrets::Redactor;
use console::{Progress, SuiteConsole};
use pool::Msg;
use scenario::{Job, Shared, line_without_run};

/// The most scenarios run at once when `-j` is not given.
pub const DEFAULT_JOBS_CAP: usize = 8;

/// `qtscen run PATH...` as a suite (see [`is_suite`]): every file checked, then run;
/// the suite's exit status.
pub fn run(
    paths: &[String],
    args: RunArgs,
    suite: SuiteArgs,
    output: OutputArgs,
) -> Result<i32, Error> {
    if !args.steps.is_empty() {
        return Err(Error::Invalid(
            "--step names a step of one scenario; it cannot be used with a suite (run that scenario's file alone)".into(),
        ));
    }
    let all = expand(paths).map_err(Error::Invalid)?;
    let mine = match suite.shard {
        Some((k, n)) => shard(all.clone(), k, n),
        None => all.clone(),
    };
    let checked = check::check_suite(&all, &mine, &args)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?
        .block_on(run_suite(
            checked,
            mine.len(),
            all.len(),
            args,
            suite,
            output,
        ))
}

/// `-j` when not given: the number of CPUs, at most [`DEFAULT_JOBS_CAP`].
fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(DEFAULT_JOBS_CAP)
}

async fn run_suite(
    checked: check::Checked,
    count: usize,
    of: usize,
    args: RunArgs,
    suite: SuiteArgs,
    output: OutputArgs,
) -> Result<i32, Error> {
    let began = Instant::now();
    let clock = match args.now {
        Some(now) => Clock::new(Some(now)).with_zone(jiff::tz::TimeZone::UTC),
        None => Clock::new(None),
    };
    let stamp = clock.start().strftime("%Y%m%dT%H%M%SZ").to_string();
    let folder = crate::pipeline::open_run_folder(args.out.as_deref(), "suite", &stamp)
        .map_err(Error::Invalid)?;
    let jobs = suite.jobs.map(usize::from).unwrap_or_else(default_jobs);
    let union = Redactor::default();
    let console = SuiteConsole::new(union.clone(), output.console(), jobs > 1);
    let share = suite
        .shard
        .map(|(k, n)| format!(", shard {k}/{n} of {of}"))
        .unwrap_or_default();
    console.info(&format!(
        "qtscen {} — suite of {count} scenario(s){share}, -j {jobs}: {}",
        env!("CARGO_PKG_VERSION"),
        folder.path.display()
    ));
    let mut lines: Vec<Option<ScenarioLine>> = vec![None; count];
    for (job, why) in checked.skipped {
        let line = line_without_run(&job, Verdict::Skipped, why);
        console.finished(&line);
        lines[job.index] = Some(line);
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(crate::pipeline::watch_signals(tx));
    let shared = Arc::new(Shared {
        args: args.clone(),
        output: output.clone(),
        dir: folder.path.clone(),
        verbose_console: jobs == 1,
        interrupted: rx.clone(),
    });
    let workers = jobs.min(checked.jobs.len());
    let queue: pool::Queue = Arc::new(Mutex::new(
        checked.jobs.into_iter().collect::<VecDeque<Job>>(),
    ));
    let progress = Arc::new(Progress::default());
    let (mtx, mut mrx) = tokio::sync::mpsc::unbounded_channel();
    let handles = pool::start(&queue, workers, &shared, &progress, suite.fail_fast, &mtx);
    drop(mtx);
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            msg = mrx.recv() => match msg {
                Some(Msg::Started(r)) => union.absorb(&r),
                Some(Msg::Finished(f)) => {
                    union.absorb(&f.redactor);
                    if jobs > 1 {
                        console.finished(&f.line);
                    }
                    lines[f.index] = Some(f.line);
                }
                None => break,
            },
            _ = ticker.tick() => console.tick(&progress),
        }
    }
    for h in handles {
        let _ = h.join();
    }
    let interrupted = *rx.borrow();
    let left: Vec<Job> = queue
        .lock()
        .map(|mut q| q.drain(..).collect())
        .unwrap_or_default();
    for job in left {
        let why = if interrupted {
            "not started: the suite was interrupted"
        } else {
            "not started: --fail-fast stopped the suite after a scenario failed"
        };
        let line = line_without_run(&job, Verdict::NotRun, why.into());
        lines[job.index] = Some(line);
    }
    let lines: Vec<ScenarioLine> = lines.into_iter().flatten().collect();
    let (outcome, exit_code) = summary::outcome_of(&lines, interrupted);
    let record = SuiteRecord {
        suite_version: 1,
        qtscen_version: env!("CARGO_PKG_VERSION").into(),
        started_at: clock.format(clock.start()),
        finished_at: clock.now_text(),
        duration_ms: began.elapsed().as_millis() as u64,
        outcome,
        exit_code,
        jobs: Some(jobs as u16),
        fail_fast: suite.fail_fast,
        shard: suite.shard.map(|(index, total)| Shard { index, total }),
        merged_from: Vec::new(),
        missing_shards: Vec::new(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        summary: SuiteSummary::of(&lines),
        scenarios: lines,
    };
    let dir = folder.path.clone();
    match summary::write_suite(&dir, &record, &union, output.junit.as_deref()) {
        Ok(written) => {
            console.summary(&record);
            console.written(&dir, &written, output.junit.as_deref());
        }
        // An interrupted suite stays interrupted (130); else its files are missing (1).
        Err(e) if record.exit_code == crate::error::EXIT_INTERRUPTED => {
            return Err(Error::Interrupted(Box::new(Error::Failed(e))));
        }
        Err(e) => return Err(Error::Failed(e)),
    }
    drop(folder);
    Ok(record.exit_code)
}

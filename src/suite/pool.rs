//! Suite: the workers — `-j N` threads, each with a runtime of its own (a scenario's
//! steps in order on it, as in a single run), taking the next scenario from one queue
//! until it is empty, the suite is interrupted, or `--fail-fast` saw a failure.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedSender;

use super::console::{Progress, ProgressSink};
use super::scenario::{Finished, Job, Shared, run_scenario};
use super::summary::Verdict;
use crate::error::Error;
use crate::secrets::Redactor;

/// What a worker tells the suite.
pub enum Msg {
    /// A scenario's secrets are known (it is about to run its steps).
    Started(Redactor),
    /// A scenario ended.
    Finished(Box<Finished>),
}

/// The scenarios not started yet, shared by the workers.
pub type Queue = Arc<Mutex<VecDeque<Job>>>;

/// Starts `workers` threads over `queue`; each sends its news on `tx`, and the channel
/// closes when the last one is done.
pub fn start(
    queue: &Queue,
    workers: usize,
    shared: &Arc<Shared>,
    progress: &Arc<Progress>,
    fail_fast: bool,
    tx: &UnboundedSender<Msg>,
) -> Vec<JoinHandle<()>> {
    let stop = Arc::new(AtomicBool::new(false));
    (0..workers)
        .filter_map(|n| {
            let (queue, shared, progress, stop, tx) = (
                queue.clone(),
                shared.clone(),
                progress.clone(),
                stop.clone(),
                tx.clone(),
            );
            std::thread::Builder::new()
                .name(format!("qtscen-suite-{n}"))
                .spawn(move || worker(&queue, &shared, &progress, &stop, fail_fast, &tx))
                .map_err(|e| Error::Failed(format!("cannot start a worker thread: {e}")).print())
                .ok()
        })
        .collect()
}

fn worker(
    queue: &Queue,
    shared: &Shared,
    progress: &Arc<Progress>,
    stop: &AtomicBool,
    fail_fast: bool,
    tx: &UnboundedSender<Msg>,
) {
    // One thread per runtime, as a single run has: a scenario sends one request at a time.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            Error::Failed(format!("cannot start the async runtime: {e}")).print();
            return;
        }
    };
    loop {
        if *shared.interrupted.borrow() || stop.load(Ordering::SeqCst) {
            return;
        }
        let Some(job) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
            return;
        };
        progress.start(job.index, &job.name);
        let sink = ProgressSink {
            index: job.index,
            progress: progress.clone(),
        };
        let started = |r: &Redactor| {
            let _ = tx.send(Msg::Started(r.clone()));
        };
        let finished = rt.block_on(run_scenario(&job, shared, &sink, &started));
        progress.end(job.index);
        if fail_fast && finished.line.verdict == Verdict::Failed {
            stop.store(true, Ordering::SeqCst);
        }
        let _ = tx.send(Msg::Finished(Box::new(finished)));
    }
}

//! Pipeline: the signals that interrupt a run.
use crate::error::Error;

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
            // The one exit outside `commands::run`: the command is still busy with the
            // step the first signal stops, and this one must not wait for it.
            let again = Error::InterruptedAgain;
            again.print();
            std::process::exit(again.code());
        }
    }
}

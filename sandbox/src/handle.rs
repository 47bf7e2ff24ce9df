//! Running a sandbox on its own thread and runtime, and the handle that controls it.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::config::SandboxConfig;
use super::faults::{API_PREFIX, FaultRule};
use super::record::RecordedRequest;
use super::server::run;
use super::state::State;

/// A running sandbox. It listens on 127.0.0.1 on a port of its own and stops when
/// the handle is dropped (or [`SandboxHandle::shutdown`] is called).
pub struct SandboxHandle {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a sandbox on 127.0.0.1 with a free port, on a thread with its own tokio
/// runtime, so both plain `#[test]`s and async tests can use it. The port is bound
/// before this returns, so requests can be sent immediately.
pub fn spawn(config: SandboxConfig) -> io::Result<SandboxHandle> {
    let std_listener = StdListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("qtickets-sandbox-worker")
        .enable_all()
        .build()?;
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(std_listener)?
    };
    let state = Arc::new(State::new(config, addr));
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server_state = Arc::clone(&state);
    let thread = std::thread::Builder::new()
        .name(format!("qtickets-sandbox-{}", addr.port()))
        .spawn(move || {
            let stopped = async {
                // A dropped sender also means "stop".
                let _ = stop_rx.await;
            };
            // `run` only returns when told to stop.
            let _ = runtime.block_on(run(listener, server_state, stopped));
            runtime.shutdown_timeout(Duration::from_millis(500));
        })?;
    Ok(SandboxHandle {
        addr,
        state,
        shutdown: Some(stop_tx),
        thread: Some(thread),
    })
}

impl SandboxHandle {
    /// The socket address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/api/rest/v1`, the value for `QTICKETS_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("{}{API_PREFIX}", self.origin())
    }

    /// `http://127.0.0.1:PORT/ads/v2`, the ads API's base URL (ads mode).
    pub fn ads_url(&self) -> String {
        format!("{}{}", self.origin(), super::ads::ADS_PREFIX)
    }

    /// `http://127.0.0.1:PORT`, where the `/__sandbox` control routes live.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The sandbox clock the data was generated against (whole seconds).
    pub fn now(&self) -> Timestamp {
        self.state.now
    }

    /// The bearer token the sandbox accepts.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// Appends a fault rule (checked after the existing ones).
    pub fn add_fault(&self, rule: FaultRule) {
        self.state.faults.add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The fault rules still live, with their remaining `times`.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.state.faults.snapshot()
    }

    /// Every request received so far, oldest first (`/__sandbox` requests excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorded()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.clear_recorded();
    }

    /// Stops the server and waits for its thread (the same as dropping the handle).
    pub fn shutdown(self) {}

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The server may already be gone; either way it is stopping.
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panicked server thread has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addr", &self.addr)
            .field("now", &self.state.now)
            .finish_non_exhaustive()
    }
}

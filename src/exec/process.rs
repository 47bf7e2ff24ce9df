//! Execute stage: a program run in its own process group, stdout and stderr read line by
//! line as they come (each line timestamped and handed to a sink, e.g. the log file; only
//! the last lines are held), killed with its whole group on timeout or when the run is
//! interrupted, with an optional clean-up command (e.g. `docker rm -f NAME`).
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::output_tail::{Tail, Tails};

/// A line longer than this is handed to the sink in pieces of this size.
const MAX_LINE: usize = 64 << 10;

/// A program with everything rendered.
#[derive(Clone, Debug, Default)]
pub struct ResolvedCommand {
    /// Program.
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Working directory.
    pub dir: Option<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Kill after this long.
    pub timeout: Duration,
    /// Run (best effort) after a timeout or an interruption.
    pub cleanup: Option<Vec<String>>,
}

impl ResolvedCommand {
    /// The command as a shell line a person could paste (arguments quoted as needed).
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Quotes an argument for a POSIX shell when it needs it.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What a process did.
#[derive(Clone, Debug, Default)]
pub struct ProcessOutput {
    /// Exit code (None when killed by a signal or never started).
    pub exit_code: Option<i32>,
    /// Killed because the timeout passed.
    pub timed_out: bool,
    /// Could not be started.
    pub spawn_error: Option<String>,
    /// Standard output: its last lines, up to the tail size.
    pub stdout: String,
    /// Standard error: its last lines, up to the tail size.
    pub stderr: String,
    /// Both, in arrival order: their last lines, up to the tail size.
    pub combined: String,
    /// Bytes of output (both streams, a newline ending each line).
    pub total_bytes: u64,
    /// Bytes of output before `combined` that were not held.
    pub dropped_bytes: u64,
    /// Wall time.
    pub duration: Duration,
}

/// Kills the process group (and runs the clean-up) unless disarmed.
struct Guard {
    pgid: Option<i32>,
    cleanup: Option<Vec<String>>,
    armed: bool,
}

/// Kills whatever is left of the process group `pgid` (the one created for the child).
fn kill_group(pgid: Option<i32>) {
    if let Some(pgid) = pgid.filter(|p| *p > 0) {
        // SAFETY: killpg only sends a signal to the group we created for this child.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

impl Guard {
    /// Kills the group and runs the clean-up command (bounded: a hung Docker daemon must
    /// not hang the run).
    fn fire(&mut self) {
        if !self.armed {
            return;
        }
        self.armed = false;
        kill_group(self.pgid);
        let Some((program, args)) = self.cleanup.as_ref().and_then(|argv| argv.split_first())
        else {
            return;
        };
        let Ok(mut child) = std::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.fire();
    }
}

type Sink<'a> = &'a (dyn Fn(Stream, &str) + Send + Sync);

async fn pump<R: AsyncRead + Unpin>(
    reader: R,
    stream: Stream,
    out: Arc<Mutex<Tails>>,
    sink: Sink<'_>,
) {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut line: Vec<u8> = Vec::new();
    let emit = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        sink(stream, text);
        if let Ok(mut t) = out.lock() {
            match stream {
                Stream::Stdout => t.stdout.push(text),
                Stream::Stderr => t.stderr.push(text),
            }
            t.combined.push(text);
            t.total += text.len() as u64 + 1;
        }
    };
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buf) => buf,
        };
        let used = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&buf[..i]);
                emit(&line);
                line.clear();
                i + 1
            }
            None => {
                line.extend_from_slice(buf);
                buf.len()
            }
        };
        reader.consume(used);
        // A line without end is handed on in pieces (cut between characters).
        while line.len() >= MAX_LINE {
            let cut = match std::str::from_utf8(&line[..MAX_LINE]) {
                Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
                _ => MAX_LINE,
            };
            emit(&line[..cut]);
            line.drain(..cut);
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
}

/// Runs the command to its end (or its timeout); every line goes to `sink` as it comes,
/// and the last `tail` bytes of lines are kept.
pub async fn run_process(cmd: &ResolvedCommand, sink: Sink<'_>, tail: usize) -> ProcessOutput {
    let started = Instant::now();
    let mut command = tokio::process::Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if let Some(dir) = &cmd.dir {
        command.current_dir(dir);
    }
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let where_ = cmd
                .dir
                .as_ref()
                .map(|d| format!(" in `{d}`"))
                .unwrap_or_default();
            return ProcessOutput {
                spawn_error: Some(format!("cannot start `{}`{where_}: {e}", cmd.program)),
                duration: started.elapsed(),
                ..ProcessOutput::default()
            };
        }
    };
    let mut guard = Guard {
        pgid: child.id().and_then(|p| i32::try_from(p).ok()),
        cleanup: cmd.cleanup.clone(),
        armed: true,
    };
    let out = Arc::new(Mutex::new(Tails {
        stdout: Tail::new(tail),
        stderr: Tail::new(tail),
        combined: Tail::new(tail),
        total: 0,
    }));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let readers = async {
        let a = async {
            if let Some(s) = stdout {
                pump(s, Stream::Stdout, out.clone(), sink).await;
            }
        };
        let b = async {
            if let Some(s) = stderr {
                pump(s, Stream::Stderr, out.clone(), sink).await;
            }
        };
        tokio::join!(a, b);
    };
    let pgid = guard.pgid;
    let leader = async {
        let status = child.wait().await;
        // Background children left in the group would hold the pipes open: the step ends
        // with its leader, and nothing it started outlives it.
        kill_group(pgid);
        status
    };
    let finished = async { tokio::join!(readers, leader).1 };
    let (exit_code, timed_out) = match tokio::time::timeout(cmd.timeout, finished).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(_)) => (None, false),
        Err(_) => {
            guard.fire();
            (None, true)
        }
    };
    guard.armed = false;
    let tails = match Arc::try_unwrap(out) {
        Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
        Err(shared) => {
            let t = shared.lock().unwrap_or_else(|e| e.into_inner());
            Tails {
                stdout: t.stdout.clone(),
                stderr: t.stderr.clone(),
                combined: t.combined.clone(),
                total: t.total,
            }
        }
    };
    let (combined, dropped_bytes) = tails.combined.into_parts();
    ProcessOutput {
        exit_code,
        timed_out,
        spawn_error: None,
        stdout: tails.stdout.into_parts().0,
        stderr: tails.stderr.into_parts().0,
        combined,
        total_bytes: tails.total,
        dropped_bytes,
        duration: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(program: &str, args: &[&str], timeout_ms: u64) -> ResolvedCommand {
        ResolvedCommand {
            program: program.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(timeout_ms),
            ..ResolvedCommand::default()
        }
    }

    #[tokio::test]
    async fn captures_stdout_stderr_and_exit_code() {
        let out = run_process(
            &cmd("sh", &["-c", "echo out; echo err >&2; exit 3"], 5000),
            &|_, _| {},
            1 << 20,
        )
        .await;
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert!(out.combined.contains("out\n") && out.combined.contains("err\n"));
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let started = Instant::now();
        let out = run_process(
            &cmd("sh", &["-c", "sleep 30 & sleep 30; echo never"], 300),
            &|_, _| {},
            1 << 20,
        )
        .await;
        assert!(out.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!out.stdout.contains("never"));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported() {
        let out = run_process(&cmd("/nonexistent/tool", &[], 1000), &|_, _| {}, 1 << 20).await;
        assert!(
            out.spawn_error
                .unwrap()
                .contains("cannot start `/nonexistent/tool`")
        );
    }

    #[tokio::test]
    async fn only_the_tail_is_held_and_long_lines_come_in_pieces() {
        let lines = std::sync::Mutex::new(0usize);
        let count = |_: Stream, _: &str| *lines.lock().unwrap() += 1;
        let script = "seq 1 100000; head -c 200000 /dev/zero | tr '\\0' x";
        let out = run_process(&cmd("sh", &["-c", script], 20_000), &count, 1000).await;
        assert_eq!(out.exit_code, Some(0));
        assert!(out.combined.len() <= 1000, "{}", out.combined.len());
        assert!(out.combined.ends_with("xxx\n") && out.stdout.len() <= 1000);
        assert_eq!(out.total_bytes, 588_895 + 200_000 + 4);
        assert_eq!(
            out.dropped_bytes + out.combined.len() as u64,
            out.total_bytes
        );
        // 100,000 lines, then 200,000 bytes without a newline in four pieces.
        assert_eq!(*lines.lock().unwrap(), 100_000 + 4);
    }

    #[test]
    fn quoting_for_a_shell() {
        assert_eq!(shell_quote("qtickets_api:latest"), "qtickets_api:latest");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}

//! Evidence: the files of the run folder written as they stream (a body too large to
//! hold, a reconcile's differences, a program's log) — every piece masked on its way to
//! the disk — and a file masked again in place when a secret becomes known later.
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{create_in_run_folder, write_atomic};
use crate::secrets::{MaskStream, Redactor};

/// Writes `text` to `path` atomically, the run's secrets masked: a report, an artifact,
/// a suite's files.
pub fn write_masked(path: &Path, text: String, redactor: &Redactor) -> std::io::Result<()> {
    write_atomic(path, redactor.redact_owned(text).as_bytes())
}

/// A file of the run folder written piece by piece: every piece masked (a secret split
/// between two pieces too), then buffered.
pub struct MaskedFile {
    name: String,
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    mask: MaskStream,
}

impl MaskedFile {
    /// Opens `name` in the run folder `dir` (never through a symlink).
    pub fn create(dir: &Path, name: &str, redactor: &Redactor) -> std::io::Result<MaskedFile> {
        let path = dir.join(name);
        let file = create_in_run_folder(&path)?;
        Ok(MaskedFile {
            name: name.to_string(),
            path,
            out: BufWriter::with_capacity(1 << 16, file),
            mask: redactor.stream(),
        })
    }

    /// Writes a piece, masked.
    pub fn write(&mut self, text: &str) -> std::io::Result<()> {
        let safe = self.mask.push(text);
        self.out.write_all(safe.as_bytes())
    }

    /// Writes what the mask held back and flushes; the file's name and path.
    pub fn finish(mut self) -> std::io::Result<(String, PathBuf)> {
        let rest = self.mask.finish();
        self.out.write_all(rest.as_bytes())?;
        self.out.flush()?;
        Ok((self.name, self.path))
    }
}

/// A program's log: one line a write (a line is never split between writes), each
/// `<time> <tag> <text>` with the text masked.
pub struct MaskedLog {
    file: Mutex<std::fs::File>,
    redactor: Redactor,
}

impl MaskedLog {
    /// Opens the log `path` in the run folder (never through a symlink).
    pub fn create(path: &Path, redactor: &Redactor) -> std::io::Result<MaskedLog> {
        Ok(MaskedLog {
            file: Mutex::new(create_in_run_folder(path)?),
            redactor: redactor.clone(),
        })
    }

    /// Appends `<stamp> <tag> <text>` (masked) as one line, stamped once it holds the
    /// file (lines from stdout and stderr stay in time order).
    pub fn line(&self, stamp: impl FnOnce() -> String, tag: &str, text: &str) {
        if let Ok(mut f) = self.file.lock() {
            let line = format!("{} {tag} {}\n", stamp(), self.redactor.redact(text));
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Masks the secrets known now in a file of the run folder written before they were
/// (a log streamed while the step ran, a body): piece by piece into a new file that
/// replaces it, so a large file is never held whole.
pub fn mask_file_in_place(path: &Path, redactor: &Redactor) -> std::io::Result<()> {
    let mut input = std::fs::File::open(path)?;
    let tmp = path.with_file_name(format!(
        ".{}.mask-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut out = BufWriter::new(super::create_in_run_folder(&tmp)?);
        let mut mask = redactor.stream();
        let mut buf = vec![0u8; 1 << 16];
        let mut partial: Vec<u8> = Vec::new();
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            partial.extend_from_slice(&buf[..n]);
            let ok = match std::str::from_utf8(&partial) {
                Ok(_) => partial.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                // Not text: masked as it reads, invalid bytes replaced.
                Err(_) => partial.len(),
            };
            let text = String::from_utf8_lossy(&partial[..ok]).into_owned();
            partial.drain(..ok);
            let safe = mask.push(&text);
            out.write_all(safe.as_bytes())?;
        }
        let rest = String::from_utf8_lossy(&partial).into_owned();
        let tail = mask.push(&rest) + &mask.finish();
        out.write_all(tail.as_bytes())?;
        out.flush()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_file_is_masked_as_it_streams_and_again_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let r = Redactor::new(["first-secret".to_string()]);
        let mut w = MaskedFile::create(dir.path(), "s-1.body", &r).unwrap();
        for piece in [
            "a first-",
            "secret b second",
            "-secret c ",
            "x".repeat(70_000).as_str(),
        ] {
            w.write(piece).unwrap();
        }
        let (name, path) = w.finish().unwrap();
        assert_eq!(name, "s-1.body");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("a *** b second-secret c xxx"),
            "{}",
            &text[..40]
        );
        r.add(["second-secret".to_string()]);
        mask_file_in_place(&path, &r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("a *** b *** c xxx") && text.len() == 70_000 + 14);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

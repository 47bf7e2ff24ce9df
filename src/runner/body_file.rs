//! Run stage: the files of the run folder that hold what is too large to keep in memory
//! — a response body beyond `limits.body_in_memory` — written with secrets masked as
//! they stream, and masked again in place when a secret becomes known later.
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::exec::SpillWriter;
use crate::secrets::{MaskStream, Redactor};

/// A body file being written: every piece masked, then buffered.
struct BodyFile {
    name: String,
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    mask: MaskStream,
}

impl SpillWriter for BodyFile {
    fn write(&mut self, text: &str) -> std::io::Result<()> {
        let safe = self.mask.push(text);
        self.out.write_all(safe.as_bytes())
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<(String, PathBuf)> {
        let rest = self.mask.finish();
        self.out.write_all(rest.as_bytes())?;
        self.out.flush()?;
        Ok((self.name, self.path))
    }
}

/// The name of the file holding the body of a step's `n`-th request.
pub(crate) fn body_file_name(step_id: &str, n: usize) -> String {
    format!("{step_id}-{n}.body")
}

/// Opens `name` in the run folder `dir` (never through a symlink) for a body.
pub(crate) fn open_body_file(
    dir: &Path,
    name: &str,
    redactor: &Redactor,
) -> std::io::Result<Box<dyn SpillWriter>> {
    let path = dir.join(name);
    let file = crate::evidence::create_in_run_folder(&path)?;
    Ok(Box::new(BodyFile {
        name: name.to_string(),
        path,
        out: BufWriter::with_capacity(1 << 16, file),
        mask: redactor.stream(),
    }))
}

/// Masks the secrets known now in a file of the run folder written before they were
/// (a log streamed while the step ran, a body): piece by piece into a new file that
/// replaces it, so a large file is never held whole.
pub(crate) fn mask_file_in_place(path: &Path, redactor: &Redactor) -> std::io::Result<()> {
    let mut input = std::fs::File::open(path)?;
    let tmp = path.with_file_name(format!(
        ".{}.mask-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut out = BufWriter::new(crate::evidence::create_in_run_folder(&tmp)?);
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
        let mut w = open_body_file(dir.path(), "s-1.body", &r).unwrap();
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

//! Evidence: the one writer of the run folder's files — created new and never through a
//! symlink, written atomically (a temporary file and a rename), JSON serialized straight
//! into the file through the redactor.
use std::io::Write;
use std::path::Path;

use crate::secrets::Redactor;

/// Writes a file via a temporary file and a rename, so a reader never sees half of it.
/// The temporary file is created new, never through a symlink (a name planted in the
/// folder cannot redirect the write), and removed when the write fails (a full disk).
/// The rename replaces a symlink at `path` itself, not its target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes into the temporary file (a document serialized
/// as it is written, never whole in memory).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp{}-{seq}", std::process::id()));
    let written = create_new_file(&tmp).and_then(|mut f| {
        fill(&mut f)?;
        f.sync_all()
    });
    let done = written.and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Creates a file that does not exist yet, refusing a symlink at its name.
pub fn create_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Opens a file of the run folder for writing from its start (a program's log), refusing
/// to follow a symlink at its name: a link planted there cannot redirect the write.
pub fn create_in_run_folder(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other(format!(
                    "{} is a symlink; qtscen does not write through links",
                    path.display()
                ))
            } else {
                e
            }
        })
}

/// Writes `value` as pretty JSON (and a final newline) to `path`, atomically,
/// serialized straight into the file through the redactor: a record of thousands of
/// attempts is never one string in memory.
pub fn write_json_masked<T: serde::Serialize + ?Sized>(
    path: &Path,
    value: &T,
    redactor: &Redactor,
) -> std::io::Result<()> {
    write_atomic_with(path, |f| {
        let file = std::io::BufWriter::with_capacity(1 << 16, f);
        let masked = MaskWriter {
            out: file,
            mask: redactor.stream(),
            partial: Vec::new(),
        };
        // Pieces of 64 KiB reach the redactor, not each token serde_json writes.
        let mut w = std::io::BufWriter::with_capacity(1 << 16, masked);
        serde_json::to_writer_pretty(&mut w, value).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        let masked = w.into_inner().map_err(|e| e.into_error())?;
        masked.finish()
    })
}

/// Masks secrets in text written to it in pieces (a piece may end inside a UTF-8
/// character), then writes it on.
struct MaskWriter<W: Write> {
    out: W,
    mask: crate::secrets::MaskStream,
    partial: Vec<u8>,
}

impl<W: Write> Write for MaskWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(buf);
        let ok = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&self.partial[..ok]).unwrap_or_default();
        let safe = self.mask.push(text);
        self.out.write_all(safe.as_bytes())?;
        self.partial.drain(..ok);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> MaskWriter<W> {
    fn finish(mut self) -> std::io::Result<()> {
        let rest = String::from_utf8_lossy(&self.partial).into_owned();
        let tail = self.mask.push(&rest) + &self.mask.finish();
        self.out.write_all(tail.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        // A non-empty folder at the name: the rename fails after the data was written.
        let target = tmp.path().join("results.json");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "x").unwrap();
        assert!(write_atomic(&target, b"{}").is_err());
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["results.json"]);
    }

    #[test]
    fn json_is_masked_as_it_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Redactor::new(["s3cr3t-value".to_string()]);
        // Long enough to cross the 64 KiB pieces, with characters of several bytes.
        let value: Vec<String> = (0..4000)
            .map(|i| format!("Щелкунчик {i} s3cr3t-value ✓"))
            .collect();
        let path = tmp.path().join("results.json");
        write_json_masked(&path, &value, &r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let whole = serde_json::to_string_pretty(&value).unwrap() + "\n";
        assert_eq!(text, r.redact(&whole));
        assert!(!text.contains("s3cr3t") && text.contains("Щелкунчик 3999 *** ✓"));
    }

    #[test]
    fn a_symlink_at_the_name_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = tmp.path().join("report.md");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert!(create_in_run_folder(&tmp.path().join("l")).is_ok());
        std::os::unix::fs::symlink(&victim, tmp.path().join("log")).unwrap();
        let err = create_in_run_folder(&tmp.path().join("log")).unwrap_err();
        assert!(err.to_string().contains("is a symlink"), "{err}");
    }
}

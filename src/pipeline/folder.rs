//! Pipeline: the run's output folder — the default one created atomically and
//! unique (concurrent runs never share it), and locked for the run so a second run into
//! the same `--out` fails at once instead of mixing its evidence with the first's.
use std::fs::File;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// An output folder this run holds the lock of until the process ends.
pub struct RunFolder {
    /// The folder.
    pub path: PathBuf,
    /// The open folder, `flock`ed; the lock goes with the process.
    _lock: File,
}

/// Opens the run's folder: `out` (created if missing) or a new
/// `runs/<name>/<UTC stamp>[-N]/`; fails when another run holds it.
pub fn open_run_folder(out: Option<&str>, name: &str, stamp: &str) -> Result<RunFolder, String> {
    let path = match out {
        Some(d) => {
            let dir = PathBuf::from(d);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create output folder {}: {e}", dir.display()))?;
            dir
        }
        None => create_unique(&PathBuf::from("runs").join(safe_name(name)), stamp)?,
    };
    let lock = lock_folder(&path)?;
    Ok(RunFolder { path, _lock: lock })
}

/// The scenario name as a folder name.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Creates `parent/stamp`, or `parent/stamp-2`, `-3`, … when it exists: `create_dir`
/// fails on an existing folder, so two runs started in the same second get two folders.
fn create_unique(parent: &Path, stamp: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create output folder {}: {e}", parent.display()))?;
    for n in 1..=10_000u32 {
        let dir = if n == 1 {
            parent.join(stamp)
        } else {
            parent.join(format!("{stamp}-{n}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot create output folder {}: {e}",
                    dir.display()
                ));
            }
        }
    }
    Err(format!(
        "cannot create an output folder in {}: {stamp} to {stamp}-10000 all exist",
        parent.display()
    ))
}

/// Takes the folder's lock (an exclusive `flock` on the folder itself, so no lock file
/// joins the evidence), without waiting.
fn lock_folder(dir: &Path) -> Result<File, String> {
    let file =
        File::open(dir).map_err(|e| format!("cannot open output folder {}: {e}", dir.display()))?;
    // SAFETY: flock on a descriptor we own; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(file);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Err(format!(
            "another qtscen run is writing into {}; give each run its own --out (or none: each run then gets a new folder)",
            dir.display()
        ))
    } else {
        Err(format!(
            "cannot lock output folder {}: {err}",
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_fails_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let first = open_run_folder(out.to_str(), "s", "x").unwrap();
        let second = open_run_folder(out.to_str(), "s", "x").err().unwrap();
        assert!(second.contains("another qtscen run"), "{second}");
        drop(first);
        assert!(open_run_folder(out.to_str(), "s", "x").is_ok());
    }

    #[test]
    fn default_folders_get_a_suffix_when_the_stamp_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let a = create_unique(tmp.path(), "20261201T005530Z").unwrap();
        let b = create_unique(tmp.path(), "20261201T005530Z").unwrap();
        assert_ne!(a, b);
        assert!(b.ends_with("20261201T005530Z-2"));
    }
}

//! Run stage: the files of the run folder that hold what is too large to keep in memory
//! — a response body beyond `limits.body_in_memory` — named after their request and
//! written by `evidence` (masked as they stream).
use std::path::{Path, PathBuf};

use crate::evidence::MaskedFile;
use crate::exec::SpillWriter;
use crate::secrets::Redactor;

/// A body file being written through the evidence writer.
struct BodyFile(MaskedFile);

impl SpillWriter for BodyFile {
    fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.0.write(text)
    }

    fn finish(self: Box<Self>) -> std::io::Result<(String, PathBuf)> {
        self.0.finish()
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
    Ok(Box::new(BodyFile(MaskedFile::create(dir, name, redactor)?)))
}

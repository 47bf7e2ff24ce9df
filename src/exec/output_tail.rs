//! Execute stage: the last lines of a program's output — at most `limits.output_tail`
//! bytes a stream held while it runs, the bytes dropped before them counted.

/// The last lines of a stream, at most `cap` bytes of them (held in at most twice that).
#[derive(Clone, Debug, Default)]
pub(super) struct Tail {
    text: String,
    cap: usize,
    dropped: u64,
}

impl Tail {
    pub(super) fn new(cap: usize) -> Self {
        Tail {
            text: String::new(),
            cap,
            dropped: 0,
        }
    }

    pub(super) fn push(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.text.len() > self.cap.saturating_mul(2).max(1 << 12) {
            self.trim();
        }
    }

    /// Drops the front down to `cap` bytes, at a line start when there is one.
    fn trim(&mut self) {
        if self.text.len() <= self.cap {
            return;
        }
        let mut cut = self.text.len() - self.cap;
        cut = match self.text[cut..].find('\n') {
            Some(i) if cut + i + 1 < self.text.len() => cut + i + 1,
            _ => {
                while !self.text.is_char_boundary(cut) {
                    cut += 1;
                }
                cut
            }
        };
        self.text.drain(..cut);
        self.dropped += cut as u64;
    }

    pub(super) fn into_parts(mut self) -> (String, u64) {
        self.trim();
        (self.text, self.dropped)
    }
}

/// The tails being filled while the program runs.
pub(super) struct Tails {
    pub(super) stdout: Tail,
    pub(super) stderr: Tail,
    pub(super) combined: Tail,
    pub(super) total: u64,
}

//! Execute stage: a response body read as it comes — held in memory up to a cap, and
//! beyond it streamed to a file of the run folder, so that memory stays bounded whatever
//! the server sends.
use std::path::PathBuf;

/// A body, whole in memory or in a file.
#[derive(Clone, Debug)]
pub enum Body {
    /// Whole, in memory (cut at the maximum, with a note, when larger).
    Text(String),
    /// Larger than the in-memory cap: in a file of the run folder.
    File(SpilledBody),
}

/// A body written to a file.
#[derive(Clone, Debug)]
pub struct SpilledBody {
    /// The file's name in the run folder.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// The start of the body (not masked).
    pub head: String,
    /// Bytes received.
    pub bytes: u64,
}

impl Body {
    /// The text held in memory: the whole body, or the start of one in a file.
    pub fn text(&self) -> &str {
        match self {
            Body::Text(t) => t,
            Body::File(f) => &f.head,
        }
    }
}

/// What a larger body is written to: text already decoded; the writer masks secrets.
pub trait SpillWriter: Send {
    /// Writes the next piece of the body.
    fn write(&mut self, text: &str) -> std::io::Result<()>;
    /// Ends the file; returns its name in the run folder and its path.
    fn finish(self: Box<Self>) -> std::io::Result<(String, PathBuf)>;
}

/// Opens the file a body too large to hold goes to.
pub type SpillOpener<'a> = &'a (dyn Fn() -> std::io::Result<Box<dyn SpillWriter>> + Sync);

/// How a body is kept.
#[derive(Clone, Copy)]
pub struct BodyPolicy<'a> {
    /// Held in memory up to this many bytes.
    pub in_memory: usize,
    /// Cut beyond this many bytes.
    pub max: u64,
    /// Where a larger body goes; without it, the body is cut at `in_memory`.
    pub spill: Option<SpillOpener<'a>>,
}

impl BodyPolicy<'_> {
    /// Everything in memory, cut beyond `cap` (a token answer).
    pub fn in_memory(cap: usize) -> BodyPolicy<'static> {
        BodyPolicy {
            in_memory: cap,
            max: u64::MAX,
            spill: None,
        }
    }
}

/// How much of a spilled body's start is held for the record (an excerpt).
pub const HEAD_BYTES: usize = 16 << 10;

/// Collects a body chunk by chunk under a [`BodyPolicy`].
pub struct BodyReader<'a> {
    policy: BodyPolicy<'a>,
    held: Vec<u8>,
    spill: Option<Spill>,
    total: u64,
    /// Why the body was cut, once it was.
    cut: Option<String>,
}

struct Spill {
    writer: Box<dyn SpillWriter>,
    head: String,
    /// The end of the last chunk when it stopped inside a UTF-8 character.
    partial: Vec<u8>,
}

impl<'a> BodyReader<'a> {
    /// A reader keeping the body as `policy` says.
    pub fn new(policy: BodyPolicy<'a>) -> Self {
        BodyReader {
            policy,
            held: Vec::new(),
            spill: None,
            total: 0,
            cut: None,
        }
    }

    /// Takes the next chunk; false once the body is cut (read no more).
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.policy.max.saturating_sub(self.total);
        let take = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if take < chunk.len() {
            self.cut = Some(format!("limits.max_body ({})", size(self.policy.max)));
        }
        let chunk = &chunk[..take];
        self.total += chunk.len() as u64;
        if let Some(s) = &mut self.spill {
            let text = decode(&mut s.partial, chunk);
            if let Err(e) = s.writer.write(&text) {
                self.cut = Some(format!("writing its file failed: {e}"));
            }
        } else if self.held.len() + chunk.len() <= self.policy.in_memory {
            self.held.extend_from_slice(chunk);
        } else {
            self.start_spill(chunk);
        }
        self.cut.is_none()
    }

    fn start_spill(&mut self, chunk: &[u8]) {
        let opened = match self.policy.spill {
            Some(open) => open().map_err(|e| format!("its file could not be written: {e}")),
            None => Err(String::new()),
        };
        let mut writer = match opened {
            Ok(w) => w,
            Err(why) => {
                let room = self.policy.in_memory - self.held.len();
                self.held.extend_from_slice(&chunk[..room.min(chunk.len())]);
                let limit = format!(
                    "limits.body_in_memory ({})",
                    size(self.policy.in_memory as u64)
                );
                self.cut = Some(if why.is_empty() {
                    limit
                } else {
                    format!("{limit}; {why}")
                });
                return;
            }
        };
        let mut partial = Vec::new();
        let mut held = std::mem::take(&mut self.held);
        held.extend_from_slice(chunk);
        let text = decode(&mut partial, &held);
        let head = text[..floor_char(&text, HEAD_BYTES)].to_string();
        drop(held);
        if let Err(e) = writer.write(&text) {
            self.cut = Some(format!("writing its file failed: {e}"));
        }
        self.spill = Some(Spill {
            writer,
            head,
            partial,
        });
    }

    /// The body, with a note at its end when it was cut.
    pub fn finish(self) -> Body {
        let note = self.cut.as_ref().map(|why| {
            // The cut mark first: the redactor masks a secret's start left at the edge.
            format!(
                "{}\n[qtscen: the body was cut after {} bytes: {why}]",
                crate::secrets::CUT_MARK,
                self.total
            )
        });
        match self.spill {
            None => {
                let mut text = String::from_utf8(self.held)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                text.extend(note);
                Body::Text(text)
            }
            Some(mut s) => {
                let mut rest = String::from_utf8_lossy(&s.partial).into_owned();
                rest.extend(note);
                let written = s.writer.write(&rest).and_then(|()| s.writer.finish());
                match written {
                    Ok((name, path)) => Body::File(SpilledBody {
                        name,
                        path,
                        head: s.head,
                        bytes: self.total,
                    }),
                    Err(e) => Body::Text(format!(
                        "{}{}\n[qtscen: the body ({} bytes) could not be written to its file: {e}]",
                        s.head,
                        crate::secrets::CUT_MARK,
                        self.total
                    )),
                }
            }
        }
    }
}

fn size(bytes: u64) -> String {
    crate::scenario::ByteSize(bytes).display()
}

/// The largest char boundary of `text` at or before `at`.
fn floor_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Decodes `chunk` after the bytes left over from the last one; invalid bytes become
/// U+FFFD, a character cut at the end waits for the next chunk.
fn decode(partial: &mut Vec<u8>, chunk: &[u8]) -> String {
    partial.extend_from_slice(chunk);
    let mut out = String::with_capacity(partial.len());
    let mut at = 0;
    loop {
        match std::str::from_utf8(&partial[at..]) {
            Ok(s) => {
                out.push_str(s);
                partial.clear();
                return out;
            }
            Err(e) => {
                let ok = at + e.valid_up_to();
                out.push_str(&String::from_utf8_lossy(&partial[at..ok]));
                match e.error_len() {
                    None => {
                        partial.drain(..ok);
                        return out;
                    }
                    Some(n) => {
                        out.push('\u{FFFD}');
                        at = ok + n;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Collect(Arc<Mutex<String>>);
    impl SpillWriter for Collect {
        fn write(&mut self, text: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(text);
            Ok(())
        }
        fn finish(self: Box<Self>) -> std::io::Result<(String, PathBuf)> {
            Ok(("b.body".into(), PathBuf::from("b.body")))
        }
    }

    #[test]
    fn small_bodies_stay_in_memory_large_ones_go_to_the_file() {
        let text = "héllo wörld ".repeat(100);
        let got = Arc::new(Mutex::new(String::new()));
        let sink = got.clone();
        let open = move || -> std::io::Result<Box<dyn SpillWriter>> {
            Ok(Box::new(Collect(sink.clone())))
        };
        for cap in [10_000, 50] {
            got.lock().unwrap().clear();
            let mut r = BodyReader::new(BodyPolicy {
                in_memory: cap,
                max: 1 << 20,
                spill: Some(&open),
            });
            for piece in text.as_bytes().chunks(7) {
                assert!(r.push(piece));
            }
            match r.finish() {
                Body::Text(t) => assert!(cap == 10_000 && t == text),
                Body::File(f) => {
                    assert!(cap == 50 && *got.lock().unwrap() == text);
                    assert_eq!(f.bytes, text.len() as u64);
                    assert!(text.starts_with(&f.head));
                }
            }
        }
    }

    #[test]
    fn a_body_beyond_the_maximum_is_cut_and_says_so() {
        let mut r = BodyReader::new(BodyPolicy::in_memory(10));
        assert!(!r.push(b"0123456789abc"));
        let Body::Text(t) = r.finish() else { panic!() };
        assert!(
            t.starts_with("0123456789…\n[qtscen: the body was cut"),
            "{t}"
        );
    }
}

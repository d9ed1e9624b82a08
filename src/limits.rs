//! Size bounds on the user files stackmine reads whole, and the readers that
//! keep them. A file is read through `Read::take(limit + 1)`, so `/dev/zero`,
//! a FIFO or any other file without a length cannot exhaust memory: one over
//! the bound is an error that names the bound (the caller names the file).
//!
//! | file                                   | bound    | shipped size |
//! |----------------------------------------|----------|--------------|
//! | model JSON (`--model-file`, `models/`) | 256 MiB  | 1.8 MB       |
//! | `study.toml`                           | 16 MiB   | 6 KB         |
//! | label CSV (`label import`)             | 1 GiB, a record 1 MiB, a field 4 KiB | |
//! | encoder `config.json`                  | 1 MiB    | < 1 KB       |
//! | encoder `vocab.txt`                    | 64 MiB   | 230 KB       |
//! | encoder `model.safetensors`            | 4 GiB    | 90 MB        |

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

/// The largest model file stackmine reads.
pub const MAX_MODEL_BYTES: u64 = 256 << 20;
/// The largest `study.toml` stackmine reads.
pub const MAX_STUDY_BYTES: u64 = 16 << 20;
/// The largest label CSV stackmine imports.
pub const MAX_LABEL_CSV_BYTES: u64 = 1 << 30;
/// The longest record (row, with its line breaks) of a label CSV: its fields
/// are at most [`crate::label::MAX_FIELD_BYTES`] each.
pub const MAX_LABEL_RECORD_BYTES: u64 = 1 << 20;
/// The largest encoder `config.json`.
pub const MAX_ENCODER_CONFIG_BYTES: u64 = 1 << 20;
/// The largest encoder `vocab.txt`.
pub const MAX_ENCODER_VOCAB_BYTES: u64 = 64 << 20;
/// The largest encoder `model.safetensors`.
pub const MAX_ENCODER_WEIGHTS_BYTES: u64 = 4 << 30;

/// A byte count in words: "16 MiB", "1 GiB", "4096 bytes".
pub fn size_words(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// The error of a file over its bound (`what`: "a model file", …).
pub fn too_large(what: &str, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "the file is larger than {}, the most stackmine reads for {what}",
            size_words(limit)
        ),
    )
}

/// Reads a whole file of at most `limit` bytes (`what` names the kind of
/// file in the error). A regular file's length is checked first; any file,
/// special ones included, is read through `take(limit + 1)`.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(what, limit));
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() {
        usize::try_from(meta.len()).unwrap_or(0)
    } else {
        0
    });
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(what, limit));
    }
    Ok(bytes)
}

/// [`read_bounded`] of a UTF-8 text file.
pub fn read_bounded_string(path: &Path, limit: u64, what: &str) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit, what)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// A reader that fails once it has given more than `total` bytes, or more
/// than `record` bytes past the offset in its [`RecordStart`] (the start of
/// the record a parser is reading), so a parser that buffers a record
/// (the csv crate does) holds at most about `record` bytes.
pub struct Bounded<R> {
    inner: R,
    read: u64,
    total: u64,
    record: u64,
    start: RecordStart,
    what: &'static str,
}

/// The byte offset where the record being read starts, shared between a
/// [`Bounded`] reader and the parser's loop that moves it forward.
#[derive(Debug, Clone, Default)]
pub struct RecordStart(Rc<Cell<u64>>);

impl RecordStart {
    pub fn set(&self, offset: u64) {
        self.0.set(offset);
    }
}

impl<R: Read> Bounded<R> {
    /// `what` names the kind of file in errors ("a label CSV").
    pub fn new(inner: R, total: u64, record: u64, what: &'static str) -> (Self, RecordStart) {
        let start = RecordStart::default();
        let reader = Bounded {
            inner,
            read: 0,
            total,
            record,
            start: start.clone(),
            what,
        };
        (reader, start)
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // One byte past a bound shows that the input goes on past it.
        let to_total = (self.total + 1).saturating_sub(self.read);
        let to_record = (self.start.0.get() + self.record + 1).saturating_sub(self.read);
        let room = to_total.min(to_record);
        if room == 0 {
            return Err(if to_total == 0 {
                too_large(self.what, self.total)
            } else {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a row is longer than {} (a field is at most {} bytes)",
                        size_words(self.record),
                        crate::label::MAX_FIELD_BYTES
                    ),
                )
            });
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_words(16 << 20), "16 MiB");
        assert_eq!(size_words(1 << 30), "1 GiB");
        assert_eq!(size_words(4096), "4 KiB");
        assert_eq!(size_words(1000), "1000 bytes");
    }

    #[test]
    fn bounded_stops_a_long_record_and_a_long_input() {
        let (mut r, _) = Bounded::new(io::repeat(b'x'), 1 << 30, 100, "a test");
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert!(
            err.to_string().contains("a row is longer than 100 bytes"),
            "{err}"
        );
        assert_eq!(out.len(), 101);
        let (mut r, start) = Bounded::new(io::repeat(b'x'), 250, 100, "a test");
        let mut buf = [0u8; 60];
        let mut got = 0u64;
        let err = loop {
            match r.read(&mut buf) {
                Ok(n) => {
                    got += n as u64;
                    start.set(got);
                }
                Err(e) => break e,
            }
        };
        assert_eq!(got, 251);
        assert!(err.to_string().contains("larger than 250 bytes"), "{err}");
    }

    #[test]
    fn read_bounded_stops_dev_zero() {
        let zero = Path::new("/dev/zero");
        if zero.exists() {
            let err = read_bounded(zero, 1000, "a test file").unwrap_err();
            assert_eq!(
                err.to_string(),
                "the file is larger than 1000 bytes, the most stackmine reads for a test file"
            );
        }
    }
}

//! Splitting a byte stream into large chunks of whole lines.

use std::io::{self, Read};

/// How many bytes of a line too long to read are kept, for messages and its Id.
pub const LONG_LINE_PREFIX: usize = 64 * 1024;

/// The default limit of one line (one row): 64 MiB.
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

/// A run of whole lines and where it starts in the stream.
pub struct Chunk {
    /// The lines; for a line too long to read, its first bytes only.
    pub data: Vec<u8>,
    /// Byte offset of `data[0]` in the stream.
    pub offset: u64,
    /// Set when the chunk is one line longer than the limit: its whole length
    /// in bytes, its newline included, and whether a newline ended it.
    pub long_line: Option<LongLine>,
}

/// A line longer than the limit, of which only the first bytes were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLine {
    pub bytes: u64,
    pub ended: bool,
}

impl Chunk {
    /// How many bytes of the stream the chunk covers.
    pub fn stream_len(&self) -> u64 {
        match self.long_line {
            Some(l) => l.bytes,
            None => self.data.len() as u64,
        }
    }
}

/// Reads `size`-byte chunks that end at a newline (a line longer than `size`
/// makes its chunk longer). The last chunk holds whatever follows the last
/// newline. A line longer than `max_line` is not held in memory: it becomes a
/// chunk of its own with its first [`LONG_LINE_PREFIX`] bytes and its length
/// ([`Chunk::long_line`]). Memory is bounded by the chunk size and `max_line`.
pub struct Chunker<R> {
    reader: R,
    size: usize,
    max_line: usize,
    carry: Vec<u8>,
    offset: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    pub fn new(reader: R, size: usize) -> Chunker<R> {
        Chunker::with_max_line(reader, size, DEFAULT_MAX_LINE)
    }

    pub fn with_max_line(reader: R, size: usize, max_line: usize) -> Chunker<R> {
        Chunker {
            reader,
            size: size.clamp(1, max_line.max(1)),
            max_line: max_line.max(1),
            carry: Vec::new(),
            offset: 0,
            eof: false,
        }
    }

    fn fill(&mut self, buf: &mut Vec<u8>, upto: usize) -> io::Result<()> {
        while buf.len() < upto && !self.eof {
            let want = (upto - buf.len()) as u64;
            let n = (&mut self.reader).take(want).read_to_end(buf)?;
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The next chunk, or `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut buf = Vec::with_capacity(self.size + 64 * 1024);
        buf.append(&mut self.carry);
        self.fill(&mut buf, self.size)?;
        let mut searched = 0;
        while !self.eof {
            if let Some(nl) = memchr::memrchr(b'\n', &buf[searched..]) {
                let cut = searched + nl + 1;
                self.carry.extend_from_slice(&buf[cut..]);
                buf.truncate(cut);
                break;
            }
            // No newline yet: the whole buffer is one line longer than a chunk.
            if buf.len() > self.max_line {
                return self.long_line(buf).map(Some);
            }
            searched = buf.len();
            let upto = buf.len() + self.size;
            self.fill(&mut buf, upto)?;
        }
        if buf.is_empty() {
            return Ok(None);
        }
        // Chunks are at most `max_line` long, so only the first line can be too long.
        let first = memchr::memchr(b'\n', &buf).unwrap_or(buf.len());
        if first > self.max_line {
            return self.long_line(buf).map(Some);
        }
        let chunk = Chunk {
            offset: self.offset,
            data: buf,
            long_line: None,
        };
        self.offset += chunk.data.len() as u64;
        Ok(Some(chunk))
    }

    /// `buf` starts with a line longer than the limit: keeps its first bytes
    /// and reads on to its end in chunk-sized blocks that are dropped.
    fn long_line(&mut self, mut buf: Vec<u8>) -> io::Result<Chunk> {
        let (mut bytes, mut ended) = match memchr::memchr(b'\n', &buf) {
            Some(nl) => {
                let mut rest = buf.split_off(nl + 1);
                rest.append(&mut self.carry);
                self.carry = rest;
                buf.pop();
                (nl as u64 + 1, true)
            }
            None => (buf.len() as u64, false),
        };
        buf.truncate(LONG_LINE_PREFIX);
        let mut block = Vec::new();
        while !ended && !self.eof {
            block.clear();
            self.fill(&mut block, self.size)?;
            match memchr::memchr(b'\n', &block) {
                Some(nl) => {
                    bytes += nl as u64 + 1;
                    self.carry.extend_from_slice(&block[nl + 1..]);
                    ended = true;
                }
                None => bytes += block.len() as u64,
            }
        }
        if ended {
            buf.push(b'\n');
        }
        buf.shrink_to_fit();
        let chunk = Chunk {
            offset: self.offset,
            data: buf,
            long_line: Some(LongLine { bytes, ended }),
        };
        self.offset += bytes;
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(input: &[u8], size: usize) -> Vec<(u64, Vec<u8>)> {
        let mut c = Chunker::new(input, size);
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            out.push((ch.offset, ch.data));
        }
        out
    }

    #[test]
    fn chunks_end_at_newlines_and_cover_everything() {
        let input = b"aa\nbbbbbbbbbb\nc\nlast";
        for size in 1..25 {
            let got = chunks(input, size);
            let joined: Vec<u8> = got.iter().flat_map(|(_, d)| d.clone()).collect();
            assert_eq!(joined, input, "size {size}");
            for (i, (off, d)) in got.iter().enumerate() {
                if i + 1 < got.len() {
                    assert!(d.ends_with(b"\n"), "size {size}: {d:?}");
                }
                let start: usize = got[..i].iter().map(|(_, d)| d.len()).sum();
                assert_eq!(*off as usize, start);
            }
        }
        assert!(chunks(b"", 4).is_empty());
    }

    #[test]
    fn lines_over_the_limit_are_cut_to_their_first_bytes() {
        let long = vec![b'x'; 3 * LONG_LINE_PREFIX];
        let mut input = b"a\nbb\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\nc\n");
        input.extend_from_slice(&long);
        let max = LONG_LINE_PREFIX + 10;
        for size in [1, 7, 1000, LONG_LINE_PREFIX, max, 1 << 30] {
            let mut c = Chunker::with_max_line(&input[..], size, max);
            let (mut total, mut lines, mut longs) = (0u64, Vec::new(), Vec::new());
            while let Some(ch) = c.next_chunk().unwrap() {
                assert_eq!(ch.offset, total, "size {size}");
                total += ch.stream_len();
                if let Some(l) = ch.long_line {
                    assert_eq!(ch.data.len(), LONG_LINE_PREFIX + usize::from(l.ended));
                    longs.push(l);
                }
                lines.extend(ch.data.split(|&b| b == b'\n').map(<[u8]>::len));
            }
            assert_eq!(total, input.len() as u64, "size {size}");
            let n = long.len() as u64;
            assert_eq!(
                longs,
                [
                    LongLine {
                        bytes: n + 1,
                        ended: true
                    },
                    LongLine {
                        bytes: n,
                        ended: false
                    }
                ],
                "size {size}"
            );
            assert!(lines.iter().all(|&l| l <= LONG_LINE_PREFIX), "size {size}");
        }
    }
}

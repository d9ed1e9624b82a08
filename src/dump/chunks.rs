//! Splitting a byte stream into large chunks of whole lines.

use std::io::{self, Read};

/// A run of whole lines and where it starts in the stream.
pub struct Chunk {
    pub data: Vec<u8>,
    /// Byte offset of `data[0]` in the stream.
    pub offset: u64,
}

/// Reads `size`-byte chunks that end at a newline (a line longer than `size`
/// makes its chunk longer). The last chunk holds whatever follows the last
/// newline. Memory is bounded by the chunk size and the longest line.
pub struct Chunker<R> {
    reader: R,
    size: usize,
    carry: Vec<u8>,
    offset: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    pub fn new(reader: R, size: usize) -> Chunker<R> {
        Chunker {
            reader,
            size: size.max(1),
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
            // No newline yet: a line longer than a chunk; read on.
            searched = buf.len();
            let upto = buf.len() + self.size;
            self.fill(&mut buf, upto)?;
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let chunk = Chunk {
            offset: self.offset,
            data: buf,
        };
        self.offset += chunk.data.len() as u64;
        Ok(Some(chunk))
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
}

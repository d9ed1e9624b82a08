//! BERT's uncased WordPiece tokenizer, as Hugging Face `tokenizers` runs it
//! for all-MiniLM-L6-v2 (`BertNormalizer` with lowercase and accent
//! stripping, `BertPreTokenizer`, `WordPiece` with `##` continuations and at
//! most 100 characters per word, then `[CLS] … [SEP]`). As there, the
//! special tokens (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`) written
//! literally in the text are read as those tokens: they are matched on the
//! raw text, case-sensitively, before normalization (`tokenizer.json`'s
//! added tokens with `normalized: false`).
//!
//! Each step is its own function: [`normalize`] → [`pre_tokenize`] →
//! [`Vocab::word_pieces`] → [`Vocab::encode`]. [`Vocab::encode`] runs them
//! lazily, one whitespace-separated chunk of the raw text at a time, and
//! stops once the token limit is reached (a long post is not normalized
//! past what the limit reads); ASCII chunks, most of the text, take a fast
//! path over bytes. Both give the ids the whole-text steps give: ASCII
//! whitespace becomes a space, which no normalization step reads across.

use std::collections::HashMap;

use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// BERT's special tokens, matched in raw text when the vocabulary has them.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Words longer than this (in chars) become `[UNK]`.
const MAX_WORD_CHARS: usize = 100;

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    // ASCII first: the Unicode table search is most of the static encoder's time.
    if c.is_ascii() {
        return c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r');
    }
    c.is_other()
}

fn is_chinese(c: char) -> bool {
    matches!(u32::from(c),
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

fn is_punctuation(c: char) -> bool {
    // Every ASCII character of a Unicode punctuation class is ASCII punctuation.
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    c.is_punctuation()
}

/// Cleans the text (drops NUL, U+FFFD and control characters, maps
/// whitespace to a space), spaces out CJK ideographs, strips accents (NFD,
/// then drops combining marks) and lower-cases.
pub fn normalize(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            spaced.push(' ');
        } else if is_chinese(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    if spaced.is_ascii() {
        return spaced.to_ascii_lowercase();
    }
    let stripped: String = spaced.nfd().filter(|&c| !is_combining_mark(c)).collect();
    stripped.to_lowercase()
}

/// Splits normalized text into words: on whitespace, and every punctuation
/// character is a word of its own.
pub fn pre_tokenize(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for chunk in text.split(is_whitespace).filter(|s| !s.is_empty()) {
        let mut start = 0;
        for (i, c) in chunk.char_indices() {
            if is_punctuation(c) {
                if start < i {
                    out.push(&chunk[start..i]);
                }
                out.push(&chunk[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        if start < chunk.len() {
            out.push(&chunk[start..]);
        }
    }
    out
}

/// What is wrong with a `vocab.txt`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabError {
    #[error("not UTF-8 text (line {line})")]
    NotUtf8 { line: usize },
    #[error("it has no {0} token")]
    MissingToken(&'static str),
    #[error("{found} tokens, config.json says {config}")]
    Size { found: usize, config: usize },
    #[error("{0} tokens, more than token ids can number")]
    TooLarge(usize),
}

/// Token bytes to ids, hashed with foldhash (fixed seed: deterministic).
type Table = HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>;

/// A WordPiece vocabulary (`vocab.txt`: one token per line, id = line number).
#[derive(Debug, Clone)]
pub struct Vocab {
    ids: Table,
    /// With the `##` prefix removed, for continuation pieces.
    continuation: Table,
    /// The longest key of `ids` and of `continuation`, in bytes: a longer
    /// piece is never looked up.
    longest: usize,
    longest_continuation: usize,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub len: usize,
    /// The [`SPECIAL_TOKENS`] the vocabulary has, with their ids.
    specials: Vec<(&'static str, u32)>,
}

impl Vocab {
    /// Reads `vocab.txt` as bytes: UTF-8, with `[UNK]`, `[CLS]` and `[SEP]`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Vocab, VocabError> {
        let text = std::str::from_utf8(bytes).map_err(|e| VocabError::NotUtf8 {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
        })?;
        Vocab::parse(text)
    }

    /// Reads `vocab.txt`; refuses one without `[UNK]`, `[CLS]` or `[SEP]`.
    pub fn parse(text: &str) -> Result<Vocab, VocabError> {
        let mut ids = Table::default();
        let mut continuation = Table::default();
        let (mut longest, mut longest_continuation) = (0, 0);
        let mut len = 0;
        for (i, line) in text.lines().enumerate() {
            let id = u32::try_from(i).map_err(|_| VocabError::TooLarge(i))?;
            len = i + 1;
            if let Some(rest) = line.strip_prefix("##") {
                continuation.entry(rest.as_bytes().into()).or_insert(id);
                longest_continuation = longest_continuation.max(rest.len());
            }
            ids.entry(line.as_bytes().into()).or_insert(id);
            longest = longest.max(line.len());
        }
        let get = |t: &'static str| {
            ids.get(t.as_bytes())
                .copied()
                .ok_or(VocabError::MissingToken(t))
        };
        let specials = SPECIAL_TOKENS
            .iter()
            .filter_map(|&t| ids.get(t.as_bytes()).map(|&id| (t, id)))
            .collect();
        Ok(Vocab {
            specials,
            unk: get("[UNK]")?,
            cls: get("[CLS]")?,
            sep: get("[SEP]")?,
            ids,
            continuation,
            longest,
            longest_continuation,
            len,
        })
    }

    /// A word's pieces by greedy longest match; the whole word is `[UNK]` if
    /// any part has no piece or it is longer than 100 characters.
    pub fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        if word.is_ascii() {
            return self.ascii_word_pieces(word.as_bytes(), out);
        }
        if word.chars().count() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let (table, longest) = self.table(start);
            // No key is longer than `longest`: start at the last char
            // boundary within it (the same match as starting at the end).
            let mut end = (start + longest).min(word.len());
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            let found = loop {
                if end == start {
                    break None;
                }
                if let Some(&id) = table.get(&word.as_bytes()[start..end]) {
                    break Some(id);
                }
                end = start
                    + word[start..end]
                        .char_indices()
                        .next_back()
                        .map_or(0, |(i, _)| i);
            };
            let Some(id) = found else {
                out.truncate(mark);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }

    /// The table of pieces starting at byte `start` of a word, and its
    /// longest key.
    fn table(&self, start: usize) -> (&Table, usize) {
        if start == 0 {
            (&self.ids, self.longest)
        } else {
            (&self.continuation, self.longest_continuation)
        }
    }

    /// [`Vocab::word_pieces`] of an ASCII word (one char per byte).
    fn ascii_word_pieces(&self, word: &[u8], out: &mut Vec<u32>) {
        if word.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let (table, longest) = self.table(start);
            let mut end = (start + longest).min(word.len());
            let found = loop {
                if end == start {
                    break None;
                }
                if let Some(&id) = table.get(&word[start..end]) {
                    break Some(id);
                }
                end -= 1;
            };
            let Some(id) = found else {
                out.truncate(mark);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }

    /// The text split at literal special tokens: text parts (`Err`) and
    /// special tokens' ids (`Ok`), in order. The earliest match wins; no two
    /// of BERT's special tokens start alike, so it is also the longest.
    pub fn split_specials<'t>(&self, text: &'t str) -> Vec<Result<u32, &'t str>> {
        let mut out = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let next = self
                .specials
                .iter()
                .filter_map(|&(t, id)| rest.find(t).map(|at| (at, t.len(), id)))
                .min_by_key(|&(at, len, _)| (at, std::cmp::Reverse(len)));
            let Some((at, len, id)) = next else {
                out.push(Err(rest));
                break;
            };
            if at > 0 {
                out.push(Err(&rest[..at]));
            }
            out.push(Ok(id));
            rest = &rest[at + len..];
        }
        out
    }

    /// Token ids of a text: `[CLS]`, its first `max_len - 2` pieces, `[SEP]`.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let limit = max_len.max(2) - 1;
        let mut ids = Vec::with_capacity(limit.min(512) + 1);
        ids.push(self.cls);
        let mut buf = Vec::new();
        for chunk in text
            .as_bytes()
            .split(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            if ids.len() >= limit {
                break;
            }
            if chunk.is_empty() {
                continue;
            }
            if chunk.is_ascii() && (self.specials.is_empty() || !chunk.contains(&b'[')) {
                self.ascii_chunk(chunk, limit, &mut buf, &mut ids);
                continue;
            }
            // Split at ASCII bytes only: each chunk is valid UTF-8.
            let chunk = std::str::from_utf8(chunk).unwrap_or_default();
            for part in self.split_specials(chunk) {
                match part {
                    Ok(id) => ids.push(id),
                    Err(text) => {
                        for word in pre_tokenize(&normalize(text)) {
                            self.word_pieces(word, &mut ids);
                            if ids.len() >= limit {
                                break;
                            }
                        }
                    }
                }
                if ids.len() >= limit {
                    break;
                }
            }
        }
        ids.truncate(limit);
        ids.push(self.sep);
        ids
    }

    /// The pieces of an ASCII chunk without whitespace or special tokens, as
    /// [`normalize`] and [`pre_tokenize`] would give them: control bytes
    /// dropped, lower-cased, every punctuation byte a word of its own.
    fn ascii_chunk(&self, chunk: &[u8], limit: usize, buf: &mut Vec<u8>, ids: &mut Vec<u32>) {
        let word: &[u8] = if chunk
            .iter()
            .any(|&b| b.is_ascii_uppercase() || b.is_ascii_control())
        {
            buf.clear();
            buf.extend(
                chunk
                    .iter()
                    .filter(|b| !b.is_ascii_control())
                    .map(u8::to_ascii_lowercase),
            );
            buf
        } else {
            chunk
        };
        let mut start = 0;
        for (i, &b) in word.iter().enumerate() {
            if b.is_ascii_punctuation() {
                if start < i {
                    self.ascii_word_pieces(&word[start..i], ids);
                    if ids.len() >= limit {
                        return;
                    }
                }
                self.ascii_word_pieces(&word[i..i + 1], ids);
                if ids.len() >= limit {
                    return;
                }
                start = i + 1;
            }
        }
        if start < word.len() {
            self.ascii_word_pieces(&word[start..], ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The whole-text steps, as [`Vocab::encode`] ran them before it became
    /// lazy: every special token split off, each part normalized whole,
    /// pre-tokenized, pieces by greedy match from the word's end.
    fn reference(v: &Vocab, text: &str, max_len: usize) -> Vec<u32> {
        let pieces = |word: &str, out: &mut Vec<u32>| {
            if word.chars().count() > MAX_WORD_CHARS {
                out.push(v.unk);
                return;
            }
            let mark = out.len();
            let mut start = 0;
            while start < word.len() {
                let table = if start == 0 { &v.ids } else { &v.continuation };
                let mut end = word.len();
                let found = loop {
                    if let Some(&id) = table.get(&word.as_bytes()[start..end]) {
                        break Some(id);
                    }
                    match word[start..end].char_indices().next_back() {
                        Some((i, _)) if i > 0 => end = start + i,
                        _ => break None,
                    }
                };
                let Some(id) = found else {
                    out.truncate(mark);
                    out.push(v.unk);
                    return;
                };
                out.push(id);
                start = end;
            }
        };
        let mut ids = vec![v.cls];
        for part in v.split_specials(text) {
            match part {
                Ok(id) => ids.push(id),
                Err(text) => {
                    for word in pre_tokenize(&normalize(text)) {
                        pieces(word, &mut ids);
                    }
                }
            }
        }
        ids.truncate(max_len.max(2) - 1);
        ids.push(v.sep);
        ids
    }

    fn rich_vocab() -> Vocab {
        let mut text = String::from("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
        for t in [
            "a", "b", "ab", "abc", "cd", "##b", "##c", "##cd", "##d", "é", "e", "##é", "σ", "ς",
            "##ς", "深", "i", ".", "[", "]", "(", "##a", "##ab", "x", "##x", "ǆ",
        ] {
            text.push_str(t);
            text.push('\n');
        }
        Vocab::parse(&text).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn lazy_encode_gives_the_whole_text_ids(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "B", "Ab", "c", "D", " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{0}", "\u{7f}", "\u{1f}", ".", "[", "]", "(", "[CLS]", "[SEP]", "[MASK]", "[UNK", "é", "E\u{301}", "\u{301}", "Σ", "ΑΣ", "\u{a0}", "\u{85}", "深", "İ", "\u{fffd}", "\u{2000}", "\u{200b}", "Ǆ", "x", "\u{37e}", "’",
            ]), 0..40),
            long in 0usize..3,
            max_len in 0usize..40,
        ) {
            let v = rich_vocab();
            let mut text: String = parts.concat();
            if long > 0 {
                text.push_str(&"ab".repeat(40 * long));
            }
            prop_assert_eq!(v.encode(&text, max_len), reference(&v, &text, max_len));
            prop_assert_eq!(v.encode(&text, usize::MAX), reference(&v, &text, usize::MAX));
        }
    }

    fn vocab() -> Vocab {
        Vocab::parse("[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nrun\n##ning\n,\ntf\n.\nnn\n")
            .unwrap()
    }

    #[test]
    fn normalizes_like_bert() {
        assert_eq!(normalize("Héllo\tWORLD\u{0}"), "hello world");
        assert_eq!(normalize("深度 learning"), " 深  度  learning");
    }

    #[test]
    fn splits_punctuation() {
        assert_eq!(
            pre_tokenize("tf.nn, conv2d(x)!"),
            ["tf", ".", "nn", ",", "conv2d", "(", "x", ")", "!"]
        );
    }

    #[test]
    fn greedy_longest_match() {
        let v = vocab();
        assert_eq!(
            v.encode("unaffable running, tf.nn", 64),
            [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3]
        );
        // An unknown part makes the whole word [UNK].
        assert_eq!(v.encode("unxyz", 64), [2, 1, 3]);
        // Truncation keeps [CLS] and [SEP].
        assert_eq!(v.encode("unaffable running", 4), [2, 4, 5, 3]);
    }

    #[test]
    fn literal_special_tokens_are_special() {
        let v = vocab();
        // Matched in the raw text, case-sensitively, even inside a word.
        assert_eq!(
            v.encode("[CLS] run[SEP]un [cls]", 64),
            [2, 2, 7, 3, 4, 1, 1, 1, 3]
        );
        assert_eq!(v.encode("[PAD][UNK]", 64), [2, 0, 1, 3]);
        // [MASK] is not in this vocabulary: plain text.
        assert_eq!(v.encode("[MASK]", 64), [2, 1, 1, 1, 3]);
    }
}

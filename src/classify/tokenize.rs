//! Text → tokens, as one chain of small steps ([`WordChain`], as tantivy's
//! `Tokenizer` → `TokenFilter`s): lower case, [`tokens`] (splits keeping
//! identifiers whole, `tf.nn.conv2d`, `CUDA_ERROR_OUT_OF_MEMORY`, and also
//! yields a dotted identifier's parts), then the [`TokenFilter`] steps
//! [`DropStopWords`] (function words), [`DropNumbers`] and, optional,
//! [`Stem`]. Fitting and predicting both read text through it.
//! [`error_names`] pulls out exception and error names.

use std::borrow::Cow;

/// Splits text into tokens: runs of letters, digits, `_` and inner `.`.
/// A dotted identifier yields itself and then its parts (`tf.nn.conv2d` →
/// `tf.nn.conv2d`, `tf`, `nn`, `conv2d`). Case is kept.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    if text.is_ascii() {
        // Fast path, same boundaries as the char path for ASCII text.
        let b = text.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && !word(b[i]) {
                i += 1;
            }
            let start = i;
            while i < b.len() && word(b[i]) {
                i += 1;
            }
            if start < i {
                push_token(&text[start..i], &mut out);
            }
        }
        return out;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    for raw in text.split(|c: char| !is_word(c)) {
        push_token(raw, &mut out);
    }
    out
}

fn push_token<'a>(raw: &'a str, out: &mut Vec<&'a str>) {
    let t = if raw.starts_with('.') || raw.ends_with('.') {
        raw.trim_matches('.')
    } else {
        raw
    };
    if t.is_empty() {
        return;
    }
    out.push(t);
    if t.contains('.') {
        out.extend(t.split('.').filter(|p| !p.is_empty()));
    }
}

/// Lower-cases a token.
pub fn lower(token: &str) -> String {
    token.to_lowercase()
}

/// Names of errors and exceptions in text (`ValueError`, `RuntimeError`,
/// `CUDA_ERROR_OUT_OF_MEMORY`, `tf.errors.InvalidArgumentError` → its last part).
pub fn error_names(text: &str) -> Vec<String> {
    let any = ["Error", "Exception", "Warning", "ERROR"]
        .iter()
        .any(|k| text.contains(k));
    if !any {
        return Vec::new();
    }
    tokens(text)
        .into_iter()
        .filter(|t| !t.contains('.') && is_error_name(t))
        .map(lower)
        .collect()
}

fn is_error_name(t: &str) -> bool {
    t.ends_with("Error")
        || t.ends_with("Exception")
        || t.ends_with("Warning")
        || (t.contains('_') && t.contains("ERROR") && !t.bytes().any(|b| b.is_ascii_lowercase()))
}

/// A stop word list: English function words. Question words (how, what, why,
/// when, which), negations and words like "error" are kept on purpose: they
/// tell kinds of questions apart.
pub struct StopWords {
    words: std::collections::HashSet<&'static str, foldhash::fast::FixedState>,
}

/// The default list (documented in the module docs above).
pub const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "while",
    "who",
    "whom",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "im",
    "ive",
    "also",
    "just",
    "can",
    "will",
    "should",
    "thanks",
    "thank",
    "please",
    "hi",
    "hello",
];

impl Default for StopWords {
    fn default() -> Self {
        StopWords {
            words: STOP_WORDS.iter().copied().collect(),
        }
    }
}

impl StopWords {
    pub fn is_stop(&self, token: &str) -> bool {
        // No stop word is longer than 10 bytes ("themselves"): skip the lookup.
        token.len() <= 10 && self.words.contains(token)
    }
}

/// The optional stemming step: the Snowball English (Porter2) stem of a
/// lower-case word of letters only (`training` → `train`); identifiers,
/// numbers and anything else pass through unchanged, so `tf.nn.conv2d` and
/// `cuda_error_out_of_memory` keep their meaning. `rust-stemmers` carries
/// the Snowball 2 rules: on the 13,540 distinct words of the labeled dumps it
/// agrees with Python `snowballstemmer` 3.1.1 on all but 27, Snowball 3's
/// newer exceptions (`organization`, `internal`, `added`, …).
pub fn stem(word: &str) -> Cow<'_, str> {
    static ENGLISH: std::sync::LazyLock<rust_stemmers::Stemmer> = std::sync::LazyLock::new(|| {
        rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
    });
    if word.len() > 2 && word.bytes().all(|b| b.is_ascii_lowercase()) {
        ENGLISH.stem(word)
    } else {
        Cow::Borrowed(word)
    }
}

/// One step of the word chain after splitting (tantivy's `TokenFilter`):
/// keeps a token, changes it or drops it.
pub trait TokenFilter {
    fn filter<'a>(&self, token: Cow<'a, str>) -> Option<Cow<'a, str>>;
}

/// Drops stop words.
pub struct DropStopWords<'s>(pub &'s StopWords);

impl TokenFilter for DropStopWords<'_> {
    #[inline]
    fn filter<'a>(&self, token: Cow<'a, str>) -> Option<Cow<'a, str>> {
        (!self.0.is_stop(&token)).then_some(token)
    }
}

/// Drops tokens of digits only.
pub struct DropNumbers;

impl TokenFilter for DropNumbers {
    #[inline]
    fn filter<'a>(&self, token: Cow<'a, str>) -> Option<Cow<'a, str>> {
        (!token.bytes().all(|c| c.is_ascii_digit())).then_some(token)
    }
}

/// Reduces words to their stems ([`stem`]).
pub struct Stem;

impl TokenFilter for Stem {
    #[inline]
    fn filter<'a>(&self, token: Cow<'a, str>) -> Option<Cow<'a, str>> {
        Some(match token {
            Cow::Borrowed(t) => stem(t),
            Cow::Owned(t) => Cow::Owned(stem(&t).into_owned()),
        })
    }
}

/// The stop words every model reads text with ([`STOP_WORDS`]).
pub fn stop_words() -> &'static StopWords {
    static STOP: std::sync::LazyLock<StopWords> = std::sync::LazyLock::new(StopWords::default);
    &STOP
}

/// The word chain: lower case → [`tokens`] → [`DropStopWords`] →
/// [`DropNumbers`] → [`Stem`] when `stem`. The one definition of a post's
/// words: the keyword model and every TF-IDF field, at fit and predict time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordChain {
    pub stem: bool,
}

impl WordChain {
    /// Lower-cases `text` (the first step): [`WordChain::run`] reads the result.
    pub fn lower(text: &str) -> String {
        text.to_lowercase()
    }

    /// The steps after lower case, over text that is already lower case:
    /// appends its words to `out`, borrowed from `lowered` where a step did
    /// not change them.
    pub fn run<'a>(&self, lowered: &'a str, out: &mut Vec<Cow<'a, str>>) {
        let stop = DropStopWords(stop_words());
        for t in tokens(lowered) {
            let Some(t) = stop.filter(Cow::Borrowed(t)) else {
                continue;
            };
            let Some(t) = DropNumbers.filter(t) else {
                continue;
            };
            match self.stem {
                true => out.extend(Stem.filter(t)),
                false => out.push(t),
            }
        }
    }

    /// The whole chain over some text, as owned words.
    pub fn words(&self, text: &str) -> Vec<String> {
        let lowered = WordChain::lower(text);
        let mut out = Vec::new();
        self.run(&lowered, &mut out);
        out.into_iter().map(Cow::into_owned).collect()
    }
}

/// The word chain without stemming (the keyword model's words).
pub fn words(text: &str) -> Vec<String> {
    WordChain::default().words(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: Python `snowballstemmer` 3.1.1 (the Snowball project's own
    /// generated code), `snowballstemmer.stemmer("english").stemWord(w)`.
    #[test]
    fn stems_words_but_not_identifiers() {
        for (word, want) in [
            ("training", "train"),
            ("trained", "train"),
            ("installation", "instal"),
            ("installing", "instal"),
            ("predictions", "predict"),
            ("performance", "perform"),
            ("deployment", "deploy"),
            ("converges", "converg"),
            ("libraries", "librari"),
            ("running", "run"),
            ("slowly", "slowli"),
            ("generously", "generous"),
            ("tf.nn.conv2d", "tf.nn.conv2d"),
            ("cuda_error_out_of_memory", "cuda_error_out_of_memory"),
            ("conv2d", "conv2d"),
            ("is", "is"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
    }

    #[test]
    fn identifiers_stay_whole_and_split() {
        assert_eq!(
            tokens("Use tf.nn.conv2d(x) ... then CUDA_ERROR_OUT_OF_MEMORY."),
            [
                "Use",
                "tf.nn.conv2d",
                "tf",
                "nn",
                "conv2d",
                "x",
                "then",
                "CUDA_ERROR_OUT_OF_MEMORY"
            ]
        );
        assert_eq!(tokens("..."), Vec::<&str>::new());
        // The ASCII fast path and the Unicode path cut the same tokens.
        assert_eq!(
            tokens("né tf.nn.x-y"),
            ["né", "tf.nn.x", "tf", "nn", "x", "y"]
        );
        assert_eq!(
            tokens("ne tf.nn.x-y"),
            ["ne", "tf.nn.x", "tf", "nn", "x", "y"]
        );
    }

    #[test]
    fn errors_and_words() {
        assert_eq!(
            error_names(
                "raise ValueError: bad; got tf.errors.InvalidArgumentError and CUDA_ERROR_OUT_OF_MEMORY"
            ),
            [
                "valueerror",
                "invalidargumenterror",
                "cuda_error_out_of_memory"
            ]
        );
        assert!(
            STOP_WORDS.iter().all(|w| w.len() <= 10),
            "is_stop's length shortcut"
        );
        assert_eq!(
            words("How do I save the model in 2 files?"),
            ["how", "save", "model", "files"]
        );
    }
}

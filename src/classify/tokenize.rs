//! Text → tokens, as small composable steps: [`tokens`] splits keeping
//! identifiers whole (`tf.nn.conv2d`, `CUDA_ERROR_OUT_OF_MEMORY`) and also
//! yields a dotted identifier's parts; [`lower`] folds case; [`StopWords`]
//! drops function words; [`error_names`] pulls out exception and error names.

/// Splits text into tokens: runs of letters, digits, `_` and inner `.`.
/// A dotted identifier yields itself and then its parts (`tf.nn.conv2d` →
/// `tf.nn.conv2d`, `tf`, `nn`, `conv2d`). Case is kept.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    for raw in text.split(|c: char| !is_word(c)) {
        let t = raw.trim_matches('.');
        if t.is_empty() {
            continue;
        }
        out.push(t);
        if t.contains('.') {
            out.extend(t.split('.').filter(|p| !p.is_empty()));
        }
    }
    out
}

/// Lower-cases a token.
pub fn lower(token: &str) -> String {
    token.to_lowercase()
}

/// Names of errors and exceptions in text (`ValueError`, `RuntimeError`,
/// `CUDA_ERROR_OUT_OF_MEMORY`, `tf.errors.InvalidArgumentError` → its last part).
pub fn error_names(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter(|t| !t.contains('.'))
        .filter(|t| {
            let upper = t.to_ascii_uppercase();
            t.ends_with("Error")
                || t.ends_with("Exception")
                || t.ends_with("Warning")
                || (t.chars().any(|c| c == '_') && upper == *t && upper.contains("ERROR"))
        })
        .map(lower)
        .collect()
}

/// A stop word list: English function words. Question words (how, what, why,
/// when, which), negations and words like "error" are kept on purpose: they
/// tell kinds of questions apart.
pub struct StopWords {
    words: std::collections::HashSet<&'static str>,
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
        self.words.contains(token)
    }
}

/// The word pipeline: tokens → lower case → without stop words and numbers.
pub fn words(text: &str, stop: &StopWords) -> Vec<String> {
    tokens(text)
        .into_iter()
        .map(lower)
        .filter(|t| !stop.is_stop(t) && !t.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let stop = StopWords::default();
        assert_eq!(
            words("How do I save the model in 2 files?", &stop),
            ["how", "save", "model", "files"]
        );
    }
}

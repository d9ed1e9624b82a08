//! Features: a post's fields (title, body text, code, tags, error names) →
//! one sparse TF-IDF vector. Each field has its own vocabulary, n-gram range,
//! minimum document frequency and weight; its block is L2-normalized, then
//! scaled by the weight. TF-IDF follows scikit-learn's `TfidfVectorizer`
//! (`sublinear_tf=True`, `smooth_idf=True`): tf = 1 + ln(count),
//! idf = ln((1 + n) / (1 + df)) + 1.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::tokenize::{StopWords, error_names, lower, stem, words};

/// The text of a post the classifiers read.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub title: String,
    pub body: String,
    pub code: String,
    pub tags: Vec<String>,
    /// The post's sentence embedding, for models that read one (empty
    /// otherwise); see [`crate::classify::encoder`].
    pub embedding: Vec<f32>,
}

/// Which part of a post a field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Title,
    Body,
    Code,
    Tags,
    Errors,
}

impl Source {
    /// The name model files use.
    pub fn name(self) -> &'static str {
        match self {
            Source::Title => "title",
            Source::Body => "body",
            Source::Code => "code",
            Source::Tags => "tags",
            Source::Errors => "errors",
        }
    }
}

/// A sparse vector: (index, value), indexes ascending.
pub type Sparse = Vec<(u32, f32)>;

/// One field's vectorizer: settings, and after fitting its terms and idf.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    pub source: Source,
    /// Longest n-gram (1 = words only).
    pub max_ngram: usize,
    pub min_df: u32,
    pub weight: f32,
    /// Stem words (title, body and code fields; `tokenize::stem`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stem: bool,
    /// Terms in index order (sorted), and their idf.
    pub terms: Vec<String>,
    pub idf: Vec<f32>,
    #[serde(skip)]
    index: HashMap<String, u32, foldhash::fast::FixedState>,
}

impl Field {
    pub fn new(source: Source, max_ngram: usize, min_df: u32, weight: f32) -> Field {
        Field {
            source,
            max_ngram,
            min_df,
            weight,
            stem: false,
            terms: Vec::new(),
            idf: Vec::new(),
            index: HashMap::default(),
        }
    }

    /// The field's words (or tags, or error names) of a post, before n-grams.
    fn base_of(&self, doc: &Doc, stop: &StopWords) -> Vec<String> {
        let words = |text: &str| {
            let w = words(text, stop);
            if self.stem {
                w.iter().map(|t| stem(t).into_owned()).collect()
            } else {
                w
            }
        };
        match self.source {
            Source::Title => words(&doc.title),
            Source::Body => words(&doc.body),
            Source::Code => words(&doc.code),
            Source::Tags => doc.tags.iter().map(|t| lower(t)).collect(),
            Source::Errors => {
                let mut e = error_names(&doc.body);
                e.extend(error_names(&doc.code));
                e
            }
        }
    }

    /// The field's terms of a post, with n-grams.
    pub fn terms_of(&self, doc: &Doc, stop: &StopWords) -> Vec<String> {
        ngrams(self.base_of(doc, stop), self.max_ngram)
    }

    /// The vocabulary indexes of a post's terms, without building the terms:
    /// words are slices of the lower-cased field, n-grams are looked up in a
    /// reused buffer (the classify hot path).
    fn indexes_of(&self, doc: &Doc, stop: &StopWords, out: &mut Vec<u32>) {
        self.with_words(doc, stop, |words| self.lookup(words, out));
    }

    /// Whether `other` reads a post the same way (source, n-grams, stemming):
    /// then the words of a post can be found once for both.
    fn reads_like(&self, other: &Field) -> bool {
        self.source == other.source && self.max_ngram == other.max_ngram && self.stem == other.stem
    }

    /// Calls `f` with the words of a post as this field reads them (before
    /// n-grams), found once.
    fn with_words<R>(&self, doc: &Doc, stop: &StopWords, f: impl FnOnce(&[&str]) -> R) -> R {
        match self.source {
            Source::Title | Source::Body | Source::Code => {
                let text = match self.source {
                    Source::Title => &doc.title,
                    Source::Body => &doc.body,
                    _ => &doc.code,
                };
                let lowered = text.to_lowercase();
                let slices = super::tokenize::word_slices(&lowered, stop);
                if self.stem {
                    let stems: Vec<std::borrow::Cow<str>> =
                        slices.iter().map(|w| stem(w)).collect();
                    let words: Vec<&str> = stems.iter().map(|s| s.as_ref()).collect();
                    f(&words)
                } else {
                    f(&slices)
                }
            }
            Source::Tags | Source::Errors => {
                let owned = self.base_of(doc, stop);
                let words: Vec<&str> = owned.iter().map(String::as_str).collect();
                f(&words)
            }
        }
    }

    fn lookup(&self, words: &[&str], out: &mut Vec<u32>) {
        out.extend(words.iter().filter_map(|w| self.index.get(*w)));
        let mut buf = String::new();
        for k in 2..=self.max_ngram {
            for w in words.windows(k) {
                buf.clear();
                for (i, part) in w.iter().enumerate() {
                    if i > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(part);
                }
                if let Some(&i) = self.index.get(buf.as_str()) {
                    out.push(i);
                }
            }
        }
    }

    /// Learns the vocabulary and idf from the terms of each document.
    pub fn fit(&mut self, docs: &[Vec<String>]) {
        let mut df: BTreeMap<&str, u32> = BTreeMap::new();
        for d in docs {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t).or_default() += 1;
            }
        }
        let n = docs.len() as f64;
        self.terms.clear();
        self.idf.clear();
        for (t, d) in df {
            if d >= self.min_df {
                self.terms.push(t.to_string());
                self.idf
                    .push((((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0) as f32);
            }
        }
        self.reindex();
    }

    /// Rebuilds the term → index map (after loading a model).
    pub fn reindex(&mut self) {
        self.index = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
    }

    /// How many distinct terms the lookup table holds (after [`Field::reindex`]).
    pub fn distinct_terms(&self) -> usize {
        self.index.len()
    }

    /// The L2-normalized, weighted TF-IDF of some terms, indexes offset by `offset`.
    pub fn transform(&self, terms: &[String], offset: u32, out: &mut Sparse) {
        let mut idx: Vec<u32> = terms
            .iter()
            .filter_map(|t| self.index.get(t.as_str()).copied())
            .collect();
        self.weigh(&mut idx, offset, out);
    }

    /// Counts vocabulary indexes and appends their weighted, normalized TF-IDF.
    fn weigh(&self, idx: &mut [u32], offset: u32, out: &mut Sparse) {
        idx.sort_unstable();
        let mut values: Vec<(u32, f32)> = Vec::new();
        for run in idx.chunk_by(|a, b| a == b) {
            let i = run[0];
            values.push((i, (1.0 + (run.len() as f32).ln()) * self.idf[i as usize]));
        }
        let norm = values.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.extend(
                values
                    .into_iter()
                    .map(|(i, v)| (offset + i, self.weight * v / norm)),
            );
        }
    }
}

/// Words plus their n-grams up to `n`, joined by spaces.
pub fn ngrams(words: Vec<String>, n: usize) -> Vec<String> {
    let mut out = words.clone();
    for k in 2..=n {
        for w in words.windows(k) {
            out.push(w.join(" "));
        }
    }
    out
}

/// All fields of a post → one vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Features {
    pub fields: Vec<Field>,
}

/// The stop words every field uses.
static STOP: std::sync::LazyLock<StopWords> = std::sync::LazyLock::new(StopWords::default);

impl Features {
    /// The default fields: title (1–2-grams, weight 2), body text (1–2-grams,
    /// min df 2), code (words, min df 2), tags, error names.
    pub fn default_fields() -> Features {
        Features {
            fields: vec![
                Field::new(Source::Title, 2, 1, 2.0),
                Field::new(Source::Body, 2, 2, 1.0),
                Field::new(Source::Code, 1, 2, 1.0),
                Field::new(Source::Tags, 1, 1, 1.0),
                Field::new(Source::Errors, 1, 1, 1.0),
            ],
        }
    }

    /// Turns stemming on for the fields of words (title, body, code).
    pub fn stemmed(mut self) -> Features {
        for f in &mut self.fields {
            f.stem = matches!(f.source, Source::Title | Source::Body | Source::Code);
        }
        self
    }

    /// Fits every field's vocabulary on the training posts.
    pub fn fit(&mut self, docs: &[Doc]) {
        for f in &mut self.fields {
            let terms: Vec<Vec<String>> = docs.iter().map(|d| f.terms_of(d, &STOP)).collect();
            f.fit(&terms);
        }
    }

    /// Rebuilds lookup tables after loading.
    pub fn reindex(&mut self) {
        for f in &mut self.fields {
            f.reindex();
        }
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.fields.iter().map(|f| f.terms.len()).sum()
    }

    /// The vector of one post.
    pub fn transform(&self, doc: &Doc) -> Sparse {
        let mut out = Vec::new();
        let mut offset = 0u32;
        let mut idx = Vec::new();
        for f in &self.fields {
            idx.clear();
            f.indexes_of(doc, &STOP, &mut idx);
            f.weigh(&mut idx, offset, &mut out);
            offset += f.terms.len() as u32;
        }
        out
    }

    /// The vectors of one post under several fitted feature sets with the
    /// same fields (cross-prediction's fold models), finding each field's
    /// words once; the same as `transform` of each. `None` when the feature
    /// sets read posts differently.
    pub fn transform_each(all: &[&Features], doc: &Doc) -> Option<Vec<Sparse>> {
        let first = all.first()?;
        let same = all.iter().all(|f| {
            f.fields.len() == first.fields.len()
                && f.fields
                    .iter()
                    .zip(&first.fields)
                    .all(|(a, b)| a.reads_like(b))
        });
        if !same {
            return None;
        }
        let mut outs: Vec<Sparse> = vec![Vec::new(); all.len()];
        let mut offsets = vec![0u32; all.len()];
        let mut idx = Vec::new();
        for (i, field) in first.fields.iter().enumerate() {
            field.with_words(doc, &STOP, |words| {
                for (m, features) in all.iter().enumerate() {
                    let f = &features.fields[i];
                    idx.clear();
                    f.lookup(words, &mut idx);
                    f.weigh(&mut idx, offsets[m], &mut outs[m]);
                    offsets[m] += f.terms.len() as u32;
                }
            });
        }
        Some(outs)
    }

    /// The vector of one post followed by its embedding, scaled by `weight`,
    /// at indexes `dim()..dim() + embedding.len()`.
    pub fn transform_with_embedding(&self, doc: &Doc, weight: f32) -> Sparse {
        let mut out = self.transform(doc);
        let offset = self.dim() as u32;
        out.extend(
            doc.embedding
                .iter()
                .enumerate()
                .map(|(j, &v)| (offset + j as u32, weight * v)),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(docs: &[&str]) -> Vec<Vec<String>> {
        docs.iter()
            .map(|d| d.split_whitespace().map(String::from).collect())
            .collect()
    }

    #[test]
    fn tfidf_matches_scikit_learn() {
        // Reference: TfidfVectorizer(analyzer=str.split, sublinear_tf=True,
        // smooth_idf=True, norm='l2').fit_transform(docs), scikit-learn 1.x.
        let docs = split(&[
            "loss nan loss",
            "nan gradient",
            "gradient gradient gradient cuda",
        ]);
        let mut f = Field::new(Source::Body, 1, 1, 1.0);
        f.fit(&docs);
        assert_eq!(f.terms, ["cuda", "gradient", "loss", "nan"]);
        let idf = [
            1.693_147_180_559_945_4,
            1.287_682_072_451_780_8,
            1.693_147_180_559_945_4,
            1.287_682_072_451_780_8,
        ];
        for (a, b) in f.idf.iter().zip(idf) {
            assert!((f64::from(*a) - b).abs() < 1e-6);
        }
        let want: [&[(u32, f64)]; 3] = [
            &[(2, 0.912_201_629_597_154), (3, 0.409_741_609_993_782)],
            &[
                (1, std::f64::consts::FRAC_1_SQRT_2),
                (3, std::f64::consts::FRAC_1_SQRT_2),
            ],
            &[(0, 0.530_941_483_759_459), (1, 0.847_408_485_220_265)],
        ];
        for (d, w) in docs.iter().zip(want) {
            let mut v = Vec::new();
            f.transform(d, 0, &mut v);
            assert_eq!(v.len(), w.len());
            for ((i, x), (j, y)) in v.iter().zip(w) {
                assert_eq!(i, j);
                assert!((f64::from(*x) - y).abs() < 1e-6, "{x} vs {y}");
            }
        }
        // min_df = 2 keeps gradient and nan; idf over all three documents.
        let mut f = Field::new(Source::Body, 1, 2, 1.0);
        f.fit(&docs);
        assert_eq!(f.terms, ["gradient", "nan"]);
        let mut v = Vec::new();
        f.transform(&split(&["loss cuda nan nan"])[0], 10, &mut v);
        assert_eq!(v, [(11, 1.0)]);
    }

    #[test]
    fn fields_and_ngrams() {
        assert_eq!(
            ngrams(vec!["a".into(), "b".into(), "c".into()], 2),
            ["a", "b", "c", "a b", "b c"]
        );
        let doc = Doc {
            title: "How to save a Keras model".into(),
            body: "It fails with ValueError".into(),
            code: "model.save('m.h5')".into(),
            tags: vec!["Keras".into()],
            ..Doc::default()
        };
        let mut f = Features::default_fields();
        f.fit(std::slice::from_ref(&doc));
        let v = f.transform(&doc);
        assert!(!v.is_empty());
        let errors = &f.fields[4];
        assert_eq!(errors.terms, ["valueerror"]);
        let title = &f.fields[0];
        assert!(
            title.terms.contains(&"save keras".to_string()),
            "{:?}",
            title.terms
        );
    }

    #[test]
    fn stemming_is_a_field_option_and_both_paths_agree() {
        let doc = Doc {
            title: "Training models slowly".into(),
            body: "The trained model predictions".into(),
            code: "model.fit(x)".into(),
            tags: vec!["pytorch".into()],
            ..Doc::default()
        };
        let mut f = Features::default_fields().stemmed();
        assert!(f.fields[..3].iter().all(|x| x.stem) && !f.fields[3].stem);
        f.fit(std::slice::from_ref(&doc));
        assert_eq!(
            f.fields[0].terms,
            ["model", "model slowli", "slowli", "train", "train model"]
        );
        assert!(f.fields[1].terms.is_empty(), "min df 2 on one post");
        // The classify path (indexes_of) finds every term the fit path made.
        let terms: Vec<String> = f.fields[0].terms_of(&doc, &STOP);
        let mut idx = Vec::new();
        f.fields[0].indexes_of(&doc, &STOP, &mut idx);
        assert_eq!(idx.len(), terms.len());
        // Off by default, and not written to model files then.
        let plain = Features::default_fields();
        assert!(!serde_json::to_string(&plain).unwrap().contains("stem"));
    }
}

//! Features: a post's fields (title, body text, code, tags, error names) →
//! one sparse TF-IDF vector. Each field has its own vocabulary, n-gram range,
//! minimum document frequency and weight; its block is L2-normalized, then
//! scaled by the weight. TF-IDF follows scikit-learn's `TfidfVectorizer`
//! (`sublinear_tf=True`, `smooth_idf=True`): tf = 1 + ln(count),
//! idf = ln((1 + n) / (1 + df)) + 1.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::tokenize::{WordChain, error_names, lower};

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

    /// Calls `f` with the words of a post this source reads, before
    /// n-grams: the text through `chain` (title, body, code), the tags
    /// lower-cased, or the error names of body and code. The one place both
    /// fitting and predicting get a post's words from.
    pub fn with_words<R>(
        self,
        doc: &Doc,
        chain: WordChain,
        f: impl FnOnce(&[Cow<'_, str>]) -> R,
    ) -> R {
        let text = match self {
            Source::Title => &doc.title,
            Source::Body => &doc.body,
            Source::Code => &doc.code,
            Source::Tags => {
                let tags: Vec<Cow<str>> = doc.tags.iter().map(|t| Cow::Owned(lower(t))).collect();
                return f(&tags);
            }
            Source::Errors => {
                let mut e = error_names(&doc.body);
                e.extend(error_names(&doc.code));
                let e: Vec<Cow<str>> = e.into_iter().map(Cow::Owned).collect();
                return f(&e);
            }
        };
        let lowered = WordChain::lower(text);
        let mut words = Vec::new();
        chain.run(&lowered, &mut words);
        f(&words)
    }
}

/// Calls `f` with each term of some words: the words, then their n-grams up
/// to `max_ngram` (joined by spaces, in a reused buffer). Fitting collects
/// them, predicting looks them up.
pub fn each_term<S: AsRef<str>>(words: &[S], max_ngram: usize, mut f: impl FnMut(&str)) {
    for w in words {
        f(w.as_ref());
    }
    let mut buf = String::new();
    for k in 2..=max_ngram {
        for w in words.windows(k) {
            buf.clear();
            for (i, part) in w.iter().enumerate() {
                if i > 0 {
                    buf.push(' ');
                }
                buf.push_str(part.as_ref());
            }
            f(&buf);
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

    /// The word chain of the field's text.
    fn chain(&self) -> WordChain {
        WordChain { stem: self.stem }
    }

    /// The field's terms of a post, with n-grams (the fit path).
    pub fn terms_of(&self, doc: &Doc) -> Vec<String> {
        self.source.with_words(doc, self.chain(), |words| {
            let mut out = Vec::new();
            each_term(words, self.max_ngram, |t| out.push(t.to_string()));
            out
        })
    }

    /// The vocabulary indexes of a post's terms, without building the terms
    /// (the classify hot path): the same words and n-grams as
    /// [`Field::terms_of`], looked up.
    fn indexes_of(&self, doc: &Doc, out: &mut Vec<u32>) {
        self.source
            .with_words(doc, self.chain(), |words| self.lookup(words, out));
    }

    /// Whether `other` reads a post the same way (source, n-grams, stemming):
    /// then the words of a post can be found once for both.
    fn reads_like(&self, other: &Field) -> bool {
        self.source == other.source && self.max_ngram == other.max_ngram && self.stem == other.stem
    }

    fn lookup(&self, words: &[Cow<'_, str>], out: &mut Vec<u32>) {
        each_term(words, self.max_ngram, |t| {
            if let Some(&i) = self.index.get(t) {
                out.push(i);
            }
        });
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

/// Words plus their n-grams up to `n`, joined by spaces ([`each_term`]).
pub fn ngrams(words: Vec<String>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    each_term(&words, n, |t| out.push(t.to_string()));
    out
}

/// All fields of a post → one vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Features {
    pub fields: Vec<Field>,
}

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
            let terms: Vec<Vec<String>> = docs.iter().map(|d| f.terms_of(d)).collect();
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
            f.indexes_of(doc, &mut idx);
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
            field.source.with_words(doc, field.chain(), |words| {
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
        let terms: Vec<String> = f.fields[0].terms_of(&doc);
        let mut idx = Vec::new();
        f.fields[0].indexes_of(&doc, &mut idx);
        assert_eq!(idx.len(), terms.len());
        // Off by default, and not written to model files then.
        let plain = Features::default_fields();
        assert!(!serde_json::to_string(&plain).unwrap().contains("stem"));
    }
}

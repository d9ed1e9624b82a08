//! The study's keyword-weighted model (Zhang et al., ISSRE 2019), as
//! study.md states it. A post counts toward each of its kinds. For each kind c
//! take the `top` (200) most frequent words of its posts after stop words;
//! θ_ic = tf(w_ic) / Σ_j tf(w_jc) over those words. A post's score for kind k
//! is Σ_i (θ_ik + α·manual_ik) · tf_post(w_i), where manual_ik is 1 for the
//! kind's manual keywords (a manual keyword outside the top words adds α
//! alone). The post goes to the highest score (ties: the earlier kind); its
//! confidence is the winning score's share of all scores.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::eval::Example;
use super::features::Doc;
use super::tokenize::words;

/// A fitted keyword model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Keyword {
    pub alpha: f64,
    pub top: usize,
    pub classes: Vec<String>,
    /// Per kind: word → weight (θ + α for manual keywords, α for manual ones
    /// outside the top words).
    pub weights: Vec<BTreeMap<String, f64>>,
}

/// A post's words: title and body through the word chain (no stemming).
fn post_words(doc: &Doc) -> Vec<String> {
    let mut w = words(&doc.title);
    w.extend(words(&doc.body));
    w
}

impl Keyword {
    /// Fits on labeled posts. `manual[c]` are kind c's manual keywords.
    pub fn fit(
        examples: &[Example],
        classes: &[String],
        manual: &[Vec<String>],
        alpha: f64,
        top: usize,
    ) -> Keyword {
        let mut tf: Vec<HashMap<String, u64>> = vec![HashMap::new(); classes.len()];
        for e in examples {
            let ws = post_words(&e.doc);
            for (c, class) in classes.iter().enumerate() {
                if e.kinds.contains(class) {
                    for w in &ws {
                        *tf[c].entry(w.clone()).or_default() += 1;
                    }
                }
            }
        }
        let weights = tf
            .into_iter()
            .enumerate()
            .map(|(c, counts)| {
                let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                ranked.truncate(top);
                let total: u64 = ranked.iter().map(|(_, n)| n).sum();
                let mut w: BTreeMap<String, f64> = ranked
                    .into_iter()
                    .map(|(word, n)| (word, n as f64 / total.max(1) as f64))
                    .collect();
                for k in manual.get(c).into_iter().flatten() {
                    *w.entry(k.to_lowercase()).or_default() += alpha;
                }
                w
            })
            .collect();
        Keyword {
            alpha,
            top,
            classes: classes.to_vec(),
            weights,
        }
    }

    /// The score of each kind.
    pub fn scores(&self, doc: &Doc) -> Vec<f64> {
        let mut tf: HashMap<String, f64> = HashMap::new();
        for w in post_words(doc) {
            *tf.entry(w).or_default() += 1.0;
        }
        self.weights
            .iter()
            .map(|w| {
                w.iter()
                    .map(|(word, theta)| theta * tf.get(word).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect()
    }

    /// The predicted kind's index and its confidence (share of all scores).
    pub fn predict(&self, doc: &Doc) -> (usize, f64) {
        let s = self.scores(doc);
        let best = super::linear::argmax(&s);
        let total: f64 = s.iter().sum();
        let top = s.get(best).copied().unwrap_or(0.0);
        (best, if total > 0.0 { top / total } else { 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(title: &str, kinds: &[&str]) -> Example {
        Example {
            site: "s".into(),
            post_id: 0,
            doc: Doc {
                title: title.into(),
                ..Doc::default()
            },
            primary: kinds[0].into(),
            kinds: kinds.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn weights_follow_the_study() {
        let examples = [
            ex("loss nan loss", &["training"]),
            ex("install cuda", &["installation", "training"]),
        ];
        let classes: Vec<String> = ["training", "installation"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let manual = vec![vec!["nan".to_string()], vec!["pip".to_string()]];
        let m = Keyword::fit(&examples, &classes, &manual, 0.18, 200);
        // training: loss 2, nan 1, install 1, cuda 1 → θ = 2/5, 1/5, 1/5, 1/5; nan + α.
        assert!((m.weights[0]["loss"] - 0.4).abs() < 1e-12);
        assert!((m.weights[0]["nan"] - (0.2 + 0.18)).abs() < 1e-12);
        // pip is outside the top words: α alone.
        assert!((m.weights[1]["pip"] - 0.18).abs() < 1e-12);
        let doc = Doc {
            title: "pip install fails".into(),
            ..Doc::default()
        };
        // installation: install 0.5 + pip 0.18 = 0.68; training: install 0.2.
        let s = m.scores(&doc);
        assert!(
            (s[1] - 0.68).abs() < 1e-12 && (s[0] - 0.2).abs() < 1e-12,
            "{s:?}"
        );
        let (best, conf) = m.predict(&doc);
        assert_eq!(best, 1);
        assert!((conf - 0.68 / 0.88).abs() < 1e-12);
    }
}

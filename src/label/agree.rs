//! Agreement between annotators: percent agreement, Cohen's kappa (two
//! annotators), Fleiss' kappa (three or more), per-category agreement, the
//! annotator-by-annotator confusion table and the disagreements. Pure
//! functions over plain data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One labeled post: each annotator's primary kind.
#[derive(Debug, Clone)]
pub struct Item {
    pub site: String,
    pub post_id: i64,
    /// Annotator → primary kind.
    pub labels: BTreeMap<String, String>,
    /// The adjudicated kind, when there is one.
    pub adjudicated: Option<String>,
    /// Annotator → root-cause codes (keys); an annotator in `labels` but not
    /// here gave none.
    pub root_causes: BTreeMap<String, Vec<String>>,
}

/// Agreement on one category, treated as "is it this kind or not".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryAgreement {
    /// Positive specific agreement: of the labels of this kind, the share
    /// that the other annotator(s) matched, 2·n_both / (n_a + n_b) for two
    /// annotators (Uebersax's generalisation for more).
    pub agreement: Option<f64>,
    /// Cohen's (two annotators) or Fleiss' (more) kappa on the yes/no labels.
    pub kappa: Option<f64>,
    /// How many labels of this kind each annotator gave, in `annotators` order.
    pub counts: Vec<u64>,
}

/// Agreement on one root-cause code, treated as "does the label carry this
/// code or not", over the posts every annotator labeled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeAgreement {
    pub code: String,
    /// Positive specific agreement, as for a category.
    pub agreement: Option<f64>,
    /// Cohen's (two annotators) or Fleiss' (more) kappa on has-code or not.
    pub kappa: Option<f64>,
    /// How many compared posts each annotator gave this code, in
    /// `annotators` order.
    pub counts: Vec<u64>,
}

/// Rows: the first annotator's labels; columns: the second's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Confusion {
    pub rows: String,
    pub columns: String,
    pub categories: Vec<String>,
    pub matrix: Vec<Vec<u64>>,
}

/// A post the annotators labeled differently.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Disagreement {
    pub site: String,
    pub post_id: i64,
    pub labels: BTreeMap<String, String>,
    pub adjudicated: Option<String>,
}

/// What `agree` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Agreement {
    /// Posts labeled by every annotator (the ones compared).
    pub items: u64,
    /// Posts labeled by some annotators only (left out).
    pub partial_items: u64,
    pub annotators: Vec<String>,
    /// Share of compared posts on which all annotators gave the same primary kind.
    pub agreement: Option<f64>,
    pub cohen_kappa: Option<f64>,
    pub fleiss_kappa: Option<f64>,
    pub per_category: BTreeMap<String, CategoryAgreement>,
    /// Per root-cause code of the study, in its order (see
    /// [`measure_with_codes`]); empty without codes (and in results stored
    /// before codes existed).
    #[serde(default)]
    pub per_root_cause: Vec<CodeAgreement>,
    pub confusion: Option<Confusion>,
    pub disagreements: Vec<Disagreement>,
}

/// Cohen's kappa of two label sequences over `k` categories (indexes), as
/// scikit-learn's `cohen_kappa_score`; `None` when chance agreement is 1.
pub fn cohen_kappa(a: &[usize], b: &[usize], k: usize) -> Option<f64> {
    let n = a.len();
    if n == 0 || n != b.len() {
        return None;
    }
    let mut pa = vec![0f64; k];
    let mut pb = vec![0f64; k];
    let mut agree = 0f64;
    for (&x, &y) in a.iter().zip(b) {
        pa[x] += 1.0;
        pb[y] += 1.0;
        if x == y {
            agree += 1.0;
        }
    }
    let n = n as f64;
    let po = agree / n;
    let pe: f64 = pa.iter().zip(&pb).map(|(x, y)| x * y).sum::<f64>() / (n * n);
    ((1.0 - pe).abs() > 1e-12).then(|| (po - pe) / (1.0 - pe))
}

/// Fleiss' kappa from per-item category counts (every item rated by the same
/// number m ≥ 2 of raters), as statsmodels' `fleiss_kappa`.
pub fn fleiss_kappa(counts: &[Vec<u64>]) -> Option<f64> {
    let n = counts.len();
    let m: u64 = counts.first()?.iter().sum();
    if n == 0 || m < 2 || counts.iter().any(|c| c.iter().sum::<u64>() != m) {
        return None;
    }
    let k = counts[0].len();
    let (nf, mf) = (n as f64, m as f64);
    let mut p_j = vec![0f64; k];
    let mut p_bar = 0.0;
    for c in counts {
        let mut agree = 0.0;
        for (j, &x) in c.iter().enumerate() {
            p_j[j] += x as f64;
            agree += (x * x.saturating_sub(1)) as f64;
        }
        p_bar += agree / (mf * (mf - 1.0));
    }
    p_bar /= nf;
    let pe: f64 = p_j.iter().map(|s| (s / (nf * mf)).powi(2)).sum();
    ((1.0 - pe).abs() > 1e-12).then(|| (p_bar - pe) / (1.0 - pe))
}

/// Measures agreement over `items`. `categories` fixes the order of the
/// confusion table; labels outside it are added after it.
pub fn measure(items: &[Item], categories: &[String]) -> Agreement {
    let mut annotators: Vec<String> = items
        .iter()
        .flat_map(|i| i.labels.keys().cloned())
        .collect();
    annotators.sort();
    annotators.dedup();
    let mut cats: Vec<String> = categories.to_vec();
    for i in items {
        for l in i.labels.values() {
            if !cats.contains(l) {
                cats.push(l.clone());
            }
        }
    }
    let index = |l: &str| cats.iter().position(|c| c == l).unwrap_or(0);
    let full: Vec<&Item> = items
        .iter()
        .filter(|i| annotators.iter().all(|a| i.labels.contains_key(a)))
        .collect();
    let m = annotators.len();
    // labels[r][i]: annotator r's category index on compared item i.
    let labels: Vec<Vec<usize>> = annotators
        .iter()
        .map(|a| full.iter().map(|i| index(&i.labels[a])).collect())
        .collect();
    let n = full.len();
    let same = (0..n)
        .filter(|&i| labels.iter().all(|l| l[i] == labels[0][i]))
        .count();
    let agreement = (n > 0 && m >= 2).then(|| same as f64 / n as f64);
    let counts_of = |item: usize, k: usize, binary: Option<usize>| -> Vec<u64> {
        let mut c = vec![0u64; k];
        for l in &labels {
            let x = match binary {
                Some(cat) => usize::from(l[item] != cat),
                None => l[item],
            };
            c[x] += 1;
        }
        c
    };
    let (cohen, fleiss) = match m {
        2 => (cohen_kappa(&labels[0], &labels[1], cats.len()), None),
        m if m >= 3 => (
            None,
            fleiss_kappa(
                &(0..n)
                    .map(|i| counts_of(i, cats.len(), None))
                    .collect::<Vec<_>>(),
            ),
        ),
        _ => (None, None),
    };
    let mut per_category = BTreeMap::new();
    for (c, key) in cats.iter().enumerate() {
        let counts: Vec<u64> = labels
            .iter()
            .map(|l| l.iter().filter(|&&x| x == c).count() as u64)
            .collect();
        // Uebersax: sum over items of n_ic (n_ic − 1) over sum of n_ic (m − 1).
        let (mut num, mut den) = (0u64, 0u64);
        for i in 0..n {
            let nic = labels.iter().filter(|l| l[i] == c).count() as u64;
            num += nic * nic.saturating_sub(1);
            den += nic * (m as u64).saturating_sub(1);
        }
        let kappa = match m {
            2 => {
                let yes =
                    |l: &Vec<usize>| l.iter().map(|&x| usize::from(x == c)).collect::<Vec<_>>();
                cohen_kappa(&yes(&labels[0]), &yes(&labels[1]), 2)
            }
            m if m >= 3 => {
                fleiss_kappa(&(0..n).map(|i| counts_of(i, 2, Some(c))).collect::<Vec<_>>())
            }
            _ => None,
        };
        per_category.insert(
            key.clone(),
            CategoryAgreement {
                agreement: (den > 0).then(|| num as f64 / den as f64),
                kappa,
                counts,
            },
        );
    }
    let confusion = (m >= 2).then(|| {
        let mut matrix = vec![vec![0u64; cats.len()]; cats.len()];
        for i in 0..n {
            matrix[labels[0][i]][labels[1][i]] += 1;
        }
        Confusion {
            rows: annotators[0].clone(),
            columns: annotators[1].clone(),
            categories: cats.clone(),
            matrix,
        }
    });
    let disagreements = full
        .iter()
        .enumerate()
        .filter(|&(i, _)| labels.iter().any(|l| l[i] != labels[0][i]))
        .map(|(_, item)| Disagreement {
            site: item.site.clone(),
            post_id: item.post_id,
            labels: item.labels.clone(),
            adjudicated: item.adjudicated.clone(),
        })
        .collect();
    Agreement {
        items: n as u64,
        partial_items: (items.len() - n) as u64,
        annotators,
        agreement,
        cohen_kappa: cohen,
        fleiss_kappa: fleiss,
        per_category,
        per_root_cause: Vec::new(),
        confusion,
        disagreements,
    }
}

/// Positive specific agreement (Uebersax: Σ n_i(n_i − 1) / Σ n_i(m − 1),
/// 2·both / (n_a + n_b) for two raters) and kappa (Cohen's for two raters,
/// Fleiss' for more) of yes/no decisions; `yes[r][i]`: rater r said yes on
/// item i.
fn binary_agreement(yes: &[Vec<bool>]) -> (Option<f64>, Option<f64>, Vec<u64>) {
    let m = yes.len();
    let n = yes.first().map_or(0, Vec::len);
    let counts: Vec<u64> = yes
        .iter()
        .map(|r| r.iter().filter(|&&y| y).count() as u64)
        .collect();
    let (mut num, mut den) = (0u64, 0u64);
    for i in 0..n {
        let ni = yes.iter().filter(|r| r[i]).count() as u64;
        num += ni * ni.saturating_sub(1);
        den += ni * (m as u64).saturating_sub(1);
    }
    let as_index = |r: &Vec<bool>| r.iter().map(|&y| usize::from(y)).collect::<Vec<_>>();
    let kappa = match m {
        2 => cohen_kappa(&as_index(&yes[0]), &as_index(&yes[1]), 2),
        m if m >= 3 => fleiss_kappa(
            &(0..n)
                .map(|i| {
                    let y = yes.iter().filter(|r| r[i]).count() as u64;
                    vec![m as u64 - y, y]
                })
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    ((den > 0).then(|| num as f64 / den as f64), kappa, counts)
}

/// [`measure`], plus agreement per root-cause code (`codes`: the study's
/// keys, in its order) over the posts every annotator labeled.
pub fn measure_with_codes(items: &[Item], categories: &[String], codes: &[String]) -> Agreement {
    let mut a = measure(items, categories);
    let full: Vec<&Item> = items
        .iter()
        .filter(|i| a.annotators.iter().all(|r| i.labels.contains_key(r)))
        .collect();
    a.per_root_cause = codes
        .iter()
        .map(|code| {
            let yes: Vec<Vec<bool>> = a
                .annotators
                .iter()
                .map(|r| {
                    full.iter()
                        .map(|i| i.root_causes.get(r).is_some_and(|c| c.contains(code)))
                        .collect()
                })
                .collect();
            let (agreement, kappa, counts) = binary_agreement(&yes);
            CodeAgreement {
                code: code.clone(),
                agreement,
                kappa,
                counts,
            }
        })
        .collect();
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, labels: &[(&str, &str)]) -> Item {
        Item {
            site: "s".into(),
            post_id: id,
            labels: labels
                .iter()
                .map(|(a, l)| (a.to_string(), l.to_string()))
                .collect(),
            adjudicated: None,
            root_causes: BTreeMap::new(),
        }
    }

    #[test]
    fn cohen_matches_scikit_learn() {
        // sklearn.metrics.cohen_kappa_score([0,0,1,1,2,2,0,1], [0,1,1,1,2,0,0,1])
        // = 0.6097560975609756
        let a = [0, 0, 1, 1, 2, 2, 0, 1];
        let b = [0, 1, 1, 1, 2, 0, 0, 1];
        let k = cohen_kappa(&a, &b, 3).unwrap();
        assert!((k - 0.609_756_097_560_975_6).abs() < 1e-12, "{k}");
        assert_eq!(cohen_kappa(&[1, 1], &[1, 1], 2), None);
    }

    #[test]
    fn fleiss_matches_statsmodels() {
        // statsmodels.stats.inter_rater.fleiss_kappa(
        //   [[3,0,0],[0,3,0],[1,2,0],[0,1,2],[2,0,1]]) = 0.37500000000000006
        let t = vec![
            vec![3, 0, 0],
            vec![0, 3, 0],
            vec![1, 2, 0],
            vec![0, 1, 2],
            vec![2, 0, 1],
        ];
        let k = fleiss_kappa(&t).unwrap();
        assert!((k - 0.375).abs() < 1e-12, "{k}");
        assert_eq!(fleiss_kappa(&[vec![2, 0], vec![1, 2]]), None);
    }

    #[test]
    fn measure_two_and_three_annotators() {
        let cats: Vec<String> = ["crash", "training"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let items = vec![
            item(1, &[("a", "crash"), ("b", "crash")]),
            item(2, &[("a", "crash"), ("b", "training")]),
            item(3, &[("a", "training"), ("b", "training")]),
            item(4, &[("a", "training")]),
        ];
        let r = measure(&items, &cats);
        assert_eq!(r.items, 3);
        assert_eq!(r.partial_items, 1);
        assert_eq!(r.annotators, ["a", "b"]);
        assert!((r.agreement.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        // sklearn cohen_kappa_score([0,0,1],[0,1,1]) = 0.4
        assert!((r.cohen_kappa.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(r.fleiss_kappa, None);
        let crash = &r.per_category["crash"];
        assert!((crash.agreement.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(crash.counts, [2, 1]);
        assert_eq!(r.confusion.as_ref().unwrap().matrix, [[1, 1], [0, 1]]);
        assert_eq!(r.disagreements.len(), 1);
        assert_eq!(r.disagreements[0].post_id, 2);

        let three = vec![
            item(1, &[("a", "crash"), ("b", "crash"), ("c", "crash")]),
            item(2, &[("a", "crash"), ("b", "training"), ("c", "training")]),
            item(
                3,
                &[("a", "training"), ("b", "training"), ("c", "training")],
            ),
        ];
        let r = measure(&three, &cats);
        assert_eq!(r.cohen_kappa, None);
        // statsmodels fleiss_kappa([[3,0],[1,2],[0,3]]) = 0.5499999999999998
        assert!((r.fleiss_kappa.unwrap() - 0.55).abs() < 1e-12);
    }

    #[test]
    fn per_code_agreement_is_the_per_category_rule_on_has_code() {
        let codes: Vec<String> = ["gpu", "api"].iter().map(|s| s.to_string()).collect();
        let with = |id, a: &[&str], b: &[&str]| {
            let mut i = item(id, &[("a", "crash"), ("b", "crash")]);
            i.root_causes
                .insert("a".into(), a.iter().map(|s| s.to_string()).collect());
            i.root_causes
                .insert("b".into(), b.iter().map(|s| s.to_string()).collect());
            i
        };
        let items = vec![
            with(1, &["gpu"], &["gpu"]),
            with(2, &["gpu", "api"], &["api"]),
            with(3, &[], &["gpu"]),
            with(4, &[], &[]),
        ];
        let r = measure_with_codes(&items, &["crash".to_string()], &codes);
        let gpu = &r.per_root_cause[0];
        assert_eq!(gpu.code, "gpu");
        assert_eq!(gpu.counts, [2, 2]);
        // 2·1 / (2 + 2); sklearn cohen_kappa_score([1,1,0,0],[1,0,1,0]) = 0.0
        assert!((gpu.agreement.unwrap() - 0.5).abs() < 1e-12);
        assert!(gpu.kappa.unwrap().abs() < 1e-12);
        // api: [0,1,0,0] vs [0,1,0,0]: perfect.
        assert_eq!(r.per_root_cause[1].agreement, Some(1.0));
        assert_eq!(r.per_root_cause[1].kappa, Some(1.0));
    }
}

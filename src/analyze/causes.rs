//! Root causes per kind (the study's RQ3) from the root-cause codes of the
//! labeled posts.
//!
//! One post counts once, whatever the sets and annotators that labeled it:
//! - its kind and codes are its final label's (adjudicated or imported; the
//!   first set by name when several sets have one), the codes falling back
//!   to the annotators' when the final label carries none;
//! - without a final label, its codes are every code any annotator gave it
//!   (a post counts once per code), its kind the annotators' common primary
//!   kind, or none when they differ.
//!
//! Shares are over the coded posts (a post with at least one code of the
//! study) of the group, with 95% Wilson intervals; a post with several codes
//! counts for each, so shares can sum above 100%.

use std::collections::{BTreeMap, BTreeSet};

use super::inference::{Interval, wilson};

/// One label's kind and codes, as the store gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelCodes {
    pub set: String,
    pub site: String,
    pub post_id: i64,
    pub is_final: bool,
    pub kind: String,
    /// `;`-separated codes.
    pub codes: String,
}

/// How many posts carry a code, of how many coded posts.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseCount {
    pub cause: String,
    pub posts: u64,
    pub share: Option<f64>,
    pub interval: Option<Interval>,
}

/// The root causes of one kind (`None`: annotators' kinds differ and no
/// final label decides).
#[derive(Debug, Clone, PartialEq)]
pub struct KindCauses {
    pub kind: Option<String>,
    pub coded: u64,
    pub causes: Vec<CauseCount>,
}

/// RQ3's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseSummary {
    /// Posts with any label.
    pub labeled: u64,
    /// Posts with at least one code of the study.
    pub coded: u64,
    /// Over all coded posts, in the study's order of codes.
    pub overall: Vec<CauseCount>,
    /// Per kind, in the study's order of kinds, then the undecided.
    pub by_kind: Vec<KindCauses>,
    /// Up to three example posts (site, Id) per cause: the lowest Ids.
    pub examples: Vec<(String, Vec<crate::PostKey>)>,
    /// Codes found in labels that are not the study's, with their posts.
    pub unknown: Vec<(String, u64)>,
    /// Posts resolved by their final label.
    pub from_final: u64,
}

/// A post resolved: (site, Id), its kind, its codes.
type Resolved<'a> = ((&'a str, i64), Option<&'a str>, BTreeSet<&'a str>);

fn split(codes: &str) -> impl Iterator<Item = &str> {
    codes.split(';').map(str::trim).filter(|c| !c.is_empty())
}

/// Resolves every post's kind and codes (rule in the module doc) and counts.
pub fn summarize(labels: &[LabelCodes], causes: &[String], kinds: &[String]) -> CauseSummary {
    struct Post<'a> {
        final_label: Option<&'a LabelCodes>,
        kinds: BTreeSet<&'a str>,
        codes: BTreeSet<&'a str>,
    }
    let mut posts: BTreeMap<(&str, i64), Post> = BTreeMap::new();
    // Sorted by set name, so the first final label met is the first set's.
    let mut sorted: Vec<&LabelCodes> = labels.iter().collect();
    sorted.sort_by(|a, b| (&a.set, &a.site, a.post_id).cmp(&(&b.set, &b.site, b.post_id)));
    for l in sorted {
        let p = posts
            .entry((l.site.as_str(), l.post_id))
            .or_insert_with(|| Post {
                final_label: None,
                kinds: BTreeSet::new(),
                codes: BTreeSet::new(),
            });
        if l.is_final {
            if p.final_label.is_none() {
                p.final_label = Some(l);
            }
        } else {
            p.kinds.insert(l.kind.as_str());
            p.codes.extend(split(&l.codes));
        }
    }
    let known: BTreeSet<&str> = causes.iter().map(String::as_str).collect();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut from_final = 0;
    for (key, p) in &posts {
        let (kind, codes) = match p.final_label {
            Some(f) => {
                from_final += 1;
                let own: BTreeSet<&str> = split(&f.codes).collect();
                (
                    Some(f.kind.as_str()),
                    if own.is_empty() { p.codes.clone() } else { own },
                )
            }
            None => (
                (p.kinds.len() == 1)
                    .then(|| p.kinds.iter().next().copied())
                    .flatten(),
                p.codes.clone(),
            ),
        };
        for c in codes.iter().filter(|c| !known.contains(*c)) {
            *unknown.entry(c.to_string()).or_default() += 1;
        }
        let codes: BTreeSet<&str> = codes.into_iter().filter(|c| known.contains(c)).collect();
        resolved.push((*key, kind, codes));
    }
    let count = |group: &[&BTreeSet<&str>]| -> Vec<CauseCount> {
        let n = group.len() as u64;
        causes
            .iter()
            .map(|c| {
                let k = group.iter().filter(|s| s.contains(c.as_str())).count() as u64;
                CauseCount {
                    cause: c.clone(),
                    posts: k,
                    share: (n > 0).then(|| k as f64 / n as f64),
                    interval: wilson(k, n, 0.95),
                }
            })
            .collect()
    };
    let coded: Vec<&Resolved> = resolved.iter().filter(|(_, _, c)| !c.is_empty()).collect();
    let all: Vec<&BTreeSet<&str>> = coded.iter().map(|(_, _, c)| c).collect();
    let mut by_kind = Vec::new();
    let groups = kinds.iter().map(|k| Some(k.as_str())).chain([None]);
    for g in groups {
        let members: Vec<&BTreeSet<&str>> = coded
            .iter()
            .filter(|(_, k, _)| match g {
                // A kind that is not the study's counts as undecided.
                Some(g) => *k == Some(g),
                None => k.is_none_or(|k| !kinds.iter().any(|x| x == k)),
            })
            .map(|(_, _, c)| c)
            .collect();
        if g.is_none() && members.is_empty() {
            continue;
        }
        by_kind.push(KindCauses {
            kind: g.map(str::to_string),
            coded: members.len() as u64,
            causes: count(&members),
        });
    }
    let examples = causes
        .iter()
        .map(|c| {
            let mut ex: Vec<crate::PostKey> = coded
                .iter()
                .filter(|(_, _, s)| s.contains(c.as_str()))
                .map(|((site, id), _, _)| crate::PostKey::new(*site, *id))
                .collect();
            ex.sort_by(|a, b| (a.id, &a.site).cmp(&(b.id, &b.site)));
            ex.truncate(3);
            (c.clone(), ex)
        })
        .collect();
    CauseSummary {
        labeled: posts.len() as u64,
        coded: coded.len() as u64,
        overall: count(&all),
        by_kind,
        examples,
        unknown: unknown.into_iter().collect(),
        from_final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(set: &str, id: i64, fin: bool, kind: &str, codes: &str) -> LabelCodes {
        LabelCodes {
            set: set.into(),
            site: "s".into(),
            post_id: id,
            is_final: fin,
            kind: kind.into(),
            codes: codes.into(),
        }
    }

    #[test]
    fn final_labels_decide_else_the_annotators_union() {
        let causes = vec!["api".to_string(), "gpu".into(), "other".into()];
        let kinds = vec!["crash".to_string(), "training".into()];
        let labels = vec![
            // Post 1: final label (crash, gpu) beats the annotators.
            l("a", 1, false, "training", "api"),
            l("a", 1, true, "crash", "gpu"),
            // Post 2: annotators agree on crash; union of codes, once each.
            l("a", 2, false, "crash", "api;gpu"),
            l("a", 2, false, "crash", "api"),
            // Post 3: kinds differ, no final label: undecided.
            l("a", 3, false, "crash", "other"),
            l("a", 3, false, "training", ""),
            // Post 4: final label without codes: the annotators' codes.
            l("b", 4, true, "training", ""),
            l("b", 4, false, "crash", "api;bogus"),
            // Post 5: labeled, no code.
            l("b", 5, false, "crash", ""),
        ];
        let s = summarize(&labels, &causes, &kinds);
        assert_eq!(s.labeled, 5);
        assert_eq!(s.coded, 4);
        assert_eq!(s.from_final, 2);
        let overall: Vec<u64> = s.overall.iter().map(|c| c.posts).collect();
        assert_eq!(overall, [2, 2, 1]);
        assert_eq!(s.by_kind.len(), 3);
        assert_eq!(s.by_kind[0].kind.as_deref(), Some("crash"));
        assert_eq!(s.by_kind[0].coded, 2);
        let crash: Vec<u64> = s.by_kind[0].causes.iter().map(|c| c.posts).collect();
        assert_eq!(crash, [1, 2, 0]);
        assert_eq!(s.by_kind[1].coded, 1);
        assert_eq!(s.by_kind[2].kind, None);
        assert_eq!(s.by_kind[2].coded, 1);
        assert_eq!(s.unknown, [("bogus".to_string(), 1)]);
        assert_eq!(
            s.examples[0].1,
            [crate::PostKey::new("s", 2), crate::PostKey::new("s", 4)]
        );
        assert_eq!(s.overall[0].share, Some(0.5));
    }
}

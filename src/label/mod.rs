//! Label sets: CSV import and export, and agreement between annotators.
//!
//! A label set holds each annotator's labels of posts (primary kind,
//! secondary kinds, note, root cause) and, per post, a final label: the
//! adjudicated one, or one imported as final. Labels given on a batch in the
//! web UI form the set of the batch's name.

pub mod agree;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::store::{FinalLabel, LabelRow, Store, StoreError};

/// Errors of label import and export.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {message}", path.display())]
    Csv { path: PathBuf, message: String },
    #[error("{} line {line}: {message}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: {count} labeled posts are not in the study (ingest their dumps first): {list}", path.display())]
    MissingPosts {
        path: PathBuf,
        count: usize,
        list: String,
    },
    #[error("no label set named {0:?}")]
    NoSet(String),
}

/// Names of annotators, batches and label sets: 1–64 of `A-Z a-z 0-9 _ . -`
/// (they appear in URLs and file names).
pub fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// What a CSV file held, resolved against the study.
#[derive(Debug, Default)]
pub struct Imported {
    pub labels: Vec<LabelRow>,
    pub finals: Vec<FinalLabel>,
    pub annotators: Vec<String>,
    pub rows: usize,
}

/// Reads a label CSV with the columns of the shared `dl-questions.csv`:
/// `post_id`, `primary`, `secondary` (`;`-separated), optional
/// `annotator_NAME` columns, and the site in `site` or `dump`. Without a site
/// column a post Id must be unique in the study. Other columns are ignored.
/// Kinds must be categories of the study; posts must be in the study.
pub fn read_csv<R: Read>(
    path: &Path,
    input: R,
    set: &str,
    categories: &[String],
    store: &Store,
) -> Result<Imported, LabelError> {
    let csv_err = |message: String| LabelError::Csv {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| csv_err(e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let post_col = col("post_id").ok_or_else(|| csv_err("no post_id column".into()))?;
    let primary_col = col("primary");
    let secondary_col = col("secondary");
    let site_col = col("site").or_else(|| col("dump"));
    let annotator_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            h.trim()
                .strip_prefix("annotator_")
                .filter(|n| !n.is_empty())
                .map(|n| (i, n.to_string()))
        })
        .collect();
    if primary_col.is_none() && annotator_cols.is_empty() {
        return Err(csv_err(
            "no primary or annotator_NAME column: nothing to import".into(),
        ));
    }
    let mut out = Imported {
        annotators: annotator_cols.iter().map(|(_, n)| n.clone()).collect(),
        ..Imported::default()
    };
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let row_err = |message: String| LabelError::Row {
            path: path.to_path_buf(),
            line,
            message,
        };
        let record = record.map_err(|e| row_err(e.to_string()))?;
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        let id_text = field(Some(post_col));
        let id: i64 = id_text
            .parse()
            .map_err(|_| row_err(format!("post_id {id_text:?} is not a number")))?;
        let kind = |k: &str| -> Result<String, LabelError> {
            if categories.iter().any(|c| c == k) {
                Ok(k.to_string())
            } else {
                Err(row_err(format!(
                    "unknown category {k:?} (the study's categories: {})",
                    categories.join(", ")
                )))
            }
        };
        let site = match site_col.map(|c| field(Some(c))).filter(|s| !s.is_empty()) {
            Some(site) => {
                if !store.has_question(site, id)? {
                    missing.push(format!("{site}/{id}"));
                    continue;
                }
                site.to_string()
            }
            None => {
                let sites = store.sites_with_question(id)?;
                match sites.len() {
                    0 => {
                        missing.push(id.to_string());
                        continue;
                    }
                    1 => sites[0].clone(),
                    _ => {
                        return Err(row_err(format!(
                            "post {id} is in several sites ({}); add a site column",
                            sites.join(", ")
                        )));
                    }
                }
            }
        };
        if !seen.insert((site.clone(), id)) {
            return Err(row_err(format!("post {site}/{id} is listed twice")));
        }
        out.rows += 1;
        let secondary = crate::store::split_kinds(field(secondary_col))
            .iter()
            .map(|k| kind(k))
            .collect::<Result<Vec<_>, _>>()?;
        let primary = field(primary_col);
        if !primary.is_empty() {
            out.finals.push(FinalLabel {
                site: site.clone(),
                post_id: id,
                primary: kind(primary)?,
                secondary,
                decided_by: "import".into(),
                note: String::new(),
            });
        }
        for (c, name) in &annotator_cols {
            let value = field(Some(*c));
            if value.is_empty() {
                continue;
            }
            out.labels.push(LabelRow {
                set_name: set.to_string(),
                site: site.clone(),
                post_id: id,
                annotator: name.clone(),
                primary: kind(value)?,
                secondary: Vec::new(),
                note: String::new(),
                root_cause: String::new(),
            });
        }
    }
    if !missing.is_empty() {
        let count = missing.len();
        missing.truncate(20);
        let more = if count > 20 { ", …" } else { "" };
        return Err(LabelError::MissingPosts {
            path: path.to_path_buf(),
            count,
            list: format!("{}{more}", missing.join(", ")),
        });
    }
    Ok(out)
}

/// One post's labels in a set, gathered.
#[derive(Debug, Clone, Default)]
pub struct PostLabels {
    pub by_annotator: BTreeMap<String, LabelRow>,
    pub final_label: Option<FinalLabel>,
}

impl PostLabels {
    /// The post's label for training and export: the final one, else the one
    /// all annotators gave; `None` while they disagree unadjudicated.
    pub fn resolved(&self) -> Option<(String, Vec<String>)> {
        if let Some(f) = &self.final_label {
            return Some((f.primary.clone(), f.secondary.clone()));
        }
        let mut primaries = self.by_annotator.values().map(|l| &l.primary);
        let first = primaries.next()?;
        if !primaries.all(|p| p == first) {
            return None;
        }
        let mut secondary: Vec<String> = Vec::new();
        for l in self.by_annotator.values() {
            for k in &l.secondary {
                if k != first && !secondary.contains(k) {
                    secondary.push(k.clone());
                }
            }
        }
        Some((first.clone(), secondary))
    }
}

/// The labels of a set, by (site, post Id).
pub fn gather(store: &Store, set: &str) -> Result<BTreeMap<(String, i64), PostLabels>, LabelError> {
    if !store.label_set_exists(set)? {
        return Err(LabelError::NoSet(set.to_string()));
    }
    let mut posts: BTreeMap<(String, i64), PostLabels> = BTreeMap::new();
    for l in store.labels(set)? {
        posts
            .entry((l.site.clone(), l.post_id))
            .or_default()
            .by_annotator
            .insert(l.annotator.clone(), l);
    }
    for f in store.final_labels(set)? {
        let key = (f.site.clone(), f.post_id);
        posts.entry(key).or_default().final_label = Some(f);
    }
    Ok(posts)
}

/// Writes a set as CSV: `site,post_id,primary,secondary,annotator_NAME…`,
/// rows by site and post Id. `primary` is the resolved label (empty while
/// annotators disagree unadjudicated); `secondary` the final label's, else
/// the union of the annotators'. Reading it back gives the same set.
pub fn write_csv<W: Write>(
    posts: &BTreeMap<(String, i64), PostLabels>,
    out: W,
) -> Result<(), csv::Error> {
    let annotators: BTreeSet<&String> =
        posts.values().flat_map(|p| p.by_annotator.keys()).collect();
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "site".to_string(),
        "post_id".into(),
        "primary".into(),
        "secondary".into(),
    ];
    header.extend(annotators.iter().map(|a| format!("annotator_{a}")));
    w.write_record(&header)?;
    for ((site, id), p) in posts {
        let (primary, secondary) = match p.resolved() {
            Some((primary, secondary)) => (primary, secondary),
            None => {
                let mut union: Vec<String> = Vec::new();
                for l in p.by_annotator.values() {
                    for k in &l.secondary {
                        if !union.contains(k) {
                            union.push(k.clone());
                        }
                    }
                }
                (String::new(), union)
            }
        };
        let mut record = vec![site.clone(), id.to_string(), primary, secondary.join(";")];
        record.extend(annotators.iter().map(|a| {
            p.by_annotator
                .get(*a)
                .map(|l| l.primary.clone())
                .unwrap_or_default()
        }));
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

/// The items `agree` compares: each post's annotator labels and final label.
pub fn agreement_items(posts: &BTreeMap<(String, i64), PostLabels>) -> Vec<agree::Item> {
    posts
        .iter()
        .filter(|(_, p)| !p.by_annotator.is_empty())
        .map(|((site, id), p)| agree::Item {
            site: site.clone(),
            post_id: *id,
            labels: p
                .by_annotator
                .iter()
                .map(|(a, l)| (a.clone(), l.primary.clone()))
                .collect(),
            adjudicated: p.final_label.as_ref().map(|f| f.primary.clone()),
        })
        .collect()
}

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

use crate::PostKey;
use crate::limits::{MAX_LABEL_CSV_BYTES as MAX_CSV_BYTES, MAX_LABEL_RECORD_BYTES};
use crate::store::{FinalLabel, LabelRow, Store, StoreError};

/// A label CSV, as size errors name it.
const CSV_WHAT: &str = "a label CSV";

/// Errors of label import and export.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open {}: {err}", path.display())]
    Open { path: PathBuf, err: std::io::Error },
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

/// The rule for names of annotators, batches, label sets and models, as
/// every message states it.
pub const NAME_RULE: &str = "1–64 letters, digits, '_', '.' or '-'";

/// Names of annotators, batches, label sets and models: 1–64 of
/// `A-Z a-z 0-9 _ . -` (they appear in URLs, file names and reports).
pub fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a name against [`NAME_RULE`]; the error says which name (`what`:
/// "label set", "annotator", …) and the rule.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    if valid_name(name) {
        return Ok(());
    }
    let shown: String = name.chars().take(70).collect();
    let more = if name.chars().count() > 70 { "…" } else { "" };
    Err(format!(
        "{what} name {shown:?}{more} is not valid: a name is {NAME_RULE}"
    ))
}

/// The longest field a label CSV may have: kinds, names and Ids are short.
pub const MAX_FIELD_BYTES: usize = 4096;

/// A CSV reading error in words, without the csv crate's position prefix
/// (the caller names the line).
fn csv_words(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "field {} is not valid UTF-8 (near byte {})",
            err.field() + 1,
            err.valid_up_to()
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("it has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => e.to_string(),
    }
}

/// The line of a CSV error, when it knows it.
fn csv_line(e: &csv::Error) -> Option<u64> {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos: Some(p), .. }
        | csv::ErrorKind::UnequalLengths { pos: Some(p), .. } => Some(p.line()),
        _ => None,
    }
}

/// A field for a message: quoted, at most 40 characters.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// A post Id: a positive integer of at most 18 digits, nothing else.
fn post_id(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&id| id > 0)
}

/// What a CSV file held, resolved against the study.
#[derive(Debug, Default)]
pub struct Imported {
    pub labels: Vec<LabelRow>,
    pub finals: Vec<FinalLabel>,
    pub annotators: Vec<String>,
    pub rows: usize,
}

/// Opens and reads a label CSV file with [`read_csv`]; a file larger than
/// [`crate::limits::MAX_LABEL_CSV_BYTES`] is refused before reading.
pub fn read_csv_file(
    path: &Path,
    set: &str,
    categories: &[String],
    codes: &[String],
    store: &Store,
) -> Result<Imported, LabelError> {
    let open_err = |err| LabelError::Open {
        path: path.to_path_buf(),
        err,
    };
    let file = std::fs::File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_file() && meta.len() > MAX_CSV_BYTES {
        return Err(LabelError::Csv {
            path: path.to_path_buf(),
            message: crate::limits::too_large(CSV_WHAT, MAX_CSV_BYTES).to_string(),
        });
    }
    read_csv_coded(path, file, set, categories, codes, store)
}

/// Reads a label CSV with the columns of the shared `dl-questions.csv`:
/// `post_id`, `primary`, `secondary` (`;`-separated), optional
/// `annotator_NAME` columns, and the site in `site` or `dump`. Without a site
/// column a post Id must be unique in the study. Other columns are ignored.
/// Kinds must be categories of the study; posts must be in the study.
/// Memory stays bounded whatever the input: it is read at most
/// [`crate::limits::MAX_LABEL_CSV_BYTES`] in all and
/// [`crate::limits::MAX_LABEL_RECORD_BYTES`] a row. A study without
/// root-cause codes: see [`read_csv_coded`].
pub fn read_csv<R: Read>(
    path: &Path,
    input: R,
    set: &str,
    categories: &[String],
    store: &Store,
) -> Result<Imported, LabelError> {
    read_csv_coded(path, input, set, categories, &[], store)
}

/// [`read_csv`] with the study's root-cause codes (keys, in the study's
/// order): an optional `root_causes` column gives the final label's codes and
/// `root_causes_NAME` annotator NAME's (`;`-separated keys, each a key of
/// `codes`, stored once each in the study's order). Without these columns
/// labels carry no codes.
pub fn read_csv_coded<R: Read>(
    path: &Path,
    input: R,
    set: &str,
    categories: &[String],
    codes: &[String],
    store: &Store,
) -> Result<Imported, LabelError> {
    let csv_err = |message: String| LabelError::Csv {
        path: path.to_path_buf(),
        message,
    };
    let (input, record_start) =
        crate::limits::Bounded::new(input, MAX_CSV_BYTES, MAX_LABEL_RECORD_BYTES, CSV_WHAT);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(match csv_line(&e) {
                Some(line) => LabelError::Row {
                    path: path.to_path_buf(),
                    line,
                    message: csv_words(&e),
                },
                None => csv_err(csv_words(&e)),
            });
        }
    };
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(csv_err(
            "the file is empty: a label CSV starts with a header line (post_id,primary,…)".into(),
        ));
    }
    let names: Vec<&str> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim()
        })
        .collect();
    if let Some(long) = names.iter().find(|h| h.len() > MAX_FIELD_BYTES) {
        return Err(csv_err(format!(
            "a column name is {} bytes long (at most {MAX_FIELD_BYTES})",
            long.len()
        )));
    }
    let mut twice: Vec<&str> = Vec::new();
    for (i, h) in names.iter().enumerate() {
        if !h.is_empty() && names[..i].contains(h) && !twice.contains(h) {
            twice.push(h);
        }
    }
    if !twice.is_empty() {
        return Err(csv_err(format!(
            "columns used more than once: {}",
            twice.join(", ")
        )));
    }
    if names.contains(&"site") && names.contains(&"dump") {
        return Err(csv_err(
            "both a site and a dump column: give the site in one of them".into(),
        ));
    }
    let col = |name: &str| names.iter().position(|h| *h == name);
    let post_col = col("post_id").ok_or_else(|| csv_err("no post_id column".into()))?;
    let primary_col = col("primary");
    let secondary_col = col("secondary");
    let site_col = col("site").or_else(|| col("dump"));
    let codes_col = col("root_causes");
    let mut annotator_cols: Vec<(usize, String)> = Vec::new();
    for (i, h) in names.iter().enumerate() {
        if let Some(n) = h.strip_prefix("annotator_") {
            check_name("annotator", n).map_err(|m| csv_err(format!("column {}: {m}", i + 1)))?;
            annotator_cols.push((i, n.to_string()));
        }
    }
    // root_causes_NAME: annotator NAME's codes, beside their annotator_NAME.
    let mut annotator_codes: BTreeMap<String, usize> = BTreeMap::new();
    for (i, h) in names.iter().enumerate() {
        if let Some(n) = h.strip_prefix("root_causes_") {
            check_name("annotator", n).map_err(|m| csv_err(format!("column {}: {m}", i + 1)))?;
            if !annotator_cols.iter().any(|(_, a)| a == n) {
                return Err(csv_err(format!(
                    "column {} ({h}) has no annotator_{n} column beside it",
                    i + 1
                )));
            }
            annotator_codes.insert(n.to_string(), i);
        }
    }
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
    for i in 0u64.. {
        let line = i + 2;
        // The reader stops a row that grows past its bound from here.
        record_start.set(reader.position().byte());
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(LabelError::Row {
                    path: path.to_path_buf(),
                    line: csv_line(&e).unwrap_or(line),
                    message: csv_words(&e),
                });
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let row_err = |message: String| LabelError::Row {
            path: path.to_path_buf(),
            line,
            message,
        };
        if let Some((c, f)) = record
            .iter()
            .enumerate()
            .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
        {
            return Err(row_err(format!(
                "field {} is {} bytes long (at most {MAX_FIELD_BYTES})",
                c + 1,
                f.len()
            )));
        }
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        let id_text = field(Some(post_col));
        let id = post_id(id_text).ok_or_else(|| {
            row_err(if id_text.parse::<f64>().is_ok() {
                format!(
                    "post_id {} is not a post Id (a positive whole number of at most 18 digits)",
                    shown(id_text)
                )
            } else {
                format!("post_id {} is not a number", shown(id_text))
            })
        })?;
        // A `;`-separated list of root-cause codes, checked and put in the
        // study's order.
        let code_list = |column: &str, text: &str| -> Result<Vec<String>, LabelError> {
            let given = crate::store::split_kinds(text);
            if let Some(bad) = given.iter().find(|k| !codes.contains(k)) {
                return Err(row_err(if codes.is_empty() {
                    format!(
                        "{column}: unknown root-cause code {} (the study has no [[root_causes]])",
                        shown(bad)
                    )
                } else {
                    format!(
                        "{column}: unknown root-cause code {} (the study's codes: {})",
                        shown(bad),
                        codes.join(", ")
                    )
                }));
            }
            Ok(codes
                .iter()
                .filter(|c| given.contains(c))
                .cloned()
                .collect())
        };
        let kind = |k: &str| -> Result<String, LabelError> {
            if categories.iter().any(|c| c == k) {
                Ok(k.to_string())
            } else {
                Err(row_err(format!(
                    "unknown category {} (the study's categories: {})",
                    shown(k),
                    categories.join(", ")
                )))
            }
        };
        let site = match site_col.map(|c| field(Some(c))).filter(|s| !s.is_empty()) {
            Some(site) => {
                if !store.has_question(site, id)? {
                    let cut: String = site.chars().take(40).collect();
                    let more = if cut.len() < site.len() { "…" } else { "" };
                    missing.push(format!("{cut}{more}/{id}"));
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
        let final_codes = code_list("root_causes", field(codes_col))?;
        if !primary.is_empty() {
            out.finals.push(FinalLabel {
                site: site.clone(),
                post_id: id,
                primary: kind(primary)?,
                secondary,
                decided_by: "import".into(),
                note: String::new(),
                root_causes: final_codes,
                root_cause: String::new(),
            });
        } else if !final_codes.is_empty() {
            return Err(row_err(
                "root_causes are given without a primary kind (they belong to the final label)"
                    .into(),
            ));
        }
        for (c, name) in &annotator_cols {
            let value = field(Some(*c));
            let column = format!("root_causes_{name}");
            let codes = code_list(&column, field(annotator_codes.get(name).copied()))?;
            if value.is_empty() {
                if !codes.is_empty() {
                    return Err(row_err(format!(
                        "{column} is given but annotator_{name} is empty"
                    )));
                }
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
                root_causes: codes,
            });
        }
    }
    if out.rows == 0 && missing.is_empty() {
        return Err(csv_err(
            "the file has a header but no rows: nothing to import".into(),
        ));
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

impl PostLabels {
    /// The post's root-cause codes: the final label's, else the ones every
    /// annotator gave alike (empty while they differ).
    pub fn resolved_codes(&self) -> Vec<String> {
        if let Some(f) = &self.final_label {
            return f.root_causes.clone();
        }
        let mut labels = self.by_annotator.values();
        let Some(first) = labels.next() else {
            return Vec::new();
        };
        if labels.all(|l| l.root_causes == first.root_causes) {
            first.root_causes.clone()
        } else {
            Vec::new()
        }
    }

    /// Whether any label of the post carries root-cause codes.
    fn has_codes(&self) -> bool {
        self.final_label
            .as_ref()
            .is_some_and(|f| !f.root_causes.is_empty())
            || self
                .by_annotator
                .values()
                .any(|l| !l.root_causes.is_empty())
    }
}

/// The labels of a set, by (site, post Id).
pub fn gather(store: &Store, set: &str) -> Result<BTreeMap<PostKey, PostLabels>, LabelError> {
    if !store.label_set_exists(set)? {
        return Err(LabelError::NoSet(set.to_string()));
    }
    let mut posts: BTreeMap<PostKey, PostLabels> = BTreeMap::new();
    for l in store.labels(set)? {
        posts
            .entry(PostKey::new(l.site.clone(), l.post_id))
            .or_default()
            .by_annotator
            .insert(l.annotator.clone(), l);
    }
    for f in store.final_labels(set)? {
        let key = PostKey::new(f.site.clone(), f.post_id);
        posts.entry(key).or_default().final_label = Some(f);
    }
    Ok(posts)
}

/// Writes a set as CSV: `site,post_id,primary,secondary,annotator_NAME…`,
/// rows by site and post Id. `primary` is the resolved label (empty while
/// annotators disagree unadjudicated); `secondary` the final label's, else
/// the union of the annotators'. When some label of the set carries
/// root-cause codes, the columns `root_causes` (the final label's, else the
/// annotators' common ones) and `root_causes_NAME` (each annotator's) follow,
/// at the end, so readers of the older layout keep working. Reading it back
/// gives the same set.
pub fn write_csv<W: Write>(
    posts: &BTreeMap<PostKey, PostLabels>,
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
    let coded = posts.values().any(PostLabels::has_codes);
    if coded {
        header.push("root_causes".into());
        header.extend(annotators.iter().map(|a| format!("root_causes_{a}")));
    }
    w.write_record(&header)?;
    for (PostKey { site, id }, p) in posts {
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
        let resolved = !primary.is_empty();
        let mut record = vec![site.clone(), id.to_string(), primary, secondary.join(";")];
        record.extend(annotators.iter().map(|a| {
            p.by_annotator
                .get(*a)
                .map(|l| l.primary.clone())
                .unwrap_or_default()
        }));
        if coded {
            // Codes of the final label go with its primary kind only.
            record.push(if resolved {
                p.resolved_codes().join(";")
            } else {
                String::new()
            });
            record.extend(annotators.iter().map(|a| {
                p.by_annotator
                    .get(*a)
                    .map(|l| l.root_causes.join(";"))
                    .unwrap_or_default()
            }));
        }
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

/// The items `agree` compares: each post's annotator labels and final label.
pub fn agreement_items(posts: &BTreeMap<PostKey, PostLabels>) -> Vec<agree::Item> {
    posts
        .iter()
        .filter(|(_, p)| !p.by_annotator.is_empty())
        .map(|(PostKey { site, id }, p)| agree::Item {
            site: site.clone(),
            post_id: *id,
            labels: p
                .by_annotator
                .iter()
                .map(|(a, l)| (a.clone(), l.primary.clone()))
                .collect(),
            adjudicated: p.final_label.as_ref().map(|f| f.primary.clone()),
            root_causes: p
                .by_annotator
                .iter()
                .map(|(a, l)| (a.clone(), l.root_causes.clone()))
                .collect(),
        })
        .collect()
}

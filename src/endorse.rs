//! Endorsed answers: answers the asker confirmed in a comment ("thanks, this
//! worked"). The study read them where a question had no accepted answer
//! (RQ3) and names them as a threat to the accepted-answer rates (RQ2).
//!
//! A comment endorses an answer when it is written by the question's owner
//! (`comments.user_id = questions.owner_user_id`, both known), sits under an
//! answer to that question, the answer is not the asker's own (a
//! self-answer is no endorsement of someone else's), and its text contains a
//! phrase of the study's `[endorsements] phrases` and none of its `exclude`
//! ([`Matcher`]). The `endorsements` table holds them, rebuilt as a whole by
//! [`rebuild`] after every ingest; [`current`] gives them to readers,
//! rebuilding a stale table when the store is writable and computing them
//! in memory (writing nothing) when it is not.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::PostKey;
use crate::analyze::inference::{Interval, wilson};
use crate::store::{AskerComment, Endorsement, QuestionFacts, Store, StoreError};
use crate::study::{Endorsements, Study};

/// A phrase or comment for matching: lower case, `’` and `‘` as `'`, runs
/// of white space as one space, trimmed.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            '\u{2019}' | '\u{2018}' => '\'',
            c => c,
        };
        if c.is_whitespace() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push(' ');
        }
        blank = false;
        out.push(c);
    }
    out
}

/// Whether normalized `hay` holds normalized `needle` with a word boundary
/// at each end where the needle has a letter or digit (so `thanks` is not
/// found in `thanksgiving`, nor `+1` in `+10`).
fn contains_word(hay: &str, needle: &str) -> bool {
    let (Some(first), Some(last)) = (needle.chars().next(), needle.chars().next_back()) else {
        return false;
    };
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle).map(|i| i + from) {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        let ok_before = !first.is_alphanumeric() || !before.is_some_and(char::is_alphanumeric);
        let ok_after = !last.is_alphanumeric() || !after.is_some_and(char::is_alphanumeric);
        if ok_before && ok_after {
            return true;
        }
        from = i + first.len_utf8();
    }
    false
}

/// What the phrase lists say of one comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It endorses: the first phrase of the list it contains.
    Endorses(String),
    /// It contains `phrase` but also the exclusion `by`.
    Excluded { phrase: String, by: String },
    /// It contains no phrase.
    No,
}

/// The study's phrase lists, ready to match.
pub struct Matcher {
    phrases: Vec<(String, String)>,
    exclude: Vec<(String, String)>,
}

impl Matcher {
    pub fn new(e: &Endorsements) -> Matcher {
        let prep = |list: &[String]| {
            list.iter()
                .map(|p| (p.clone(), normalize(p)))
                .filter(|(_, n)| !n.is_empty())
                .collect()
        };
        Matcher {
            phrases: prep(&e.phrases),
            exclude: prep(&e.exclude),
        }
    }

    /// Judges one comment's text.
    pub fn judge(&self, text: &str) -> Verdict {
        let t = normalize(text);
        let Some((phrase, _)) = self.phrases.iter().find(|(_, n)| contains_word(&t, n)) else {
            return Verdict::No;
        };
        match self.exclude.iter().find(|(_, n)| contains_word(&t, n)) {
            Some((by, _)) => Verdict::Excluded {
                phrase: phrase.clone(),
                by: by.clone(),
            },
            None => Verdict::Endorses(phrase.clone()),
        }
    }
}

/// The version of the matching rules; part of the fingerprint, so a build
/// that matches differently rebuilds the table.
const RULES: &str = "endorse v1: asker comment under a non-self answer; normalize; word boundaries; first phrase; any exclude vetoes";

/// The fingerprint of the phrase lists (and the matching rules) a table is
/// built from.
pub fn fingerprint(e: &Endorsements) -> String {
    let mut text = String::from(RULES);
    for p in &e.phrases {
        text.push_str("\np ");
        text.push_str(&normalize(p));
    }
    for p in &e.exclude {
        text.push_str("\nx ");
        text.push_str(&normalize(p));
    }
    crate::classify::fnv1a_hex(&[text.as_bytes()])
}

/// The endorsements among the askers' comments.
pub fn find(comments: &[AskerComment], m: &Matcher) -> Vec<Endorsement> {
    let mut out: Vec<Endorsement> = comments
        .iter()
        .filter(|c| !c.self_answer)
        .filter_map(|c| match m.judge(&c.text) {
            Verdict::Endorses(phrase) => Some(Endorsement {
                site: c.site.clone(),
                question_id: c.question_id,
                answer_id: c.answer_id,
                comment_id: c.comment_id,
                phrase,
            }),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Rebuilds the `endorsements` table from the store's comments and the
/// study's lists, as a whole in one transaction; returns how many.
pub fn rebuild(store: &mut Store, study: &Study) -> Result<usize, StoreError> {
    let found = find(&store.asker_comments()?, &Matcher::new(&study.endorsements));
    let mark = store.ingest_mark()?;
    store.replace_endorsements(&found, &fingerprint(&study.endorsements), &mark)?;
    Ok(found.len())
}

/// Where [`current`]'s endorsements come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The stored table, built from the study's lists after the latest ingest.
    Stored,
    /// The table was stale and has been rebuilt and stored.
    Rebuilt,
    /// The table is stale (the reason) and the store is read-only: computed
    /// in memory, nothing written.
    InMemory(String),
}

/// Why the stored table is stale, if it is.
fn stale(store: &Store, study: &Study) -> Result<Option<String>, StoreError> {
    let (phrases, mark) = store.endorsements_built_from()?;
    Ok(match phrases {
        None => Some("the store holds no endorsements yet".into()),
        Some(fp) if fp != fingerprint(&study.endorsements) => {
            Some("study.toml's [endorsements] lists changed since they were stored".into())
        }
        Some(_) if mark.as_deref() != Some(store.ingest_mark()?.as_str()) => {
            Some("they were stored before the latest ingest".into())
        }
        Some(_) => None,
    })
}

/// The endorsements for the study's current lists and comments: the stored
/// table when it is up to date; otherwise rebuilt and stored, or, on a
/// store opened read-only, computed in memory without writing.
pub fn current(store: &mut Store, study: &Study) -> Result<(Vec<Endorsement>, Source), StoreError> {
    if store.is_read_only()? {
        return read(store, study);
    }
    if stale(store, study)?.is_none() {
        return Ok((store.endorsements()?, Source::Stored));
    }
    rebuild(store, study)?;
    Ok((store.endorsements()?, Source::Rebuilt))
}

/// The endorsements for a reader that never writes (the report): the
/// stored table when it is up to date, else computed in memory.
pub fn read(store: &Store, study: &Study) -> Result<(Vec<Endorsement>, Source), StoreError> {
    match stale(store, study)? {
        None => Ok((store.endorsements()?, Source::Stored)),
        Some(why) => {
            let found = find(&store.asker_comments()?, &Matcher::new(&study.endorsements));
            Ok((found, Source::InMemory(why)))
        }
    }
}

/// Errors reading a hand-checked endorsement file.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}, line {line}: {message}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

/// At most this many bytes in a check file.
pub const MAX_CHECK_BYTES: u64 = 64 << 20;

/// One hand-checked comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub site: String,
    pub comment_id: i64,
    pub answer_id: i64,
    pub question_id: i64,
    pub endorsing: bool,
    pub reason: String,
}

/// Reads a check file: CSV with the columns `site`, `comment_id`,
/// `answer_id`, `question_id`, `endorsing` (0 or 1) and optionally
/// `reason`; other columns are ignored.
pub fn read_check(path: &Path) -> Result<Vec<Checked>, CheckError> {
    let text =
        crate::limits::read_bounded_string(path, MAX_CHECK_BYTES, "an endorsement check file")
            .map_err(|error| CheckError::Read {
                path: path.to_path_buf(),
                error,
            })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let file_err = |message: String| CheckError::File {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| file_err(format!("its header is not CSV ({e})")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let need = [
        "site",
        "comment_id",
        "answer_id",
        "question_id",
        "endorsing",
    ];
    let missing: Vec<&str> = need.iter().copied().filter(|n| col(n).is_none()).collect();
    if !missing.is_empty() {
        return Err(file_err(format!(
            "missing the column{} {} (a check file has site, comment_id, answer_id, question_id, endorsing and optionally reason)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    let [site, comment, answer, question, endorsing] = need.map(|n| col(n).unwrap_or(0));
    let reason = col("reason");
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let row_err = |message: String| CheckError::Row {
            path: path.to_path_buf(),
            line,
            message,
        };
        let rec = rec.map_err(|e| row_err(format!("not CSV ({e})")))?;
        let field = |j: usize| rec.get(j).unwrap_or("").trim();
        let id = |j: usize, what: &str| {
            let t = field(j);
            t.parse::<i64>()
                .ok()
                .filter(|&v| v > 0 && t.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    row_err(format!(
                        "{what} {:?} is not a positive whole number",
                        t.chars().take(40).collect::<String>()
                    ))
                })
        };
        let c = Checked {
            site: field(site).to_string(),
            comment_id: id(comment, "comment_id")?,
            answer_id: id(answer, "answer_id")?,
            question_id: id(question, "question_id")?,
            endorsing: match field(endorsing) {
                "1" => true,
                "0" => false,
                other => {
                    return Err(row_err(format!(
                        "endorsing {:?} is not 0 or 1",
                        other.chars().take(40).collect::<String>()
                    )));
                }
            },
            reason: reason.map(|j| field(j).to_string()).unwrap_or_default(),
        };
        if c.site.is_empty() {
            return Err(row_err("the site is empty".into()));
        }
        if !seen.insert((c.site.clone(), c.comment_id)) {
            return Err(row_err(format!(
                "comment {} of {} is listed twice",
                c.comment_id, c.site
            )));
        }
        out.push(c);
    }
    if out.is_empty() {
        return Err(file_err("it lists no comments".into()));
    }
    Ok(out)
}

/// A comment where the detector and the hand check disagree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Disagreement {
    pub site: String,
    pub comment_id: i64,
    pub answer_id: i64,
    /// The hand check's judgement.
    pub endorsing: bool,
    /// What the detector said: the phrase it matched, or why not.
    pub detector: String,
    pub reason: String,
    pub text: String,
}

/// A proportion with its 95% Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Rate {
    pub k: u64,
    pub n: u64,
    pub value: Option<f64>,
    pub interval: Option<Interval>,
}

impl Rate {
    pub fn new(k: u64, n: u64) -> Rate {
        Rate {
            k,
            n,
            value: (n > 0).then(|| k as f64 / n as f64),
            interval: wilson(k, n, 0.95),
        }
    }
}

/// The detector measured against a hand-checked set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    pub checked: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub true_negatives: u64,
    /// Of the comments the detector calls endorsing, how many are.
    pub precision: Rate,
    /// Of the endorsing comments, how many the detector finds.
    pub recall: Rate,
    pub disagreements: Vec<Disagreement>,
    /// Listed comments that are not an asker's comment under an answer in
    /// the study (not ingested, or not what the file says): not scored.
    pub not_in_study: Vec<(String, i64)>,
    /// Askers' comments under answers in the file's sites that the file
    /// does not list: the file does not cover them.
    pub unlisted: u64,
}

/// Measures the detector on a hand-checked set.
pub fn check(comments: &[AskerComment], m: &Matcher, checked: &[Checked]) -> Check {
    let by_id: HashMap<(&str, i64), &AskerComment> = comments
        .iter()
        .map(|c| ((c.site.as_str(), c.comment_id), c))
        .collect();
    let (mut tp, mut fp, mut fn_, mut tn) = (0u64, 0u64, 0u64, 0u64);
    let mut disagreements = Vec::new();
    let mut not_in_study = Vec::new();
    for h in checked {
        let Some(c) = by_id
            .get(&(h.site.as_str(), h.comment_id))
            .filter(|c| c.answer_id == h.answer_id && c.question_id == h.question_id)
        else {
            not_in_study.push((h.site.clone(), h.comment_id));
            continue;
        };
        let verdict = if c.self_answer {
            Verdict::No
        } else {
            m.judge(&c.text)
        };
        let found = matches!(verdict, Verdict::Endorses(_));
        match (found, h.endorsing) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
        if found != h.endorsing {
            disagreements.push(Disagreement {
                site: c.site.clone(),
                comment_id: c.comment_id,
                answer_id: c.answer_id,
                endorsing: h.endorsing,
                detector: match verdict {
                    Verdict::Endorses(p) => format!("matched {p:?}"),
                    Verdict::Excluded { phrase, by } => {
                        format!("matched {phrase:?}, excluded by {by:?}")
                    }
                    Verdict::No if c.self_answer => "a self-answer".into(),
                    Verdict::No => "no phrase".into(),
                },
                reason: h.reason.clone(),
                text: c.text.clone(),
            });
        }
    }
    let sites: HashSet<&str> = checked.iter().map(|h| h.site.as_str()).collect();
    let listed: HashSet<(&str, i64)> = checked
        .iter()
        .map(|h| (h.site.as_str(), h.comment_id))
        .collect();
    let unlisted = comments
        .iter()
        .filter(|c| sites.contains(c.site.as_str()))
        .filter(|c| !listed.contains(&(c.site.as_str(), c.comment_id)))
        .count() as u64;
    Check {
        checked: tp + fp + fn_ + tn,
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        true_negatives: tn,
        precision: Rate::new(tp, tp + fp),
        recall: Rate::new(tp, tp + fn_),
        disagreements,
        not_in_study,
        unlisted,
    }
}

/// The accepted rate and the accepted-or-endorsed rate of one group of
/// classified questions (a category, or all of them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sensitivity {
    /// The category key; `None` for all classified questions.
    pub category: Option<String>,
    pub questions: u64,
    pub accepted: Rate,
    /// Questions with an endorsed answer but no accepted one.
    pub endorsed_only: u64,
    pub accepted_or_endorsed: Rate,
    /// How far the rate moves, in percentage points.
    pub moves_points: Option<f64>,
}

/// Per category (in `categories`' order) and then for all classified
/// questions: the accepted rate (as the report's difficulty table computes
/// it, over the classified questions) and the share with an accepted answer
/// or an endorsed one. `endorsed` holds the (site, question Id) of
/// questions with an endorsed answer.
pub fn sensitivity(
    facts: &[QuestionFacts],
    category_of: &HashMap<PostKey, String>,
    categories: &[String],
    endorsed: &HashSet<PostKey>,
) -> Vec<Sensitivity> {
    let mut counts: BTreeMap<Option<usize>, [u64; 3]> = BTreeMap::new();
    let index: HashMap<&str, usize> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    for q in facts {
        let key = q.key();
        let Some(&c) = category_of.get(&key).and_then(|c| index.get(c.as_str())) else {
            continue;
        };
        let acc = q.accepted_answer_id.is_some();
        let end = endorsed.contains(&key);
        for g in [Some(c), None] {
            let e = counts.entry(g).or_default();
            e[0] += 1;
            e[1] += acc as u64;
            e[2] += (!acc && end) as u64;
        }
    }
    let row = |category: Option<String>, [n, acc, only]: [u64; 3]| {
        let accepted = Rate::new(acc, n);
        let either = Rate::new(acc + only, n);
        Sensitivity {
            category,
            questions: n,
            accepted,
            endorsed_only: only,
            accepted_or_endorsed: either,
            moves_points: accepted
                .value
                .zip(either.value)
                .map(|(a, e)| 100.0 * (e - a)),
        }
    };
    let mut out: Vec<Sensitivity> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            row(
                Some(c.clone()),
                counts.get(&Some(i)).copied().unwrap_or_default(),
            )
        })
        .collect();
    out.push(row(None, counts.get(&None).copied().unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(phrases: &[&str], exclude: &[&str]) -> Endorsements {
        Endorsements {
            phrases: phrases.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn normalizes_case_quotes_and_blanks() {
        assert_eq!(
            normalize("  That  WORKED,\n thanks’ "),
            "that worked, thanks'"
        );
        assert_eq!(normalize(" \t "), "");
    }

    #[test]
    fn matches_on_word_boundaries() {
        assert!(contains_word("ok thanks!", "thanks"));
        assert!(contains_word("thanks", "thanks"));
        assert!(!contains_word("happy thanksgiving", "thanks"));
        assert!(!contains_word("nothanks", "thanks"));
        assert!(contains_word("so +1 from me", "+1"));
        assert!(!contains_word("got +10", "+1"));
        // A match refused at one place is looked for further on.
        assert!(contains_word("thanksthanks thanks", "thanks"));
        assert!(contains_word(
            "that's what i'm looking for",
            "what i'm looking for"
        ));
        assert!(contains_word("danke, ça marche", "ça marche"));
        assert!(!contains_word("", "x"));
    }

    #[test]
    fn exclusions_veto_and_the_first_phrase_is_named() {
        let m = Matcher::new(&lists(
            &["thank you", "thanks", "helpful"],
            &["but i still"],
        ));
        assert_eq!(
            m.judge("Thanks, very helpful"),
            Verdict::Endorses("thanks".into())
        );
        assert_eq!(
            m.judge("Thanks, but I  still get the error"),
            Verdict::Excluded {
                phrase: "thanks".into(),
                by: "but i still".into()
            }
        );
        assert_eq!(m.judge("Why?"), Verdict::No);
    }

    #[test]
    fn fingerprint_follows_the_lists_not_their_spelling() {
        let a = fingerprint(&lists(&["Thanks"], &[]));
        assert_eq!(a, fingerprint(&lists(&["thanks "], &[])));
        assert_ne!(a, fingerprint(&lists(&["thanks"], &["but"])));
        assert_ne!(a, fingerprint(&lists(&[], &["thanks"])));
    }

    #[test]
    fn default_lists_are_the_study_files() {
        let d = Endorsements::default();
        assert!(d.phrases.iter().any(|p| p == "thanks"));
        assert_eq!(d, Study::default_study().endorsements);
    }
}

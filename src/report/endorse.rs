//! The `endorsements` command's output: the endorsed answers and, with a
//! hand-checked set, the detector's precision and recall.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::endorse::{Check, Rate, Source};
use crate::store::Endorsement;

fn source_words(source: &Source) -> String {
    match source {
        Source::Stored => "stored (built from study.toml's lists after the latest ingest)".into(),
        Source::Rebuilt => "rebuilt from study.toml's lists and stored".into(),
        Source::InMemory(why) => format!(
            "computed in memory from study.toml's lists, not stored: {why}, and the store was opened read-only"
        ),
    }
}

/// A rate for people: `0.9178 (67/73) [0.8317, 0.9618]`.
pub fn rate_text(r: &Rate) -> String {
    match (r.value, r.interval) {
        (Some(v), Some(i)) => format!("{v:.4} ({}/{}) [{:.4}, {:.4}]", r.k, r.n, i.lo, i.hi),
        _ => format!("— ({}/{})", r.k, r.n),
    }
}

/// A comment's text on one line, at most 160 characters.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cut: String = flat.chars().take(160).collect();
    if cut.len() < flat.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

pub fn text<W: Write>(
    found: &[Endorsement],
    source: &Source,
    check: Option<&Check>,
    check_file: Option<&Path>,
    mut out: W,
) -> io::Result<()> {
    let questions: std::collections::BTreeSet<(&str, i64)> = found
        .iter()
        .map(|e| (e.site.as_str(), e.question_id))
        .collect();
    let answers: std::collections::BTreeSet<(&str, i64)> = found
        .iter()
        .map(|e| (e.site.as_str(), e.answer_id))
        .collect();
    writeln!(
        out,
        "{} endorsing comments on {} answers of {} questions; {}",
        found.len(),
        answers.len(),
        questions.len(),
        source_words(source)
    )?;
    if !found.is_empty() {
        writeln!(out, "site\tquestion\tanswer\tcomment\tphrase")?;
    }
    for e in found {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            e.site,
            e.question_id,
            e.answer_id,
            e.comment_id,
            one_line(&e.phrase)
        )?;
    }
    let Some(c) = check else {
        return Ok(());
    };
    writeln!(
        out,
        "\ncheck against {}: {} comments scored ({} endorsing by hand)",
        check_file.map_or_else(|| "the file".into(), |p| p.display().to_string()),
        c.checked,
        c.true_positives + c.false_negatives
    )?;
    writeln!(out, "precision {} (95% Wilson)", rate_text(&c.precision))?;
    writeln!(out, "recall {} (95% Wilson)", rate_text(&c.recall))?;
    writeln!(
        out,
        "true positives {}, false positives {}, false negatives {}, true negatives {}",
        c.true_positives, c.false_positives, c.false_negatives, c.true_negatives
    )?;
    if !c.not_in_study.is_empty() {
        let shown: Vec<String> = c
            .not_in_study
            .iter()
            .take(10)
            .map(|(s, id)| format!("{s} {id}"))
            .collect();
        writeln!(
            out,
            "not scored: {} listed comments are not an asker's comment under that answer in the study ({}{})",
            c.not_in_study.len(),
            shown.join(", "),
            if c.not_in_study.len() > 10 {
                ", …"
            } else {
                ""
            }
        )?;
    }
    if c.unlisted > 0 {
        writeln!(
            out,
            "not covered: {} askers' comments under answers in the file's sites are not in the file",
            c.unlisted
        )?;
    }
    writeln!(out, "disagreements ({}):", c.disagreements.len())?;
    for d in &c.disagreements {
        writeln!(
            out,
            "  {} comment {} (answer {}): by hand {}, detector {}{}: {}",
            d.site,
            d.comment_id,
            d.answer_id,
            if d.endorsing {
                "endorsing"
            } else {
                "not endorsing"
            },
            d.detector,
            if d.reason.is_empty() {
                String::new()
            } else {
                format!(" [{}]", one_line(&d.reason))
            },
            one_line(&d.text)
        )?;
    }
    Ok(())
}

pub fn json<W: Write>(
    found: &[Endorsement],
    source: &Source,
    check: Option<&Check>,
    mut out: W,
) -> io::Result<()> {
    let doc = Doc {
        check: check.map(SortedCheck::of),
        endorsements: found.iter().map(SortedEndorsement::of).collect(),
        source: source_words(source),
        stored: !matches!(source, Source::InMemory(_)),
    };
    serde_json::to_writer(&mut out, &doc)?;
    writeln!(out)
}

// The JSON document, every object's keys in alphabetical order (the order
// this output has always had).

#[derive(Serialize)]
struct Doc<'a> {
    check: Option<SortedCheck<'a>>,
    endorsements: Vec<SortedEndorsement<'a>>,
    source: String,
    stored: bool,
}

#[derive(Serialize)]
struct SortedEndorsement<'a> {
    answer_id: i64,
    comment_id: i64,
    phrase: &'a str,
    question_id: i64,
    site: &'a str,
}

impl<'a> SortedEndorsement<'a> {
    fn of(e: &'a Endorsement) -> SortedEndorsement<'a> {
        let Endorsement {
            site,
            question_id,
            answer_id,
            comment_id,
            phrase,
        } = e;
        SortedEndorsement {
            answer_id: *answer_id,
            comment_id: *comment_id,
            phrase,
            question_id: *question_id,
            site,
        }
    }
}

#[derive(Serialize)]
struct SortedInterval {
    hi: f64,
    lo: f64,
}

#[derive(Serialize)]
struct SortedRate {
    interval: Option<SortedInterval>,
    k: u64,
    n: u64,
    value: Option<f64>,
}

impl SortedRate {
    fn of(r: &Rate) -> SortedRate {
        SortedRate {
            interval: r.interval.map(|i| SortedInterval { hi: i.hi, lo: i.lo }),
            k: r.k,
            n: r.n,
            value: r.value,
        }
    }
}

#[derive(Serialize)]
struct SortedDisagreement<'a> {
    answer_id: i64,
    comment_id: i64,
    detector: &'a str,
    endorsing: bool,
    reason: &'a str,
    site: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct SortedCheck<'a> {
    checked: u64,
    disagreements: Vec<SortedDisagreement<'a>>,
    false_negatives: u64,
    false_positives: u64,
    not_in_study: &'a [(String, i64)],
    precision: SortedRate,
    recall: SortedRate,
    true_negatives: u64,
    true_positives: u64,
    unlisted: u64,
}

impl<'a> SortedCheck<'a> {
    fn of(c: &'a Check) -> SortedCheck<'a> {
        // Every field is written: a new one fails to compile here.
        let Check {
            checked,
            true_positives,
            false_positives,
            false_negatives,
            true_negatives,
            precision,
            recall,
            disagreements,
            not_in_study,
            unlisted,
        } = c;
        SortedCheck {
            checked: *checked,
            disagreements: disagreements
                .iter()
                .map(|d| SortedDisagreement {
                    answer_id: d.answer_id,
                    comment_id: d.comment_id,
                    detector: &d.detector,
                    endorsing: d.endorsing,
                    reason: &d.reason,
                    site: &d.site,
                    text: &d.text,
                })
                .collect(),
            false_negatives: *false_negatives,
            false_positives: *false_positives,
            not_in_study,
            precision: SortedRate::of(precision),
            recall: SortedRate::of(recall),
            true_negatives: *true_negatives,
            true_positives: *true_positives,
            unlisted: *unlisted,
        }
    }
}

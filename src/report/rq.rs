//! The report's endorsed-answer sensitivity (RQ2) and root causes (RQ3):
//! tables and sentences, from plain data ([`crate::endorse::Sensitivity`],
//! [`crate::analyze::causes::CauseSummary`]).

use super::fmt::{int, num};
use super::study::ReportInput;
use super::svg::esc;
use super::table::{Cell, Key, Table};
use crate::analyze::causes::{CauseCount, CauseSummary};
use crate::endorse::Sensitivity;

/// RQ2's sensitivity, for a study with comments.
#[derive(Debug, Clone, PartialEq)]
pub struct EndorsedRates {
    /// Per category, then all classified questions.
    pub rows: Vec<Sensitivity>,
    /// Endorsing comments found (study-wide, classified or not).
    pub endorsing_comments: u64,
    /// Sites of the study without any comment ingested.
    pub sites_without_comments: Vec<String>,
}

/// The study's five root causes (study.md), by the key of the default
/// study's code that stands for each.
pub const STUDY_CAUSES: [(&str, &str); 5] = [
    ("api_misuse", "API misuse"),
    ("hyperparameters", "incorrect hyperparameter selection"),
    ("gpu", "GPU computation"),
    ("static_graph", "static graph computation"),
    ("debugging", "limited debugging and profiling support"),
];

fn study_cause(key: &str) -> &'static str {
    STUDY_CAUSES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("—", |(_, n)| n)
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |x| format!("{} %", num(Some(100.0 * x), 1)))
}

fn points(x: Option<f64>) -> String {
    x.map_or("—".into(), |x| format!("{:+.1} points", x))
}

impl ReportInput {
    fn group_name(&self, key: Option<&str>) -> String {
        key.map_or_else(
            || "All classified questions".into(),
            |k| self.category_name(k),
        )
    }

    fn cause_name(&self, key: &str) -> String {
        self.root_cause_defs
            .iter()
            .find(|c| c.key == key)
            .map_or_else(|| key.to_string(), |c| c.name.clone())
    }

    /// A link to a post of a site with an http(s) address, else none.
    pub(super) fn post_url(&self, site: &str, id: i64) -> Option<String> {
        let url = self.sites.iter().find(|s| s.site == site)?.url.as_deref()?;
        (url.starts_with("https://") || url.starts_with("http://"))
            .then(|| format!("{}/q/{id}", url.trim_end_matches('/')))
    }
}

pub(super) fn endorsed_table(r: &ReportInput, e: &EndorsedRates) -> Table {
    let mut t = Table::new(
        Key::AcceptedOrEndorsed,
        "Accepted or endorsed: how much the accepted-answer rate moves",
        &[
            "kind",
            "questions",
            "accepted",
            "accepted rate",
            "endorsed, not accepted",
            "accepted or endorsed",
            "rate",
            "rate 95% low",
            "rate 95% high",
            "moves (points)",
        ],
    );
    for s in &e.rows {
        t.rows.push(vec![
            Cell::text(r.group_name(s.category.as_deref())),
            Cell::Int(Some(s.questions as i64)),
            Cell::Int(Some(s.accepted.k as i64)),
            Cell::Pct(s.accepted.value, 1),
            Cell::Int(Some(s.endorsed_only as i64)),
            Cell::Int(Some(s.accepted_or_endorsed.k as i64)),
            Cell::Pct(s.accepted_or_endorsed.value, 1),
            Cell::Pct(s.accepted_or_endorsed.interval.map(|i| i.lo), 1),
            Cell::Pct(s.accepted_or_endorsed.interval.map(|i| i.hi), 1),
            Cell::Num(s.moves_points, 1),
        ]);
    }
    let mut note = String::from(
        "Over the classified questions, as the accepted rate above. A question counts when it has an accepted answer or an answer its asker endorsed: \
         a comment by the question's owner under someone else's answer that matches study.toml's [endorsements] phrases and none of its exclusions \
         (stackmine endorsements lists them). 95% Wilson score interval. Moves: the accepted-or-endorsed rate minus the accepted rate, in percentage points. \
         An asker's upvote is invisible in the dump (Votes.xml has no voter), and thanks in other words, in other languages or in deleted comments are missed.",
    );
    if !e.sites_without_comments.is_empty() {
        note.push_str(&format!(
            " Sites without comments ingested, whose questions can only count accepted answers: {}.",
            e.sites_without_comments.join(", ")
        ));
    }
    t.note(note)
}

/// The headline sentence of RQ2's sensitivity.
pub(super) fn endorsed_sentence(r: &ReportInput, e: &EndorsedRates) -> String {
    let Some(all) = e.rows.last() else {
        return String::new();
    };
    let kinds: Vec<&Sensitivity> = e.rows[..e.rows.len() - 1]
        .iter()
        .filter(|s| s.moves_points.is_some())
        .collect();
    let range = match (
        kinds.iter().filter_map(|s| s.moves_points).reduce(f64::min),
        kinds.iter().max_by(|a, b| {
            a.moves_points
                .partial_cmp(&b.moves_points)
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
    ) {
        (Some(lo), Some(top)) => format!(
            "; per kind it moves by {} to {} points (most: {}, {} → {})",
            num(Some(lo), 1),
            num(top.moves_points, 1),
            r.category_name(top.category.as_deref().unwrap_or("")),
            pct(top.accepted.value),
            pct(top.accepted_or_endorsed.value)
        ),
        _ => String::new(),
    };
    let interval = all
        .accepted_or_endorsed
        .interval
        .map_or(String::new(), |i| {
            format!(
                " [{}, {}]",
                num(Some(100.0 * i.lo), 1),
                num(Some(100.0 * i.hi), 1)
            )
        });
    format!(
        "Counting answers the asker endorsed in a comment ({} endorsing comments) as well as accepted answers, the share of the {} classified questions \
         with a confirmed answer is {}{interval} (95% Wilson) against {} accepted: the study's figure moves by {}{range}. {} questions have an endorsed answer but none accepted.",
        int(e.endorsing_comments),
        int(all.questions),
        pct(all.accepted_or_endorsed.value),
        pct(all.accepted.value),
        points(all.moves_points),
        int(all.endorsed_only)
    )
}

/// The sentence of a study whose sites have no comments.
pub(super) const NO_COMMENTS: &str = "How much endorsed answers (an asker's \"thanks, this worked\" in a comment) would move the accepted-answer rates cannot be measured: no site of this study has comments ingested (ingest a dump folder with its Comments.xml).";

fn cause_cells(c: &CauseCount) -> [Cell; 4] {
    [
        Cell::Int(Some(c.posts as i64)),
        Cell::Pct(c.share, 1),
        Cell::Pct(c.interval.map(|i| i.lo), 1),
        Cell::Pct(c.interval.map(|i| i.hi), 1),
    ]
}

fn examples_text(r: &ReportInput, ex: &[crate::PostKey]) -> String {
    ex.iter()
        .map(|crate::PostKey { site, id }| match r.post_url(site, *id) {
            Some(u) => format!("{site} {id} ({u})"),
            None => format!("{site} {id}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn cause_tables(r: &ReportInput, s: &CauseSummary) -> Vec<Table> {
    let mut t = Table::new(
        Key::RootCauseCodes,
        "Root causes of the labeled posts (RQ3)",
        &[
            "root cause",
            "the study's cause",
            "posts",
            "share",
            "95% low",
            "95% high",
            "examples",
        ],
    );
    for (c, (_, ex)) in s.overall.iter().zip(&s.examples) {
        let [a, b, lo, hi] = cause_cells(c);
        t.rows.push(vec![
            Cell::text(r.cause_name(&c.cause)),
            Cell::text(study_cause(&c.cause)),
            a,
            b,
            lo,
            hi,
            Cell::text(examples_text(r, ex)),
        ]);
    }
    let mut note = format!(
        "{} labeled posts, {} with a root-cause code of the study. A post's codes are its final label's ({} posts have one; the first label set by name), \
         else every code its annotators gave (a post counts once per code); its kind is the final label's, else the annotators' common primary kind. \
         Share: of the coded posts, with a 95% Wilson score interval; a post with several codes counts for each, so shares can sum above 100%. \
         Examples: the three lowest post Ids.",
        int(s.labeled),
        int(s.coded),
        int(s.from_final)
    );
    let missing: Vec<&str> = STUDY_CAUSES
        .iter()
        .filter(|(k, _)| !r.root_cause_defs.iter().any(|c| c.key == *k))
        .map(|(_, n)| *n)
        .collect();
    if !missing.is_empty() {
        note.push_str(&format!(
            " The study's causes without a code of this key here: {}.",
            missing.join(", ")
        ));
    }
    if !s.unknown.is_empty() {
        let u: Vec<String> = s
            .unknown
            .iter()
            .map(|(c, n)| format!("{c} ({n})"))
            .collect();
        note.push_str(&format!(
            " Codes in labels that are not the study's, left out: {}.",
            u.join(", ")
        ));
    }
    let t = t.note(note);
    let mut cols: Vec<String> = vec!["kind".into(), "coded posts".into()];
    cols.extend(s.overall.iter().map(|c| r.cause_name(&c.cause)));
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut cross = Table::new(Key::RootCausesByKind, "Root causes per kind (posts)", &refs);
    let mut long = Table::new(
        Key::RootCauseSharesByKind,
        "Root causes per kind: shares",
        &[
            "kind",
            "root cause",
            "posts",
            "share",
            "95% low",
            "95% high",
        ],
    );
    for k in &s.by_kind {
        let name = k.kind.as_deref().map_or_else(
            || "kinds differ, not adjudicated".into(),
            |c| r.category_name(c),
        );
        let mut row = vec![Cell::text(name.clone()), Cell::Int(Some(k.coded as i64))];
        row.extend(k.causes.iter().map(|c| Cell::Int(Some(c.posts as i64))));
        cross.rows.push(row);
        for c in &k.causes {
            let mut row = vec![Cell::text(name.clone()), Cell::text(r.cause_name(&c.cause))];
            row.extend(cause_cells(c));
            long.rows.push(row);
        }
    }
    let cross = cross
        .note("Coded posts per kind and root cause; a post with several codes counts under each.");
    let long = long.note(
        "Share of the kind's coded posts with the root cause, with a 95% Wilson score interval.",
    );
    vec![t, cross, long]
}

/// The sentence of RQ3: the most frequent causes overall.
pub(super) fn cause_sentence(r: &ReportInput, s: &CauseSummary) -> String {
    let mut top: Vec<&CauseCount> = s.overall.iter().filter(|c| c.posts > 0).collect();
    top.sort_by_key(|c| std::cmp::Reverse(c.posts));
    let parts: Vec<String> = top
        .iter()
        .take(3)
        .map(|c| {
            let i = c.interval.map_or(String::new(), |i| {
                format!(
                    " [{}, {}]",
                    num(Some(100.0 * i.lo), 1),
                    num(Some(100.0 * i.hi), 1)
                )
            });
            format!("{} {}{i}", r.cause_name(&c.cause), pct(c.share))
        })
        .collect();
    format!(
        "Of the {} labeled posts with a root-cause code, the most frequent causes are {} (share of coded posts, 95% Wilson intervals).",
        int(s.coded),
        parts.join(", ")
    )
}

/// The examples of each cause as HTML links.
pub(super) fn examples_html(r: &ReportInput, s: &CauseSummary) -> String {
    let mut h = String::from("<ul class=\"files\">");
    for (cause, ex) in &s.examples {
        if ex.is_empty() {
            continue;
        }
        let links: Vec<String> = ex
            .iter()
            .map(|crate::PostKey { site, id }| match r.post_url(site, *id) {
                Some(u) => format!("<a href=\"{}\">{} {id}</a>", esc(&u), esc(site)),
                None => format!("{} {id}", esc(site)),
            })
            .collect();
        h.push_str(&format!(
            "<li>{}: {}</li>",
            esc(&r.cause_name(cause)),
            links.join(", ")
        ));
    }
    h.push_str("</ul>");
    h
}

/// The sentence of a study whose labels carry no root-cause code.
pub(super) const NO_CODES: &str = "No labeled post carries a root-cause code yet (the labeling page's root-cause keys, or a root_causes column in label import): RQ3's table of root causes per kind needs them.";

//! The study report: every table (also written as CSV, JSON and Markdown) and
//! one self-contained HTML page (inline CSS and SVG, no scripts, no network).
//! The page itself is laid out in [`super::page`]. Built from plain data;
//! nothing here reads the store or the clock, so the
//! same study gives the same bytes.

use super::fmt::{int, num};
use super::page::PageError;
use super::stats::horizon_name;
use super::table::{Cell, Key, Table};
use crate::analyze::findings::{Findings, MIN_HOURS, TREND_YEAR_MIN};
use crate::analyze::stats::{HORIZONS, KmSummary, Stats};
use crate::classify::eval::Evaluation;
use crate::classify::model::Validation;
use crate::label::agree::Agreement;
use crate::store::{IngestLog, SiteSummary};
use crate::study::{Category, Framework, Published};

/// Everything a report shows, already read from the study.
pub struct ReportInput {
    pub study_name: String,
    pub frameworks: Vec<Framework>,
    pub categories: Vec<Category>,
    pub sites: Vec<SiteSummary>,
    /// The latest ingest of each dump.
    pub ingests: Vec<IngestLog>,
    pub stats: Stats,
    pub findings: Option<Findings>,
    /// The classifying model: name, kind, cross-validation.
    pub model: Option<(String, String, Option<Validation>)>,
    pub published: Option<Published>,
    /// Latest `agree` results by set.
    pub agree: Vec<(String, Agreement)>,
    /// Latest `eval` results by set.
    pub evals: Vec<(String, Evaluation)>,
    /// Where the confusion behind the adjusted shares comes from.
    pub confusion_source: Option<String>,
    pub root_causes: Vec<(String, String, i64)>,
    /// The latest stored estimate of a random sample, and why it is stale
    /// (its sample's labels, the study's questions or its classifications changed), if it is.
    pub estimate: Option<(crate::estimate::Stored, Option<String>)>,
    /// The sample size `sample --confidence 0.95 --margin 0.05` draws
    /// (Cochran's, with finite population correction).
    pub sample_size: u64,
    /// RQ2's sensitivity to endorsed answers; `None` when no site has
    /// comments ingested (or no question is classified).
    pub endorsed: Option<super::rq::EndorsedRates>,
    /// RQ3: the root-cause codes of the labeled posts; `None` when no
    /// labeled post carries one.
    pub causes: Option<crate::analyze::causes::CauseSummary>,
    /// The study's root-cause codes (`[[root_causes]]`).
    pub root_cause_defs: Vec<crate::study::RootCause>,
}

/// The rendered report.
pub struct Report {
    pub tables: Vec<Table>,
    pub html: String,
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |f| f.to_string_lossy().into_owned())
}

impl ReportInput {
    pub(super) fn category_name(&self, key: &str) -> String {
        self.categories
            .iter()
            .find(|c| c.key == key)
            .map_or_else(|| key.to_string(), |c| c.name.clone())
    }

    pub(super) fn framework_name(&self, key: &str) -> String {
        self.frameworks
            .iter()
            .find(|f| f.key == key)
            .map_or_else(|| key.to_string(), |f| f.name.clone())
    }
}

fn data_tables(r: &ReportInput) -> Vec<Table> {
    let mut sites = Table::new(
        Key::Sites,
        "Sites and dumps",
        &[
            "site",
            "dumps",
            "questions",
            "answers",
            "comments",
            "first question",
            "last question",
            "questions kept",
        ],
    );
    for s in &r.sites {
        sites.rows.push(vec![
            Cell::text(&s.site),
            Cell::text(
                s.dumps
                    .iter()
                    .map(|d| file_name(d))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::Int(Some(s.questions)),
            Cell::Int(Some(s.answers)),
            Cell::Int(Some(s.comments)),
            Cell::text(
                s.first_question
                    .as_deref()
                    .map_or("—", |d| super::fmt::day(d)),
            ),
            Cell::text(
                s.last_question
                    .as_deref()
                    .map_or("—", |d| super::fmt::day(d)),
            ),
            Cell::text(if s.all_questions {
                "all"
            } else {
                "matching a framework"
            }),
        ]);
    }
    let mut ingest = Table::new(
        Key::Ingest,
        "What ingest read, kept and skipped",
        &[
            "site",
            "file",
            "rows",
            "questions kept",
            "answers kept",
            "comments kept",
            "malformed rows",
            "skipped",
        ],
    );
    for l in &r.ingests {
        let skipped: Vec<String> = l
            .skipped
            .iter()
            .map(|(k, v)| format!("{}: {k}", int(*v)))
            .collect();
        ingest.rows.push(vec![
            Cell::text(&l.site),
            Cell::text(file_name(&l.source)),
            Cell::Int(Some(l.rows_scanned as i64)),
            Cell::Int(Some(l.questions_kept as i64)),
            Cell::Int(Some(l.answers_kept as i64)),
            Cell::Int(Some(l.comments_kept as i64)),
            Cell::Int(Some(l.bad_rows as i64)),
            Cell::text(skipped.join("; ")),
        ]);
    }
    let filters: Vec<String> = r
        .frameworks
        .iter()
        .map(|f| {
            format!("{} = tags {:?} ({:?} match)", f.name, f.tags, f.match_mode).to_lowercase()
        })
        .collect();
    let ingest = ingest.note(format!("Frameworks: {}.", filters.join("; ")));
    vec![sites, ingest]
}

fn table1(r: &ReportInput) -> Table {
    let mut t = Table::new(
        Key::Table1,
        "Table I: questions and view counts per framework",
        &[
            "framework",
            "questions",
            "views max",
            "views Q3",
            "views median",
            "published questions",
            "published views max",
            "published views Q3",
            "published views median",
        ],
    );
    let published = r.published.as_ref();
    for g in r
        .stats
        .frameworks
        .iter()
        .chain(std::iter::once(&r.stats.all))
    {
        let p = published.and_then(|p| p.table1.iter().find(|row| row.framework == g.name));
        t.rows.push(vec![
            Cell::text(&g.label),
            Cell::Int(Some(g.questions as i64)),
            Cell::Int(g.views.max),
            Cell::Num(g.views.q3, 1),
            Cell::Num(g.views.median, 1),
            Cell::Int(p.map(|p| p.questions as i64)),
            Cell::Int(p.map(|p| p.views_max as i64)),
            Cell::Num(p.map(|p| p.views_q3), 0),
            Cell::Num(p.map(|p| p.views_median), 0),
        ]);
    }
    t.note(format!("Quantiles: {}. A question with two framework tags counts under each framework and once in All questions.", r.stats.quantile_method))
}

fn category_tables(r: &ReportInput, f: &Findings) -> Vec<Table> {
    let published = r.published.as_ref();
    let mut dist = Table::new(
        Key::Categories,
        "Kinds of questions",
        &[
            "kind",
            "questions",
            "share",
            "adjusted share",
            "adjusted 95% low",
            "adjusted 95% high",
            "published share",
            "adjusted − published",
            "adjusted interval",
        ],
    );
    for (i, s) in f.distribution.iter().enumerate() {
        let adj = f.adjusted.as_ref().map(|a| &a[i]);
        let interval = adj
            .and_then(|a| a.interval)
            .filter(|i| collapsed(i).is_none());
        let flag = adj
            .and_then(|a| a.interval)
            .and_then(|i| collapsed(&i))
            .unwrap_or_default();
        dist.rows.push(vec![
            Cell::text(r.category_name(&s.category)),
            Cell::Int(Some(s.count as i64)),
            Cell::Pct(Some(s.share), 1),
            Cell::Pct(adj.map(|a| a.share), 1),
            Cell::Pct(interval.map(|i| i.lo), 1),
            Cell::Pct(interval.map(|i| i.hi), 1),
            Cell::Pct(
                published.and_then(|p| p.distribution.get(&s.category).copied()),
                0,
            ),
            Cell::Pct(
                adj.map(|a| a.share)
                    .zip(published.and_then(|p| p.distribution.get(&s.category).copied()))
                    .map(|(a, p)| a - p),
                1,
            ),
            Cell::text(flag),
        ]);
    }
    let headline = match &r.estimate {
        Some((e, _)) => format!(
            "The headline shares are the {} of random sample {} (table \"Kinds of questions, estimated\"); the columns here are for comparison.",
            e.method.name(),
            e.sample
        ),
        None => uncorrected(r),
    };
    let dist = dist.note(format!(
        "Share: the classifier's categories as they are. Adjusted share (a comparison, not an estimate that holds when the classifier errs): corrected for the classifier's confusion (adjusted classify-and-count) \
         as measured by {}, with a 95% percentile bootstrap interval over the labeled posts behind that confusion; an interval that collapses at 0 % or 100 % by clipping is flagged and not shown. {headline}",
        r.confusion_source.as_deref().unwrap_or("no stored evaluation")
    ));
    let mut cols: Vec<String> = vec!["framework".into()];
    cols.extend(f.categories.iter().map(|c| r.category_name(c)));
    cols.push("total".into());
    let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut by_fw = Table::new(
        Key::CategoriesByFramework,
        "Kinds of questions per framework",
        &col_refs,
    );
    for (fw, counts) in &f.per_framework {
        let mut row = vec![Cell::text(r.framework_name(fw))];
        row.extend(counts.iter().map(|&c| Cell::Int(Some(c as i64))));
        row.push(Cell::Int(Some(counts.iter().sum::<u64>() as i64)));
        by_fw.rows.push(row);
    }
    cols[0] = "year".into();
    cols.push("published total".into());
    let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut by_year = Table::new(
        Key::CategoriesByYear,
        "Kinds of questions per year",
        &col_refs,
    );
    for (year, counts) in &f.per_year {
        let mut row = vec![Cell::text(year)];
        row.extend(counts.iter().map(|&c| Cell::Int(Some(c as i64))));
        row.push(Cell::Int(Some(counts.iter().sum::<u64>() as i64)));
        row.push(Cell::Int(
            published
                .and_then(|p| p.per_year.get(year))
                .map(|&n| n as i64),
        ));
        by_year.rows.push(row);
    }
    vec![dist, by_fw, by_year, trend_table(r, f)]
}

/// Why an interval is not shown: it collapsed at 0 or 1 by clipping.
pub(super) fn collapsed(i: &crate::analyze::inference::Interval) -> Option<String> {
    if i.hi - i.lo > 1e-12 {
        return None;
    }
    Some(if i.hi <= 1e-12 {
        "collapsed at 0 % by clipping".into()
    } else if i.lo >= 1.0 - 1e-12 {
        "collapsed at 100 % by clipping".into()
    } else {
        "zero width".into()
    })
}

/// The sentence for a study without an estimate: the shares are the
/// classifier's, uncorrected, and how to draw a random sample.
pub(super) fn uncorrected(r: &ReportInput) -> String {
    format!(
        "These shares are the classifier's, uncorrected: no random labeled sample backs them. To estimate them with intervals that hold whatever the classifier's errors, label a random sample of {} questions (Cochran's size for 95% confidence and a 5% margin): \
         stackmine sample --name random --confidence 0.95 --margin 0.05, label it, then stackmine estimate --sample random.",
        int(r.sample_size)
    )
}

/// The headline sentence of a stored estimate: each kind's share with its
/// interval, the method and the sample's size.
pub(super) fn estimate_sentence(
    r: &ReportInput,
    e: &crate::estimate::Stored,
    stale: bool,
) -> String {
    let pct = |x: f64| format!("{} %", num(Some(100.0 * x), 1));
    let shares: Vec<String> = r
        .categories
        .iter()
        .filter_map(|c| {
            e.shares.get(&c.key).map(|x| {
                format!(
                    "{} {}{} [{}, {}]{}",
                    c.name,
                    pct(x.estimate),
                    // PPI's estimate itself can leave [0, 1]; its interval
                    // is clipped.
                    match x.estimate {
                        v if v < 0.0 => " (below 0 before clipping)",
                        v if v > 1.0 => " (above 100 % before clipping)",
                        _ => "",
                    },
                    pct(x.low),
                    pct(x.high),
                    if x.clipped { " (interval clipped)" } else { "" }
                )
            })
        })
        .collect();
    format!(
        "By {} from random sample {} ({} labeled posts of {} questions), with {:.0} % intervals: {}.{}",
        e.method.name(),
        e.sample,
        int(e.labeled as u64),
        int(e.population as u64),
        100.0 * e.confidence,
        shares.join(", "),
        if stale {
            " This estimate is stale (see the table's note)."
        } else {
            ""
        }
    )
}

/// The headline table: the prediction-powered estimate of each kind's share.
fn estimate_table(r: &ReportInput, e: &crate::estimate::Stored, stale: Option<&str>) -> Table {
    let level = format!("{:.0}%", 100.0 * e.confidence);
    let cols = [
        "kind".to_string(),
        "estimate".into(),
        format!("{level} low"),
        format!("{level} high"),
        "interval".into(),
        "sample only".into(),
        format!("sample only {level} low"),
        format!("sample only {level} high"),
        "classified".into(),
    ];
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut t = Table::new(Key::Estimate, "Kinds of questions, estimated", &refs);
    for c in &r.categories {
        let Some(x) = e.shares.get(&c.key) else {
            continue;
        };
        t.rows.push(vec![
            Cell::text(c.name.clone()),
            Cell::Pct(Some(x.estimate), 1),
            Cell::Pct(Some(x.low), 1),
            Cell::Pct(Some(x.high), 1),
            Cell::text(if x.clipped {
                "clipped at 0 % or 100 %"
            } else {
                ""
            }),
            Cell::Pct(Some(x.sample_only.estimate), 1),
            Cell::Pct(Some(x.sample_only.low), 1),
            Cell::Pct(Some(x.sample_only.high), 1),
            Cell::Pct(Some(x.classified), 1),
        ]);
    }
    let sum: f64 = e.shares.values().map(|x| x.estimate).sum();
    let mut note = format!(
        "Estimate: {} from random sample {} ({} labeled posts of {} questions, {}; {} design) with {}; {level} intervals, finite-population form. \
         Each kind's share is estimated on its own, so the shares need not sum to 100% (here {}). Sample only: the labeled posts alone, Wilson interval. Classified: the classifier's raw share.",
        e.method.name(),
        e.sample,
        int(e.labeled as u64),
        int(e.population as u64),
        e.population_desc,
        match e.design {
            crate::estimate::DesignKind::Stratified => "stratified random",
            _ => "simple random",
        },
        e.classifier,
        num(Some(100.0 * sum), 1)
    );
    if e.missing > 0 {
        note.push_str(&format!(
            " {} posts of the sample have no label{}.",
            int(e.missing as u64),
            if e.missing_at_random_assumed {
                ", over 5%: the estimate assumes they are missing at random"
            } else {
                ""
            }
        ));
    }
    if let Some(why) = stale {
        note.push_str(&format!(
            " STALE: {why}; rerun stackmine estimate --sample {}.",
            e.sample
        ));
    }
    t.note(note)
}

fn difficulty_tables(r: &ReportInput, f: &Findings) -> Vec<Table> {
    let published = r.published.as_ref();
    let mut d = Table::new(
        Key::Difficulty,
        "How hard each kind is to get answered",
        &[
            "kind",
            "questions",
            "accepted",
            "accepted rate",
            "rate 95% low",
            "rate 95% high",
            "published rate",
            "rate − published",
            "answer times",
            "median hours",
            "median 95% low",
            "median 95% high",
            "Q1 hours",
            "Q3 hours",
            "mean hours",
            "under a minute",
            "published median hours",
        ],
    );
    for x in &f.difficulty {
        let h = x.hours.as_ref();
        d.rows.push(vec![
            Cell::text(r.category_name(&x.category)),
            Cell::Int(Some(x.questions as i64)),
            Cell::Int(Some(x.accepted as i64)),
            Cell::Pct(x.rate, 1),
            Cell::Pct(x.rate_interval.map(|i| i.lo), 1),
            Cell::Pct(x.rate_interval.map(|i| i.hi), 1),
            Cell::Pct(
                published.and_then(|p| p.accepted_rate.get(&x.category).copied()),
                2,
            ),
            Cell::Pct(
                x.rate
                    .zip(published.and_then(|p| p.accepted_rate.get(&x.category).copied()))
                    .map(|(a, p)| a - p),
                1,
            ),
            Cell::Int(h.map(|h| h.n as i64)),
            Cell::Num(h.map(|h| h.median), 3),
            Cell::Num(h.and_then(|h| h.median_interval).map(|i| i.lo), 3),
            Cell::Num(h.and_then(|h| h.median_interval).map(|i| i.hi), 3),
            Cell::Num(h.map(|h| h.q1), 3),
            Cell::Num(h.map(|h| h.q3), 3),
            Cell::Num(h.map(|h| h.mean), 3),
            Cell::Int(h.map(|h| h.clamped as i64)),
            Cell::Num(
                published
                    .and_then(|p| p.hours.get(&x.category))
                    .map(|h| h[1]),
                3,
            ),
        ]);
    }
    let d = d.note(format!(
        "Accepted rate: questions with an accepted answer, with a 95% Wilson score interval. Answer times: from the question to its accepted answer, \
         for accepted answers the dump holds; times under a minute (self-answers) are counted as {} hours (one minute). The median's interval is a \
         95% percentile bootstrap (1,000 resamples, seeded).",
        num(Some(MIN_HOURS), 4)
    ));
    let mut tests = vec![d];
    if let Some(p) = &f.performance {
        let mut t = Table::new(
            Key::PerformanceTest,
            "Are performance questions harder?",
            &[
                "measure",
                "performance",
                "all other kinds",
                "test",
                "statistic",
                "p",
                "effect size",
            ],
        );
        t.rows.push(vec![
            Cell::text("accepted-answer rate"),
            Cell::Pct(Some(p.rate_performance), 1),
            Cell::Pct(Some(p.rate_others), 1),
            Cell::text("Pearson chi-square, 2×2, no continuity correction"),
            Cell::Num(p.chi_square.map(|c| c.chi2), 3),
            Cell::Num(p.chi_square.map(|c| c.p), 4),
            Cell::text(p.chi_square.map_or("—".into(), |c| {
                format!(
                    "φ = {}; difference {} points",
                    num(Some(c.phi), 3),
                    num(Some(100.0 * (p.rate_performance - p.rate_others)), 1)
                )
            })),
        ]);
        t.rows.push(vec![
            Cell::text("hours to the accepted answer (median)"),
            Cell::Num(p.median_hours_performance, 3),
            Cell::Num(p.median_hours_others, 3),
            Cell::text("Mann–Whitney U, two-sided, normal approximation"),
            Cell::Num(p.mann_whitney.map(|m| m.u), 1),
            Cell::Num(p.mann_whitney.map(|m| m.p), 4),
            Cell::text(p.mann_whitney.map_or("—".into(), |m| {
                format!(
                    "Cliff's δ = {} (> 0: performance waits longer)",
                    num(Some(m.cliffs_delta), 3)
                )
            })),
        ]);
        t.rows.push(vec![
            Cell::text("hours to the accepted answer (mean)"),
            Cell::Num(p.mean_hours_performance, 3),
            Cell::Num(p.mean_hours_others, 3),
            Cell::text("—"),
            Cell::Num(None, 0),
            Cell::Num(None, 0),
            Cell::text(
                published
                    .and_then(|p| p.performance_mean_hours)
                    .map_or("—".into(), |[perf, others]| {
                        format!("the study reports {perf} h vs {others} h")
                    }),
            ),
        ]);
        let kt = f.kind_tests.iter().find(|t| t.category == "performance");
        t.rows.push(vec![
            Cell::text("accepted answers observed (performance) vs expected without a difference, counting questions still waiting"),
            Cell::Num(kt.and_then(|t| t.log_rank).map(|l| l.observed_a), 0),
            Cell::Num(kt.and_then(|t| t.log_rank).map(|l| l.expected_a), 1),
            Cell::text("log-rank (Kaplan–Meier curves), χ² with 1 df"),
            Cell::Num(p.log_rank.map(|l| l.statistic), 3),
            Cell::Num(p.log_rank.map(|l| l.p), 4),
            Cell::text("performance: accepted answers observed vs expected if no difference"),
        ]);
        let t = match published.and_then(Published::performance_rates) {
            Some((perf, others)) => t.note(format!(
                "The study's claim: performance questions get accepted answers {} often ({:.0}% vs {:.0}%){}.",
                if perf < others { "less" } else { "as or more" },
                100.0 * perf,
                100.0 * others,
                match published.and_then(|p| p.performance_mean_hours) {
                    Some([perf, others]) if perf > others => " and later",
                    _ => "",
                }
            )),
            None => t,
        };
        tests.push(t);
    }
    tests.push(km_table(r, f));
    tests.push(first_answer_table(r, f));
    tests.push(kind_tests_table(r, f));
    tests
}

/// The columns of a Kaplan–Meier table: kind, events (`events`), still
/// waiting, and each horizon's share with its interval.
fn km_columns(events: &str) -> Vec<String> {
    let mut cols: Vec<String> = vec!["kind".into(), events.into(), "still waiting".into()];
    for h in HORIZONS {
        let name = horizon_name(h);
        cols.push(format!("within {name}"));
        cols.push(format!("{name} 95% low"));
        cols.push(format!("{name} 95% high"));
    }
    cols
}

/// A Kaplan–Meier row under [`km_columns`], then its median.
fn km_cells(kind: String, k: &KmSummary) -> Vec<Cell> {
    let mut row = vec![
        Cell::text(kind),
        Cell::Int(Some(k.events as i64)),
        Cell::Int(Some(k.censored as i64)),
    ];
    for i in 0..HORIZONS.len() {
        row.push(Cell::Pct(k.p_within[i], 1));
        row.push(Cell::Pct(k.p_within_ci[i].map(|c| c[0]), 1));
        row.push(Cell::Pct(k.p_within_ci[i].map(|c| c[1]), 1));
    }
    row.push(Cell::Num(k.median_hours, 3));
    row
}

fn first_answer_table(r: &ReportInput, f: &Findings) -> Table {
    let mut cols = km_columns("answered");
    cols.push("median hours (Kaplan–Meier)".into());
    let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut t = Table::new(
        Key::TimeToFirstAnswer,
        "Time to a first answer, counting the questions still waiting",
        &col_refs,
    );
    for c in &f.curves {
        t.rows
            .push(km_cells(r.category_name(&c.category), &c.first_answer));
    }
    t.note(
        "Kaplan–Meier estimates of the share of questions with a first answer within each time, with 95% intervals (Greenwood's variance, \
         log(−log) transform); a question without an answer counts as still waiting at its dump's date. The median is — when fewer than half have an answer by then.",
    )
}

fn km_table(r: &ReportInput, f: &Findings) -> Table {
    let published = r.published.as_ref();
    let mut cols = km_columns("accepted");
    cols.extend([
        "median hours (Kaplan–Meier)".into(),
        "median hours among accepted".into(),
        "published median hours among accepted".into(),
    ]);
    let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut t = Table::new(
        Key::TimeToAccepted,
        "Time to an accepted answer, counting the questions still waiting",
        &col_refs,
    );
    for (c, d) in f.curves.iter().zip(&f.difficulty) {
        let mut row = km_cells(r.category_name(&c.category), &c.summary);
        row.push(Cell::Num(d.hours.as_ref().map(|h| h.median), 3));
        row.push(Cell::Num(
            published
                .and_then(|p| p.hours.get(&c.category))
                .map(|h| h[1]),
            3,
        ));
        t.rows.push(row);
    }
    let as_of = f
        .curves
        .iter()
        .filter_map(|c| c.summary.as_of.clone())
        .max()
        .unwrap_or_else(|| "—".into());
    let no_median: Vec<String> = f
        .curves
        .iter()
        .filter(|c| c.summary.median_hours.is_none() && c.summary.events + c.summary.censored > 0)
        .map(|c| r.category_name(&c.category))
        .collect();
    let mut note = format!(
        "Kaplan–Meier estimates of the share of questions with an accepted answer within each time, with 95% intervals (Greenwood's variance, \
         log(−log) transform, as lifelines computes them). A question without an accepted answer counts as still waiting at its dump's date \
         (latest: {as_of}); one whose accepted answer the dump lacks is left out. The median is the first time at which half have one. \
         The study's medians, like the difficulty table's, are among accepted questions only (conditional on acceptance)."
    );
    if !no_median.is_empty() {
        note.push_str(&format!(
            " No Kaplan–Meier median for {}: fewer than half of these questions have an accepted answer by the dump's date.",
            no_median.join(", ")
        ));
    }
    t.note(note)
}

fn kind_tests_table(r: &ReportInput, f: &Findings) -> Table {
    let mut t = Table::new(
        Key::KindTests,
        "Each kind against all the others",
        &[
            "kind",
            "accepted rate",
            "others' rate",
            "χ²",
            "χ² p",
            "χ² p (Holm)",
            "median hours",
            "others' median hours",
            "Mann–Whitney U",
            "U p",
            "U p (Holm)",
            "log-rank χ²",
            "log-rank p",
            "log-rank p (Holm)",
        ],
    );
    for k in &f.kind_tests {
        t.rows.push(vec![
            Cell::text(r.category_name(&k.category)),
            Cell::Pct(k.rate, 1),
            Cell::Pct(k.rate_others, 1),
            Cell::Num(k.chi_square.map(|c| c.chi2), 3),
            Cell::Num(k.chi_square.map(|c| c.p), 4),
            Cell::Num(k.chi_square_holm, 4),
            Cell::Num(k.median_hours, 3),
            Cell::Num(k.median_hours_others, 3),
            Cell::Num(k.mann_whitney.map(|m| m.u), 1),
            Cell::Num(k.mann_whitney.map(|m| m.p), 4),
            Cell::Num(k.mann_whitney_holm, 4),
            Cell::Num(k.log_rank.map(|l| l.statistic), 3),
            Cell::Num(k.log_rank.map(|l| l.p), 4),
            Cell::Num(k.log_rank_holm, 4),
        ]);
    }
    t.note(
        "Accepted rates: Pearson chi-square on the 2×2 table of this kind vs all others, no continuity correction. Hours to the accepted answer \
         (among accepted; under a minute counted as one minute): Mann–Whitney U, two-sided, normal approximation. Time to an accepted answer \
         counting the questions still waiting: log-rank. Each test's p-values are Holm-corrected across the kinds.",
    )
}

fn trend_table(r: &ReportInput, f: &Findings) -> Table {
    let mut t = Table::new(
        Key::CategoryTrends,
        "Trends of each kind's share per year",
        &[
            "kind",
            "first year",
            "share then",
            "last year",
            "share then",
            "slope (points per year)",
            "χ² (trend)",
            "p",
            "p (Holm)",
        ],
    );
    for k in &f.trends {
        t.rows.push(vec![
            Cell::text(r.category_name(&k.category)),
            Cell::text(k.first.as_ref().map_or("—", |x| x.0.as_str())),
            Cell::Pct(k.first.as_ref().map(|x| x.1), 1),
            Cell::text(k.last.as_ref().map_or("—", |x| x.0.as_str())),
            Cell::Pct(k.last.as_ref().map(|x| x.1), 1),
            Cell::Num(k.trend.map(|t| 100.0 * t.slope), 2),
            Cell::Num(k.trend.map(|t| t.statistic), 3),
            Cell::Num(k.trend.map(|t| t.p), 4),
            Cell::Num(k.p_holm, 4),
        ]);
    }
    t.note(
        format!("Counts of classified questions (the classifier's labels, not corrected for its errors). First and last year: the first and last \
         with at least {TREND_YEAR_MIN} classified questions. Test: Cochran–Armitage test for trend in proportions over every year, as R's \
         prop.trend.test computes it (χ² with 1 df, the years as scores); slope: the weighted least-squares slope of the yearly shares on the \
         year that the test fits, in percentage points per year. p-values Holm-corrected across the kinds."),
    )
}

/// The stored estimate per framework or per year: the prediction-powered
/// figure where the group has enough labeled posts, else the sample alone
/// and why.
fn estimate_group_table(
    r: &ReportInput,
    e: &crate::estimate::Stored,
    by: &str,
    stale: Option<&str>,
) -> Table {
    use crate::estimate::Method;
    let level = format!("{:.0}%", 100.0 * e.confidence);
    let (groups, name, title) = if by == "framework" {
        (
            &e.per_framework,
            Key::EstimateByFramework,
            "Kinds of questions per framework, estimated",
        )
    } else {
        (
            &e.per_year,
            Key::EstimateByYear,
            "Kinds of questions per year, estimated",
        )
    };
    let cols = [
        by.to_string(),
        "kind".into(),
        "method".into(),
        "labeled".into(),
        "questions".into(),
        "estimate".into(),
        format!("{level} low"),
        format!("{level} high"),
        "interval".into(),
        "why the sample alone".into(),
    ];
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut t = Table::new(name, title, &refs);
    for (g, sh) in groups {
        let group = if by == "framework" {
            r.framework_name(g)
        } else {
            g.clone()
        };
        for c in &r.categories {
            let Some(x) = sh.shares.get(&c.key) else {
                continue;
            };
            t.rows.push(vec![
                Cell::text(group.clone()),
                Cell::text(c.name.clone()),
                Cell::text(match sh.method {
                    Method::Ppi => "PPI++",
                    Method::CrossPpi => "cross-prediction",
                    Method::SampleOnly => "sample only (Wilson)",
                }),
                Cell::Int(Some(sh.labeled as i64)),
                Cell::Int(Some(sh.population as i64)),
                Cell::Pct(Some(x.estimate), 1),
                Cell::Pct(Some(x.low), 1),
                Cell::Pct(Some(x.high), 1),
                Cell::text(if x.clipped {
                    "clipped at 0 % or 100 %"
                } else {
                    ""
                }),
                Cell::text(sh.note.clone().unwrap_or_default()),
            ]);
        }
    }
    let mut note = format!(
        "From random sample {}: per {by} where the sample has labeled posts, the {} ({level} intervals, finite-population form) where the group \
         has at least {} labeled posts; with fewer, the labeled posts alone with their Wilson interval, and the reason.",
        e.sample,
        e.method.name(),
        crate::estimate::MIN_GROUP_LABELED
    );
    if let Some(why) = stale {
        note.push_str(&format!(
            " STALE: {why}; rerun stackmine estimate --sample {}.",
            e.sample
        ));
    }
    t.note(note)
}

/// The prediction-powered yearly slope of each kind (a stored estimate's
/// `trend`), beside the Cochran–Armitage table.
fn ppi_trend_table(r: &ReportInput, e: &crate::estimate::Stored, stale: Option<&str>) -> Table {
    let level = format!("{:.0}%", 100.0 * e.confidence);
    let cols = [
        "kind".to_string(),
        "slope (points per year)".into(),
        format!("{level} low"),
        format!("{level} high"),
    ];
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let mut t = Table::new(
        Key::CategoryTrendsPpi,
        "Trends of each kind's share per year, prediction-powered",
        &refs,
    );
    for c in &r.categories {
        let Some(x) = e.trend.get(&c.key) else {
            continue;
        };
        t.rows.push(vec![
            Cell::text(c.name.clone()),
            Cell::Num(Some(x.slope_per_year), 2),
            Cell::Num(Some(x.low), 2),
            Cell::Num(Some(x.high), 2),
        ]);
    }
    let mut note = format!(
        "From random sample {} ({} labeled posts) and the classifier's predictions of all {} questions: each kind's indicator regressed on the year          (X = [1, year]) by prediction-powered inference, as ppi_py's ppi_ols_ci computes it (power-tuned; {level} intervals). Unlike the          Cochran–Armitage trend above, which counts the classifier's labels, this one stays valid when the classifier errs.",
        e.sample,
        int(e.labeled as u64),
        int(e.population as u64)
    );
    if let Some(why) = stale {
        note.push_str(&format!(
            " STALE: {why}; rerun stackmine estimate --sample {}.",
            e.sample
        ));
    }
    t.note(note)
}

/// The sentence stating which kinds rose and fell significantly.
pub(super) fn trend_sentence(r: &ReportInput, f: &Findings) -> String {
    let mut moves = Vec::new();
    for k in &f.trends {
        let (Some(t), Some(p), Some(first), Some(last)) = (k.trend, k.p_holm, &k.first, &k.last)
        else {
            continue;
        };
        if p < 0.05 {
            moves.push(format!(
                "{} {} {} {} % in {} {} {} % in {} (slope {} points per year; Cochran–Armitage χ² = {}, Holm-adjusted p {})",
                r.category_name(&k.category),
                if t.slope > 0.0 { "rose" } else { "fell" },
                // The test's slope is over every year; the first and last
                // year's shares may point the other way.
                if (last.1 > first.1) == (t.slope > 0.0) {
                    "from"
                } else {
                    "over the years, though it was"
                },
                num(Some(100.0 * first.1), 1),
                first.0,
                if (last.1 > first.1) == (t.slope > 0.0) {
                    "to"
                } else {
                    "and"
                },
                num(Some(100.0 * last.1), 1),
                last.0,
                num(Some(100.0 * t.slope), 2),
                num(Some(t.statistic), 2),
                p_text(p)
            ));
        }
    }
    let tested = f.trends.iter().filter(|k| k.trend.is_some()).count();
    let ppi = r
        .estimate
        .as_ref()
        .filter(|(e, _)| !e.trend.is_empty())
        .map(|(e, _)| ppi_trend_sentence(r, e))
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    let head = "Counting classified questions (the classifier's labels, uncorrected)";
    let counted = if tested == 0 {
        format!(
            "{head}, no trend can be tested: the classified questions span fewer than two years."
        )
    } else if moves.is_empty() {
        format!(
            "{head}, no kind's share rose or fell significantly over the years (Cochran–Armitage test for trend, Holm-adjusted p ≥ 0.05 for all {tested} kinds)."
        )
    } else {
        format!(
            "{head}, {}; the other kinds show no significant trend (Holm-adjusted p ≥ 0.05).",
            moves.join("; ")
        )
    };
    counted + &ppi
}

/// The sentence of the prediction-powered yearly slopes: the kinds whose
/// interval excludes 0, with it.
fn ppi_trend_sentence(r: &ReportInput, e: &crate::estimate::Stored) -> String {
    let level = format!("{:.0} %", 100.0 * e.confidence);
    let moves: Vec<String> = r
        .categories
        .iter()
        .filter_map(|c| e.trend.get(&c.key).map(|t| (c, t)))
        .filter(|(_, t)| t.low > 0.0 || t.high < 0.0)
        .map(|(c, t)| {
            format!(
                "{} {} by {} points per year [{}, {}]",
                c.name,
                if t.slope_per_year > 0.0 {
                    "rose"
                } else {
                    "fell"
                },
                num(Some(t.slope_per_year.abs()), 2),
                num(Some(t.low), 2),
                num(Some(t.high), 2)
            )
        })
        .collect();
    let head = format!(
        "By prediction-powered regression on the year (ppi_ols_ci) from random sample {}, valid when the classifier errs, with {level} intervals",
        e.sample
    );
    if moves.is_empty() {
        format!(
            "{head}, no kind's share rose or fell: every kind's interval for its slope includes 0."
        )
    } else {
        format!(
            "{head}, {}; the other kinds' intervals include 0.",
            moves.join("; ")
        )
    }
}

/// A p-value for a sentence: `= 0.0124`, or `< 0.0001`.
pub(super) fn p_text(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".into()
    } else {
        format!("= {}", num(Some(p), 4))
    }
}

fn quality_tables(r: &ReportInput) -> Vec<Table> {
    let mut c = Table::new(
        Key::Classifier,
        "The classifier's measured quality",
        &[
            "source",
            "protocol",
            "posts",
            "accuracy",
            "lenient accuracy",
            "macro F1",
            "macro precision",
            "macro recall",
        ],
    );
    if let Some((name, kind, Some(v))) = &r.model {
        c.rows.push(vec![
            Cell::text(format!("model {name} ({kind}), kept with the model")),
            Cell::text(&v.protocol),
            Cell::Int(Some(v.items as i64)),
            Cell::Pct(Some(v.accuracy), 1),
            Cell::Pct(Some(v.lenient_accuracy), 1),
            Cell::Num(Some(v.macro_f1), 3),
            Cell::Num(None, 3),
            Cell::Num(None, 3),
        ]);
    }
    for (set, e) in &r.evals {
        c.rows.push(vec![
            Cell::text(format!("eval of {} on label set {set}", e.model)),
            Cell::text(&e.protocol),
            Cell::Int(Some(e.items as i64)),
            Cell::Pct(Some(e.accuracy), 1),
            Cell::Pct(Some(e.lenient_accuracy), 1),
            Cell::Num(Some(e.macro_f1), 3),
            Cell::Num(Some(e.macro_precision), 3),
            Cell::Num(Some(e.macro_recall), 3),
        ]);
    }
    if let Some(p) = r.published.as_ref().and_then(|p| p.classifier.as_ref()) {
        c.rows.push(vec![
            Cell::text("published (the study's keyword model)"),
            Cell::text(&p.protocol),
            Cell::Int(Some(p.posts as i64)),
            Cell::Num(None, 1),
            Cell::Num(None, 1),
            Cell::Num(None, 3),
            Cell::Num(Some(p.precision), 3),
            Cell::Num(Some(p.recall), 3),
        ]);
    }
    let mut a = Table::new(
        Key::Agreement,
        "Agreement between annotators",
        &[
            "label set",
            "posts",
            "annotators",
            "agreement",
            "Cohen's kappa",
            "Fleiss' kappa",
            "disagreements",
        ],
    );
    for (set, v) in &r.agree {
        a.rows.push(vec![
            Cell::text(set),
            Cell::Int(Some(v.items as i64)),
            Cell::text(v.annotators.join(", ")),
            Cell::Pct(v.agreement, 1),
            Cell::Num(v.cohen_kappa, 3),
            Cell::Num(v.fleiss_kappa, 3),
            Cell::Int(Some(v.disagreements.len() as i64)),
        ]);
    }
    let mut rc = Table::new(
        Key::RootCauses,
        "Root causes recorded while labeling",
        &["kind", "root cause", "posts"],
    );
    for (k, cause, n) in &r.root_causes {
        rc.rows.push(vec![
            Cell::text(r.category_name(k)),
            Cell::text(cause),
            Cell::Int(Some(*n)),
        ]);
    }
    vec![c, a, rc]
}

/// Builds the report's tables, then its page around them.
pub fn build(r: &ReportInput) -> Result<Report, PageError> {
    let tables = tables(r);
    let html = super::page::render(r, &tables)?;
    Ok(Report { tables, html })
}

/// Every table of the report, in the order they are written.
pub fn tables(r: &ReportInput) -> Vec<Table> {
    let mut tables = data_tables(r);
    tables.push(table1(r));
    if let Some((e, stale)) = &r.estimate {
        tables.push(estimate_table(r, e, stale.as_deref()));
        if !e.trend.is_empty() {
            tables.push(ppi_trend_table(r, e, stale.as_deref()));
        }
        if !e.per_framework.is_empty() {
            tables.push(estimate_group_table(r, e, "framework", stale.as_deref()));
        }
        if !e.per_year.is_empty() {
            tables.push(estimate_group_table(r, e, "year", stale.as_deref()));
        }
    }
    if let Some(f) = &r.findings {
        tables.extend(category_tables(r, f));
        tables.extend(difficulty_tables(r, f));
        if let Some(e) = &r.endorsed {
            tables.push(super::rq::endorsed_table(r, e));
        }
    }
    if let Some(c) = &r.causes {
        tables.extend(super::rq::cause_tables(r, c));
    }
    tables.extend(quality_tables(r));
    tables
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::analyze::{findings, stats};
    use crate::classify::eval::Confusion;
    use crate::store::QuestionFacts;
    use crate::study::{MatchMode, PublishedClassifier};

    const HOUR: i64 = 3_600_000;
    /// 2018-01-01T00:00:00Z.
    const T0: i64 = 1_514_764_800_000;

    /// Eight questions on one site, two frameworks, two kinds, two years:
    /// crash ones answered within hours, performance ones mostly waiting.
    fn input() -> ReportInput {
        let q = |id: i64, year_ms: i64, fw: &str, accepted_h: Option<i64>| QuestionFacts {
            site: "stackoverflow.com".into(),
            id,
            created: if year_ms == 0 {
                "2018-01-01"
            } else {
                "2019-01-01"
            }
            .into(),
            created_ms: T0 + year_ms,
            view_count: Some(10 * id),
            accepted_answer_id: accepted_h.map(|_| 1000 + id),
            accepted_ms: accepted_h.map(|h| T0 + year_ms + h * HOUR),
            first_answer_ms: accepted_h.map(|h| T0 + year_ms + h * HOUR),
            frameworks: vec![fw.into()],
            as_of_ms: T0 + 800 * 24 * HOUR,
        };
        let year = 365 * 24 * HOUR;
        let facts = vec![
            q(1, 0, "tf", Some(1)),
            q(2, 0, "tf", Some(2)),
            q(3, 0, "pt", Some(3)),
            q(4, year, "pt", Some(4)),
            q(5, 0, "tf", None),
            q(6, year, "tf", Some(30)),
            q(7, year, "pt", None),
            q(8, year, "pt", None),
        ];
        let kind = |id: i64| if id <= 4 { "crash" } else { "performance" };
        let classified: HashMap<crate::PostKey, String> = facts
            .iter()
            .map(|f| (f.key(), kind(f.id).to_string()))
            .collect();
        let keys = vec!["crash".to_string(), "performance".to_string()];
        let fw_keys = vec!["tf".to_string(), "pt".to_string()];
        let frameworks = vec![
            ("tf".to_string(), "TensorFlow".to_string()),
            ("pt".to_string(), "PyTorch".to_string()),
        ];
        let framework = |key: &str, name: &str| Framework {
            key: key.into(),
            name: name.into(),
            enabled: true,
            match_mode: MatchMode::Exact,
            tags: vec![key.into()],
        };
        let category = |key: &str, name: &str| Category {
            key: key.into(),
            name: name.into(),
            description: String::new(),
            keywords: Vec::new(),
        };
        let confusion = Confusion {
            categories: keys.clone(),
            matrix: vec![vec![3, 1], vec![0, 4]],
        };
        ReportInput {
            study_name: "A <small> study".into(),
            frameworks: vec![framework("tf", "TensorFlow"), framework("pt", "PyTorch")],
            categories: vec![
                category("crash", "Program crash"),
                category("performance", "Performance"),
            ],
            sites: Vec::new(),
            ingests: Vec::new(),
            stats: stats::compute(&frameworks, &facts),
            findings: Some(findings::compute(
                &facts,
                &classified,
                &keys,
                &fw_keys,
                Some(&confusion.matrix),
                0,
            )),
            model: None,
            published: Some(Published {
                source: "A & B, 2019".into(),
                classifier: Some(PublishedClassifier {
                    precision: 0.8,
                    recall: 0.7,
                    protocol: "a 50/50 split of 10 posts".into(),
                    posts: 5,
                }),
                caveats: vec!["Counted <twice>.".into()],
                ..Published::default()
            }),
            agree: vec![(
                "dl".into(),
                Agreement {
                    items: 8,
                    partial_items: 0,
                    annotators: vec!["a".into(), "b".into()],
                    agreement: Some(0.875),
                    cohen_kappa: Some(0.75),
                    fleiss_kappa: None,
                    per_category: BTreeMap::new(),
                    per_root_cause: Vec::new(),
                    confusion: None,
                    disagreements: vec![crate::label::agree::Disagreement {
                        site: "stackoverflow.com".into(),
                        post_id: 5,
                        labels: BTreeMap::new(),
                        adjudicated: None,
                    }],
                },
            )],
            evals: vec![(
                "dl".into(),
                Evaluation {
                    model: "kw".into(),
                    protocol: "cv5".into(),
                    warning: None,
                    items: 8,
                    accuracy: 0.875,
                    lenient_accuracy: 0.9,
                    macro_precision: 0.9,
                    macro_recall: 0.875,
                    macro_f1: 0.873,
                    micro_f1: 0.875,
                    per_category: BTreeMap::new(),
                    per_source: BTreeMap::new(),
                    confusion,
                },
            )],
            confusion_source: Some("eval on label set dl (cv5)".into()),
            root_causes: Vec::new(),
            estimate: None,
            sample_size: 8,
            endorsed: None,
            causes: None,
            root_cause_defs: Vec::new(),
        }
    }

    fn rows(report: &Report, key: Key) -> Vec<Vec<String>> {
        report
            .tables
            .iter()
            .find(|t| t.key == key)
            .unwrap_or_else(|| panic!("no table {key:?}"))
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::human).collect())
            .collect()
    }

    #[test]
    fn every_table_appears_once_on_the_page() {
        let report = build(&input()).unwrap();
        let names: Vec<&str> = report.tables.iter().map(|t| t.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for t in &report.tables {
            // Root causes recorded while labeling: shown only when there are some.
            let shown = t.key != Key::RootCauses || !t.rows.is_empty();
            assert_eq!(
                report.html.matches(&format!("id=\"t-{}\"", t.name)).count(),
                usize::from(shown),
                "{}",
                t.name
            );
            assert_eq!(t.name, t.key.name());
        }
        assert!(
            report
                .html
                .starts_with("<!doctype html><html lang=\"en\"><head>")
        );
        assert!(report.html.ends_with("</footer></body></html>\n"));
        assert_eq!(report.html.lines().count(), 1, "the page is one line");
    }

    #[test]
    fn the_page_escapes_the_study_and_states_its_counts() {
        let html = build(&input()).unwrap().html;
        assert!(html.contains("<title>A &lt;small&gt; study · stackmine report</title>"));
        assert!(html.contains(
            "<p class=\"key\">8 questions from 0 sites, 8 classified.</p><nav><a href=\"#data\">Data</a>"
        ));
        // No root-cause codes in the study: no section, no link.
        assert!(!html.contains("#causes"));
        assert!(html.contains("<p>Beside this run's figures above: A &amp; B, 2019."));
        assert!(html.contains("<li>Counted &lt;twice&gt;.</li><li>This run classifies"));
        // Without comments, RQ2's sensitivity says why it is missing.
        assert!(html.contains(&format!(
            "<p>{}</p>",
            super::super::svg::esc(super::super::rq::NO_COMMENTS)
        )));
        // The charts are inline SVG with their text alternative.
        for id in ["dist", "fw", "years", "rates", "hours", "km"] {
            assert!(
                html.contains(&format!("aria-labelledby=\"{id}-t {id}-d\"")),
                "{id}"
            );
        }
    }

    #[test]
    fn counts_and_shares_come_from_the_findings() {
        let report = build(&input()).unwrap();
        let cats = rows(&report, Key::Categories);
        assert_eq!(cats[0][..3], ["Program crash", "4", "50.0 %"]);
        assert_eq!(cats[1][..3], ["Performance", "4", "50.0 %"]);
        let by_fw = rows(&report, Key::CategoriesByFramework);
        assert_eq!(by_fw[0], ["TensorFlow", "2", "2", "4"]);
        assert_eq!(by_fw[1], ["PyTorch", "2", "2", "4"]);
        let by_year = rows(&report, Key::CategoriesByYear);
        assert_eq!(by_year[0], ["2018", "3", "1", "4", "—"]);
        assert_eq!(by_year[1], ["2019", "1", "3", "4", "—"]);
        let difficulty = rows(&report, Key::Difficulty);
        // Crash: all 4 accepted, after 1, 2, 3 and 4 hours.
        assert_eq!(difficulty[0][..4], ["Program crash", "4", "4", "100.0 %"]);
        assert_eq!(difficulty[0][9], "2.500");
        assert_eq!(difficulty[1][..4], ["Performance", "4", "1", "25.0 %"]);
    }

    #[test]
    fn quality_rows_read_the_typed_results_and_the_published_setup() {
        let report = build(&input()).unwrap();
        let c = rows(&report, Key::Classifier);
        assert_eq!(
            c[0],
            [
                "eval of kw on label set dl",
                "cv5",
                "8",
                "87.5 %",
                "90.0 %",
                "0.873",
                "0.900",
                "0.875"
            ]
        );
        assert_eq!(
            c[1],
            [
                "published (the study's keyword model)",
                "a 50/50 split of 10 posts",
                "5",
                "—",
                "—",
                "—",
                "0.800",
                "0.700"
            ]
        );
        let a = rows(&report, Key::Agreement);
        assert_eq!(a[0], ["dl", "8", "a, b", "87.5 %", "0.750", "—", "1"]);
        // The adjusted share's note names where its confusion came from.
        let cats = report
            .tables
            .iter()
            .find(|t| t.key == Key::Categories)
            .unwrap();
        assert!(
            cats.note
                .as_deref()
                .unwrap()
                .contains("as measured by eval on label set dl (cv5)")
        );
    }

    #[test]
    fn without_classified_questions_the_page_says_what_to_run() {
        let mut r = input();
        r.findings = None;
        r.published = None;
        let report = build(&r).unwrap();
        assert!(report.tables.iter().all(|t| t.key != Key::Categories));
        assert!(report.html.contains(
            "<h2 id=\"kinds\">Kinds of questions</h2><p>No question is classified yet: run <code>stackmine classify</code>.</p>"
        ));
        assert!(
            report
                .html
                .contains("<p>The study file gives no published figures to compare with.</p>")
        );
        assert!(!report.html.contains("<svg"));
    }

    #[test]
    fn root_cause_codes_without_coded_posts_get_a_section_saying_so() {
        let mut r = input();
        r.root_cause_defs = vec![crate::study::RootCause {
            key: "gpu".into(),
            name: "GPU computation".into(),
            description: String::new(),
        }];
        let html = build(&r).unwrap().html;
        assert!(html.contains("<a href=\"#causes\">Root causes</a><a href=\"#quality\">"));
        assert!(html.contains(&format!(
            "<h2 id=\"causes\">Root causes</h2><p>{}</p><h2 id=\"quality\">",
            super::super::svg::esc(super::super::rq::NO_CODES)
        )));
    }

    #[test]
    fn published_classifier_defaults_reproduce_the_study_setup() {
        let p: Published =
            toml::from_str("source = \"s\"\n[classifier]\nprecision = 0.796\nrecall = 0.7\n")
                .unwrap();
        let c = p.classifier.unwrap();
        assert_eq!(
            c.protocol,
            "60/40 split of 715 posts; correct when any of the post's labels"
        );
        assert_eq!(c.posts, 286);
    }
}

//! The study report's page (`index.html`): [`Page`] gathers the escaped
//! sentences, rendered tables and charts of a [`ReportInput`], and
//! templates/report.html (askama, checked at compile time) lays them out.
//! The tables themselves are built in [`super::study`].

use askama::Template;

use super::fmt::{int, num};
use super::rq;
use super::study::{
    ReportInput, collapsed, estimate_sentence, p_text, trend_sentence, uncorrected,
};
use super::svg::{self, Series, esc};
use super::table::{Key, Table};
use crate::analyze::findings::Findings;

/// The page's style sheet (one line, inlined: the page needs no other file).
const CSS: &str = include_str!("../../templates/report.css");

/// Why the page could not be written (a chart or the template failed to
/// format; with a `String` output this does not happen in practice).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the report page")]
pub struct PageError(#[source] askama::Error);

impl From<std::fmt::Error> for PageError {
    fn from(e: std::fmt::Error) -> PageError {
        PageError(e.into())
    }
}

/// A sentence and the table under it.
struct Finding {
    sentence: String,
    table: String,
}

/// The kinds and difficulty sections, when questions are classified.
struct Kinds {
    key_sentence: String,
    estimate: String,
    dist_chart: String,
    categories: String,
    framework_chart: String,
    by_framework: String,
    estimate_by_framework: String,
    years_chart: String,
    by_year: String,
    estimate_by_year: String,
    trend_sentence: String,
    trends: String,
    trends_ppi: String,
    rates_chart: String,
    hours_chart: String,
    difficulty: String,
    endorsed: Option<Finding>,
    no_comments: String,
    km_sentence: String,
    km_chart: String,
    time_to_accepted: String,
    time_to_first_answer: String,
    performance: Option<Finding>,
    kind_tests: String,
}

/// The root-cause section's tables and sentence.
struct Coded {
    sentence: String,
    codes: String,
    examples: String,
    by_kind: String,
    shares_by_kind: String,
}

/// The root-cause section: coded posts, codes but no coded post yet, or no
/// codes in the study (no section).
enum Causes {
    Coded(Coded),
    NoneCoded(String),
    NotStudied,
}

/// The published figures' section.
struct PublishedView {
    source: String,
    caveats: Vec<String>,
}

/// Everything the page shows, escaped or rendered.
#[derive(Template)]
#[template(path = "report.html", escape = "none")]
struct Page {
    css: &'static str,
    name: String,
    questions: String,
    sites: String,
    plural: &'static str,
    classified: String,
    causes_nav: bool,
    sites_table: String,
    ingest_table: String,
    table1: String,
    kinds: Option<Kinds>,
    causes: Causes,
    classifier: String,
    agreement: String,
    root_causes: String,
    published: Option<PublishedView>,
    version: &'static str,
}

/// The tables of a report, looked up by key.
struct Tables<'a>(&'a [Table]);

impl Tables<'_> {
    fn get(&self, key: Key) -> Option<&Table> {
        self.0.iter().find(|t| t.key == key)
    }

    /// The table's HTML, or nothing when the report has no such table.
    fn html(&self, key: Key) -> String {
        self.get(key).map(Table::html).unwrap_or_default()
    }
}

/// Renders the page of `r` around its `tables`.
pub fn render(r: &ReportInput, tables: &[Table]) -> Result<String, PageError> {
    let t = Tables(tables);
    let page = Page {
        css: CSS.trim_end(),
        name: esc(&r.study_name),
        questions: int(r.stats.all.questions),
        sites: int(r.sites.len() as u64),
        plural: if r.sites.len() == 1 { "" } else { "s" },
        classified: int(r.findings.as_ref().map_or(0, |f| f.classified)),
        causes_nav: r.causes.is_some() || !r.root_cause_defs.is_empty(),
        sites_table: t.html(Key::Sites),
        ingest_table: t.html(Key::Ingest),
        table1: t.html(Key::Table1),
        kinds: r.findings.as_ref().map(|f| kinds(r, f, &t)).transpose()?,
        causes: match &r.causes {
            Some(c) => Causes::Coded(Coded {
                sentence: esc(&rq::cause_sentence(r, c)),
                codes: t.html(Key::RootCauseCodes),
                examples: rq::examples_html(r, c),
                by_kind: t.html(Key::RootCausesByKind),
                shares_by_kind: t.html(Key::RootCauseSharesByKind),
            }),
            None if !r.root_cause_defs.is_empty() => Causes::NoneCoded(esc(rq::NO_CODES)),
            None => Causes::NotStudied,
        },
        classifier: t.html(Key::Classifier),
        agreement: t.html(Key::Agreement),
        root_causes: t
            .get(Key::RootCauses)
            .filter(|t| !t.rows.is_empty())
            .map(Table::html)
            .unwrap_or_default(),
        published: r.published.as_ref().map(|p| PublishedView {
            source: esc(&p.source),
            caveats: p.caveats.iter().map(|c| esc(c)).collect(),
        }),
        version: env!("CARGO_PKG_VERSION"),
    };
    let mut html = page.render().map_err(PageError)?;
    // askama drops the template file's last line break; the page has
    // always ended with one.
    html.push('\n');
    Ok(html)
}

fn kinds(r: &ReportInput, f: &Findings, t: &Tables) -> Result<Kinds, PageError> {
    let labels: Vec<String> = f.categories.iter().map(|c| r.category_name(c)).collect();
    let published = r.published.as_ref();
    let mut series = Vec::new();
    if let Some((e, stale)) = &r.estimate {
        let shares: Vec<Option<&crate::estimate::Share>> =
            f.categories.iter().map(|c| e.shares.get(c)).collect();
        series.push(Series {
            name: format!(
                "estimated from random sample {} ({}; n = {}{})",
                e.sample,
                match e.method {
                    crate::estimate::Method::Ppi => "PPI++",
                    _ => "cross-prediction",
                },
                int(e.labeled as u64),
                if stale.is_some() { ", stale" } else { "" }
            ),
            marker: false,
            values: shares.iter().map(|s| s.map(|s| s.estimate)).collect(),
            intervals: shares
                .iter()
                .map(|s| {
                    s.map(|s| crate::analyze::inference::Interval {
                        lo: s.low,
                        hi: s.high,
                    })
                })
                .collect(),
        });
    }
    series.push(Series {
        name: "classified".into(),
        marker: false,
        values: f.distribution.iter().map(|s| Some(s.share)).collect(),
        intervals: vec![None; labels.len()],
    });
    if let Some(adj) = &f.adjusted {
        series.push(Series {
            name: "adjusted for the classifier's errors (comparison; 95% CI)".into(),
            marker: false,
            values: adj.iter().map(|a| Some(a.share)).collect(),
            intervals: adj
                .iter()
                .map(|a| a.interval.filter(|i| collapsed(i).is_none()))
                .collect(),
        });
    }
    if let Some(p) = published.filter(|p| !p.distribution.is_empty()) {
        series.push(Series {
            name: "published".into(),
            marker: true,
            values: f
                .categories
                .iter()
                .map(|c| p.distribution.get(c).copied())
                .collect(),
            intervals: vec![None; labels.len()],
        });
    }
    let desc: Vec<String> = f
        .distribution
        .iter()
        .map(|s| {
            format!(
                "{} {}%",
                r.category_name(&s.category),
                num(Some(100.0 * s.share), 1)
            )
        })
        .collect();
    let key_sentence = match &r.estimate {
        Some((e, stale)) => esc(&estimate_sentence(r, e, stale.is_some())),
        None => esc(&uncorrected(r)),
    };
    let dist_chart = svg::grouped_hbars(
        "dist",
        "Share of questions per kind",
        &format!(
            "Share of the {} classified questions per kind: {}.",
            int(f.classified),
            desc.join(", ")
        ),
        "share of classified questions",
        &labels,
        &series,
    )?;
    let fw_rows: Vec<String> = f
        .per_framework
        .iter()
        .map(|(k, _)| r.framework_name(k))
        .collect();
    let fw_counts: Vec<Vec<u64>> = f.per_framework.iter().map(|(_, c)| c.clone()).collect();
    let framework_chart = svg::stacked_hbars(
        "fw",
        "Kinds of questions per framework",
        "The mix of kinds within each framework's classified questions, as shares.",
        &fw_rows,
        &labels,
        &fw_counts,
    )?;
    let years: Vec<String> = f.per_year.iter().map(|(y, _)| y.clone()).collect();
    let year_counts: Vec<Vec<u64>> = f.per_year.iter().map(|(_, c)| c.clone()).collect();
    let years_chart = svg::stacked_vbars(
        "years",
        "Questions per year, by kind",
        "Classified questions per creation year, stacked by kind.",
        &years,
        &labels,
        &year_counts,
    )?;
    let mut rate_series = vec![Series {
        name: "accepted-answer rate (95% Wilson CI)".into(),
        marker: false,
        values: f.difficulty.iter().map(|d| d.rate).collect(),
        intervals: f.difficulty.iter().map(|d| d.rate_interval).collect(),
    }];
    if let Some(p) = published.filter(|p| !p.accepted_rate.is_empty()) {
        rate_series.push(Series {
            name: "published".into(),
            marker: true,
            values: f
                .categories
                .iter()
                .map(|c| p.accepted_rate.get(c).copied())
                .collect(),
            intervals: vec![None; labels.len()],
        });
    }
    let rows: Vec<svg::BoxRow> = f
        .difficulty
        .iter()
        .map(|d| svg::BoxRow {
            label: r.category_name(&d.category),
            stats: d.hours.clone(),
            published: published.and_then(|p| p.hours.get(&d.category).copied()),
        })
        .collect();
    let rates_chart = svg::grouped_hbars(
        "rates",
        "Questions with an accepted answer, per kind",
        "Accepted-answer rate per kind with 95% Wilson intervals, and the published rates.",
        "share with an accepted answer",
        &labels,
        &rate_series,
    )?;
    let hours_chart = svg::log_boxplots(
        "hours",
        "Hours to the accepted answer, per kind",
        "Box plots on a log scale of the hours from question to accepted answer per kind, with the median's bootstrap interval and the published quartiles.",
        &rows,
    )?;
    let curves: Vec<svg::Curve> = f
        .curves
        .iter()
        .map(|c| svg::Curve {
            label: r.category_name(&c.category),
            points: c.points.clone(),
            published_median: published
                .and_then(|p| p.hours.get(&c.category))
                .map(|h| h[1]),
        })
        .collect();
    let km_desc: Vec<String> = f
        .curves
        .iter()
        .map(|c| {
            format!(
                "{} {} within a day",
                r.category_name(&c.category),
                c.summary.p_within[1]
                    .map_or("—".into(), |p| format!("{} %", num(Some(100.0 * p), 1)))
            )
        })
        .collect();
    let km_chart = svg::km_curves(
        "km",
        "Share of questions with an accepted answer by each time, per kind",
        &format!(
            "Kaplan–Meier curves per kind on a log time axis; questions without an accepted answer count as still waiting at the dump's date. Diamonds on the 50 % line: the study's published medians (among accepted questions). {}.",
            km_desc.join(", ")
        ),
        "hours since the question (log scale; under a minute drawn at one minute)",
        &curves,
    )?;
    Ok(Kinds {
        key_sentence,
        estimate: t.html(Key::Estimate),
        dist_chart,
        categories: t.html(Key::Categories),
        framework_chart,
        by_framework: t.html(Key::CategoriesByFramework),
        estimate_by_framework: t.html(Key::EstimateByFramework),
        years_chart,
        by_year: t.html(Key::CategoriesByYear),
        estimate_by_year: t.html(Key::EstimateByYear),
        trend_sentence: esc(&trend_sentence(r, f)),
        trends: t.html(Key::CategoryTrends),
        trends_ppi: t.html(Key::CategoryTrendsPpi),
        rates_chart,
        hours_chart,
        difficulty: t.html(Key::Difficulty),
        endorsed: r.endorsed.as_ref().map(|e| Finding {
            sentence: esc(&rq::endorsed_sentence(r, e)),
            table: t.html(Key::AcceptedOrEndorsed),
        }),
        no_comments: esc(rq::NO_COMMENTS),
        km_sentence: esc(&km_sentence(r)),
        km_chart,
        time_to_accepted: t.html(Key::TimeToAccepted),
        time_to_first_answer: t.html(Key::TimeToFirstAnswer),
        performance: f.performance.as_ref().map(|p| Finding {
            sentence: esc(&performance_sentence(p)),
            table: t.html(Key::PerformanceTest),
        }),
        kind_tests: t.html(Key::KindTests),
    })
}

/// The sentence over the Kaplan–Meier chart: all questions' shares with an
/// accepted answer within a day and 30 days, and the median.
fn km_sentence(r: &ReportInput) -> String {
    let all = &r.stats.all.acceptance_km;
    let share = |i: usize| match (all.p_within[i], all.p_within_ci[i]) {
        (Some(p), Some([lo, hi])) => format!(
            "{} % [{}, {}]",
            num(Some(100.0 * p), 1),
            num(Some(100.0 * lo), 1),
            num(Some(100.0 * hi), 1)
        ),
        _ => "—".into(),
    };
    let median = match (all.median_hours, &all.median_reason) {
        (Some(m), _) => format!(
            "half have one after {} hours (the Kaplan–Meier median)",
            num(Some(m), 1)
        ),
        (None, Some(why)) => format!("there is no median time: {why}"),
        (None, None) => "there is no median time".into(),
    };
    format!(
        "Counting the {} questions still waiting at the dump's date, {} of all questions had an accepted answer within a day and {} within 30 days \
         (Kaplan–Meier estimates with 95 % Greenwood log(−log) intervals); {median}.",
        int(all.censored),
        share(1),
        share(3)
    )
}

/// The verdict on "are performance questions harder?".
fn performance_sentence(p: &crate::analyze::findings::PerformanceTest) -> String {
    let verdict = match (p.chi_square, p.mann_whitney) {
        (Some(c), Some(m)) => format!(
            "Performance questions get an accepted answer in {}% of cases against {}% for the other kinds (Pearson χ² = {}, p {}), and wait a median {} h against {} h among accepted questions (Mann–Whitney U, p {}, Cliff's δ = {}).",
            num(Some(100.0 * p.rate_performance), 1),
            num(Some(100.0 * p.rate_others), 1),
            num(Some(c.chi2), 2),
            p_text(c.p),
            num(p.median_hours_performance, 2),
            num(p.median_hours_others, 2),
            p_text(m.p),
            num(Some(m.cliffs_delta), 3)
        ),
        _ => "Too few questions to test.".into(),
    };
    match p.log_rank {
        Some(l) => format!(
            "{verdict} Counting the questions still waiting, the log-rank test of their time to an accepted answer gives χ² = {}, p {}.",
            num(Some(l.statistic), 3),
            p_text(l.p)
        ),
        None => verdict,
    }
}

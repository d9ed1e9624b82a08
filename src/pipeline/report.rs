//! The report stage: gathers what the report shows from the open study (its
//! classifications, the model that made them, stored results, endorsed
//! answers, root-cause codes), has `report::study` build the tables and the
//! page, and writes every file all or nothing. Prints nothing: what the
//! user should know comes back as notes.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::{PipelineError, StudyData};
use crate::PostKey;
use crate::analyze::causes::{self, CauseSummary};
use crate::analyze::{confusion, findings};
use crate::classify::model::ModelError;
use crate::classify::select;
use crate::endorse;
use crate::estimate::{self, EstimateError};
use crate::report::output::Output;
use crate::report::page::PageError;
use crate::report::paper;
use crate::report::rq::EndorsedRates;
use crate::report::study::{ReportInput, build};
use crate::sample::SampleError;
use crate::store::Classified;

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The stored classifications use categories the study does not have.
    #[error(
        "the classifications (model {}) use the categories {}, the study has {}: classify again with a model of the study's categories",
        model.as_deref().unwrap_or("?"),
        used.join(", "),
        study.join(", ")
    )]
    Categories {
        model: Option<String>,
        used: Vec<String>,
        study: Vec<String>,
    },
    #[error("the classifications cannot be reported: classify again")]
    Model(#[source] ModelError),
    #[error(transparent)]
    Estimate(#[from] EstimateError),
    #[error(transparent)]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("cannot render table {name}")]
    Table {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// What writing the report did.
#[derive(Debug)]
pub struct Reported {
    /// index.html's path.
    pub index: PathBuf,
    /// What the report left out or recomputed, and why, for the user.
    pub notes: Vec<String>,
}

/// Writes the report of the study `data` holds into `out`: index.html, every
/// table as CSV, JSON, Markdown and LaTeX, the figures and CITATION.md, all
/// or nothing (see `report::output`). Never writes to the store: stale
/// stored endorsements are recomputed in memory, with a note.
pub fn write_report(data: &StudyData, out: &Path) -> Result<Reported, PipelineError> {
    let (study, store, facts, stats) = (&data.study, &data.store, &data.facts, &data.stats);
    let mut notes = Vec::new();
    let frameworks: Vec<_> = study.enabled_frameworks().into_iter().cloned().collect();
    let fw_keys = study.framework_keys();
    let (model_name, categories_of) = store.classifications()?;
    let keys = study.category_keys();
    let used: BTreeSet<&String> = categories_of.values().collect();
    if used.iter().any(|c| !keys.contains(c)) {
        return Err(ReportError::Categories {
            model: model_name,
            used: used.into_iter().cloned().collect(),
            study: keys,
        }
        .into());
    }
    // A model that is gone (or unreadable) only loses the report its
    // confusion-corrected shares and its validation.
    let model = match &model_name {
        Some(name) => select::find_model(&data.dir, name).ok(),
        None => None,
    };
    if let Some(m) = &model {
        m.check_categories(&keys).map_err(ReportError::Model)?;
    }
    let evals = store.latest_evals()?;
    let agree = store.latest_agreements()?;
    for u in evals.unreadable.iter().chain(&agree.unreadable) {
        notes.push(format!(
            "stored result {} is not readable by this build ({}); the report leaves it out",
            u.key, u.why
        ));
    }
    let evals = evals.found;
    let correction = confusion::choose(model.as_ref().map(Into::into), &evals, &keys);
    let confusion = correction.as_ref().map(|c| c.matrix.clone());
    let confusion_source = correction.map(|c| c.source);
    let findings = (!categories_of.is_empty()).then(|| {
        findings::compute(
            facts,
            &categories_of,
            &keys,
            &fw_keys,
            confusion.as_deref(),
            study.meta.seed,
        )
    });
    // The latest ingest of each (site, source), oldest first.
    let mut seen = HashSet::new();
    let mut ingests: Vec<_> = store
        .ingest_log(10_000)?
        .into_iter()
        .filter(|l| seen.insert((l.site.clone(), l.source.clone())))
        .collect();
    ingests.reverse();
    let estimate = match store.latest_result("estimate:")? {
        Some((key, json)) => match serde_json::from_str::<estimate::Stored>(&json) {
            Ok(e) => {
                let stale = estimate::staleness(store, &e, &fw_keys).map_err(ReportError::from)?;
                Some((e, stale))
            }
            Err(err) => {
                notes.push(format!(
                    "stored result {key} is not readable by this build ({err}); the report leaves it out"
                ));
                None
            }
        },
        None => None,
    };
    let sample_size =
        crate::sample::cochran_size(stats.all.questions, 0.95, 0.05).map_err(ReportError::from)?;
    let endorsed = match &findings {
        Some(_) => endorsed_rates(data, &categories_of, &keys, &mut notes)?,
        None => None,
    };
    let causes = root_cause_summary(data, &keys)?;
    let input = ReportInput {
        study_name: study.meta.name.clone(),
        frameworks,
        categories: study.categories.clone(),
        sites: store.sites()?,
        ingests,
        stats: stats.clone(),
        findings,
        model: model.map(|m| (m.name.clone(), m.kind().to_string(), m.validation.clone())),
        published: study.published.clone(),
        agree: agree.found,
        evals,
        confusion_source,
        root_causes: store.root_causes()?,
        estimate,
        sample_size,
        endorsed,
        causes,
        root_cause_defs: study.root_causes.clone(),
    };
    let report = build(&input).map_err(ReportError::from)?;
    // Every table, the paper's files, then index.html, all or nothing.
    let tables_dir = out.join("tables");
    let mut files = Output::new();
    for t in &report.tables {
        type Render<'a> = &'a dyn Fn(&mut Vec<u8>) -> std::io::Result<()>;
        let renders: [(&str, Render); 3] = [
            ("csv", &|b| t.write_csv(b)),
            ("json", &|b| t.write_json(b)),
            ("md", &|b| t.write_markdown(b)),
        ];
        for (ext, render) in renders {
            let mut bytes = Vec::new();
            render(&mut bytes).map_err(|source| ReportError::Table {
                name: t.name.to_string(),
                source,
            })?;
            files.add(tables_dir.join(format!("{}.{ext}", t.name)), bytes);
        }
    }
    paper::add_files(&input, &report, out, &mut files);
    let index = out.join("index.html");
    files.add(&index, report.html.into_bytes());
    files.commit()?;
    Ok(Reported { index, notes })
}

/// RQ2's sensitivity: the accepted-or-endorsed rates over the classified
/// questions; `None` when no site has comments ingested. Stale stored
/// endorsements are recomputed in memory, with a note.
fn endorsed_rates(
    data: &StudyData,
    categories_of: &Classified,
    keys: &[String],
    notes: &mut Vec<String>,
) -> Result<Option<EndorsedRates>, PipelineError> {
    let counts = data.store.comment_counts()?;
    if counts.iter().all(|(_, n)| *n == 0) {
        return Ok(None);
    }
    let (found, source) = endorse::read(&data.store, &data.study)?;
    if let endorse::Source::InMemory(why) = &source {
        notes.push(format!(
            "the stored endorsed answers are stale ({why}); the report computes them from study.toml's lists (stackmine endorsements stores them)"
        ));
    }
    let endorsed: HashSet<PostKey> = found
        .iter()
        .map(|e| PostKey::new(e.site.clone(), e.question_id))
        .collect();
    Ok(Some(EndorsedRates {
        rows: endorse::sensitivity(&data.facts, categories_of, keys, &endorsed),
        endorsing_comments: found.len() as u64,
        sites_without_comments: counts
            .into_iter()
            .filter(|(_, n)| *n == 0)
            .map(|(s, _)| s)
            .collect(),
    }))
}

/// RQ3: the root-cause codes of the labeled posts; `None` when none carries
/// a code of the study.
fn root_cause_summary(
    data: &StudyData,
    kinds: &[String],
) -> Result<Option<CauseSummary>, PipelineError> {
    let rows: Vec<causes::LabelCodes> = data
        .store
        .root_cause_codes()?
        .into_iter()
        .map(|r| causes::LabelCodes {
            set: r.set,
            site: r.site,
            post_id: r.post_id,
            is_final: r.is_final,
            kind: r.kind,
            codes: r.codes,
        })
        .collect();
    let summary = causes::summarize(&rows, &data.study.root_cause_keys(), kinds);
    Ok((summary.coded > 0).then_some(summary))
}

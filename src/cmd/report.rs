//! `stackmine report --study DIR [--out DIR/report]`: the entry point for the
//! study's report: a self-contained `index.html` (inline SVG and CSS, no
//! network) and every table as CSV, JSON and Markdown under `tables/`. Reads
//! every question's facts and category (a few dozen bytes each); the same
//! study gives byte-identical files wherever it lives.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use stackmine::analyze::causes::{self, CauseSummary};
use stackmine::analyze::confusion;
use stackmine::analyze::findings;
use stackmine::endorse;
use stackmine::estimate;
use stackmine::report::output::Output;
use stackmine::report::rq::EndorsedRates;
use stackmine::report::study::{ReportInput, build};

use stackmine::pipeline::StudyData;

use super::model::find_model;
use super::printer::Printer;
use super::stats as stats_cmd;
use crate::cli::ReportArgs;

pub fn run(args: ReportArgs, p: Printer) -> Result<()> {
    let data = stats_cmd::load(&args.study.dir, args.as_of.as_deref())?;
    let out = args.out.unwrap_or_else(|| data.dir.report_dir());
    let index = write_report(&data, &out, p)?;
    println!("report written to {}", index.display());
    Ok(())
}

/// Writes the report of the study `data` holds (read by `pipeline::load`,
/// its classifications read here) into `out`; returns index.html's path.
pub fn write_report(data: &StudyData, out: &Path, p: Printer) -> Result<PathBuf> {
    let (study, store, facts, stats) = (&data.study, &data.store, &data.facts, &data.stats);
    let dir = data.dir.root();
    let frameworks: Vec<_> = study.enabled_frameworks().into_iter().cloned().collect();
    let (model_name, categories_of) = store.classifications()?;
    let keys: Vec<String> = study.categories.iter().map(|c| c.key.clone()).collect();
    let used: std::collections::BTreeSet<&String> = categories_of.values().collect();
    if used.iter().any(|c| !keys.contains(c)) {
        anyhow::bail!(
            "the classifications (model {}) use the categories {}, the study has {}: classify again with a model of the study's categories",
            model_name.as_deref().unwrap_or("?"),
            used.into_iter().cloned().collect::<Vec<_>>().join(", "),
            keys.join(", ")
        );
    }
    let model = match &model_name {
        Some(name) => find_model(dir, name).ok(),
        None => None,
    };
    if let Some(m) = &model {
        m.check_categories(&keys)
            .context("the classifications cannot be reported: classify again")?;
    }
    let evals = store.latest_evals()?;
    let agree = store.latest_agreements()?;
    for u in evals.unreadable.iter().chain(&agree.unreadable) {
        eprintln!(
            "note: stored result {} is not readable by this build ({}); the report leaves it out",
            u.key, u.why
        );
    }
    let evals = evals.found;
    let correction = confusion::choose(model.as_ref().map(Into::into), &evals, &keys);
    let confusion = correction.as_ref().map(|c| c.matrix.clone());
    let confusion_source = correction.map(|c| c.source);
    let findings = (!categories_of.is_empty()).then(|| {
        let fw_keys: Vec<String> = frameworks.iter().map(|f| f.key.clone()).collect();
        findings::compute(
            facts,
            &categories_of,
            &keys,
            &fw_keys,
            confusion.as_deref(),
            study.meta.seed,
        )
    });
    let mut seen = HashSet::new();
    let ingests = store
        .ingest_log(10_000)?
        .into_iter()
        .filter(|l| seen.insert((l.site.clone(), l.source.clone())))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let fw_keys: Vec<String> = frameworks.iter().map(|f| f.key.clone()).collect();
    let estimate = match store.latest_result("estimate:")? {
        Some((key, json)) => match serde_json::from_str::<estimate::Stored>(&json) {
            Ok(e) => {
                let stale = estimate::staleness(store, &e, &fw_keys)?;
                Some((e, stale))
            }
            Err(err) => {
                p.note(format_args!(
                    "stored result {key} is not readable by this build ({err}); the report leaves it out"
                ));
                None
            }
        },
        None => None,
    };
    let sample_size = stackmine::sample::cochran_size(stats.all.questions, 0.95, 0.05)?;
    let endorsed = match &findings {
        Some(_) => endorsed_rates(data, &categories_of, &keys, p)?,
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
    let report = build(&input)?;
    // Every table, then index.html, all or nothing (see report::output).
    let tables_dir = out.join("tables");
    let mut files = Output::new();
    for t in &report.tables {
        let write = |ext: &str,
                     f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>|
         -> Result<(PathBuf, Vec<u8>)> {
            let mut buf = Vec::new();
            f(&mut buf)?;
            Ok((tables_dir.join(format!("{}.{ext}", t.name)), buf))
        };
        for (path, bytes) in [
            write("csv", &|b| t.write_csv(b))?,
            write("json", &|b| t.write_json(b))?,
            write("md", &|b| t.write_markdown(b))?,
        ] {
            files.add(path, bytes);
        }
    }
    let index = out.join("index.html");
    super::paper::add(&input, &report, out, &mut files);
    files.add(&index, report.html.into_bytes());
    files.commit()?;
    Ok(index)
}

/// RQ2's sensitivity: the accepted-or-endorsed rates over the classified
/// questions; `None` when no site has comments ingested. The report never
/// writes: stale stored endorsements are recomputed in memory (with a note).
fn endorsed_rates(
    data: &StudyData,
    categories_of: &stackmine::store::Classified,
    keys: &[String],
    p: Printer,
) -> Result<Option<EndorsedRates>> {
    let counts = data.store.comment_counts()?;
    if counts.iter().all(|(_, n)| *n == 0) {
        return Ok(None);
    }
    let (found, source) = endorse::read(&data.store, &data.study)?;
    if let endorse::Source::InMemory(why) = &source {
        p.note(format_args!(
            "the stored endorsed answers are stale ({why}); the report computes them from study.toml's lists (stackmine endorsements stores them)"
        ));
    }
    let endorsed: HashSet<(String, i64)> = found
        .iter()
        .map(|e| (e.site.clone(), e.question_id))
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
fn root_cause_summary(data: &StudyData, kinds: &[String]) -> Result<Option<CauseSummary>> {
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
    let keys: Vec<String> = data
        .study
        .root_causes
        .iter()
        .map(|c| c.key.clone())
        .collect();
    let summary = causes::summarize(&rows, &keys, kinds);
    Ok((summary.coded > 0).then_some(summary))
}

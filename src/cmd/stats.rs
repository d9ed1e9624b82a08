//! `stackmine stats --study DIR [--json]`: the entry point for the study's
//! Table I and answer statistics, per framework and for all questions. Reads
//! the facts of every question from the store (a few dozen bytes each).

use std::path::Path;

use anyhow::Result;
use stackmine::analyze::stats::{self, Stats};
use stackmine::report;
use stackmine::report::output::Output;
use stackmine::store::{QuestionFacts, STORE_FILE, Store};
use stackmine::study::Study;

use crate::cli::StatsArgs;

pub fn run(args: StatsArgs) -> Result<()> {
    let stats = load(&args.study.study)?.stats;
    let out = std::io::stdout().lock();
    if args.json {
        report::stats::render_json(&stats, out)?;
    } else {
        report::stats::render_markdown(&stats, out)?;
    }
    Ok(())
}

/// What `stats`, `report` and `run` read of a study: its file, its store,
/// every question's facts, and the statistics computed from them.
pub struct StudyData {
    pub study: Study,
    pub store: Store,
    pub facts: Vec<QuestionFacts>,
    pub stats: Stats,
}

/// Reads the study at `dir` and computes its statistics.
pub fn load(dir: &Path) -> Result<StudyData> {
    let study = Study::load(dir)?;
    let store = Store::open_read_only(&dir.join(STORE_FILE))?;
    let facts = store.question_facts()?;
    let frameworks: Vec<(String, String)> = study
        .enabled_frameworks()
        .iter()
        .map(|f| (f.key.clone(), f.name.clone()))
        .collect();
    let stats = stats::compute(&frameworks, &facts);
    Ok(StudyData {
        study,
        store,
        facts,
        stats,
    })
}

/// Writes the statistics as Markdown and JSON files, all or nothing.
pub fn write_files(stats: &Stats, dir: &Path) -> Result<()> {
    let mut md = Vec::new();
    report::stats::render_markdown(stats, &mut md)?;
    let mut json = Vec::new();
    report::stats::render_json(stats, &mut json)?;
    let mut out = Output::new();
    out.add(dir.join("stats.md"), md);
    out.add(dir.join("stats.json"), json);
    Ok(out.commit()?)
}

//! `stackmine stats --study DIR [--json]`: the entry point for the study's
//! Table I and answer statistics, per framework and for all questions. Reads
//! the facts of every question from the store (a few dozen bytes each).

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use stackmine::analyze::stats::{self, Stats};
use stackmine::report;
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
    let store = Store::open_existing(&dir.join(STORE_FILE))?;
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

/// Writes the statistics as Markdown and JSON files.
pub fn write_files(stats: &Stats, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut md = std::fs::File::create(dir.join("stats.md"))?;
    report::stats::render_markdown(stats, &mut md)?;
    md.flush()?;
    let mut json = std::fs::File::create(dir.join("stats.json"))?;
    report::stats::render_json(stats, &mut json)?;
    json.flush()?;
    Ok(())
}

//! `stackmine stats --study DIR [--json]`: the entry point for the study's
//! Table I and answer statistics, per framework and for all questions. Reads
//! the facts of every question from the store (a few dozen bytes each).

use std::path::Path;

use anyhow::{Result, bail};
use stackmine::analyze::stats::{self, Stats};
use stackmine::report;
use stackmine::report::output::Output;
use stackmine::store::{QuestionFacts, STORE_FILE, Store};
use stackmine::study::Study;

use crate::cli::StatsArgs;

pub fn run(args: StatsArgs) -> Result<()> {
    let stats = load(&args.study.study, args.as_of.as_deref())?.stats;
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

/// Reads the study at `dir` and computes its statistics. `as_of` (a dump
/// date `2017-03-13T16:32:33.657`, or a day `2017-03-14`, meaning its start,
/// UTC) overrides every site's dump date for the censored answer times.
pub fn load(dir: &Path, as_of: Option<&str>) -> Result<StudyData> {
    let study = Study::load(dir)?;
    let store = Store::open_read_only(&dir.join(STORE_FILE))?;
    let mut facts = store.question_facts()?;
    if let Some(date) = as_of {
        let ms = parse_as_of(date)?;
        if let Some(latest) = facts.iter().max_by_key(|q| q.created_ms) {
            if ms < latest.created_ms {
                bail!(
                    "--as-of {date} is before the latest question of the study ({}, question {} of {}): the dump's date cannot precede its questions",
                    latest.created,
                    latest.id,
                    latest.site
                );
            }
        }
        for q in &mut facts {
            q.as_of_ms = ms;
        }
    }
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

/// Parses `--as-of`: a dump date or a day (its start), UTC.
pub fn parse_as_of(date: &str) -> Result<i64> {
    let full = if date.len() == 10 {
        format!("{date}T00:00:00")
    } else {
        date.to_string()
    };
    // A day past the month's end (2019-02-30) would roll over: refuse it.
    let real_day = |ms: i64| stats::iso_ms(ms).get(..10) == full.get(..10);
    match stackmine::dump::row::parse_date_ms(&full).filter(|&ms| real_day(ms)) {
        Some(ms) => Ok(ms),
        None => bail!(
            "--as-of {date:?} is not a date: give a day (2017-03-14) or a dump date (2017-03-13T16:32:33.657), UTC"
        ),
    }
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

//! `stackmine stats --study DIR [--json]`: the entry point for the study's
//! Table I and answer statistics, per framework and for all questions. Reads
//! the facts of every question from the store (a few dozen bytes each).

use anyhow::{Result, bail};
use stackmine::pipeline::{self, PipelineError, StudyData};
use stackmine::report;
use stackmine::workspace::{Access, Workspace};

use super::printer::Printer;
use crate::cli::StatsArgs;

pub fn run(args: StatsArgs, _: Printer) -> Result<()> {
    let stats = load(&args.study.dir, args.as_of.as_deref())?.stats;
    let out = std::io::stdout().lock();
    if args.json {
        report::stats::render_json(&stats, out)?;
    } else {
        report::stats::render_markdown(&stats, out)?;
    }
    Ok(())
}

/// Opens the study at `dir` read-only and computes its statistics (see
/// `pipeline::load`), `as_of` as `--as-of` gives it.
pub fn load(dir: &std::path::Path, as_of: Option<&str>) -> Result<StudyData> {
    let ws = Workspace::open(dir, Access::ReadOnly)?;
    let as_of_ms = as_of.map(parse_as_of).transpose()?;
    pipeline::load(ws, as_of_ms).map_err(|e| user_error(e, as_of))
}

/// The library's error, naming `--as-of` as the user typed it.
pub fn user_error(err: PipelineError, as_of: Option<&str>) -> anyhow::Error {
    match (err, as_of) {
        (
            PipelineError::AsOfBeforeLatest {
                latest, id, site, ..
            },
            Some(date),
        ) => anyhow::anyhow!(
            "--as-of {date} is before the latest question of the study ({latest}, question {id} of {site}): the dump's date cannot precede its questions"
        ),
        (other, _) => other.into(),
    }
}

/// Parses `--as-of`: a dump date or a day (its start), UTC.
pub fn parse_as_of(date: &str) -> Result<i64> {
    let full = if date.len() == 10 {
        format!("{date}T00:00:00")
    } else {
        date.to_string()
    };
    // A day past the month's end (2019-02-30) would roll over: refuse it.
    let real_day = |ms: i64| stackmine::analyze::stats::iso_ms(ms).get(..10) == full.get(..10);
    match stackmine::dump::row::parse_date_ms(&full).filter(|&ms| real_day(ms)) {
        Some(ms) => Ok(ms),
        None => bail!(
            "--as-of {date:?} is not a date: give a day (2017-03-14) or a dump date (2017-03-13T16:32:33.657), UTC"
        ),
    }
}

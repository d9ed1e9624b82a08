//! `stackmine run DUMP... [--study DIR] [--out DIR]`: the entry point for the
//! main job. Creates the study with the default study file when it has none,
//! ingests the dumps, prints Table I and the answer statistics, classifies
//! every question with the default model, and writes the report (index.html
//! and tables) and the statistics (stats.md, stats.json) to the report folder.

use anyhow::Result;
use stackmine::report;
use stackmine::study::STUDY_FILE;

use super::{classify, ingest, init, report as report_cmd, stats};
use crate::cli::{ClassifyArgs, RunArgs, StudyArg};

pub fn run(args: RunArgs, quiet: bool) -> Result<()> {
    if let Some(date) = &args.as_of {
        // A bad date fails before anything is written.
        stats::parse_as_of(date)?;
    }
    if !args.study.join(STUDY_FILE).exists() {
        let path = init::write_default(&args.study, false)?;
        eprintln!("created {}", path.display());
    }
    let logs = ingest::ingest_into(&args.study, &args.dumps, &args.opts, quiet)?;
    ingest::print_logs(&logs, std::io::stdout().lock())?;
    let data = stats::load(&args.study, args.as_of.as_deref())?;
    let stats = &data.stats;
    let out = args.out.unwrap_or_else(|| args.study.join("report"));
    stats::write_files(stats, &out)?;
    println!();
    report::stats::render_markdown(stats, std::io::stdout().lock())?;
    println!();
    let bar = stage(quiet, "classifying questions with the default model");
    classify::run(
        ClassifyArgs {
            study: StudyArg {
                study: args.study.clone(),
            },
            model: None,
            model_file: None,
            stdin: false,
            encoder: None,
        },
        quiet,
    )?;
    bar.finish_and_clear();
    let bar = stage(quiet, "writing the report");
    let index = report_cmd::write_report(&data, &args.study, &out)?;
    bar.finish_and_clear();
    println!("\nreport written to {}", index.display());
    Ok(())
}

/// A spinner on stderr for a stage without a byte count (hidden with --quiet
/// or when stderr is not a terminal).
fn stage(quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

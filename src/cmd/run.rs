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
    if !args.study.join(STUDY_FILE).exists() {
        let path = init::write_default(&args.study, false)?;
        eprintln!("created {}", path.display());
    }
    let logs = ingest::ingest_into(&args.study, &args.dumps, &args.opts, quiet)?;
    ingest::print_logs(&logs, std::io::stdout().lock())?;
    let stats = stats::compute(&args.study)?;
    let out = args.out.unwrap_or_else(|| args.study.join("report"));
    stats::write_files(&stats, &out)?;
    println!();
    report::stats::render_markdown(&stats, std::io::stdout().lock())?;
    println!();
    classify::run(ClassifyArgs {
        study: StudyArg {
            study: args.study.clone(),
        },
        model: None,
    })?;
    let index = report_cmd::write_report(&args.study, &out)?;
    println!("\nreport written to {}", index.display());
    Ok(())
}

//! `stackmine run DUMP... [--study DIR] [--out DIR]`: the entry point for the
//! main job. Creates the study with the default study file when it has none,
//! ingests the dumps, computes the statistics and writes them to the report
//! folder (stats.md, stats.json), then prints the tables and the report's path.

use anyhow::Result;
use stackmine::report;
use stackmine::study::STUDY_FILE;

use super::{ingest, init, stats};
use crate::cli::RunArgs;

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
    println!("\nreport written to {}", out.display());
    Ok(())
}

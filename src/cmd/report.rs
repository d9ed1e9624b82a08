//! `stackmine report --study DIR [--out DIR/report]`: the entry point for the
//! study's report (`stackmine::pipeline::write_report`): a self-contained
//! `index.html` (inline SVG and CSS, no network) and every table as CSV,
//! JSON and Markdown under `tables/`. The same study gives byte-identical
//! files wherever it lives. Here: parse, call, print.

use anyhow::Result;
use stackmine::pipeline::{self, Reported};

use super::printer::Printer;
use super::stats as stats_cmd;
use crate::cli::ReportArgs;

pub fn run(args: ReportArgs, p: Printer) -> Result<()> {
    let data = stats_cmd::load(&args.study.dir, args.as_of.as_deref())?;
    let out = args.out.unwrap_or_else(|| data.dir.report_dir());
    let done = pipeline::write_report(&data, &out)?;
    show_notes(&done, p);
    println!("report written to {}", done.index.display());
    Ok(())
}

/// What the report left out or recomputed, as notes on stderr.
pub fn show_notes(done: &Reported, p: Printer) {
    for note in &done.notes {
        p.note(note);
    }
}

//! The paper's files beside a report: `figures/*.svg` (every chart, standalone),
//! `tables/*.tex` (every table as LaTeX booktabs) and `CITATION.md`. Added by
//! `report` and `run` to the report's files, which are written all or nothing;
//! the text comes from `stackmine::report::paper`.

use std::path::Path;

use stackmine::report::output::Output;
use stackmine::report::paper;
use stackmine::report::study::{Report, ReportInput};

/// Adds the figures, LaTeX tables and CITATION.md of `report` in `out` to `files`.
pub fn add(input: &ReportInput, report: &Report, out: &Path, files: &mut Output) {
    let figures = out.join("figures");
    for (name, svg) in paper::figures(&report.html) {
        files.add(figures.join(format!("{name}.svg")), svg.into_bytes());
    }
    let tables = out.join("tables");
    for t in &report.tables {
        files.add(
            tables.join(format!("{}.tex", t.name)),
            paper::latex(t).into_bytes(),
        );
    }
    files.add(out.join("CITATION.md"), paper::citation(input).into_bytes());
}

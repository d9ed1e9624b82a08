//! The paper's files beside a report: `figures/*.svg` (every chart, standalone),
//! `tables/*.tex` (every table as LaTeX booktabs) and `CITATION.md`. Called by
//! `report` and `run` after the page and tables are written; the text comes
//! from `stackmine::report::paper`.

use std::path::Path;

use anyhow::{Context, Result};
use stackmine::report::paper;
use stackmine::report::study::{Report, ReportInput};

/// Writes the figures, LaTeX tables and CITATION.md of `report` into `out`.
pub fn write(input: &ReportInput, report: &Report, out: &Path) -> Result<()> {
    let write = |path: &Path, text: &str| -> Result<()> {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures)
        .with_context(|| format!("cannot create {}", figures.display()))?;
    for (name, svg) in paper::figures(&report.html) {
        write(&figures.join(format!("{name}.svg")), &svg)?;
    }
    let tables = out.join("tables");
    for t in &report.tables {
        write(&tables.join(format!("{}.tex", t.name)), &paper::latex(t))?;
    }
    write(&out.join("CITATION.md"), &paper::citation(input))
}

//! `stackmine agree --study DIR --set NAME [--json]`: the entry point for
//! measuring agreement between a label set's annotators: percent agreement,
//! Cohen's kappa (two annotators) or Fleiss' kappa (three or more),
//! per-category and per-root-cause-code agreement, the confusion table and
//! the disagreements. Stores
//! the result in the study for the report. Holds the set in memory.

use anyhow::Result;
use stackmine::label::{self, agree};
use stackmine::report;
use stackmine::workspace::{Access, Workspace};

use super::printer::Printer;
use crate::cli::AgreeArgs;

pub fn run(args: AgreeArgs, _: Printer) -> Result<()> {
    let Workspace { study, store, .. } = Workspace::open(&args.study.dir, Access::Existing)?;
    let posts = label::gather(&store, &args.set)?;
    let categories = study.category_keys();
    let codes = study.root_cause_keys();
    let result = agree::measure_with_codes(&label::agreement_items(&posts), &categories, &codes);
    store.save_agreement(&args.set, &result)?;
    let out = std::io::stdout().lock();
    if args.json {
        report::agree::render_json(&args.set, &result, out)?;
    } else {
        report::agree::render_markdown(&args.set, &result, out)?;
    }
    Ok(())
}

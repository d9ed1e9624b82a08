//! `stackmine classify --study DIR [--model NAME]`: the entry point for
//! giving every question a category and a confidence (the built-in model when
//! none is named). Reads questions in batches of 4,096 (memory stays
//! bounded), predicts on all cores, and replaces the previous classification
//! in one transaction (`stackmine::pipeline::classify`). Prints the
//! distribution; timing goes to stderr. With a hybrid model each batch first
//! gets its embeddings: from the store's cache, or computed at about 30 ms
//! per question per core and cached, so a stopped run resumes where it was.

use anyhow::Result;
use stackmine::pipeline::{self, Classified};
use stackmine::report::fmt::{int, num};
use stackmine::workspace::{Access, Workspace};

use super::model::{Choice, precision, show_fallback, user_error};
use super::printer::{Printer, Style};
use crate::cli::ClassifyArgs;

pub fn run(args: ClassifyArgs, p: Printer) -> Result<()> {
    if args.stdin {
        return super::export::classify_stdin(&args, p);
    }
    let mut ws = Workspace::open(&args.study.dir, Access::Existing)?;
    let choice = Choice::of(args.model.as_deref(), args.model_file.as_deref());
    let loaded = match pipeline::choose_model(&ws, choice, precision()) {
        Ok(loaded) => loaded,
        Err(pipeline::PipelineError::Select(e)) => return Err(user_error(e)),
        Err(e) => return Err(e.into()),
    };
    show_fallback(&loaded, p);
    let done = pipeline::classify(&mut ws, &loaded, &p.bar(Style::Count))?;
    show(&done, p)
}

/// The distribution on stdout, the embedding and timing on stderr.
pub fn show(done: &Classified, p: Printer) -> Result<()> {
    use std::io::Write;
    let n = done.questions;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "classified {} questions with model {} ({})",
        int(n),
        done.model,
        done.kind
    )?;
    writeln!(out, "\n| category | questions | share |\n|---|--:|--:|")?;
    for (c, k) in &done.counts {
        writeln!(
            out,
            "| {c} | {} | {} % |",
            int(*k),
            num((n > 0).then(|| 100.0 * *k as f64 / n as f64), 1)
        )?;
    }
    drop(out);
    if let Some(name) = &done.encoder {
        p.info(format_args!(
            "embedded {} questions with {} ({} were cached)",
            int(done.embedded),
            name,
            int(n.saturating_sub(done.embedded))
        ));
    }
    let secs = done.elapsed.as_secs_f64();
    p.info(format_args!(
        "classified in {secs:.2} s ({:.0} questions/s)",
        n as f64 / secs.max(1e-9)
    ));
    Ok(())
}

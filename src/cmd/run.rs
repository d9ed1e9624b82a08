//! `stackmine run DUMP... [--study DIR] [--out DIR]`: the entry point for the
//! main job (`stackmine::pipeline::run`). Creates the study with the default
//! study file when it has none, ingests the dumps, prints Table I and the
//! answer statistics, classifies every question with the default model, and
//! writes the report (index.html and tables) and the statistics (stats.md,
//! stats.json) to the report folder. Here: parse, call, print.

use std::path::Path;

use anyhow::Result;
use stackmine::analyze::stats::Stats;
use stackmine::classify::select::Loaded;
use stackmine::ingest::Progress;
use stackmine::pipeline::{self, Classified, Ingested, Job, PipelineError, Reported, RunOptions};
use stackmine::report;

use super::model::{precision, show_fallback};
use super::printer::{Bar, Printer, Style};
use super::{classify, ingest, report as report_cmd, stats};
use crate::cli::RunArgs;

pub fn run(args: RunArgs, p: Printer) -> Result<()> {
    // A bad date fails before anything is written.
    let as_of_ms = args.as_of.as_deref().map(stats::parse_as_of).transpose()?;
    let opts = RunOptions {
        dir: args.study.clone(),
        dumps: args.dumps.clone(),
        ingest: ingest::options(&args.opts),
        as_of_ms,
        out: args.out.clone(),
        precision: precision(),
    };
    let mut job = RunJob {
        p,
        bytes: p.bar(Style::Bytes),
        embedding: p.bar(Style::Count),
        stage: None,
    };
    let index =
        pipeline::run(&opts, &mut job).map_err(|e| match e.downcast::<PipelineError>() {
            Ok(e @ PipelineError::Ingest { .. }) => ingest::user_error(e),
            Ok(e @ PipelineError::AsOfBeforeLatest { .. }) => {
                stats::user_error(e, args.as_of.as_deref())
            }
            Ok(PipelineError::Select(e)) => super::model::user_error(e),
            Ok(e) => e.into(),
            Err(e) => e,
        })?;
    println!("\nreport written to {}", index.display());
    Ok(())
}

/// What `run` shows after each stage.
struct RunJob {
    p: Printer,
    bytes: Bar,
    embedding: Bar,
    stage: Option<Bar>,
}

impl Job for RunJob {
    type Error = anyhow::Error;

    fn ingest_progress(&self) -> &dyn Progress {
        &self.bytes
    }

    fn embedding_progress(&self) -> &dyn Progress {
        &self.embedding
    }

    fn stage(&mut self, what: Option<&str>) {
        if let Some(bar) = self.stage.take() {
            bar.finish();
        }
        self.stage = what.map(|w| self.p.spinner(w));
    }

    fn created(&mut self, path: &Path) -> Result<()> {
        self.p.info(format_args!("created {}", path.display()));
        Ok(())
    }

    fn ingested(&mut self, done: &Ingested) -> Result<()> {
        Ok(ingest::show(done, self.p, std::io::stdout().lock())?)
    }

    fn stats(&mut self, stats: &Stats, _out: &Path) -> Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        report::stats::render_markdown(stats, &mut out)?;
        writeln!(out)?;
        Ok(())
    }

    fn model_chosen(&mut self, loaded: &Loaded) -> Result<()> {
        show_fallback(loaded, self.p);
        Ok(())
    }

    fn classified(&mut self, done: &Classified) -> Result<()> {
        classify::show(done, self.p)
    }

    fn reported(&mut self, done: &Reported) -> Result<()> {
        report_cmd::show_notes(done, self.p);
        Ok(())
    }
}

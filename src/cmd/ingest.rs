//! `stackmine ingest DUMP... --study DIR`: the entry point for reading dumps
//! into a study. Each DUMP is a Posts.xml, a dump folder (Posts.xml and
//! Comments.xml) or a .7z archive, read as a stream. Keeps questions whose
//! tags match an enabled framework (or all with --all-questions), their
//! answers and comments. All dumps are written in one transaction: on any
//! error the study is unchanged. Memory: a few chunks (8 MiB each) per core
//! plus what is kept. Prints what was kept and skipped; timing goes to stderr.

use std::io::Write;

use anyhow::Result;
use stackmine::ingest::{IngestError, IngestOptions};
use stackmine::pipeline::{self, Ingested, PipelineError};
use stackmine::report::fmt::{bytes, int};
use stackmine::store::IngestLog;
use stackmine::workspace::{Access, Workspace};

use super::printer::{Printer, Style};
use crate::cli::{IngestArgs, IngestOpts};

pub fn run(args: IngestArgs, p: Printer) -> Result<()> {
    let mut ws = Workspace::open(&args.study.dir, Access::Create)?;
    let done = pipeline::ingest(
        &mut ws,
        &args.dumps,
        &options(&args.opts),
        &p.bar(Style::Bytes),
    )
    .map_err(user_error)?;
    show(&done, p, std::io::stdout().lock())?;
    Ok(())
}

/// The library's options from the command line's.
pub fn options(opts: &IngestOpts) -> IngestOptions {
    IngestOptions {
        all_questions: opts.all_questions,
        site: opts.site.clone(),
        site_url: opts.site_url.clone(),
        max_bad_rows: opts.max_bad_rows,
        chunk_size: (opts.chunk_kib as usize) << 10,
        max_row: (opts.max_row_mib as usize) << 20,
    }
}

/// The library's error, naming the option that sets the limit it hit.
pub fn user_error(err: PipelineError) -> anyhow::Error {
    match err {
        PipelineError::Ingest {
            db,
            source:
                IngestError::TooManyBadRows {
                    source_name,
                    bad,
                    rows,
                    max,
                    samples,
                },
        } => anyhow::anyhow!(
            "{source_name}: {bad} of {rows} rows are malformed ({:.2}%, more than --max-bad-rows {:.2}%); the study is unchanged. First ones:\n  {}",
            100.0 * bad as f64 / rows as f64,
            100.0 * max,
            samples.join("\n  ")
        )
        .context(format!("ingest into {} failed", db.display())),
        other => other.into(),
    }
}

/// The timing on stderr, then what each dump brought on `out`.
pub fn show<W: Write>(done: &Ingested, p: Printer, out: W) -> std::io::Result<()> {
    let secs = done.elapsed.as_secs_f64();
    p.info(format_args!(
        "ingested {} in {:.2} s ({:.0} MB/s); the study was locked for writes for {:.3} s",
        bytes(done.bytes),
        secs,
        done.bytes as f64 / 1e6 / secs.max(1e-9),
        done.write_lock.as_secs_f64()
    ));
    print_logs(&done.logs, out)
}

/// What each dump brought: kept and skipped counts, first malformed rows.
pub fn print_logs<W: Write>(logs: &[IngestLog], mut out: W) -> std::io::Result<()> {
    for l in logs {
        writeln!(
            out,
            "{} → site {}: {} rows; kept {} questions, {} answers, {} comments",
            l.dump,
            l.site,
            int(l.rows_scanned),
            int(l.questions_kept),
            int(l.answers_kept),
            int(l.comments_kept)
        )?;
        if !l.tag_formats.is_empty() {
            writeln!(out, "  tag format: {}", l.tag_formats)?;
        }
        if !l.sorted {
            let how = if l.passes > 1 {
                "read twice, for answers that come before their question"
            } else {
                "every answer came after its question"
            };
            writeln!(out, "  rows are not in Id order ({how})")?;
        }
        for (reason, n) in &l.skipped {
            writeln!(out, "  skipped {}: {reason}", int(*n))?;
        }
        for s in &l.bad_row_samples {
            writeln!(out, "  malformed: {s}")?;
        }
    }
    Ok(())
}

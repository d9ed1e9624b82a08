//! `stackmine ingest DUMP... --study DIR`: the entry point for reading dumps
//! into a study. Each DUMP is a Posts.xml, a dump folder (Posts.xml and
//! Comments.xml) or a .7z archive, read as a stream. Keeps questions whose
//! tags match an enabled framework (or all with --all-questions), their
//! answers and comments. All dumps are written in one transaction: on any
//! error the study is unchanged. Memory: a few chunks (8 MiB each) per core
//! plus what is kept. Prints what was kept and skipped; timing goes to stderr.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use stackmine::ingest::{self, IngestOptions};
use stackmine::report::fmt::{bytes, int};
use stackmine::store::{IngestLog, STORE_FILE, Store};
use stackmine::study::Study;

use super::progress::Bar;
use crate::cli::{IngestArgs, IngestOpts};

pub fn run(args: IngestArgs, quiet: bool) -> Result<()> {
    let logs = ingest_into(&args.study.study, &args.dumps, &args.opts, quiet)?;
    print_logs(&logs, std::io::stdout().lock())?;
    Ok(())
}

/// Ingests into the study at `dir` (which must have a study.toml) and
/// reports the timing on stderr.
pub fn ingest_into(
    dir: &Path,
    dumps: &[std::path::PathBuf],
    opts: &IngestOpts,
    quiet: bool,
) -> Result<Vec<IngestLog>> {
    let study = Study::load(dir)?;
    let db = dir.join(STORE_FILE);
    let mut store = Store::open_or_create(&db)?;
    let options = IngestOptions {
        all_questions: opts.all_questions,
        site: opts.site.clone(),
        site_url: opts.site_url.clone(),
        max_bad_rows: opts.max_bad_rows,
        chunk_size: (opts.chunk_kib as usize) << 10,
        max_row: (opts.max_row_mib as usize) << 20,
    };
    let started = std::time::Instant::now();
    let done = ingest::ingest(&mut store, &study, dumps, &options, &Bar::new(quiet))
        .with_context(|| format!("ingest into {} failed", db.display()))?;
    // The endorsed answers follow the comments just swapped in: rebuilt as a
    // whole (one transaction). Were this cut short, readers notice by the
    // ingest mark and rebuild or recompute.
    stackmine::endorse::rebuild(&mut store, &study)
        .with_context(|| format!("cannot store the endorsed answers in {}", db.display()))?;
    let secs = started.elapsed().as_secs_f64();
    let total: u64 = done.logs.iter().map(|l| l.dump_bytes).sum();
    eprintln!(
        "ingested {} in {:.2} s ({:.0} MB/s); the study was locked for writes for {:.3} s",
        bytes(total),
        secs,
        total as f64 / 1e6 / secs.max(1e-9),
        done.write_lock.as_secs_f64()
    );
    Ok(done.logs)
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

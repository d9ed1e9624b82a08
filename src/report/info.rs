//! Renders what a study holds (`stackmine info`).

use std::io::{self, Write};

use serde::Serialize;

use super::fmt::{bytes, int};
use crate::store::{BatchSummary, IngestLog, LabelSetSummary, SiteSummary};

/// What `info` shows.
#[derive(Debug, Serialize)]
pub struct Info {
    pub study: String,
    pub store: String,
    pub schema_version: i64,
    pub sites: Vec<SiteSummary>,
    pub batches: Vec<BatchSummary>,
    pub label_sets: Vec<LabelSetSummary>,
    pub recent_ingests: Vec<IngestLog>,
}

pub fn render_json<W: Write>(info: &Info, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, info)?;
    writeln!(out)
}

pub fn render_text<W: Write>(info: &Info, mut out: W) -> io::Result<()> {
    writeln!(out, "study: {}", info.study)?;
    writeln!(
        out,
        "store: {} (schema version {})",
        info.store, info.schema_version
    )?;
    if info.sites.is_empty() {
        writeln!(out, "\nno sites yet: stackmine ingest DUMP --study DIR")?;
    }
    for s in &info.sites {
        writeln!(
            out,
            "\nsite {}{}",
            s.site,
            s.url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "  {} questions{}, {} answers, {} comments",
            int(s.questions),
            if s.all_questions {
                " (all questions kept)"
            } else {
                ""
            },
            int(s.answers),
            int(s.comments)
        )?;
        if let (Some(a), Some(b)) = (&s.first_question, &s.last_question) {
            writeln!(
                out,
                "  questions from {} to {}",
                super::fmt::day(a),
                super::fmt::day(b)
            )?;
        }
        for d in &s.dumps {
            writeln!(out, "  dump: {d}")?;
        }
    }
    if !info.batches.is_empty() {
        writeln!(out, "\nbatches:")?;
    }
    for b in &info.batches {
        writeln!(
            out,
            "  {}: {} posts, seed {}",
            b.name,
            int(b.size as u64),
            b.seed
        )?;
    }
    if !info.label_sets.is_empty() {
        writeln!(out, "\nlabel sets:")?;
    }
    for s in &info.label_sets {
        writeln!(
            out,
            "  {} ({}): {} posts, {} final labels, annotators: {}",
            s.name,
            s.source,
            int(s.posts as u64),
            int(s.final_labels as u64),
            if s.annotators.is_empty() {
                "—".to_string()
            } else {
                s.annotators.join(", ")
            }
        )?;
    }
    if !info.recent_ingests.is_empty() {
        writeln!(out, "\nrecent ingests:")?;
    }
    for l in &info.recent_ingests {
        writeln!(
            out,
            "  {} {} → {}: {} read in {:.2} s, {} rows, kept {} questions, {} answers, {} comments; {} malformed; tags {}{}",
            l.started_at,
            l.source,
            l.site,
            bytes(l.dump_bytes),
            l.seconds,
            int(l.rows_scanned),
            int(l.questions_kept),
            int(l.answers_kept),
            int(l.comments_kept),
            int(l.bad_rows),
            if l.tag_formats.is_empty() {
                "—"
            } else {
                &l.tag_formats
            },
            if l.sorted {
                ""
            } else {
                ", rows not in Id order"
            }
        )?;
    }
    Ok(())
}

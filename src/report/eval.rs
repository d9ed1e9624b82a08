//! Renders an [`Evaluation`] as Markdown or JSON.

use std::io::{self, Write};

use super::fmt::{int, md, num};
use crate::classify::eval::Evaluation;

pub fn render_json<W: Write>(e: &Evaluation, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, e)?;
    writeln!(out)
}

pub fn render_markdown<W: Write>(e: &Evaluation, mut out: W) -> io::Result<()> {
    writeln!(
        out,
        "## Classifier {} ({})\n",
        md(&e.model),
        md(&e.protocol)
    )?;
    if let Some(w) = &e.warning {
        writeln!(out, "**Warning:** {}.\n", md(w))?;
    }
    writeln!(out, "| measure | value |\n|---|--:|")?;
    writeln!(out, "| posts | {} |", int(e.items))?;
    writeln!(
        out,
        "| accuracy (primary kind) | {} |",
        num(Some(e.accuracy), 3)
    )?;
    writeln!(
        out,
        "| lenient accuracy (any of its kinds) | {} |",
        num(Some(e.lenient_accuracy), 3)
    )?;
    writeln!(
        out,
        "| macro precision | {} |",
        num(Some(e.macro_precision), 3)
    )?;
    writeln!(out, "| macro recall | {} |", num(Some(e.macro_recall), 3))?;
    writeln!(out, "| macro F1 | {} |", num(Some(e.macro_f1), 3))?;
    writeln!(out, "| micro F1 | {} |", num(Some(e.micro_f1), 3))?;
    writeln!(
        out,
        "\n| category | precision | recall | F1 | support |\n|---|--:|--:|--:|--:|"
    )?;
    for (c, m) in &e.per_category {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(c),
            num(Some(m.precision), 3),
            num(Some(m.recall), 3),
            num(Some(m.f1), 3),
            int(m.support)
        )?;
    }
    writeln!(
        out,
        "\n| source | posts | accuracy | lenient | macro F1 |\n|---|--:|--:|--:|--:|"
    )?;
    for (s, m) in &e.per_source {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(s),
            int(m.items),
            num(Some(m.accuracy), 3),
            num(Some(m.lenient_accuracy), 3),
            num(Some(m.macro_f1), 3)
        )?;
    }
    writeln!(out, "\n### Confusion (rows: labeled, columns: predicted)\n")?;
    write!(out, "| |")?;
    for c in &e.confusion.categories {
        write!(out, " {} |", md(c))?;
    }
    write!(out, "\n|---|")?;
    for _ in &e.confusion.categories {
        write!(out, "--:|")?;
    }
    writeln!(out)?;
    for (c, row) in e.confusion.categories.iter().zip(&e.confusion.matrix) {
        write!(out, "| {} |", md(c))?;
        for n in row {
            write!(out, " {} |", int(*n))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

//! Renders [`Stats`] as Markdown tables or JSON.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::fmt::{int, md, num, opt_int};
use crate::analyze::stats::{GroupStats, Stats};

/// JSON with the shape the README documents (`null` for no data).
pub fn render_json<W: Write>(stats: &Stats, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, stats)?;
    writeln!(out)
}

fn groups(stats: &Stats) -> impl Iterator<Item = &GroupStats> {
    stats.frameworks.iter().chain(std::iter::once(&stats.all))
}

/// Markdown: Table I, answers, and questions per year.
pub fn render_markdown<W: Write>(stats: &Stats, mut out: W) -> io::Result<()> {
    writeln!(out, "## Questions and views (Table I)\n")?;
    writeln!(
        out,
        "| framework | questions | views max | views Q3 | views median |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|")?;
    for g in groups(stats) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&g.label),
            int(g.questions),
            opt_int(g.views.max),
            num(g.views.q3, 1),
            num(g.views.median, 1)
        )?;
    }
    writeln!(out, "\n## Answers\n")?;
    writeln!(
        out,
        "| framework | accepted | accepted % | accepted answer in dump | hours to accepted: mean | median | Q1 | Q3 | unanswered % | hours to first answer: median |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")?;
    for g in groups(stats) {
        let h = &g.hours_to_accepted;
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&g.label),
            int(g.accepted.count),
            num(g.accepted.percent, 2),
            int(g.accepted.resolved),
            num(h.mean, 3),
            num(h.median, 3),
            num(h.q1, 3),
            num(h.q3, 3),
            num(g.unanswered.percent, 2),
            num(g.hours_to_first_answer.median, 3)
        )?;
    }
    let missing = stats.all.accepted.missing;
    if missing > 0 {
        writeln!(
            out,
            "\n{} accepted answers are not in the dump (a truncated dump?); answer times use the {} that are.",
            int(missing),
            int(stats.all.accepted.resolved)
        )?;
    }
    let years: BTreeSet<&String> = groups(stats).flat_map(|g| g.per_year.keys()).collect();
    writeln!(out, "\n## Questions per year\n")?;
    write!(out, "| framework |")?;
    for y in &years {
        write!(out, " {} |", md(y))?;
    }
    write!(out, "\n|---|")?;
    for _ in &years {
        write!(out, "--:|")?;
    }
    writeln!(out)?;
    for g in groups(stats) {
        write!(out, "| {} |", md(&g.label))?;
        for y in &years {
            write!(out, " {} |", int(g.per_year.get(*y).copied().unwrap_or(0)))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "\nQuantiles: {}. A question tagged with two frameworks counts under each, and once in All questions.",
        stats.quantile_method
    )
}

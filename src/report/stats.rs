//! Renders [`Stats`] as Markdown tables or JSON.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::fmt::{int, md, num, opt_int};
use crate::analyze::stats::{GroupStats, HORIZONS, KmSummary, Stats};

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
        "| framework | accepted | accepted % | accepted answer in dump | hours to accepted (among accepted): mean | median | Q1 | Q3 | unanswered % | hours to first answer (among answered): median |"
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
    render_km(stats, &mut out)?;
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

/// `36.5 % [33.1, 40.0]`, or `—`.
fn km_cell(k: &KmSummary, i: usize) -> String {
    match (k.p_within[i], k.p_within_ci[i]) {
        (Some(p), Some([lo, hi])) => {
            format!("{:.1} % [{:.1}, {:.1}]", 100.0 * p, 100.0 * lo, 100.0 * hi)
        }
        _ => "—".to_string(),
    }
}

fn km_table<W: Write>(
    stats: &Stats,
    out: &mut W,
    what: &str,
    km: impl Fn(&GroupStats) -> &KmSummary,
) -> io::Result<()> {
    write!(out, "| framework | {what} | still waiting |")?;
    for h in HORIZONS {
        write!(out, " within {} |", horizon_name(h))?;
    }
    writeln!(out, " median hours |")?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|")?;
    for g in groups(stats) {
        let k = km(g);
        write!(
            out,
            "| {} | {} | {} |",
            g.label,
            int(k.events),
            int(k.censored)
        )?;
        for i in 0..HORIZONS.len() {
            write!(out, " {} |", km_cell(k, i))?;
        }
        writeln!(out, " {} |", num(k.median_hours, 2))?;
    }
    Ok(())
}

/// The names of the horizons in tables.
pub fn horizon_name(h: f64) -> &'static str {
    match h as u64 {
        1 => "1 hour",
        24 => "1 day",
        168 => "7 days",
        720 => "30 days",
        _ => "?",
    }
}

/// Kaplan–Meier tables of the time to the accepted and the first answer.
fn render_km<W: Write>(stats: &Stats, out: &mut W) -> io::Result<()> {
    let as_of = stats.all.acceptance_km.as_of.as_deref().unwrap_or("—");
    writeln!(
        out,
        "\n## Time to an accepted answer, counting the questions still waiting\n"
    )?;
    km_table(stats, out, "accepted", |g| &g.acceptance_km)?;
    writeln!(
        out,
        "\n## Time to a first answer, counting the questions still waiting\n"
    )?;
    km_table(stats, out, "answered", |g| &g.first_answer_km)?;
    writeln!(
        out,
        "\nKaplan–Meier estimates of the share answered within each time, with 95 % intervals (Greenwood's variance, log(−log) transform): a question without an accepted (or any) answer counts as still waiting at its dump's date (latest: {as_of}). The hours in the table above are among the questions that got one, so they are conditional on acceptance (or an answer). Questions whose accepted answer the dump lacks are left out of the accepted-answer curve ({}).",
        int(stats.all.accepted.missing)
    )?;
    for (g, k) in groups(stats).flat_map(|g| [(g, &g.acceptance_km), (g, &g.first_answer_km)]) {
        if let Some(why) = &k.median_reason {
            if k.events + k.censored > 0 {
                writeln!(
                    out,
                    "{}: no median time to {} answer: {why}.",
                    g.label,
                    if k.event == "accepted" {
                        "an accepted"
                    } else {
                        "a first"
                    }
                )?;
            }
        }
    }
    Ok(())
}

//! Renders an [`Agreement`] as Markdown or JSON.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::fmt::{int, md, num};
use crate::label::agree::Agreement;

/// The JSON form: the agreement's fields and the set's name, every object's
/// keys in alphabetical order (the order this JSON has always had, on
/// stdout and in the store).
pub fn to_json(set: &str, a: &Agreement) -> String {
    serde_json::to_string_pretty(&Sorted::of(set, a)).unwrap_or_default()
}

/// [`Agreement`] with its set, its fields (and its parts') in alphabetical
/// order.
#[derive(Serialize)]
struct Sorted<'a> {
    agreement: Option<f64>,
    annotators: &'a [String],
    cohen_kappa: Option<f64>,
    confusion: Option<SortedConfusion<'a>>,
    disagreements: Vec<SortedDisagreement<'a>>,
    fleiss_kappa: Option<f64>,
    items: u64,
    partial_items: u64,
    per_category: BTreeMap<&'a str, SortedCategory<'a>>,
    per_root_cause: Vec<SortedCode<'a>>,
    set: &'a str,
}

#[derive(Serialize)]
struct SortedConfusion<'a> {
    categories: &'a [String],
    columns: &'a str,
    matrix: &'a [Vec<u64>],
    rows: &'a str,
}

#[derive(Serialize)]
struct SortedDisagreement<'a> {
    adjudicated: &'a Option<String>,
    labels: &'a BTreeMap<String, String>,
    post_id: i64,
    site: &'a str,
}

#[derive(Serialize)]
struct SortedCategory<'a> {
    agreement: Option<f64>,
    counts: &'a [u64],
    kappa: Option<f64>,
}

#[derive(Serialize)]
struct SortedCode<'a> {
    agreement: Option<f64>,
    code: &'a str,
    counts: &'a [u64],
    kappa: Option<f64>,
}

impl<'a> Sorted<'a> {
    fn of(set: &'a str, a: &'a Agreement) -> Sorted<'a> {
        // Every field is written: a new one fails to compile here.
        let Agreement {
            items: _,
            partial_items: _,
            annotators: _,
            agreement: _,
            cohen_kappa: _,
            fleiss_kappa: _,
            per_category: _,
            per_root_cause: _,
            confusion: _,
            disagreements: _,
        } = a;
        Sorted {
            agreement: a.agreement,
            annotators: &a.annotators,
            cohen_kappa: a.cohen_kappa,
            confusion: a.confusion.as_ref().map(|c| SortedConfusion {
                categories: &c.categories,
                columns: &c.columns,
                matrix: &c.matrix,
                rows: &c.rows,
            }),
            disagreements: a
                .disagreements
                .iter()
                .map(|d| SortedDisagreement {
                    adjudicated: &d.adjudicated,
                    labels: &d.labels,
                    post_id: d.post_id,
                    site: &d.site,
                })
                .collect(),
            fleiss_kappa: a.fleiss_kappa,
            items: a.items,
            partial_items: a.partial_items,
            per_category: a
                .per_category
                .iter()
                .map(|(k, c)| {
                    (
                        k.as_str(),
                        SortedCategory {
                            agreement: c.agreement,
                            counts: &c.counts,
                            kappa: c.kappa,
                        },
                    )
                })
                .collect(),
            per_root_cause: a
                .per_root_cause
                .iter()
                .map(|c| SortedCode {
                    agreement: c.agreement,
                    code: &c.code,
                    counts: &c.counts,
                    kappa: c.kappa,
                })
                .collect(),
            set,
        }
    }
}

pub fn render_json<W: Write>(set: &str, a: &Agreement, mut out: W) -> io::Result<()> {
    writeln!(out, "{}", to_json(set, a))
}

pub fn render_markdown<W: Write>(set: &str, a: &Agreement, mut out: W) -> io::Result<()> {
    writeln!(out, "## Agreement on label set {}\n", md(set))?;
    writeln!(
        out,
        "{} posts labeled by all of {} annotators ({}){}.\n",
        int(a.items),
        a.annotators.len(),
        md(&a.annotators.join(", ")),
        if a.partial_items > 0 {
            format!("; {} labeled by some only, left out", int(a.partial_items))
        } else {
            String::new()
        }
    )?;
    writeln!(out, "| measure | value |\n|---|--:|")?;
    writeln!(
        out,
        "| agreement | {} |",
        num(a.agreement.map(|x| 100.0 * x), 1) + " %"
    )?;
    if a.annotators.len() == 2 {
        writeln!(out, "| Cohen's kappa | {} |", num(a.cohen_kappa, 3))?;
    } else {
        writeln!(out, "| Fleiss' kappa | {} |", num(a.fleiss_kappa, 3))?;
    }
    write!(out, "\n| category | agreement | kappa |")?;
    for name in &a.annotators {
        write!(out, " {} |", md(name))?;
    }
    write!(out, "\n|---|--:|--:|")?;
    for _ in &a.annotators {
        write!(out, "--:|")?;
    }
    writeln!(out)?;
    for (cat, c) in &a.per_category {
        write!(
            out,
            "| {} | {} | {} |",
            md(cat),
            num(c.agreement, 3),
            num(c.kappa, 3)
        )?;
        for n in &c.counts {
            write!(out, " {} |", int(*n))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "\nAgreement per category is positive specific agreement; kappa per category is on \"this kind or not\"."
    )?;
    if !a.per_root_cause.is_empty() {
        if a.per_root_cause
            .iter()
            .all(|c| c.counts.iter().all(|&n| n == 0))
        {
            writeln!(
                out,
                "\nNo label of the compared posts carries a root-cause code."
            )?;
        } else {
            write!(out, "\n| root-cause code | agreement | kappa |")?;
            for name in &a.annotators {
                write!(out, " {} |", md(name))?;
            }
            write!(out, "\n|---|--:|--:|")?;
            for _ in &a.annotators {
                write!(out, "--:|")?;
            }
            writeln!(out)?;
            for c in &a.per_root_cause {
                write!(
                    out,
                    "| {} | {} | {} |",
                    md(&c.code),
                    num(c.agreement, 3),
                    num(c.kappa, 3)
                )?;
                for n in &c.counts {
                    write!(out, " {} |", int(*n))?;
                }
                writeln!(out)?;
            }
            writeln!(
                out,
                "\nPer root-cause code, over the {} compared posts: positive specific agreement and kappa on \"has this code or not\"; the counts are the posts each annotator gave the code.",
                int(a.items)
            )?;
        }
    }
    if let Some(c) = &a.confusion {
        writeln!(
            out,
            "\n### {} (rows) by {} (columns)\n",
            md(&c.rows),
            md(&c.columns)
        )?;
        write!(out, "| |")?;
        for k in &c.categories {
            write!(out, " {} |", md(k))?;
        }
        write!(out, "\n|---|")?;
        for _ in &c.categories {
            write!(out, "--:|")?;
        }
        writeln!(out)?;
        for (k, row) in c.categories.iter().zip(&c.matrix) {
            write!(out, "| {} |", md(k))?;
            for n in row {
                write!(out, " {} |", int(*n))?;
            }
            writeln!(out)?;
        }
    }
    writeln!(
        out,
        "\n### Disagreements ({})\n",
        int(a.disagreements.len() as u64)
    )?;
    for d in &a.disagreements {
        let labels: Vec<String> = d
            .labels
            .iter()
            .map(|(k, v)| format!("{}: {}", md(k), md(v)))
            .collect();
        writeln!(
            out,
            "- {}/{}: {}{}",
            md(&d.site),
            d.post_id,
            labels.join(", "),
            d.adjudicated
                .as_ref()
                .map(|f| format!(" → {}", md(f)))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

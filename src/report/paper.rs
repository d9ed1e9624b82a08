//! Files for a paper, beside the report: every chart as a standalone SVG
//! (its own style, a viewBox, text kept as text, nothing from the page's
//! CSS), every table as a LaTeX `booktabs` table (numbers formatted as in the
//! HTML, text escaped for LaTeX), and CITATION.md (how to cite the data and
//! what the intervals mean). Pure text, gathered into the report's
//! [`Output`] by [`add_files`].

use std::path::Path;

use super::output::Output;
use super::study::{Report, ReportInput};
use super::table::Table;

/// Adds the figures (`out/figures/*.svg`), the LaTeX tables
/// (`out/tables/*.tex`) and `out/CITATION.md` of `report` to `files`.
pub fn add_files(input: &ReportInput, report: &Report, out: &Path, files: &mut Output) {
    let dir = out.join("figures");
    for (name, svg) in figures(&report.html) {
        files.add(dir.join(format!("{name}.svg")), svg.into_bytes());
    }
    let tables = out.join("tables");
    for t in &report.tables {
        files.add(
            tables.join(format!("{}.tex", t.name)),
            latex(t).into_bytes(),
        );
    }
    files.add(out.join("CITATION.md"), citation(input).into_bytes());
}

/// The style the charts' classes need, for a standalone file.
const SVG_STYLE: &str = "<style>text{font-family:Helvetica,Arial,sans-serif;fill:#1d2330}.ct{font-weight:600;font-size:14px}\
.lg,.tick,.val{font-size:11px;fill:#333}.lbl{font-size:12px}.axis{font-size:12px;fill:#555}.grid{stroke:#e3e6ec}\
.ci{stroke:#222;stroke-width:1.4;fill:none}.wh{stroke:#0072B2;stroke-width:1.2}.med{stroke:#0b2e59;stroke-width:2.5}</style>";

/// The report page's charts as standalone SVG files: (file stem, text).
/// A chart's stem is its id (`km`, `rates`, …).
pub fn figures(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg ") {
        let Some(len) = rest[start..].find("</svg>") else {
            break;
        };
        let svg = &rest[start..start + len + "</svg>".len()];
        rest = &rest[start + len..];
        let Some(id) = svg
            .split_once("aria-labelledby=\"")
            .and_then(|(_, r)| r.split_once("-t "))
            .map(|(id, _)| id.to_string())
        else {
            continue;
        };
        let Some(head_end) = svg.find('>') else {
            continue;
        };
        let head = svg[..head_end].replace(" class=\"chart\"", "");
        let text = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{head}>{SVG_STYLE}{}\n",
            &svg[head_end + 1..]
        );
        out.push((id, text));
    }
    out
}

/// Escapes text for LaTeX (text mode), mapping the symbols the report uses
/// to their LaTeX forms.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '"' => out.push_str("\\textquotedbl{}"),
            '—' => out.push_str("---"),
            '–' => out.push_str("--"),
            '−' => out.push_str("$-$"),
            '×' => out.push_str("$\\times$"),
            '≥' => out.push_str("$\\geq$"),
            '≤' => out.push_str("$\\leq$"),
            '±' => out.push_str("$\\pm$"),
            '→' => out.push_str("$\\rightarrow$"),
            '…' => out.push_str("\\ldots{}"),
            'χ' => out.push_str("$\\chi$"),
            'φ' => out.push_str("$\\varphi$"),
            'δ' => out.push_str("$\\delta$"),
            'θ' => out.push_str("$\\theta$"),
            'α' => out.push_str("$\\alpha$"),
            'κ' => out.push_str("$\\kappa$"),
            '²' => out.push_str("\\textsuperscript{2}"),
            '\u{a0}' => out.push('~'),
            _ => out.push(c),
        }
    }
    out
}

/// A table as a LaTeX `booktabs` table (needs `\usepackage{booktabs}`):
/// numeric columns right-aligned, cells as the HTML shows them, the note as
/// a footnote-size paragraph under it, label `tab:NAME`.
pub fn latex(t: &Table) -> String {
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|c| !t.rows.is_empty() && t.rows.iter().all(|r| r.get(c).is_some_and(|x| x.numeric())))
        .collect();
    let spec: String = numeric.iter().map(|&n| if n { 'r' } else { 'l' }).collect();
    let mut s = String::new();
    s.push_str("% Made by stackmine; needs \\usepackage{booktabs}.\n");
    s.push_str("\\begin{table}[htbp]\n\\centering\n\\small\n");
    s.push_str(&format!("\\caption{{{}}}\n", latex_escape(&t.title)));
    s.push_str(&format!("\\label{{tab:{}}}\n", t.name.replace('_', "-")));
    s.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n"));
    let head: Vec<String> = t.columns.iter().map(|c| latex_escape(c)).collect();
    s.push_str(&head.join(" & "));
    s.push_str(" \\\\\n\\midrule\n");
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| latex_escape(&c.human())).collect();
        s.push_str(&cells.join(" & "));
        s.push_str(" \\\\\n");
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    if let Some(note) = &t.note {
        s.push_str(&format!(
            "\\par\\smallskip\\footnotesize {}\n",
            latex_escape(note)
        ));
    }
    s.push_str("\\end{table}\n");
    s
}

/// CITATION.md: how to cite the data and what the intervals mean, in two
/// paragraphs a methods section can adapt.
pub fn citation(r: &ReportInput) -> String {
    let sites: Vec<String> = r.sites.iter().map(|s| format!("`{}`", s.site)).collect();
    let as_of = r
        .stats
        .all
        .acceptance_km
        .as_of
        .as_deref()
        .map_or("—".to_string(), |d| d.get(..10).unwrap_or(d).to_string());
    let mut s = String::from("# How to cite these data and figures\n\n");
    s.push_str(&format!(
        "**Data.** The questions and answers are from the Stack Exchange data dump of {} (latest post in the dump: {as_of}), \
         {} questions in all, by their authors under CC BY-SA (2.5, 3.0 or 4.0 by date; \
         https://stackoverflow.com/help/licensing). Cite the dump with its site and date, e.g. \"Stack Exchange, Inc., \
         Stack Exchange Data Dump, {} (as of {as_of}), CC BY-SA\", and name stackmine {} as the tool that ingested, classified \
         and summarized it; tables derived from the posts are shared under the same license.\n\n",
        sites.join(", "),
        super::fmt::int(r.stats.all.questions),
        if r.sites.len() == 1 { r.sites[0].site.clone() } else { "the sites above".into() },
        env!("CARGO_PKG_VERSION")
    ));
    s.push_str(
        "**Intervals and tests.** Every interval is a 95 % confidence interval. Accepted-answer rates use Wilson score intervals. \
         Times to an answer are Kaplan–Meier estimates in which a question still waiting at the dump's date is censored there; \
         their intervals use Greenwood's variance with the log(−log) transform (as lifelines computes them), and medians are the \
         first time at which half the questions have an answer. Medians among accepted questions only (conditional on acceptance) \
         have seeded percentile-bootstrap intervals (1,000 resamples). Kinds are compared with Pearson's chi-square on rates, the \
         Mann–Whitney U test on times and the log-rank test on censored times; trends in a kind's yearly share use the \
         Cochran–Armitage test (R's prop.trend.test). p-values across kinds are Holm-corrected. Shares by kind count the \
         classifier's labels unless a table says they are adjusted; those intervals assume the classifier errs on these \
         questions as it did where it was evaluated.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{Cell, Key};

    #[test]
    fn latex_escapes_and_formats_as_the_html() {
        assert_eq!(
            latex_escape(r"50 % of a_b & {c} #1 $x ~^\ χ² ≥ 0.05 — p < 1"),
            r"50 \% of a\_b \& \{c\} \#1 \$x \textasciitilde{}\textasciicircum{}\textbackslash{} $\chi$\textsuperscript{2} $\geq$ 0.05 --- p \textless{} 1"
        );
        let mut t = Table::new(
            Key::KindTests,
            "Each kind & the rest",
            &["kind", "rate", "n"],
        );
        t.rows.push(vec![
            Cell::text("a_b"),
            Cell::Pct(Some(0.123), 1),
            Cell::Int(Some(12345)),
        ]);
        t.rows
            .push(vec![Cell::text("c"), Cell::Pct(None, 1), Cell::Int(None)]);
        let tex = latex(&t.note("χ² test, 95% CI"));
        assert!(
            tex.contains("\\begin{tabular}{lrr}\n\\toprule\nkind & rate & n \\\\\n\\midrule\n"),
            "{tex}"
        );
        assert!(
            tex.contains("a\\_b & 12.3 \\% & 12,345 \\\\\nc & --- & --- \\\\\n\\bottomrule"),
            "{tex}"
        );
        assert!(tex.contains("\\caption{Each kind \\& the rest}\n\\label{tab:kind-tests}"));
        assert!(tex.contains("$\\chi$\\textsuperscript{2} test, 95\\% CI"));
    }

    #[test]
    fn standalone_figures_carry_their_own_style() {
        let html = "<p>x</p><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" role=\"img\" aria-labelledby=\"km-t km-d\" class=\"chart\"><title id=\"km-t\">T</title><text class=\"ct\">a &amp; b</text></svg><svg bad></svg>";
        let f = figures(html);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "km");
        let svg = &f[0].1;
        assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\""));
        assert!(!svg.contains("class=\"chart\""));
        assert!(svg.contains("<style>") && svg.contains(".ct{"));
        assert!(svg.contains("<text class=\"ct\">a &amp; b</text></svg>\n"));
    }
}

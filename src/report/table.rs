//! A report table, rendered as CSV (full precision, for machines), JSON,
//! Markdown and HTML (formatted for people).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::fmt::{int, md, num};
use super::svg::esc;

/// The report's tables, by key: the page looks a table up by its key, so a
/// misspelt table fails to compile. [`Key::name`] is its file stem under
/// `tables/` and its HTML id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Sites,
    Ingest,
    Table1,
    Estimate,
    EstimateByFramework,
    EstimateByYear,
    CategoryTrendsPpi,
    Categories,
    CategoriesByFramework,
    CategoriesByYear,
    CategoryTrends,
    Difficulty,
    PerformanceTest,
    TimeToAccepted,
    TimeToFirstAnswer,
    KindTests,
    AcceptedOrEndorsed,
    RootCauseCodes,
    RootCausesByKind,
    RootCauseSharesByKind,
    Classifier,
    Agreement,
    RootCauses,
}

impl Key {
    /// The file stem under `tables/` (e.g. `table1`).
    pub fn name(self) -> &'static str {
        match self {
            Key::Sites => "sites",
            Key::Ingest => "ingest",
            Key::Table1 => "table1",
            Key::Estimate => "estimate",
            Key::EstimateByFramework => "estimate_by_framework",
            Key::EstimateByYear => "estimate_by_year",
            Key::CategoryTrendsPpi => "category_trends_ppi",
            Key::Categories => "categories",
            Key::CategoriesByFramework => "categories_by_framework",
            Key::CategoriesByYear => "categories_by_year",
            Key::CategoryTrends => "category_trends",
            Key::Difficulty => "difficulty",
            Key::PerformanceTest => "performance_test",
            Key::TimeToAccepted => "time_to_accepted",
            Key::TimeToFirstAnswer => "time_to_first_answer",
            Key::KindTests => "kind_tests",
            Key::AcceptedOrEndorsed => "accepted_or_endorsed",
            Key::RootCauseCodes => "root_cause_codes",
            Key::RootCausesByKind => "root_causes_by_kind",
            Key::RootCauseSharesByKind => "root_cause_shares_by_kind",
            Key::Classifier => "classifier",
            Key::Agreement => "agreement",
            Key::RootCauses => "root_causes",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(Option<i64>),
    /// A number shown with this many decimals.
    Num(Option<f64>, usize),
    /// A share (0–1) shown as a percentage with this many decimals.
    Pct(Option<f64>, usize),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub(crate) fn human(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(v) => v.map_or_else(|| "—".into(), int),
            Cell::Num(v, d) => num(*v, *d),
            Cell::Pct(v, d) => match v {
                Some(v) => format!("{} %", num(Some(100.0 * v), *d)),
                None => "—".into(),
            },
        }
    }

    fn machine(&self) -> String {
        match self {
            // A text that a spreadsheet would run as a formula (=, +, -, @,
            // tab, CR first) is quoted with a leading apostrophe, as OWASP
            // advises for CSV; numbers are never text cells.
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            Cell::Text(s) => s.clone(),
            Cell::Int(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Cell::Num(v, _) | Cell::Pct(v, _) => v
                .filter(|v| v.is_finite())
                .map(|v| v.to_string())
                .unwrap_or_default(),
        }
    }

    fn json(&self) -> JsonCell<'_> {
        match self {
            Cell::Text(s) => JsonCell::Text(s),
            Cell::Int(v) => JsonCell::Int(*v),
            Cell::Num(v, _) | Cell::Pct(v, _) => JsonCell::Num(v.filter(|v| v.is_finite())),
        }
    }

    pub(crate) fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// A cell in a table's JSON: a string, an integer, a number or null.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonCell<'a> {
    Text(&'a str),
    Int(Option<i64>),
    Num(Option<f64>),
}

/// A table's JSON document. The fields are in the order the file has
/// always had (alphabetical), and each row's columns are sorted by name.
#[derive(Serialize)]
struct JsonTable<'a> {
    note: &'a Option<String>,
    rows: Vec<BTreeMap<&'a str, JsonCell<'a>>>,
    title: &'a str,
}

/// A titled table with a file name.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub key: Key,
    /// File stem under tables/ (e.g. `table1`): `key.name()`.
    pub name: &'static str,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// A sentence under the table (method, caveats).
    pub note: Option<String>,
}

impl Table {
    pub fn new(key: Key, title: &str, columns: &[&str]) -> Table {
        Table {
            key,
            name: key.name(),
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            note: None,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Table {
        self.note = Some(note.into());
        self
    }

    pub fn write_csv<W: Write>(&self, out: W) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let err = |e: csv::Error| io::Error::other(e.to_string());
        w.write_record(&self.columns).map_err(err)?;
        for row in &self.rows {
            w.write_record(row.iter().map(Cell::machine)).map_err(err)?;
        }
        w.flush()
    }

    pub fn write_json<W: Write>(&self, mut out: W) -> io::Result<()> {
        // A column name given twice keeps its last cell, as the file always has.
        let rows = self
            .rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .map(String::as_str)
                    .zip(row.iter().map(Cell::json))
                    .collect()
            })
            .collect();
        let doc = JsonTable {
            note: &self.note,
            rows,
            title: &self.title,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)
    }

    pub fn write_markdown<W: Write>(&self, mut out: W) -> io::Result<()> {
        writeln!(out, "### {}\n", md(&self.title))?;
        let columns: Vec<String> = self.columns.iter().map(|c| md(c)).collect();
        writeln!(out, "| {} |", columns.join(" | "))?;
        let align: Vec<&str> = (0..self.columns.len())
            .map(|i| {
                if self
                    .rows
                    .first()
                    .and_then(|r| r.get(i))
                    .is_some_and(Cell::numeric)
                {
                    "--:"
                } else {
                    "---"
                }
            })
            .collect();
        writeln!(out, "|{}|", align.join("|"))?;
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| md(&c.human())).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        if let Some(n) = &self.note {
            writeln!(out, "\n{}", md(n))?;
        }
        writeln!(out)
    }

    pub fn html(&self) -> String {
        let mut s = format!(
            "<div class=\"tw\"><table id=\"t-{}\"><caption>{}</caption><thead><tr>",
            esc(self.name),
            esc(&self.title)
        );
        for c in &self.columns {
            s.push_str(&format!("<th scope=\"col\">{}</th>", esc(c)));
        }
        s.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            s.push_str("<tr>");
            for cell in row {
                let class = if cell.numeric() { " class=\"n\"" } else { "" };
                s.push_str(&format!("<td{class}>{}</td>", esc(&cell.human())));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
        if let Some(n) = &self.note {
            s.push_str(&format!("<p class=\"note\">{}</p>", esc(n)));
        }
        s.push_str(&format!(
            "<p class=\"files\">Data: <a href=\"tables/{0}.csv\">CSV</a> · <a href=\"tables/{0}.json\">JSON</a> · <a href=\"tables/{0}.md\">Markdown</a></p>",
            esc(self.name)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_is_never_a_spreadsheet_formula() {
        let mut t = Table::new(Key::Sites, "A table", &["note", "n"]);
        for text in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "plain"] {
            t.rows
                .push(vec![Cell::text(text), Cell::Num(Some(-0.5), 1)]);
        }
        let mut csv = Vec::new();
        t.write_csv(&mut csv).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "note,n\n\"'=HYPERLINK(\"\"x\"\")\",-0.5\n'+1,-0.5\n'-2+3,-0.5\n'@SUM(A1),-0.5\nplain,-0.5\n"
        );
    }

    #[test]
    fn renders_all_formats() {
        let mut t = Table::new(Key::Sites, "A table", &["kind", "questions", "share"]);
        t.rows.push(vec![
            Cell::text("crash"),
            Cell::Int(Some(1234)),
            Cell::Pct(Some(0.25), 1),
        ]);
        t.rows
            .push(vec![Cell::text("a|b"), Cell::Int(None), Cell::Pct(None, 1)]);
        let mut csv = Vec::new();
        t.write_csv(&mut csv).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "kind,questions,share\ncrash,1234,0.25\na|b,,\n"
        );
        let mut md = Vec::new();
        t.write_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(md.contains("| crash | 1,234 | 25.0 % |"), "{md}");
        assert!(md.contains("| a\\|b | — | — |"), "{md}");
        let mut json = Vec::new();
        t.write_json(&mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["rows"][1]["questions"], serde_json::Value::Null);
        assert!(t.html().contains("<td class=\"n\">1,234</td>"));
    }
}

//! A report table, rendered as CSV (full precision, for machines), JSON,
//! Markdown and HTML (formatted for people).

use std::io::{self, Write};

use super::fmt::{int, md, num};
use super::svg::esc;

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

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s.clone()),
            Cell::Int(v) => v.map_or(serde_json::Value::Null, |v| v.into()),
            Cell::Num(v, _) | Cell::Pct(v, _) => v
                .filter(|v| v.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
        }
    }

    pub(crate) fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// A titled table with a file name.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem under tables/ (e.g. `table1`).
    pub name: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// A sentence under the table (method, caveats).
    pub note: Option<String>,
}

impl Table {
    pub fn new(name: &str, title: &str, columns: &[&str]) -> Table {
        Table {
            name: name.into(),
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
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                serde_json::Value::Object(
                    self.columns
                        .iter()
                        .zip(row)
                        .map(|(c, cell)| (c.clone(), cell.json()))
                        .collect(),
                )
            })
            .collect();
        let doc = serde_json::json!({"title": self.title, "note": self.note, "rows": rows});
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
            esc(&self.name),
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
            esc(&self.name)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_is_never_a_spreadsheet_formula() {
        let mut t = Table::new("t", "A table", &["note", "n"]);
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
        let mut t = Table::new("t", "A table", &["kind", "questions", "share"]);
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

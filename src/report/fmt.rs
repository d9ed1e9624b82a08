//! Number formatting for people: thousands separators, fixed decimals, and
//! `—` for a statistic with no data.

/// `37565` → `37,565`.
pub fn int(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with `decimals` decimals and thousands separators, or `—`.
pub fn num(x: Option<f64>, decimals: usize) -> String {
    match x {
        None => "—".into(),
        Some(x) if !x.is_finite() => "—".into(),
        Some(x) => {
            let s = format!("{:.*}", decimals, x.abs());
            let (whole, frac) = s
                .split_once('.')
                .map_or((s.as_str(), None), |(w, f)| (w, Some(f)));
            let whole: i128 = whole.parse().unwrap_or(0);
            let sign = if x < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                "-"
            } else {
                ""
            };
            match frac {
                Some(f) => format!("{sign}{}.{f}", int(whole)),
                None => format!("{sign}{}", int(whole)),
            }
        }
    }
}

/// Text for a Markdown table cell or line: `\\` and `|` are escaped with a
/// backslash, `&` and `<` become HTML entities (so no text turns into a tag
/// or an entity), and line breaks become `<br>`, so a hostile name stays one
/// cell of plain text. `>` alone opens nothing and is kept. A `(` right
/// after `]` is escaped, so `[text](javascript:…)` is never a link.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '(' if out.ends_with(']') => out.push_str("\\("),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The date of an ISO timestamp (its first 10 bytes), or all of it when it
/// is shorter or does not split there (a damaged value never panics).
pub fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

/// An optional integer, or `—`.
pub fn opt_int(x: Option<i64>) -> String {
    x.map_or_else(|| "—".into(), int)
}

/// Bytes for people: `2.00 GiB`.
pub fn bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.2} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_stays_plain_text() {
        // No link, tag, entity or cell break survives (the review's root cause).
        assert_eq!(
            md("[l](javascript:alert(1)) <b>&amp; a|b"),
            "[l]\\(javascript:alert(1)) &lt;b>&amp;amp; a\\|b"
        );
        assert_eq!(md("[0.1, 0.2] (n = 3)"), "[0.1, 0.2] (n = 3)");
    }

    #[test]
    fn formats() {
        assert_eq!(int(37565), "37,565");
        assert_eq!(int(-1234567), "-1,234,567");
        assert_eq!(int(12), "12");
        assert_eq!(num(Some(5725.0), 1), "5,725.0");
        assert_eq!(num(Some(-0.0001), 2), "0.00");
        assert_eq!(num(Some(-1234.5), 1), "-1,234.5");
        assert_eq!(num(None, 2), "—");
        assert_eq!(num(Some(f64::NAN), 2), "—");
        assert_eq!(bytes(2 * 1024 * 1024 * 1024), "2.00 GiB");
        assert_eq!(day("2020-01-02T03:04:05.000"), "2020-01-02");
        assert_eq!(day("2020"), "2020");
        assert_eq!(day("２０２０-01-02"), "２０２０-01-02");
        assert_eq!(md("crash"), "crash");
        assert_eq!(md("a|b\\c"), "a\\|b\\\\c");
        assert_eq!(
            md("annotator_<img src=x onerror=alert(1)>"),
            "annotator_&lt;img src=x onerror=alert(1)>"
        );
        assert_eq!(md("x\r\ny\nz&\t"), "x<br>y<br>z&amp; ");
        assert_eq!(md("Cliff's δ (> 0)"), "Cliff's δ (> 0)");
    }
}

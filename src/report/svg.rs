//! SVG charts written as text: grouped horizontal bars with intervals,
//! stacked bars, and box plots on a log scale. Every chart has a title, a
//! description (its text alternative), axis labels and a legend; it scales to
//! its container (viewBox). No fonts or scripts are needed.

use std::fmt::{self, Write};

use super::fmt::num;
use crate::analyze::findings::BoxStats;
use crate::analyze::inference::Interval;

/// Okabe–Ito colours: distinguishable with common colour blindness.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether every coordinate of a mark is a number. A non-finite one is a
/// bug upstream (inputs are validated): the mark is skipped rather than
/// drawn with "NaN" in its path.
fn finite(coords: &[f64]) -> bool {
    coords.iter().all(|c| c.is_finite())
}

fn open(out: &mut String, id: &str, w: f64, h: f64, title: &str, desc: &str) -> fmt::Result {
    write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" class="chart"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    )?;
    write!(
        out,
        r##"<text x="0" y="16" class="ct">{}</text>"##,
        esc(title)
    )
}

/// One series of a grouped bar chart.
pub struct Series {
    pub name: String,
    /// Bar, or a marker only (for published figures).
    pub marker: bool,
    pub values: Vec<Option<f64>>,
    pub intervals: Vec<Option<Interval>>,
}

fn legend(out: &mut String, x: f64, y: f64, items: &[(&str, &str, bool)]) -> fmt::Result {
    let mut lx = x;
    for (name, color, marker) in items {
        if *marker {
            write!(
                out,
                r#"<path d="M{} {} l5 5 l-5 5 l-5 -5 z" fill="{color}"/>"#,
                lx + 5.0,
                y - 9.0
            )?;
        } else {
            write!(
                out,
                r#"<rect x="{lx}" y="{}" width="10" height="10" fill="{color}"/>"#,
                y - 9.0
            )?;
        }
        write!(
            out,
            r#"<text x="{}" y="{y}" class="lg">{}</text>"#,
            lx + 14.0,
            esc(name)
        )?;
        lx += 22.0 + 6.5 * name.chars().count() as f64;
    }
    Ok(())
}

/// The categories' colours, four to a line.
fn category_legend(out: &mut String, left: f64, categories: &[String]) -> fmt::Result {
    let items: Vec<(&str, &str, bool)> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), PALETTE[i % PALETTE.len()], false))
        .collect();
    for (line, chunk) in items.chunks(4).enumerate() {
        legend(out, left, 34.0 + 18.0 * line as f64, chunk)?;
    }
    Ok(())
}

/// Horizontal grouped bars of shares (0–1) per category, with 95% interval
/// whiskers where given, and marker-only series (published figures).
pub fn grouped_hbars(
    id: &str,
    title: &str,
    desc: &str,
    axis: &str,
    labels: &[String],
    series: &[Series],
) -> Result<String, fmt::Error> {
    let bars = series.iter().filter(|s| !s.marker).count().max(1) as f64;
    let (left, right, top, band) = (215.0, 40.0, 46.0, 10.0 + 12.0 * bars);
    let width = 720.0;
    let plot = width - left - right;
    let max = series
        .iter()
        .flat_map(|s| {
            s.values
                .iter()
                .flatten()
                .copied()
                .chain(s.intervals.iter().flatten().map(|i| i.hi))
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(0.01);
    // Round ticks: 5, 10 or 20 points apart.
    let step = if max <= 0.25 {
        0.05
    } else if max <= 0.5 {
        0.1
    } else {
        0.2
    };
    let ticks = (max / step).ceil().max(1.0) as i32;
    let scale_max = step * f64::from(ticks);
    let h = top + band * labels.len() as f64 + 40.0;
    let mut out = String::new();
    open(&mut out, id, width, h, title, desc)?;
    let items: Vec<(&str, &str, bool)> = series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), PALETTE[i % PALETTE.len()], s.marker))
        .collect();
    legend(&mut out, left, 34.0, &items)?;
    let x = |v: f64| left + plot * v / scale_max;
    for t in 0..=ticks {
        let v = step * f64::from(t);
        write!(
            out,
            r#"<line x1="{0}" x2="{0}" y1="{top}" y2="{1}" class="grid"/><text x="{0}" y="{2}" class="tick" text-anchor="middle">{3}%</text>"#,
            x(v),
            h - 30.0,
            h - 16.0,
            num(Some(100.0 * v), 0)
        )?;
    }
    write!(
        out,
        r#"<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
        left + plot / 2.0,
        h - 2.0,
        esc(axis)
    )?;
    for (r, label) in labels.iter().enumerate() {
        let y0 = top + band * r as f64;
        write!(
            out,
            r#"<text x="{}" y="{}" class="lbl" text-anchor="end">{}</text>"#,
            left - 6.0,
            y0 + band / 2.0 + 4.0,
            esc(label)
        )?;
        let mut slot = 0.0;
        for (i, s) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let Some(v) = s
                .values
                .get(r)
                .copied()
                .flatten()
                .filter(|&v| finite(&[x(v)]))
            else {
                if !s.marker {
                    slot += 1.0;
                }
                continue;
            };
            if s.marker {
                let cy = y0 + band / 2.0;
                write!(
                    out,
                    r##"<path d="M{} {} l6 6 l-6 6 l-6 -6 z" fill="{color}" stroke="#fff"><title>{}: {}%</title></path>"##,
                    x(v),
                    cy - 6.0,
                    esc(&s.name),
                    num(Some(100.0 * v), 1)
                )?;
                continue;
            }
            let y = y0 + 5.0 + 12.0 * slot;
            write!(
                out,
                r#"<rect x="{left}" y="{y}" width="{:.2}" height="10" fill="{color}"><title>{} {}: {}%</title></rect>"#,
                (x(v) - left).max(0.5),
                esc(label),
                esc(&s.name),
                num(Some(100.0 * v), 1)
            )?;
            let ci = s
                .intervals
                .get(r)
                .copied()
                .flatten()
                .filter(|ci| finite(&[x(ci.lo), x(ci.hi)]));
            if let Some(ci) = ci {
                write!(
                    out,
                    r#"<path d="M{0:.2} {1} v6 M{0:.2} {2} H{3:.2} M{3:.2} {1} v6" class="ci"/>"#,
                    x(ci.lo),
                    y + 2.0,
                    y + 5.0,
                    x(ci.hi)
                )?;
            }
            write!(
                out,
                r#"<text x="{:.2}" y="{}" class="val">{}%</text>"#,
                x(ci.map_or(v, |c| c.hi.max(v))) + 4.0,
                y + 9.0,
                num(Some(100.0 * v), 1)
            )?;
            slot += 1.0;
        }
    }
    out.push_str("</svg>");
    Ok(out)
}

/// Stacked bars: one bar per row label, segments per category, as shares of
/// the row (100% stacked), horizontal.
pub fn stacked_hbars(
    id: &str,
    title: &str,
    desc: &str,
    rows: &[String],
    categories: &[String],
    counts: &[Vec<u64>],
) -> Result<String, fmt::Error> {
    let (left, right, top, band) = (215.0, 20.0, 66.0, 28.0);
    let width = 720.0;
    let plot = width - left - right;
    let h = top + band * rows.len() as f64 + 36.0;
    let mut out = String::new();
    open(&mut out, id, width, h, title, desc)?;
    category_legend(&mut out, left, categories)?;
    for (r, (label, row)) in rows.iter().zip(counts).enumerate() {
        let y = top + band * r as f64;
        let total: u64 = row.iter().sum();
        write!(
            out,
            r#"<text x="{}" y="{}" class="lbl" text-anchor="end">{} ({})</text>"#,
            left - 6.0,
            y + 15.0,
            esc(label),
            super::fmt::int(total)
        )?;
        let mut x = left;
        for (c, &n) in row.iter().enumerate() {
            if total == 0 || n == 0 {
                continue;
            }
            let w = plot * n as f64 / total as f64;
            write!(
                out,
                r#"<rect x="{x:.2}" y="{y}" width="{w:.2}" height="20" fill="{}"><title>{} {}: {} ({}%)</title></rect>"#,
                PALETTE[c % PALETTE.len()],
                esc(label),
                esc(&categories[c]),
                super::fmt::int(n),
                num(Some(100.0 * n as f64 / total as f64), 1)
            )?;
            x += w;
        }
    }
    for t in 0..=4 {
        let x = left + plot * f64::from(t) / 4.0;
        write!(
            out,
            r#"<text x="{x}" y="{}" class="tick" text-anchor="middle">{}%</text>"#,
            h - 14.0,
            25 * t
        )?;
    }
    write!(
        out,
        r#"<text x="{}" y="{}" class="axis" text-anchor="middle">share of the row's classified questions</text>"#,
        left + plot / 2.0,
        h - 1.0
    )?;
    out.push_str("</svg>");
    Ok(out)
}

/// One row of [`log_boxplots`].
pub struct BoxRow {
    pub label: String,
    pub stats: Option<BoxStats>,
    /// Published Q1, median, Q3.
    pub published: Option<[f64; 3]>,
}

/// Box plots of hours on a log scale, one row per category, with the
/// median's bootstrap interval and optional published Q1/median/Q3.
pub fn log_boxplots(
    id: &str,
    title: &str,
    desc: &str,
    rows: &[BoxRow],
) -> Result<String, fmt::Error> {
    let (left, right, top, band) = (215.0, 30.0, 50.0, 30.0);
    let width = 720.0;
    let plot = width - left - right;
    let h = top + band * rows.len() as f64 + 40.0;
    let (lo_exp, hi_exp) = (-2i32, 4i32); // 0.01 h to 10,000 h
    let x = |v: f64| {
        let l = v.max(10f64.powi(lo_exp)).log10();
        left + plot * (l - f64::from(lo_exp)) / f64::from(hi_exp - lo_exp)
    };
    let mut out = String::new();
    open(&mut out, id, width, h, title, desc)?;
    legend(
        &mut out,
        left,
        34.0,
        &[
            (
                "this run (box: Q1–Q3, line: median ± 95% CI)",
                PALETTE[0],
                false,
            ),
            ("published median and Q1–Q3", PALETTE[1], true),
        ],
    )?;
    for e in lo_exp..=hi_exp {
        let v = 10f64.powi(e);
        let label = if e < 0 {
            format!("{v}")
        } else {
            super::fmt::int(v as i64)
        };
        write!(
            out,
            r#"<line x1="{0:.2}" x2="{0:.2}" y1="{top}" y2="{1}" class="grid"/><text x="{0:.2}" y="{2}" class="tick" text-anchor="middle">{3}</text>"#,
            x(v),
            h - 30.0,
            h - 16.0,
            label
        )?;
    }
    write!(
        out,
        r#"<text x="{}" y="{}" class="axis" text-anchor="middle">hours to the accepted answer (log scale; under a minute counted as one minute)</text>"#,
        left + plot / 2.0,
        h - 2.0
    )?;
    for (
        r,
        BoxRow {
            label,
            stats,
            published,
        },
    ) in rows.iter().enumerate()
    {
        let y = top + band * r as f64;
        let cy = y + 12.0;
        write!(
            out,
            r#"<text x="{}" y="{}" class="lbl" text-anchor="end">{}</text>"#,
            left - 6.0,
            cy + 4.0,
            esc(label)
        )?;
        let stats = stats.as_ref().filter(|b| {
            finite(&[
                x(b.whisker_lo),
                x(b.q1),
                x(b.q3),
                x(b.whisker_hi),
                x(b.median),
            ])
        });
        if let Some(b) = stats {
            write!(
                out,
                r#"<g><title>{}: median {} h, Q1 {} h, Q3 {} h, n = {}</title><path d="M{:.2} {cy} H{:.2} M{:.2} {cy} H{:.2}" class="wh"/><rect x="{:.2}" y="{}" width="{:.2}" height="14" fill="{}" fill-opacity="0.35" stroke="{}"/><path d="M{:.2} {} v14" class="med"/></g>"#,
                esc(label),
                num(Some(b.median), 3),
                num(Some(b.q1), 3),
                num(Some(b.q3), 3),
                super::fmt::int(b.n),
                x(b.whisker_lo),
                x(b.q1),
                x(b.q3),
                x(b.whisker_hi),
                x(b.q1),
                cy - 7.0,
                (x(b.q3) - x(b.q1)).max(1.0),
                PALETTE[0],
                PALETTE[0],
                x(b.median),
                cy - 7.0
            )?;
            if let Some(ci) = b.median_interval.filter(|ci| finite(&[x(ci.lo), x(ci.hi)])) {
                write!(
                    out,
                    r#"<path d="M{:.2} {} H{:.2}" class="ci"/>"#,
                    x(ci.lo),
                    cy + 9.0,
                    x(ci.hi)
                )?;
            }
        }
        if let Some([q1, med, q3]) = published.filter(|p| finite(&p.map(x))) {
            write!(
                out,
                r#"<path d="M{:.2} {} H{:.2}" stroke="{}" stroke-width="2"/><path d="M{:.2} {} l4 4 l-4 4 l-4 -4 z" fill="{}"><title>published: median {} h</title></path>"#,
                x(q1),
                cy + 13.0,
                x(q3),
                PALETTE[1],
                x(med),
                cy + 9.0,
                PALETTE[1],
                num(Some(med), 3)
            )?;
        }
    }
    out.push_str("</svg>");
    Ok(out)
}

/// One curve of [`km_curves`].
pub struct Curve {
    pub label: String,
    /// (hours, share with the event by then), ascending in hours.
    pub points: Vec<(f64, f64)>,
    /// The published median hours (a marker on the 50 % line).
    pub published_median: Option<f64>,
}

/// Kaplan–Meier curves (share with an accepted answer by each time) of
/// several groups on a log time axis from a minute to 10,000 hours, with the
/// 50 % line and the published medians marked on it.
pub fn km_curves(
    id: &str,
    title: &str,
    desc: &str,
    axis: &str,
    curves: &[Curve],
) -> Result<String, fmt::Error> {
    let (left, right, top, bottom) = (
        60.0,
        30.0,
        34.0 + 18.0 * curves.len().div_ceil(4) as f64,
        300.0,
    );
    let width = 720.0;
    let h = bottom + 40.0;
    let plot = width - left - right;
    let (lo_exp, hi_exp) = (-2i32, 4i32);
    let x = |v: f64| {
        let l = v.clamp(10f64.powi(lo_exp), 10f64.powi(hi_exp)).log10();
        left + plot * (l - f64::from(lo_exp)) / f64::from(hi_exp - lo_exp)
    };
    let y = |p: f64| bottom - (bottom - top - 8.0) * p.clamp(0.0, 1.0);
    let mut out = String::new();
    open(&mut out, id, width, h, title, desc)?;
    let names: Vec<String> = curves.iter().map(|c| c.label.clone()).collect();
    category_legend(&mut out, left, &names)?;
    for e in lo_exp..=hi_exp {
        let v = 10f64.powi(e);
        let label = if e < 0 {
            format!("{v}")
        } else {
            super::fmt::int(v as i64)
        };
        write!(
            out,
            r#"<line x1="{0:.2}" x2="{0:.2}" y1="{top}" y2="{bottom}" class="grid"/><text x="{0:.2}" y="{1}" class="tick" text-anchor="middle">{2}</text>"#,
            x(v),
            bottom + 14.0,
            label
        )?;
    }
    for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
        write!(
            out,
            r#"<line x1="{left}" x2="{:.2}" y1="{1:.2}" y2="{1:.2}" class="grid"{3}/><text x="{2}" y="{4:.2}" class="tick" text-anchor="end">{5} %</text>"#,
            left + plot,
            y(p),
            left - 6.0,
            if p == 0.5 {
                r##" stroke-dasharray="4 3" stroke="#888""##
            } else {
                ""
            },
            y(p) + 4.0,
            (100.0 * p) as i64
        )?;
    }
    write!(
        out,
        r#"<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
        left + plot / 2.0,
        h - 6.0,
        esc(axis)
    )?;
    for (i, c) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut d = format!("M{:.2} {:.2}", x(10f64.powi(lo_exp)), y(0.0));
        for &(t, p) in &c.points {
            if !finite(&[x(t), y(p)]) {
                continue;
            }
            write!(d, " H{:.2} V{:.2}", x(t), y(p))?;
        }
        write!(
            out,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.8"><title>{}</title></path>"#,
            esc(&c.label)
        )?;
        if let Some(m) = c.published_median.filter(|&m| finite(&[x(m)])) {
            write!(
                out,
                r##"<path d="M{:.2} {:.2} l4 4 l-4 4 l-4 -4 z" fill="{color}" stroke="#000" stroke-width="0.6"><title>{}: published median {} h</title></path>"##,
                x(m),
                y(0.5) - 4.0,
                esc(&c.label),
                num(Some(m), 3)
            )?;
        }
    }
    out.push_str("</svg>");
    Ok(out)
}

/// Vertical stacked bars of counts (e.g. questions per year by category).
pub fn stacked_vbars(
    id: &str,
    title: &str,
    desc: &str,
    columns: &[String],
    categories: &[String],
    counts: &[Vec<u64>],
) -> Result<String, fmt::Error> {
    let (left, right, top, bottom) = (60.0, 20.0, 66.0, 44.0);
    let width = 720.0;
    let height = 320.0;
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = counts
        .iter()
        .map(|r| r.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut out = String::new();
    open(&mut out, id, width, height, title, desc)?;
    category_legend(&mut out, left, categories)?;
    for t in 0..=4 {
        let v = max * f64::from(t) / 4.0;
        let y = top + plot_h - plot_h * f64::from(t) / 4.0;
        write!(
            out,
            r#"<line x1="{left}" x2="{}" y1="{y:.2}" y2="{y:.2}" class="grid"/><text x="{}" y="{:.2}" class="tick" text-anchor="end">{}</text>"#,
            width - right,
            left - 4.0,
            y + 4.0,
            super::fmt::int(v.round() as i64)
        )?;
    }
    let band = plot_w / columns.len().max(1) as f64;
    for (i, (col, row)) in columns.iter().zip(counts).enumerate() {
        let x = left + band * i as f64 + band * 0.15;
        let w = band * 0.7;
        let mut y = top + plot_h;
        for (c, &n) in row.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let hgt = plot_h * n as f64 / max;
            y -= hgt;
            write!(
                out,
                r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{hgt:.2}" fill="{}"><title>{col} {}: {}</title></rect>"#,
                PALETTE[c % PALETTE.len()],
                esc(&categories[c]),
                super::fmt::int(n)
            )?;
        }
        write!(
            out,
            r#"<text x="{:.2}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            x + w / 2.0,
            height - bottom + 16.0,
            esc(col)
        )?;
    }
    write!(
        out,
        r#"<text x="14" y="{:.2}" class="axis" transform="rotate(-90 14 {:.2})" text-anchor="middle">questions</text>"#,
        top + plot_h / 2.0,
        top + plot_h / 2.0
    )?;
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_nan(svg: &str) {
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "{bad} in {svg}");
        }
    }

    #[test]
    fn non_finite_values_are_not_drawn() {
        let labels = vec!["crash".to_string(), "bug".to_string()];
        let series = [Series {
            name: "published".into(),
            marker: true,
            values: vec![Some(f64::NAN), Some(f64::INFINITY)],
            intervals: vec![None, None],
        }];
        let svg = grouped_hbars("d", "t", "d", "a", &labels, &series).unwrap();
        no_nan(&svg);
        assert!(!svg.contains("<title>published:"), "{svg}");
        let svg = log_boxplots(
            "h",
            "t",
            "d",
            &[BoxRow {
                label: "crash".into(),
                stats: None,
                published: Some([f64::INFINITY, -1.0, f64::NAN]),
            }],
        )
        .unwrap();
        no_nan(&svg);
        assert!(!svg.contains("published: median"), "{svg}");
        let svg = km_curves(
            "k",
            "t",
            "d",
            "a",
            &[Curve {
                label: "crash".into(),
                points: vec![(1.0, 0.5), (f64::NAN, 0.7)],
                published_median: Some(f64::NAN),
            }],
        )
        .unwrap();
        no_nan(&svg);
        assert!(svg.contains(" V"), "{svg}");
    }

    #[test]
    fn charts_carry_an_escaped_title_and_description() {
        let svg = stacked_vbars(
            "y",
            "Kinds <per> year",
            "A & B",
            &["2018".into()],
            &["crash".into()],
            &[vec![3]],
        )
        .unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
        assert!(svg.contains(
            "aria-labelledby=\"y-t y-d\" class=\"chart\"><title id=\"y-t\">Kinds &lt;per&gt; year</title><desc id=\"y-d\">A &amp; B</desc>"
        ));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn grouped_bars_draw_one_bar_per_value_and_markers_for_published() {
        let labels = vec!["crash".to_string(), "bug".to_string()];
        let series = [
            Series {
                name: "classified".into(),
                marker: false,
                values: vec![Some(0.25), None],
                intervals: vec![Some(Interval { lo: 0.2, hi: 0.3 }), None],
            },
            Series {
                name: "published".into(),
                marker: true,
                values: vec![Some(0.5), Some(0.1)],
                intervals: vec![None, None],
            },
        ];
        let svg = grouped_hbars("d", "t", "d", "share", &labels, &series).unwrap();
        // The legend's swatch, then one bar: a missing value draws none.
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains("<title>crash classified: 25.0%</title>"),
            "{svg}"
        );
        // Its interval's whisker.
        assert_eq!(svg.matches("class=\"ci\"").count(), 1, "{svg}");
        // Published values are diamonds: the legend's, then one per value.
        assert_eq!(svg.matches(" l5 5 l-5 5 l-5 -5 z").count(), 1, "{svg}");
        assert!(svg.contains("<title>published: 50.0%</title>"), "{svg}");
        assert!(svg.contains("<title>published: 10.0%</title>"), "{svg}");
        assert!(svg.contains(">share</text>"), "{svg}");
    }

    #[test]
    fn stacked_bars_split_each_row_by_its_shares() {
        let svg = stacked_hbars(
            "f",
            "t",
            "d",
            &["TensorFlow".into()],
            &["crash".into(), "bug".into()],
            &[vec![1, 3]],
        )
        .unwrap();
        assert!(svg.contains("TensorFlow (4)</text>"), "{svg}");
        assert!(
            svg.contains("<title>TensorFlow crash: 1 (25.0%)</title>"),
            "{svg}"
        );
        assert!(
            svg.contains("<title>TensorFlow bug: 3 (75.0%)</title>"),
            "{svg}"
        );
    }
}

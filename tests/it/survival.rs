//! Time to an accepted answer and trends (issue 10, parts 2 and 3), through
//! the real binary, and the reference values re-made live with lifelines.

use std::path::Path;
use std::process::Command;

/// The interpreter with lifelines, numpy, scipy and statsmodels, from
/// `STACKMINE_PYTHON`; `None` (after a notice) when unset.
fn python() -> Option<String> {
    crate::util::reference_python(
        "the reference values are not re-made with lifelines (the stored ones are still checked by the unit tests)",
    )
}

/// Every number in `a` within `tol` (relative above 1) of the one at the same
/// place in `b`; everything else equal.
fn same(a: &serde_json::Value, b: &serde_json::Value, tol: f64, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= tol * y.abs().max(1.0), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: length");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same(x, y, tol, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}: keys"
            );
            for (k, v) in x {
                same(v, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// The stored survival.json and trend.json are what the script makes now.
#[test]
fn stored_reference_is_what_lifelines_gives() {
    let Some(py) = python() else { return };
    let dir = crate::util::Dir::new();
    let script = crate::util::data("reference/make_survival_reference.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(dir.tmp.path())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["survival.json", "trend.json"] {
        let read = |p: &Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let fresh = read(&dir.path(name));
        let stored = read(&crate::util::data(&format!("reference/{name}")));
        same(&fresh, &stored, 1e-12, name);
    }
}

const DL_DEPLOY: &str = "stackoverflow-dl-deploy/Posts.xml";

fn dl_deploy(d: &crate::util::Dir) -> String {
    let s = d.study("s");
    d.ok(&["ingest", &crate::util::path(DL_DEPLOY), "--study", &s, "-q"]);
    s
}

/// Each group of `stats --json` against the reference of the same store.
fn check_stats_against(stats: &serde_json::Value, reference: &serde_json::Value) {
    let groups = reference["groups"].as_object().unwrap();
    assert!(groups.len() >= 3, "{groups:?}");
    let all_groups: Vec<&serde_json::Value> = stats["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&stats["all"]))
        .collect();
    for (name, want) in groups {
        let g = all_groups
            .iter()
            .find(|g| g["name"] == name.as_str())
            .unwrap_or_else(|| panic!("no group {name}"));
        for (key, event) in [
            ("acceptance_km", "accepted"),
            ("first_answer_km", "answered"),
        ] {
            let (got, want) = (&g[key], &want[key]);
            let at = format!("{name}.{key}");
            assert_eq!(got["events"], want["events"], "{at}");
            assert_eq!(got["censored"], want["censored"], "{at}");
            same(
                &got[format!("p_{event}_within_hours")],
                &want["p_within_hours"],
                1e-9,
                &at,
            );
            same(
                &got[format!("p_{event}_within_hours_ci")],
                &want["p_within_hours_ci"],
                1e-9,
                &at,
            );
            same(&got["median_hours"], &want["median_hours"], 1e-9, &at);
            assert_eq!(
                got["median_reason"].is_string(),
                want["median_hours"].is_null(),
                "{at}: a reason exactly when there is no median"
            );
        }
    }
}

/// `stats --json` on the shipped deployment dump: every framework's and all
/// questions' Kaplan–Meier figures as lifelines computes them from the same
/// store (tests/data/reference/stats-km-dl-deploy.json, made by
/// `make_survival_reference.py --store`), keys in the documented order.
#[test]
fn stats_json_km_matches_lifelines() {
    let d = crate::util::Dir::new();
    let s = dl_deploy(&d);
    let stats = d.stats(&s);
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::data("reference/stats-km-dl-deploy.json")).unwrap(),
    )
    .unwrap();
    check_stats_against(&stats, &reference);
    let all = &stats["all"]["acceptance_km"];
    assert_eq!(all["as_of"], "2019-11-30T22:22:53.433");
    // 27.9 % accepted by the end: no median, and the reason says so.
    assert_eq!(all["median_hours"], serde_json::Value::Null);
    assert!(
        all["median_reason"]
            .as_str()
            .unwrap()
            .contains("never reaches 50 %"),
        "{all}"
    );
    // The exact key order of the issue, in the printed text (all comes last).
    let raw = d.ok(&["stats", "--json", "--study", &s]);
    let start = raw.rfind("\"acceptance_km\"").unwrap();
    let text = &raw[start..raw.rfind("\"first_answer_km\"").unwrap()];
    let keys = [
        "\"events\"",
        "\"censored\"",
        "\"as_of\"",
        "\"p_accepted_within_hours\"",
        "\"p_accepted_within_hours_ci\"",
        "\"median_hours\"",
        "\"median_reason\"",
    ];
    let pos: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
    let horizons = ["\"1\":", "\"24\":", "\"168\":", "\"720\":"];
    let p = &text[text.find("p_accepted_within_hours").unwrap()..];
    let pos: Vec<usize> = horizons.iter().map(|k| p.find(k).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{p}");
    // The existing keys are unchanged.
    for k in [
        "questions",
        "views",
        "accepted",
        "hours_to_accepted",
        "unanswered",
        "hours_to_first_answer",
        "per_year",
    ] {
        assert!(stats["all"].get(k).is_some(), "{k}");
    }
    // Markdown labels the study's measure as conditional on acceptance.
    let md = d.ok(&["stats", "--study", &s]);
    assert!(md.contains("hours to accepted (among accepted)"), "{md}");
    assert!(md.contains("## Time to an accepted answer, counting the questions still waiting"));
    assert!(
        md.contains("| All questions | 640 | 1,741 | 3.2 % [2.5, 3.9] |"),
        "{md}"
    );
}

/// The same comparison with the reference re-made live from this test's store.
#[test]
fn stats_json_km_matches_lifelines_live() {
    let Some(py) = python() else { return };
    let d = crate::util::Dir::new();
    let s = dl_deploy(&d);
    let out_json = d.path("ref.json");
    let out = Command::new(&py)
        .arg(crate::util::data("reference/make_survival_reference.py"))
        .arg("--store")
        .arg(d.path(&s).join("study.db"))
        .arg(&out_json)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    check_stats_against(&d.stats(&s), &reference);
}

/// The latest valid CreationDate of question and answer rows in a file,
/// found independently of the scanner (a plain text search).
fn latest_creation(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| l.contains("PostTypeId=\"1\"") || l.contains("PostTypeId=\"2\""))
        .filter_map(|l| {
            let i = l.find("CreationDate=\"")? + 14;
            Some(l[i..i + 23].to_string())
        })
        .max()
        .unwrap()
}

/// Ingest records the dump's date: the latest CreationDate of any question
/// or answer row, kept or not; a re-ingest replaces it.
#[test]
fn ingest_records_the_dump_date_of_every_row() {
    let d = crate::util::Dir::new();
    let s = dl_deploy(&d);
    let want = latest_creation(&crate::util::data(DL_DEPLOY));
    let (as_of, ms): (String, i64) = d
        .db(&s)
        .query_row("SELECT as_of, as_of_ms FROM sites", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(as_of, want);
    assert_eq!(ms, 1_575_152_573_433);

    // Rows not kept count too; tag wikis and malformed dates do not; an
    // accepted answer missing from the dump leaves its question out (counted).
    let dump = d.path("Posts.xml");
    std::fs::write(
        &dump,
        r#"<?xml version="1.0" encoding="utf-8"?>
<posts>
  <row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2018-01-01T00:00:00.000" Tags="&lt;pytorch&gt;" Title="a" />
  <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2018-01-01T02:00:00.000" />
  <row Id="3" PostTypeId="1" AcceptedAnswerId="99" CreationDate="2018-01-02T00:00:00.000" Tags="&lt;pytorch&gt;" Title="b" />
  <row Id="4" PostTypeId="1" CreationDate="2018-01-03T00:00:00.000" Tags="&lt;pytorch&gt;" Title="c" />
  <row Id="5" PostTypeId="1" CreationDate="2018-06-01T00:00:00.000" Tags="&lt;java&gt;" Title="not kept" />
  <row Id="6" PostTypeId="2" ParentId="5" CreationDate="2018-07-01T12:00:00.000" />
  <row Id="7" PostTypeId="4" CreationDate="2019-01-01T00:00:00.000" />
  <row Id="8" PostTypeId="2" ParentId="5" CreationDate="2018-13-01T00:00:00.000" />
</posts>
"#,
    )
    .unwrap();
    let t = d.study("t");
    d.ok(&["ingest", "Posts.xml", "--site", "tiny", "--study", &t, "-q"]);
    let stats = d.stats(&t);
    let km = &stats["all"]["acceptance_km"];
    assert_eq!(km["as_of"], "2018-07-01T12:00:00.000", "{km}");
    assert_eq!(stats["all"]["accepted"]["missing"], 1);
    // Question 1 accepted after 2 h; question 3 left out; question 4 waiting.
    assert_eq!(
        (km["events"].as_u64(), km["censored"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(km["p_accepted_within_hours"]["1"], 0.0);
    assert_eq!(km["p_accepted_within_hours"]["24"], 0.5);
    assert_eq!(km["median_hours"], 2.0);
    let first = &stats["all"]["first_answer_km"];
    assert_eq!(
        (first["events"].as_u64(), first["censored"].as_u64()),
        (Some(1), Some(2))
    );
    // Re-ingesting the deployment dump as the same site replaces the date.
    d.ok(&[
        "ingest",
        &crate::util::path(DL_DEPLOY),
        "--site",
        "tiny",
        "--study",
        &t,
        "-q",
    ]);
    let as_of: String = d
        .db(&t)
        .query_row("SELECT as_of FROM sites WHERE site = 'tiny'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(as_of, want);
}

/// `--as-of` overrides the dump's date for stats, report and run; a bad date
/// or one before the latest question is an error (exit 2, one message).
#[test]
fn as_of_overrides_and_is_validated() {
    let d = crate::util::Dir::new();
    let s = dl_deploy(&d);
    let later = d.ok(&["stats", "--json", "--study", &s, "--as-of", "2021-01-01"]);
    let later: serde_json::Value = serde_json::from_str(&later).unwrap();
    let km = &later["all"]["acceptance_km"];
    assert_eq!(km["as_of"], "2021-01-01T00:00:00.000");
    let base = d.stats(&s);
    assert_eq!(km["events"], base["all"]["acceptance_km"]["events"]);
    // Exactly the latest question: answers after it are not yet there.
    let at_last = d.ok(&[
        "stats",
        "--json",
        "--study",
        &s,
        "--as-of",
        "2019-11-30T22:22:53.433",
    ]);
    let at_last: serde_json::Value = serde_json::from_str(&at_last).unwrap();
    assert_eq!(
        at_last["all"]["acceptance_km"]["as_of"],
        "2019-11-30T22:22:53.433"
    );
    for bad in [
        "yesterday",
        "2019-13-01",
        "2019-11-30T25:00:00",
        "",
        "2019-11-30 10:00:00",
        "2021-02-30",
        "2021-04-31T00:00:00",
        "20210101",
        "2021-01-01T00:00:00.1234567890",
    ] {
        let err = d.fails(&["stats", "--study", &s, "--as-of", bad]);
        assert!(err.contains("is not a date"), "{bad}: {err}");
        assert_eq!(err.matches("not a date").count(), 1, "{err}");
    }
    let err = d.fails(&["stats", "--study", &s, "--as-of", "2019-11-30T22:22:53.432"]);
    assert!(
        err.contains("is before the latest question of the study (2019-11-30T22:22:53.433"),
        "{err}"
    );
    let err = d.fails(&["report", "--study", &s, "--as-of", "2010-01-01"]);
    assert!(err.contains("is before the latest question"), "{err}");
    assert!(!d.path(&s).join("report/index.html").exists());
    // run: the date reaches the printed statistics, stats.json and the report.
    let out = d.ok(&[
        "run",
        &crate::util::path(DL_DEPLOY),
        "--study",
        "r",
        "--as-of",
        "2021-01-01",
        "-q",
    ]);
    assert!(out.contains("(latest: 2021-01-01T00:00:00.000)"), "{out}");
    let json = std::fs::read_to_string(d.path("r/report/stats.json")).unwrap();
    assert!(json.contains("\"as_of\": \"2021-01-01T00:00:00.000\""));
    let km = std::fs::read_to_string(d.path("r/report/tables/time_to_accepted.md")).unwrap();
    assert!(km.contains("(latest: 2021-01-01T00:00:00.000)"), "{km}");
    let err = d.fails(&[
        "run",
        &crate::util::path(DL_DEPLOY),
        "--study",
        &s,
        "--as-of",
        "soon",
        "-q",
    ]);
    assert!(err.contains("is not a date"), "{err}");
}

/// The report shows the per-kind curves (one chart, log time axis, the
/// study's medians marked), the log-rank test beside the performance tests,
/// each kind against the others with Holm, and the tested trends in a sentence.
#[test]
fn report_has_curves_kind_tests_and_trends() {
    let d = crate::util::Dir::new();
    d.ok(&["run", &crate::util::path(DL_DEPLOY), "--study", "s", "-q"]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    let km = &html[html
        .find("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 340\"")
        .expect("the curves chart")..];
    let km = &km[..km.find("</svg>").unwrap()];
    assert!(km.contains("log scale"), "log time axis");
    // Seven kinds, seven curves, seven published medians.
    assert_eq!(km.matches("stroke-width=\"1.8\"").count(), 7);
    assert_eq!(km.matches(": published median ").count(), 7);
    assert!(
        html.contains("Installation fell from 16.8 % in 2016 to 4.1 % in 2019 (slope -"),
        "the trend sentence"
    );
    assert!(
        html.contains(
            " points per year; Cochran–Armitage χ² = 29.78, Holm-adjusted p &lt; 0.0001)"
        )
    );
    assert!(html.contains("Counting classified questions (the classifier's labels, uncorrected)"));
    assert!(html.contains(
        "the log-rank test of their time to an accepted answer gives χ² = 0.129, p = 0.7195"
    ));
    let perf = std::fs::read_to_string(d.path("s/report/tables/performance_test.csv")).unwrap();
    assert!(perf.contains("log-rank"), "{perf}");
    let kinds: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path("s/report/tables/kind_tests.json")).unwrap(),
    )
    .unwrap();
    let text = kinds.to_string();
    assert!(text.contains("Holm"), "{text}");
    let km_table = std::fs::read_to_string(d.path("s/report/tables/time_to_accepted.md")).unwrap();
    assert!(
        km_table.contains("| Installation | 44 | 92 | 5.1 % | 2.5 % | 10.5 % |"),
        "{km_table}"
    );
    assert!(km_table.contains("conditional on acceptance"));
}

/// Beside the report: every chart as a standalone SVG (well-formed XML, a
/// viewBox, its own style, text as text), every table as LaTeX booktabs,
/// and CITATION.md with the dump's site and date.
#[test]
fn report_writes_paper_figures_tables_and_citation() {
    let d = crate::util::Dir::new();
    d.ok(&["run", &crate::util::path(DL_DEPLOY), "--study", "s", "-q"]);
    let out = d.path("s/report");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(out.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "dist.svg",
            "fw.svg",
            "hours.svg",
            "km.svg",
            "rates.svg",
            "years.svg"
        ]
    );
    assert_eq!(html.matches("<svg").count(), names.len());
    for n in &names {
        let svg = std::fs::read_to_string(out.join("figures").join(n)).unwrap();
        assert!(svg.contains("viewBox=\"0 0 "), "{n}");
        assert!(
            svg.contains("<style>") && !svg.contains("class=\"chart\""),
            "{n}"
        );
        assert!(svg.contains("<text "), "{n}: text kept as text");
        let mut reader = quick_xml::Reader::from_str(&svg);
        let mut depth = 0i32;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{n}: not well-formed: {e}"),
            }
        }
        assert_eq!(depth, 0, "{n}");
    }
    let tables = out.join("tables");
    let csvs: Vec<_> = std::fs::read_dir(&tables)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    assert!(csvs.len() >= 14);
    for csv in &csvs {
        let tex = std::fs::read_to_string(csv.with_extension("tex")).unwrap();
        assert!(
            tex.contains("\\toprule") && tex.contains("\\bottomrule"),
            "{csv:?}"
        );
        // Every special character escaped: no bare % or _ or &-less rows.
        for line in tex.lines().filter(|l| !l.starts_with('%')) {
            assert!(!line.contains(" % "), "{csv:?}: {line}");
        }
    }
    let km = std::fs::read_to_string(tables.join("time_to_accepted.tex")).unwrap();
    assert!(
        km.contains("Installation & 44 & 92 & 5.1 \\% & 2.5 \\% & 10.5 \\%"),
        "{km}"
    );
    let cite = std::fs::read_to_string(out.join("CITATION.md")).unwrap();
    assert!(
        cite.contains("`stackoverflow-dl-deploy`") && cite.contains("2019-11-30"),
        "{cite}"
    );
    assert!(cite.contains("Kaplan–Meier") && cite.contains("Holm"));
}

/// The default study's kinds, in the order of the report's rows.
const KINDS: [&str; 7] = [
    "crash",
    "migration",
    "implementation",
    "training",
    "comprehension",
    "installation",
    "performance",
];

/// The report's per-kind log-rank tests, trends and curves against the
/// reference's `categories` (lifelines, statsmodels' Holm, the numpy
/// prop.trend.test) of the same store.
fn check_report_against(report: &Path, reference: &serde_json::Value) {
    let read = |name: &str| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(report.join("tables").join(name)).unwrap(),
        )
        .unwrap();
        v["rows"].as_array().unwrap().clone()
    };
    let (tests, trends, km) = (
        read("kind_tests.json"),
        read("category_trends.json"),
        read("time_to_accepted.json"),
    );
    let cats = &reference["categories"];
    for (i, key) in KINDS.iter().enumerate() {
        let want = &cats[*key];
        let close = |got: &serde_json::Value, want: &serde_json::Value, what: &str| {
            same(got, want, 1e-9, &format!("{key} {what}"))
        };
        close(
            &tests[i]["log-rank χ²"],
            &want["log_rank"]["statistic"],
            "log-rank",
        );
        close(
            &tests[i]["log-rank p"],
            &want["log_rank"]["p"],
            "log-rank p",
        );
        close(
            &tests[i]["log-rank p (Holm)"],
            &want["log_rank"]["p_holm"],
            "Holm",
        );
        close(
            &trends[i]["χ² (trend)"],
            &want["trend"]["statistic"],
            "trend",
        );
        close(&trends[i]["p"], &want["trend"]["p"], "trend p");
        close(
            &trends[i]["p (Holm)"],
            &want["trend"]["p_holm"],
            "trend Holm",
        );
        let slope = want["trend"]["slope"].as_f64().unwrap() * 100.0;
        close(
            &trends[i]["slope (points per year)"],
            &slope.into(),
            "slope",
        );
        let k = &want["acceptance_km"];
        assert_eq!(km[i]["accepted"], k["events"], "{key}");
        assert_eq!(km[i]["still waiting"], k["censored"], "{key}");
        for (col, h) in [
            ("1 hour", "1"),
            ("1 day", "24"),
            ("7 days", "168"),
            ("30 days", "720"),
        ] {
            close(
                &km[i][format!("within {col}")],
                &k["p_within_hours"][h],
                col,
            );
            close(
                &km[i][format!("{col} 95% low")],
                &k["p_within_hours_ci"][h][0],
                col,
            );
            close(
                &km[i][format!("{col} 95% high")],
                &k["p_within_hours_ci"][h][1],
                col,
            );
        }
        close(
            &km[i]["median hours (Kaplan–Meier)"],
            &k["median_hours"],
            "median",
        );
    }
}

/// `run` on the deployment dump (built-in linear model): the report's
/// log-rank tests, Holm corrections, trends and per-kind curves equal the
/// stored reference computed with lifelines, statsmodels and numpy from the
/// same store.
#[test]
fn report_tests_match_lifelines_and_statsmodels() {
    let d = crate::util::Dir::new();
    d.ok(&["run", &crate::util::path(DL_DEPLOY), "--study", "s", "-q"]);
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::data("reference/stats-km-dl-deploy.json")).unwrap(),
    )
    .unwrap();
    check_report_against(&d.path("s/report"), &reference);
    if let Some(py) = python() {
        let out_json = d.path("ref.json");
        let out = Command::new(&py)
            .arg(crate::util::data("reference/make_survival_reference.py"))
            .arg("--store")
            .arg(d.path("s/study.db"))
            .arg(&out_json)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let live: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
        check_report_against(&d.path("s/report"), &live);
    }
}

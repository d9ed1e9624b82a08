//! Endorsed answers and root causes (issue 11, part B), through the real
//! binary and the real SQLite file: the detector against the hand-checked
//! set of tests/data/endorsements/ai-2017.csv, the stored table and when it
//! is rebuilt, the report's accepted-or-endorsed rates (RQ2) and its root
//! causes per kind (RQ3).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::process::Command;

use crate::util::{Dir, path};

const AI: &str = "ai.stackexchange.com-2017";
const CHECKED: &str = "endorsements/ai-2017.csv";

/// The 95% Wilson score interval, written out here from its formula
/// (z = 1.959963984540054, scipy.stats.norm.ppf(0.975)), independent of the
/// library's; pinned to statsmodels in `wilson_formula_is_statsmodels`.
fn wilson(k: u64, n: u64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z / d * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((c - h).max(0.0), (c + h).min(1.0))
}

/// This file's Wilson formula gives statsmodels' proportion_confint(k, n,
/// method='wilson') on every 95% case of tests/data/reference/wilson.json;
/// with STACKMINE_PYTHON set, the stored JSON is also re-made live.
#[test]
fn wilson_formula_is_statsmodels() {
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::data("reference/wilson.json")).unwrap(),
    )
    .unwrap();
    for c in stored["cases"].as_array().unwrap() {
        if c["confidence"].as_f64() != Some(0.95) {
            continue;
        }
        let (lo, hi) = wilson(c["k"].as_u64().unwrap(), c["n"].as_u64().unwrap());
        assert!((lo - c["low"].as_f64().unwrap()).abs() < 1e-9, "{c}");
        assert!((hi - c["high"].as_f64().unwrap()).abs() < 1e-9, "{c}");
    }
    if let Some(py) = crate::util::reference_python("wilson.json is not re-made live") {
        let d = Dir::new();
        let out = Command::new(&py)
            .arg(crate::util::data("reference/make_wilson_reference.py"))
            .arg(d.tmp.path())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let live: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path("wilson.json")).unwrap()).unwrap();
        assert_eq!(live["cases"], stored["cases"]);
    }
}

/// A study of the ai.stackexchange 2017 dump with its Comments.xml.
fn ai_study(d: &Dir, extra: &[&str]) -> String {
    let s = d.study("s");
    let mut args = vec![
        "ingest".to_string(),
        path("ai.stackexchange.com-2017"),
        "--all-questions".into(),
        "--study".into(),
        s.clone(),
        "-q".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    d.ok(&refs);
    s
}

struct Hand {
    comment: i64,
    answer: i64,
    question: i64,
    endorsing: bool,
}

fn hand_checked() -> Vec<Hand> {
    let mut r = csv::Reader::from_path(crate::util::data(CHECKED)).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "site",
            "comment_id",
            "answer_id",
            "question_id",
            "endorsing",
            "reason"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(&rec[0], AI);
            Hand {
                comment: rec[1].parse().unwrap(),
                answer: rec[2].parse().unwrap(),
                question: rec[3].parse().unwrap(),
                endorsing: match &rec[4] {
                    "1" => true,
                    "0" => false,
                    x => panic!("endorsing {x}"),
                },
            }
        })
        .collect()
}

/// `label VALUE (k/n) [lo, hi]` of the command's output, as numbers.
fn printed_rate(out: &str, label: &str) -> (f64, u64, u64, f64, f64) {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no {label} line in:\n{out}"));
    let nums: Vec<&str> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    // VALUE, k, n, lo, hi, then "95" of "(95% Wilson)".
    assert!(nums.len() >= 5, "{line}");
    (
        nums[0].parse().unwrap(),
        nums[1].parse().unwrap(),
        nums[2].parse().unwrap(),
        nums[3].parse().unwrap(),
        nums[4].parse().unwrap(),
    )
}

/// The hand-checked set is every comment an asker wrote under an answer to
/// their question in the dump; ingest stores the endorsements; the
/// command's precision and recall are the ones computed here from the CSV
/// and the stored table, and they clear a floor.
#[test]
fn the_detector_on_the_hand_checked_set() {
    let d = Dir::new();
    let s = ai_study(&d, &[]);
    let hand = hand_checked();
    assert_eq!(hand.len(), 245);
    // The set covers every asker comment under an answer, as the store has them.
    let db = d.db(&s);
    let asker: BTreeSet<(i64, i64, i64)> = db
        .prepare(
            "SELECT c.id, a.id, q.id FROM comments c JOIN answers a ON a.site = c.site AND a.id = c.post_id
             JOIN questions q ON q.site = a.site AND q.id = a.parent_id
             WHERE c.user_id = q.owner_user_id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let listed: BTreeSet<(i64, i64, i64)> = hand
        .iter()
        .map(|h| (h.comment, h.answer, h.question))
        .collect();
    assert_eq!(asker, listed);
    // Ingest stored the endorsements, with the fingerprint of the lists.
    let stored: HashMap<i64, (i64, i64, String)> = db
        .prepare(
            "SELECT comment_id, answer_id, question_id, phrase FROM endorsements WHERE site = ?1",
        )
        .unwrap()
        .query_map([AI], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(stored.len() > 50, "{}", stored.len());
    let fp: String = db
        .query_row(
            "SELECT value FROM meta WHERE key = 'endorsement_phrases'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fp.len(), 16, "{fp}");
    // Every stored endorsement is an asker's comment of the set, and never
    // on a self-answer.
    let self_answers: HashSet<i64> = db
        .prepare(
            "SELECT c.id FROM comments c JOIN answers a ON a.site = c.site AND a.id = c.post_id
             JOIN questions q ON q.site = a.site AND q.id = a.parent_id
             WHERE c.user_id = q.owner_user_id AND a.owner_user_id = q.owner_user_id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(self_answers.len(), 6);
    for (c, (a, q, phrase)) in &stored {
        assert!(listed.contains(&(*c, *a, *q)), "{c}");
        assert!(!self_answers.contains(c), "{c}");
        assert!(!phrase.is_empty());
    }
    // The figures, from the CSV and the table.
    let (mut tp, mut fp_, mut fn_) = (0u64, 0u64, 0u64);
    for h in &hand {
        match (stored.contains_key(&h.comment), h.endorsing) {
            (true, true) => tp += 1,
            (true, false) => fp_ += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    let out = d.ok(&["endorsements", "--study", &s, "--check", &path(CHECKED)]);
    assert!(
        out.contains("stored (built from study.toml's lists after the latest ingest)"),
        "{out}"
    );
    assert!(
        out.contains("245 comments scored (76 endorsing by hand)"),
        "{out}"
    );
    assert!(
        !out.contains("not covered") && !out.contains("not scored"),
        "{out}"
    );
    for (label, k, n) in [("precision", tp, tp + fp_), ("recall", tp, tp + fn_)] {
        let (v, pk, pn, lo, hi) = printed_rate(&out, label);
        assert_eq!((pk, pn), (k, n), "{label}");
        assert!((v - k as f64 / n as f64).abs() < 5e-5, "{label} {v}");
        let (wlo, whi) = wilson(k, n);
        assert!(
            (lo - wlo).abs() < 5e-5 && (hi - whi).abs() < 5e-5,
            "{label} [{lo}, {hi}]"
        );
    }
    assert!(out.contains(&format!("disagreements ({}):", fp_ + fn_)));
    // The floor: precision at least 0.9, recall at least 0.85.
    assert!(
        tp as f64 / (tp + fp_) as f64 >= 0.9,
        "precision {tp}/{}",
        tp + fp_
    );
    assert!(
        tp as f64 / (tp + fn_) as f64 >= 0.85,
        "recall {tp}/{}",
        tp + fn_
    );
    // Every stored endorsement is printed.
    for c in stored.keys() {
        assert!(out.contains(&format!("\t{c}\t")), "{c}");
    }
    // JSON says the same.
    let j: serde_json::Value = serde_json::from_str(&d.ok(&[
        "endorsements",
        "--study",
        &s,
        "--check",
        &path(CHECKED),
        "--json",
    ]))
    .unwrap();
    assert_eq!(j["check"]["true_positives"], tp);
    assert_eq!(j["check"]["false_positives"], fp_);
    assert_eq!(j["endorsements"].as_array().unwrap().len(), stored.len());
}

/// A changed phrase list rebuilds the table (and stores the new
/// fingerprint); a reader that never writes (the report) computes stale
/// endorsements in memory and leaves the store alone; an ingest whose
/// rebuild was lost is noticed.
#[test]
fn the_table_follows_the_lists_and_the_ingests() {
    let d = Dir::new();
    let s = ai_study(&d, &[]);
    let before: String = d
        .db(&s)
        .query_row(
            "SELECT value FROM meta WHERE key = 'endorsement_phrases'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let all = d.count(&s, "SELECT COUNT(*) FROM endorsements");
    // Only "thank you", no exclusions.
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    let start = toml.find("[endorsements]").unwrap();
    let end = start + toml[start..].find("\n]\n").unwrap() + 3;
    let end = end + toml[end..].find("\n]\n").unwrap() + 3;
    let edited = format!(
        "{}[endorsements]\nphrases = [\"Thank  you\"]\n{}",
        &toml[..start],
        &toml[end..]
    );
    std::fs::write(d.path("s/study.toml"), edited).unwrap();
    // The report reads, never writes: computed in memory, store unchanged.
    d.ok(&["classify", "--study", &s, "-q"]);
    let out = d.run(&["report", "--study", &s]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the stored endorsed answers are stale (study.toml's [endorsements] lists changed since they were stored)"), "{err}");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM endorsements"), all);
    let rates =
        std::fs::read_to_string(d.path("s/report/tables/accepted_or_endorsed.csv")).unwrap();
    // The endorsements command rebuilds and stores.
    let out = d.ok(&["endorsements", "--study", &s]);
    assert!(
        out.contains("rebuilt from study.toml's lists and stored"),
        "{out}"
    );
    let db = d.db(&s);
    let after: String = db
        .query_row(
            "SELECT value FROM meta WHERE key = 'endorsement_phrases'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(after, before);
    let phrases: Vec<String> = db
        .prepare("SELECT DISTINCT phrase FROM endorsements")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(phrases, ["Thank  you"]);
    let n = d.count(&s, "SELECT COUNT(*) FROM endorsements");
    assert!(n > 10 && n < all, "{n} of {all}");
    // The in-memory figures were the ones now stored.
    d.ok(&["report", "--study", &s]);
    assert_eq!(
        std::fs::read_to_string(d.path("s/report/tables/accepted_or_endorsed.csv")).unwrap(),
        rates
    );
    let out = d.ok(&["endorsements", "--study", &s]);
    assert!(out.contains("stored (built from"), "{out}");
    // An ingest whose rebuild was lost (the mark no longer matches): rebuilt.
    db.execute(
        "UPDATE meta SET value = '0' WHERE key = 'endorsement_ingest'",
        [],
    )
    .unwrap();
    db.execute("DELETE FROM endorsements", []).unwrap();
    let out = d.ok(&["endorsements", "--study", &s]);
    assert!(out.contains("rebuilt"), "{out}");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM endorsements"), n);
    // A bad list is refused when the study loads.
    std::fs::write(
        d.path("s/study.toml"),
        std::fs::read_to_string(d.path("s/study.toml"))
            .unwrap()
            .replace("phrases = [\"Thank  you\"]", "phrases = [\"  \"]"),
    )
    .unwrap();
    let err = d.fails(&["endorsements", "--study", &s]);
    assert!(
        err.contains("[endorsements] phrases holds an empty phrase"),
        "{err}"
    );
}

/// RQ2: the report's accepted-or-endorsed rate per kind and overall, over
/// the classified questions, equals what the store's rows give, with the
/// Wilson interval and the move in points.
#[test]
fn the_report_shows_accepted_or_endorsed_rates() {
    let d = Dir::new();
    let s = ai_study(&d, &[]);
    d.ok(&["classify", "--study", &s, "-q"]);
    d.ok(&["report", "--study", &s]);
    let db = d.db(&s);
    // Per category: questions, accepted, endorsed and not accepted.
    let mut want: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    let rows = db
        .prepare(
            "SELECT c.category, q.accepted_answer_id IS NOT NULL,
                    EXISTS (SELECT 1 FROM endorsements e WHERE e.site = q.site AND e.question_id = q.id)
             FROM questions q JOIN classifications c ON c.site = q.site AND c.question_id = q.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?, r.get::<_, bool>(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    for (cat, acc, end) in rows {
        for key in [cat, "ALL".into()] {
            let e = want.entry(key).or_default();
            e[0] += 1;
            e[1] += acc as u64;
            e[2] += (!acc && end) as u64;
        }
    }
    let names: HashMap<String, String> = category_keys();
    let mut r = csv::Reader::from_path(d.path("s/report/tables/accepted_or_endorsed.csv")).unwrap();
    let mut seen = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let key = if &rec[0] == "All classified questions" {
            "ALL".to_string()
        } else {
            names[&rec[0]].clone()
        };
        let [n, acc, only] = want.get(&key).copied().unwrap_or_default();
        let num = |i: usize| rec[i].parse::<f64>().unwrap();
        assert_eq!(rec[1].parse::<u64>().unwrap(), n, "{key}");
        assert_eq!(rec[2].parse::<u64>().unwrap(), acc, "{key}");
        assert_eq!(rec[4].parse::<u64>().unwrap(), only, "{key}");
        assert_eq!(rec[5].parse::<u64>().unwrap(), acc + only, "{key}");
        if n > 0 {
            let (lo, hi) = wilson(acc + only, n);
            assert!(
                (num(6) - (acc + only) as f64 / n as f64).abs() < 1e-12,
                "{key}"
            );
            assert!(
                (num(7) - lo).abs() < 1e-9 && (num(8) - hi).abs() < 1e-9,
                "{key}"
            );
            let moves = 100.0 * only as f64 / n as f64;
            assert!((num(9) - moves).abs() < 1e-9, "{key}");
        }
        seen += 1;
    }
    assert_eq!(seen, 8, "seven kinds and all");
    assert!(want["ALL"][2] > 10, "{:?}", want["ALL"]);
    // The accepted rate is the difficulty table's.
    let diff = std::fs::read_to_string(d.path("s/report/tables/difficulty.csv")).unwrap();
    let mut r = csv::Reader::from_reader(diff.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!(rec[2].parse::<u64>().unwrap(), want[&names[&rec[0]]][1]);
    }
    // The page says how much the figure moves, overall.
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    let all = want["ALL"];
    let moved = format!(
        "the study's figure moves by {:+.1} points",
        100.0 * all[2] as f64 / all[0] as f64
    );
    assert!(html.contains(&moved), "{moved}");
    assert!(html.contains("<h3>Accepted or endorsed</h3>"));
    assert!(!html.contains("cannot be measured"));
    // LaTeX and Markdown too.
    assert!(d.path("s/report/tables/accepted_or_endorsed.tex").exists());
    let md = std::fs::read_to_string(d.path("s/report/tables/accepted_or_endorsed.md")).unwrap();
    assert!(md.contains("| All classified questions | 604 |"), "{md}");
}

/// Category names of the default study → keys.
fn category_keys() -> HashMap<String, String> {
    let toml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/study.toml"),
    )
    .unwrap();
    let mut out = HashMap::new();
    let mut key = None;
    let mut in_cat = false;
    for line in toml.lines() {
        if line.starts_with("[[") {
            in_cat = line == "[[categories]]";
        }
        if !in_cat {
            continue;
        }
        if let Some(k) = line.strip_prefix("key = ") {
            key = Some(k.trim_matches('"').to_string());
        }
        if let Some(n) = line.strip_prefix("name = ") {
            out.insert(n.trim_matches('"').to_string(), key.take().unwrap());
        }
    }
    assert_eq!(out.len(), 7);
    out
}

/// A study whose sites have no comments says, in one sentence, that it
/// cannot measure the endorsed rate, and has no such table.
#[test]
fn without_comments_the_report_says_it_cannot_measure() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-2008-head/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
        "-q",
    ]);
    d.ok(&["classify", "--study", &s, "-q"]);
    d.ok(&["report", "--study", &s]);
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert_eq!(
        html.matches("cannot be measured: no site of this study has comments ingested")
            .count(),
        1
    );
    assert!(!html.contains("Accepted or endorsed"));
    assert!(!d.path("s/report/tables/accepted_or_endorsed.csv").exists());
    // No codes either: one sentence, no tables.
    assert_eq!(
        html.matches("No labeled post carries a root-cause code yet")
            .count(),
        1
    );
    assert!(!d.path("s/report/tables/root_cause_codes.csv").exists());
    let out = d.ok(&["endorsements", "--study", &s]);
    assert!(
        out.starts_with("0 endorsing comments on 0 answers of 0 questions"),
        "{out}"
    );
}

/// RQ3: root causes per kind over the labeled posts, from the codes of the
/// final labels, else the annotators'; counts, shares with Wilson
/// intervals, the study's causes named, and example posts with links.
#[test]
fn the_report_shows_root_causes_per_kind() {
    let d = Dir::new();
    let s = ai_study(&d, &["--site-url", "https://ai.stackexchange.com"]);
    let ids: Vec<i64> = d
        .db(&s)
        .prepare("SELECT id FROM questions ORDER BY id LIMIT 12")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Posts 0–5 get a final label (primary); 6–9 annotators agree; 10–11 differ.
    let kinds = [
        "crash",
        "crash",
        "training",
        "training",
        "performance",
        "crash",
    ];
    let mut csv = String::from("site,post_id,primary,annotator_a,annotator_b\n");
    for (i, id) in ids.iter().enumerate() {
        let (p, a, b) = match i {
            0..=5 => (kinds[i], kinds[i], kinds[i]),
            6..=9 => ("", "crash", "crash"),
            _ => ("", "training", "crash"),
        };
        csv += &format!("{AI},{id},{p},{a},{b}\n");
    }
    let file = d.write("labels.csv", csv.as_bytes());
    d.ok(&["label", "import", &file, "--set", "rc", "--study", &s]);
    let db = d.db(&s);
    let set = |id: i64, who: &str, codes: &str| {
        let n = if who == "final" {
            db.execute(
                "UPDATE final_labels SET root_causes = ?1 WHERE set_name = 'rc' AND post_id = ?2",
                rusqlite::params![codes, id],
            )
        } else {
            db.execute(
                "UPDATE labels SET root_causes = ?1 WHERE set_name = 'rc' AND post_id = ?2 AND annotator = ?3",
                rusqlite::params![codes, id, who],
            )
        }
        .unwrap();
        assert_eq!(n, 1, "{id} {who}");
    };
    // Final labels decide: 0 api, 1 api;gpu, 2 hyperparameters, 3 gpu; the
    // annotators' codes of 0 (static_graph) are ignored.
    set(ids[0], "final", "api_misuse");
    set(ids[0], "a", "static_graph");
    set(ids[1], "final", "api_misuse;gpu");
    set(ids[2], "final", "hyperparameters");
    set(ids[3], "final", "gpu");
    // 4: a final label without codes: the annotators' (debugging).
    set(ids[4], "a", "debugging");
    // 5: final, no codes anywhere: labeled, not coded.
    // 6–9 (crash by both): the union of the annotators' codes, once each.
    set(ids[6], "a", "api_misuse");
    set(ids[6], "b", "api_misuse");
    set(ids[7], "a", "static_graph");
    set(ids[7], "b", "api_misuse");
    set(ids[8], "b", "other");
    // 10 (kinds differ): counted overall, under "kinds differ".
    set(ids[10], "a", "gpu;bogus");
    d.ok(&["report", "--study", &s]);
    // Coded posts: 0,1,2,3,4,6,7,8,10 = 9. Overall: api 0,1,6,7 = 4;
    // hyperparameters 2 = 1; gpu 1,3,10 = 3; static_graph 7 = 1;
    // debugging 4 = 1; other 8 = 1.
    let want = [
        ("API misuse", "API misuse", 4, [0usize, 1, 6]),
        (
            "Incorrect hyperparameter selection",
            "incorrect hyperparameter selection",
            1,
            [2, 99, 99],
        ),
        ("GPU computation", "GPU computation", 3, [1, 3, 10]),
        (
            "Static graph computation",
            "static graph computation",
            1,
            [7, 99, 99],
        ),
        (
            "Limited debugging and profiling support",
            "limited debugging and profiling support",
            1,
            [4, 99, 99],
        ),
        ("Other", "—", 1, [8, 99, 99]),
    ];
    let mut r = csv::Reader::from_path(d.path("s/report/tables/root_cause_codes.csv")).unwrap();
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 6);
    for (rec, (name, study, k, ex)) in recs.iter().zip(want) {
        assert_eq!(&rec[0], name);
        assert_eq!(&rec[1], study);
        assert_eq!(rec[2].parse::<u64>().unwrap(), k, "{name}");
        let (lo, hi) = wilson(k, 9);
        assert!((rec[3].parse::<f64>().unwrap() - k as f64 / 9.0).abs() < 1e-12);
        assert!((rec[4].parse::<f64>().unwrap() - lo).abs() < 1e-9, "{name}");
        assert!((rec[5].parse::<f64>().unwrap() - hi).abs() < 1e-9, "{name}");
        let examples: Vec<String> = ex
            .iter()
            .filter(|&&i| i < 99)
            .map(|&i| {
                format!(
                    "{AI} {} (https://ai.stackexchange.com/q/{})",
                    ids[i], ids[i]
                )
            })
            .collect();
        assert_eq!(&rec[6], examples.join("; "), "{name}");
    }
    // Per kind: crash = 0,1 (final) and 6,7,8 → 5; training = 2,3 → 2;
    // performance = 4 → 1; kinds differ = 10 → 1.
    let mut r = csv::Reader::from_path(d.path("s/report/tables/root_causes_by_kind.csv")).unwrap();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        row("Program crash")[1..],
        ["5", "4", "0", "1", "1", "0", "1"]
    );
    assert_eq!(
        row("Training anomaly")[1..],
        ["2", "0", "1", "1", "0", "0", "0"]
    );
    assert_eq!(row("Performance")[1..], ["1", "0", "0", "0", "0", "1", "0"]);
    assert_eq!(
        row("kinds differ, not adjudicated")[1..],
        ["1", "0", "0", "1", "0", "0", "0"]
    );
    assert_eq!(
        row("Comprehension")[1..],
        ["0", "0", "0", "0", "0", "0", "0"]
    );
    let mut r =
        csv::Reader::from_path(d.path("s/report/tables/root_cause_shares_by_kind.csv")).unwrap();
    let crash_api = r
        .records()
        .map(Result::unwrap)
        .find(|x| &x[0] == "Program crash" && &x[1] == "API misuse")
        .unwrap();
    let (lo, hi) = wilson(4, 5);
    assert_eq!(&crash_api[2], "4");
    assert!((crash_api[4].parse::<f64>().unwrap() - lo).abs() < 1e-9);
    assert!((crash_api[5].parse::<f64>().unwrap() - hi).abs() < 1e-9);
    // The page: the section, the sentence, links to the examples, the
    // unknown code named.
    let html = std::fs::read_to_string(d.path("s/report/index.html")).unwrap();
    assert!(html.contains("<h2 id=\"causes\">Root causes</h2>"));
    assert!(html.contains("Of the 9 labeled posts with a root-cause code, the most frequent causes are API misuse 44.4 %"), "sentence");
    assert!(html.contains(&format!(
        "<a href=\"https://ai.stackexchange.com/q/{}\">{AI} {}</a>",
        ids[0], ids[0]
    )));
    assert!(html.contains("12 labeled posts, 9 with a root-cause code of the study"));
    assert!(html.contains("bogus (1)"));
    assert!(!html.contains("No labeled post carries a root-cause code yet"));
    // Byte-identical on a second run.
    let first = std::fs::read(d.path("s/report/tables/root_cause_codes.md")).unwrap();
    d.ok(&["report", "--study", &s]);
    assert_eq!(
        std::fs::read(d.path("s/report/tables/root_cause_codes.md")).unwrap(),
        first
    );
}

/// A check file that is not one is refused with its line and reason, exit 2.
#[test]
fn bad_check_files_are_refused_in_words() {
    let d = Dir::new();
    let s = ai_study(&d, &[]);
    for (body, want) in [
        (
            "site,comment_id\nx,1\n",
            "missing the columns answer_id, question_id, endorsing",
        ),
        (
            "site,comment_id,answer_id,question_id,endorsing\nai,1,2,3,yes\n",
            "line 2: endorsing \"yes\" is not 0 or 1",
        ),
        (
            "site,comment_id,answer_id,question_id,endorsing\nai,-1,2,3,1\n",
            "line 2: comment_id \"-1\" is not a positive whole number",
        ),
        (
            "site,comment_id,answer_id,question_id,endorsing\nai,1,2,3,1\nai,1,2,3,0\n",
            "line 3: comment 1 of ai is listed twice",
        ),
        (
            "site,comment_id,answer_id,question_id,endorsing\n",
            "it lists no comments",
        ),
    ] {
        let file = d.write("check.csv", body.as_bytes());
        let err = d.fails(&["endorsements", "--study", &s, "--check", &file]);
        assert!(err.contains(want), "{want}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A comment the study does not hold is counted, not scored.
    let file = d.write(
        "check.csv",
        format!("site,comment_id,answer_id,question_id,endorsing\n{AI},999999,2,3,1\n{AI},3423,2959,2959,1\n").as_bytes(),
    );
    let out = d.ok(&["endorsements", "--study", &s, "--check", &file]);
    assert!(out.contains("not scored: 2 listed comments"), "{out}");
    assert!(out.contains("not covered: 244 askers' comments"), "{out}");
}

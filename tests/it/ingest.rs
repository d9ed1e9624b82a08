//! Ingest, stats and info, run through the real binary on real dumps
//! (tests/data, CC BY-SA, see tests/data/README.md) into real SQLite files.

use crate::util::{Dir, close, data, path};

const DEPLOY: &str = "stackoverflow-dl-deploy/Posts.xml";

/// The statistics of the deployment questions agree with an independent
/// implementation: `python3 benches/baseline/ingest_stats.py
/// tests/data/stackoverflow-dl-deploy/Posts.xml` (ElementTree + statistics,
/// quantiles with method="inclusive", i.e. numpy's linear), whose output
/// is pinned here.
#[test]
fn stats_match_the_independent_python_reference() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&["ingest", &path(DEPLOY), "--study", &s]);
    let st = d.stats(&s);
    let fw = &st["frameworks"];
    assert_eq!(fw[0]["name"], "tensorflow");
    assert_eq!(fw[0]["questions"], 2358);
    assert_eq!(fw[0]["views"]["max"], 28996);
    close(&fw[0]["views"]["q3"], 499.5, "tf q3");
    close(&fw[0]["views"]["median"], 203.0, "tf median");
    assert_eq!(fw[0]["accepted"]["count"], 635);
    assert_eq!(fw[0]["accepted"]["resolved"], 635);
    close(
        &fw[0]["accepted"]["percent"],
        26.929601357082273,
        "tf accepted %",
    );
    let h = &fw[0]["hours_to_accepted"];
    close(&h["mean"], 382.32080174628175, "tf mean h");
    close(&h["median"], 29.1652825, "tf median h");
    close(&h["q1"], 3.7908018055555557, "tf q1 h");
    close(&h["q3"], 161.39661819444444, "tf q3 h");
    assert_eq!(fw[0]["unanswered"]["count"], 767);
    close(
        &fw[0]["hours_to_first_answer"]["median"],
        39.148445555555554,
        "tf first answer",
    );
    assert_eq!(fw[0]["per_year"]["2019"], 1088);

    assert_eq!(fw[1]["name"], "pytorch");
    assert_eq!(fw[1]["questions"], 24);
    assert_eq!(fw[1]["views"]["max"], 7927);
    close(&fw[1]["views"]["q3"], 269.0, "pt q3");
    close(
        &fw[1]["hours_to_accepted"]["q1"],
        15.846198888888889,
        "pt q1",
    );

    assert_eq!(fw[2]["name"], "deeplearning4j");
    assert_eq!(fw[2]["questions"], 2);
    close(&fw[2]["views"]["q3"], 527.75, "dl4j q3");
    close(&fw[2]["views"]["median"], 401.5, "dl4j median");

    let all = &st["all"];
    assert_eq!(all["name"], "all");
    assert_eq!(all["questions"], 2381);
    close(&all["views"]["q3"], 497.0, "all q3");
    close(
        &all["hours_to_accepted"]["mean"],
        385.76065351475694,
        "all mean",
    );
    close(
        &all["hours_to_accepted"]["q3"],
        161.21532354166666,
        "all q3 h",
    );
    assert_eq!(all["per_year"]["2018"], 707);
    // The Markdown tables say how quantiles were computed, and use — for no data.
    let md = d.ok(&["stats", "--study", &s]);
    assert!(
        md.contains("| TensorFlow | 2,358 | 28,996 | 499.5 | 203.0 |"),
        "{md}"
    );
    assert!(md.contains("numpy's default"), "{md}");
}

/// The truncated 2008 head: 45 accepted answers point outside the file.
/// Reference: `python3 benches/baseline/ingest_stats.py
/// tests/data/stackoverflow-2008-head/Posts.xml --all-questions`.
#[test]
fn truncated_dump_reports_missing_accepted_answers() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-2008-head/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
    ]);
    let st = d.stats(&s);
    let all = &st["all"];
    assert_eq!(all["questions"], 224);
    assert_eq!(all["accepted"]["count"], 196);
    assert_eq!(all["accepted"]["resolved"], 151);
    assert_eq!(all["accepted"]["missing"], 45);
    close(
        &all["hours_to_accepted"]["median"],
        0.3746536111111111,
        "median h",
    );
    close(
        &all["hours_to_accepted"]["mean"],
        5.198992422737307,
        "mean h",
    );
    close(&all["views"]["q3"], 24414.75, "views q3");
    assert_eq!(all["unanswered"]["count"], 9);
    // No deep learning tags: every framework row is empty, with nulls, never NaN.
    let tf = &st["frameworks"][0];
    assert_eq!(tf["questions"], 0);
    assert!(tf["views"]["median"].is_null());
    assert!(tf["hours_to_accepted"]["mean"].is_null());
    assert!(tf["accepted"]["percent"].is_null());
    let md = d.ok(&["stats", "--study", &s]);
    assert!(
        md.contains("45 accepted answers are not in the dump"),
        "{md}"
    );
    assert!(md.contains("| TensorFlow | 0 | — | — | — |"), "{md}");
}

#[test]
fn both_tag_formats_give_identical_studies() {
    let d = Dir::new();
    let (a, p) = (d.study("angle"), d.study("pipe"));
    let ingest = |file: &str, study: &str| {
        d.ok(&[
            "ingest",
            &path(file),
            "--all-questions",
            "--site",
            "datascience.meta",
            "--study",
            study,
        ])
    };
    let out_a = ingest("datascience.meta-tag-formats/Posts.angle-tags.xml", &a);
    let out_p = ingest("datascience.meta-tag-formats/Posts.pipe-tags.xml", &p);
    assert!(out_a.contains("tag format: angle"), "{out_a}");
    assert!(out_p.contains("tag format: pipe"), "{out_p}");
    assert_eq!(d.stats(&a), d.stats(&p));
    let rows = |study: &str| -> Vec<String> {
        let db = d.db(study);
        let mut stmt = db
            .prepare(
                "SELECT id || tags || ifnull(title,'') || body_text || code_text || created
                        || ifnull(view_count,'') || ifnull(accepted_answer_id,'')
                 FROM questions ORDER BY id",
            )
            .unwrap();
        let mut out: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut stmt = db
            .prepare("SELECT id || parent_id || created || ifnull(body_html,'') FROM answers ORDER BY id")
            .unwrap();
        out.extend(
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap),
        );
        out
    };
    let (ra, rp) = (rows(&a), rows(&p));
    assert_eq!(ra.len(), 257 + 341);
    assert_eq!(ra, rp);
    assert_eq!(
        d.count(
            &a,
            "SELECT COUNT(*) FROM question_tags WHERE tag = 'discussion'"
        ),
        d.count(
            &p,
            "SELECT COUNT(*) FROM question_tags WHERE tag = 'discussion'"
        )
    );
}

/// Rows in any order: the real datascience.meta rows, reversed so that every
/// answer comes before its question, read in small chunks so that answers and
/// questions land in different batches (a second pass).
#[test]
fn answers_before_their_questions_are_not_lost() {
    let d = Dir::new();
    let original =
        std::fs::read_to_string(data("datascience.meta-tag-formats/Posts.pipe-tags.xml")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let (head, rest) = lines.split_at(2);
    let (rows, tail) = rest.split_at(rest.len() - 1);
    let mut reversed: Vec<&str> = head.to_vec();
    reversed.extend(rows.iter().rev());
    reversed.extend(tail);
    let file = d.write("reversed/Posts.xml", reversed.join("\n").as_bytes());

    let (s, r) = (d.study("orig"), d.study("rev"));
    let common = ["--all-questions", "--site", "ds", "--chunk-kib", "16"];
    let orig_path = path("datascience.meta-tag-formats/Posts.pipe-tags.xml");
    let mut args = vec!["ingest", orig_path.as_str(), "--study", &s];
    args.extend(common);
    d.ok(&args);
    let mut args = vec!["ingest", file.as_str(), "--study", &r];
    args.extend(common);
    let out = d.ok(&args);
    assert!(
        out.contains("rows are not in Id order (read twice"),
        "{out}"
    );
    assert_eq!(d.count(&r, "SELECT COUNT(*) FROM answers"), 341);
    assert_eq!(d.stats(&s), d.stats(&r));
}

#[test]
fn reingest_replaces_a_site_without_duplicates() {
    let d = Dir::new();
    let s = d.study("s");
    let dump = path(DEPLOY);
    d.ok(&["ingest", &dump, "--study", &s]);
    let first = d.stats(&s);
    let counts = |d: &Dir| {
        (
            d.count(&s, "SELECT COUNT(*) FROM questions"),
            d.count(&s, "SELECT COUNT(*) FROM answers"),
            d.count(&s, "SELECT COUNT(*) FROM question_tags"),
            d.count(&s, "SELECT COUNT(*) FROM question_frameworks"),
        )
    };
    let before = counts(&d);
    d.ok(&["ingest", &dump, "--study", &s]);
    assert_eq!(counts(&d), before);
    assert_eq!(d.stats(&s), first);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM ingests"), 2);
    // A second site joins the study; the first stays as it was.
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--study",
        &s,
    ]);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 2);
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM questions WHERE site = 'stackoverflow-dl-deploy'"
        ),
        before.0
    );
}

/// Ingest is all or nothing: a process that dies mid-ingest (the test hook
/// aborts it without unwinding, as kill -9 would) leaves the previous study
/// intact and usable.
#[test]
fn a_killed_ingest_leaves_the_study_intact() {
    let d = Dir::new();
    let s = d.study("s");
    let deploy = path(DEPLOY);
    d.ok(&["ingest", &deploy, "--study", &s]);
    let before = d.stats(&s);
    let info_before = d.ok(&["info", "--study", &s]);
    for (dump, after_rows) in [
        (deploy.clone(), "1"),
        (deploy.clone(), "3000"),
        (path("stackoverflow-pytorch-labeled/Posts.xml"), "700"),
    ] {
        let out = d
            .cmd(&["ingest", &dump, "--all-questions", "--study", &s])
            .env("STACKMINE_TEST_ABORT_AFTER_ROWS", after_rows)
            .output()
            .unwrap();
        assert!(!out.status.success(), "the hook should have killed it");
        assert_eq!(out.status.code(), None, "killed by a signal");
        assert_eq!(d.stats(&s), before, "after dying at row {after_rows}");
        assert_eq!(d.ok(&["info", "--study", &s]), info_before);
    }
    let integrity: String = d
        .db(&s)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // And the study takes the next ingest as usual.
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
    ]);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 2);
    // The staging files the killed ingests left (study.db.ingest-PID) are gone.
    let left: Vec<String> = std::fs::read_dir(d.path(&s))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ingest-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Real rows, three of them damaged in the middle of the file.
#[test]
fn malformed_rows_are_skipped_counted_and_reported() {
    let d = Dir::new();
    let text = std::fs::read_to_string(data(DEPLOY)).unwrap();
    let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
    // Line numbers are 1-based: lines[i] is line i + 1.
    let tf_question = (100..lines.len())
        .find(|&i| lines[i].contains("PostTypeId=\"1\"") && lines[i].contains("tensorflow"))
        .unwrap();
    let date = regex_lite_date(&lines[tf_question]);
    lines[tf_question] = lines[tf_question].replace(&date, "");
    lines[2000] = lines[2000].trim_end_matches("/>").trim_end().to_string() + " Body=\"cut";
    lines[3000] = "this is not a row".to_string();
    let file = d.write("damaged/Posts.xml", lines.join("\n").as_bytes());

    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--study",
        &s,
    ]);
    let before = d.stats(&s);
    // Over the limit: exit 2, the study is unchanged, the message names the rows.
    let err = d.fails(&["ingest", &file, "--study", &s, "--max-bad-rows", "0.0001"]);
    assert!(
        err.contains("3 of 5,694 rows are malformed") || err.contains("3 of 5694 rows"),
        "{err}"
    );
    assert!(err.contains(&format!("line {}", tf_question + 1)), "{err}");
    assert!(
        err.contains("missing required attribute CreationDate"),
        "{err}"
    );
    assert!(err.contains("line 2001"), "{err}");
    assert!(
        err.contains("line 3001: unexpected line \"this is not a row\""),
        "{err}"
    );
    assert!(err.contains("study is unchanged"), "{err}");
    assert_eq!(d.stats(&s), before);
    // Under the default limit (1%): kept going, counted and reported.
    let out = d.ok(&["ingest", &file, "--study", &s]);
    assert!(out.contains("skipped 3: malformed row"), "{out}");
    assert!(out.contains("malformed: line 2001"), "{out}");
    let log_bad = d.count(&s, "SELECT bad_rows FROM ingests ORDER BY id DESC LIMIT 1");
    assert_eq!(log_bad, 3);
}

/// ` CreationDate="…"` of a row.
fn regex_lite_date(line: &str) -> String {
    let start = line.find(" CreationDate=\"").unwrap();
    let end = start + line[start + 15..].find('"').unwrap() + 16;
    line[start..end].to_string()
}

#[test]
fn cut_off_empty_and_foreign_files_are_clear_errors() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&[
        "ingest",
        &path("stackoverflow-2008-head/Posts.xml"),
        "--all-questions",
        "--study",
        &s,
    ]);
    let before = d.stats(&s);
    let bytes = std::fs::read(data(DEPLOY)).unwrap();

    // Cut in the middle of a row.
    let cut = d.write("cut/Posts.xml", &bytes[..bytes.len() / 2]);
    let line = bytes[..bytes.len() / 2]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    let err = d.fails(&["ingest", &cut, "--study", &s]);
    assert!(err.contains("cut/Posts.xml is cut off at line"), "{err}");
    assert!(err.contains(&format!("line {line} (byte")), "{err}");
    assert!(err.contains("the last line is incomplete"), "{err}");

    // Cut after a whole row: no </posts>.
    let end = bytes.len() / 2
        + bytes[bytes.len() / 2..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap()
        + 1;
    let cut = d.write("cut2/Posts.xml", &bytes[..end]);
    let err = d.fails(&["ingest", &cut, "--study", &s]);
    assert!(err.contains("it ends without </posts>"), "{err}");

    let empty = d.write("empty/Posts.xml", b"");
    let err = d.fails(&["ingest", &empty, "--study", &s]);
    assert!(err.contains("empty/Posts.xml is empty"), "{err}");

    let comments = path("ai.stackexchange.com-2017/Comments.xml");
    let err = d.fails(&["ingest", &comments, "--study", &s]);
    assert!(
        err.contains("root element is <comments>, not <posts>"),
        "{err}"
    );

    let readme = d.write("notes/Posts.xml", b"# not xml\nat all\n");
    let err = d.fails(&["ingest", &readme, "--study", &s]);
    assert!(err.contains("not a Stack Exchange posts.xml dump"), "{err}");

    let err = d.fails(&["ingest", "no/such/Posts.xml", "--study", &s]);
    assert!(err.contains("no/such/Posts.xml"), "{err}");

    // A bad file among good ones: nothing of the good ones lands either.
    let err = d.fails(&["ingest", &path(DEPLOY), &cut, "--study", &s]);
    assert!(err.contains("cut off"), "{err}");
    assert_eq!(d.stats(&s), before);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 1);
}

#[test]
fn a_dump_folder_with_comments_and_its_7z_archive_give_the_same_study() {
    let d = Dir::new();
    let (f, z) = (d.study("folder"), d.study("archive"));
    let out = d.ok(&[
        "ingest",
        &path("ai.stackexchange.com-2017"),
        "--site",
        "ai.stackexchange.com",
        "--all-questions",
        "--study",
        &f,
    ]);
    assert!(
        out.contains("kept 604 questions, 1,004 answers, 1,700 comments"),
        "{out}"
    );
    assert!(out.contains("skipped 62: post type 5 (tag wiki)"), "{out}");
    let out = d.ok(&[
        "ingest",
        &path("ai.stackexchange.com.7z"),
        "--all-questions",
        "--study",
        &z,
    ]);
    assert!(out.contains("site ai.stackexchange.com:"), "{out}");
    assert!(
        out.contains("kept 604 questions, 1,004 answers, 1,700 comments"),
        "{out}"
    );
    assert_eq!(d.stats(&f), d.stats(&z));
    let url: String = d
        .db(&z)
        .query_row("SELECT url FROM sites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(url, "https://ai.stackexchange.com");
    // Without --all-questions only the deep learning tags are kept.
    let t = d.study("tagged");
    d.ok(&["ingest", &path("ai.stackexchange.com.7z"), "--study", &t]);
    let st = d.stats(&t);
    let tf = st["frameworks"][0]["questions"].as_i64().unwrap();
    let n = d.count(&t, "SELECT COUNT(*) FROM questions");
    assert!(tf > 0 && tf == n, "tensorflow {tf}, kept {n}");
    assert_eq!(
        d.count(
            &t,
            "SELECT COUNT(*) FROM questions WHERE tags NOT LIKE '%tensorflow%'"
        ),
        0
    );
}

#[test]
fn two_sites_with_overlapping_ids_stay_apart() {
    let d = Dir::new();
    let s = d.study("s");
    let out = d.ok(&[
        "ingest",
        &path("other-sites/cardano.stackexchange.com-2021.Posts.xml"),
        &path("other-sites/quantumcomputing.stackexchange.com-2018.Posts.xml"),
        "--all-questions",
        "--study",
        &s,
    ]);
    assert!(
        out.contains("site cardano.stackexchange.com-2021: 2,630 rows"),
        "{out}"
    );
    assert!(
        out.contains("site quantumcomputing.stackexchange.com-2018: 1,986 rows"),
        "{out}"
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 2);
    assert_eq!(
        d.count(&s, "SELECT COUNT(*) FROM questions"),
        d.count(&s, "SELECT COUNT(DISTINCT site || id) FROM questions")
    );
    assert!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM questions a JOIN questions b ON a.id = b.id AND a.site < b.site"
        ) > 0
    );
    assert_eq!(d.stats(&s)["all"]["questions"], 1042 + 612);
    let info = d.ok(&["info", "--study", &s]);
    assert!(
        info.contains("site cardano.stackexchange.com-2021"),
        "{info}"
    );
    assert!(
        info.contains("1,042 questions (all questions kept)"),
        "{info}"
    );
}

/// An export rebuilt from the API lacks CommentCount: not malformed, just NULL.
#[test]
fn missing_optional_attributes_are_null_not_errors() {
    let d = Dir::new();
    let s = d.study("s");
    let out = d.ok(&[
        "ingest",
        &path("stackoverflow-pytorch-labeled/Posts.xml"),
        "--study",
        &s,
    ]);
    assert!(!out.contains("malformed"), "{out}");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM questions"), 630);
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM questions WHERE comment_count IS NOT NULL"
        ),
        0
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM answers"), 792);
    // Code blocks are kept apart from the prose.
    assert!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM questions WHERE code_text LIKE '%import torch%'"
        ) > 100
    );
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM questions WHERE body_text LIKE '%<p>%'"
        ),
        0
    );
}

#[test]
fn commands_without_a_study_say_what_to_do() {
    let d = Dir::new();
    let err = d.fails(&["ingest", &path(DEPLOY), "--study", "nowhere"]);
    assert!(
        err.contains("no study.toml in nowhere: run `stackmine init nowhere` first"),
        "{err}"
    );
    let s = d.study("s");
    let err = d.fails(&["stats", "--study", &s]);
    assert!(err.contains("no study store yet"), "{err}");
    let err = d.fails(&["init", &s]);
    assert!(err.contains("exists; use --force"), "{err}");
    let toml = std::fs::read_to_string(d.path("s/study.toml")).unwrap();
    assert!(toml.contains("match = \"substring\""));
    assert!(toml.contains("key = \"performance\""));
}

/// The README's main job: one command from the shipped sample dump to a report.
#[test]
fn run_writes_a_deterministic_report() {
    let d = Dir::new();
    let out = d.ok(&["run", &path(DEPLOY), "--study", "study", "--quiet"]);
    assert!(out.contains("| TensorFlow | 2,358 |"), "{out}");
    assert!(out.contains("report written to study/report"), "{out}");
    let md = std::fs::read(d.path("study/report/stats.md")).unwrap();
    let json = std::fs::read(d.path("study/report/stats.json")).unwrap();
    // Again, in another folder: byte for byte the same files.
    d.ok(&[
        "run",
        &path(DEPLOY),
        "--study",
        "elsewhere/other",
        "--quiet",
    ]);
    assert_eq!(
        std::fs::read(d.path("elsewhere/other/report/stats.md")).unwrap(),
        md
    );
    assert_eq!(
        std::fs::read(d.path("elsewhere/other/report/stats.json")).unwrap(),
        json
    );
    // And re-running over the same study changes nothing.
    d.ok(&["run", &path(DEPLOY), "--study", "study", "-q"]);
    assert_eq!(std::fs::read(d.path("study/report/stats.md")).unwrap(), md);
}

/// A study made at schema version 1 (ingest only) is migrated in place,
/// keeping its posts; a study from a newer release is refused, untouched.
#[test]
fn old_studies_are_migrated_and_newer_ones_refused() {
    let d = Dir::new();
    let s = d.study("s");
    {
        let db = rusqlite::Connection::open(d.path("s/study.db")).unwrap();
        let v1 =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.sql"))
                .unwrap();
        db.execute_batch(&v1).unwrap();
        db.execute(
            "INSERT INTO questions (site, id, body_text, code_text, tags, created, created_ms)
             VALUES ('old', 1, '', '', '[]', '2015-01-01T00:00:00.000', 1420070400000)",
            [],
        )
        .unwrap();
        db.pragma_update(None, "user_version", 1).unwrap();
    }
    assert_eq!(d.stats(&s)["all"]["questions"], 1);
    let version: i64 = d
        .db(&s)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM batches"), 0);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM endorsements"), 0);
    assert_eq!(
        d.count(&s, "SELECT COUNT(*) FROM sites WHERE as_of IS NOT NULL"),
        0
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM embeddings"), 0);
    d.db(&s).pragma_update(None, "user_version", 99).unwrap();
    let err = d.fails(&["stats", "--study", &s]);
    assert!(
        err.contains("made by a newer stackmine (schema version 99"),
        "{err}"
    );
}

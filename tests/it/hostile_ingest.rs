//! Bad input and hostile dumps (issue 9): every one gets a clear error or a
//! counted, reported skip, in words, and never changes the study. Real rows
//! (tests/data, CC BY-SA, see tests/data/README.md) through the real binary
//! into real SQLite files.

use crate::util::{Dir, data, path};

const PYTORCH: &str = "stackoverflow-pytorch-labeled/Posts.xml";

/// An error message is in words: no Rust Debug forms, each cause once.
fn assert_words(err: &str) {
    for debug in [
        "Custom {",
        "kind:",
        "Io(",
        "BadSignature",
        "UnsupportedCompressionMethod",
        "PasswordRequired",
        "os error",
        "Some(",
    ] {
        assert!(!err.contains(debug), "Debug form {debug:?} in: {err}");
    }
    let msg = err.trim().trim_start_matches("stackmine: error: ");
    let parts: Vec<&str> = msg.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "a cause printed twice: {err}");
    }
}

/// The first `n` rows of a fixture as a dump of their own: its first two lines
/// (declaration, root), the rows, its closing line.
fn subset(rel: &str, n: usize, keep: impl Fn(&str) -> bool) -> String {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split('\n').collect();
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.trim_start().starts_with("<row ") && keep(l))
        .take(n)
        .collect();
    let close = lines
        .iter()
        .find(|l| l.trim_start().starts_with("</"))
        .unwrap();
    let mut out: Vec<&str> = lines[..2].to_vec();
    out.extend(rows);
    out.push(close);
    out.join("\n") + "\n"
}

fn attr<'a>(row: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = row.find(&key).unwrap() + key.len();
    &row[start..start + row[start..].find('"').unwrap()]
}

/// The site's post Ids, as one string, to compare two studies.
fn ids(d: &Dir, s: &str, site: &str) -> String {
    let db = d.db(s);
    let mut out = String::new();
    for t in ["questions", "answers", "comments"] {
        let v: Option<String> = db
            .query_row(
                &format!(
                    "SELECT group_concat(id) FROM (SELECT id FROM {t} WHERE site = ?1 ORDER BY id)"
                ),
                [site],
                |r| r.get(0),
            )
            .unwrap();
        out.push_str(&format!("{t}: {}\n", v.unwrap_or_default()));
    }
    out
}

/// Defect 4: a .7z with two Posts.xml (hostile/two-sites.7z: the first 40 rows
/// of ai.stackexchange.com-2017 with their comments, and the first 30 of
/// stackoverflow-2008-head, each in a folder named after its site) is read as
/// two sites, each exactly as its folder would be.
#[test]
fn a_7z_with_two_posts_xml_gives_one_site_per_folder() {
    let d = Dir::new();
    let ai_posts = subset("ai.stackexchange.com-2017/Posts.xml", 40, |_| true);
    let ai_ids: Vec<String> = ai_posts
        .lines()
        .filter(|l| l.contains("<row "))
        .map(|l| attr(l, "Id").to_string())
        .collect();
    let ai_comments = subset("ai.stackexchange.com-2017/Comments.xml", usize::MAX, |l| {
        ai_ids.iter().any(|id| id == attr(l, "PostId"))
    });
    let so_posts = subset("stackoverflow-2008-head/Posts.xml", 30, |_| true);
    d.write("x/ai.stackexchange.com/Posts.xml", ai_posts.as_bytes());
    d.write(
        "x/ai.stackexchange.com/Comments.xml",
        ai_comments.as_bytes(),
    );
    d.write("x/stackoverflow.com/Posts.xml", so_posts.as_bytes());

    let (a, f) = (d.study("archive"), d.study("folders"));
    let archive = path("hostile/two-sites.7z");
    let out = d.ok(&["ingest", &archive, "--all-questions", "--study", &a]);
    assert!(out.contains("→ site ai.stackexchange.com:"), "{out}");
    assert!(out.contains("→ site stackoverflow.com:"), "{out}");
    for site in ["ai.stackexchange.com", "stackoverflow.com"] {
        let folder = d.path("x").join(site).to_string_lossy().into_owned();
        d.ok(&["ingest", &folder, "--all-questions", "--study", &f]);
    }
    for site in ["ai.stackexchange.com", "stackoverflow.com"] {
        assert_eq!(ids(&d, &a, site), ids(&d, &f, site), "{site}");
    }
    assert!(
        d.count(
            &a,
            "SELECT COUNT(*) FROM comments WHERE site = 'ai.stackexchange.com'"
        ) > 0
    );
    assert_eq!(
        d.count(
            &a,
            "SELECT COUNT(*) FROM comments WHERE site = 'stackoverflow.com'"
        ),
        0
    );
    assert_eq!(d.count(&a, "SELECT COUNT(*) FROM ingests"), 2);
    let url: String = d
        .db(&a)
        .query_row(
            "SELECT url FROM sites WHERE site = 'stackoverflow.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(url, "https://stackoverflow.com");

    // --site cannot name two sites: refused, listing the entries.
    let s = d.study("s");
    let err = d.fails(&["ingest", &archive, "--site", "one", "--study", &s]);
    assert!(err.contains("two-sites.7z: it holds 2 Posts.xml (ai.stackexchange.com/Posts.xml, stackoverflow.com/Posts.xml)"), "{err}");
    assert!(
        err.contains("leave it out, or extract the one you want"),
        "{err}"
    );
    assert_words(&err);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 0);
}

/// Archive layouts stackmine cannot read are refused in words, naming what the
/// archive holds; the study is unchanged.
#[test]
fn archive_layouts_that_cannot_be_read_are_refused_in_words() {
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&["ingest", &path(PYTORCH), "--study", &s]);
    let before = d.stats(&s);
    let cases = [
        (
            "hostile/no-posts.7z",
            "no-posts.7z: no Posts.xml in it; it holds Comments.xml",
        ),
        (
            "hostile/nested.7z",
            "nested.7z: no Posts.xml in it; it holds other archives (encrypted.7z), which are not read: extract them first",
        ),
        (
            "hostile/comments-elsewhere.7z",
            "comments-elsewhere.7z: x/Comments.xml has no Posts.xml in its folder",
        ),
        (
            "hostile/bad-folder-name.7z",
            "the site name taken from the folder of bad name/Posts.xml, \"bad name\", breaks the rule",
        ),
    ];
    for (archive, want) in cases {
        let err = d.fails(&["ingest", &path(archive), "--study", &s]);
        assert!(err.contains(want), "{archive}: {err}");
        assert_words(&err);
    }
    // A folder with two files named Posts.xml (in different case), and a
    // folder whose dumps are in subfolders.
    let posts = std::fs::read(data(PYTORCH)).unwrap();
    d.write("twice/Posts.xml", &posts);
    d.write("twice/posts.xml", &posts);
    let err = d.fails(&["ingest", &d.path("twice").to_string_lossy(), "--study", &s]);
    assert!(
        err.contains(
            "it holds 2 files named Posts.xml (ignoring case): Posts.xml, posts.xml; keep one"
        ),
        "{err}"
    );
    d.write("parent/so.com/Posts.xml", &posts);
    let err = d.fails(&["ingest", &d.path("parent").to_string_lossy(), "--study", &s]);
    assert!(err.contains("parent: no Posts.xml in it; its subfolders so.com have one: give each as a DUMP argument"), "{err}");
    assert_eq!(d.stats(&s), before);
}

/// Defect 15: broken, foreign and encrypted archives, and missing files, get
/// one message each, in words.
#[test]
fn broken_and_encrypted_archives_get_errors_in_words() {
    let d = Dir::new();
    let s = d.study("s");
    let good = std::fs::read(data("hostile/two-sites.7z")).unwrap();
    let mut corrupt = good.clone();
    for b in &mut corrupt[200..400] {
        *b ^= 0x55;
    }
    let corrupt = d.write("corrupt.7z", &corrupt);
    let cut = d.write("cut.7z", &good[..good.len() / 2]);
    let text = d.write("text.7z", b"this is not an archive\n");
    let empty = d.write("empty.7z", b"");
    let cases = [
        (
            path("hostile/encrypted.7z"),
            "encrypted.7z: password-protected archives are not supported",
        ),
        (
            path("hostile/encrypted-header.7z"),
            "encrypted-header.7z: password-protected archives are not supported",
        ),
        (corrupt, "corrupt.7z: the archive is corrupt ("),
        (cut, "cut.7z: the archive is cut off or corrupt ("),
        (
            text,
            "text.7z: not a 7z archive (it does not start with the 7z signature)",
        ),
        (empty, "empty.7z: the archive is cut off"),
        (
            "no/such.7z".to_string(),
            "no/such.7z: No such file or directory",
        ),
        (
            "no/such/Posts.xml".to_string(),
            "no/such/Posts.xml: No such file or directory",
        ),
    ];
    for (file, want) in cases {
        let err = d.fails(&["ingest", &file, "--study", &s]);
        assert!(err.contains(want), "{file}: {err}");
        assert_eq!(
            err.matches("No such file").count(),
            usize::from(file.starts_with("no/")),
            "{err}"
        );
        assert_words(&err);
    }
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 0);
}

/// One real row with one attribute set to `value` (added when missing).
fn with_attr(row: &str, name: &str, value: &str) -> String {
    let key = format!(" {name}=\"");
    match row.find(&key) {
        Some(i) => {
            let start = i + key.len();
            let end = start + row[start..].find('"').unwrap();
            format!("{}{value}{}", &row[..start], &row[end..])
        }
        None => row.replacen("<row ", &format!("<row {name}=\"{value}\" "), 1),
    }
}

/// Defect 10: invalid values in every attribute the row parser reads, in
/// Posts.xml and Comments.xml, are malformed rows whose reason says what is
/// wrong; valid edge values are kept as written.
#[test]
fn invalid_values_are_malformed_rows_with_reasons() {
    let d = Dir::new();
    let text = std::fs::read_to_string(data(PYTORCH)).unwrap();
    let question = text
        .lines()
        .find(|l| l.contains("PostTypeId=\"1\""))
        .unwrap();
    let answer = text
        .lines()
        .find(|l| l.contains("PostTypeId=\"2\""))
        .unwrap();
    let ctext = std::fs::read_to_string(data("ai.stackexchange.com-2017/Comments.xml")).unwrap();
    let comment = ctext.lines().find(|l| l.contains("<row ")).unwrap();
    let not_id = "is not a positive 63-bit integer";
    let not_count = "is not a non-negative 63-bit integer";
    let not_int = "is not a 63-bit integer";
    let not_date = "is not a valid date";
    // (row, attribute, value, reason)
    let mut cases: Vec<(&str, &str, &str, String)> = Vec::new();
    for v in [
        "-5",
        "0",
        "9223372036854775808",
        "12345678901234567890123",
        "+7",
        "0x10",
        " 7",
        "7 ",
        "7.0",
        "",
        "1e3",
        "٣",
    ] {
        cases.push((question, "Id", v, format!("Id {not_id}: \"{v}\"")));
    }
    cases.push((
        question,
        "PostTypeId",
        "one",
        format!("PostTypeId {not_id}: \"one\""),
    ));
    cases.push((
        question,
        "PostTypeId",
        "-1",
        format!("PostTypeId {not_id}: \"-1\""),
    ));
    for v in [
        "2020-02-30T00:00:00.000",
        "2019-02-29T00:00:00.000",
        "2020-13-01T00:00:00.000",
        "2020-04-31T00:00:00.000",
        "2020-01-01T24:00:00.000",
        "2020-01-01T23:60:00.000",
        "2020-01-01T23:59:60.000",
        "2020-01-01 00:00:00.000",
        "2020-01-01T00:00:00.",
        "2020-01-01T00:00:00.0000000000",
        "-020-01-01T00:00:00.000",
        "yesterday",
        "",
    ] {
        cases.push((
            question,
            "CreationDate",
            v,
            format!("CreationDate {not_date}"),
        ));
    }
    cases.push((
        question,
        "ClosedDate",
        "2021-02-29T00:00:00.000",
        format!("ClosedDate {not_date}"),
    ));
    cases.push((
        question,
        "Score",
        "1e3",
        format!("Score {not_int}: \"1e3\""),
    ));
    cases.push((
        question,
        "Score",
        "99999999999999999999",
        format!("Score {not_int}"),
    ));
    cases.push((
        question,
        "ViewCount",
        "-3",
        format!("ViewCount {not_count}: \"-3\""),
    ));
    cases.push((
        question,
        "AnswerCount",
        "2.5",
        format!("AnswerCount {not_count}"),
    ));
    cases.push((
        question,
        "CommentCount",
        "+1",
        format!("CommentCount {not_count}"),
    ));
    cases.push((
        question,
        "FavoriteCount",
        "x",
        format!("FavoriteCount {not_count}"),
    ));
    cases.push((
        question,
        "AcceptedAnswerId",
        "0",
        format!("AcceptedAnswerId {not_id}"),
    ));
    cases.push((
        question,
        "OwnerUserId",
        "--1",
        format!("OwnerUserId {not_int}"),
    ));
    cases.push((
        question,
        "Title",
        "a\u{0}b",
        "Title holds the character U+0000".to_string(),
    ));
    cases.push((
        question,
        "Title",
        "a&#1;b",
        "Title holds the character U+0001".to_string(),
    ));
    cases.push((
        question,
        "Body",
        "&#x1B;[31m",
        "Body holds the character U+001B".to_string(),
    ));
    cases.push((
        question,
        "Title",
        "&#xFFFE;",
        "Title holds the character U+FFFE".to_string(),
    ));
    cases.push((
        question,
        "Title",
        "&bogus;",
        "bad XML in attributes".to_string(),
    ));
    cases.push((
        answer,
        "ParentId",
        "-1",
        format!("ParentId {not_id}: \"-1\""),
    ));
    cases.push((answer, "ParentId", "abc", format!("ParentId {not_id}")));
    cases.push((answer, "Id", "0", format!("Id {not_id}")));
    cases.push((
        answer,
        "CreationDate",
        "2020-06-31T00:00:00.000",
        format!("CreationDate {not_date}"),
    ));
    cases.push((answer, "Score", "--2", format!("Score {not_int}")));
    cases.push((
        answer,
        "OwnerUserId",
        "1.5",
        format!("OwnerUserId {not_int}"),
    ));
    let header = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n";
    let s = d.study("s");
    for (i, (row, name, value, reason)) in cases.iter().enumerate() {
        let bad = with_attr(row, name, value);
        let file = d.write(
            &format!("case{i}/Posts.xml"),
            format!("{header}{bad}\n{question}\n</posts>\n").as_bytes(),
        );
        let out = d.ok(&[
            "ingest",
            &file,
            "--all-questions",
            "--max-bad-rows",
            "1",
            "--site",
            "x",
            "--study",
            &s,
        ]);
        assert!(
            out.contains("skipped 1: malformed row"),
            "{name}={value:?}: {out}"
        );
        assert!(
            out.contains(reason.as_str()),
            "{name}={value:?}: want {reason:?} in {out}"
        );
        assert!(!out.contains('\u{0}'), "{out}");
        // Only the good question is stored.
        assert_eq!(
            d.count(&s, "SELECT COUNT(*) FROM questions WHERE site = 'x'"),
            1,
            "{name}={value:?}"
        );
        assert_eq!(
            d.count(&s, "SELECT COUNT(*) FROM answers WHERE site = 'x'"),
            0,
            "{name}={value:?}"
        );
    }

    // Comments.xml: every attribute the parser reads.
    let post_id = attr(comment, "PostId");
    let posts = subset("ai.stackexchange.com-2017/Posts.xml", usize::MAX, |l| {
        attr(l, "Id") == post_id
    });
    let ccases: Vec<(&str, &str, String)> = vec![
        ("Id", "x", format!("Id {not_id}: \"x\"")),
        ("Id", "-3", format!("Id {not_id}")),
        ("PostId", "0", format!("PostId {not_id}: \"0\"")),
        ("PostId", "5.0", format!("PostId {not_id}")),
        (
            "CreationDate",
            "2016-02-30T15:44:46.497",
            format!("CreationDate {not_date}"),
        ),
        ("Score", "1.5", format!("Score {not_int}")),
        ("UserId", "+8", format!("UserId {not_int}")),
        (
            "Text",
            "a\u{7}b",
            "Text holds the character U+0007".to_string(),
        ),
    ];
    let good = with_attr(comment, "Id", "999999");
    for (i, (name, value, reason)) in ccases.iter().enumerate() {
        let bad = with_attr(comment, name, value);
        let dir = format!("comments{i}");
        d.write(&format!("{dir}/Posts.xml"), posts.as_bytes());
        d.write(
            &format!("{dir}/Comments.xml"),
            format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<comments>\n{bad}\n{good}\n</comments>\n").as_bytes(),
        );
        let folder = d.path(&dir).to_string_lossy().into_owned();
        let out = d.ok(&[
            "ingest",
            &folder,
            "--all-questions",
            "--max-bad-rows",
            "1",
            "--site",
            "c",
            "--study",
            &s,
        ]);
        assert!(
            out.contains("malformed: Comments.xml line 3"),
            "{name}={value:?}: {out}"
        );
        assert!(
            out.contains(reason.as_str()),
            "{name}={value:?}: want {reason:?} in {out}"
        );
        assert_eq!(
            d.count(&s, "SELECT COUNT(*) FROM comments WHERE site = 'c'"),
            1,
            "{name}={value:?}"
        );
    }

    // Valid edge values are kept as written: the Community user (-1), a
    // negative score, 29 February of a leap year, a date with Z, 9 digits of
    // fraction, the largest Id.
    let edge = with_attr(
        &with_attr(
            &with_attr(&with_attr(question, "OwnerUserId", "-1"), "Score", "-7"),
            "CreationDate",
            "2020-02-29T23:59:59.5",
        ),
        "Id",
        "9223372036854775807",
    );
    let edge2 = with_attr(
        &with_attr(question, "Id", "7"),
        "CreationDate",
        "2000-02-29T00:00:00.123456789Z",
    );
    let file = d.write(
        "edge/Posts.xml",
        format!("{header}{edge2}\n{edge}\n</posts>\n").as_bytes(),
    );
    let out = d.ok(&[
        "ingest",
        &file,
        "--all-questions",
        "--max-bad-rows",
        "0",
        "--site",
        "e",
        "--study",
        &s,
    ]);
    assert!(!out.contains("malformed"), "{out}");
    let (id, user, score, created, ms): (i64, i64, i64, String, i64) = d
        .db(&s)
        .query_row(
            "SELECT id, owner_user_id, score, created, created_ms FROM questions WHERE site = 'e' ORDER BY id DESC",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!((id, user, score), (i64::MAX, -1, -7));
    assert_eq!(
        (created.as_str(), ms),
        ("2020-02-29T23:59:59.5", 1_583_020_799_500)
    );
    // Python: datetime(2000,2,29,0,0,0,123000,tzinfo=timezone.utc).timestamp()*1000
    assert_eq!(
        d.count(
            &s,
            "SELECT created_ms FROM questions WHERE site = 'e' AND id = 7"
        ),
        951_782_400_123
    );
}

/// Item 4: a row larger than --max-row-mib is one malformed row (line, Id,
/// size), not held in memory; the rows around it are read.
#[test]
fn a_row_over_the_limit_is_a_malformed_row() {
    let d = Dir::new();
    let text = std::fs::read_to_string(data(PYTORCH)).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("PostTypeId=\"1\""))
        .take(2)
        .collect();
    let filler = "&lt;p&gt;word&lt;/p&gt;".repeat(3 << 20 >> 4);
    let huge = with_attr(rows[0], "Body", &filler);
    let header = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n";
    let file = d.write(
        "huge/Posts.xml",
        format!("{header}{huge}\n{}\n</posts>\n", rows[1]).as_bytes(),
    );
    let s = d.study("s");
    let args = [
        "ingest",
        &file,
        "--all-questions",
        "--max-bad-rows",
        "1",
        "--max-row-mib",
        "1",
        "--study",
        &s,
    ];
    let out = d.ok(&args);
    let id = attr(rows[0], "Id");
    assert!(
        out.contains(&format!(
            "malformed: line 3 (Id {id}): the row is {:.2} MiB long, more than the limit of one row (1.00 MiB, --max-row-mib)",
            (huge.len() + 1) as f64 / 1048576.0
        )),
        "{out}"
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM questions"), 1);
    assert_eq!(
        d.count(&s, "SELECT id FROM questions"),
        attr(rows[1], "Id").parse::<i64>().unwrap()
    );
    // Under the default limit (64 MiB) the same row is read.
    d.ok(&[
        "ingest",
        &file,
        "--all-questions",
        "--max-bad-rows",
        "0",
        "--study",
        &s,
    ]);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM questions"), 2);
    // The limit's range is checked.
    for bad in ["0", "4097", "-1", "1.5", "x"] {
        let opt = format!("--max-row-mib={bad}");
        let err = d.fails(&["ingest", &file, &opt, "--study", &s]);
        assert!(err.contains("--max-row-mib"), "{bad}: {err}");
    }
    for bad in ["-0.1", "1.5", "NaN", "inf"] {
        let opt = format!("--max-bad-rows={bad}");
        let err = d.fails(&["ingest", &file, &opt, "--study", &s]);
        assert!(
            err.contains("--max-bad-rows") && err.contains("is not in [0, 1]"),
            "{bad}: {err}"
        );
    }
}

/// Defect 11: files that are not laid out one row per line are named as such.
#[test]
fn files_not_laid_out_one_row_per_line_are_named_as_such() {
    let d = Dir::new();
    let s = d.study("s");
    let text = std::fs::read_to_string(data(PYTORCH)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // The whole file on one line (no line breaks), under and over the row limit.
    let one = lines.iter().map(|l| l.trim()).collect::<String>();
    let small = d.write("oneline/Posts.xml", one.as_bytes());
    let err = d.fails(&["ingest", &small, "--study", &s]);
    assert!(err.contains("oneline/Posts.xml line 1: not a Stack Exchange posts.xml dump: the line holds more than one element"), "{err}");
    assert!(
        err.contains("each <row …/> on a line of their own"),
        "{err}"
    );
    assert!(!err.contains("cut off"), "{err}");
    let err = d.fails(&["ingest", &small, "--max-row-mib", "1", "--study", &s]);
    assert!(
        err.contains("line 1: not a Stack Exchange posts.xml dump: the line is 2."),
        "{err}"
    );
    assert!(
        err.contains(
            "MiB long with no line break, more than the limit of one row (1.00 MiB, --max-row-mib)"
        ),
        "{err}"
    );
    // Declaration on its own line, then everything else on one line.
    let two = format!(
        "{}\n{}",
        lines[0],
        lines[1..].iter().map(|l| l.trim()).collect::<String>()
    );
    let file = d.write("twolines/Posts.xml", two.as_bytes());
    let err = d.fails(&["ingest", &file, "--study", &s]);
    assert!(err.contains("twolines/Posts.xml line 2: not a Stack Exchange posts.xml dump: the line holds more than one element (\"<posts>"), "{err}");
    // Two rows on one line inside a good file: a malformed row, not a lost one.
    let mut joined: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let second = joined.remove(3);
    joined[2] = format!("{}{}", joined[2], second.trim());
    let file = d.write("joined/Posts.xml", joined.join("\n").as_bytes());
    let out = d.ok(&["ingest", &file, "--all-questions", "--study", &s]);
    assert!(
        out.contains("malformed: line 3: the line holds more than one element"),
        "{out}"
    );
    // Rows after the closing element.
    let after = format!("{}\n{}\n", text.trim_end(), lines[2]);
    let file = d.write("after/Posts.xml", after.as_bytes());
    let err = d.fails(&["ingest", &file, "--study", &s]);
    assert!(
        err.contains(&format!(
            "not a Stack Exchange posts.xml dump: more lines follow its </posts> of line {}",
            lines.len()
        )),
        "{err}"
    );
    // Only blank lines: empty.
    let file = d.write("blank/Posts.xml", b"\n  \n\r\n");
    let err = d.fails(&["ingest", &file, "--study", &s]);
    assert!(err.contains("blank/Posts.xml is empty"), "{err}");
    assert_words(&err);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 1);
}

/// Defect 14: site names and site URLs follow their rules; the study is unchanged.
#[test]
fn site_names_and_urls_follow_the_rules() {
    let d = Dir::new();
    let s = d.study("s");
    let dump = path(PYTORCH);
    let long = "a".repeat(65);
    for bad in [
        "",
        " ",
        "a b",
        "a/b",
        "..",
        ".",
        "ä",
        "x\u{7}",
        "<b>",
        long.as_str(),
    ] {
        let err = d.fails(&["ingest", &dump, "--site", bad, "--study", &s]);
        assert!(
            err.contains("a site name is 1–64 letters, digits, '_', '.' or '-'"),
            "{bad:?}: {err}"
        );
        assert!(!err.contains('\u{7}'), "{err}");
    }
    for bad in [
        "javascript:alert(document.domain)//",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "stackoverflow.com",
        "",
        " https://stackoverflow.com",
        "https://",
        "https:///q",
        "https://stack overflow.com",
        "https://x.com/\"onmouseover=\"alert(1)",
        "https://x.com/\u{1}",
        "ftp://stackoverflow.com",
        "file:///etc/passwd",
        "https://@/",
    ] {
        let err = d.fails(&["ingest", &dump, "--site-url", bad, "--study", &s]);
        assert!(
            err.contains("must be an absolute http:// or https:// address"),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM sites"), 0);
    // A folder whose name breaks the rule needs --site.
    let posts = std::fs::read(data(PYTORCH)).unwrap();
    d.write("my dump/Posts.xml", &posts);
    let folder = d.path("my dump").to_string_lossy().into_owned();
    let err = d.fails(&["ingest", &folder, "--study", &s]);
    assert!(
        err.contains("the site name taken from it, \"my dump\", breaks the rule"),
        "{err}"
    );
    assert!(err.contains("give --site NAME"), "{err}");
    // Good names and URLs, the default ones included.
    d.ok(&[
        "ingest",
        &folder,
        "--site",
        "cardano.stackexchange.com-2021",
        "--site-url",
        "HTTPS://cardano.stackexchange.com/",
        "--study",
        &s,
    ]);
    d.ok(&[
        "ingest",
        &path("ai.stackexchange.com-2017"),
        "--site-url",
        "http://127.0.0.1:8080/se",
        "--study",
        &s,
    ]);
    let urls: Vec<(String, String)> = d
        .db(&s)
        .prepare("SELECT site, url FROM sites ORDER BY site")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        urls,
        [
            (
                "ai.stackexchange.com-2017".into(),
                "http://127.0.0.1:8080/se".into()
            ),
            (
                "cardano.stackexchange.com-2021".into(),
                "HTTPS://cardano.stackexchange.com/".into()
            ),
        ]
    );
}

fn staging_files(d: &Dir, s: &str) -> Vec<String> {
    std::fs::read_dir(d.path(s))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("study.db.ingest-"))
        .collect()
}

/// Defect 5 (ingest part): ingest reads into a staging file and holds the
/// store's write lock only for the final swap, so other writers (label saves)
/// get in while it reads; a killed ingest's staging file is removed by the
/// next ingest, and the study stays as it was.
#[test]
fn ingest_stages_its_rows_and_cleans_up_after_a_kill() {
    let d = Dir::new();
    let s = d.study("s");
    let deploy = path("stackoverflow-dl-deploy/Posts.xml");
    d.ok(&["ingest", &deploy, "--study", &s]);
    let before = d.stats(&s);
    let out = d
        .cmd(&["ingest", &deploy, "--all-questions", "--study", &s])
        .env("STACKMINE_TEST_ABORT_AFTER_ROWS", "2000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed by a signal");
    assert_eq!(
        staging_files(&d, &s).len(),
        1,
        "the killed ingest left its staging file"
    );
    assert_eq!(d.stats(&s), before);

    // While a long ingest reads, another connection can write.
    let mut child = d
        .cmd(&[
            "ingest",
            &deploy,
            "--all-questions",
            "--chunk-kib",
            "64",
            "--study",
            &s,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = d.db(&s);
    db.busy_timeout(std::time::Duration::ZERO).unwrap();
    db.execute_batch("CREATE TABLE IF NOT EXISTS test_writes (n INTEGER)")
        .unwrap();
    let (mut tries, mut written) = (0, 0);
    while child.try_wait().unwrap().is_none() {
        // Only while the new ingest's staging file exists (the old one is gone).
        let staging = staging_files(&d, &s);
        if staging.len() == 1 && tries < 1000 {
            tries += 1;
            if db.execute("INSERT INTO test_writes VALUES (1)", []).is_ok() {
                written += 1;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    assert!(
        tries == 0 || written > 0,
        "no write got in during {tries} tries"
    );
    assert!(
        staging_files(&d, &s).is_empty(),
        "{:?}",
        staging_files(&d, &s)
    );
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM ingests"), 2);
    let integrity: String = d
        .db(&s)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

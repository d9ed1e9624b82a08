//! Invariants of the dump reader on arbitrary input: it never panics, chunks
//! cover the stream exactly, and damaging real rows only ever makes them
//! skipped rows, never a crash. Posts.xml and Comments.xml rows, and arbitrary
//! attribute values (bytes, entities, invalid numbers and dates): every row is
//! either parsed consistently or counted as malformed.
//!
//! Case counts are bounded so that `cargo test` stays fast; for a longer run:
//! `PROPTEST_CASES=20000 cargo test --release --test it invariants::`.

use std::collections::HashSet;

use proptest::prelude::*;
use stackmine::dump::chunks::Chunker;
use stackmine::dump::row;
use stackmine::dump::scan::{Table, Want, scan_chunk};
use stackmine::study::{Framework, Study};

fn frameworks() -> Vec<Framework> {
    Study::default_study()
        .enabled_frameworks()
        .into_iter()
        .cloned()
        .collect()
}

/// Real rows (the first 40 lines of the deployment dump) to damage.
fn real_rows() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stackoverflow-dl-deploy/Posts.xml"
    );
    std::fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .take(40)
        .map(<[u8]>::to_vec)
        .collect()
}

/// A real question, answer and comment row.
fn real_kinds() -> [String; 3] {
    let read = |rel: &str| {
        std::fs::read_to_string(format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let posts = read("stackoverflow-pytorch-labeled/Posts.xml");
    let comments = read("ai.stackexchange.com-2017/Comments.xml");
    let find = |text: &str, what: &str| {
        text.lines()
            .find(|l| l.contains("<row ") && l.contains(what))
            .unwrap()
            .trim()
            .to_string()
    };
    [
        find(&posts, "PostTypeId=\"1\""),
        find(&posts, "PostTypeId=\"2\""),
        find(&comments, "PostId="),
    ]
}

/// Attributes the row parser reads, per kind of row.
const QUESTION_ATTRS: &[&str] = &[
    "Id",
    "PostTypeId",
    "CreationDate",
    "ClosedDate",
    "Score",
    "ViewCount",
    "AnswerCount",
    "CommentCount",
    "FavoriteCount",
    "AcceptedAnswerId",
    "OwnerUserId",
    "OwnerDisplayName",
    "Title",
    "Body",
    "Tags",
];
const ANSWER_ATTRS: &[&str] = &[
    "Id",
    "PostTypeId",
    "ParentId",
    "CreationDate",
    "Score",
    "OwnerUserId",
    "Body",
];
const COMMENT_ATTRS: &[&str] = &["Id", "PostId", "CreationDate", "Score", "UserId", "Text"];

/// Values worth trying: numbers and dates near the edges, entities, bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..12),
        proptest::collection::vec(
            prop_oneof![
                Just(b"&amp;".to_vec()),
                Just(b"&#0;".to_vec()),
                Just(b"&#x1;".to_vec()),
                Just(b"&#xD800;".to_vec()),
                Just(b"&#xFFFE;".to_vec()),
                Just(b"&#1114112;".to_vec()),
                Just(b"&#99999999999;".to_vec()),
                Just(b"&bogus;".to_vec()),
                Just(b"&amp;#0;".to_vec()),
                Just(b"&amp;#x1B;".to_vec()),
                Just(b"&lt;".to_vec()),
                Just(b"&".to_vec()),
                Just(b"\0".to_vec()),
                Just(vec![0xC3]),
                Just("é".as_bytes().to_vec()),
                "[0-9]{1,3}".prop_map(String::into_bytes),
            ],
            0..4
        )
        .prop_map(|v| v.concat()),
        "[-+ ]?[0-9]{0,21}(\\.[0-9])?".prop_map(String::into_bytes),
        "0x[0-9a-f]{1,4}".prop_map(String::into_bytes),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?Z?"
            .prop_map(String::into_bytes),
        (1900i64..2100, 1i64..13, 0i64..33)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}T12:00:00.000").into_bytes()),
    ]
}

/// `row` with attribute `name` set to the raw bytes `value` (added when missing).
fn set_attr(row: &str, name: &str, value: &[u8]) -> Vec<u8> {
    let key = format!(" {name}=\"");
    let bytes = row.as_bytes();
    match row.find(&key) {
        Some(i) => {
            let start = i + key.len();
            let end = start + row[start..].find('"').unwrap();
            [&bytes[..start], value, &bytes[end..]].concat()
        }
        None => [
            format!("<row {name}=\"").as_bytes(),
            value,
            b"\"",
            &bytes[4..],
        ]
        .concat(),
    }
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn clean(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.chars().all(xml_char))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn scanning_arbitrary_comment_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let posts: HashSet<i64> = (0..50).collect();
        let s = scan_chunk(&data, Table::Comments, &Want::Comments { posts: &posts });
        prop_assert!(s.rows as usize <= data.len());
        prop_assert!(s.comments.len() + s.bad.len() <= s.rows as usize);
    }

    /// Any value in any attribute the parser reads: the row is kept with
    /// values that obey their rules, or it is one malformed row; never both,
    /// never neither.
    #[test]
    fn any_attribute_value_is_parsed_consistently_or_malformed(
        kind in 0usize..3,
        pick in any::<prop::sample::Index>(),
        value in value(),
    ) {
        let rows = real_kinds();
        let attrs = [QUESTION_ATTRS, ANSWER_ATTRS, COMMENT_ATTRS][kind];
        let name = attrs[pick.index(attrs.len())];
        let row = set_attr(&rows[kind], name, &value);
        let table = if kind == 2 { Table::Comments } else { Table::Posts };
        let root = if kind == 2 { "comments" } else { "posts" };
        let mut data = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}>\n").into_bytes();
        data.extend_from_slice(&row);
        data.extend_from_slice(format!("\n</{root}>\n").as_bytes());
        let fw = frameworks();
        let known: HashSet<i64> = HashSet::new();
        let all_posts: HashSet<i64> = HashSet::from([1, 1_000_000]);
        // Answers are kept when their question is known: make every parent known
        // by keeping the row's own raw ParentId (when it parses) in `questions`.
        let parent: Option<i64> = String::from_utf8_lossy(&row)
            .split(" ParentId=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok());
        let comment_post: Option<i64> = String::from_utf8_lossy(&row)
            .split(" PostId=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok());
        let questions: HashSet<i64> = parent.into_iter().collect();
        let posts: HashSet<i64> = comment_post.into_iter().chain(all_posts).collect();
        let answers = HashSet::new();
        let want = match kind {
            0 => Want::Posts { frameworks: &fw, all_questions: true, known: &known },
            1 => Want::LateAnswers { questions: &questions, answers: &answers },
            _ => Want::Comments { posts: &posts },
        };
        let s = scan_chunk(&data, table, &want);
        prop_assert_eq!(s.rows, 1);
        let kept = s.questions.len() + s.answers.len() + s.comments.len();
        let other = s.other_types.iter().map(|(_, n)| *n as usize).sum::<usize>();
        // An answer whose ParentId is not a plain number, or a question whose
        // PostTypeId became another type, is neither kept nor bad: check it.
        let decided = kept + s.bad.len() + other;
        prop_assert!(decided <= 1, "kept {} bad {} other {}", kept, s.bad.len(), other);
        if decided == 0 {
            // Only a row of another kind than asked for: a comment of a post not kept,
            // or an answer to a question not known.
            prop_assert!(kind != 0, "a question row was dropped: {}", String::from_utf8_lossy(&row));
        }
        for q in &s.questions {
            prop_assert!(q.id > 0);
            prop_assert_eq!(Some(q.created_ms), row::parse_date_ms(&q.created));
            prop_assert!(q.view_count.is_none_or(|v| v >= 0) && q.answer_count.is_none_or(|v| v >= 0));
            prop_assert!(q.comment_count.is_none_or(|v| v >= 0) && q.favorite_count.is_none_or(|v| v >= 0));
            prop_assert!(q.accepted_answer_id.is_none_or(|v| v > 0));
            prop_assert!(clean(&q.title) && clean(&q.body_html) && clean(&q.owner_display_name));
            // Text taken from the body never carries control characters either
            // (HTML references such as &amp;#0; included).
            let text_ok = !q
                .body_text
                .chars()
                .chain(q.code_text.chars())
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{7F}'..='\u{9F}'));
            prop_assert!(text_ok, "control character in the body's text");
            prop_assert!(q.closed_date.as_deref().is_none_or(|d| row::parse_date_ms(d).is_some()));
        }
        for a in &s.answers {
            prop_assert!(a.id > 0 && a.parent_id > 0);
            prop_assert_eq!(Some(a.created_ms), row::parse_date_ms(&a.created));
            prop_assert!(clean(&a.body_html));
        }
        for c in &s.comments {
            prop_assert!(c.id > 0 && c.post_id > 0);
            prop_assert_eq!(Some(c.created_ms), row::parse_date_ms(&c.created));
            prop_assert!(clean(&c.text));
        }
        // The full parsers agree with the scan on the row itself.
        let trimmed = row.trim_ascii();
        let full_ok = match kind {
            0 => row::parse_question(trimmed).is_ok(),
            1 => row::parse_answer(trimmed).is_ok(),
            _ => row::parse_comment(trimmed).is_ok(),
        };
        if kept == 1 {
            prop_assert!(full_ok);
        }
        // Messages never carry control characters.
        for b in &s.bad {
            prop_assert!(!b.error.to_string().chars().any(|c| c.is_control() && c != '\n'), "{}", b.error);
        }
    }


    #[test]
    fn scanning_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let fw = frameworks();
        let known = HashSet::new();
        for all_questions in [false, true] {
            let want = Want::Posts { frameworks: &fw, all_questions, known: &known };
            let s = scan_chunk(&data, Table::Posts, &want);
            prop_assert!(s.rows as usize <= data.len());
        }
        let _ = row::parse_question(&data);
        let _ = row::parse_answer(&data);
        let _ = row::parse_comment(&data);
    }

    #[test]
    fn damaged_real_rows_are_skipped_not_fatal(
        line in 2usize..39,
        cut in 0usize..4000,
        byte in any::<u8>(),
    ) {
        let mut rows = real_rows();
        let r = &mut rows[line];
        let at = cut % r.len().max(1);
        if byte % 2 == 0 { r.truncate(at) } else if at < r.len() { r[at] = byte }
        let data = rows.join(&b'\n');
        let fw = frameworks();
        let known = HashSet::new();
        let want = Want::Posts { frameworks: &fw, all_questions: true, known: &known };
        let s = scan_chunk(&data, Table::Posts, &want);
        // Every row is kept, deferred, skipped as bad, or of another type.
        prop_assert!(s.questions.len() + s.answers.len() + s.deferred.len() + s.bad.len() <= s.rows as usize + 1);
    }

    #[test]
    fn chunks_cover_the_stream(data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..3000), size in 1usize..300) {
        let mut c = Chunker::new(&data[..], size);
        let mut joined = Vec::new();
        let mut pieces = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            prop_assert_eq!(chunk.offset as usize, joined.len());
            joined.extend_from_slice(&chunk.data);
            pieces.push(chunk.data);
        }
        prop_assert_eq!(&joined, &data);
        for p in &pieces[..pieces.len().saturating_sub(1)] {
            prop_assert!(p.ends_with(b"\n"));
        }
    }
}

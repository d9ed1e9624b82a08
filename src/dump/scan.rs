//! Scanning one chunk of a dump file (whole lines) from raw bytes.
//!
//! Most rows of a dump are not wanted. A row is classified from its raw bytes
//! (`memchr`/`memmem` for `Id`, `PostTypeId`, `ParentId`, `PostId`, `Tags`);
//! only the rows kept are parsed and unescaped in full ([`super::row`]). Chunks
//! are scanned in parallel; what depends on other chunks (an answer whose
//! question lies elsewhere) is returned as [`Deferred`] for the caller to settle
//! in file order.

use std::collections::HashSet;
use std::ops::Range;

use memchr::memmem::{Finder, FinderRev};

use super::row::{self, Answer, Comment, NumKind, Question, RowError, raw_attr, raw_attr_rev};
use super::tags;
use crate::study::Framework;

/// Which table a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Posts,
    Comments,
}

impl Table {
    /// The root element's name.
    pub fn root(self) -> &'static str {
        match self {
            Table::Posts => "posts",
            Table::Comments => "comments",
        }
    }
}

/// What a scan keeps.
pub enum Want<'a> {
    /// First pass over Posts.xml: matching questions, and answers to kept
    /// questions. `known` holds the questions kept by earlier chunks.
    Posts {
        frameworks: &'a [Framework],
        all_questions: bool,
        known: &'a HashSet<i64>,
    },
    /// Second pass over an unsorted Posts.xml: answers to kept questions that
    /// the first pass did not keep yet.
    LateAnswers {
        questions: &'a HashSet<i64>,
        answers: &'a HashSet<i64>,
    },
    /// Comments.xml: comments on kept posts.
    Comments { posts: &'a HashSet<i64> },
}

/// A non-row line of the file: the XML declaration and the root element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// `<?xml …?>`, possibly followed by the root's opening tag on the same line.
    Decl {
        open: Option<String>,
    },
    Open(String),
    Close(String),
    Row,
    /// A line with more than one element on it, e.g. a whole document on one line.
    Packed,
    /// A line longer than the limit of one row, of this many bytes.
    TooLong(u64),
    /// Anything else that is not blank.
    Other,
}

/// A significant (non-blank) line that is not a row, or the last line.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Line number within the chunk, from 0.
    pub line: u64,
    /// Byte offset within the chunk.
    pub offset: usize,
    pub kind: LineKind,
    /// The line's first bytes, for messages.
    pub snippet: String,
    /// Whether the line ends like a whole element (`/>` or `>`).
    pub complete: bool,
}

/// An answer whose question was not known when its chunk was scanned.
#[derive(Debug, Clone)]
pub struct Deferred {
    pub parent: i64,
    pub line: u64,
    pub range: Range<usize>,
}

/// A row that could not be read.
#[derive(Debug, Clone)]
pub struct BadRow {
    pub line: u64,
    pub id: Option<i64>,
    pub error: RowError,
}

/// What scanning one chunk found.
#[derive(Debug, Default)]
pub struct ChunkScan {
    /// Lines in the chunk.
    pub lines: u64,
    /// `<row>` lines.
    pub rows: u64,
    /// Line (in the chunk) of the first `<row>`.
    pub first_row_line: Option<u64>,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
    pub comments: Vec<Comment>,
    pub deferred: Vec<Deferred>,
    pub bad: Vec<BadRow>,
    /// Questions seen (well-formed) and those that matched no framework.
    pub questions_seen: u64,
    pub questions_unmatched: u64,
    /// Answers seen (well-formed).
    pub answers_seen: u64,
    /// Rows of other post types, by type.
    pub other_types: Vec<(i64, u64)>,
    /// Comment rows seen (well-formed).
    pub comments_seen: u64,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    /// Whether row Ids rise strictly inside the chunk.
    pub sorted: bool,
    /// An answer whose question has a larger Id (so may come later in a sorted file).
    pub forward_parent: bool,
    /// Tag formats seen (bits of [`tags::TagFormat`]).
    pub tag_formats: u8,
    /// Non-row significant lines, in order.
    pub marks: Vec<Mark>,
    /// The chunk's last significant line.
    pub last: Option<Mark>,
    /// The latest valid raw `CreationDate` of any question or answer row
    /// (kept or not; first pass over Posts.xml only), empty when none.
    pub latest_created: Vec<u8>,
}

/// The byte searchers a scan uses, built once per scan.
struct Finders {
    id: Finder<'static>,
    post_type: Finder<'static>,
    parent: Finder<'static>,
    post_id: Finder<'static>,
    created: Finder<'static>,
    tags: FinderRev<'static>,
    /// One finder per framework pattern that can be searched in escaped bytes.
    patterns: Vec<Finder<'static>>,
    /// False when some pattern holds a character the XML escapes.
    prefilter: bool,
}

impl Finders {
    fn new(frameworks: &[Framework]) -> Finders {
        let pats: Vec<&String> = frameworks.iter().flat_map(|f| &f.tags).collect();
        let prefilter = pats.iter().all(|p| {
            !p.bytes()
                .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
        });
        Finders {
            id: Finder::new(b" Id=\"").into_owned(),
            post_type: Finder::new(b" PostTypeId=\"").into_owned(),
            parent: Finder::new(b" ParentId=\"").into_owned(),
            post_id: Finder::new(b" PostId=\"").into_owned(),
            created: Finder::new(b" CreationDate=\"").into_owned(),
            tags: FinderRev::new(b" Tags=\"").into_owned(),
            patterns: pats
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect(),
            prefilter,
        }
    }
}

/// Scans a line that was too long to read ([`crate::dump::chunks::LongLine`]),
/// of which `prefix` holds the first bytes: a bad row when it starts like
/// one, else a [`LineKind::TooLong`] mark.
pub fn scan_long_line(prefix: &[u8], bytes: u64, limit: u64) -> ChunkScan {
    let mut out = ChunkScan {
        sorted: true,
        lines: 1,
        ..ChunkScan::default()
    };
    let line = trim_line(prefix);
    let mut m = mark(line, 0, 0, LineKind::TooLong(bytes));
    m.complete = false;
    if classify(line) == LineKind::Row {
        out.rows = 1;
        out.first_row_line = Some(0);
        let id = raw_row_id(line, &Finders::new(&[])).and_then(|r| NumKind::Positive.parse(r));
        out.bad.push(BadRow {
            line: 0,
            id,
            error: RowError::TooLong { bytes, limit },
        });
    } else {
        out.marks.push(m.clone());
    }
    out.last = Some(m);
    out
}

/// Scans a chunk of whole lines.
pub fn scan_chunk(data: &[u8], table: Table, want: &Want) -> ChunkScan {
    let frameworks: &[Framework] = match want {
        Want::Posts { frameworks, .. } => frameworks,
        _ => &[],
    };
    let finders = Finders::new(frameworks);
    let mut out = ChunkScan {
        sorted: true,
        ..ChunkScan::default()
    };
    let mut local_questions: HashSet<i64> = HashSet::new();
    let mut pos = 0;
    let mut line_no = 0u64;
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let line = trim_line(&data[pos..end]);
        if !line.is_empty() {
            let kind = classify(line);
            if kind == LineKind::Row {
                out.rows += 1;
                out.first_row_line.get_or_insert(line_no);
                scan_row(
                    line,
                    line_no,
                    pos..end,
                    table,
                    want,
                    &finders,
                    &mut local_questions,
                    &mut out,
                );
            } else {
                out.marks.push(mark(line, line_no, pos, kind.clone()));
            }
            out.last = Some(mark(line, line_no, pos, kind));
        }
        line_no += 1;
        pos = end + 1;
    }
    out.lines = line_no;
    out
}

fn mark(line: &[u8], line_no: u64, offset: usize, kind: LineKind) -> Mark {
    let cut = line.len().min(60);
    Mark {
        line: line_no,
        offset,
        kind,
        snippet: String::from_utf8_lossy(&line[..cut]).into_owned(),
        complete: line.ends_with(b">"),
    }
}

/// Strips a byte order mark, surrounding blanks and a CR.
pub fn trim_line(mut line: &[u8]) -> &[u8] {
    if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
        line = rest;
    }
    line.trim_ascii()
}

/// Classifies a trimmed, non-empty line.
pub fn classify(line: &[u8]) -> LineKind {
    if line.starts_with(b"<row ") || line.starts_with(b"<row\t") {
        return LineKind::Row;
    }
    if let Some(rest) = line.strip_prefix(b"<?xml") {
        let Some(end) = memchr::memmem::find(rest, b"?>") else {
            return LineKind::Other;
        };
        let after = rest[end + 2..].trim_ascii();
        let open = match classify(after) {
            LineKind::Open(name) => Some(name),
            _ if after.is_empty() => None,
            _ => return LineKind::Packed,
        };
        return LineKind::Decl { open };
    }
    let element_name = |s: &[u8]| -> Option<String> {
        let name: Vec<u8> = s
            .iter()
            .copied()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
            .collect();
        (!name.is_empty()).then(|| String::from_utf8_lossy(&name).into_owned())
    };
    // Attribute values escape `<`: a second one starts another element.
    if line.len() > 1 && memchr::memchr(b'<', &line[1..]).is_some() {
        return LineKind::Packed;
    }
    if let Some(rest) = line.strip_prefix(b"</") {
        if line.ends_with(b">") {
            if let Some(name) = element_name(rest) {
                return LineKind::Close(name);
            }
        }
    } else if let Some(rest) = line.strip_prefix(b"<") {
        if line.ends_with(b">") && !line.ends_with(b"/>") {
            if let Some(name) = element_name(rest) {
                return LineKind::Open(name);
            }
        }
    }
    LineKind::Other
}

/// The raw Id of a row: fast path for the official `<row Id="…"` layout.
fn raw_row_id<'a>(row: &'a [u8], finders: &Finders) -> Option<&'a [u8]> {
    match row.strip_prefix(b"<row Id=\"") {
        Some(rest) => Some(&rest[..memchr::memchr(b'"', rest)?]),
        None => raw_attr(row, &finders.id),
    }
}

/// A required numeric attribute read from raw bytes, with the reason it is bad.
fn required(raw: Option<&[u8]>, name: &'static str, kind: NumKind) -> Result<i64, RowError> {
    let raw = raw.ok_or(RowError::Missing(name))?;
    kind.parse(raw).ok_or_else(|| RowError::NotANumber {
        name,
        kind,
        value: String::from_utf8_lossy(raw).into_owned(),
    })
}

#[allow(clippy::too_many_arguments)]
fn scan_row(
    row: &[u8],
    line: u64,
    range: Range<usize>,
    table: Table,
    want: &Want,
    finders: &Finders,
    local_questions: &mut HashSet<i64>,
    out: &mut ChunkScan,
) {
    let bad = |out: &mut ChunkScan, id: Option<i64>, error: RowError| {
        out.bad.push(BadRow { line, id, error });
    };
    if !row.ends_with(b"/>") {
        return bad(out, None, RowError::NotARow);
    }
    // Attribute values escape `<`: a second one starts another element.
    if memchr::memchr(b'<', &row[1..]).is_some() {
        return bad(out, None, RowError::Packed);
    }
    let id = match required(raw_row_id(row, finders), "Id", NumKind::Positive) {
        Ok(id) => id,
        Err(e) => return bad(out, None, e),
    };
    match out.last_id {
        Some(last) if id <= last => out.sorted = false,
        _ => {}
    }
    out.first_id.get_or_insert(id);
    out.last_id = Some(id);

    if table == Table::Comments {
        let Want::Comments { posts } = want else {
            return;
        };
        let post_id = match required(raw_attr(row, &finders.post_id), "PostId", NumKind::Positive) {
            Ok(p) => p,
            Err(e) => return bad(out, Some(id), e),
        };
        out.comments_seen += 1;
        if posts.contains(&post_id) {
            match row::parse_comment(row) {
                Ok(c) => out.comments.push(c),
                Err(e) => bad(out, Some(id), e),
            }
        }
        return;
    }

    let post_type = match required(
        raw_attr(row, &finders.post_type),
        "PostTypeId",
        NumKind::Positive,
    ) {
        Ok(t) => t,
        Err(e) => return bad(out, Some(id), e),
    };
    if matches!(post_type, 1 | 2) && matches!(want, Want::Posts { .. }) {
        note_created(row, finders, out);
    }
    match post_type {
        1 => scan_question(row, line, id, want, finders, local_questions, out),
        2 => {
            let parent = match required(
                raw_attr(row, &finders.parent),
                "ParentId",
                NumKind::Positive,
            ) {
                Ok(p) => p,
                Err(e) => return bad(out, Some(id), e),
            };
            out.answers_seen += 1;
            if parent > id {
                out.forward_parent = true;
            }
            let keep_now = match want {
                Want::Posts { known, .. } => {
                    known.contains(&parent) || local_questions.contains(&parent)
                }
                Want::LateAnswers { questions, answers } => {
                    questions.contains(&parent) && !answers.contains(&id)
                }
                Want::Comments { .. } => false,
            };
            if keep_now {
                match row::parse_answer(row) {
                    Ok(a) => out.answers.push(a),
                    Err(e) => bad(out, Some(id), e),
                }
            } else if matches!(want, Want::Posts { .. }) {
                out.deferred.push(Deferred {
                    parent,
                    line,
                    range,
                });
            }
        }
        other => match out.other_types.iter_mut().find(|(t, _)| *t == other) {
            Some((_, n)) => *n += 1,
            None => out.other_types.push((other, 1)),
        },
    }
}

/// Keeps the row's `CreationDate` when it is the latest so far. Dump dates
/// have a fixed layout (`2016-08-02T15:39:14.947`), so comparing the raw
/// bytes orders them in time; only a value later than the current one is
/// checked to be a valid date (a malformed one is ignored here and reported
/// where the row is parsed, if it is kept).
fn note_created(row: &[u8], finders: &Finders, out: &mut ChunkScan) {
    let Some(raw) = raw_attr(row, &finders.created) else {
        return;
    };
    if raw > out.latest_created.as_slice()
        && std::str::from_utf8(raw)
            .ok()
            .and_then(row::parse_date_ms)
            .is_some()
    {
        out.latest_created.clear();
        out.latest_created.extend_from_slice(raw);
    }
}

fn scan_question(
    row: &[u8],
    line: u64,
    id: i64,
    want: &Want,
    finders: &Finders,
    local_questions: &mut HashSet<i64>,
    out: &mut ChunkScan,
) {
    let Want::Posts {
        frameworks,
        all_questions,
        ..
    } = want
    else {
        return;
    };
    out.questions_seen += 1;
    let raw_tags = raw_attr_rev(row, &finders.tags).unwrap_or(b"");
    match raw_tags.first() {
        Some(b'&') | Some(b'<') => out.tag_formats |= tags::TagFormat::Angle.bit(),
        Some(b'|') => out.tag_formats |= tags::TagFormat::Pipe.bit(),
        _ => {}
    }
    let may_match =
        !finders.prefilter || finders.patterns.iter().any(|f| f.find(raw_tags).is_some());
    let matched: Vec<usize> = if may_match {
        let (tags, _) = tags::split_raw(raw_tags);
        frameworks
            .iter()
            .enumerate()
            .filter(|(_, f)| f.matches(&tags))
            .map(|(i, _)| i)
            .collect()
    } else {
        Vec::new()
    };
    if matched.is_empty() && !all_questions {
        out.questions_unmatched += 1;
        return;
    }
    match row::parse_question(row) {
        Ok(mut q) => {
            q.frameworks = matched;
            local_questions.insert(q.id);
            out.questions.push(q);
        }
        Err(e) => out.bad.push(BadRow {
            line,
            id: Some(id),
            error: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::Study;

    const DUMP: &[u8] = b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<posts>\r\n\
  <row Id=\"3\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2016-01-01T00:00:10.000\" Body=\"&lt;p&gt;early&lt;/p&gt;\" />\r\n\
  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2016-01-01T00:00:00.000\" Title=\"t\" Tags=\"|tensorflow-lite|\" />\r\n\
  <row Id=\"2\" PostTypeId=\"1\" CreationDate=\"2016-01-01T00:00:00.000\" Title=\"u\" Tags=\"&lt;java&gt;\" />\r\n\
  <row Id=\"4\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2016-01-01T00:00:20.000\" />\r\n\
  <row Id=\"5\" PostTypeId=\"5\" CreationDate=\"2016-01-01T00:00:00.000\" />\r\n\
  <row Id=\"6\" PostTypeId=\"1\" Tags=\"|pytorch|\" />\r\n\
  <row Id=\"7\" PostTypeId=\"1\" CreationDate=\"2016-01-01T00:00:00.000\" Tags=\"|pytorch|\r\n\
</posts>";

    #[test]
    fn scans_rows_from_raw_bytes() {
        let study = Study::default_study();
        let fw: Vec<Framework> = study.enabled_frameworks().into_iter().cloned().collect();
        let known = HashSet::new();
        let want = Want::Posts {
            frameworks: &fw,
            all_questions: false,
            known: &known,
        };
        let s = scan_chunk(DUMP, Table::Posts, &want);
        assert_eq!(s.lines, 10);
        assert_eq!(s.rows, 7);
        assert_eq!(s.questions.len(), 1);
        assert_eq!(s.questions[0].frameworks, [0]);
        // Answer 3 precedes its question: deferred; answer 4 follows it: kept.
        assert_eq!(s.deferred.len(), 1);
        assert_eq!(s.deferred[0].parent, 1);
        assert_eq!(s.answers.len(), 1);
        assert_eq!(s.answers[0].id, 4);
        assert_eq!(s.other_types, [(5, 1)]);
        assert!(!s.sorted);
        assert_eq!(s.tag_formats, 3);
        // Row 6 lacks CreationDate; row 7 is cut off.
        let bad: Vec<_> = s.bad.iter().map(|b| (b.id, b.error.clone())).collect();
        assert_eq!(
            bad,
            [
                (Some(6), RowError::Missing("CreationDate")),
                (None, RowError::NotARow)
            ]
        );
        assert_eq!(s.marks[0].kind, LineKind::Decl { open: None });
        assert_eq!(s.marks[1].kind, LineKind::Open("posts".into()));
        assert_eq!(s.last.unwrap().kind, LineKind::Close("posts".into()));
        // The dump's date: the latest CreationDate of a question or answer,
        // kept (4) or not (2), but not of other post types.
        assert_eq!(s.latest_created, b"2016-01-01T00:00:20.000");
    }

    #[test]
    fn latest_creation_date_of_any_question_or_answer() {
        let dump = b"<posts>\n\
  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2016-01-01T00:00:00.000\" Tags=\"|java|\" />\n\
  <row Id=\"2\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2019-05-01T10:00:00.000\" />\n\
  <row Id=\"3\" PostTypeId=\"1\" CreationDate=\"2999-99-01T00:00:00.000\" Tags=\"|java|\" />\n\
  <row Id=\"4\" PostTypeId=\"4\" CreationDate=\"2020-01-01T00:00:00.000\" />\n\
  <row Id=\"5\" PostTypeId=\"1\" CreationDate=\"2018-01-01T00:00:00\" Tags=\"|java|\" />\n\
</posts>";
        let study = Study::default_study();
        let fw: Vec<Framework> = study.enabled_frameworks().into_iter().cloned().collect();
        let known = HashSet::new();
        let want = Want::Posts {
            frameworks: &fw,
            all_questions: false,
            known: &known,
        };
        let s = scan_chunk(dump, Table::Posts, &want);
        // Nothing kept (no framework), the invalid month ignored, the tag wiki not counted.
        assert!(s.questions.is_empty());
        assert_eq!(s.latest_created, b"2019-05-01T10:00:00.000");
        let comments = scan_chunk(dump, Table::Comments, &Want::Comments { posts: &known });
        assert!(comments.latest_created.is_empty());
    }
}

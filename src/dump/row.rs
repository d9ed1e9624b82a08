//! One `<row …/>` line of a dump: cheap looks at raw bytes for deciding, and a
//! full parse (quick-xml, unescaped) for the rows that are kept.

use quick_xml::events::attributes::Attributes;

use super::tags::{self, TagFormat};
use crate::text;

/// A question as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: i64,
    pub title: Option<String>,
    pub body_html: Option<String>,
    /// The body as plain text, without code blocks.
    pub body_text: String,
    /// The body's `<pre>` code blocks, as plain text.
    pub code_text: String,
    pub tags: Vec<String>,
    pub tag_format: Option<TagFormat>,
    pub created: String,
    pub created_ms: i64,
    pub score: Option<i64>,
    pub view_count: Option<i64>,
    pub answer_count: Option<i64>,
    pub comment_count: Option<i64>,
    pub favorite_count: Option<i64>,
    pub accepted_answer_id: Option<i64>,
    pub closed_date: Option<String>,
    pub owner_user_id: Option<i64>,
    pub owner_display_name: Option<String>,
    /// Indexes (into the study's enabled frameworks) of the frameworks it matches.
    pub frameworks: Vec<usize>,
}

/// An answer as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub id: i64,
    pub parent_id: i64,
    pub created: String,
    pub created_ms: i64,
    pub score: Option<i64>,
    pub body_html: Option<String>,
    pub owner_user_id: Option<i64>,
    /// `OwnerDisplayName`: set for deleted users (their Id is gone).
    pub owner_display_name: Option<String>,
}

/// A comment on a kept question or answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub created: String,
    pub created_ms: i64,
    pub score: Option<i64>,
    pub text: Option<String>,
    pub user_id: Option<i64>,
    /// `UserDisplayName`: set for deleted users.
    pub user_display_name: Option<String>,
}

/// Why a row could not be read. The row is skipped and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("not a <row .../> element")]
    NotARow,
    #[error("the line holds more than one element (a dump has one <row …/> per line)")]
    Packed,
    #[error("bad XML in attributes: {0}")]
    Attributes(String),
    #[error("missing required attribute {0}")]
    Missing(&'static str),
    #[error("{name} is not {}: {}", kind.words(), quote(value))]
    NotANumber {
        name: &'static str,
        kind: NumKind,
        value: String,
    },
    #[error(
        "{name} is not a valid date (YYYY-MM-DDTHH:MM:SS.fff, UTC): {}",
        quote(value)
    )]
    NotADate { name: &'static str, value: String },
    #[error("{name} holds the character U+{code:04X}, which XML 1.0 does not allow")]
    BadChar { name: String, code: u32 },
    #[error(
        "the row is {} long, more than the limit of one row ({}, --max-row-mib)",
        crate::report::fmt::bytes(*bytes),
        crate::report::fmt::bytes(*limit)
    )]
    TooLong { bytes: u64, limit: u64 },
}

/// What a numeric attribute must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumKind {
    /// A post or comment Id: 1 ..= i64::MAX.
    Positive,
    /// A count: 0 ..= i64::MAX.
    NonNegative,
    /// A score or a user Id (-1 is the Community user): any i64.
    Signed,
}

impl NumKind {
    fn words(self) -> &'static str {
        match self {
            NumKind::Positive => "a positive 63-bit integer",
            NumKind::NonNegative => "a non-negative 63-bit integer",
            NumKind::Signed => "a 63-bit integer",
        }
    }

    /// Parses `raw` as this kind: decimal digits only (a `-` first for
    /// [`NumKind::Signed`]), no blanks, no `+`, no fraction, in range.
    pub fn parse(self, raw: &[u8]) -> Option<i64> {
        let n = match raw.split_first() {
            Some((b'-', digits)) if self == NumKind::Signed => parse_digits(digits, true)?,
            _ => parse_digits(raw, false)?,
        };
        match self {
            NumKind::Positive if n <= 0 => None,
            NumKind::NonNegative if n < 0 => None,
            _ => Some(n),
        }
    }
}

/// A value for messages: in quotes, cut at 40 characters, control characters
/// written as `\u{…}` so that a message never carries them.
pub fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in value.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\u{{{:X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Whether XML 1.0 allows the character (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `s` that XML 1.0 does not allow.
fn bad_char(s: &str) -> Option<char> {
    // Fast path: only control bytes and U+FFFE/U+FFFF (EF BF BE/BF) can be bad
    // in valid UTF-8 (surrogates cannot be encoded in a str).
    let b = s.as_bytes();
    if !b
        .iter()
        .any(|&x| (x < 0x20 && !matches!(x, 9 | 10 | 13)) || x == 0xEF)
    {
        return None;
    }
    s.chars().find(|&c| !xml_char(c))
}

/// Finds the raw (still escaped) value of attribute `key` in a row, where `key`
/// is written with its leading space and `="`, e.g. `b" Id=\""`. Attribute
/// values cannot contain `"` (it is escaped), so the first match is the
/// attribute.
pub fn raw_attr<'a>(row: &'a [u8], finder: &memchr::memmem::Finder) -> Option<&'a [u8]> {
    let start = finder.find(row)? + finder.needle().len();
    let len = memchr::memchr(b'"', &row[start..])?;
    Some(&row[start..start + len])
}

/// Same as [`raw_attr`], searching from the end (for attributes that follow the body).
pub fn raw_attr_rev<'a>(row: &'a [u8], finder: &memchr::memmem::FinderRev) -> Option<&'a [u8]> {
    let start = finder.rfind(row)? + finder.needle().len();
    let len = memchr::memchr(b'"', &row[start..])?;
    Some(&row[start..start + len])
}

/// Parses a decimal integer from raw bytes: digits with an optional `-`
/// first, no more than fits an `i64`.
pub fn parse_int(raw: &[u8]) -> Option<i64> {
    match raw.split_first() {
        Some((b'-', digits)) => parse_digits(digits, true),
        _ => parse_digits(raw, false),
    }
}

/// Parses 1..=19 ASCII digits (negated when `neg`) that fit an `i64`.
fn parse_digits(digits: &[u8], neg: bool) -> Option<i64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        n = n.checked_mul(10)?;
        n = if neg {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

/// Parses a dump date (`2015-01-10T16:30:44.100`, fraction of 1 to 9
/// digits optional, `Z` optional, UTC) into milliseconds since the Unix
/// epoch. The date must exist (no 30 February) and the time be 00:00:00 to
/// 23:59:59.
pub fn parse_date_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| parse_digits(&b[r], false);
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let mut ms = 0;
    let rest = &b[19..];
    let rest = rest.strip_suffix(b"Z").unwrap_or(rest);
    if !rest.is_empty() {
        let frac = rest.strip_prefix(b".")?;
        if frac.is_empty() || frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for i in 0..3 {
            ms = ms * 10 + frac.get(i).map_or(0, |&c| i64::from(c - b'0'));
        }
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The proleptic Gregorian date (year, month, day) of a count of days since
/// 1970-01-01: the inverse of `days_from_civil` (H. Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The unescaped attributes of one row, by name.
pub struct Attrs {
    pairs: Vec<(String, String)>,
}

impl Attrs {
    /// Parses `<row a="1" b="2" />` (the line, trimmed).
    pub fn parse(row: &[u8]) -> Result<Attrs, RowError> {
        let inner = row
            .strip_prefix(b"<row")
            .and_then(|r| r.strip_suffix(b"/>"))
            .ok_or(RowError::NotARow)?;
        let inner = std::str::from_utf8(inner)
            .map_err(|e| RowError::Attributes(format!("invalid UTF-8: {e}")))?;
        let mut pairs = Vec::with_capacity(20);
        let mut attrs = Attributes::new(inner, 0);
        attrs.with_checks(true);
        for attr in attrs {
            let attr = attr.map_err(|e| RowError::Attributes(e.to_string()))?;
            let key = attr.key.as_ref().to_string();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| RowError::Attributes(format!("{key}: {e}")))?
                .into_owned();
            if let Some(c) = bad_char(&value) {
                return Err(RowError::BadChar {
                    name: key,
                    code: c as u32,
                });
            }
            pairs.push((key, value));
        }
        Ok(Attrs { pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(k, _)| k == name)?;
        Some(std::mem::take(&mut self.pairs[i].1))
    }

    fn int(&self, name: &'static str, kind: NumKind) -> Result<Option<i64>, RowError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => kind
                .parse(v.as_bytes())
                .map(Some)
                .ok_or_else(|| RowError::NotANumber {
                    name,
                    kind,
                    value: v.to_string(),
                }),
        }
    }

    fn required_id(&self, name: &'static str) -> Result<i64, RowError> {
        self.int(name, NumKind::Positive)?
            .ok_or(RowError::Missing(name))
    }

    fn date(&self, name: &'static str) -> Result<Option<(String, i64)>, RowError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_date_ms(v)
                .map(|ms| Some((v.to_string(), ms)))
                .ok_or_else(|| RowError::NotADate {
                    name,
                    value: v.to_string(),
                }),
        }
    }

    fn created(&self) -> Result<(String, i64), RowError> {
        self.date("CreationDate")?
            .ok_or(RowError::Missing("CreationDate"))
    }
}

/// Parses a kept question row. `frameworks` is filled in by the caller.
pub fn parse_question(row: &[u8]) -> Result<Question, RowError> {
    let mut a = Attrs::parse(row)?;
    let id = a.required_id("Id")?;
    let (created, created_ms) = a.created()?;
    let closed_date = a.date("ClosedDate")?.map(|(s, _)| s);
    let raw_tags = a.get("Tags").unwrap_or("");
    // The attribute is unescaped already; re-read it as `<a><b>` or `|a|b|`.
    let (tags, tag_format) = tags::split_raw(raw_tags.as_bytes());
    let body_html = a.take("Body");
    let (body_text, code_text) = body_html
        .as_deref()
        .map(text::html::to_text)
        .unwrap_or_default();
    Ok(Question {
        id,
        title: a.take("Title"),
        body_text,
        code_text,
        tags,
        tag_format,
        created,
        created_ms,
        score: a.int("Score", NumKind::Signed)?,
        view_count: a.int("ViewCount", NumKind::NonNegative)?,
        answer_count: a.int("AnswerCount", NumKind::NonNegative)?,
        comment_count: a.int("CommentCount", NumKind::NonNegative)?,
        favorite_count: a.int("FavoriteCount", NumKind::NonNegative)?,
        accepted_answer_id: a.int("AcceptedAnswerId", NumKind::Positive)?,
        closed_date,
        owner_user_id: a.int("OwnerUserId", NumKind::Signed)?,
        owner_display_name: a.take("OwnerDisplayName"),
        body_html,
        frameworks: Vec::new(),
    })
}

/// Parses a kept answer row.
pub fn parse_answer(row: &[u8]) -> Result<Answer, RowError> {
    let mut a = Attrs::parse(row)?;
    let (created, created_ms) = a.created()?;
    Ok(Answer {
        id: a.required_id("Id")?,
        parent_id: a.required_id("ParentId")?,
        created,
        created_ms,
        score: a.int("Score", NumKind::Signed)?,
        owner_user_id: a.int("OwnerUserId", NumKind::Signed)?,
        owner_display_name: a.take("OwnerDisplayName"),
        body_html: a.take("Body"),
    })
}

/// Parses a kept comment row (Comments.xml).
pub fn parse_comment(row: &[u8]) -> Result<Comment, RowError> {
    let mut a = Attrs::parse(row)?;
    let (created, created_ms) = a.created()?;
    Ok(Comment {
        id: a.required_id("Id")?,
        post_id: a.required_id("PostId")?,
        created,
        created_ms,
        score: a.int("Score", NumKind::Signed)?,
        user_id: a.int("UserId", NumKind::Signed)?,
        user_display_name: a.take("UserDisplayName"),
        text: a.take("Text"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        // Reference: Python `(date(2017, 3, 13) - date(1970, 1, 1)).days` and
        // the same for 1600-02-29.
        assert_eq!(days_from_civil(2017, 3, 13), 17_238);
        assert_eq!(civil_from_days(17_238), (2017, 3, 13));
        assert_eq!(civil_from_days(-135_081), (1600, 2, 29));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn dates() {
        // Reference: Python `datetime(2015,1,10,16,30,44,100000,tzinfo=timezone.utc).timestamp()*1000`.
        assert_eq!(
            parse_date_ms("2015-01-10T16:30:44.100"),
            Some(1_420_907_444_100)
        );
        assert_eq!(parse_date_ms("1970-01-01T00:00:00"), Some(0));
        assert_eq!(
            parse_date_ms("2020-02-29T23:59:59.5"),
            Some(1_583_020_799_500)
        );
        assert_eq!(parse_date_ms("2020-13-01T00:00:00"), None);
        assert_eq!(parse_date_ms("yesterday"), None);
    }

    #[test]
    fn question_row_unescapes_and_keeps_code_apart() {
        let row = br#"<row Id="5" PostTypeId="1" CreationDate="2016-08-02T15:39:14.947" Score="3" ViewCount="10" Body="&lt;p&gt;Why&#xA;&lt;/p&gt;&lt;pre&gt;&lt;code&gt;x = 1&lt;/code&gt;&lt;/pre&gt;" OwnerDisplayName="gone" Title="A &amp; B" Tags="|tensorflow|python|" />"#;
        let q = parse_question(row).unwrap();
        assert_eq!(q.id, 5);
        assert_eq!(q.title.as_deref(), Some("A & B"));
        assert_eq!(q.tags, ["tensorflow", "python"]);
        assert_eq!(q.body_text, "Why");
        assert_eq!(q.code_text, "x = 1");
        assert_eq!(q.owner_user_id, None);
        assert_eq!(q.owner_display_name.as_deref(), Some("gone"));
        assert_eq!(q.comment_count, None);
    }

    #[test]
    fn bad_rows_are_errors_not_panics() {
        assert_eq!(
            parse_answer(br#"<row Id="1" PostTypeId="2" />"#),
            Err(RowError::Missing("CreationDate"))
        );
        assert!(matches!(
            parse_answer(br#"<row Id="x" CreationDate="2016-08-02T15:39:14" />"#),
            Err(RowError::NotANumber { name: "Id", .. })
        ));
        assert!(matches!(
            parse_question(br#"<row Id="1" Body="&bogus;" CreationDate="2016-08-02T15:39:14" />"#),
            Err(RowError::Attributes(_))
        ));
        assert_eq!(parse_question(b"<row Id=\"1\""), Err(RowError::NotARow));
    }
}

//! The two tag formats of the `Tags` attribute: `&lt;a&gt;&lt;b&gt;` (dumps
//! before 2024, `<a><b>` once unescaped) and `|a|b|` (dumps since 2024).

/// Which format a `Tags` value was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagFormat {
    /// `<a><b>` (escaped `&lt;a&gt;&lt;b&gt;` in the XML).
    Angle,
    /// `|a|b|`.
    Pipe,
}

impl TagFormat {
    /// The name used in the ingest log.
    pub fn name(self) -> &'static str {
        match self {
            TagFormat::Angle => "angle",
            TagFormat::Pipe => "pipe",
        }
    }

    /// Bit of this format in a set of formats seen.
    pub fn bit(self) -> u8 {
        match self {
            TagFormat::Angle => 1,
            TagFormat::Pipe => 2,
        }
    }

    /// The names of the formats in a bit set, e.g. `"angle,pipe"`.
    pub fn names(bits: u8) -> String {
        [TagFormat::Angle, TagFormat::Pipe]
            .iter()
            .filter(|f| bits & f.bit() != 0)
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Splits a raw (still escaped) `Tags` attribute value into tags.
///
/// Returns the tags and the format, or `None` for the format of an empty
/// value. Unknown shapes are read as a single tag list separated by spaces,
/// which is what very old exports did.
pub fn split_raw(raw: &[u8]) -> (Vec<String>, Option<TagFormat>) {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    if text.is_empty() {
        return (Vec::new(), None);
    }
    if let Some(rest) = text.strip_prefix("&lt;") {
        let tags = rest
            .trim_end_matches("&gt;")
            .split("&gt;&lt;")
            .filter(|t| !t.is_empty())
            .map(unescape_tag)
            .collect();
        return (tags, Some(TagFormat::Angle));
    }
    if let Some(rest) = text.strip_prefix('<') {
        // Already unescaped (e.g. a value passed through an XML parser).
        let tags = rest
            .trim_end_matches('>')
            .split("><")
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        return (tags, Some(TagFormat::Angle));
    }
    if text.starts_with('|') {
        let tags = text
            .split('|')
            .filter(|t| !t.is_empty())
            .map(unescape_tag)
            .collect();
        return (tags, Some(TagFormat::Pipe));
    }
    let tags = text.split_whitespace().map(unescape_tag).collect();
    (tags, None)
}

fn unescape_tag(tag: &str) -> String {
    if tag.contains('&') {
        tag.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
    } else {
        tag.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_give_the_same_tags() {
        let (a, fa) = split_raw(b"&lt;python&gt;&lt;tensorflow-lite&gt;&lt;c#&gt;");
        let (p, fp) = split_raw(b"|python|tensorflow-lite|c#|");
        assert_eq!(a, ["python", "tensorflow-lite", "c#"]);
        assert_eq!(a, p);
        assert_eq!((fa, fp), (Some(TagFormat::Angle), Some(TagFormat::Pipe)));
    }

    #[test]
    fn empty_and_unescaped() {
        assert_eq!(split_raw(b""), (vec![], None));
        assert_eq!(split_raw(b"<a><b>").0, ["a", "b"]);
        assert_eq!(TagFormat::names(3), "angle,pipe");
    }
}

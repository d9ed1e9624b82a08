//! Post body HTML → plain text, with `<pre>` code blocks kept apart.
//!
//! Stack Exchange bodies are a small, regular HTML subset. This is a tolerant
//! tag stripper, not a validating parser: block elements become line breaks,
//! entities are decoded, `<pre>` blocks go to the code text, inline `<code>`
//! stays in the prose where the sentence uses it.

/// Returns `(prose, code)`: the body's text outside `<pre>` blocks, and the
/// text of its `<pre>` blocks separated by blank lines. Both are trimmed, with
/// runs of blank lines folded.
pub fn to_text(html: &str) -> (String, String) {
    let mut prose = String::with_capacity(html.len());
    let mut code = String::new();
    let mut pre_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(rest, pre_depth, &mut prose, &mut code);
            break;
        };
        push_text(&rest[..lt], pre_depth, &mut prose, &mut code);
        let after = &rest[lt + 1..];
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !starts_tag {
            push_text("<", pre_depth, &mut prose, &mut code);
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A lone `<`: text.
            push_text(&rest[lt..], pre_depth, &mut prose, &mut code);
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "pre" if !closing => {
                pre_depth += 1;
                if !code.is_empty() {
                    code.push_str("\n\n");
                }
            }
            "pre" => pre_depth = pre_depth.saturating_sub(1),
            "p" | "br" | "li" | "ul" | "ol" | "div" | "blockquote" | "tr" | "hr" | "h1" | "h2"
            | "h3" | "h4" | "h5" | "h6" | "table" => {
                if pre_depth == 0 {
                    prose.push('\n');
                } else {
                    code.push('\n');
                }
            }
            _ => {}
        }
    }
    (tidy(&prose), tidy(&code))
}

fn push_text(raw: &str, pre_depth: usize, prose: &mut String, code: &mut String) {
    let out = if pre_depth > 0 { code } else { prose };
    decode_entities_into(raw, out);
}

/// Decodes the HTML entities that appear in post bodies (named basics and
/// numeric references); unknown ones are kept as written.
pub fn decode_entities_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            // As HTML does: a reference to NUL, another control character
            // or a non-character becomes U+FFFD, never the character itself.
            c.map(|c| (if allowed(c) { c } else { '\u{FFFD}' }, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// Whether a decoded reference may stand in text: not a C0 control other than
/// tab, newline and carriage return, not U+FFFE or U+FFFF.
fn allowed(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Trims each line's end and the whole, and folds runs of blank lines into one.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn code_blocks_are_kept_apart() {
        let html = "<p>I call <code>tf.nn.conv2d</code> and get:</p>\n\n<pre><code>ValueError: bad &amp; worse\n  x &lt; 3\n</code></pre>\n<p>Why?</p><pre>second</pre>";
        let (prose, code) = to_text(html);
        assert_eq!(prose, "I call tf.nn.conv2d and get:\n\nWhy?");
        assert_eq!(code, "ValueError: bad & worse\n  x < 3\n\nsecond");
    }

    #[test]
    fn entities_and_broken_markup() {
        let (prose, code) = to_text("a &#39;b&#x27; &unknown; 1 < 2 <b>bold");
        assert_eq!(prose, "a 'b' &unknown; 1 < 2 bold");
        assert_eq!(code, "");
    }

    #[test]
    fn references_to_control_characters_become_replacement_characters() {
        let (prose, code) = to_text("a&#0;b&#x1B;[31m&#9;c&#xFFFF;<pre>&#7;</pre>");
        assert_eq!(prose, "a\u{FFFD}b\u{FFFD}[31m\tc\u{FFFD}");
        assert_eq!(code, "\u{FFFD}");
    }
}

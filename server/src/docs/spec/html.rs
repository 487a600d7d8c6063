//! HTML helpers: escaping, descriptions, links, ids. Everything from the spec goes
//! through [`esc`] (text and attribute values alike).

use serde_json::Value;

use crate::docs::markdown;

/// Appends `s` escaped for HTML text and (double- or single-quoted) attribute values.
pub(super) fn esc(out: &mut String, s: &str) {
    esc_with(out, s, true);
}

/// Like [`esc`]; `'` is kept as it is when `apostrophe` is false (text content only).
fn esc_with(out: &mut String, s: &str, apostrophe: bool) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' if apostrophe => "&#39;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Appends a description as `<div class="spec-desc">…</div>` (nothing when empty).
/// Markdown goes through the safe renderer; text with no Markdown syntax at all is put
/// in paragraphs directly, which gives the same HTML much faster.
pub(super) fn desc(out: &mut String, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    out.push_str("<div class=\"spec-desc\">");
    if needs_markdown(text) {
        out.push_str(&markdown::render(text));
    } else {
        for para in paragraphs(text) {
            out.push_str("<p>");
            for (i, line) in para.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                esc_with(out, line, false);
            }
            out.push_str("</p>\n");
        }
    }
    out.push_str("</div>");
}

/// The description of `v` (its `description` string), if any.
pub(super) fn desc_of(out: &mut String, v: &Value) {
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        desc(out, d);
    }
}

/// Lines grouped into paragraphs (split at blank lines), trimmed.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether `text` may contain Markdown (or text that the renderer would change:
/// entities, autolinks, hard breaks). Errs on the side of yes.
fn needs_markdown(text: &str) -> bool {
    const INLINE: &[u8] = b"*_`[]<>&\\~|!@\t";
    if text.bytes().any(|b| INLINE.contains(&b)) {
        return true;
    }
    if text.contains("://") || text.contains("www.") || text.contains("  \n") {
        return true;
    }
    text.lines().any(|line| {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = line.trim_start();
        if indent >= 4 && !rest.is_empty() {
            return true;
        }
        let first = rest.bytes().next();
        matches!(first, Some(b'#' | b'-' | b'+' | b'=' | b':'))
            || (first.is_some_and(|b| b.is_ascii_digit()) && {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                matches!(rest.as_bytes().get(digits), Some(b'.' | b')'))
            })
    })
}

/// Whether a URL from the spec may become a link: http, https or mailto only.
pub(super) fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return None;
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let ok = (lower.starts_with("https://") && url.len() > 8)
        || (lower.starts_with("http://") && url.len() > 7)
        || (lower.starts_with("mailto:") && url.len() > 7);
    ok.then_some(url)
}

/// A link to `url` when it is safe, else its text; `text` is what is shown.
pub(super) fn link(out: &mut String, url: &str, text: &str) {
    match safe_url(url) {
        Some(u) => {
            out.push_str("<a href=\"");
            esc(out, u);
            out.push_str("\" rel=\"noopener noreferrer nofollow\">");
            esc(out, text);
            out.push_str("</a>");
        }
        None => esc(out, text),
    }
}

/// `externalDocs` of `v` as a paragraph with a link.
pub(super) fn external_docs(out: &mut String, v: &Value) {
    let Some(docs) = v.get("externalDocs") else {
        return;
    };
    let Some(url) = docs.get("url").and_then(Value::as_str) else {
        return;
    };
    let text = docs
        .get("description")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .unwrap_or(url);
    out.push_str("<p class=\"spec-external-docs\">See also: ");
    link(out, url, text);
    out.push_str("</p>");
}

/// An id-safe slug: ASCII letters, digits, `-`, `_` and `.`; other runs become `-`.
pub(super) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "x".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `s` percent-encoded for a query string value.
pub(super) fn query_value(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A value from the spec as short inline text: strings as they are, others as JSON.
pub(super) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An example value as pretty-printed JSON (multi-line strings as they are) in
/// `<pre><code>`.
pub(super) fn example_block(out: &mut String, v: &Value) {
    out.push_str("<pre class=\"spec-example\"><code>");
    match v {
        Value::String(s) if s.contains('\n') => esc(out, s),
        other => esc(
            out,
            &serde_json::to_string_pretty(other).unwrap_or_default(),
        ),
    }
    out.push_str("</code></pre>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything() {
        let mut out = String::new();
        esc(&mut out, "<a href=\"x\" onclick='y'>&</a>");
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn plain_text_is_rendered_like_markdown() {
        for text in [
            "Returns a pet.",
            "First line\nsecond line.\n\nNew paragraph.",
            "Quotes \"here\" and it's fine",
        ] {
            assert!(!needs_markdown(text), "{text}");
            let mut fast = String::new();
            desc(&mut fast, text);
            let slow = format!("<div class=\"spec-desc\">{}</div>", markdown::render(text));
            assert_eq!(fast, slow);
        }
        for text in [
            "**bold**",
            "- item",
            "1. one",
            "see https://x.y",
            "a@b.c",
            "# H",
        ] {
            assert!(needs_markdown(text), "{text}");
        }
    }

    #[test]
    fn only_http_and_mailto_links() {
        assert!(safe_url("https://example.com").is_some());
        assert!(safe_url("HTTP://example.com").is_some());
        assert!(safe_url("mailto:a@b.c").is_some());
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.com",
            "https://",
            "http://a b",
            "java\nscript:alert(1)",
        ] {
            assert!(safe_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("getPet"), "getPet");
        assert_eq!(slug("get /pets/{id}"), "get-pets-id");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("!!!"), "x");
    }
}

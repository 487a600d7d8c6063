//! GitHub-flavoured Markdown to HTML with comrak, safe to put in any page: raw HTML in
//! the source is shown as text (never run), and `javascript:`, `vbscript:`, `file:`
//! and `data:` URLs (except `data:image/png|gif|jpeg|webp` for images) are dropped.
//! Fenced code blocks are highlighted on the server with syntect, as CSS classes
//! prefixed `hl-` (the page's Content-Security-Policy allows no inline styles).

use std::sync::OnceLock;

use app::error::AppError;
use comrak::options::Plugins;
use comrak::plugins::syntect::{SyntectAdapter, SyntectAdapterBuilder};
use comrak::{markdown_to_html_with_plugins, Options};

/// The largest Markdown document taken (1 MB).
pub const MARKDOWN_MAX_BYTES: usize = 1024 * 1024;

/// The rule on size, naming `field`.
pub fn check_size(field: &str, markdown: &str) -> Result<(), AppError> {
    if markdown.len() > MARKDOWN_MAX_BYTES {
        return Err(AppError::validation(
            field,
            format!(
                "A document is at most 1 MB of Markdown; this one is {:.1} MB.",
                markdown.len() as f64 / (1024.0 * 1024.0)
            ),
        ));
    }
    Ok(())
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.table = true;
    o.extension.tasklist = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    o.extension.footnotes = true;
    // Heading anchors: `## Getting started` gets id="getting-started".
    o.extension.header_id_prefix = Some(String::new());
    // Raw HTML is escaped (shown as text), not passed through.
    o.render.r#unsafe = false;
    o.render.escape = true;
    o
}

/// The highlighter: syntect's default syntaxes (loaded once, on first use).
fn highlighter() -> &'static SyntectAdapter {
    static ADAPTER: OnceLock<SyntectAdapter> = OnceLock::new();
    ADAPTER.get_or_init(|| {
        SyntectAdapterBuilder::new()
            .css_with_class_prefix("hl-")
            .build()
    })
}

/// Renders Markdown to HTML that is safe to embed. CPU-heavy (up to 1 MB with
/// highlighting): async code calls [`render_off_runtime`].
pub fn render(markdown: &str) -> String {
    let mut plugins = Plugins::default();
    plugins.render.codefence_syntax_highlighter = Some(highlighter());
    markdown_to_html_with_plugins(markdown, &options(), &plugins)
}

/// [`render`] in the rendering pool (off the async runtime, a few at a time).
pub async fn render_off_runtime(markdown: String) -> Result<String, AppError> {
    super::pool::run("markdown rendering", move || render(&markdown)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_flavoured_features() {
        let html = render(
            "# Getting started\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ \
             https://example.com\n\nNote[^1].\n\n[^1]: The footnote.\n\n```rust\nfn main() {}\n```\n",
        );
        assert!(
            html.contains("<h1><a href=\"#getting-started\"")
                || html.contains("id=\"getting-started\""),
            "{html}"
        );
        assert!(
            html.contains("<table>") && html.contains("<td>1</td>"),
            "{html}"
        );
        assert!(
            html.contains("type=\"checkbox\"") && html.contains("checked"),
            "{html}"
        );
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("<a href=\"https://example.com\">"), "{html}");
        assert!(html.contains("footnote"), "{html}");
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");
        // Highlighted on the server, with classes (no inline style).
        assert!(html.contains("<span class=\"hl-"), "{html}");
        assert!(!html.contains("style="), "{html}");
    }

    /// Payloads from the usual XSS cheat sheets: none may come out as live markup.
    #[test]
    fn raw_html_and_dangerous_urls_never_run() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            "<!-- <script>alert(1)</script> -->",
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](jav&#x61;script:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](vbscript:msgbox(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
            "<javascript:alert(1)>",
            "[x]: javascript:alert(1)\n\n[y][x]",
            "<style>body{display:none}</style>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ];
        for p in payloads {
            let html = render(p);
            assert_markup_is_safe(p, &html);
        }
        // Raw HTML is shown as text, not dropped.
        assert!(render("<b>bold</b>").contains("&lt;b&gt;bold&lt;/b&gt;"));
        // Images may use raster data URLs.
        assert!(
            render("![dot](data:image/png;base64,iVBORw0KGgo=)").contains("src=\"data:image/png")
        );
    }

    /// Every `<` in the output is markup (text `<` is escaped): each tag must be an
    /// allowed one, with no event handler or style attribute and no dangerous URL.
    fn assert_markup_is_safe(source: &str, html: &str) {
        const TAGS: [&str; 31] = [
            "p",
            "a",
            "em",
            "strong",
            "code",
            "pre",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "ul",
            "ol",
            "li",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "del",
            "input",
            "img",
            "sup",
            "section",
            "hr",
            "br",
            "blockquote",
            "div",
            "span",
        ];
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            let end = rest[i..].find('>').map(|j| i + j).unwrap_or(rest.len());
            let tag = &rest[i + 1..end];
            rest = &rest[end.min(rest.len())..];
            let tag = tag.trim_start_matches('/');
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                TAGS.contains(&name.as_str()),
                "{source:?} made <{tag}>: {html}"
            );
            let lower = tag.to_ascii_lowercase();
            for attr in lower.split_whitespace().skip(1) {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                let v = v.trim_matches('"');
                assert!(
                    !k.starts_with("on") && k != "style",
                    "{source:?} made <{tag}>"
                );
                if k == "href" || k == "src" {
                    let raster = [
                        "data:image/png",
                        "data:image/gif",
                        "data:image/jpeg",
                        "data:image/webp",
                    ]
                    .iter()
                    .any(|ok| v.starts_with(ok));
                    for bad in ["javascript:", "vbscript:", "file:", "data:", "&#"] {
                        assert!(
                            !v.starts_with(bad) || (bad == "data:" && raster && k == "src"),
                            "{source:?} made <{tag}>"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn size_limit_names_the_field() {
        assert!(check_size("content", "# small").is_ok());
        let big = "a".repeat(MARKDOWN_MAX_BYTES + 1);
        let e = check_size("content", &big).unwrap_err();
        assert_eq!(e.field(), Some("content"));
        assert_eq!(e.status(), 422);
    }
}

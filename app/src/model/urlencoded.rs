//! The one reading of percent-encoded text, on the `percent-encoding` and
//! `form_urlencoded` crates (both already in the browser's bundle through the router):
//! URI components such as `$ref` fragments, and `application/x-www-form-urlencoded`
//! bodies and query strings. `%2F` and `%2f` are the same; an incomplete escape (`%2`,
//! `%zz`) stays as it is; bytes that are not UTF-8 become U+FFFD.

use std::borrow::Cow;

/// A percent-encoded URI component (a path segment, a fragment): `+` stays `+`.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

/// The name/value pairs of a form-urlencoded text (`+` is a space), in order.
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// The first value of `name` in a form-urlencoded text.
pub fn form_value(s: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(s.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both former decoders (the form fields' and the spec references') took `%2f`; they
    /// disagreed on text that is not UTF-8 (one kept the whole text escaped, the other
    /// replaced the bytes) — now one rule.
    #[test]
    fn one_reading() {
        assert_eq!(percent_decode("a%2Fb%2fc"), "a/b/c");
        assert_eq!(percent_decode("c%20d+e"), "c d+e");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("x%FFy"), "x\u{fffd}y");
        assert_eq!(
            form_pairs("a+b=%3Ac%2C%20d&e&x=%FF"),
            [
                ("a b".to_string(), ":c, d".to_string()),
                ("e".to_string(), String::new()),
                ("x".to_string(), "\u{fffd}".to_string())
            ]
        );
        assert_eq!(
            form_value("t=1&name=a%2fb&name=2", "name").as_deref(),
            Some("a/b")
        );
        assert_eq!(form_value("t=1", "name"), None);
    }
}

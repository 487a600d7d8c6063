//! The one reading of a request's cookies, on the `cookie` crate: every `Cookie` header
//! (HTTP/2 clients send one per cookie), pairs split on `;`, names and values
//! percent-decoded (`%2F` and `%2f` alike). Pairs that are not `name=value` are skipped.

/// The value of the first cookie named `name` in a request's headers.
pub fn request_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    request_cookies(headers).find_map(|(k, v)| (k == name).then_some(v))
}

/// Every cookie of a request's headers, as (name, value), in the order sent.
pub fn request_cookies(headers: &http::HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .map(|c| (c.name().to_string(), c.value().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::COOKIE;
    use http::{HeaderMap, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// The session (auth) and the time zone (dashboard) cookies used to be read by two
    /// parsers: the dashboard's looked at the first `Cookie` header only and decoded
    /// `%2F` but not `%2f`.
    #[test]
    fn every_header_and_escape() {
        let h = headers(&["a=1; portico_session=s1", "portico_tz=America%2fNew_York"]);
        assert_eq!(request_cookie(&h, "portico_session").as_deref(), Some("s1"));
        assert_eq!(
            request_cookie(&h, "portico_tz").as_deref(),
            Some("America/New_York")
        );
        let h = headers(&["portico_tz=Europe%2FBerlin;x", " b = 2 ;c=\"q\""]);
        assert_eq!(
            request_cookie(&h, "portico_tz").as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(request_cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(request_cookie(&h, "missing"), None);
        let h = headers(&["n=first", "n=second"]);
        assert_eq!(request_cookie(&h, "n").as_deref(), Some("first"));
        assert_eq!(request_cookies(&headers(&[])).count(), 0);
    }
}

//! Upstream path computation (Kong's `path_handling` v0 and v1).
//!
//! `request_postfix` is the request path after the matched path when
//! `strip_path` is on and a path matched, else the request path without its
//! leading `/`; a leading `./`, `../` or a lone `.` / `..` is dropped.
//!
//! | service.path | route.path | request | strip_path | v0 | v1 |
//! |---|---|---|---|---|---|
//! | /s  | /fv0  | /fv0req  | false | /s/fv0req  | /sfv1req  |
//! | /s  | /tv0  | /tv0req  | true  | /s/req     | /sreq     |
//! | /s  | /fv0/ | /fv0/req | false | /s/fv0/req | /sfv1/req |
//! | /s  | /tv0/ | /tv0/req | true  | /s/req     | /sreq     |
//! | /s/ | /fv0  | /fv0req  | false | /s/fv0req  | /s/fv1req |
//! | /s/ | /tv0  | /tv0req  | true  | /s/req     | /s/req    |
//! | /s/ | /fv0/ | /fv0/req | false | /s/fv0/req | /s/fv1/req|
//! | /s/ | /tv0/ | /tv0/req | true  | /s/req     | /s/req    |

use crate::model::PathHandling;

fn sanitize_postfix(p: &str) -> &str {
    if p == "." || p == ".." {
        return "";
    }
    if let Some(r) = p.strip_prefix("./") {
        return r;
    }
    if let Some(r) = p.strip_prefix("../") {
        return r;
    }
    p
}

/// Compute the upstream path.
///
/// * `service_path`: the service's path (`None` means `/`);
/// * `req_path`: the normalized request path;
/// * `matched_prefix_len`: length of the matched path prefix (0 when no path
///   matched);
/// * `strip_path`, `path_handling`: the route's settings.
pub fn upstream_path(
    service_path: Option<&str>,
    req_path: &str,
    matched_prefix_len: usize,
    strip_path: bool,
    path_handling: PathHandling,
) -> String {
    let base = match service_path {
        Some(s) if !s.is_empty() => s,
        _ => "/",
    };
    let postfix = if strip_path && matched_prefix_len > 0 {
        req_path.get(matched_prefix_len..).unwrap_or("")
    } else {
        req_path.get(1..).unwrap_or("")
    };
    let postfix = sanitize_postfix(postfix);
    let base_slash = base.ends_with('/');
    let base_trim = if base_slash {
        &base[..base.len() - 1]
    } else {
        base
    };
    match path_handling {
        PathHandling::V0 => {
            if base_slash {
                if strip_path {
                    if postfix.is_empty() {
                        if base == "/" {
                            "/".to_string()
                        } else if req_path.ends_with('/') {
                            base.to_string()
                        } else {
                            base_trim.to_string()
                        }
                    } else if postfix.starts_with('/') {
                        format!("{base_trim}{postfix}")
                    } else {
                        format!("{base}{postfix}")
                    }
                } else {
                    format!("{base}{}", req_path.get(1..).unwrap_or(""))
                }
            } else if strip_path {
                if postfix.is_empty() {
                    if req_path.len() > 1 && req_path.ends_with('/') {
                        format!("{base}/")
                    } else {
                        base.to_string()
                    }
                } else if postfix.starts_with('/') {
                    format!("{base}{postfix}")
                } else {
                    format!("{base}/{postfix}")
                }
            } else if req_path == "/" {
                base.to_string()
            } else {
                format!("{base}{req_path}")
            }
        }
        PathHandling::V1 => {
            if base_slash && postfix.starts_with('/') {
                format!("{base_trim}{postfix}")
            } else {
                format!("{base}{postfix}")
            }
        }
    }
}

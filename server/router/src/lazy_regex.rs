//! Regexes validated at build time and compiled on first use.
//!
//! Compiling a regex costs tens of microseconds; with thousands of regex
//! routes that would dominate the router build. The pattern is fully parsed
//! (so syntax errors, look-around and back-references are rejected when the
//! route is validated) and compiled lazily, once, on first use. Patterns with
//! counted repetitions (`{n}`), which may exceed the compiled size limit, are
//! compiled eagerly during validation.

use crate::captures::Captures;
use regex::{Regex, RegexBuilder};
use std::sync::{Arc, OnceLock};

/// A validated regex, compiled on first use.
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: String,
    case_insensitive: bool,
    compiled: OnceLock<Option<Compiled>>,
}

#[derive(Debug, Clone)]
struct Compiled {
    re: Regex,
    /// group names by group index, shared with recorded captures
    names: Arc<[Option<Arc<str>>]>,
}

impl Compiled {
    fn new(re: Regex) -> Self {
        let names = re.capture_names().map(|n| n.map(Arc::from)).collect();
        Compiled { re, names }
    }
}

impl LazyRegex {
    /// Validate `pattern` (as the `regex` crate would parse it).
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Self, String> {
        // The syntax tree parse catches syntax errors, look-around and
        // back-references. Translation (the costly part, e.g. building
        // Unicode classes) can only fail with Unicode properties or with
        // Unicode mode switched off, so it only runs for such patterns.
        let needs_translation =
            pattern.contains("\\p") || pattern.contains("\\P") || pattern.contains("-u");
        if needs_translation {
            regex_syntax::ParserBuilder::new()
                .case_insensitive(case_insensitive)
                .build()
                .parse(pattern)
                .map_err(|e| e.to_string())?;
        } else {
            regex_syntax::ast::parse::Parser::new()
                .parse(pattern)
                .map_err(|e| e.to_string())?;
        }
        let lazy = LazyRegex {
            pattern: pattern.to_string(),
            case_insensitive,
            compiled: OnceLock::new(),
        };
        if pattern.contains('{') {
            let re = lazy.build().map_err(|e| e.to_string())?;
            let _ = lazy.compiled.set(Some(Compiled::new(re)));
        }
        Ok(lazy)
    }

    fn build(&self) -> Result<Regex, regex::Error> {
        RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .build()
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether matching is case-insensitive.
    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }

    fn compiled(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| self.build().ok().map(Compiled::new))
            .as_ref()
    }

    /// The compiled regex (`None` only if it exceeds the size limits).
    pub fn get(&self) -> Option<&Regex> {
        self.compiled().map(|c| &c.re)
    }

    /// Search `hay`; on a match record its groups into `caps` and return
    /// the span of the whole match.
    pub fn captures_into(&self, hay: &str, caps: &mut Captures) -> Option<(usize, usize)> {
        let c = self.compiled()?;
        let mut locs = c.re.capture_locations();
        c.re.captures_read(&mut locs, hay)?;
        caps.record(&c.names, &locs, hay);
        locs.get(0)
    }

    /// `is_match`, false if the regex cannot be compiled.
    #[inline]
    pub fn is_match(&self, hay: &str) -> bool {
        self.get().is_some_and(|r| r.is_match(hay))
    }
}

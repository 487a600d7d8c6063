//! A strict reader of Prometheus' text exposition format 0.0.4 for tests (std only, so
//! that the server's unit tests include this file too): every line must be a `# HELP`,
//! a `# TYPE` (once per family, before its samples) or a sample of a declared family,
//! with well-formed names, quoted label values and a number; anything else panics
//! with the line.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Default)]
pub struct Exposition {
    /// Family name -> type.
    pub types: HashMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// Samples named `name` whose labels include all of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The one sample named `name` with these labels.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(found.len(), 1, "one {name} {labels:?}, got {found:?}");
        found[0].value
    }
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The family a sample belongs to (histograms' `_bucket`, `_sum`, `_count`).
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).map(String::as_str) == Some("histogram") {
                return Some(base);
            }
        }
    }
    None
}

pub fn parse(text: &str) -> Exposition {
    let mut out = Exposition::default();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            assert!(valid_name(name), "bad HELP line: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (Some(name), Some(kind), None) = (parts.next(), parts.next(), parts.next()) else {
                panic!("bad TYPE line: {line}");
            };
            assert!(valid_name(name), "bad name in: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "bad type in: {line}"
            );
            assert!(
                out.types.insert(name.into(), kind.into()).is_none(),
                "family declared twice: {line}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => panic!("sample without value: {line}"),
        };
        assert!(valid_name(name), "bad metric name in: {line}");
        assert!(
            family_of(name, &out.types).is_some(),
            "sample of an undeclared family: {line}"
        );
        let (labels, value_part) = match rest.strip_prefix('{') {
            Some(body) => {
                let (close, labels) = parse_labels(body, line);
                (labels, &body[close + 1..])
            }
            None => (BTreeMap::new(), rest),
        };
        let value_str = value_part
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before the value: {line}"));
        let value: f64 = match value_str {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value {v:?} in: {line}")),
        };
        out.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    out
}

/// Labels from `s` (after the `{`) up to the closing brace: (index of `}`, labels).
fn parse_labels(s: &str, line: &str) -> (usize, BTreeMap<String, String>) {
    let mut labels = BTreeMap::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'}') {
            return (i, labels);
        }
        let eq = s[i..]
            .find('=')
            .unwrap_or_else(|| panic!("label = in: {line}"))
            + i;
        let lname = &s[i..eq];
        assert!(valid_name(lname), "bad label name {lname:?} in: {line}");
        assert_eq!(
            bytes.get(eq + 1),
            Some(&b'"'),
            "unquoted label value in: {line}"
        );
        let mut value = String::new();
        i = eq + 2;
        loop {
            match bytes.get(i) {
                Some(b'\\') => {
                    match bytes.get(i + 1) {
                        Some(b'n') => value.push('\n'),
                        Some(b'\\') => value.push('\\'),
                        Some(b'"') => value.push('"'),
                        _ => panic!("bad escape in: {line}"),
                    }
                    i += 2;
                }
                Some(b'"') => break,
                Some(_) => {
                    let c = s[i..].chars().next().expect("char");
                    value.push(c);
                    i += c.len_utf8();
                }
                None => panic!("unterminated label value in: {line}"),
            }
        }
        assert!(
            labels.insert(lname.to_string(), value).is_none(),
            "label twice in: {line}"
        );
        i += 1;
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {}
            _ => panic!("bad label list in: {line}"),
        }
    }
}

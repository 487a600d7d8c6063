//! Name, label and text rules (DESIGN.md section 1). The browser runs them as the user
//! types; the server runs the same functions before anything is stored.

use super::Labels;
use crate::error::AppError;

pub const DISPLAY_NAME_MAX: usize = 100;
pub const VERSION_NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LABELS_MAX: usize = 5;
pub const LABEL_PART_MAX: usize = 63;
pub const RESERVED_LABEL_PREFIXES: [&str; 6] = ["kong", "konnect", "insomnia", "mesh", "kic", "_"];

/// A rule broken by one field: the field's name and a sentence saying the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::validation(e.field, e.message)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '~' | ':')
}

/// A display name (service package or runtime group): 1–100 characters, letters,
/// digits, spaces and `. - _ ~ :`, no space at either end.
pub fn display_name(field: &str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::new(field, "Name is required."));
    }
    if name.trim() != name {
        return Err(FieldError::new(
            field,
            "Name must not start or end with a space.",
        ));
    }
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(FieldError::new(
            field,
            format!("Name must be at most {DISPLAY_NAME_MAX} characters."),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(FieldError::new(
            field,
            format!("Name may contain only letters, digits, spaces and . - _ ~ : (found {bad:?})."),
        ));
    }
    Ok(())
}

/// The key derived from a display name: lower-cased, a space counts as `-`.
/// "Example Service" and "example-service" share the key `example-service`.
pub fn slug(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A description: at most 10,000 characters.
pub fn description(field: &str, text: &str) -> Result<(), FieldError> {
    let n = text.chars().count();
    if n > DESCRIPTION_MAX {
        return Err(FieldError::new(
            field,
            format!("Description must be at most {DESCRIPTION_MAX} characters (it has {n})."),
        ));
    }
    Ok(())
}

/// A version name: any text of 1–100 characters without control characters and
/// without spaces at either end.
pub fn version_name(field: &str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::new(field, "Version name is required."));
    }
    if name.trim() != name {
        return Err(FieldError::new(
            field,
            "Version name must not start or end with a space.",
        ));
    }
    if name.chars().count() > VERSION_NAME_MAX {
        return Err(FieldError::new(
            field,
            format!("Version name must be at most {VERSION_NAME_MAX} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "Version name must not contain control characters.",
        ));
    }
    Ok(())
}

fn label_part(what: &str, part: &str) -> Result<(), String> {
    let n = part.chars().count();
    if n == 0 || n > LABEL_PART_MAX {
        return Err(format!("{what} must be 1 to {LABEL_PART_MAX} characters"));
    }
    let first = part.chars().next().unwrap_or(' ');
    let last = part.chars().last().unwrap_or(' ');
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!("{what} must start and end with a letter or digit"));
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{what} may contain only letters, digits, '-', '_' and '.' (found {bad:?})"
        ));
    }
    Ok(())
}

/// One label. Errors name the label and the rule.
pub fn label(field: &str, key: &str, value: &str) -> Result<(), FieldError> {
    let shown = format!("{key}:{value}");
    if let Some(prefix) = RESERVED_LABEL_PREFIXES
        .iter()
        .find(|p| key.to_ascii_lowercase().starts_with(*p))
    {
        return Err(FieldError::new(
            field,
            format!("Label \"{shown}\": key must not start with \"{prefix}\" (reserved)."),
        ));
    }
    label_part("key", key)
        .and_then(|()| label_part("value", value))
        .map_err(|rule| FieldError::new(field, format!("Label \"{shown}\": {rule}.")))
}

/// A set of labels: at most five, each valid.
pub fn labels(field: &str, labels: &Labels) -> Result<(), FieldError> {
    if labels.len() > LABELS_MAX {
        return Err(FieldError::new(
            field,
            format!(
                "At most {LABELS_MAX} labels are allowed (got {}).",
                labels.len()
            ),
        ));
    }
    for (k, v) in labels {
        label(field, k, v)?;
    }
    Ok(())
}

/// Parses the label text of a form: `key:value` pairs separated by commas or new
/// lines. The result is checked with [`labels`].
pub fn parse_labels(field: &str, text: &str) -> Result<Labels, FieldError> {
    let mut out = Labels::new();
    for item in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some((k, v)) = item.split_once(':') else {
            return Err(FieldError::new(
                field,
                format!("Label \"{item}\": write labels as key:value."),
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if out.contains_key(k) {
            return Err(FieldError::new(
                field,
                format!("Label \"{item}\": key \"{k}\" is given twice."),
            ));
        }
        out.insert(k.to_string(), v.to_string());
    }
    labels(field, &out)?;
    Ok(out)
}

/// The text form of labels, as [`parse_labels`] reads it.
pub fn format_labels(labels: &Labels) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a version status sent by a form or a query; empty means none.
pub fn optional_status(
    field: &str,
    text: Option<&str>,
) -> Result<Option<super::VersionStatus>, FieldError> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => super::VersionStatus::parse(t).map(Some).ok_or_else(|| {
            FieldError::new(
                field,
                format!("Status \"{t}\" is not one of published, deprecated, unpublished."),
            )
        }),
    }
}

/// Parses one `key:value` filter of the catalog.
pub fn parse_label_filter(text: &str) -> Result<(String, String), FieldError> {
    let (k, v) = text
        .split_once(':')
        .ok_or_else(|| FieldError::new("label", "Filter labels as key:value."))?;
    let (k, v) = (k.trim(), v.trim());
    label("label", k, v)?;
    Ok((k.to_string(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T>(r: Result<T, FieldError>) -> String {
        match r {
            Ok(_) => String::new(),
            Err(e) => format!("{}: {}", e.field, e.message),
        }
    }

    #[test]
    fn display_names() {
        assert!(display_name("name", "Example Service").is_ok());
        assert!(display_name("name", "a.b-c_d~e:f 9").is_ok());
        assert_eq!(msg(display_name("name", "")), "name: Name is required.");
        assert_eq!(msg(display_name("name", "   ")), "name: Name is required.");
        assert_eq!(
            msg(display_name("name", " x")),
            "name: Name must not start or end with a space."
        );
        assert_eq!(
            msg(display_name("name", &"a".repeat(101))),
            "name: Name must be at most 100 characters."
        );
        assert!(display_name("name", &"a".repeat(100)).is_ok());
        assert_eq!(
            msg(display_name("name", "a/b")),
            "name: Name may contain only letters, digits, spaces and . - _ ~ : (found '/')."
        );
        assert!(display_name("name", "café").is_err());
    }

    #[test]
    fn slugs_treat_space_as_dash_and_ignore_case() {
        assert_eq!(slug("Example Service"), "example-service");
        assert_eq!(slug("Example-Service"), "example-service");
        assert_eq!(slug("EXAMPLE service"), "example-service");
        assert_ne!(slug("Example_Service"), "example-service");
    }

    #[test]
    fn descriptions() {
        assert!(description("description", &"x".repeat(10_000)).is_ok());
        assert_eq!(
            msg(description("description", &"x".repeat(10_001))),
            "description: Description must be at most 10000 characters (it has 10001)."
        );
    }

    #[test]
    fn version_names() {
        assert!(version_name("name", "v1").is_ok());
        assert!(version_name("name", "1.2.0 (beta) / eu").is_ok());
        assert_eq!(
            msg(version_name("name", "")),
            "name: Version name is required."
        );
        assert_eq!(
            msg(version_name("name", "v1 ")),
            "name: Version name must not start or end with a space."
        );
        assert_eq!(
            msg(version_name("name", "v\u{7}")),
            "name: Version name must not contain control characters."
        );
        assert!(version_name("name", &"v".repeat(101)).is_err());
    }

    #[test]
    fn label_rules() {
        assert!(label("labels", "team", "payments").is_ok());
        assert!(label("labels", "a", "b").is_ok());
        assert!(label("labels", "my.team-1_x", "A.b-C_9").is_ok());
        assert_eq!(
            msg(label("labels", "-team", "x")),
            "labels: Label \"-team:x\": key must start and end with a letter or digit."
        );
        assert_eq!(
            msg(label("labels", "team", "x-")),
            "labels: Label \"team:x-\": value must start and end with a letter or digit."
        );
        assert_eq!(
            msg(label("labels", "", "x")),
            "labels: Label \":x\": key must be 1 to 63 characters."
        );
        assert_eq!(
            msg(label("labels", "team", "")),
            "labels: Label \"team:\": value must be 1 to 63 characters."
        );
        assert!(label("labels", &"k".repeat(63), &"v".repeat(63)).is_ok());
        assert!(label("labels", &"k".repeat(64), "v").is_err());
        assert!(label("labels", "k", &"v".repeat(64)).is_err());
        assert_eq!(
            msg(label("labels", "te am", "x")),
            "labels: Label \"te am:x\": key may contain only letters, digits, '-', '_' and '.' (found ' ')."
        );
        for reserved in ["kong", "konnect", "insomnia", "mesh", "kic"] {
            let key = format!("{reserved}-x");
            assert_eq!(
                msg(label("labels", &key, "x")),
                format!(
                    "labels: Label \"{key}:x\": key must not start with \"{reserved}\" (reserved)."
                )
            );
        }
        assert!(label("labels", "_x", "y").is_err());
        assert!(label("labels", "KongX", "y").is_err());
    }

    #[test]
    fn at_most_five_labels() {
        let five: Labels = (0..5).map(|i| (format!("k{i}"), "v".to_string())).collect();
        assert!(labels("labels", &five).is_ok());
        let six: Labels = (0..6).map(|i| (format!("k{i}"), "v".to_string())).collect();
        assert_eq!(
            msg(labels("labels", &six)),
            "labels: At most 5 labels are allowed (got 6)."
        );
    }

    #[test]
    fn parsing_label_text() {
        let l = parse_labels("labels", "team:payments, tier:gold\nregion: eu").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l["region"], "eu");
        assert_eq!(format_labels(&l), "region:eu, team:payments, tier:gold");
        assert!(parse_labels("labels", "").unwrap().is_empty());
        assert_eq!(
            msg(parse_labels("labels", "team")),
            "labels: Label \"team\": write labels as key:value."
        );
        assert_eq!(
            msg(parse_labels("labels", "a:b, a:c")),
            "labels: Label \"a:c\": key \"a\" is given twice."
        );
        // keys are case-sensitive
        assert_eq!(parse_labels("labels", "A:b, a:c").unwrap().len(), 2);
        assert!(parse_labels("labels", "a:1,b:2,c:3,d:4,e:5,f:6").is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(optional_status("status", None).unwrap(), None);
        assert_eq!(optional_status("status", Some(" ")).unwrap(), None);
        assert_eq!(
            optional_status("status", Some("Published")).unwrap(),
            Some(crate::model::VersionStatus::Published)
        );
        assert_eq!(
            msg(optional_status("status", Some("live"))),
            "status: Status \"live\" is not one of published, deprecated, unpublished."
        );
    }

    #[test]
    fn label_filters() {
        assert_eq!(
            parse_label_filter("team:payments").unwrap(),
            ("team".to_string(), "payments".to_string())
        );
        assert!(parse_label_filter("team").is_err());
    }
}

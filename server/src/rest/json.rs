//! Reading a JSON body into a type, naming the exact path of a value of the wrong shape
//! (`rows[3].status`, `labels.team`, `routes[0].paths[1]`) with `serde_path_to_error`.
//! Used by the REST API's [`super::ApiJson`] and by the data planes' `/dp/v1` endpoints.

use serde::de::DeserializeOwned;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all (bad syntax, or the text ends early); says where.
    Syntax(String),
    /// JSON of the wrong shape: the path of the value (`body` for the whole body) and
    /// serde's account of what is wrong, prefixed with that path.
    Shape { field: String, message: String },
}

/// `bytes` as a `T`, or why not.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(classify)?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

fn classify(e: serde_path_to_error::Error<serde_json::Error>) -> JsonError {
    use serde_json::error::Category;
    match e.inner().classify() {
        Category::Data => {
            let mut field = if e.path().iter().next().is_some() {
                e.path().to_string()
            } else {
                String::new()
            };
            // A missing field is reported at the object that lacks it; name the field.
            if let Some(name) = missing_field(&e.inner().to_string()) {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
            }
            if field.is_empty() {
                field.push_str("body");
            }
            JsonError::Shape {
                field,
                message: e.to_string(),
            }
        }
        Category::Syntax | Category::Eof | Category::Io => {
            JsonError::Syntax(e.into_inner().to_string())
        }
    }
}

/// The field of serde's fixed ``missing field `name` `` message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Row {
        status: u16,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        rows: Vec<Row>,
    }

    fn field(text: &str) -> String {
        match from_slice::<Body>(text.as_bytes()) {
            Err(JsonError::Shape { field, .. }) => field,
            other => panic!("{text}: {other:?}"),
        }
    }

    /// The path of the offending value, also for a field missing from a nested object
    /// (the text of axum's rejection named only `status` there) and for map keys that
    /// are not identifiers (that text gave up and said `body`).
    #[test]
    fn shape_errors_name_the_exact_path() {
        assert_eq!(field(r#"{}"#), "name");
        assert_eq!(field(r#"{"name": 5}"#), "name");
        assert_eq!(
            field(r#"{"name": "a", "rows": [{"status": 200}, {"status": "x"}]}"#),
            "rows[1].status"
        );
        assert_eq!(
            field(r#"{"name": "a", "rows": [{"status": 200}, {}, {}, {}]}"#),
            "rows[1].status"
        );
        assert_eq!(
            field(r#"{"name": "a", "labels": {"team": 5}}"#),
            "labels.team"
        );
        assert_eq!(
            field(r#"{"name": "a", "labels": {"a b: c": 5}}"#),
            "labels.a b: c"
        );
        assert_eq!(field("null"), "body");
        let Err(JsonError::Shape { message, .. }) =
            from_slice::<Body>(br#"{"name": "a", "rows": [{"status": "x"}]}"#)
        else {
            panic!()
        };
        assert!(
            message.starts_with("rows[0].status: invalid type"),
            "{message}"
        );
    }

    #[test]
    fn syntax_errors_are_not_shape_errors() {
        for text in ["{not json", "{\"name\": \"a\"} trailing", "", "{\"name\": "] {
            assert!(
                matches!(
                    from_slice::<Body>(text.as_bytes()),
                    Err(JsonError::Syntax(_))
                ),
                "{text}"
            );
        }
        assert!(from_slice::<Body>(br#"{"name": "a"}"#).is_ok());
    }
}

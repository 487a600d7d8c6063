//! The constraint line, enum values, default and examples of a schema.

use serde_json::Value;

use super::html::{esc, example_block, external_docs, value_text};
use super::render::Renderer;

/// How many enum values are listed.
const MAX_ENUM_VALUES: usize = 50;

impl<'a> Renderer<'a> {
    /// Constraints, enum values, default and examples of a schema (or of a Swagger 2.0
    /// parameter or header, which are schema-like).
    pub(super) fn details(&mut self, schema: &'a Value) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        let out = &mut self.out;
        let mut started = false;
        let mut part = |out: &mut String| {
            out.push_str(if started {
                " · "
            } else {
                "<p class=\"spec-constraints\">"
            });
            started = true;
        };
        let code = |out: &mut String, v: &Value| {
            out.push_str("<code>");
            esc(out, &value_text(v));
            out.push_str("</code>");
        };
        let (enum_values, enum_label) = match obj.get("enum") {
            Some(e) => (e.as_array(), "one of:"),
            // An array of enum values (e.g. a Swagger 2.0 query parameter).
            None => (
                obj.get("items")
                    .and_then(|i| i.get("enum"))
                    .and_then(Value::as_array),
                "items one of:",
            ),
        };
        if let Some(values) = enum_values {
            part(out);
            out.push_str(enum_label);
            for (i, v) in values.iter().take(MAX_ENUM_VALUES).enumerate() {
                out.push_str(if i == 0 { " " } else { ", " });
                code(out, v);
            }
            if values.len() > MAX_ENUM_VALUES {
                out.push_str(&format!(" … ({} more)", values.len() - MAX_ENUM_VALUES));
            }
        }
        let labels: [(&str, &str); 13] = [
            ("const", "always"),
            ("default", "default:"),
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("multipleOf", "multiple of"),
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("pattern", "pattern"),
            ("minItems", "min items"),
            ("maxItems", "max items"),
            ("minProperties", "min properties"),
            ("maxProperties", "max properties"),
            ("collectionFormat", "collection format:"),
        ];
        for (key, label) in labels {
            if let Some(v) = obj.get(key) {
                part(out);
                out.push_str(label);
                let exclusive = match key {
                    "minimum" => obj.get("exclusiveMinimum"),
                    "maximum" => obj.get("exclusiveMaximum"),
                    _ => None,
                };
                if exclusive == Some(&Value::Bool(true)) {
                    out.push_str(" (exclusive)");
                }
                out.push(' ');
                code(out, v);
            }
        }
        // OpenAPI 3.1: exclusive bounds are numbers.
        for (key, label) in [
            ("exclusiveMinimum", "greater than"),
            ("exclusiveMaximum", "less than"),
        ] {
            if let Some(v) = obj.get(key).filter(|v| v.is_number()) {
                part(out);
                out.push_str(label);
                out.push(' ');
                code(out, v);
            }
        }
        if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            part(out);
            out.push_str("unique items");
        }
        if started {
            out.push_str("</p>");
        }
        external_docs(out, schema);
        if let Some(ex) = obj.get("example") {
            out.push_str("<p class=\"spec-example-label\">Example</p>");
            example_block(out, ex);
        }
        if let Some(examples) = obj.get("examples").and_then(Value::as_array) {
            for ex in examples {
                out.push_str("<p class=\"spec-example-label\">Example</p>");
                example_block(out, ex);
            }
        }
    }
}

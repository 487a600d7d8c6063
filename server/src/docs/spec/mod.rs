//! API specs: parse and validate an OpenAPI 3.0 / 3.1 or Swagger 2.0 document (YAML or
//! JSON, at most [`SPEC_MAX_BYTES`]) with [`parse`], and render it as a server-side HTML
//! reference with [`render_reference`].
//!
//! Choices:
//! - Versions: Swagger exactly `2.0`, OpenAPI `3.0.x` and `3.1.x` (a pre-release suffix
//!   such as `3.1.0-rc1` is taken). OpenAPI 3.2 and later are refused until supported.
//! - Key order: the workspace's `serde_json` has no `preserve_order`, so the document is a
//!   `serde_json::Value` whose objects are sorted by key. The reference follows that
//!   order (paths, properties, responses and media types sorted; HTTP methods in the fixed
//!   order get, put, post, delete, options, head, patch, trace); arrays (tags, parameters,
//!   servers, enums) keep the document's order. The output is deterministic.
//! - Schemas: every named schema (`components/schemas` or `definitions`) is expanded
//!   fully once, in the "Schemas" section at the end (`<article id="schema-Name">`; with
//!   a tag filter, only those the shown operations use, directly or not). Everywhere
//!   else a named schema is a link to it (`<a href="#schema-Pet">Pet</a>`, inside type
//!   summaries such as `array<Pet>`); inline schemas (and `$ref`s to other parts of the
//!   document) are expanded in place, `allOf` members merged into one property list. So
//!   each schema's text appears once and the HTML stays linear in the size of the spec
//!   (the bench's generated 5 MB spec gives 2.3x its size in YAML, 1.6x in JSON;
//!   repeating a compact first level of each named schema in every operation that uses
//!   it gave 3.2x for the YAML one, so operations link instead). A reference that
//!   leads back to the schema being defined (self or mutual recursion, found as
//!   strongly connected components of the reference graph) is shown as
//!   "↻ Name (recursive)". Inline nesting is cut at [`MAX_SCHEMA_DEPTH`] levels with "…".
//! - The HTML is a fragment with no inline styles or scripts; classes start with `spec-`.
//!   Everything from the spec is escaped, links from it are kept only when they are
//!   http(s) or mailto, and descriptions go through [`crate::docs::markdown::render`].

use serde_json::Value;

mod components;
mod details;
mod html;
mod load;
mod ops;
mod parse;
mod refs;
mod render;
mod schema;
#[cfg(test)]
mod testgen;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_render;
#[cfg(test)]
mod tests_xss;

pub use parse::parse;
pub use render::render_reference;

/// Bumped whenever the rendered HTML changes, so that stored references are redone.
pub const RENDER_VERSION: i32 = 1;

/// The largest spec taken (10 MB).
pub const SPEC_MAX_BYTES: usize = 10 * 1024 * 1024;

/// How deep inline schemas are expanded in the reference before "…".
pub const MAX_SCHEMA_DEPTH: usize = 8;

/// The text format of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    Json,
    Yaml,
}

impl SpecFormat {
    /// `"json"` or `"yaml"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecFormat::Json => "json",
            SpecFormat::Yaml => "yaml",
        }
    }

    /// The media type of the spec's text.
    pub fn content_type(self) -> &'static str {
        match self {
            SpecFormat::Json => "application/json",
            SpecFormat::Yaml => "application/yaml",
        }
    }

    /// The inverse of [`SpecFormat::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(SpecFormat::Json),
            "yaml" => Some(SpecFormat::Yaml),
            _ => None,
        }
    }
}

/// The spec language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

impl Dialect {
    /// "Swagger" or "OpenAPI".
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Swagger2 => "Swagger",
            Dialect::OpenApi30 | Dialect::OpenApi31 => "OpenAPI",
        }
    }
}

/// A spec that passed [`parse`].
#[derive(Debug, Clone)]
pub struct ParsedSpec {
    pub format: SpecFormat,
    pub dialect: Dialect,
    /// The document's `swagger` or `openapi` value, e.g. "2.0", "3.0.3", "3.1.0".
    pub spec_version: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub api_version: String,
    /// What was accepted but not understood, e.g. external references.
    pub warnings: Vec<String>,
    /// The parsed document (objects sorted by key).
    pub doc: Value,
}

/// A rendered reference.
#[derive(Debug, Clone)]
pub struct Reference {
    /// A safe HTML fragment.
    pub html: String,
    /// All tags, in order: the spec's `tags` first, then in order of first use;
    /// "default" for operations without a tag. Not affected by the tag filter.
    pub tags: Vec<String>,
    /// How many distinct operations (and webhooks) the fragment shows, after the filter.
    pub operation_count: usize,
}

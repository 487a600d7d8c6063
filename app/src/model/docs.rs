//! Documentation pages of a service package, and their rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// A documentation page: Markdown, in a tree under its package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: Uuid,
    pub package_id: Uuid,
    /// The page this one sits under; none for a top-level page.
    pub parent_id: Option<Uuid>,
    pub title: String,
    /// Unique within the package; the page's URL part.
    pub slug: String,
    /// Order among siblings (smaller first, then by title).
    pub position: i32,
    /// Shown in the Dev Portal when the package is published.
    pub published: bool,
    /// Markdown (GitHub-flavoured), at most 1 MB.
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page with its Markdown rendered to safe HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenderedDocument {
    #[serde(flatten)]
    pub document: Document,
    /// The content as HTML; raw HTML in the Markdown is shown as text.
    pub html: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewDocument {
    pub title: String,
    /// Derived from the title when absent.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// After the last sibling when absent.
    #[serde(default)]
    pub position: Option<i32>,
    #[serde(default)]
    pub published: bool,
    #[serde(default)]
    pub content: String,
}

/// Present fields change; `"parent_id": null` moves the page to the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DocumentPatch {
    pub title: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Uuid>))]
    pub parent_id: Option<Option<Uuid>>,
    pub position: Option<i32>,
    pub published: Option<bool>,
    pub content: Option<String>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What is stored about a version's API spec (the text itself is served apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiSpecInfo {
    pub version_id: Uuid,
    /// `json` or `yaml`: the format it was uploaded in.
    pub format: String,
    /// The document's `openapi` or `swagger` value (`3.1.0`, `3.0.3`, `2.0`).
    pub spec_version: String,
    /// `info.title` and `info.version` of the spec.
    pub title: String,
    pub api_version: String,
    /// Unresolved external `$ref`s, and anything else worth knowing.
    pub warnings: Vec<String>,
    /// Size of the original text in bytes.
    pub size: u64,
    pub updated_at: DateTime<Utc>,
}

impl ApiSpecInfo {
    /// The dialect as people say it: "OpenAPI 3.1.0" or "Swagger 2.0".
    pub fn dialect(&self) -> String {
        if self.spec_version.starts_with('2') {
            format!("Swagger {}", self.spec_version)
        } else {
            format!("OpenAPI {}", self.spec_version)
        }
    }
    /// The file name the download gets.
    pub fn file_name(&self, package_key: &str, version_name: &str) -> String {
        let base: String = format!("{package_key}-{version_name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!(
            "{base}.{}",
            if self.format == "json" {
                "json"
            } else {
                "yaml"
            }
        )
    }
}

/// A spec rendered as a reference, for the dashboard and the portal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecView {
    pub info: ApiSpecInfo,
    /// The reference as safe HTML (operations of `tag` only when one is chosen).
    pub html: String,
    /// Every tag of the spec, in order.
    pub tags: Vec<String>,
    pub tag: Option<String>,
    pub operation_count: usize,
}

pub const DOC_TITLE_MAX: usize = 255;
pub const DOC_SLUG_MAX: usize = 100;
pub const DOC_POSITION_MAX: i32 = 1_000_000;

/// A title: 1–255 characters, no control characters.
pub fn check_title(field: &str, title: &str) -> Result<(), AppError> {
    let n = title.trim().chars().count();
    if n == 0 {
        return Err(AppError::validation(field, "Give the page a title."));
    }
    if n > DOC_TITLE_MAX {
        return Err(AppError::validation(
            field,
            format!("A title has at most {DOC_TITLE_MAX} characters (this one has {n})."),
        ));
    }
    if title.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "A title cannot hold control characters.",
        ));
    }
    Ok(())
}

/// A slug: 1–100 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn check_slug(field: &str, slug: &str) -> Result<(), AppError> {
    let ok_chars = slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if slug.is_empty()
        || slug.len() > DOC_SLUG_MAX
        || !ok_chars
        || slug.starts_with('-')
        || slug.ends_with('-')
    {
        return Err(AppError::validation(
            field,
            format!(
                "\"{slug}\" is not a slug: use 1 to {DOC_SLUG_MAX} lower-case letters, digits and dashes, not starting or ending with a dash."
            ),
        ));
    }
    Ok(())
}

/// The slug a title gives: lower case, runs of anything else as one dash.
pub fn slug_of(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let cut: String = out.chars().take(DOC_SLUG_MAX).collect();
    let cut = cut.trim_end_matches('-').to_string();
    if cut.is_empty() {
        "page".into()
    } else {
        cut
    }
}

pub fn check_position(field: &str, position: i32) -> Result<(), AppError> {
    if !(-DOC_POSITION_MAX..=DOC_POSITION_MAX).contains(&position) {
        return Err(AppError::validation(
            field,
            format!("A position is between -{DOC_POSITION_MAX} and {DOC_POSITION_MAX}."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_titles() {
        assert_eq!(slug_of("Getting Started!"), "getting-started");
        assert_eq!(slug_of("  API — v2 / Auth "), "api-v2-auth");
        assert_eq!(slug_of("???"), "page");
        assert!(check_slug("slug", "getting-started").is_ok());
        for bad in ["", "-a", "a-", "A", "a b", "é"] {
            assert!(check_slug("slug", bad).is_err(), "{bad}");
        }
        assert!(check_title("title", " ").is_err());
        assert!(check_title("title", &"x".repeat(256)).is_err());
        assert!(check_position("position", 2_000_000).is_err());
    }

    #[test]
    fn a_null_parent_differs_from_an_absent_one() {
        let p: DocumentPatch = serde_json::from_str(r#"{"parent_id": null}"#).unwrap();
        assert_eq!(p.parent_id, Some(None));
        let p: DocumentPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.parent_id, None);
    }
}

use sea_orm::entity::prelude::*;

/// The API spec of a service version: the original text as uploaded, and what
/// validation found in it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_specs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub version_id: Uuid,
    /// `json` or `yaml`.
    pub format: String,
    /// The document's `openapi` / `swagger` value.
    pub spec_version: String,
    pub title: String,
    pub api_version: String,
    /// A JSON array of warning strings (unresolved external references).
    pub warnings: String,
    pub content: String,
    pub size: i64,
    /// The whole reference (no tag filter), rendered when the spec was stored.
    pub reference_html: String,
    /// A JSON array of the spec's tags, in order.
    pub tags: String,
    pub operation_count: i64,
    /// The renderer that made `reference_html` (see `docs::spec::RENDER_VERSION`).
    pub render_version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

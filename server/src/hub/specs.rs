//! The API spec of each version: validated and rendered on the way in, stored as the
//! original text plus its whole reference, so a view reads HTML and never parses. A
//! tag-filtered view (or a reference from an older renderer) is rendered from the text
//! and cached in memory, keyed by the spec's update time. Only the spec's own tags
//! filter: any other `tag` gets the whole reference, so what a visitor writes in the
//! address can neither start a render nor fill the cache. Parsing and rendering run in
//! the rendering pool (`docs::pool`), off the async runtime.

use std::sync::{Arc, Mutex};

use app::error::AppError;
use app::model::*;
use app::ports::{Result, Specs};
use chrono::Utc;
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::docs::spec::{self, Reference};
use crate::store::{api_spec, service_package, service_version};

/// Rendered references kept in memory, most recent last, bounded by total HTML size.
#[derive(Default)]
pub(crate) struct SpecCache {
    entries: Mutex<Vec<(CacheKey, Arc<Reference>)>>,
}

type CacheKey = (Uuid, i64, Option<String>);

/// At most this much rendered HTML is kept.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

impl SpecCache {
    fn get(&self, key: &CacheKey) -> Option<Arc<Reference>> {
        let mut e = self.entries.lock().ok()?;
        let i = e.iter().position(|(k, _)| k == key)?;
        let hit = e.remove(i);
        let r = hit.1.clone();
        e.push(hit);
        Some(r)
    }

    fn put(&self, key: CacheKey, r: Arc<Reference>) {
        let Ok(mut e) = self.entries.lock() else {
            return;
        };
        e.retain(|(k, _)| k.0 != key.0 || k.1 == key.1);
        e.push((key, r));
        let mut total: usize = e.iter().map(|(_, r)| r.html.len()).sum();
        while total > CACHE_BYTES && e.len() > 1 {
            let (_, old) = e.remove(0);
            total -= old.html.len();
        }
    }
}

/// The stored facts of a spec without its text.
#[derive(FromQueryResult)]
struct SpecMeta {
    version_id: Uuid,
    format: String,
    spec_version: String,
    title: String,
    api_version: String,
    warnings: String,
    size: i64,
    render_version: i32,
    updated_at: chrono::DateTime<Utc>,
}

impl SpecMeta {
    fn into_info(self) -> ApiSpecInfo {
        ApiSpecInfo {
            version_id: self.version_id,
            format: self.format,
            spec_version: self.spec_version,
            title: self.title,
            api_version: self.api_version,
            warnings: serde_json::from_str(&self.warnings).unwrap_or_default(),
            size: self.size.max(0) as u64,
            updated_at: self.updated_at,
        }
    }
}

fn summary(m: &ApiSpecInfo) -> serde_json::Value {
    json!({
        "spec_version": m.spec_version,
        "title": m.title,
        "api_version": m.api_version,
        "format": m.format,
        "bytes": m.size,
    })
}

impl Hub {
    /// A spec's facts, without its text or its stored reference (which can be tens of MB).
    async fn spec_meta<C: ConnectionTrait>(db: &C, version: Uuid) -> Result<Option<SpecMeta>> {
        api_spec::Entity::find_by_id(version)
            .select_only()
            .columns([
                api_spec::Column::VersionId,
                api_spec::Column::Format,
                api_spec::Column::SpecVersion,
                api_spec::Column::Title,
                api_spec::Column::ApiVersion,
                api_spec::Column::Warnings,
                api_spec::Column::Size,
                api_spec::Column::RenderVersion,
                api_spec::Column::UpdatedAt,
            ])
            .into_model::<SpecMeta>()
            .one(db)
            .await
            .map_err(db_err)
    }

    /// A spec's original text.
    pub(super) async fn spec_content<C: ConnectionTrait>(
        db: &C,
        version: Uuid,
    ) -> Result<Option<String>> {
        api_spec::Entity::find_by_id(version)
            .select_only()
            .column(api_spec::Column::Content)
            .into_tuple()
            .one(db)
            .await
            .map_err(db_err)
    }

    /// A spec's facts and original text.
    pub(super) async fn spec_with_text(
        &self,
        version: Uuid,
    ) -> Result<Option<(ApiSpecInfo, String)>> {
        let Some(meta) = Self::spec_meta(&self.db, version).await? else {
            return Ok(None);
        };
        let text = Self::spec_content(&self.db, version).await?;
        Ok(text.map(|t| (meta.into_info(), t)))
    }

    pub(super) async fn version_of(
        &self,
        package: &str,
        version: Uuid,
    ) -> Result<(service_package::Model, service_version::Model)> {
        Self::version_rows(&self.db, package, version).await
    }

    pub(super) async fn store_spec(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version: Uuid,
        text: String,
    ) -> Result<ApiSpecInfo> {
        // Validate and render before taking the writer lock: 10 MB take a while.
        let done = crate::docs::pool::run("spec validation", move || {
            spec::parse(&text).map(|p| {
                let r = spec::render_reference(&p, None);
                (p, r, text)
            })
        })
        .await?;
        let (parsed, reference, text) = done?;
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let v = Self::find_version_row(&txn, &pkg, version).await?;
        let before = Self::spec_meta(&txn, v.id).await?.map(SpecMeta::into_info);
        let row = api_spec::ActiveModel {
            version_id: Set(v.id),
            format: Set(parsed.format.as_str().to_string()),
            spec_version: Set(parsed.spec_version.clone()),
            title: Set(parsed.title.clone()),
            api_version: Set(parsed.api_version.clone()),
            warnings: Set(serde_json::to_string(&parsed.warnings).unwrap_or_else(|_| "[]".into())),
            size: Set(text.len() as i64),
            content: Set(text),
            tags: Set(serde_json::to_string(&reference.tags).unwrap_or_else(|_| "[]".into())),
            operation_count: Set(reference.operation_count as i64),
            reference_html: Set(reference.html),
            render_version: Set(spec::RENDER_VERSION),
            updated_at: Set(Utc::now()),
        };
        if before.is_some() {
            row.update(&txn).await.map_err(db_err)?;
        } else {
            row.insert(&txn).await.map_err(db_err)?;
        }
        let after = Self::spec_meta(&txn, v.id)
            .await?
            .map(SpecMeta::into_info)
            .ok_or_else(AppError::internal)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "api_spec.put",
                target_type: "service_version",
                target_id: v.id.to_string(),
                target_name: format!("{}/{}", pkg.key, v.name),
                before: before.as_ref().map(summary),
                after: Some(summary(&after)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(after)
    }

    pub(super) async fn stored_spec_info(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version: Uuid,
    ) -> Result<Option<ApiSpecInfo>> {
        let (_, v) = self.version_of(package, version).await?;
        Ok(Self::spec_meta(&self.db, v.id)
            .await?
            .map(SpecMeta::into_info))
    }

    pub(super) async fn stored_spec_text(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version: Uuid,
    ) -> Result<(ApiSpecInfo, String)> {
        let (pkg, v) = self.version_of(package, version).await?;
        self.spec_with_text(v.id).await?.ok_or_else(|| {
            AppError::not_found(format!(
                "Version \"{}\" of \"{}\" has no API spec.",
                v.name, pkg.key
            ))
        })
    }

    /// The rendered reference of a stored spec, from the cache when it is there.
    pub(super) async fn render_spec(
        &self,
        version: Uuid,
        tag: Option<String>,
    ) -> Result<Option<SpecView>> {
        let info = Self::spec_meta(&self.db, version).await?;
        let Some(meta) = info else {
            return Ok(None);
        };
        let current = meta.render_version == spec::RENDER_VERSION;
        let info = meta.into_info();
        let tag = tag.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let tag = match tag {
            Some(t) => {
                let tags: Option<String> = api_spec::Entity::find_by_id(version)
                    .select_only()
                    .column(api_spec::Column::Tags)
                    .into_tuple()
                    .one(&self.db)
                    .await
                    .map_err(db_err)?;
                let tags: Vec<String> = tags
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                // Not one of the spec's tags: the whole reference, as if none was asked.
                tags.contains(&t).then_some(t)
            }
            None => None,
        };
        if tag.is_none() && current {
            // The whole reference, as rendered when the spec was stored.
            let stored: Option<(String, String, i64)> = api_spec::Entity::find_by_id(version)
                .select_only()
                .columns([
                    api_spec::Column::ReferenceHtml,
                    api_spec::Column::Tags,
                    api_spec::Column::OperationCount,
                ])
                .into_tuple()
                .one(&self.db)
                .await
                .map_err(db_err)?;
            if let Some((html, tags, count)) = stored {
                return Ok(Some(SpecView {
                    info,
                    html,
                    tags: serde_json::from_str(&tags).unwrap_or_default(),
                    tag: None,
                    operation_count: count.max(0) as usize,
                }));
            }
        }
        let key = (version, info.updated_at.timestamp_micros(), tag.clone());
        let reference = match self.spec_cache.get(&key) {
            Some(r) => r,
            None => {
                let text = Self::spec_content(&self.db, version)
                    .await?
                    .unwrap_or_default();
                let t = tag.clone();
                let r = crate::docs::pool::run("spec rendering", move || {
                    spec::parse(&text).map(|p| spec::render_reference(&p, t.as_deref()))
                })
                .await??;
                let r = Arc::new(r);
                self.spec_cache.put(key, r.clone());
                r
            }
        };
        Ok(Some(SpecView {
            info,
            html: reference.html.clone(),
            tags: reference.tags.clone(),
            tag,
            operation_count: reference.operation_count,
        }))
    }

    pub(super) async fn remove_spec(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let v = Self::find_version_row(&txn, &pkg, version).await?;
        let current = Self::spec_meta(&txn, v.id)
            .await?
            .map(SpecMeta::into_info)
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "Version \"{}\" of \"{}\" has no API spec.",
                    v.name, pkg.key
                ))
            })?;
        api_spec::Entity::delete_by_id(v.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "api_spec.delete",
                target_type: "service_version",
                target_id: v.id.to_string(),
                target_name: format!("{}/{}", pkg.key, v.name),
                before: Some(summary(&current)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }

    /// Deletes the specs of these versions (with the versions, in their transaction).
    pub(super) async fn remove_specs_of<C: ConnectionTrait>(
        db: &C,
        versions: Vec<Uuid>,
    ) -> Result<()> {
        if versions.is_empty() {
            return Ok(());
        }
        api_spec::Entity::delete_many()
            .filter(api_spec::Column::VersionId.is_in(versions))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Specs for Hub {
    async fn put_spec(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        text: String,
    ) -> Result<ApiSpecInfo> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.store_spec(actor, package, version_id, text).await
    }
    async fn spec_info(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<ApiSpecInfo>> {
        let actor = &actor.require(Permission::Read)?;
        self.stored_spec_info(actor, package, version_id).await
    }
    async fn spec_view(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        tag: Option<String>,
    ) -> Result<Option<SpecView>> {
        let _checked = actor.require(Permission::Read)?;
        let (_, v) = self.version_of(package, version_id).await?;
        self.render_spec(v.id, tag).await
    }
    async fn spec_text(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<(ApiSpecInfo, String)> {
        let actor = &actor.require(Permission::Read)?;
        self.stored_spec_text(actor, package, version_id).await
    }
    async fn delete_spec(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_spec(actor, package, version_id).await
    }
}

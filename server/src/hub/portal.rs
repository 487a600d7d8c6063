//! The Dev Portal's reads: published packages, their Published and Deprecated versions,
//! and their published pages. Whatever is not shown answers exactly as what does not
//! exist, so the portal never tells whether an unpublished thing is there. The portal
//! is public, so nothing a visitor sends makes work per request: pages' HTML is
//! rendered once per change (in the rendering pool) and kept in [`DocCache`], and a
//! spec's reference only ever filters by the spec's own tags (see `specs`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use app::error::AppError;
use app::model::*;
use app::ports::{Portal, Result};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::*;
use uuid::Uuid;

use super::{db_err, like_pattern, Hub};
use crate::store::{api_spec, document, labels_from_text, service_package, service_version};

/// The one answer for anything the portal does not show.
fn not_found() -> AppError {
    AppError::not_found("There is no page at this address.")
}

/// Portal catalog pages hold this many packages unless asked otherwise (at most 1,000).
pub const PORTAL_PAGE_SIZE: u64 = 48;

/// A page's rendered HTML by (page id, its update time in microseconds): every change
/// of a page sets a new update time, so an edited page is rendered again and its old
/// HTML dropped. Most recently used last, bounded by total HTML size.
#[derive(Default)]
pub(crate) struct DocCache {
    entries: Mutex<Vec<(DocKey, Arc<str>)>>,
}

type DocKey = (Uuid, i64);

/// At most this much rendered HTML is kept.
const DOC_CACHE_BYTES: usize = 32 * 1024 * 1024;

impl DocCache {
    fn get(&self, key: &DocKey) -> Option<Arc<str>> {
        let mut e = self.entries.lock().ok()?;
        let i = e.iter().position(|(k, _)| k == key)?;
        let hit = e.remove(i);
        let html = hit.1.clone();
        e.push(hit);
        Some(html)
    }

    fn put(&self, key: DocKey, html: Arc<str>) {
        self.put_within(key, html, DOC_CACHE_BYTES)
    }

    fn put_within(&self, key: DocKey, html: Arc<str>, bytes: usize) {
        let Ok(mut e) = self.entries.lock() else {
            return;
        };
        // Older renderings of the same page can never be asked for again.
        e.retain(|(k, _)| k.0 != key.0);
        e.push((key, html));
        let mut total: usize = e.iter().map(|(_, h)| h.len()).sum();
        while total > bytes && e.len() > 1 {
            let (_, old) = e.remove(0);
            total -= old.len();
        }
    }
}

impl Hub {
    async fn published_package(&self, key: &str) -> Result<service_package::Model> {
        service_package::Entity::find()
            .filter(service_package::Column::Key.eq(key.trim().to_lowercase()))
            .filter(service_package::Column::Published.eq(true))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(not_found)
    }

    /// Listed versions of these packages, newest first; one per name (a name used in
    /// two runtime groups shows once: the Published one, else the newest).
    async fn listed_versions(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<PortalVersion>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = service_version::Entity::find()
            .filter(service_version::Column::PackageId.is_in(ids.iter().copied()))
            .filter(service_version::Column::Status.ne(VersionStatus::Unpublished.as_str()))
            .order_by_desc(service_version::Column::CreatedAt)
            .order_by_desc(service_version::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let with_spec: HashSet<Uuid> = api_spec::Entity::find()
            .select_only()
            .column(api_spec::Column::VersionId)
            .filter(api_spec::Column::VersionId.is_in(rows.iter().map(|r| r.id)))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        let mut out: HashMap<Uuid, Vec<PortalVersion>> = HashMap::new();
        for r in rows {
            let Some(status) = VersionStatus::parse(&r.status) else {
                continue;
            };
            let list = out.entry(r.package_id).or_default();
            let v = PortalVersion {
                id: r.id,
                name: r.name,
                status,
                has_spec: with_spec.contains(&r.id),
                updated_at: r.updated_at,
            };
            match list.iter_mut().find(|x| x.name == v.name) {
                Some(x) => {
                    if x.status != VersionStatus::Published && v.status == VersionStatus::Published
                    {
                        *x = v;
                    }
                }
                None => list.push(v),
            }
        }
        Ok(out)
    }

    fn portal_dto(m: service_package::Model, versions: Vec<PortalVersion>) -> PortalPackage {
        PortalPackage {
            key: m.key,
            display_name: m.display_name,
            description: m.description,
            labels: labels_from_text(&m.labels),
            versions,
            updated_at: m.updated_at,
        }
    }

    async fn portal_dto_of(&self, m: service_package::Model) -> Result<PortalPackage> {
        let versions = self
            .listed_versions(&[m.id])
            .await?
            .remove(&m.id)
            .unwrap_or_default();
        Ok(Self::portal_dto(m, versions))
    }

    /// Published pages whose ancestors are all published, in tree order, without content.
    async fn published_pages(&self, package: Uuid) -> Result<Vec<Document>> {
        let all = self.documents(&package.to_string()).await?;
        let shown: HashMap<Uuid, bool> = all.iter().map(|d| (d.id, d.published)).collect();
        let parents: HashMap<Uuid, Option<Uuid>> =
            all.iter().map(|d| (d.id, d.parent_id)).collect();
        let visible = |d: &Document| {
            let mut at = Some(d.id);
            let mut steps = 0;
            while let Some(id) = at {
                if !shown.get(&id).copied().unwrap_or(false) || steps > 1000 {
                    return false;
                }
                at = parents.get(&id).copied().flatten();
                steps += 1;
            }
            true
        };
        Ok(all.iter().filter(|d| visible(d)).cloned().collect())
    }
}

#[async_trait::async_trait]
impl Portal for Hub {
    async fn portal_catalog(&self, query: PortalQuery) -> Result<PortalCatalog> {
        use service_package::Column as C;
        let mut select = service_package::Entity::find().filter(C::Published.eq(true));
        if let Some(q) = query.q.as_deref().filter(|s| !s.trim().is_empty()) {
            let pattern = like_pattern(q);
            select = select.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(C::DisplayName)))
                            .like(LikeExpr::new(pattern.clone()).escape('\\')),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(C::Description)))
                            .like(LikeExpr::new(pattern).escape('\\')),
                    ),
            );
        }
        let page_size = if query.page_size == 0 {
            PORTAL_PAGE_SIZE
        } else {
            query.page_size.clamp(1, 1000)
        };
        let page = query.page.max(1);
        let paginator = select.order_by_asc(C::Key).paginate(&self.db, page_size);
        let total = paginator.num_items().await.map_err(db_err)?;
        let rows = paginator.fetch_page(page - 1).await.map_err(db_err)?;
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        let mut versions = self.listed_versions(&ids).await?;
        Ok(Page {
            data: rows
                .into_iter()
                .map(|m| {
                    let v = versions.remove(&m.id).unwrap_or_default();
                    Self::portal_dto(m, v)
                })
                .collect(),
            page,
            page_size,
            total,
        })
    }

    async fn portal_package(
        &self,
        key: &str,
        version: Option<&str>,
        tag: Option<String>,
    ) -> Result<PortalPackageView> {
        let m = self.published_package(key).await?;
        let id = m.id;
        let package = self.portal_dto_of(m).await?;
        let chosen = match version {
            Some(name) => Some(
                package
                    .versions
                    .iter()
                    .find(|v| v.name == name)
                    .cloned()
                    .ok_or_else(not_found)?,
            ),
            None => package.default_version().cloned(),
        };
        let spec = match chosen.as_ref().filter(|v| v.has_spec) {
            Some(v) => self.render_spec(v.id, tag).await?,
            None => None,
        };
        Ok(PortalPackageView {
            pages: self.published_pages(id).await?,
            package,
            version: chosen,
            spec,
        })
    }

    async fn portal_document(&self, key: &str, slug: &str) -> Result<PortalDocView> {
        let m = self.published_package(key).await?;
        let id = m.id;
        let pages = self.published_pages(id).await?;
        let Some(listed) = pages.iter().find(|p| p.slug == slug.trim().to_lowercase()) else {
            return Err(not_found());
        };
        let row = document::Entity::find_by_id(listed.id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(not_found)?;
        let key = (row.id, row.updated_at.timestamp_micros());
        let html = match self.doc_cache.get(&key) {
            Some(html) => html,
            None => {
                let html: Arc<str> = crate::docs::markdown::render_off_runtime(row.content.clone())
                    .await?
                    .into();
                self.doc_cache.put(key, html.clone());
                html
            }
        };
        let html = html.to_string();
        let mut page = listed.clone();
        page.content = row.content;
        Ok(PortalDocView {
            package: self.portal_dto_of(m).await?,
            pages,
            page,
            html,
        })
    }

    async fn portal_spec_text(&self, key: &str, version: &str) -> Result<(ApiSpecInfo, String)> {
        let m = self.published_package(key).await?;
        let package = self.portal_dto_of(m).await?;
        let v = package
            .versions
            .iter()
            .find(|v| v.name == version && v.has_spec)
            .ok_or_else(not_found)?;
        self.spec_with_text(v.id).await?.ok_or_else(not_found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_cache_keeps_one_rendering_per_page_within_its_size() {
        let cache = DocCache::default();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        cache.put_within((a, 1), "a1".into(), 6);
        assert_eq!(cache.get(&(a, 1)).as_deref(), Some("a1"));
        // An edit (a new update time) replaces the old rendering.
        cache.put_within((a, 2), "a2".into(), 6);
        assert_eq!(cache.get(&(a, 1)), None);
        assert_eq!(cache.get(&(a, 2)).as_deref(), Some("a2"));
        cache.put_within((b, 1), "b1".into(), 6);
        // `a` was used last: the least recently used (`b`) goes first.
        assert!(cache.get(&(a, 2)).is_some());
        cache.put_within((c, 1), "c1c1".into(), 6);
        assert_eq!(cache.get(&(b, 1)), None);
        assert_eq!(cache.get(&(c, 1)).as_deref(), Some("c1c1"));
        assert_eq!(cache.get(&(a, 2)).as_deref(), Some("a2"));
    }
}

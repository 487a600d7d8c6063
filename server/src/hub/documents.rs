//! Documentation pages: a tree per package, Markdown content, audited changes.

use std::collections::HashMap;

use app::error::AppError;
use app::model::docs::{check_position, check_slug, check_title, slug_of};
use app::model::*;
use app::ports::{Documents, Result};
use chrono::Utc;
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::docs::markdown;
use crate::store::{document, service_package};

fn to_dto(m: document::Model) -> Document {
    Document {
        id: m.id,
        package_id: m.package_id,
        parent_id: m.parent_id,
        title: m.title,
        slug: m.slug,
        position: m.position,
        published: m.published,
        content: m.content,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn summary(m: &document::Model) -> serde_json::Value {
    json!({
        "title": m.title,
        "slug": m.slug,
        "parent_id": m.parent_id,
        "position": m.position,
        "published": m.published,
        "content_bytes": m.content.len(),
    })
}

/// Orders pages as a tree: parents before their children, siblings by position and title.
fn tree_order(rows: Vec<document::Model>) -> Vec<document::Model> {
    let mut children: HashMap<Option<Uuid>, Vec<document::Model>> = HashMap::new();
    let ids: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
    for r in rows {
        // A parent outside the package (cannot happen through the API) counts as top level.
        let parent = r.parent_id.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(r);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.position, &a.title).cmp(&(b.position, &b.title)));
    }
    let mut out = Vec::new();
    let mut stack: Vec<document::Model> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(r) = stack.pop() {
        let mut kids = children.remove(&Some(r.id)).unwrap_or_default();
        kids.reverse();
        out.push(r);
        stack.extend(kids);
    }
    out
}

impl Hub {
    async fn find_document<C: ConnectionTrait>(
        db: &C,
        package: &service_package::Model,
        id_or_slug: &str,
    ) -> Result<document::Model> {
        let q = document::Entity::find().filter(document::Column::PackageId.eq(package.id));
        let q = match Uuid::parse_str(id_or_slug.trim()) {
            Ok(id) => q.filter(document::Column::Id.eq(id)),
            Err(_) => q.filter(document::Column::Slug.eq(id_or_slug.trim().to_lowercase())),
        };
        q.one(db).await.map_err(db_err)?.ok_or_else(|| {
            AppError::not_found(format!(
                "No documentation page \"{id_or_slug}\" in \"{}\".",
                package.key
            ))
        })
    }

    async fn check_doc_slug_free<C: ConnectionTrait>(
        db: &C,
        package: Uuid,
        slug: &str,
        except: Option<Uuid>,
    ) -> Result<()> {
        let mut q = document::Entity::find()
            .filter(document::Column::PackageId.eq(package))
            .filter(document::Column::Slug.eq(slug));
        if let Some(id) = except {
            q = q.filter(document::Column::Id.ne(id));
        }
        if let Some(other) = q.one(db).await.map_err(db_err)? {
            return Err(AppError::conflict(
                Some("slug"),
                format!(
                    "The slug \"{slug}\" is already used by \"{}\".",
                    other.title
                ),
            ));
        }
        Ok(())
    }

    /// The parent must be a page of the same package, and not the page itself or one
    /// of its descendants.
    async fn check_parent<C: ConnectionTrait>(
        db: &C,
        package: Uuid,
        parent: Uuid,
        moving: Option<Uuid>,
    ) -> Result<()> {
        let rows: Vec<(Uuid, Option<Uuid>)> = document::Entity::find()
            .select_only()
            .column(document::Column::Id)
            .column(document::Column::ParentId)
            .filter(document::Column::PackageId.eq(package))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let parents: HashMap<Uuid, Option<Uuid>> = rows.into_iter().collect();
        if !parents.contains_key(&parent) {
            return Err(AppError::validation(
                "parent_id",
                format!("No page with id \"{parent}\" in this package."),
            ));
        }
        if let Some(me) = moving {
            let mut at = Some(parent);
            let mut steps = 0;
            while let Some(p) = at {
                if p == me {
                    return Err(AppError::validation(
                        "parent_id",
                        "A page cannot sit under itself or under one of its own sub-pages.",
                    ));
                }
                at = parents.get(&p).copied().flatten();
                steps += 1;
                if steps > parents.len() {
                    break;
                }
            }
        }
        Ok(())
    }

    pub(super) async fn documents(&self, package: &str) -> Result<Vec<Document>> {
        let pkg = Self::find_package_row(&self.db, package).await?;
        let rows = document::Entity::find()
            .filter(document::Column::PackageId.eq(pkg.id))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(tree_order(rows)
            .into_iter()
            .map(|mut m| {
                m.content = String::new();
                to_dto(m)
            })
            .collect())
    }

    pub(super) async fn document(
        &self,
        _: &Authorized<'_>,
        package: &str,
        id_or_slug: &str,
    ) -> Result<Document> {
        let pkg = Self::find_package_row(&self.db, package).await?;
        Ok(to_dto(
            Self::find_document(&self.db, &pkg, id_or_slug).await?,
        ))
    }

    pub(super) async fn insert_document(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        input: NewDocument,
    ) -> Result<Document> {
        let mut created = self.insert_documents(actor, package, vec![input]).await?;
        created.pop().ok_or_else(AppError::internal)
    }

    /// Creates pages in one transaction: all of them, or (on any error) none.
    pub(super) async fn insert_documents(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        inputs: Vec<NewDocument>,
    ) -> Result<Vec<Document>> {
        let mut checked = Vec::with_capacity(inputs.len());
        for input in inputs {
            let title = input.title.trim().to_string();
            check_title("title", &title)?;
            let slug = match input
                .slug
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(s) => s.to_string(),
                None => slug_of(&title),
            };
            check_slug("slug", &slug)?;
            markdown::check_size("content", &input.content)?;
            if let Some(p) = input.position {
                check_position("position", p)?;
            }
            checked.push((title, slug, input));
        }
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let mut out = Vec::with_capacity(checked.len());
        for (title, slug, input) in checked {
            Self::check_doc_slug_free(&txn, pkg.id, &slug, None).await?;
            if let Some(parent) = input.parent_id {
                Self::check_parent(&txn, pkg.id, parent, None).await?;
            }
            let position = match input.position {
                Some(p) => p,
                None => {
                    let last: Option<i32> = document::Entity::find()
                        .select_only()
                        .column_as(document::Column::Position.max(), "m")
                        .filter(document::Column::PackageId.eq(pkg.id))
                        .filter(match input.parent_id {
                            Some(p) => document::Column::ParentId.eq(p),
                            None => document::Column::ParentId.is_null(),
                        })
                        .into_tuple::<Option<i32>>()
                        .one(&txn)
                        .await
                        .map_err(db_err)?
                        .flatten();
                    last.map_or(0, |l| (l + 1).min(app::model::docs::DOC_POSITION_MAX))
                }
            };
            let now = Utc::now();
            let m = document::ActiveModel {
                id: Set(Uuid::new_v4()),
                package_id: Set(pkg.id),
                parent_id: Set(input.parent_id),
                title: Set(title),
                slug: Set(slug),
                position: Set(position),
                published: Set(input.published),
                content: Set(input.content),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(db_err)?;
            audit::record(
                &txn,
                actor,
                Change {
                    action: "document.create",
                    target_type: "document",
                    target_id: m.id.to_string(),
                    target_name: format!("{}/{}", pkg.key, m.slug),
                    before: None,
                    after: Some(summary(&m)),
                },
            )
            .await?;
            out.push(to_dto(m));
        }
        Self::touch_package(&txn, pkg.id).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(out)
    }

    pub(super) async fn patch_document(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        id_or_slug: &str,
        patch: DocumentPatch,
    ) -> Result<Document> {
        if let Some(t) = &patch.title {
            check_title("title", t)?;
        }
        if let Some(s) = &patch.slug {
            check_slug("slug", s.trim())?;
        }
        if let Some(c) = &patch.content {
            markdown::check_size("content", c)?;
        }
        if let Some(p) = patch.position {
            check_position("position", p)?;
        }
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let current = Self::find_document(&txn, &pkg, id_or_slug).await?;
        let mut row: document::ActiveModel = current.clone().into();
        if let Some(t) = patch.title {
            row.title = Set(t.trim().to_string());
        }
        if let Some(s) = patch.slug.map(|s| s.trim().to_string()) {
            if s != current.slug {
                Self::check_doc_slug_free(&txn, pkg.id, &s, Some(current.id)).await?;
            }
            row.slug = Set(s);
        }
        if let Some(parent) = patch.parent_id {
            if let Some(p) = parent {
                Self::check_parent(&txn, pkg.id, p, Some(current.id)).await?;
            }
            row.parent_id = Set(parent);
        }
        if let Some(p) = patch.position {
            row.position = Set(p);
        }
        if let Some(p) = patch.published {
            row.published = Set(p);
        }
        if let Some(c) = patch.content {
            row.content = Set(c);
        }
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "document.update",
                target_type: "document",
                target_id: m.id.to_string(),
                target_name: format!("{}/{}", pkg.key, m.slug),
                before: Some(summary(&current)),
                after: Some(summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(to_dto(m))
    }

    pub(super) async fn remove_document(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        id_or_slug: &str,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let current = Self::find_document(&txn, &pkg, id_or_slug).await?;
        let kids: Vec<String> = document::Entity::find()
            .select_only()
            .column(document::Column::Title)
            .filter(document::Column::ParentId.eq(current.id))
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_err)?;
        if !kids.is_empty() {
            return Err(AppError::conflict(
                None,
                format!(
                    "\"{}\" has sub-pages ({}); move or delete them first.",
                    current.title,
                    kids.join(", ")
                ),
            ));
        }
        document::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "document.delete",
                target_type: "document",
                target_id: current.id.to_string(),
                target_name: format!("{}/{}", pkg.key, current.slug),
                before: Some(summary(&current)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }

    /// Deletes every page of a package (inside the package's own deletion).
    pub(super) async fn remove_documents_of<C: ConnectionTrait>(
        db: &C,
        package: Uuid,
    ) -> Result<()> {
        document::Entity::delete_many()
            .filter(document::Column::PackageId.eq(package))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Documents for Hub {
    async fn list_documents(&self, actor: &Actor, package: &str) -> Result<Vec<Document>> {
        let _checked = actor.require(Permission::Read)?;
        self.documents(package).await
    }
    async fn get_document(&self, actor: &Actor, package: &str, document: &str) -> Result<Document> {
        let actor = &actor.require(Permission::Read)?;
        self.document(actor, package, document).await
    }
    async fn create_document(
        &self,
        actor: &Actor,
        package: &str,
        input: NewDocument,
    ) -> Result<Document> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_document(actor, package, input).await
    }
    async fn create_documents(
        &self,
        actor: &Actor,
        package: &str,
        inputs: Vec<NewDocument>,
    ) -> Result<Vec<Document>> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_documents(actor, package, inputs).await
    }
    async fn update_document(
        &self,
        actor: &Actor,
        package: &str,
        document: &str,
        patch: DocumentPatch,
    ) -> Result<Document> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.patch_document(actor, package, document, patch).await
    }
    async fn render_markdown(&self, markdown: String) -> Result<String> {
        markdown::render_off_runtime(markdown).await
    }
    async fn delete_document(&self, actor: &Actor, package: &str, document: &str) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_document(actor, package, document).await
    }
}

//! The read side of analytics: queries, tiles, saved reports.
//!
//! Reads need `Read`. Saved reports are shared: everyone who may read sees them and
//! may save new ones; a report is changed or deleted by its creator or by a
//! Maintainer or Admin (`EditCatalog`). Report changes are audited
//! (`analytics_report.create`, `.update`, `.delete`).

use app::error::AppError;
use app::model::*;
use app::ports::{Analytics, Result};
use chrono::{DateTime, Utc};
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::analytics::query;
use crate::store::analytics_report;

fn report_dto(m: analytics_report::Model) -> Result<Report> {
    let query: AnalyticsQuery = serde_json::from_str(&m.query).map_err(|e| {
        tracing::error!(report = %m.id, error = %e, "a saved analytics report holds an unreadable query");
        AppError::internal()
    })?;
    Ok(Report {
        id: m.id,
        name: m.name,
        description: m.description,
        chart: ChartType::parse(&m.chart).unwrap_or_default(),
        query,
        created_by: m.created_by_email,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn summary_of(r: &analytics_report::Model) -> serde_json::Value {
    json!({ "name": r.name, "description": r.description, "chart": r.chart, "query": r.query })
}

impl Hub {
    /// [`Analytics::query`] at a given `now` (tests and benchmarks pin the clock).
    pub async fn analytics_query_at(
        &self,
        actor: &Actor,
        q: AnalyticsQuery,
        now: DateTime<Utc>,
    ) -> Result<AnalyticsResult> {
        let _checked = actor.require(Permission::Read)?;
        q.validate()?;
        query::run(&self.db, &q, now).await
    }

    /// [`Analytics::summary`] at a given `now`.
    pub async fn analytics_summary_at(
        &self,
        actor: &Actor,
        filters: Filters,
        frame: TimeFrame,
        now: DateTime<Utc>,
    ) -> Result<Summary> {
        let _checked = actor.require(Permission::Read)?;
        query::summary(&self.db, &filters, frame, now).await
    }

    /// [`Analytics::package_totals`] at a given `now`.
    pub async fn package_totals_at(
        &self,
        actor: &Actor,
        packages: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Totals)>> {
        let _checked = actor.require(Permission::Read)?;
        query::package_totals(&self.db, packages, now).await
    }

    async fn report_row<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<analytics_report::Model> {
        analytics_report::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No saved report with id \"{id}\".")))
    }

    /// Refuses unless the actor made the report or may edit the catalog.
    fn may_change(actor: &Actor, r: &analytics_report::Model) -> Result<()> {
        if actor.can(Permission::EditCatalog)
            || r.created_by_email.eq_ignore_ascii_case(&actor.email)
        {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "Only its creator ({}) or a Maintainer or Admin can change this report.",
                r.created_by_email
            )))
        }
    }
}

/// Checks a report input and returns its trimmed name.
fn checked(input: &ReportInput) -> Result<String> {
    input.validate()?;
    query::parse_zone(input.query.time_zone.as_deref())
        .map_err(|_| AppError::validation("query.time_zone", "Unknown time zone."))?;
    Ok(input.name.trim().to_string())
}

fn query_text(q: &AnalyticsQuery) -> Result<String> {
    serde_json::to_string(q).map_err(|e| {
        tracing::error!(error = %e, "serializing an analytics query");
        AppError::internal()
    })
}

#[async_trait::async_trait]
impl Analytics for Hub {
    async fn query(&self, actor: &Actor, q: AnalyticsQuery) -> Result<AnalyticsResult> {
        self.analytics_query_at(actor, q, Utc::now()).await
    }

    async fn summary(&self, actor: &Actor, filters: Filters, frame: TimeFrame) -> Result<Summary> {
        self.analytics_summary_at(actor, filters, frame, Utc::now())
            .await
    }

    async fn package_totals(
        &self,
        actor: &Actor,
        packages: Vec<Uuid>,
    ) -> Result<Vec<(Uuid, Totals)>> {
        self.package_totals_at(actor, &packages, Utc::now()).await
    }

    async fn list_reports(&self, actor: &Actor) -> Result<Vec<Report>> {
        let _checked = actor.require(Permission::Read)?;
        let mut out = analytics_report::Entity::find()
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(report_dto)
            .collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.created_at.cmp(&b.created_at))
        });
        Ok(out)
    }

    async fn get_report(&self, actor: &Actor, id: Uuid) -> Result<Report> {
        let _checked = actor.require(Permission::Read)?;
        report_dto(Self::report_row(&self.db, id).await?)
    }

    async fn create_report(&self, actor: &Actor, input: ReportInput) -> Result<Report> {
        let actor = &actor.require(Permission::Read)?;
        let name = checked(&input)?;
        let now = Utc::now();
        let m = analytics_report::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(name),
            description: Set(input.description.trim().to_string()),
            chart: Set(input.chart.as_str().to_string()),
            query: Set(query_text(&input.query)?),
            created_by_email: Set(actor.email.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let (_writing, txn) = self.write_txn().await?;
        let m = m.insert(&txn).await.map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "analytics_report.create",
                target_type: "analytics_report",
                target_id: m.id.to_string(),
                target_name: m.name.clone(),
                before: None,
                after: Some(summary_of(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        report_dto(m)
    }

    async fn update_report(&self, actor: &Actor, id: Uuid, input: ReportInput) -> Result<Report> {
        let actor = &actor.require(Permission::Read)?;
        let name = checked(&input)?;
        let (_writing, txn) = self.write_txn().await?;
        let before = Self::report_row(&txn, id).await?;
        Self::may_change(actor, &before)?;
        let mut am: analytics_report::ActiveModel = before.clone().into();
        am.name = Set(name);
        am.description = Set(input.description.trim().to_string());
        am.chart = Set(input.chart.as_str().to_string());
        am.query = Set(query_text(&input.query)?);
        am.updated_at = Set(Utc::now());
        let m = am.update(&txn).await.map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "analytics_report.update",
                target_type: "analytics_report",
                target_id: m.id.to_string(),
                target_name: m.name.clone(),
                before: Some(summary_of(&before)),
                after: Some(summary_of(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        report_dto(m)
    }

    async fn delete_report(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::Read)?;
        let (_writing, txn) = self.write_txn().await?;
        let before = Self::report_row(&txn, id).await?;
        Self::may_change(actor, &before)?;
        analytics_report::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "analytics_report.delete",
                target_type: "analytics_report",
                target_id: id.to_string(),
                target_name: before.name.clone(),
                before: Some(summary_of(&before)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }
}

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::*;

#[server(prefix = "/rpc", endpoint = "runtime-groups/list")]
pub async fn list_runtime_groups() -> Result<Vec<RuntimeGroup>, AppError> {
    crate::ports::catalog()?.list_runtime_groups().await
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/detail")]
pub async fn load_runtime_group(id: String) -> Result<RuntimeGroupDetail, AppError> {
    crate::ports::catalog()?.runtime_group_detail(&id).await
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/create")]
pub async fn create_runtime_group(
    name: String,
    description: Option<String>,
    labels: Option<String>,
) -> Result<RuntimeGroup, AppError> {
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let group = crate::ports::catalog()?
        .create_runtime_group(NewRuntimeGroup {
            name,
            description: description.unwrap_or_default(),
            labels,
        })
        .await?;
    super::redirect(&format!("/runtime-groups/{}", group.id));
    Ok(group)
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/update")]
pub async fn update_runtime_group(
    id: String,
    name: String,
    description: Option<String>,
    labels: Option<String>,
) -> Result<RuntimeGroup, AppError> {
    let id = super::parse_id("id", &id)?;
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let group = crate::ports::catalog()?
        .update_runtime_group(
            id,
            RuntimeGroupPatch {
                name: Some(name),
                description: Some(description.unwrap_or_default()),
                labels: Some(labels),
            },
        )
        .await?;
    super::redirect(&format!("/runtime-groups/{}", group.id));
    Ok(group)
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/delete")]
pub async fn delete_runtime_group(id: String) -> Result<(), AppError> {
    let id = super::parse_id("id", &id)?;
    crate::ports::catalog()?.delete_runtime_group(id).await?;
    super::redirect("/runtime-groups");
    Ok(())
}

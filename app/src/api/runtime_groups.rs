use leptos::prelude::*;

use crate::error::AppError;
use crate::model::*;

#[server(prefix = "/rpc", endpoint = "runtime-groups/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_runtime_groups() -> Result<Vec<RuntimeGroup>, AppError> {
    let actor = crate::ports::actor()?;
    crate::ports::catalog()?.list_runtime_groups(&actor).await
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/detail", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_runtime_group(id: String) -> Result<RuntimeGroupDetail, AppError> {
    let actor = crate::ports::actor()?;
    crate::ports::catalog()?
        .runtime_group_detail(&actor, &id)
        .await
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/create")]
pub async fn create_runtime_group(
    name: String,
    description: Option<String>,
    labels: Option<String>,
    proxy_listen: Option<String>,
) -> Result<RuntimeGroup, AppError> {
    let actor = crate::ports::actor()?;
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let group = crate::ports::catalog()?
        .create_runtime_group(
            &actor,
            NewRuntimeGroup {
                name,
                description: description.unwrap_or_default(),
                labels,
                proxy_listen,
            },
        )
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
    proxy_listen: Option<String>,
) -> Result<RuntimeGroup, AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let group = crate::ports::catalog()?
        .update_runtime_group(
            &actor,
            id,
            RuntimeGroupPatch {
                name: Some(name),
                description: Some(description.unwrap_or_default()),
                labels: Some(labels),
                proxy_listen: Some(proxy_listen.unwrap_or_default()),
            },
        )
        .await?;
    super::redirect(&format!("/runtime-groups/{}", group.id));
    Ok(group)
}

#[server(prefix = "/rpc", endpoint = "runtime-groups/delete")]
pub async fn delete_runtime_group(id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    crate::ports::catalog()?
        .delete_runtime_group(&actor, id)
        .await?;
    super::redirect("/runtime-groups");
    Ok(())
}

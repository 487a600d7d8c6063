//! Consumers of a runtime group, their key-auth credentials and ACL groups. A key is
//! shown once: a form posted without JavaScript is answered with a redirect, and the
//! key travels to that next page in a short-lived HttpOnly cookie (never in a URL),
//! which the page takes and clears.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

/// The Consumers page of a runtime group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumersPanel {
    pub group: RuntimeGroup,
    pub consumers: Vec<Consumer>,
}

/// A consumer's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerPanel {
    pub group: RuntimeGroup,
    pub consumer: Consumer,
    pub keys: Vec<KeyAuthCredential>,
    pub acls: Vec<AclGroup>,
    /// The key just created (by the last post), shown this once.
    pub new_key: Option<String>,
}

/// A key just created travels to the next page in this cookie, tied to its consumer:
/// `<consumer id>.<key, base64url>`.
#[cfg(feature = "ssr")]
const NEW_KEY_COOKIE: &str = "portico_new_key";

#[cfg(feature = "ssr")]
fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(feature = "ssr")]
fn consumer_page(c: &Consumer, anchor: &str) -> String {
    format!(
        "/runtime-groups/{}/consumers/{}{anchor}",
        c.runtime_group.id, c.id
    )
}

#[cfg(feature = "ssr")]
fn consumer_input(
    username: Option<String>,
    custom_id: Option<String>,
    tags: Option<String>,
) -> ConsumerInput {
    ConsumerInput {
        username: text(username),
        custom_id: text(custom_id),
        tags: Some(super::gateway_forms::split_words(
            tags.as_deref().unwrap_or(""),
        )),
    }
}

#[server(prefix = "/rpc", endpoint = "consumers/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_consumers(group: String) -> Result<ConsumersPanel, AppError> {
    let actor = crate::ports::actor()?;
    let group = crate::ports::catalog()?
        .get_runtime_group(&actor, &group)
        .await?;
    let consumers = crate::ports::gateways()?
        .list_consumers(&actor, &group.id.to_string())
        .await?;
    Ok(ConsumersPanel { group, consumers })
}

#[server(prefix = "/rpc", endpoint = "consumers/detail", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_consumer(group: String, consumer: String) -> Result<ConsumerPanel, AppError> {
    use base64::Engine;
    let actor = crate::ports::actor()?;
    let group = crate::ports::catalog()?
        .get_runtime_group(&actor, &group)
        .await?;
    let gid = group.id.to_string();
    let gateways = crate::ports::gateways()?;
    let consumer = gateways.get_consumer(&actor, &gid, &consumer).await?;
    let cid = consumer.id.to_string();
    let keys = gateways.list_keys(&actor, &gid, &cid).await?;
    let acls = gateways.list_acls(&actor, &gid, &cid).await?;
    // Only the consumer the key belongs to shows it (and takes it).
    let mut new_key = None;
    if let Some(flash) = super::auth::own_request_cookie(NEW_KEY_COOKIE) {
        if let Some((owner, key)) = flash.split_once('.') {
            if owner == cid {
                new_key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(key.as_bytes())
                    .ok()
                    .and_then(|k| String::from_utf8(k).ok());
                super::set_cookie(&super::own_cookie(
                    NEW_KEY_COOKIE,
                    None,
                    "Strict",
                    None,
                    super::auth::request_is_https(),
                ));
            }
        }
    }
    Ok(ConsumerPanel {
        group,
        consumer,
        keys,
        acls,
        new_key,
    })
}

#[server(prefix = "/rpc", endpoint = "consumers/create")]
pub async fn create_consumer(
    group: String,
    username: Option<String>,
    custom_id: Option<String>,
    tags: Option<String>,
) -> Result<Consumer, AppError> {
    let actor = crate::ports::actor()?;
    let created = crate::ports::gateways()?
        .create_consumer(&actor, &group, consumer_input(username, custom_id, tags))
        .await?;
    super::redirect(&consumer_page(&created, ""));
    Ok(created)
}

#[server(prefix = "/rpc", endpoint = "consumers/update")]
pub async fn update_consumer(
    group: String,
    consumer: String,
    username: Option<String>,
    custom_id: Option<String>,
    tags: Option<String>,
) -> Result<Consumer, AppError> {
    let actor = crate::ports::actor()?;
    let saved = crate::ports::gateways()?
        .update_consumer(
            &actor,
            &group,
            &consumer,
            consumer_input(username, custom_id, tags),
        )
        .await?;
    super::redirect(&consumer_page(&saved, ""));
    Ok(saved)
}

#[server(prefix = "/rpc", endpoint = "consumers/delete")]
pub async fn delete_consumer(group: String, consumer: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let gateways = crate::ports::gateways()?;
    let c = gateways.get_consumer(&actor, &group, &consumer).await?;
    gateways.delete_consumer(&actor, &group, &consumer).await?;
    super::redirect(&format!("/runtime-groups/{}/consumers", c.runtime_group.id));
    Ok(())
}

/// Creates a key-auth credential (a generated key unless `secret_key` is given; the
/// field's name keeps it out of the URL a refused post goes back to). The answer holds
/// no key: the next page shows it, once.
#[server(prefix = "/rpc", endpoint = "consumers/keys/create")]
pub async fn create_key(
    group: String,
    consumer: String,
    secret_key: Option<String>,
    ttl: Option<String>,
) -> Result<KeyAuthCredential, AppError> {
    use base64::Engine;
    let actor = crate::ports::actor()?;
    let ttl = match text(ttl) {
        Some(t) => Some(t.parse::<u64>().map_err(|_| {
            AppError::validation(
                "ttl",
                format!("The time to live is a whole number of seconds, not \"{t}\"."),
            )
        })?),
        None => None,
    };
    let gateways = crate::ports::gateways()?;
    let c = gateways.get_consumer(&actor, &group, &consumer).await?;
    let created = gateways
        .create_key(
            &actor,
            &group,
            &consumer,
            NewKeyAuthCredential {
                key: text(secret_key),
                ttl,
                tags: None,
            },
        )
        .await
        .map_err(|e| match e {
            AppError::Validation { field, message, .. } if field == "key" => {
                AppError::validation("secret_key", message)
            }
            other => other,
        })?;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(created.key.as_bytes());
    super::set_cookie(&super::own_cookie(
        NEW_KEY_COOKIE,
        Some(&format!("{}.{key}", c.id)),
        "Strict",
        Some(120),
        super::auth::request_is_https(),
    ));
    super::redirect(&consumer_page(&c, "#keys"));
    Ok(created.credential)
}

#[server(prefix = "/rpc", endpoint = "consumers/keys/delete")]
pub async fn delete_key(group: String, consumer: String, key_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("key_id", &key_id)?;
    let gateways = crate::ports::gateways()?;
    let c = gateways.get_consumer(&actor, &group, &consumer).await?;
    gateways.delete_key(&actor, &group, &consumer, id).await?;
    super::redirect(&consumer_page(&c, "#keys"));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "consumers/acls/add")]
pub async fn add_acl(
    group: String,
    consumer: String,
    acl_group: String,
) -> Result<AclGroup, AppError> {
    let actor = crate::ports::actor()?;
    let gateways = crate::ports::gateways()?;
    let c = gateways.get_consumer(&actor, &group, &consumer).await?;
    let added = gateways
        .add_acl(
            &actor,
            &group,
            &consumer,
            NewAclGroup {
                group: acl_group.trim().to_string(),
                tags: None,
            },
        )
        .await
        .map_err(|e| match e {
            AppError::Validation { field, message, .. } if field == "group" => {
                AppError::validation("acl_group", message)
            }
            other => other,
        })?;
    super::redirect(&consumer_page(&c, "#acls"));
    Ok(added)
}

#[server(prefix = "/rpc", endpoint = "consumers/acls/delete")]
pub async fn delete_acl(group: String, consumer: String, acl_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("acl_id", &acl_id)?;
    let gateways = crate::ports::gateways()?;
    let c = gateways.get_consumer(&actor, &group, &consumer).await?;
    gateways.delete_acl(&actor, &group, &consumer, id).await?;
    super::redirect(&consumer_page(&c, "#acls"));
    Ok(())
}

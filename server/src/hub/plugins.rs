//! Plugins and consumers of runtime groups: `impl Plugins for Hub` and
//! `impl Consumers for Hub`. (Placeholder until the store lands: every call answers
//! that the feature is not there yet.)

use app::error::AppError;
use app::model::*;
use app::ports::{Consumers, Plugins, Result};
use uuid::Uuid;

use super::Hub;

fn missing<T>() -> Result<T> {
    Err(AppError::not_found("Plugins are not available yet."))
}

#[async_trait::async_trait]
impl Plugins for Hub {
    async fn list_plugins(&self, _actor: &Actor, _scope: PluginScope) -> Result<Vec<Plugin>> {
        missing()
    }
    async fn create_plugin(
        &self,
        _actor: &Actor,
        _scope: PluginScope,
        _input: PluginInput,
    ) -> Result<Plugin> {
        missing()
    }
    async fn get_plugin(&self, _actor: &Actor, _id: Uuid) -> Result<Plugin> {
        missing()
    }
    async fn replace_plugin(
        &self,
        _actor: &Actor,
        _id: Uuid,
        _input: PluginInput,
    ) -> Result<Plugin> {
        missing()
    }
    async fn patch_plugin(&self, _actor: &Actor, _id: Uuid, _patch: PluginPatch) -> Result<Plugin> {
        missing()
    }
    async fn delete_plugin(&self, _actor: &Actor, _id: Uuid) -> Result<()> {
        missing()
    }
    async fn applied_plugins(
        &self,
        _actor: &Actor,
        _package: &str,
        _version_id: Uuid,
        _route_id: Option<Uuid>,
    ) -> Result<Vec<AppliedPlugin>> {
        missing()
    }
}

#[async_trait::async_trait]
impl Consumers for Hub {
    async fn list_consumers(&self, _actor: &Actor, _group: &str) -> Result<Vec<Consumer>> {
        missing()
    }
    async fn get_consumer(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
    ) -> Result<Consumer> {
        missing()
    }
    async fn create_consumer(
        &self,
        _actor: &Actor,
        _group: &str,
        _input: ConsumerInput,
    ) -> Result<Consumer> {
        missing()
    }
    async fn update_consumer(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
        _input: ConsumerInput,
    ) -> Result<Consumer> {
        missing()
    }
    async fn delete_consumer(&self, _actor: &Actor, _group: &str, _consumer: &str) -> Result<()> {
        missing()
    }
    async fn list_keys(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
    ) -> Result<Vec<KeyAuthCredential>> {
        missing()
    }
    async fn create_key(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
        _input: NewKeyAuthCredential,
    ) -> Result<CreatedKeyAuthCredential> {
        missing()
    }
    async fn delete_key(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
        _id: Uuid,
    ) -> Result<()> {
        missing()
    }
    async fn list_acls(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
    ) -> Result<Vec<AclGroup>> {
        missing()
    }
    async fn add_acl(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
        _input: NewAclGroup,
    ) -> Result<AclGroup> {
        missing()
    }
    async fn delete_acl(
        &self,
        _actor: &Actor,
        _group: &str,
        _consumer: &str,
        _id: Uuid,
    ) -> Result<()> {
        missing()
    }
}

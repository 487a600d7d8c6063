//! `key-auth` (priority 1250), as Kong 3.x's `kong/plugins/key-auth/handler.lua`:
//! the key is looked for under each of `key_names`, in the headers, then the query
//! string, then (with `key_in_body`) the body's fields (a JSON object or a URL-encoded
//! form of at most 1 MiB with a `Content-Length`; multipart is not read); the first
//! found decides.
//!
//! - no key: 401 `{"message":"No API key found in request"}`; a key given twice:
//!   401 `Duplicate API key found`; an unknown or expired key: 401 `Unauthorized`;
//!   all with `WWW-Authenticate: Key` (`Key realm="<realm>"` with a realm);
//! - with `anonymous`, a failed authentication goes on as that consumer (id or
//!   username) with `X-Anonymous-Consumer: true`; an `anonymous` that names no consumer
//!   is a 500, as in Kong;
//! - success: the upstream gets `X-Consumer-ID`, `X-Consumer-Custom-ID`,
//!   `X-Consumer-Username`, `X-Credential-Identifier`, each set or removed (so a client
//!   cannot send its own), and not `X-Anonymous-Consumer`;
//! - `hide_credentials`: the key's header, query argument and body field are not sent
//!   upstream;
//! - `run_on_preflight: false`: `OPTIONS` requests pass without a key.
//!
//! The key is compared as a SHA-256 hash; it is never logged.

use std::sync::Arc;

use hyper::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use portico_plugins::config;

use super::consumers::{Consumer, Consumers};
use super::fields::Fields;
use super::{value, Access, Answer};
use crate::gateway::log::ErrorKind;

static X_CONSUMER_ID: HeaderName = HeaderName::from_static("x-consumer-id");
static X_CONSUMER_CUSTOM_ID: HeaderName = HeaderName::from_static("x-consumer-custom-id");
static X_CONSUMER_USERNAME: HeaderName = HeaderName::from_static("x-consumer-username");
static X_CREDENTIAL_IDENTIFIER: HeaderName = HeaderName::from_static("x-credential-identifier");
static X_ANONYMOUS_CONSUMER: HeaderName = HeaderName::from_static("x-anonymous-consumer");

const ERR_NO_API_KEY: &str = "No API key found in request";
const ERR_DUPLICATE: &str = "Duplicate API key found";
const ERR_INVALID: &str = "Unauthorized";

pub(crate) struct KeyAuth {
    cfg: config::KeyAuth,
    /// Header names to look in (the name, and with `_` as `-`, as nginx does).
    headers: Vec<Vec<HeaderName>>,
    www_authenticate: HeaderValue,
    consumers: Arc<Consumers>,
}

/// Where a key was found.
enum Found {
    None,
    Duplicate,
    Key { name_index: usize, key: Vec<u8> },
}

impl KeyAuth {
    pub(crate) fn compile(cfg: config::KeyAuth, consumers: &Arc<Consumers>) -> KeyAuth {
        let headers = cfg
            .key_names
            .iter()
            .map(|n| {
                let mut v: Vec<HeaderName> = Vec::new();
                for cand in [
                    n.to_ascii_lowercase(),
                    n.to_ascii_lowercase().replace('_', "-"),
                ] {
                    if let Ok(h) = HeaderName::from_bytes(cand.as_bytes()) {
                        if !v.contains(&h) {
                            v.push(h);
                        }
                    }
                }
                v
            })
            .collect();
        let www_authenticate = match &cfg.realm {
            Some(r) => value(&format!("Key realm=\"{r}\""))
                .unwrap_or_else(|| HeaderValue::from_static("Key")),
            None => HeaderValue::from_static("Key"),
        };
        KeyAuth {
            cfg,
            headers,
            www_authenticate,
            consumers: consumers.clone(),
        }
    }

    fn unauthorized(&self, message: &str) -> Answer {
        Answer::error(StatusCode::UNAUTHORIZED, ErrorKind::Unauthorized, message)
            .with_header(WWW_AUTHENTICATE, self.www_authenticate.clone())
    }

    fn find(&self, cx: &Access<'_>, body: Option<&Fields>) -> Found {
        for (i, name) in self.cfg.key_names.iter().enumerate() {
            if self.cfg.key_in_header {
                for h in &self.headers[i] {
                    let mut all = cx.parts.headers.get_all(h).iter();
                    if let Some(v) = all.next() {
                        if all.next().is_some() {
                            return Found::Duplicate;
                        }
                        return Found::Key {
                            name_index: i,
                            key: v.as_bytes().to_vec(),
                        };
                    }
                }
            }
            if self.cfg.key_in_query {
                if let Some(q) = cx.parts.uri.query() {
                    let mut found: Option<Vec<u8>> = None;
                    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                        if k == name.as_str() {
                            if found.is_some() {
                                return Found::Duplicate;
                            }
                            found = Some(v.as_bytes().to_vec());
                        }
                    }
                    if let Some(key) = found {
                        return Found::Key { name_index: i, key };
                    }
                }
            }
            match body {
                Some(Fields::Json(m)) => match m.get(name) {
                    Some(serde_json::Value::String(v)) => {
                        return Found::Key {
                            name_index: i,
                            key: v.as_bytes().to_vec(),
                        }
                    }
                    Some(serde_json::Value::Array(_)) => return Found::Duplicate,
                    _ => {}
                },
                Some(Fields::Form(pairs)) => {
                    let mut values = pairs.iter().filter(|(k, _)| k == name);
                    if let Some((_, v)) = values.next() {
                        if values.next().is_some() {
                            return Found::Duplicate;
                        }
                        return Found::Key {
                            name_index: i,
                            key: v.as_bytes().to_vec(),
                        };
                    }
                }
                None => {}
            }
        }
        Found::None
    }

    /// Remove the key from what goes upstream.
    fn hide(&self, cx: &mut Access<'_>, name_index: usize, body: Option<Fields>) {
        for h in &self.headers[name_index] {
            cx.parts.headers.remove(h);
        }
        let name = &self.cfg.key_names[name_index];
        if let Some(q) = cx.query() {
            if url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == name.as_str()) {
                let kept: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(
                        url::form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| k != name),
                    )
                    .finish();
                cx.set_query(Some(&kept));
            }
        }
        match body {
            Some(Fields::Json(m)) if m.contains_key(name) => {
                let mut m = m;
                m.remove(name);
                cx.set_fields(&Fields::Json(m));
            }
            Some(Fields::Form(mut pairs)) => {
                let before = pairs.len();
                pairs.retain(|(k, _)| k != name);
                if pairs.len() != before {
                    cx.set_fields(&Fields::Form(pairs));
                }
            }
            _ => {}
        }
    }

    async fn authenticate(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        let body = if self.cfg.key_in_body {
            cx.fields().await?
        } else {
            None
        };
        let (name_index, key) = match self.find(cx, body.as_ref()) {
            Found::None => return Err(self.unauthorized(ERR_NO_API_KEY)),
            Found::Duplicate => return Err(self.unauthorized(ERR_DUPLICATE)),
            Found::Key { key, .. } if key.is_empty() => {
                return Err(self.unauthorized(ERR_NO_API_KEY))
            }
            Found::Key { name_index, key } => (name_index, key),
        };
        if self.cfg.hide_credentials {
            self.hide(cx, name_index, body);
        }
        let now = chrono::Utc::now().timestamp();
        let Some(cred) = self.consumers.key(&key, now) else {
            return Err(self.unauthorized(ERR_INVALID));
        };
        let (consumer, id) = (cred.consumer.clone(), cred.id.clone());
        set_consumer(cx, consumer, Some(id));
        Ok(())
    }

    pub(crate) async fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        if !self.cfg.run_on_preflight && cx.parts.method == Method::OPTIONS {
            return Ok(());
        }
        match &self.cfg.anonymous {
            // Kong's "logical OR": already authenticated, or fall back to anonymous
            Some(anonymous) => {
                if cx.state.credential.is_some() {
                    return Ok(());
                }
                if self.authenticate(cx).await.is_err() {
                    let Some(c) = self.consumers.find(anonymous) else {
                        let message = format!(
                            "anonymous consumer {anonymous} is configured but doesn't exist"
                        );
                        tracing::error!("key-auth: {message}");
                        return Err(Answer::error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            ErrorKind::PluginError,
                            &message,
                        ));
                    };
                    set_consumer(cx, c, None);
                }
                Ok(())
            }
            None => self.authenticate(cx).await,
        }
    }
}

/// Kong's `set_consumer`: the consumer for the later plugins and the log, and its
/// headers upstream (set, or removed when the consumer has no such field).
fn set_consumer(cx: &mut Access<'_>, consumer: Arc<Consumer>, credential: Option<Arc<str>>) {
    let h = &mut cx.parts.headers;
    let mut set = |name: &HeaderName, v: Option<&str>| match v.and_then(value) {
        Some(v) => {
            h.insert(name.clone(), v);
        }
        None => {
            h.remove(name);
        }
    };
    set(&X_CONSUMER_ID, Some(&consumer.id));
    set(&X_CONSUMER_CUSTOM_ID, consumer.custom_id.as_deref());
    set(&X_CONSUMER_USERNAME, consumer.username.as_deref());
    set(&X_CREDENTIAL_IDENTIFIER, credential.as_deref());
    set(
        &X_ANONYMOUS_CONSUMER,
        credential.is_none().then_some("true"),
    );
    cx.state.consumer = Some(consumer);
    cx.state.credential = credential;
}

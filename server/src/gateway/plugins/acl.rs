//! `acl` (priority 950), as Kong 3.x's `kong/plugins/acl/handler.lua`: the consumer an
//! auth plugin identified must be in one of the `allow` groups (or in none of the
//! `deny` groups).
//!
//! - no consumer: 401 `{"message":"Unauthorized"}`;
//! - blocked: 403 `{"message":"You cannot consume this service"}`; a consumer without
//!   any group is blocked by `allow` (403, or 401 for the anonymous consumer) and
//!   passes `deny`;
//! - allowed: the upstream gets `X-Consumer-Groups: g1, g2` unless
//!   `hide_groups_header`. Portico also removes a client-sent `X-Consumer-Groups`
//!   (Kong lets it through when the header is hidden).

use hyper::header::HeaderName;
use hyper::StatusCode;
use portico_plugins::config;

use super::{value, Access, Answer};
use crate::gateway::log::ErrorKind;

static X_CONSUMER_GROUPS: HeaderName = HeaderName::from_static("x-consumer-groups");
const BLOCKED: &str = "You cannot consume this service";

pub(crate) struct Acl {
    deny: bool,
    groups: Vec<String>,
    hide_groups_header: bool,
}

impl Acl {
    pub(crate) fn compile(cfg: config::Acl) -> Result<Acl, String> {
        // Kong: the type is deny when `deny` has an entry, else allow
        let (deny, groups) = match (cfg.deny, cfg.allow) {
            (Some(d), _) if !d.is_empty() => (true, d),
            (_, Some(a)) if !a.is_empty() => (false, a),
            _ => return Err("config: one of allow and deny must have a group".into()),
        };
        Ok(Acl {
            deny,
            groups,
            hide_groups_header: cfg.hide_groups_header,
        })
    }

    pub(crate) fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        cx.parts.headers.remove(&X_CONSUMER_GROUPS);
        let Some(consumer) = cx.state.consumer.clone() else {
            return Err(Answer::error(
                StatusCode::UNAUTHORIZED,
                ErrorKind::Unauthorized,
                "Unauthorized",
            ));
        };
        let has_credential = cx.state.credential.is_some();
        if consumer.groups.is_empty() && !self.deny {
            return Err(if has_credential {
                Answer::error(StatusCode::FORBIDDEN, ErrorKind::Forbidden, BLOCKED)
            } else {
                Answer::error(
                    StatusCode::UNAUTHORIZED,
                    ErrorKind::Unauthorized,
                    "Unauthorized",
                )
            });
        }
        let in_group = consumer.groups.iter().any(|g| self.groups.contains(g));
        if in_group == self.deny {
            return Err(Answer::error(
                StatusCode::FORBIDDEN,
                ErrorKind::Forbidden,
                BLOCKED,
            ));
        }
        if !self.hide_groups_header && !consumer.groups.is_empty() {
            if let Some(v) = value(&consumer.groups.join(", ")) {
                cx.parts.headers.insert(X_CONSUMER_GROUPS.clone(), v);
            }
        }
        Ok(())
    }
}

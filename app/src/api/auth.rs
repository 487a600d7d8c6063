//! Signing in and out, the first-run screen, one's own account, users, the audit log.
//!
//! Sign-in, sign-out, first run and password change are posted as plain forms (with
//! or without JavaScript): the browser then loads the next page in full, so the page
//! always shows who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::*;

/// Where to go after signing in: a path on this site only. It starts with a single
/// `/`, and holds no backslash and no control character (browsers drop tabs and line breaks
/// from a URL, so `/\t/evil.example` would become `//evil.example`; a line break
/// cannot go in a `Location` header at all). Anything else goes to the Service Hub.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/service-hub".to_string(),
    }
}

/// The name one of Portico's own cookies has on a request: over TLS it carries the
/// `__Host-` prefix, so browsers take it only with `Secure`, `Path=/` and no `Domain`
/// (no other host, and no plain-HTTP page, can set it); on plain HTTP (a development
/// setup on http://127.0.0.1) the plain name.
pub fn cookie_name(name: &str, https: bool) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// The `Set-Cookie` value of one of Portico's own cookies (`None` removes it):
/// `Path=/; HttpOnly`, the given `SameSite`, and over TLS `Secure` with the `__Host-`
/// name; `max_age` in seconds, or a session cookie.
pub fn own_cookie(
    name: &str,
    value: Option<&str>,
    same_site: &str,
    max_age: Option<u32>,
    https: bool,
) -> String {
    let name = cookie_name(name, https);
    let mut c = format!(
        "{name}={}; Path=/; HttpOnly; SameSite={same_site}",
        value.unwrap_or("")
    );
    match (value, max_age) {
        (None, _) => c.push_str("; Max-Age=0"),
        (Some(_), Some(secs)) => c.push_str(&format!("; Max-Age={secs}")),
        (Some(_), None) => {}
    }
    if https {
        c.push_str("; Secure");
    }
    c
}

/// The `Set-Cookie` value for a session (`secret`), or one that removes it (`None`):
/// HttpOnly, SameSite=Lax, and `__Host-`/Secure when the client came over TLS.
pub fn session_cookie(secret: Option<&str>, https: bool) -> String {
    own_cookie(SESSION_COOKIE, secret, "Lax", None, https)
}

/// Whether the client reached us over TLS, as the server's authentication layer
/// decided (a trusted proxy's `X-Forwarded-Proto: https` under `--trust-forwarded`).
#[cfg(feature = "ssr")]
pub fn is_https(parts: &http::request::Parts) -> bool {
    parts
        .extensions
        .get::<crate::ports::OverTls>()
        .is_some_and(|t| t.0)
}

/// Whether the current request came over TLS (see [`is_https`]).
#[cfg(feature = "ssr")]
pub(crate) fn request_is_https() -> bool {
    crate::ports::request_parts().is_some_and(|p| is_https(&p))
}

/// The value of one of Portico's own cookies on the current request, under the name
/// it has there (see [`cookie_name`]); empty values count as absent.
#[cfg(feature = "ssr")]
pub(crate) fn own_request_cookie(name: &str) -> Option<String> {
    let parts = crate::ports::request_parts()?;
    let name = cookie_name(name, is_https(&parts));
    super::request_cookie(&parts.headers, &name).filter(|v| !v.is_empty())
}

/// Sets (or, with `None`, removes) the session cookie on the response.
#[cfg(feature = "ssr")]
fn set_session_cookie(secret: Option<&str>) {
    set_cookie(&session_cookie(secret, request_is_https()));
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "portico_session";

#[server(prefix = "/rpc", endpoint = "auth/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let source = crate::ports::client_address();
    let signed = crate::ports::accounts()?
        .login(&email, &password, &source)
        .await?;
    set_session_cookie(Some(&signed.session_secret));
    super::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "auth/setup")]
pub async fn setup(
    setup_code: String,
    email: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    if password != password_confirm {
        return Err(AppError::validation(
            "password_confirm",
            "The two passwords are not the same.",
        ));
    }
    let source = crate::ports::client_address();
    let signed = crate::ports::accounts()?
        .setup_first_admin(&setup_code, &email, &password, &source)
        .await?;
    set_session_cookie(Some(&signed.session_secret));
    super::redirect("/service-hub");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    crate::ports::accounts()?.logout(&actor).await?;
    set_session_cookie(None);
    super::redirect("/login");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    if new_password != new_password_confirm {
        return Err(AppError::validation(
            "new_password_confirm",
            "The two new passwords are not the same.",
        ));
    }
    let signed = crate::ports::accounts()?
        .change_password(&actor, &current_password, &new_password)
        .await?;
    set_session_cookie(Some(&signed.session_secret));
    super::redirect("/account?changed=1");
    Ok(())
}

/// The user's tokens, and the secret of one just created (once).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountTokens {
    pub tokens: Vec<ApiToken>,
    pub new_secret: Option<String>,
}

/// A token just created travels to the next page in this short-lived cookie, so that
/// it can be shown once also when the form was posted without JavaScript.
#[cfg(feature = "ssr")]
const NEW_TOKEN_COOKIE: &str = "portico_new_token";

#[server(prefix = "/rpc", endpoint = "account/tokens", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_tokens() -> Result<AccountTokens, AppError> {
    let actor = crate::ports::actor()?;
    let tokens = crate::ports::accounts()?.list_tokens(&actor, false).await?;
    let new_secret = own_request_cookie(NEW_TOKEN_COOKIE);
    if new_secret.is_some() {
        set_cookie(&own_cookie(
            NEW_TOKEN_COOKIE,
            None,
            "Strict",
            None,
            request_is_https(),
        ));
    }
    Ok(AccountTokens { tokens, new_secret })
}

/// An error of a form posted to a plain (non-server-function) handler, carried to the
/// page it redirects to in a one-time cookie.
#[cfg(feature = "ssr")]
const FLASH_ERROR_COOKIE: &str = "portico_flash_error";

/// The `Set-Cookie` value that carries `error` to the next page (`https`: the request
/// came over TLS).
#[cfg(feature = "ssr")]
pub fn flash_error_cookie(error: &AppError, https: bool) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(error).unwrap_or_default();
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    own_cookie(FLASH_ERROR_COOKIE, Some(&value), "Strict", Some(120), https)
}

/// The error carried by the flash cookie, if any; clears the cookie.
#[cfg(feature = "ssr")]
pub(crate) fn take_flash_error() -> Option<AppError> {
    use base64::Engine;
    let value = own_request_cookie(FLASH_ERROR_COOKIE)?;
    set_cookie(&own_cookie(
        FLASH_ERROR_COOKIE,
        None,
        "Strict",
        None,
        request_is_https(),
    ));
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(feature = "ssr")]
pub(crate) fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}

#[server(prefix = "/rpc", endpoint = "account/tokens/create")]
pub async fn create_token(
    name: String,
    role: Option<String>,
    expires_in_days: Option<String>,
) -> Result<CreatedApiToken, AppError> {
    let actor = crate::ports::actor()?;
    let role = match role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(r) => Some(Role::parse_field("role", r)?),
        None => None,
    };
    let expires_in_days = match expires_in_days
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(d) => Some(d.parse::<u32>().map_err(|_| {
            AppError::validation(
                "expires_in_days",
                "Give a whole number of days, or leave it empty.",
            )
        })?),
        None => None,
    };
    let created = crate::ports::accounts()?
        .create_token(
            &actor,
            NewApiToken {
                name,
                role,
                expires_in_days,
            },
        )
        .await?;
    set_cookie(&own_cookie(
        NEW_TOKEN_COOKIE,
        Some(&created.secret),
        "Strict",
        Some(120),
        request_is_https(),
    ));
    super::redirect("/account");
    Ok(created)
}

#[server(prefix = "/rpc", endpoint = "account/tokens/revoke")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    crate::ports::accounts()?.revoke_token(&actor, id).await?;
    super::redirect("/account");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "users/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    let actor = crate::ports::actor()?;
    crate::ports::accounts()?.list_users(&actor).await
}

#[server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(email: String, role: String, password: String) -> Result<User, AppError> {
    let actor = crate::ports::actor()?;
    let role = Role::parse_field("role", &role)?;
    let user = crate::ports::accounts()?
        .create_user(
            &actor,
            NewUser {
                email,
                role,
                password,
            },
        )
        .await?;
    super::redirect("/settings/users");
    Ok(user)
}

/// Changes a user's role and whether they are disabled.
#[server(prefix = "/rpc", endpoint = "users/update")]
pub async fn update_user(
    id: String,
    role: String,
    disabled: Option<String>,
) -> Result<User, AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    let role = Role::parse_field("role", &role)?;
    let user = crate::ports::accounts()?
        .update_user(
            &actor,
            id,
            UserPatch {
                role: Some(role),
                disabled: Some(disabled.is_some_and(|d| d == "on" || d == "true")),
            },
        )
        .await?;
    super::redirect("/settings/users");
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "users/delete")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    crate::ports::accounts()?.delete_user(&actor, id).await?;
    super::redirect("/settings/users");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "audit/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_audit_events(
    user: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
) -> Result<Page<AuditEvent>, AppError> {
    let actor = crate::ports::actor()?;
    let time = |field: &str,
                text: Option<String>|
     -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
        match text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => parse_instant(t)
                .map(Some)
                .ok_or_else(|| AppError::validation(field, date_time_error(t))),
        }
    };
    crate::ports::accounts()?
        .audit_events(
            &actor,
            AuditQuery {
                user,
                action,
                target,
                from: time("from", from)?,
                to: time("to", to)?,
                page: page.unwrap_or(1).max(1),
                page_size: 50,
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            super::safe_next(Some("/service-hub/x?q=1")),
            "/service-hub/x?q=1"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/x\r\nSet-Cookie: a=b",
            "/a\\b",
            "/\u{7f}x",
        ] {
            assert_eq!(super::safe_next(Some(bad)), "/service-hub", "{bad}");
        }
    }
}

//! Signing in and out, the first-run screen, one's own account, users, the audit log.
//!
//! Sign-in, sign-out, first run and password change are posted as plain forms (with
//! or without JavaScript): the browser then loads the next page in full, so the page
//! always shows who is signed in.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::*;

/// Where to go after signing in: a path on this site only.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/service-hub".to_string(),
    }
}

/// The `Set-Cookie` value for a session (`secret`), or one that removes it (`None`):
/// HttpOnly, SameSite=Lax, and Secure when the client came over TLS.
pub fn session_cookie(secret: Option<&str>, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    match secret {
        Some(s) => format!("{SESSION_COOKIE}={s}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// Whether the client reached us over TLS, as a proxy in front says
/// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`). Portico itself serves
/// plain HTTP.
#[cfg(feature = "ssr")]
pub fn is_https(headers: &http::HeaderMap) -> bool {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    h("x-forwarded-proto").is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim() == "https"))
        || h("forwarded").is_some_and(|v| v.contains("proto=https"))
}

/// Sets (or, with `None`, removes) the session cookie on the response.
#[cfg(feature = "ssr")]
fn set_session_cookie(secret: Option<&str>) {
    let https = crate::ports::request_parts().is_some_and(|p| is_https(&p.headers));
    set_cookie(&session_cookie(secret, https));
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
        .setup_first_admin(&email, &password, &source)
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
    let new_secret = crate::ports::request_parts().and_then(|p| {
        super::request_cookie(&p.headers, NEW_TOKEN_COOKIE).filter(|v| !v.is_empty())
    });
    if new_secret.is_some() {
        set_cookie(&format!(
            "{NEW_TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        ));
    }
    Ok(AccountTokens { tokens, new_secret })
}

/// An error of a form posted to a plain (non-server-function) handler, carried to the
/// page it redirects to in a one-time cookie.
#[cfg(feature = "ssr")]
const FLASH_ERROR_COOKIE: &str = "portico_flash_error";

/// The `Set-Cookie` value that carries `error` to the next page.
#[cfg(feature = "ssr")]
pub fn flash_error_cookie(error: &AppError) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(error).unwrap_or_default();
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    format!("{FLASH_ERROR_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=120")
}

/// The error carried by the flash cookie, if any; clears the cookie.
#[cfg(feature = "ssr")]
pub(crate) fn take_flash_error() -> Option<AppError> {
    use base64::Engine;
    let value = crate::ports::request_parts().and_then(|p| {
        super::request_cookie(&p.headers, FLASH_ERROR_COOKIE).filter(|v| !v.is_empty())
    })?;
    set_cookie(&format!(
        "{FLASH_ERROR_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
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
    set_cookie(&format!(
        "{NEW_TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=120",
        created.secret
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
        ] {
            assert_eq!(super::safe_next(Some(bad)), "/service-hub", "{bad}");
        }
    }
}

//! Accounts, roles and what each role may do; the audit log's records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// A user's role. Roles are ordered: each one can do all that the ones below it can.
/// - Viewer: reads everything in the control plane.
/// - Publisher: also changes version status and publishes to the Dev Portal.
/// - Maintainer: also changes the catalog (packages, versions, runtime groups, and
///   what later work adds: routes, docs).
/// - Admin: also manages users, other users' tokens, and reads the audit log.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Viewer,
    Publisher,
    Maintainer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Publisher, Role::Maintainer, Role::Admin];

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Self::Viewer),
            "publisher" => Some(Self::Publisher),
            "maintainer" => Some(Self::Maintainer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Publisher => "publisher",
            Self::Maintainer => "maintainer",
            Self::Admin => "admin",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Publisher => "Publisher",
            Self::Maintainer => "Maintainer",
            Self::Admin => "Admin",
        }
    }
    /// Parses a role sent by a form or an API client, naming the field when wrong.
    pub fn parse_field(field: &str, s: &str) -> Result<Self, AppError> {
        Self::parse(s).ok_or_else(|| {
            AppError::validation(
                field,
                format!("\"{s}\" is not a role; use viewer, publisher, maintainer or admin."),
            )
        })
    }
    /// Whether this role may do `action`.
    pub fn allows(self, action: Permission) -> bool {
        self >= action.least_role()
    }
}

/// What a request wants to do, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the catalog, runtime groups and one's own account.
    Read,
    /// Change a version's status; publish to the Dev Portal.
    Publish,
    /// Create, change and delete packages, versions and runtime groups.
    EditCatalog,
    /// Manage users and other users' tokens; read the audit log.
    Administer,
}

impl Permission {
    pub fn least_role(self) -> Role {
        match self {
            Self::Read => Role::Viewer,
            Self::Publish => Role::Publisher,
            Self::EditCatalog => Role::Maintainer,
            Self::Administer => Role::Admin,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Self::Read => "read the control plane",
            Self::Publish => "change version status or publish",
            Self::EditCatalog => "change the catalog",
            Self::Administer => "administer users and read the audit log",
        }
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credential {
    /// A browser session (the SHA-256 of its id, as stored).
    Session(String),
    /// A personal API token.
    Token(Uuid),
    /// The command line on the server's own machine (`portico admin …`).
    Console,
}

/// Who is asking: the user, the role in force (a token's role may be lower than its
/// owner's), and where from. Every domain call takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub email: String,
    pub role: Role,
    pub credential: Credential,
    /// The client address (for the audit log).
    pub source: String,
}

impl Actor {
    /// The console actor used by `portico admin` and `portico seed`.
    pub fn console() -> Self {
        Self {
            user_id: None,
            email: "console".into(),
            role: Role::Admin,
            credential: Credential::Console,
            source: "console".into(),
        }
    }
    /// Refuses with 403 unless this actor's role allows `action`; the proof that it
    /// does is what the domain's inner functions take, so none runs unchecked.
    pub fn require(&self, action: Permission) -> Result<Authorized<'_>, AppError> {
        if self.role.allows(action) {
            Ok(Authorized {
                actor: self,
                permission: action,
            })
        } else {
            Err(AppError::forbidden(format!(
                "Your role ({}) cannot {}; this needs {} or higher.",
                self.role.label(),
                action.describe(),
                action.least_role().label()
            )))
        }
    }
    pub fn can(&self, action: Permission) -> bool {
        self.role.allows(action)
    }
}

/// Proof that an actor's role was checked: made only by [`Actor::require`] (its
/// fields are private, and it is neither `Default` nor deserializable). The domain's
/// inner functions take one instead of a bare [`Actor`], so a port method that forgets
/// its check does not compile. It reads as the actor it proves (for the audit log).
#[must_use = "a permission check whose proof is dropped guards nothing"]
#[derive(Debug, Clone, Copy)]
pub struct Authorized<'a> {
    actor: &'a Actor,
    permission: Permission,
}

impl Authorized<'_> {
    /// The permission that was checked.
    pub fn permission(&self) -> Permission {
        self.permission
    }
}

impl std::ops::Deref for Authorized<'_> {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        self.actor
    }
}

/// The signed-in user as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

impl Me {
    pub fn can(&self, action: Permission) -> bool {
        self.role.allows(action)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub email: String,
    pub role: Role,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// A personal API token, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub name: String,
    pub role: Role,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    pub name: String,
    /// At most the owner's role; the owner's role when absent.
    pub role: Option<Role>,
    /// Days until it expires (1–3650); never when absent.
    pub expires_in_days: Option<u32>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Not stored; shown once.
    pub secret: String,
}

/// One change in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_email: String,
    /// `<target type>.<verb>`, e.g. `service_package.update`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub target_name: String,
    /// A short JSON summary: `{"before": …, "after": …}`.
    pub summary: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Substring of the actor's email.
    pub user: Option<String>,
    /// Exact action, or a prefix ending in `.` (`service_package.`).
    pub action: Option<String>,
    /// Substring of the target's name or its exact id.
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: u64,
    pub page_size: u64,
}

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 1024;

/// The password rule: 12 to 1024 characters.
pub fn check_password(field: &str, password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(AppError::validation(
            field,
            format!("Use at least {PASSWORD_MIN} characters (this one has {n})."),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(AppError::validation(
            field,
            format!("Use at most {PASSWORD_MAX} characters."),
        ));
    }
    Ok(())
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain,
/// no spaces, at most 254 characters. Returns it trimmed and lower-cased.
pub fn normalize_email(field: &str, email: &str) -> Result<String, AppError> {
    let e = email.trim().to_lowercase();
    let bad = |why: &str| Err(AppError::validation(field, why.to_string()));
    if e.is_empty() {
        return bad("Enter an email address.");
    }
    if e.len() > 254 {
        return bad("An email address has at most 254 characters.");
    }
    let Some((local, domain)) = e.split_once('@') else {
        return bad("An email address needs an @.");
    };
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return bad("This is not an email address (like name@example.com).");
    }
    Ok(e)
}

/// A token name: 1–100 characters, no control characters.
pub fn check_token_name(field: &str, name: &str) -> Result<(), AppError> {
    let n = name.trim().chars().count();
    if n == 0 {
        return Err(AppError::validation(field, "Give the token a name."));
    }
    if n > 100 {
        return Err(AppError::validation(
            field,
            "A token name has at most 100 characters.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "A token name cannot hold control characters.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_each_allows_its_actions() {
        use Permission::*;
        let matrix = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Publisher, [true, true, false, false]),
            (Role::Maintainer, [true, true, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, expected) in matrix {
            let got = [Read, Publish, EditCatalog, Administer].map(|a| role.allows(a));
            assert_eq!(got, expected, "{role:?}");
        }
        assert!(Role::Viewer < Role::Publisher && Role::Maintainer < Role::Admin);
    }

    #[test]
    fn forbidden_message_names_role_and_need() {
        let mut a = Actor::console();
        a.role = Role::Viewer;
        let e = a.require(Permission::EditCatalog).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(e.message().contains("Viewer") && e.message().contains("Maintainer"));
        let proof = a.require(Permission::Read).unwrap();
        assert_eq!(proof.permission(), Permission::Read);
        assert_eq!(proof.email, a.email, "the proof reads as its actor");
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(normalize_email("email", " A@B.io ").unwrap(), "a@b.io");
        for bad in ["", "a", "a@b", "@b.io", "a@.io", "a b@c.io", "a@b@c.io"] {
            assert!(normalize_email("email", bad).is_err(), "{bad}");
        }
        assert!(check_password("password", "short").is_err());
        assert!(check_password("password", "twelve chars").is_ok());
        assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
        assert!(Role::parse_field("role", "root").is_err());
    }
}

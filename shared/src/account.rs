//! Accounts: users, roles, API keys and the audit log, plus the input rules the browser checks as
//! the user types and the server checks again.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// The shortest password, in characters. Length is what makes a password strong.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password, in characters; bounds the work of hashing it.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The longest API key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 80;

/// What a user may do. Each role can do everything the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Creates and runs campaigns, segments, labels and share links.
    Marketer,
    /// Everything, plus users, API keys, the Facebook connection and the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Marketer, Role::Viewer];

    pub fn label(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Marketer => "Marketer",
            Self::Admin => "Admin",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Marketer => "marketer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `required` may.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }

    /// Whether this role may change campaigns, segments and labels.
    pub fn can_edit(self) -> bool {
        self.allows(Role::Marketer)
    }
}

/// A user as the API shows it; the password hash never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// Disabled users cannot sign in; their sessions ended when they were disabled.
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<String>,
}

/// `GET /api/me`: the signed-in user, and what every page of the app shows about the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "MeFields")]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    /// The Graph API the server talks to: while it is the sandbox, the app's top bar says so on
    /// every page, so nobody takes the sandbox's figures for real ones.
    pub facebook_mode: crate::settings::FacebookMode,
}

/// [`Me`] as its JSON lists the fields, read without `flatten`: the derive would buffer the
/// flattened user in serde's `Content` (see `crate::tagged`), and reading it through a
/// `serde_json` map kept that map's code in the browser's first download, where `Me` is the only
/// flattened type read (the session).
#[derive(Deserialize)]
#[serde(rename = "Me")]
struct MeFields {
    id: i64,
    email: String,
    role: Role,
    disabled: bool,
    created_at: String,
    #[serde(default)]
    last_login_at: Option<String>,
    facebook_mode: crate::settings::FacebookMode,
}

impl From<MeFields> for Me {
    fn from(f: MeFields) -> Self {
        Me {
            user: User {
                id: f.id,
                email: f.email,
                role: f.role,
                disabled: f.disabled,
                created_at: f.created_at,
                last_login_at: f.last_login_at,
            },
            facebook_mode: f.facebook_mode,
        }
    }
}

/// `POST /api/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Not blank; at most [`MAX_EMAIL_LEN`] characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub email: String,
    /// At most [`MAX_PASSWORD_CHARS`] characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub password: String,
}

/// `GET /api/setup`: whether the first-run setup page is open (only while there are no users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    pub needed: bool,
}

/// `POST /api/users` (and `POST /api/setup`, where the role is always admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// [`email_problem`]: at most [`MAX_EMAIL_LEN`] characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub email: String,
    /// [`password_problem`]: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters, not
    /// only spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 10,
            max_length = 128,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub password: String,
    pub role: Role,
}

/// `POST /api/setup`: the first admin, with the rules of a [`NewUser`] (the role is admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstAdmin {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.@\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub email: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 10,
            max_length = 128,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub password: String,
}

/// `PATCH /api/users/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// A new password set by an admin (for a user who forgot theirs); as
    /// [`NewUser::password`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 10,
            max_length = 128,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub password: Option<String>,
}

/// An API key for the upload API. The secret itself is shown once, when created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    pub created_at: String,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// `POST /api/api-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiKey {
    /// 1 to [`MAX_KEY_NAME_CHARS`] characters after trimming.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([\s\S]{0,78}[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub name: String,
}

/// The answer to `POST /api/api-keys`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// Send it as `X-Api-Key`. It cannot be shown again.
    pub secret: String,
}

/// One entry of the audit log: who did what to which thing, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The user's e-mail address.
    pub actor: String,
    /// `created`, `updated`, `published`, `paused`, `resumed`, `stopped`, `deleted`, …
    pub action: String,
    /// `campaign`, `label`, `user`, `api_key`.
    pub entity_type: String,
    pub entity_id: String,
    /// One line a person can read: `campaign "Spring sale"`.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Trimmed and lower-cased, as e-mail addresses are stored and compared.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Why `email` cannot be an account's address, if it cannot. Deliberately simple: one `@`, a
/// non-empty local part and a dotted domain, no spaces.
pub fn email_problem(email: &str) -> Option<String> {
    // The length as sent, in characters, as the OpenAPI document's `maxLength` counts it.
    let long = email.chars().count() > MAX_EMAIL_LEN;
    let email = email.trim();
    if email.is_empty() {
        return Some("Enter an e-mail address.".into());
    }
    if long {
        return Some(format!(
            "An e-mail address has at most {MAX_EMAIL_LEN} characters."
        ));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    (!valid).then(|| "Enter an e-mail address like name@example.com.".into())
}

/// Why `password` is not acceptable as a new password, if it is not.
pub fn password_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Some(format!(
            "Use at least {MIN_PASSWORD_CHARS} characters; a few words make a good password."
        ))
    } else if n > MAX_PASSWORD_CHARS {
        Some(format!("Use at most {MAX_PASSWORD_CHARS} characters."))
    } else if password.trim().is_empty() {
        Some("A password cannot be only spaces.".into())
    } else {
        None
    }
}

/// Every problem with a new user, by field.
pub fn validate_new_user(user: &NewUser) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(msg) = email_problem(&user.email) {
        errors.push(FieldError::new("email", msg));
    }
    if let Some(msg) = password_problem(&user.password) {
        errors.push(FieldError::new("password", msg));
    }
    errors
}

/// Every problem with a user update, by field.
pub fn validate_user_update(update: &UserUpdate) -> Vec<FieldError> {
    update
        .password
        .as_deref()
        .and_then(password_problem)
        .map(|msg| FieldError::new("password", msg))
        .into_iter()
        .collect()
}

/// Every problem with a login form. Only the shape is checked: whether the password is right is
/// the server's business.
pub fn validate_login(login: &LoginRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if login.email.trim().is_empty() {
        errors.push(FieldError::new("email", "Enter your e-mail address."));
    } else if login.email.chars().count() > MAX_EMAIL_LEN {
        errors.push(FieldError::new(
            "email",
            format!("An e-mail address has at most {MAX_EMAIL_LEN} characters."),
        ));
    }
    if login.password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    } else if login.password.chars().count() > MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            format!("A password has at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    errors
}

/// Every problem with a new API key's name.
pub fn validate_new_api_key(key: &NewApiKey) -> Vec<FieldError> {
    let n = key.name.trim().chars().count();
    let msg = if n == 0 {
        Some("Name the key after what uses it, e.g. \"Backend uploads\".".to_owned())
    } else if n > MAX_KEY_NAME_CHARS {
        Some(format!("Use at most {MAX_KEY_NAME_CHARS} characters."))
    } else {
        None
    };
    msg.map(|m| FieldError::new("name", m))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_may_do() {
        assert!(Role::Admin.allows(Role::Marketer) && Role::Admin.allows(Role::Viewer));
        assert!(Role::Marketer.can_edit() && !Role::Viewer.can_edit());
        assert!(!Role::Marketer.allows(Role::Admin));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn email_addresses_need_one_at_and_a_dotted_domain() {
        for ok in ["a@b.co", " Jane.Doe+x@Example.COM "] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "jane",
            "jane@",
            "@x.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
        assert!(email_problem(&long).unwrap().contains("at most"));
        assert_eq!(normalize_email(" Jane@Example.COM "), "jane@example.com");
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(password_problem("short").is_some());
        assert!(password_problem(&" ".repeat(12)).is_some());
        assert_eq!(password_problem("correct horse battery"), None);
        assert!(password_problem(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_some());
        let errors = validate_new_user(&NewUser {
            email: "nope".into(),
            password: "short".into(),
            role: Role::Viewer,
        });
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["email", "password"]);
    }

    #[test]
    fn login_and_key_forms_report_every_missing_field() {
        let errors = validate_login(&LoginRequest {
            email: " ".into(),
            password: String::new(),
        });
        assert_eq!(errors.len(), 2);
        assert_eq!(
            validate_new_api_key(&NewApiKey { name: "  ".into() })[0].path,
            "name"
        );
        assert!(validate_new_api_key(&NewApiKey { name: "CRM".into() }).is_empty());
    }

    #[test]
    fn me_is_the_user_with_the_facebook_mode_beside_its_fields() {
        let me = Me {
            user: User {
                id: 7,
                email: "a@b.co".into(),
                role: Role::Viewer,
                disabled: false,
                created_at: "2026-12-07T10:00:00Z".into(),
                last_login_at: None,
            },
            facebook_mode: crate::settings::FacebookMode::Sandbox,
        };
        let json = serde_json::to_value(&me).unwrap();
        assert_eq!(json["email"], "a@b.co");
        assert_eq!(json["facebook_mode"], "sandbox");
        assert_eq!(serde_json::from_value::<Me>(json).unwrap(), me);
        // A user without the mode is not a `Me`.
        let user = serde_json::to_value(&me.user).unwrap();
        assert!(serde_json::from_value::<Me>(user).is_err());
    }
}

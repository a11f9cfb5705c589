//! Settings → Facebook: which Graph API the server talks to and with which credentials. The
//! secrets travel only from the browser to the server; what comes back is metadata about them.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The shortest access token accepted; real Facebook tokens are well over a hundred characters.
pub const MIN_TOKEN_CHARS: usize = 20;
/// The longest access token accepted.
pub const MAX_TOKEN_CHARS: usize = 1024;

/// The Graph API behind the server: its own sandbox, or graph.facebook.com.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FacebookMode {
    Sandbox,
    Live,
}

impl FacebookMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Live => "live",
        }
    }
}

/// `PUT /api/settings/facebook`. A secret left `None` keeps the stored one; `Some("")` clears it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacebookSettingsInput {
    pub mode: FacebookMode,
    /// [`MIN_TOKEN_CHARS`] to [`MAX_TOKEN_CHARS`] letters, digits and `-_|.`; empty clears it
    /// (refused in live mode); absent keeps the stored one.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1024, pattern = "^([-A-Za-z0-9_|.]{20,})?$")
    )]
    pub access_token: Option<String>,
    /// 32 hexadecimal characters; empty clears it; absent keeps the stored one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9A-Fa-f]{32})?$"))]
    pub app_secret: Option<String>,
    /// The Facebook app's id, for "Connect with Facebook" (public, not a secret). `None` keeps
    /// the saved one; `Some("")` clears it.
    #[serde(default)]
    pub app_id: Option<String>,
}

impl std::fmt::Debug for FacebookSettingsInput {
    // Secrets must never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookSettingsInput")
            .field("mode", &self.mode)
            .field("access_token", &self.access_token.as_ref().map(|_| "***"))
            .field("app_secret", &self.app_secret.as_ref().map(|_| "***"))
            .field("app_id", &self.app_id)
            .finish()
    }
}

/// What is known about a stored secret without revealing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretInfo {
    pub set: bool,
    /// The last four characters, so an admin can tell which token is in use.
    pub ends_with: Option<String>,
}

impl SecretInfo {
    pub fn of(secret: Option<&str>) -> Self {
        match secret.filter(|s| !s.is_empty()) {
            None => Self {
                set: false,
                ends_with: None,
            },
            Some(s) => {
                let chars: Vec<char> = s.chars().collect();
                // A short secret would be given away by its last four characters.
                let ends_with = (chars.len() >= 12)
                    .then(|| chars[chars.len() - 4..].iter().collect::<String>());
                Self {
                    set: true,
                    ends_with,
                }
            }
        }
    }

    /// "set, ends with …abcd" / "not set", as the Settings page shows it.
    pub fn describe(&self) -> String {
        match (&self.set, &self.ends_with) {
            (false, _) => "not set".to_owned(),
            (true, Some(end)) => format!("set, ends with …{end}"),
            (true, None) => "set".to_owned(),
        }
    }
}

/// Where the connection in use comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SettingsSource {
    /// Saved by an admin on the Settings page.
    Stored,
    /// `FACEBOOK_MODE`/`FACEBOOK_ACCESS_TOKEN`/`FACEBOOK_APP_SECRET`: nothing saved yet.
    Environment,
}

/// `GET /api/settings/facebook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacebookSettings {
    pub mode: FacebookMode,
    pub source: SettingsSource,
    pub access_token: SecretInfo,
    pub app_secret: SecretInfo,
    /// Ad accounts the token can use, when Facebook answered.
    pub ad_accounts: Vec<ConnectedAdAccount>,
    /// Why the ad accounts could not be listed, in plain words.
    pub problem: Option<String>,
    /// What Facebook says about the access token, when it answered `debug_token`.
    #[serde(default)]
    pub token: Option<TokenHealth>,
    /// The Facebook app "Connect with Facebook" signs in to (in sandbox mode the sandbox's demo
    /// app unless one is configured).
    #[serde(default)]
    pub app_id: Option<String>,
    /// Why "Connect with Facebook" cannot start (no app id or secret), in plain words.
    #[serde(default)]
    pub login_problem: Option<String>,
    /// Who connected the token in use through Facebook Login; `None` for a pasted token.
    #[serde(default)]
    pub connection: Option<FacebookConnection>,
    /// Why the admin should reconnect now (the token expires within [`EXPIRY_WARNING_DAYS`] days,
    /// or a permission was not granted).
    #[serde(default)]
    pub reconnect: Option<String>,
    /// How the last "Connect with Facebook" ended.
    #[serde(default)]
    pub last_connect: Option<ConnectAttempt>,
}

/// The permissions "Connect with Facebook" asks for: creating and filling audiences
/// (`ads_management`), reading ad sets and stats (`ads_read`), and the ad accounts a Business
/// Manager owns (`business_management`).
pub const LOGIN_SCOPES: [&str; 3] = ["ads_management", "ads_read", "business_management"];

/// What the product cannot do without `scope`, in words an admin can act on.
pub fn scope_consequence(scope: &str) -> &'static str {
    match scope {
        "ads_management" => "audiences cannot be created or filled, so campaigns cannot be synced",
        "ads_read" => "ad sets and ad stats cannot be read",
        "business_management" => "ad accounts owned by a Business Manager may not be listed",
        _ => "some features may not work",
    }
}

/// "Facebook did not grant ads_management: campaigns cannot be synced. Reconnect and allow …";
/// `None` when nothing is missing.
pub fn missing_scopes_message(missing: &[String]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let reasons: Vec<String> = missing
        .iter()
        .map(|s| format!("without {s}, {}", scope_consequence(s)))
        .collect();
    Some(format!(
        "Facebook did not grant {}: {}. Reconnect with Facebook and allow {} on Facebook's dialog.",
        missing.join(", "),
        reasons.join("; "),
        missing.join(" and ")
    ))
}

/// A Facebook Login connection: who connected, when, and what Facebook granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacebookConnection {
    /// The admin who clicked "Connect with Facebook" (e-mail address).
    pub connected_by: String,
    /// RFC 3339.
    pub connected_at: String,
    /// The Facebook user who signed in, "Name (id)".
    pub facebook_user: String,
    pub granted_scopes: Vec<String>,
    pub declined_scopes: Vec<String>,
    /// The ad accounts the person let the app use.
    pub ad_accounts: Vec<ConnectedAdAccount>,
    /// When the long-lived token expires (RFC 3339); `None` when it does not.
    pub expires_at: Option<String>,
}

impl FacebookConnection {
    /// Of [`LOGIN_SCOPES`], those Facebook did not grant.
    pub fn missing_scopes(&self) -> Vec<String> {
        LOGIN_SCOPES
            .iter()
            .filter(|s| !self.granted_scopes.iter().any(|g| g == *s))
            .map(|s| (*s).to_owned())
            .collect()
    }

    /// Why the admin should reconnect at `now`: the token has expired or expires within
    /// [`EXPIRY_WARNING_DAYS`] days, or a permission is missing.
    pub fn reconnect_reason(&self, now: jiff::Timestamp) -> Option<String> {
        let expires = self
            .expires_at
            .as_deref()
            .and_then(|e| e.parse::<jiff::Timestamp>().ok());
        if let Some(at) = expires {
            let day = at.to_string();
            let day = day.get(..10).unwrap_or(&day).to_owned();
            if at <= now {
                return Some(format!(
                    "The Facebook token expired on {day}: syncs fail until you reconnect with Facebook."
                ));
            }
            if at <= now + jiff::SignedDuration::from_hours(EXPIRY_WARNING_DAYS * 24) {
                return Some(format!(
                    "The Facebook token expires on {day} (within {EXPIRY_WARNING_DAYS} days): reconnect with Facebook to renew it."
                ));
            }
        }
        missing_scopes_message(&self.missing_scopes())
    }
}

/// How a "Connect with Facebook" attempt ended; the Settings page's address carries it
/// (`/settings?facebook=<outcome>`) after Facebook sends the browser back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectOutcome {
    /// Connected with every permission.
    Connected,
    /// Connected, but the person declined a permission.
    Partial,
    /// The person clicked Cancel on Facebook's dialog.
    Cancelled,
    /// Facebook refused the exchange (app secret, code, …).
    Failed,
    /// The answer did not match an attempt of this session (forged, reused or too old).
    Refused,
}

impl ConnectOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Partial => "partial",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Connected,
            Self::Partial,
            Self::Cancelled,
            Self::Failed,
            Self::Refused,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// What the Settings page says after an answer that matched no attempt of this session: nothing
/// was stored, and the text is fixed so a forged link cannot make the page say anything else.
pub const REFUSED_CONNECT_MESSAGE: &str = "Facebook's answer did not match a \"Connect with Facebook\" started in this session (it was used already, is more than 10 minutes old, or was started elsewhere), so nothing was changed. Click \"Connect with Facebook\" again.";

/// The last "Connect with Facebook" attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectAttempt {
    /// RFC 3339.
    pub at: String,
    /// The admin (e-mail address).
    pub by: String,
    pub outcome: ConnectOutcome,
    /// What happened, in words the admin can act on.
    pub message: String,
}

/// `POST /api/settings/facebook/connect`: where to send the browser (Facebook's OAuth dialog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectStart {
    pub url: String,
}

/// A token expiring within this many days is flagged on the Settings page.
pub const EXPIRY_WARNING_DAYS: i64 = 7;
/// The permissions the product needs: creating and filling audiences, reading ad sets and stats.
pub const REQUIRED_SCOPES: [&str; 2] = ["ads_management", "ads_read"];

/// The access token's health, from Facebook's `debug_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenHealth {
    pub valid: bool,
    /// When the token expires (RFC 3339); `None` when it never does.
    pub expires_at: Option<String>,
    /// Valid, and expires within [`EXPIRY_WARNING_DAYS`] days.
    pub expires_soon: bool,
    /// Of [`REQUIRED_SCOPES`], those the token lacks.
    pub missing_scopes: Vec<String>,
    /// Facebook's reason, when the token is not valid.
    pub problem: Option<String>,
}

impl TokenHealth {
    /// Judges `debug_token`'s answer at `now`: `expires_at` in Unix seconds, 0 or none for a
    /// token that never expires.
    pub fn assess(
        is_valid: bool,
        expires_at: Option<i64>,
        scopes: &[String],
        problem: Option<String>,
        now: jiff::Timestamp,
    ) -> Self {
        let expires = expires_at
            .filter(|s| *s > 0)
            .and_then(|s| jiff::Timestamp::from_second(s).ok());
        let valid = is_valid && expires.is_none_or(|e| e > now);
        let soon = now + jiff::SignedDuration::from_hours(EXPIRY_WARNING_DAYS * 24);
        Self {
            valid,
            expires_at: expires.map(|e| e.to_string()),
            expires_soon: valid && expires.is_some_and(|e| e <= soon),
            missing_scopes: REQUIRED_SCOPES
                .iter()
                .filter(|r| !scopes.iter().any(|s| s == *r))
                .map(|r| (*r).to_owned())
                .collect(),
            problem: if valid {
                None
            } else {
                Some(problem.unwrap_or_else(|| "Facebook says the token is not valid.".into()))
            },
        }
    }

    /// One line for the Settings page: valid or not, until when (`instant` words the RFC 3339
    /// expiry: the browser shows it in the viewer's zone), what is missing.
    pub fn summary(&self, instant: impl Fn(&str) -> String) -> String {
        let mut out = if !self.valid {
            format!(
                "Not valid: {}",
                self.problem.as_deref().unwrap_or("Facebook refused it.")
            )
        } else {
            match &self.expires_at {
                Some(at) => format!("Valid until {}", instant(at)),
                None => "Valid; it does not expire".to_owned(),
            }
        };
        if self.expires_soon {
            out.push_str(&format!(
                ". It expires within {EXPIRY_WARNING_DAYS} days: generate a new token and save it here"
            ));
        }
        if !self.missing_scopes.is_empty() {
            out.push_str(&format!(
                ". Missing permissions: {}",
                self.missing_scopes.join(", ")
            ));
        }
        out.push('.');
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectedAdAccount {
    pub id: String,
    pub name: String,
}

/// `POST /api/settings/facebook/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
}

/// Checks an input the way the browser shows it and the server enforces it; each error names the
/// field (`access_token`, `app_secret`).
pub fn validate_facebook_settings(input: &FacebookSettingsInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match input.access_token.as_deref() {
        Some(token) if !token.is_empty() => {
            if let Some(message) = token_problem(token) {
                errors.push(FieldError::new("access_token", message));
            }
        }
        // Sandbox mode works without a token; live mode needs one (`None` keeps the stored one,
        // which the server checks separately).
        Some(_) if input.mode == FacebookMode::Live => errors.push(FieldError::new(
            "access_token",
            "An access token is required in live mode.",
        )),
        _ => {}
    }
    if let Some(secret) = input.app_secret.as_deref().filter(|s| !s.is_empty())
        && (secret.len() != 32 || !secret.chars().all(|c| c.is_ascii_hexdigit()))
    {
        errors.push(FieldError::new(
            "app_secret",
            "The app secret is 32 hexadecimal characters (App settings → Basic on developers.facebook.com).",
        ));
    }
    if let Some(id) = input.app_id.as_deref().filter(|s| !s.is_empty())
        && !is_app_id(id)
    {
        errors.push(FieldError::new(
            "app_id",
            "The app id is the number shown as App ID (App settings → Basic on developers.facebook.com).",
        ));
    }
    errors
}

/// A Facebook app id: digits only, as App settings → Basic shows it.
pub fn is_app_id(id: &str) -> bool {
    (5..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

fn token_problem(token: &str) -> Option<String> {
    let chars = token.chars().count();
    if chars < MIN_TOKEN_CHARS {
        return Some(format!(
            "This is too short for an access token (at least {MIN_TOKEN_CHARS} characters)."
        ));
    }
    if chars > MAX_TOKEN_CHARS {
        return Some(format!(
            "This is too long for an access token (at most {MAX_TOKEN_CHARS} characters)."
        ));
    }
    if !token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '|' | '.'))
    {
        return Some(
            "An access token has only letters, digits and - _ | . (no spaces or quotes).".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        mode: FacebookMode,
        token: Option<&str>,
        secret: Option<&str>,
    ) -> FacebookSettingsInput {
        FacebookSettingsInput {
            mode,
            access_token: token.map(Into::into),
            app_secret: secret.map(Into::into),
            app_id: None,
        }
    }

    #[test]
    fn live_mode_needs_a_token_and_errors_name_the_field() {
        let errors = validate_facebook_settings(&input(FacebookMode::Live, Some(""), None));
        assert_eq!(errors[0].path, "access_token");
        let errors = validate_facebook_settings(&input(FacebookMode::Sandbox, Some(""), None));
        assert!(errors.is_empty());
    }

    #[test]
    fn implausible_tokens_and_secrets_are_refused() {
        for bad in [
            "short",
            "has spaces in it, not a token",
            "\"quoted-token-value-here\"",
        ] {
            let errors = validate_facebook_settings(&input(FacebookMode::Live, Some(bad), None));
            assert_eq!(errors.len(), 1, "{bad}");
        }
        let errors = validate_facebook_settings(&input(
            FacebookMode::Live,
            Some("EAABsbCS1iHgBAKZC0ZBsTest1234"),
            Some("not-hex"),
        ));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "app_secret");
    }

    #[test]
    fn secret_info_shows_only_the_last_four_characters() {
        let info = SecretInfo::of(Some("EAABsbCS1iHgBAKZC0ZBwxyz"));
        assert_eq!(info.describe(), "set, ends with …wxyz");
        assert_eq!(SecretInfo::of(Some("short")).describe(), "set");
        assert_eq!(SecretInfo::of(None).describe(), "not set");
    }

    #[test]
    fn token_health_flags_expiry_within_a_week_and_missing_scopes() {
        let now: jiff::Timestamp = "2026-11-28T00:00:00Z".parse().unwrap();
        let day = 86_400;
        let scopes = vec!["ads_management".to_owned(), "ads_read".to_owned()];
        let fine = TokenHealth::assess(true, Some(now.as_second() + 30 * day), &scopes, None, now);
        assert!(fine.valid && !fine.expires_soon && fine.missing_scopes.is_empty());
        assert_eq!(fine.expires_at.as_deref(), Some("2026-12-28T00:00:00Z"));
        let soon = TokenHealth::assess(true, Some(now.as_second() + 3 * day), &scopes, None, now);
        assert!(soon.expires_soon, "{soon:?}");
        let summary = soon.summary(|at| format!("<{at}>"));
        assert!(
            summary.starts_with("Valid until <2026-12-01T00:00:00Z>. It expires within 7 days"),
            "{summary}"
        );
        let never = TokenHealth::assess(true, Some(0), &scopes[..1], None, now);
        assert_eq!(never.expires_at, None);
        assert!(!never.expires_soon);
        assert_eq!(never.missing_scopes, vec!["ads_read".to_owned()]);
        let expired = TokenHealth::assess(true, Some(now.as_second() - 1), &scopes, None, now);
        assert!(!expired.valid && !expired.expires_soon);
        assert!(expired.summary(str::to_owned).starts_with("Not valid"));
    }

    #[test]
    fn app_ids_are_digits() {
        let mut i = input(
            FacebookMode::Live,
            Some("EAABsbCS1iHgBAKZC0ZBsTest1234"),
            None,
        );
        i.app_id = Some("my-app".into());
        let errors = validate_facebook_settings(&i);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "app_id");
        i.app_id = Some("900000000000001".into());
        assert!(validate_facebook_settings(&i).is_empty());
    }

    fn connection(granted: &[&str], expires_at: Option<&str>) -> FacebookConnection {
        FacebookConnection {
            connected_by: "admin@example.com".into(),
            connected_at: "2026-11-01T00:00:00Z".into(),
            facebook_user: "Sandbox User (1)".into(),
            granted_scopes: granted.iter().map(|s| (*s).to_owned()).collect(),
            declined_scopes: Vec::new(),
            ad_accounts: Vec::new(),
            expires_at: expires_at.map(Into::into),
        }
    }

    #[test]
    fn reconnect_is_advised_near_expiry_and_for_a_missing_permission() {
        let now: jiff::Timestamp = "2026-11-28T00:00:00Z".parse().unwrap();
        let fine = connection(&LOGIN_SCOPES, Some("2027-01-20T00:00:00Z"));
        assert_eq!(fine.reconnect_reason(now), None);
        let soon = connection(&LOGIN_SCOPES, Some("2026-12-02T00:00:00Z"));
        let why = soon.reconnect_reason(now).unwrap();
        assert!(why.contains("expires on 2026-12-02"), "{why}");
        let gone = connection(&LOGIN_SCOPES, Some("2026-11-27T00:00:00Z"));
        assert!(gone.reconnect_reason(now).unwrap().contains("expired"));
        let never = connection(&LOGIN_SCOPES, None);
        assert_eq!(never.reconnect_reason(now), None);
        let partial = connection(&["ads_read", "business_management"], None);
        let why = partial.reconnect_reason(now).unwrap();
        assert!(
            why.starts_with("Facebook did not grant ads_management: without ads_management, audiences cannot be created or filled, so campaigns cannot be synced."),
            "{why}"
        );
        assert!(why.contains("allow ads_management"), "{why}");
    }

    #[test]
    fn outcomes_round_trip_through_the_address() {
        for o in ["connected", "partial", "cancelled", "failed", "refused"] {
            assert_eq!(ConnectOutcome::parse(o).unwrap().as_str(), o);
        }
        assert_eq!(ConnectOutcome::parse("<script>"), None);
    }
}

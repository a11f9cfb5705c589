//! The Facebook connection saved by an admin on the Settings page, in the `settings` table under
//! the key `facebook`. The access token and app secret are sealed with [`SecretKey`]; the
//! environment (`FACEBOOK_MODE`, `FACEBOOK_ACCESS_TOKEN`, `FACEBOOK_APP_ID`,
//! `FACEBOOK_APP_SECRET`) applies while nothing is saved. A token obtained through "Connect with
//! Facebook" is stored the same way, with who connected it and what Facebook granted.

use serde::{Deserialize, Serialize};
use shared::settings::{ConnectAttempt, FacebookConnection, FacebookMode, SettingsSource};

use crate::{
    db::{Db, with_pool},
    error::{ApiError, ApiResult},
    facebook::FacebookConfig,
    secrets::SecretKey,
};

const KEY: &str = "facebook";
/// How the last "Connect with Facebook" ended: a row of its own, so that a cancelled or failed
/// attempt leaves the connection's row (and whether it comes from the environment) untouched.
const LAST_CONNECT_KEY: &str = "facebook_last_connect";

/// The row's JSON: secrets only in sealed form.
#[derive(Serialize, Deserialize)]
struct StoredRow {
    mode: FacebookMode,
    access_token: Option<String>,
    app_secret: Option<String>,
    // Rows saved before "Connect with Facebook" have none of these.
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    connection: Option<FacebookConnection>,
}

/// The connection in use, secrets in clear (in memory only).
#[derive(Clone, PartialEq, Eq)]
pub struct Effective {
    pub mode: FacebookMode,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub source: SettingsSource,
    /// The Facebook app "Connect with Facebook" signs in to.
    pub app_id: Option<String>,
    /// Set when `access_token` came from "Connect with Facebook"; cleared by a pasted token.
    pub connection: Option<FacebookConnection>,
}

/// The sandbox's demo app secret: "Connect with Facebook" works out of the box in sandbox mode
/// with it and [`crate::sandbox::SANDBOX_APP_ID`], unless an app id or secret is configured.
pub const SANDBOX_APP_SECRET: &str = "5a17b0c5d2e84f6a9b3c1d0e7f8a6b5c";

impl std::fmt::Debug for Effective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effective")
            .field("mode", &self.mode)
            .field("access_token", &self.access_token.as_ref().map(|_| "***"))
            .field("app_secret", &self.app_secret.as_ref().map(|_| "***"))
            .field("source", &self.source)
            .field("app_id", &self.app_id)
            .field("connection", &self.connection)
            .finish()
    }
}

impl Effective {
    pub fn from_env(fb: &FacebookConfig) -> Self {
        Self {
            mode: match fb.mode {
                crate::facebook::FacebookMode::Sandbox => FacebookMode::Sandbox,
                crate::facebook::FacebookMode::Live => FacebookMode::Live,
            },
            // Not the token made up for the sandbox: nobody set one.
            access_token: fb.access_token.clone().filter(|t| {
                !(fb.mode == crate::facebook::FacebookMode::Sandbox && t == "sandbox-token")
            }),
            app_secret: fb.app_secret.clone(),
            source: SettingsSource::Environment,
            app_id: fb.app_id.clone(),
            connection: None,
        }
    }

    /// The app id and secret "Connect with Facebook" uses: the configured ones, or in sandbox
    /// mode the sandbox's demo app for whichever is not configured. `None` when one is missing.
    pub fn login_app(&self) -> Option<(String, String)> {
        let sandbox = self.mode == FacebookMode::Sandbox;
        let id = self
            .app_id
            .clone()
            .or_else(|| sandbox.then(|| crate::sandbox::SANDBOX_APP_ID.to_owned()));
        let secret = self
            .app_secret
            .clone()
            .or_else(|| sandbox.then(|| SANDBOX_APP_SECRET.to_owned()));
        id.zip(secret)
    }

    /// The environment's Facebook configuration with this connection's mode and secrets.
    pub fn apply_to(&self, env: &FacebookConfig) -> FacebookConfig {
        let mut fb = env.clone();
        fb.mode = match self.mode {
            FacebookMode::Sandbox => crate::facebook::FacebookMode::Sandbox,
            FacebookMode::Live => crate::facebook::FacebookMode::Live,
        };
        // The sandbox accepts any token, so one is made up as for the environment.
        fb.access_token = self
            .access_token
            .clone()
            .or_else(|| (self.mode == FacebookMode::Sandbox).then(|| "sandbox-token".to_owned()));
        fb.app_secret = self.app_secret.clone();
        fb.app_id = self.app_id.clone();
        fb
    }
}

/// The stored row's raw text: what processes compare to notice another one's change cheaply.
pub async fn version(db: &Db) -> ApiResult<Option<String>> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar::<_, String>("select value from settings where key = $1")
            .bind(KEY)
            .fetch_optional(pool)
            .await?
    }))
}

/// Opens the stored row (`raw` from [`version`]).
pub fn open(key: &SecretKey, raw: &str) -> ApiResult<Effective> {
    let row: StoredRow = serde_json::from_str(raw)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored Facebook settings: {e}")))?;
    let open = |label: &str, v: Option<String>| -> ApiResult<Option<String>> {
        v.map(|s| key.open(label, &s).map_err(ApiError::Internal))
            .transpose()
    };
    Ok(Effective {
        mode: row.mode,
        access_token: open("access_token", row.access_token)?,
        app_secret: open("app_secret", row.app_secret)?,
        source: SettingsSource::Stored,
        app_id: row.app_id,
        connection: row.connection,
    })
}

/// Seals and saves `settings`; returns the new row text (the new version).
pub async fn save(db: &Db, key: &SecretKey, settings: &Effective) -> ApiResult<String> {
    let seal = |label: &str, v: &Option<String>| -> ApiResult<Option<String>> {
        v.as_deref()
            .map(|s| key.seal(label, s).map_err(ApiError::Internal))
            .transpose()
    };
    let row = StoredRow {
        mode: settings.mode,
        access_token: seal("access_token", &settings.access_token)?,
        app_secret: seal("app_secret", &settings.app_secret)?,
        app_id: settings.app_id.clone(),
        connection: settings.connection.clone(),
    };
    let raw = serde_json::to_string(&row).map_err(|e| ApiError::Internal(e.into()))?;
    with_pool!(db, pool => {
        sqlx::query(
            "insert into settings (key, value) values ($1, $2) \
             on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(KEY)
        .bind(&raw)
        .execute(pool)
        .await?;
    });
    Ok(raw)
}

/// The last "Connect with Facebook" attempt, if any.
pub async fn last_connect(db: &Db) -> ApiResult<Option<ConnectAttempt>> {
    let raw: Option<String> = with_pool!(db, pool => {
        sqlx::query_scalar::<_, String>("select value from settings where key = $1")
            .bind(LAST_CONNECT_KEY)
            .fetch_optional(pool)
            .await?
    });
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Records how a "Connect with Facebook" attempt ended (no secrets in it).
pub async fn record_last_connect(db: &Db, attempt: &ConnectAttempt) -> ApiResult<()> {
    let raw = serde_json::to_string(attempt).map_err(|e| ApiError::Internal(e.into()))?;
    with_pool!(db, pool => {
        sqlx::query(
            "insert into settings (key, value) values ($1, $2) \
             on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(LAST_CONNECT_KEY)
        .bind(&raw)
        .execute(pool)
        .await?;
    });
    Ok(())
}

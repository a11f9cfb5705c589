//! Configuration from the environment, with defaults that make a bare `server` start a usable
//! product: SQLite under `./data/`, bound to loopback.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;

/// Everything the server reads from its environment at start-up.
#[derive(Clone)]
pub struct Config {
    /// `BIND`: address and port to listen on.
    pub bind: SocketAddr,
    /// `DATABASE_URL`: `sqlite://path` or `postgres://…`.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`: the pool's size (default 16 on PostgreSQL, 8 on SQLite).
    /// Several processes on one PostgreSQL database share its `max_connections`.
    pub database_max_connections: Option<u32>,
    /// `SITE_DIR`: serve the SPA from this folder instead of the copy embedded in the binary.
    pub site_dir: Option<PathBuf>,
    /// `BODY_LIMIT_BYTES`: the largest request body accepted.
    pub body_limit_bytes: usize,
    /// `FACEBOOK_MODE`, `FACEBOOK_GRAPH_URL`, `FACEBOOK_APP_SECRET`.
    pub facebook: crate::facebook::FacebookConfig,
    /// `UPLOAD_API_KEY`: the key `POST /api/v1/upload` expects in `X-Api-Key`; uploads are
    /// refused while it is unset, so customer data never arrives unauthenticated.
    pub upload_api_key: Option<String>,
    /// `PUBLIC_URL`: the address users open (e.g. `https://audiences.example.com`) when it is
    /// not the one the server listens on: accepted as the `Origin` of writes, and `https://`
    /// makes the session cookie `Secure`.
    pub public_url: Option<String>,
    /// `SANDBOX_DEBUG=on`: serve the Graph API sandbox's debug endpoints (`/sandbox/debug/…`:
    /// stored audience rows, fault injection, its clock) to signed-in admins. Off by default:
    /// they expose hashed customer data and can break the Facebook connection for everyone, so
    /// only test set-ups turn them on.
    pub sandbox_debug: bool,
    /// `TRUST_PROXY=true`: take the client address (for login throttling) from the last
    /// `X-Forwarded-For` entry, as a reverse proxy in front of the server sets it.
    pub trust_proxy: bool,
    /// `ADMIN_EMAIL` and `ADMIN_PASSWORD`: when both are set and the database has no users yet,
    /// this admin is created at start-up (for automated set-ups such as the browser tests).
    pub bootstrap_admin: Option<(String, String)>,
    /// `WORKER`, `WORKER_POLL_MS`, `JOB_LEASE_SECS`, …: the background scheduler and worker.
    pub jobs: crate::jobs::JobsConfig,
    /// `STATS_REFRESH_SECS`: how often each published campaign's stats are fetched from
    /// Facebook by a `stats` job (`crate::jobs::stats`); 0 turns the periodic fetch off
    /// ("Refresh now" still works).
    pub stats_refresh_secs: u64,
    /// `SECRET_KEY_FILE`: a file holding the key that seals credentials stored in the database.
    pub secret_key_file: Option<PathBuf>,
    /// `SECRET_KEY`: that key itself (base64 or hex, 32 bytes). With neither set, a key file is
    /// generated next to the SQLite database.
    pub secret_key: Option<String>,
    /// `METRICS_TOKEN`: turns on `GET /metrics` for callers sending it as a Bearer token
    /// (`crate::metrics`); unset, `/metrics` answers 404.
    pub metrics_token: Option<String>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/fb-audiences.db";
/// Big enough for an upload of 1000 records with properties, small enough to bound the work.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;
/// Hourly, as CleverTap refreshes its Facebook stats.
pub const DEFAULT_STATS_REFRESH_SECS: u64 = 3600;

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let bind = get("BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind
            .parse()
            .with_context(|| format!("BIND={bind:?} is not an address like 127.0.0.1:3000"))?;
        let body_limit_bytes = match get("BODY_LIMIT_BYTES") {
            Some(v) => v
                .parse()
                .with_context(|| format!("BODY_LIMIT_BYTES={v:?} is not a number of bytes"))?,
            None => DEFAULT_BODY_LIMIT_BYTES,
        };
        let stats_refresh_secs = match get("STATS_REFRESH_SECS") {
            Some(v) => v.trim().parse().with_context(|| {
                format!("STATS_REFRESH_SECS={v:?} is not a number of seconds (0 turns it off)")
            })?,
            None => DEFAULT_STATS_REFRESH_SECS,
        };
        let database_max_connections = get("DATABASE_MAX_CONNECTIONS")
            .map(|v| match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => anyhow::bail!("DATABASE_MAX_CONNECTIONS={v:?} is not a number of connections"),
            })
            .transpose()?;
        let sandbox_debug = match get("SANDBOX_DEBUG").as_deref().map(str::trim) {
            None | Some("off" | "0" | "false") => false,
            Some("on" | "1" | "true") => true,
            Some(other) => anyhow::bail!("SANDBOX_DEBUG={other:?} is not `on` or `off`"),
        };
        Ok(Self {
            bind,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            database_max_connections,
            site_dir: get("SITE_DIR").map(PathBuf::from),
            body_limit_bytes,
            facebook: crate::facebook::FacebookConfig::from_lookup(get)?,
            upload_api_key: get("UPLOAD_API_KEY"),
            public_url: get("PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            sandbox_debug,
            trust_proxy: get("TRUST_PROXY").is_some_and(|v| v == "true" || v == "1"),
            bootstrap_admin: get("ADMIN_EMAIL").zip(get("ADMIN_PASSWORD")),
            jobs: crate::jobs::JobsConfig::from_lookup(get)?,
            stats_refresh_secs,
            secret_key_file: get("SECRET_KEY_FILE").map(PathBuf::from),
            secret_key: get("SECRET_KEY"),
            metrics_token: get("METRICS_TOKEN").map(|t| t.trim().to_owned()),
        })
    }
}

impl std::fmt::Debug for Config {
    // The database URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &crate::db::redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("site_dir", &self.site_dir)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("stats_refresh_secs", &self.stats_refresh_secs)
            .field("facebook", &self.facebook)
            .field(
                "upload_api_key",
                &self.upload_api_key.as_ref().map(|_| "***"),
            )
            .field("public_url", &self.public_url)
            .field("sandbox_debug", &self.sandbox_debug)
            .field("trust_proxy", &self.trust_proxy)
            .field(
                "bootstrap_admin",
                &self
                    .bootstrap_admin
                    .as_ref()
                    .map(|(email, _)| (email, "***")),
            )
            .field("jobs", &self.jobs)
            .field("secret_key_file", &self.secret_key_file)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(config.site_dir.is_none());
    }

    #[test]
    fn the_pool_size_is_a_positive_number() {
        let get = |v: &'static str| {
            move |k: &str| (k == "DATABASE_MAX_CONNECTIONS").then(|| v.to_owned())
        };
        let config = Config::from_lookup(get("4")).unwrap();
        assert_eq!(config.database_max_connections, Some(4));
        for bad in ["0", "many"] {
            let err = Config::from_lookup(get(bad)).unwrap_err();
            assert!(
                err.to_string().contains("DATABASE_MAX_CONNECTIONS"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_sandbox_debug_endpoints_are_off_unless_turned_on() {
        assert!(!Config::from_lookup(|_| None).unwrap().sandbox_debug);
        let get = |v: &'static str| move |k: &str| (k == "SANDBOX_DEBUG").then(|| v.to_owned());
        assert!(Config::from_lookup(get("on")).unwrap().sandbox_debug);
        assert!(!Config::from_lookup(get("off")).unwrap().sandbox_debug);
        let err = Config::from_lookup(get("yes please")).unwrap_err();
        assert!(err.to_string().contains("SANDBOX_DEBUG"), "{err}");
    }

    #[test]
    fn a_bad_bind_address_names_the_variable() {
        let err = Config::from_lookup(|k| (k == "BIND").then(|| "nonsense".into())).unwrap_err();
        assert!(err.to_string().contains("BIND"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let config = Config::from_lookup(|k| {
            (k == "DATABASE_URL").then(|| "postgres://app:s3cret@db/app".into())
        })
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let config =
            Config::from_lookup(|k| (k == "UPLOAD_API_KEY").then(|| "k3y-s3cret".into())).unwrap();
        assert_eq!(config.upload_api_key.as_deref(), Some("k3y-s3cret"));
        assert!(!format!("{config:?}").contains("k3y-s3cret"));
        let config = Config::from_lookup(|k| match k {
            "ADMIN_EMAIL" => Some("root@example.com".into()),
            "ADMIN_PASSWORD" => Some("pa55-s3cret-word".into()),
            _ => None,
        })
        .unwrap();
        assert!(config.bootstrap_admin.is_some());
        assert!(!format!("{config:?}").contains("pa55-s3cret-word"));
    }
}

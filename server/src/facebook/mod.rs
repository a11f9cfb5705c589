//! Facebook Marketing API: match-key hashing, the Graph API client, its errors and rate limits.
//!
//! Everything else reaches Facebook through the [`client::FacebookClient`] trait; the server
//! talks to its own Graph API sandbox (`crate::sandbox`) unless `FACEBOOK_MODE=live`.

pub mod client;
pub mod errors;
pub mod hashing;
pub mod login;
pub mod ratelimit;
pub mod reports;

use std::net::SocketAddr;

pub use client::{FacebookClient, GraphClient};
pub use errors::{ErrorKind, FacebookError};

/// The real Graph API, at the version the sandbox emulates.
pub const LIVE_GRAPH_URL: &str = "https://graph.facebook.com/v25.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacebookMode {
    /// Serve and use the in-process Graph API sandbox (the default).
    Sandbox,
    /// Call graph.facebook.com; the sandbox is not mounted.
    Live,
}

/// Facebook's OAuth dialog ("Connect with Facebook"), on www.facebook.com, not the Graph host.
pub const LIVE_DIALOG_URL: &str = "https://www.facebook.com/v25.0/dialog/oauth";

/// `FACEBOOK_MODE` (sandbox|live), `FACEBOOK_GRAPH_URL`, `FACEBOOK_APP_ID`, `FACEBOOK_APP_SECRET`.
#[derive(Clone)]
pub struct FacebookConfig {
    pub mode: FacebookMode,
    /// Overrides the Graph API base URL (`…/v25.0`).
    pub graph_url: Option<String>,
    /// When set, calls carry `appsecret_proof` (and the sandbox demands it); "Connect with
    /// Facebook" signs in with it.
    pub app_secret: Option<String>,
    /// `FACEBOOK_APP_ID`: the app "Connect with Facebook" signs in to.
    pub app_id: Option<String>,
    /// `FACEBOOK_ACCESS_TOKEN`; in sandbox mode any token works, so one is made up.
    pub access_token: Option<String>,
    /// Where this server listens, filled in by `start` (the sandbox's URL depends on it).
    pub server_addr: Option<SocketAddr>,
    /// Retries and pacing of the client the server builds (tests shorten the waits).
    pub retry: client::RetryPolicy,
}

impl FacebookConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mode = match get("FACEBOOK_MODE").as_deref().map(str::trim) {
            None | Some("") | Some("sandbox") => FacebookMode::Sandbox,
            Some("live") => FacebookMode::Live,
            Some(other) => anyhow::bail!("FACEBOOK_MODE={other:?} is not `sandbox` or `live`"),
        };
        let graph_url = get("FACEBOOK_GRAPH_URL")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        if let Some(url) = &graph_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "FACEBOOK_GRAPH_URL={url:?} is not an http(s) URL"
            );
        }
        let app_id = get("FACEBOOK_APP_ID")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(id) = &app_id {
            anyhow::ensure!(
                shared::settings::is_app_id(id),
                "FACEBOOK_APP_ID={id:?} is not a Facebook app id (digits only)"
            );
        }
        Ok(Self {
            mode,
            graph_url,
            app_id,
            app_secret: get("FACEBOOK_APP_SECRET").filter(|s| !s.trim().is_empty()),
            access_token: get("FACEBOOK_ACCESS_TOKEN")
                .filter(|s| !s.trim().is_empty())
                .or_else(|| (mode == FacebookMode::Sandbox).then(|| "sandbox-token".to_owned())),
            server_addr: None,
            retry: client::RetryPolicy::default(),
        })
    }

    /// The Graph API base URL the client should use, given where this server listens.
    pub fn graph_base(&self, server_addr: SocketAddr) -> String {
        if let Some(url) = &self.graph_url {
            return url.clone();
        }
        match self.mode {
            FacebookMode::Live => LIVE_GRAPH_URL.to_owned(),
            FacebookMode::Sandbox => {
                let host = if server_addr.ip().is_unspecified() {
                    SocketAddr::new([127, 0, 0, 1].into(), server_addr.port())
                } else {
                    server_addr
                };
                format!("http://{host}{}", crate::sandbox::GRAPH_PREFIX)
            }
        }
    }
}

impl std::fmt::Debug for FacebookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacebookConfig")
            .field("mode", &self.mode)
            .field("graph_url", &self.graph_url)
            .field("app_id", &self.app_id)
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("server_addr", &self.server_addr)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_is_the_default_and_live_uses_graph_facebook_com() {
        let c = FacebookConfig::from_lookup(|_| None).unwrap();
        assert_eq!(c.mode, FacebookMode::Sandbox);
        assert_eq!(
            c.graph_base("0.0.0.0:3000".parse().unwrap()),
            "http://127.0.0.1:3000/sandbox/graph/v25.0"
        );
        let live =
            FacebookConfig::from_lookup(|k| (k == "FACEBOOK_MODE").then(|| "live".into())).unwrap();
        assert_eq!(
            live.graph_base("127.0.0.1:1".parse().unwrap()),
            LIVE_GRAPH_URL
        );
        assert!(
            FacebookConfig::from_lookup(|k| (k == "FACEBOOK_MODE").then(|| "prod".into())).is_err()
        );
    }

    #[test]
    fn debug_hides_the_app_secret() {
        let c =
            FacebookConfig::from_lookup(|k| (k == "FACEBOOK_APP_SECRET").then(|| "s3cret".into()))
                .unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}

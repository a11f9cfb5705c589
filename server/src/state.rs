//! The one state value every handler can reach; cheap to clone.

use std::sync::Arc;

use crate::{
    auth::ratelimit::LoginThrottle,
    config::Config,
    db::Db,
    facebook::{FacebookClient, GraphClient},
    jobs::Runtime,
};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    /// Failed sign-ins per account and per address (in memory: one process serves the API).
    pub login_throttle: LoginThrottle,
    /// Facebook's Graph API: the server's own sandbox unless `FACEBOOK_MODE=live`.
    pub facebook: Arc<dyn FacebookClient>,
    /// This process's background-job identity and test hooks.
    pub jobs: Arc<Runtime>,
}

impl AppState {
    /// Builds the Facebook client from `config`; in sandbox mode it needs the address the server
    /// listens on (`config.facebook.server_addr`, set by `start`).
    pub fn new(config: Config, db: Db) -> Self {
        let fb = &config.facebook;
        let addr = fb
            .server_addr
            .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        let client = GraphClient::new(
            fb.graph_base(addr),
            fb.access_token.clone().unwrap_or_default(),
            fb.app_secret.as_deref(),
        )
        .with_policy(fb.retry.clone());
        Self::with_facebook(config, db, Arc::new(client))
    }

    /// With another Facebook client (unit tests inject faults through the trait).
    pub fn with_facebook(config: Config, db: Db, facebook: Arc<dyn FacebookClient>) -> Self {
        Self(Arc::new(Inner {
            config,
            db,
            login_throttle: LoginThrottle::default(),
            facebook,
            jobs: Arc::new(Runtime::new()),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

//! The one state value every handler can reach; cheap to clone.

use std::sync::Arc;

use crate::{auth::ratelimit::LoginThrottle, config::Config, db::Db};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    /// Failed sign-ins per account and per address (in memory: one process serves the API).
    pub login_throttle: LoginThrottle,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        Self(Arc::new(Inner {
            config,
            db,
            login_throttle: LoginThrottle::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

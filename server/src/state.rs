//! The one state value every handler can reach; cheap to clone.

use std::sync::{Arc, RwLock};

use crate::{
    auth::ratelimit::LoginThrottle,
    config::Config,
    db::Db,
    error::ApiResult,
    facebook::{FacebookClient, GraphClient},
    jobs::Runtime,
    secrets::SecretKey,
    settings::{self, Effective},
};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    /// Failed sign-ins per account and per address (in memory: one process serves the API).
    pub login_throttle: LoginThrottle,
    /// Facebook's Graph API, as configured now: see [`AppState::facebook`].
    facebook: RwLock<Connection>,
    /// Seals the credentials stored in the database; `None` only for injected test clients.
    pub secret_key: Option<SecretKey>,
    /// This process's background-job identity and test hooks.
    pub jobs: Arc<Runtime>,
}

/// The client in use and the settings it was built from.
struct Connection {
    client: Arc<dyn FacebookClient>,
    settings: Effective,
    /// The stored settings row it was built from (`None`: the environment's settings); another
    /// process's change shows up as a different row.
    version: Option<String>,
    /// A client injected by tests is never replaced.
    pinned: bool,
}

impl AppState {
    /// Builds the Facebook client from `config`; in sandbox mode it needs the address the server
    /// listens on (`config.facebook.server_addr`, set by `start`).
    pub fn new(config: Config, db: Db, secret_key: SecretKey) -> Self {
        let settings = Effective::from_env(&config.facebook);
        let client = build_client(&config, &settings);
        Self(Arc::new(Inner {
            config,
            db,
            login_throttle: LoginThrottle::default(),
            facebook: RwLock::new(Connection {
                client,
                settings,
                version: None,
                pinned: false,
            }),
            secret_key: Some(secret_key),
            jobs: Arc::new(Runtime::new()),
        }))
    }

    /// With another Facebook client (unit tests inject faults through the trait).
    pub fn with_facebook(config: Config, db: Db, facebook: Arc<dyn FacebookClient>) -> Self {
        let settings = Effective::from_env(&config.facebook);
        Self(Arc::new(Inner {
            config,
            db,
            login_throttle: LoginThrottle::default(),
            facebook: RwLock::new(Connection {
                client: facebook,
                settings,
                version: None,
                pinned: true,
            }),
            secret_key: None,
            jobs: Arc::new(Runtime::new()),
        }))
    }

    /// The Facebook client as last loaded; call [`AppState::refresh_facebook`] first where a
    /// change made by another process must be seen (job starts, requests).
    pub fn facebook(&self) -> Arc<dyn FacebookClient> {
        self.0
            .facebook
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .client
            .clone()
    }

    /// The connection settings in use (secrets in clear: never send or log them).
    pub fn facebook_settings(&self) -> Effective {
        self.0
            .facebook
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .settings
            .clone()
    }

    /// Rebuilds the client when the stored settings changed (here or in another process on the
    /// same database): one primary-key read when nothing changed.
    pub async fn refresh_facebook(&self) -> ApiResult<()> {
        let Some(key) = &self.secret_key else {
            return Ok(());
        };
        let version = settings::version(&self.db).await?;
        {
            let current = self
                .0
                .facebook
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if current.pinned || current.version == version {
                return Ok(());
            }
        }
        let settings = match &version {
            Some(raw) => settings::open(key, raw)?,
            None => Effective::from_env(&self.config.facebook),
        };
        self.install(settings, version);
        Ok(())
    }

    /// Uses `settings` (just saved as row `version`) from now on.
    pub fn install(&self, settings: Effective, version: Option<String>) {
        let client = build_client(&self.config, &settings);
        let mut current = self
            .0
            .facebook
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.pinned {
            return;
        }
        *current = Connection {
            client,
            settings,
            version,
            pinned: false,
        };
    }
}

fn build_client(config: &Config, settings: &Effective) -> Arc<dyn FacebookClient> {
    let fb = settings.apply_to(&config.facebook);
    let addr = fb
        .server_addr
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let client = GraphClient::new(
        fb.graph_base(addr),
        fb.access_token.clone().unwrap_or_default(),
        fb.app_secret.as_deref(),
    )
    .with_policy(fb.retry);
    Arc::new(client)
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

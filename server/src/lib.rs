//! The server of the Facebook Audiences module: JSON API under `/api`, persistence, and the built
//! SPA. `main.rs` only parses the command line; everything runs through [`run`] and [`start`] so
//! the integration tests start exactly the server users run.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod bench_segment_api;
pub mod campaigns;
pub mod config;
pub mod connect;
pub mod customer;
pub mod db;
pub mod engine;
pub mod error;
pub mod facebook;
pub mod jobs;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod sandbox;
pub mod secrets;
pub mod settings;
pub mod spa;
pub mod state;
pub mod stats;
pub mod sync;
pub mod telemetry;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};

use crate::{config::Config, db::Db, state::AppState};

/// A started server: where it listens, and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    /// The background scheduler and worker, when `WORKER` is on.
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // The worker first: a job it was running keeps its lease and is resumed later.
        if let Some((stop, task)) = self.worker {
            let _ = stop.send(true);
            let _ = task.await;
        }
        let _ = self.stop.send(());
        self.task.await.context("server task panicked")?
    }
}

/// Connects to the database, applies migrations, binds and starts serving in the background.
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    let db = Db::connect_with(&config.database_url, config.database_max_connections).await?;
    db.migrate().await?;
    bootstrap_admin(&config, &db).await?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "cannot listen on {} (set BIND to another address)",
            config.bind
        )
    })?;
    let addr = listener.local_addr()?;
    config.facebook.server_addr = Some(addr);
    if matches!(db, Db::Postgres(_))
        && config.secret_key.is_none()
        && config.secret_key_file.is_none()
    {
        // Every process on one database must open what the others sealed.
        tracing::warn!(
            "SECRET_KEY and SECRET_KEY_FILE are unset: using a key file in ./data, which other \
             server processes on this PostgreSQL database do not share; set the same \
             SECRET_KEY (or SECRET_KEY_FILE) for all of them"
        );
    }
    let secret_key = secrets::SecretKey::load(
        config.secret_key_file.as_deref(),
        config.secret_key.as_deref(),
        &config.database_url,
    )?;
    let state = AppState::new(config, db.clone(), secret_key);
    // Credentials saved on the Settings page take over from the environment's.
    state.refresh_facebook().await?;
    let app = routes::build_router(state.clone());
    let worker = state.config.jobs.worker.then(|| {
        let (stop, stopped) = watch::channel(false);
        (stop, jobs::spawn_worker(state.clone(), stopped))
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // The peer address is what login throttling counts per client.
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
        .context("serving HTTP");
        served?;
        db.close().await;
        Ok(())
    });
    Ok(RunningServer {
        addr,
        state,
        stop,
        task,
        worker,
    })
}

/// Creates the `ADMIN_EMAIL`/`ADMIN_PASSWORD` admin when the database has no users yet.
async fn bootstrap_admin(config: &Config, db: &Db) -> anyhow::Result<()> {
    let Some((email, password)) = &config.bootstrap_admin else {
        return Ok(());
    };
    let new = shared::account::NewUser {
        email: email.clone(),
        password: password.clone(),
        role: shared::account::Role::Admin,
    };
    match auth::users::create(db, &new, "ADMIN_EMAIL", true, campaigns::now()).await {
        Ok(Some(user)) => tracing::info!(email = %user.email, "created the admin from ADMIN_EMAIL"),
        Ok(None) => {}
        Err(err) => anyhow::bail!("ADMIN_EMAIL/ADMIN_PASSWORD: {err}"),
    }
    Ok(())
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let server = start(config).await?;
    tracing::info!(
        url = %format!("http://{}", server.addr),
        database = server.state.db.kind().label(),
        "listening"
    );
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    server.shutdown().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

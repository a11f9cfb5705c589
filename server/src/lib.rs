//! The server of the Facebook Audiences module: JSON API under `/api`, persistence, and the built
//! SPA. `main.rs` only parses the command line; everything runs through [`run`] and [`start`] so
//! the integration tests start exactly the server users run.

pub mod bench;
pub mod campaigns;
pub mod config;
pub mod customer;
pub mod db;
pub mod engine;
pub mod error;
pub mod facebook;
pub mod middleware;
pub mod routes;
pub mod sandbox;
pub mod spa;
pub mod state;
pub mod telemetry;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{config::Config, db::Db, state::AppState};

/// A started server: where it listens, and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task panicked")?
    }
}

/// Connects to the database, applies migrations, binds and starts serving in the background.
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "cannot listen on {} (set BIND to another address)",
            config.bind
        )
    })?;
    let addr = listener.local_addr()?;
    config.facebook.server_addr = Some(addr);
    let state = AppState::new(config, db.clone());
    let app = routes::build_router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .context("serving HTTP")?;
        db.close().await;
        Ok(())
    });
    Ok(RunningServer {
        addr,
        state,
        stop,
        task,
    })
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

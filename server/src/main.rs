//! `server`: runs the product (default), or one of its maintenance commands.

use clap::{Parser, Subcommand};
use server::config::Config;

#[derive(Parser)]
#[command(
    version,
    about = "Facebook Audiences: API, background jobs and the web app in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the app (the default). Configured by environment variables: BIND,
    /// DATABASE_URL, SITE_DIR, BODY_LIMIT_BYTES, RUST_LOG, LOG_FORMAT.
    Serve {
        /// Add demo data when the database is empty (used by `cargo xtask run --demo`).
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Add demo customer data (profiles and events) to the database, then exit.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        profiles: u64,
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        /// Events are spread over this many days before now.
        #[arg(long, default_value_t = 120)]
        days: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    server::telemetry::init();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            if demo {
                let db = server::db::Db::connect(&config.database_url).await?;
                db.migrate().await?;
                let added = server::customer::seed::seed_demo_if_empty(&db).await?;
                tracing::info!(records = added, "--demo: demo customer data ready");
                db.close().await;
            }
            server::run(config).await
        }
        Command::Seed {
            profiles,
            events,
            days,
        } => {
            let db = server::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let server::db::Db::Sqlite(pool) = &db else {
                anyhow::bail!("seeding is only implemented for SQLite so far");
            };
            let started = std::time::Instant::now();
            let size = server::customer::seed::SeedSize {
                profiles,
                events,
                days,
            };
            let n = server::customer::seed::seed(pool, &size, jiff::Timestamp::now().as_second())
                .await?;
            let secs = started.elapsed().as_secs_f64();
            tracing::info!(
                records = n,
                seconds = secs,
                per_second = n as f64 / secs,
                "seeded"
            );
            Ok(())
        }
        Command::Migrate => {
            let db = server::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

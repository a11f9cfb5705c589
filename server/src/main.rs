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
    /// Benchmark the segment engine and the upload API on the reference data set (built once
    /// into DIR and reused while the schema is unchanged); what `cargo xtask bench segments` runs.
    Bench {
        /// Only `segments` so far.
        #[arg(default_value = "segments")]
        what: String,
        #[arg(long, default_value = "target/bench")]
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = server::bench::REFERENCE.profiles)]
        profiles: u64,
        #[arg(long, default_value_t = server::bench::REFERENCE.events)]
        events: u64,
        #[arg(long, default_value_t = server::bench::REFERENCE.days)]
        days: u64,
        /// Estimates measured (after one warm-up); the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Events uploaded through `POST /api/v1/upload` for the ingestion figure.
        #[arg(long, default_value_t = 200_000)]
        ingest_events: u64,
        #[arg(long, default_value_t = 1000)]
        ingest_batch: u64,
        #[arg(long, default_value_t = 4)]
        ingest_clients: u64,
    },
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
        Command::Bench {
            what,
            dir,
            profiles,
            events,
            days,
            runs,
            ingest_events,
            ingest_batch,
            ingest_clients,
        } => {
            if what != "segments" {
                anyhow::bail!("unknown benchmark {what:?}; the one there is: segments");
            }
            let opts = server::bench::BenchOptions {
                dir,
                size: server::bench::Size {
                    profiles,
                    events,
                    days,
                },
                runs: runs.max(1),
                ingest_events,
                ingest_batch: ingest_batch.clamp(1, 1000),
                ingest_clients,
            };
            server::bench::run(&opts).await
        }
        Command::Migrate => {
            let db = server::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

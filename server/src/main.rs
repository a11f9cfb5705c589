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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    server::telemetry::init();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            if demo {
                // Campaigns, segments and profiles arrive with their features; until then the
                // sandbox's ad accounts are the only data there is to show.
                tracing::info!("--demo: no demo data to add yet");
            }
            server::run(config).await
        }
        Command::Migrate => {
            let db = server::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

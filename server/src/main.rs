//! `server`: runs the product (default), or one of its maintenance commands.

// `user add` and `serve --demo` print credentials for the person at the terminal, not the log.
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use server::{auth, config::Config, db::Db};
use shared::account::{NewUser, Role};

#[derive(Parser)]
#[command(
    version,
    about = "Facebook Audiences: API, background jobs and the web app in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once per process: the bench's many options make its variant large, which costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the API and the app (the default). Configured by environment variables: BIND,
    /// DATABASE_URL, SITE_DIR, BODY_LIMIT_BYTES, METRICS_TOKEN, RUST_LOG, LOG_FORMAT.
    Serve {
        /// Add demo data when the database is empty (used by `cargo xtask run --demo`).
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Copy the SQLite database (DATABASE_URL) to FILE, consistently, while the server runs.
    /// FILE must not exist. For PostgreSQL use pg_dump (see the README).
    Backup {
        /// Where to write the copy, e.g. backups/fb-audiences-2026-12-07.db.
        file: std::path::PathBuf,
    },
    /// Exit 0 when the server listening on BIND answers GET /api/health/ready, 1 otherwise
    /// (a container health check that needs no curl).
    Healthcheck,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Benchmark the segment engine and the upload API on the reference data set (built once
    /// into DIR and reused while the schema is unchanged); what `cargo xtask bench segments` runs.
    Bench {
        /// `segments`, or `segment-api` (ingestion through Segment's `/v1/batch` on a fresh
        /// database; takes --dir, --ingest-events, --ingest-batch, --ingest-clients and
        /// --ingest-database-url).
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
        /// Events uploaded through `POST /api/v1/upload` into a fresh database, in time order
        /// over 10,000 profiles (the figure before the backfill existed; 0 skips it).
        #[arg(long, default_value_t = 0)]
        ingest_events: u64,
        #[arg(long, default_value_t = 1000)]
        ingest_batch: u64,
        #[arg(long, default_value_t = 4)]
        ingest_clients: u64,
        /// Measure ingestion on this (empty) database, e.g. a PostgreSQL one, instead of a
        /// fresh SQLite file in DIR.
        #[arg(long)]
        ingest_database_url: Option<String>,
        /// Also measure on PostgreSQL: the reference data set is written into this database
        /// (`postgres://…/DB`, created when missing, kept between runs, rebuilt when stale).
        #[arg(long)]
        postgres_url: Option<String>,
        /// Backfill through `POST /api/v1/upload` (a fresh database per order and
        /// distribution, the server as a child process): this many profiles first …
        #[arg(long, default_value_t = 20_000)]
        backfill_profiles: u64,
        /// … then this many events (0 skips the backfill), over `--days` days.
        #[arg(long, default_value_t = 400_000)]
        backfill_events: u64,
        /// Event orders, comma-separated: random (a backfill file), sorted (by time).
        #[arg(long, value_delimiter = ',', default_value = "random,sorted")]
        backfill_orders: Vec<server::bench::backfill::Order>,
        /// Distributions over profiles: skewed (one profile has half the events), power
        /// (Zipf-like), uniform.
        #[arg(long, value_delimiter = ',', default_value = "skewed,power")]
        backfill_dists: Vec<server::bench::backfill::Dist>,
        /// Backfill into PostgreSQL: an admin URL; each run creates (and drops) a database.
        #[arg(long)]
        backfill_postgres_url: Option<String>,
        /// Keep the backfill databases (under DIR or on PostgreSQL) instead of deleting them.
        #[arg(long)]
        backfill_keep: bool,
        /// The server binary the backfill measures (default: this one).
        #[arg(long)]
        backfill_server: Option<std::path::PathBuf>,
        /// Only the backfill (no reference data set, estimate or member streaming).
        #[arg(long)]
        backfill_only: bool,
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

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (e.g. the first admin). The password is read from the SERVER_USER_PASSWORD
    /// environment variable if set, otherwise a random one is generated and printed once.
    Add {
        /// The user's e-mail address (their sign-in name).
        email: String,
        /// Make the user an admin (same as --role admin).
        #[arg(long)]
        admin: bool,
        /// admin, marketer or viewer.
        #[arg(long, default_value = "viewer", value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: use admin, marketer or viewer"))
}

/// The demo admin `--demo` signs in with.
const DEMO_EMAIL: &str = "demo@example.com";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    server::telemetry::init();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            if demo {
                let db = Db::connect(&config.database_url).await?;
                db.migrate().await?;
                let added = server::customer::seed::seed_demo_if_empty(&db).await?;
                tracing::info!(records = added, "--demo: demo customer data ready");
                demo_admin(&db).await?;
                db.close().await;
            }
            server::run(config).await
        }
        Command::Seed {
            profiles,
            events,
            days,
        } => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let started = std::time::Instant::now();
            let size = server::customer::seed::SeedSize {
                profiles,
                events,
                days,
            };
            let n = server::customer::seed::seed(&db, &size, jiff::Timestamp::now().as_second())
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
        Command::User {
            command: UserCommand::Add { email, admin, role },
        } => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let (password, generated) = match std::env::var("SERVER_USER_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (auth::random_hex(12)?, true),
            };
            let new = NewUser {
                email,
                password: password.clone(),
                role: if admin { Role::Admin } else { role },
            };
            let user = auth::users::create(
                &db,
                &new,
                "server user add",
                false,
                server::campaigns::now(),
            )
            .await
            .map_err(|err| anyhow::anyhow!("{}", describe(&err)))?
            .ok_or_else(|| anyhow::anyhow!("the user was not stored"))?;
            println!("Added {} ({}).", user.email, user.role.label());
            if generated {
                println!(
                    "Password: {password}\n(shown once; change it by asking an admin to set a new one)"
                );
            }
            db.close().await;
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
            ingest_database_url,
            postgres_url,
            backfill_profiles,
            backfill_events,
            backfill_orders,
            backfill_dists,
            backfill_postgres_url,
            backfill_keep,
            backfill_server,
            backfill_only,
        } => {
            if what == "segment-api" {
                return server::bench_segment_api::run(&server::bench_segment_api::Options {
                    dir,
                    events: ingest_events,
                    batch: ingest_batch.clamp(1, 1000),
                    clients: ingest_clients,
                    database_url: ingest_database_url,
                })
                .await;
            }
            if what != "segments" {
                anyhow::bail!("unknown benchmark {what:?}; there are: segments, segment-api");
            }
            let backfill = (backfill_events > 0 || backfill_only).then(|| {
                server::bench::backfill::BackfillOptions {
                    dir: dir.clone(),
                    profiles: backfill_profiles,
                    events: backfill_events,
                    days,
                    orders: backfill_orders,
                    dists: backfill_dists,
                    clients: ingest_clients.max(1) as usize,
                    batch: ingest_batch.clamp(1, 1000),
                    postgres_url: backfill_postgres_url,
                    keep: backfill_keep,
                    server_binary: backfill_server,
                }
            });
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
                ingest_database_url,
                postgres_url,
                backfill,
                backfill_only,
            };
            server::bench::run(&opts).await
        }
        Command::Backup { file } => {
            let backup = server::backup::run(&config.database_url, &file).await?;
            println!(
                "Backed up {} to {} ({} bytes{}; integrity check ok).",
                backup.source.display(),
                backup.file.display(),
                backup.bytes,
                backup
                    .migration
                    .map(|m| format!(", schema version {m}"))
                    .unwrap_or_default()
            );
            let key = match (&config.secret_key_file, &config.secret_key) {
                (Some(path), _) => Some(format!("SECRET_KEY_FILE ({})", path.display())),
                (None, Some(_)) => Some("SECRET_KEY".to_owned()),
                (None, None) => {
                    let path = server::secrets::default_key_path(&config.database_url);
                    path.exists().then(|| path.display().to_string())
                }
            };
            if let Some(key) = key {
                println!(
                    "The Facebook credentials saved on Settings are sealed with the key in \
                     {key}, which is not in the copy: keep that key with your backups."
                );
            }
            Ok(())
        }
        Command::Healthcheck => healthcheck(&config).await,
        Command::Migrate => {
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

/// `--demo`: a demo admin with a fresh random password, printed so the person who started the
/// demo can sign in. Created only while the database has no users, or reset if it is the demo
/// admin from an earlier `--demo` run; real accounts are never touched.
async fn demo_admin(db: &Db) -> anyhow::Result<()> {
    let password = auth::random_hex(8)?;
    let now = server::campaigns::now();
    let new = NewUser {
        email: DEMO_EMAIL.into(),
        password: password.clone(),
        role: Role::Admin,
    };
    let created = auth::users::create(db, &new, "--demo", true, now)
        .await
        .map_err(|err| anyhow::anyhow!("{}", describe(&err)))?;
    if created.is_none() {
        let Some((id, _, _)) = auth::users::credentials(db, DEMO_EMAIL).await? else {
            println!("--demo: this database already has accounts; sign in with one of them.");
            return Ok(());
        };
        let change = shared::account::UserUpdate {
            password: Some(password.clone()),
            disabled: Some(false),
            ..Default::default()
        };
        auth::users::update(db, id, &change, now).await?;
    }
    println!("\n--demo: sign in as {DEMO_EMAIL} with the password {password}\n");
    Ok(())
}

/// `server healthcheck`: asks this machine's server whether it is ready.
async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        // Listening on every interface (0.0.0.0 or ::): loopback is one of them.
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let url = format!("http://{addr}/api/health/ready");
    let res = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(&url)
        .send()
        .await
        .map_err(|err| anyhow::anyhow!("{url}: {err}"))?;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("{url}: {status} {body}");
    }
    println!("{body}");
    Ok(())
}

/// An API error as one line for the terminal, field problems included.
fn describe(err: &server::error::ApiError) -> String {
    match err {
        server::error::ApiError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

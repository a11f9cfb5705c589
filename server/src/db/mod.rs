//! The database: SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//!
//! Each backend has its own migrations folder (`migrations/sqlite`, `migrations/postgres`), because
//! their SQL dialects differ; queries are written with runtime `query`/`query_as` so one crate can
//! target both.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use shared::health::DatabaseKind;
use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// Connections per process unless `DATABASE_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_PG_CONNECTIONS: u32 = 16;
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 8;

/// A connection pool to whichever database the server was configured with.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, None).await
    }

    /// [`Db::connect`] with at most `max_connections` in the pool (`DATABASE_MAX_CONNECTIONS`)
    /// instead of the backend's default: PostgreSQL's connections are shared by every process
    /// on the database.
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // No JIT: the planner's cost threshold sends the segment engine's index scans of a
            // few hundred thousand rows to LLVM, which then costs more than the scan (an estimate
            // leaf went from 60 ms to 300 ms with it).
            let options = PgConnectOptions::from_str(url)
                .with_context(|| format!("{} is not a PostgreSQL URL", redact_url(url)))?
                .options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.unwrap_or(DEFAULT_PG_CONNECTIONS))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .with_context(|| format!("cannot connect to {}", redact_url(url)))?;
            return Ok(Self::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            anyhow::bail!(
                "DATABASE_URL must start with sqlite:// or postgres://, got {}",
                redact_url(url)
            );
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL={url:?} is not a SQLite URL"))?
            .create_if_missing(true)
            // WAL lets readers (estimates, the API) proceed while a job writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoint every 16,384 pages (64 MiB) of WAL instead of SQLite's 1,000: an upload
            // rewrites hundreds of index pages, so the default checkpointed (copying pages back
            // into the file and syncing it) after nearly every upload, which halved ingestion.
            .pragma("wal_autocheckpoint", "16384")
            // After a checkpoint the WAL file is cut back to 64 MiB: without a limit it keeps the
            // size of the largest transaction ever written (a bulk import) for good.
            .pragma("journal_size_limit", "67108864")
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent() {
            create_dir(parent)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.unwrap_or(DEFAULT_SQLITE_CONNECTIONS))
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {url}"))?;
        Ok(Self::Sqlite(pool))
    }

    /// Applies the migrations this binary carries for the backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("applying database migrations")?;
        // Data an SQL migration cannot move: memberships stored whole by earlier versions.
        crate::sync::store::convert_legacy(self)
            .await
            .context("splitting confirmed memberships into chunks")?;
        Ok(())
    }

    /// The migrations this binary carries for the backend.
    pub fn migrator(&self) -> &'static Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// How the database's applied migrations compare with this binary's, for the readiness
    /// check. An error only when the database does not answer.
    pub async fn migration_status(&self) -> Result<MigrationStatus, sqlx::Error> {
        self.ping().await?;
        // (version, checksum, success) as sqlx records them.
        const APPLIED: &str = "select version, checksum, success from _sqlx_migrations";
        let applied: Result<Vec<(i64, Vec<u8>, bool)>, _> = match self {
            Self::Sqlite(pool) => sqlx::query_as(APPLIED).fetch_all(pool).await,
            Self::Postgres(pool) => sqlx::query_as(APPLIED).fetch_all(pool).await,
        };
        let applied = match applied {
            Ok(rows) => rows,
            // Answered, but without the table: nothing was ever applied.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(other) => return Err(other),
        };
        let mut status = MigrationStatus::default();
        for m in self.migrator().iter() {
            if m.migration_type.is_down_migration() {
                continue;
            }
            status.latest = status.latest.max(m.version);
            match applied.iter().find(|(v, _, _)| *v == m.version) {
                None => status.missing.push(m.version),
                Some((_, _, false)) => status.failed.push(m.version),
                Some((_, sum, true)) if *sum != *m.checksum => status.changed.push(m.version),
                Some(_) => status.applied += 1,
            }
        }
        Ok(status)
    }

    pub fn kind(&self) -> DatabaseKind {
        match self {
            Self::Sqlite(_) => DatabaseKind::Sqlite,
            Self::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// A round trip to the database, for the health check.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The database's migrations against this binary's ([`Db::migration_status`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// This binary's migrations the database has, unchanged.
    pub applied: usize,
    /// The newest migration this binary carries.
    pub latest: i64,
    /// Not applied yet.
    pub missing: Vec<i64>,
    /// Applied, but the attempt failed.
    pub failed: Vec<i64>,
    /// Applied from different SQL than this binary's (another build's migration file).
    pub changed: Vec<i64>,
}

impl MigrationStatus {
    /// Why the server should not take traffic on this database, in words for an operator.
    pub fn problem(&self) -> Option<String> {
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        if !self.failed.is_empty() {
            return Some(format!(
                "Database migration {} failed part way; fix the database, then restart the server.",
                list(&self.failed)
            ));
        }
        if !self.changed.is_empty() {
            return Some(format!(
                "Database migration {} was applied from different SQL than this server's; the \
                 database belongs to another build.",
                list(&self.changed)
            ));
        }
        if !self.missing.is_empty() {
            return Some(format!(
                "The database lacks migration {} of this server's {}; restart the server (it \
                 migrates at start-up) or run `server migrate`.",
                list(&self.missing),
                self.applied + self.missing.len()
            ));
        }
        None
    }
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds. The body is written once and
/// compiled once per backend, so a query that is portable (`$1` placeholders, text timestamps,
/// `FromRow` rows) needs no second copy:
///
/// ```text
/// with_pool!(db, pool => sqlx::query("delete from labels where id = $1").bind(id).execute(pool).await)
/// ```
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// `url` (a PostgreSQL URL) with its database name replaced by `name`, its query kept: how the
/// tests and benches reach the databases they create from an admin URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let host_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_end..].find('/') {
        Some(i) => &base[..host_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The URL with any password replaced, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// Throwaway PostgreSQL databases for unit tests, when `TEST_POSTGRES_URL` names an admin URL
/// (`cargo xtask test` sets it; the integration tests have their own, faster, helper).
#[cfg(test)]
pub(crate) mod scratch {
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::{Connection, PgConnection};

    use super::Db;

    /// A migrated database of its own; dropped when this drops.
    pub struct ScratchDb {
        pub db: Db,
        pub url: String,
        admin: String,
        name: String,
    }

    impl ScratchDb {
        /// `None` (and a note on stderr) when `TEST_POSTGRES_URL` is unset.
        pub async fn create(test: &str) -> Option<Self> {
            let Some(admin) = std::env::var("TEST_POSTGRES_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
            else {
                eprintln!("{test}: skipped on PostgreSQL (TEST_POSTGRES_URL is not set)");
                return None;
            };
            let (base, _) = admin.split_once('?').unwrap_or((&admin, ""));
            let (server, admin_db) = match base.rsplit_once('/') {
                Some((server, db)) if !server.ends_with('/') => (server, db),
                _ => (base, ""),
            };
            // Named after `cargo xtask test`'s run database, which sweeps up what a killed run
            // leaves behind.
            let prefix = if admin_db.starts_with("fbrun_") {
                admin_db
            } else {
                "fbunit"
            };
            static N: AtomicU32 = AtomicU32::new(0);
            let name = format!(
                "{prefix}_u{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            execute(&admin, &format!("create database \"{name}\""))
                .await
                .expect("creating a scratch database");
            let url = format!("{server}/{name}");
            let db = Db::connect(&url).await.expect("connecting");
            db.migrate().await.expect("migrating");
            Some(Self {
                db,
                url,
                admin,
                name,
            })
        }
    }

    impl Drop for ScratchDb {
        fn drop(&mut self) {
            let (admin, name) = (self.admin.clone(), self.name.clone());
            // `Drop` cannot await; `with (force)` ends the pool's connections.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| {
                        rt.block_on(execute(
                            &admin,
                            &format!("drop database if exists \"{name}\" with (force)"),
                        ))
                    })
            })
            .join();
        }
    }

    async fn execute(admin: &str, sql: &str) -> sqlx::Result<()> {
        let mut conn = PgConnection::connect(admin).await?;
        let result = sqlx::query(sql).execute(&mut conn).await.map(drop);
        let _ = conn.close().await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_database_keeps_the_server_and_the_query() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "t2"), "postgres://u@h/t2");
    }

    #[test]
    fn redaction_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://app:pw@h:5432/db"),
            "postgres://app:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[tokio::test]
    async fn sqlite_file_and_folder_are_created_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/app.db", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
        assert!(dir.path().join("nested/app.db").exists());
        // Applying twice is a no-op, as at every restart.
        db.migrate().await.unwrap();
        assert_eq!(db.kind(), DatabaseKind::Sqlite);
    }

    #[tokio::test]
    async fn on_postgres_migrations_apply_once_and_the_pool_size_is_configurable() {
        let test = "on_postgres_migrations_apply_once_and_the_pool_size_is_configurable";
        let Some(scratch) = scratch::ScratchDb::create(test).await else {
            return;
        };
        let db = &scratch.db;
        assert_eq!(db.kind(), DatabaseKind::Postgres);
        // Applying again, as every process does at start-up, is a no-op.
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
        let small = Db::connect_with(&scratch.url, Some(2)).await.unwrap();
        let Db::Postgres(small_pool) = &small else {
            unreachable!()
        };
        assert_eq!(small_pool.options().get_max_connections(), 2);
        small.close().await;
        db.close().await;
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_with_a_clear_message() {
        let err = Db::connect("mysql://x").await.unwrap_err();
        assert!(
            err.to_string().contains("sqlite:// or postgres://"),
            "{err}"
        );
    }
}

//! Throwaway PostgreSQL databases, when `TEST_POSTGRES_URL` names an admin URL (`cargo xtask
//! test` sets it for the suite's second pass). Without it every test runs on its own SQLite file.
//!
//! Tests run in parallel, so each gets its own database, and creating one must be quick: the
//! migrations are applied once per test process to a template database, and each test's
//! database is a copy of it (`create database … template …`). Names start with the admin URL's
//! database (or `fbtest`) and this process's id, so parallel runs never collide, and databases
//! left behind by an ended process (its template, drops still under way when it exited, all of
//! them when it was killed) are dropped by the next process that sees its id is gone.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

/// `TEST_POSTGRES_URL`, when set.
pub fn admin_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A database of its own for one test; dropped (connections and all) when this drops.
pub struct PgDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// A fresh database with every migration applied, or `None` when the suite runs on SQLite.
    pub async fn create() -> Option<Self> {
        let admin = admin_url()?;
        let template = TEMPLATE.get_or_init(|| make_template(&admin)).await.clone();
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("{}_{}", prefix(&admin), N.fetch_add(1, Ordering::Relaxed));
        execute(
            &admin,
            &format!("create database \"{name}\" template \"{template}\""),
        )
        .await
        .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        Some(Self {
            url: test_url(&admin, &name),
            admin,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // `Drop` cannot await, and the test's runtime may be shutting down: a thread with a
        // runtime of its own drops the database (`with (force)` ends the server's connections).
        // The test does not wait for it: a drop takes about a second here (PostgreSQL waits for
        // a checkpoint), more than most tests. One still under way when the test process exits
        // is finished by the next process's sweep, or by `cargo xtask test`'s.
        let admin = self.admin.clone();
        let name = self.name.clone();
        std::thread::spawn(move || {
            let dropped = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(drop_database(&admin, &name)));
            if let Err(err) = dropped {
                eprintln!("could not drop the test database {name}: {err}");
            }
        });
    }
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// `<admin database or fbtest>_p<pid>`: this process's databases.
fn prefix(admin: &str) -> String {
    format!("{}_p{}", base(admin), std::process::id())
}

fn base(admin: &str) -> String {
    let db = admin
        .split('?')
        .next()
        .and_then(|main| main.split_once("://"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, db)| db)
        .unwrap_or_default();
    let clean = !db.is_empty()
        && db.len() <= 30
        && db
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if clean && !matches!(db, "postgres" | "template1" | "root" | "test") {
        db.to_owned()
    } else {
        "fbtest".to_owned()
    }
}

/// `admin` with its database replaced by `name`.
pub fn database_url(admin: &str, name: &str) -> String {
    let mut url = reqwest::Url::parse(admin).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The URL a test server uses: commits need not wait for the disk (a test database is thrown
/// away anyway), which makes the suite several times faster on a slow disk.
fn test_url(admin: &str, name: &str) -> String {
    let mut url = reqwest::Url::parse(&database_url(admin, name)).expect("a URL");
    url.query_pairs_mut()
        .append_pair("options", "-c synchronous_commit=off");
    url.to_string()
}

/// Drops what dead test processes left behind, then migrates this process's template.
async fn make_template(admin: &str) -> String {
    sweep_dead_processes(admin).await;
    let name = format!("{}_template", prefix(admin));
    let _ = drop_database(admin, &name).await;
    execute(admin, &format!("create database \"{name}\""))
        .await
        .unwrap_or_else(|e| panic!("creating the template database {name}: {e}"));
    let db = server::db::Db::connect(&database_url(admin, &name))
        .await
        .expect("connecting to the template database");
    db.migrate().await.expect("migrating the template database");
    // A template must have no connections while it is copied.
    db.close().await;
    name
}

async fn sweep_dead_processes(admin: &str) {
    let pattern = format!("{}\\_p%", base(admin));
    let Ok(mut conn) = PgConnection::connect(admin).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like $1")
            .bind(&pattern)
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    let _ = conn.close().await;
    let prefix = format!("{}_p", base(admin));
    for name in names {
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        // Only on Linux can a process id be checked this simply; elsewhere nothing is swept.
        let proc = std::path::Path::new("/proc");
        if let Some(pid) = pid
            && proc.join("self").exists()
            && !proc.join(pid.to_string()).exists()
        {
            let _ = drop_database(admin, &name).await;
        }
    }
}

async fn drop_database(admin: &str, name: &str) -> Result<(), String> {
    execute(
        admin,
        &format!("drop database if exists \"{name}\" with (force)"),
    )
    .await
}

async fn execute(admin: &str, sql: &str) -> Result<(), String> {
    let mut conn = PgConnection::connect(admin)
        .await
        .map_err(|e| format!("connecting to TEST_POSTGRES_URL: {e}"))?;
    let result = sqlx::query(sql).execute(&mut conn).await.map(drop);
    let _ = conn.close().await;
    result.map_err(|e| e.to_string())
}

//! The PostgreSQL server the test suite's second pass runs against: started when it is down, and
//! one throwaway database per `cargo xtask test` run, dropped afterwards (also on failure) with
//! every database the tests made from it.
//!
//! The tests read `TEST_POSTGRES_URL` as an admin URL: they create (and drop) one database per
//! test, named after the admin URL's database. Pointing it at this run's database rather than at
//! `postgres` gives every database of the run one prefix, so the run can sweep up what a killed
//! test process left behind without touching another run's databases.

use std::{
    net::{SocketAddr, TcpStream},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::cmd;

/// The local server's admin URL (trust authentication, as Debian's package sets it up for CI).
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL: &str = "127.0.0.1:5432";

/// The admin URL to use: `TEST_POSTGRES_URL` when set (another server, not started here),
/// otherwise the local server, started if it is down.
pub fn admin_url() -> anyhow::Result<String> {
    if let Some(url) = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(url);
    }
    ensure_local_server()?;
    Ok(DEFAULT_ADMIN_URL.to_owned())
}

fn reachable() -> bool {
    let addr: SocketAddr = LOCAL.parse().expect("a socket address");
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// Starts the machine's PostgreSQL cluster when nothing listens on 5432.
fn ensure_local_server() -> anyhow::Result<()> {
    if reachable() {
        return Ok(());
    }
    println!("PostgreSQL is not running on {LOCAL}; starting it");
    let versions = std::fs::read_dir("/etc/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut attempts: Vec<Command> = versions
        .iter()
        .map(|v| {
            let mut c = Command::new("pg_ctlcluster");
            c.args(["--skip-systemctl-redirect", v, "main", "start"]);
            c
        })
        .collect();
    let mut service = Command::new("service");
    service.args(["postgresql", "start"]);
    attempts.push(service);
    for mut attempt in attempts {
        // A failed attempt is not an error yet: the next one may work.
        if cmd::run(&mut attempt).is_err() && !reachable() {
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if reachable() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    bail!(
        "the Rust tests also run on PostgreSQL, and none answers on {LOCAL}, nor could one be \
         started (tried pg_ctlcluster for {versions:?} and `service postgresql start`). Install \
         PostgreSQL 15 (Debian: apt-get install postgresql) with trust authentication for the \
         `postgres` user on 127.0.0.1, or set TEST_POSTGRES_URL to an admin URL of another \
         server."
    )
}

/// This run's database; dropped, with every database the tests made from it, when this drops.
pub struct RunDatabase {
    admin: String,
    name: String,
}

impl RunDatabase {
    pub fn create(admin: &str) -> anyhow::Result<Self> {
        let name = format!("fbrun_{}", std::process::id());
        let run = Self {
            admin: admin.to_owned(),
            name,
        };
        // Left over from runs that were killed (Ctrl-C, a CI timeout) before they could clean up.
        for stale in stale_runs(admin) {
            Self {
                admin: admin.to_owned(),
                name: stale,
            }
            .sweep();
        }
        run.sweep();
        psql(admin, &format!("create database {}", run.name))
            .with_context(|| format!("creating the test database {}", run.name))?;
        Ok(run)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `TEST_POSTGRES_URL` for the tests: the admin URL with this run's database.
    pub fn url(&self) -> String {
        with_database(&self.admin, &self.name)
    }

    /// Drops this run's database and every `<name>_…` database the tests left behind.
    fn sweep(&self) {
        let list = format!(
            "select datname from pg_database where datname = '{0}' or datname like '{0}\\_%'",
            self.name
        );
        let Some(names) =
            cmd::output(Command::new("psql").args([self.admin.as_str(), "-XAtq", "-c", &list]))
        else {
            eprintln!("xtask: could not list the test databases of {}", self.name);
            return;
        };
        for db in names.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Err(err) = psql(
                &self.admin,
                &format!("drop database if exists \"{db}\" with (force)"),
            ) {
                eprintln!("xtask: could not drop the test database {db}: {err:#}");
            }
        }
    }
}

/// The run databases (`fbrun_<pid>`) of `cargo xtask test` processes that are gone (Linux).
fn stale_runs(admin: &str) -> Vec<String> {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return Vec::new();
    }
    let list = "select datname from pg_database where datname ~ '^fbrun_[0-9]+$'";
    let names =
        cmd::output(Command::new("psql").args([admin, "-XAtq", "-c", list])).unwrap_or_default();
    names
        .lines()
        .map(str::trim)
        .filter(|name| {
            name.strip_prefix("fbrun_")
                .is_some_and(|pid| !proc.join(pid).exists())
        })
        .map(str::to_owned)
        .collect()
}

impl Drop for RunDatabase {
    fn drop(&mut self) {
        self.sweep();
    }
}

/// `url` with its database (the path) replaced by `name`, keeping any `?…` parameters.
fn with_database(url: &str, name: &str) -> String {
    let (main, query) = url.split_once('?').unwrap_or((url, ""));
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let base = match main[authority_start..].find('/') {
        Some(slash) => &main[..authority_start + slash],
        None => main,
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{name}{query}")
}

fn psql(admin: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([admin, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .context("cannot run psql (apt-get install postgresql-client)")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_database_replaces_only_the_path() {
        assert_eq!(
            with_database(DEFAULT_ADMIN_URL, "fbrun_7"),
            "postgres://postgres@127.0.0.1:5432/fbrun_7"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1?sslmode=disable", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
    }
}

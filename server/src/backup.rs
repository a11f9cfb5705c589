//! `server backup FILE`: a consistent copy of the SQLite database, taken while the server runs.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is the database as of
//! one instant even while uploads and syncs keep writing (in WAL mode readers and the writer do
//! not wait for each other), and it is a compact, self-contained file: no `-wal` beside it. The
//! copy is written under a temporary name and renamed when complete and checked, so `FILE` is
//! never a half-written database. PostgreSQL is backed up with its own tools (`pg_dump`).

use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{Context, bail};
use sqlx::{
    Connection, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub source: PathBuf,
    pub file: PathBuf,
    pub bytes: u64,
    /// The newest migration in the copy (its schema version).
    pub migration: Option<i64>,
}

/// Copies the SQLite database of `database_url` to `file`, which must not exist.
pub async fn run(database_url: &str, file: &Path) -> anyhow::Result<Backup> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        bail!(
            "DATABASE_URL is a PostgreSQL database: back it up with PostgreSQL's own tools, e.g.\n  \
             pg_dump --format=custom --file=fb-audiences.dump \"$DATABASE_URL\"\n\
             and restore with pg_restore (see \"Backup and restore\" in the README)"
        );
    }
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("DATABASE_URL={database_url:?} is not a SQLite URL"))?;
    let source = options.get_filename().to_path_buf();
    // Never create an empty database where the user expected theirs.
    if !source.is_file() {
        bail!(
            "there is no database at {} (DATABASE_URL={database_url}); set DATABASE_URL to the \
             server's database",
            source.display()
        );
    }
    if file.exists() {
        bail!(
            "{} already exists; refusing to overwrite it: choose a new file name",
            file.display()
        );
    }
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let partial = file.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    // Left by an interrupted backup (ours by its name): `VACUUM INTO` needs an empty target.
    let _ = std::fs::remove_file(&partial);
    let result = copy_and_check(&options, &partial).await;
    let migration = match result {
        Ok(migration) => migration,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    if file.exists() {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "{} appeared while the backup ran; refusing to overwrite it",
            file.display()
        );
    }
    std::fs::rename(&partial, file)
        .with_context(|| format!("renaming {} to {}", partial.display(), file.display()))?;
    let bytes = std::fs::metadata(file)?.len();
    Ok(Backup {
        source,
        file: file.to_path_buf(),
        bytes,
        migration,
    })
}

async fn copy_and_check(
    source: &SqliteConnectOptions,
    partial: &Path,
) -> anyhow::Result<Option<i64>> {
    let target = partial
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", partial.display()))?;
    // The server keeps its database in WAL mode; saying so again changes nothing.
    let options = source
        .clone()
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .context("opening the database")?;
    let copied = sqlx::query("vacuum into $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("copying the database (VACUUM INTO)");
    let _ = conn.close().await;
    copied?;
    restrict(partial)?;

    // The copy is checked as the server will open it.
    let mut copy = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(partial)
            .create_if_missing(false),
    )
    .await
    .context("opening the copy")?;
    let check: Vec<String> = sqlx::query_scalar("pragma integrity_check")
        .fetch_all(&mut copy)
        .await
        .context("checking the copy")?;
    let migration: Option<i64> = sqlx::query_scalar("select max(version) from _sqlx_migrations")
        .fetch_one(&mut copy)
        .await
        .ok()
        .flatten();
    let _ = copy.close().await;
    if check != ["ok"] {
        bail!(
            "the copy failed SQLite's integrity check: {}",
            check.join("; ")
        );
    }
    Ok(migration)
}

/// The copy holds password hashes and sealed credentials: readable by its owner only.
fn restrict(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn postgres_is_pointed_at_pg_dump_and_a_missing_database_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.db");
        let err = run("postgres://u@h/db", &out).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        let missing = dir.path().join("nothing-here.db");
        let url = format!("sqlite://{}", missing.display());
        let err = run(&url, &out).await.unwrap_err();
        assert!(err.to_string().contains("there is no database"), "{err}");
        assert!(!missing.exists(), "the backup created a database");
        assert!(!out.exists());
    }

    #[tokio::test]
    async fn a_copy_is_a_checked_database_and_an_existing_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let db = crate::db::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let out = dir.path().join("backups/copy.db");
        let backup = run(&url, &out).await.unwrap();
        assert!(backup.bytes > 0);
        assert_eq!(
            backup.migration,
            db.migrator().iter().map(|m| m.version).max()
        );
        let before = std::fs::read(&out).unwrap();
        let err = run(&url, &out).await.unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read(&out).unwrap(), before);
        assert!(!dir.path().join("backups/.copy.db.partial").exists());
        db.close().await;
    }
}

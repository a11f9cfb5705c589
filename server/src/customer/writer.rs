//! Group commit: the uploads that arrive while another is being written are written together,
//! in the next transaction. Writers are serialised anyway (SQLite has one; PostgreSQL's are
//! serialised by the store, see `store::postgres`), and one transaction of several uploads
//! costs little more than one of a single upload: the index pages they touch are written once,
//! and the fixed costs (statements, commit) are paid once. Each upload still gets its own
//! answer; a database failure fails every upload of the group (none of them is stored, and each
//! client resends).
//!
//! The events of a group are only staged (appended to `events_inbox`, whatever their times, on
//! both databases); the writer merges the staged events into `events` and the aggregates, sorted by
//! time, once enough of them have gathered ([`merge_threshold`]), after [`IDLE`] without uploads, and
//! whenever a reader needs every event ([`flush`]). See docs/scaling.md, "The write path".

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

use super::{activity::Bookkeeping, record::Record, store};
use crate::db::Db;

/// Staged events that make the writer merge them (after answering the group that reached it):
/// a sixteenth of the events stored, within these bounds. A merge rewrites the leaf pages of
/// each time-ordered tree that its events fall into — nearly all of them once the merge has more
/// events than a tree has pages — so a merge proportional to the table keeps the pages written
/// per event constant as the database grows. The upper bound keeps the merge's sort (SQLite's
/// sorter holds up to the cache size in memory) within the server's memory budget and a
/// reader that needs a merge ([`flush`]) waiting seconds, not minutes. Measured in
/// docs/scaling.md.
const MERGE_MIN: u64 = 250_000;
const MERGE_MAX: u64 = 1_000_000;

fn merge_threshold(events: u64) -> u64 {
    (events / 16).clamp(MERGE_MIN, MERGE_MAX)
}

/// Without uploads for this long, the staged events are merged: a backfill's last events are
/// queryable shortly after it ends, without waiting for a reader to merge them.
const IDLE: Duration = Duration::from_secs(1);

/// An upload waiting to be written.
struct Pending {
    db: Db,
    records: Vec<Record>,
    /// The request's Data page counts, written in the same transaction.
    books: Bookkeeping,
    now: i64,
    done: oneshot::Sender<Result<(), Arc<sqlx::Error>>>,
}

/// Uploads waiting, of any database (tests run several servers in one process).
static QUEUE: Mutex<Vec<Pending>> = Mutex::new(Vec::new());
/// Held while a group is written; holds the state of the database last written (on SQLite, the
/// connection the writer keeps).
static WRITER: tokio::sync::Mutex<Option<Kept>> = tokio::sync::Mutex::const_new(None);

/// The writer's state for the database it last wrote to.
struct Kept {
    db: Db,
    target: Target,
    /// Events staged since the last merge (an upper bound: resends are counted).
    staged: u64,
    /// `staged` that makes the writer merge ([`merge_threshold`]).
    merge_at: u64,
    last_write: Instant,
    /// An idle merge is scheduled.
    idle_armed: bool,
    /// PostgreSQL: the merge running beside the uploads ([`merge_behind`]).
    merging: Option<tokio::task::JoinHandle<()>>,
}

/// What the writer writes a database's groups through.
enum Target {
    /// The connection SQLite groups are written on, kept from one group to the next (taken out
    /// of its pool). SQLite's page cache belongs to a connection and is dropped when another
    /// connection has written since: written from whichever pooled connection was idle longest
    /// (the pool hands them out in turn), every group read each page it touched back from the
    /// file; on the same connection the cache stays valid between groups.
    Sqlite(sqlx::SqliteConnection),
    /// PostgreSQL's pool: a group takes any of its connections (the cache is the server's
    /// shared buffers).
    Postgres(sqlx::PgPool),
}

/// The writer connection's page cache, in KiB (SQLite's default is 2 MiB a connection). Every
/// page an upload touches that is not cached is read back from the file, and with the indexes
/// of a grown database spread over hundreds of MiB a 2 MiB cache missed nearly every time (the
/// issue measured 53 KB read per event). The cache fills only with pages actually read, and
/// only this one connection has it: the server's peak RSS stays under 512 MiB (docs/scaling.md).
const WRITER_CACHE_KIB: i64 = 256 * 1024;

/// A connection taken out of the pool for the writer, with its larger cache.
async fn writer_connection(pool: &sqlx::SqlitePool) -> sqlx::Result<sqlx::SqliteConnection> {
    let mut conn = pool.acquire().await?.detach();
    sqlx::query(&format!("pragma cache_size = -{WRITER_CACHE_KIB}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

fn queue() -> MutexGuard<'static, Vec<Pending>> {
    // The queue is only pushed to and drained: a panic elsewhere cannot leave it inconsistent.
    QUEUE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The same pool (clones share their options).
fn same_db(a: &Db, b: &Db) -> bool {
    match (a, b) {
        (Db::Sqlite(a), Db::Sqlite(b)) => Arc::ptr_eq(&a.connect_options(), &b.connect_options()),
        (Db::Postgres(a), Db::Postgres(b)) => {
            Arc::ptr_eq(&a.connect_options(), &b.connect_options())
        }
        _ => false,
    }
}

/// Stores `records` (all valid) and the request's bookkeeping with whatever else is waiting for
/// the same database; returns once they are committed (or failed). A request whose records were
/// all refused still comes through here, for its bookkeeping.
pub async fn write(
    db: &Db,
    records: Vec<Record>,
    books: Bookkeeping,
    now: i64,
) -> sqlx::Result<()> {
    let (done, outcome) = oneshot::channel();
    queue().push(Pending {
        db: db.clone(),
        records,
        books,
        now,
        done,
    });
    // The rest runs in a task of its own, so that a request dropped mid-way (its client went
    // away) neither leaves its upload queued with nobody to write it nor stops a group half
    // way: the others of the group still get their answer.
    let db = db.clone();
    tokio::spawn(async move {
        // Queueing here instead of in SQLite's busy handler (which sleeps and retries) keeps
        // uploads from idling while the database is free, and waiting uploads hold no
        // connection.
        let mut kept = WRITER.lock().await;
        let group: Vec<Pending> = {
            let mut queue = queue();
            let (mine, others): (Vec<_>, Vec<_>) =
                queue.drain(..).partition(|p| same_db(&p.db, &db));
            *queue = others;
            mine
        };
        // Empty when an earlier writer took this upload along with its own.
        if !group.is_empty() {
            write_group(&db, group, &mut kept).await;
        }
    });
    match outcome.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(match *e {
            sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
            ref other => sqlx::Error::Protocol(format!("storing the upload failed: {other}")),
        }),
        Err(_) => Err(sqlx::Error::Protocol(
            "the upload's writer stopped before answering".into(),
        )),
    }
}

async fn write_group(db: &Db, group: Vec<Pending>, kept: &mut Option<Kept>) {
    let result = {
        let records: Vec<&Record> = group.iter().flat_map(|p| &p.records).collect();
        let books: Vec<&Bookkeeping> = group.iter().map(|p| &p.books).collect();
        // The latest clock of the group stamps it: they are a few milliseconds apart.
        let now = group.iter().map(|p| p.now).max().unwrap_or_default();
        let result = match keep(db, kept).await {
            Err(e) => Err(e),
            Ok(k) => {
                let result = match &mut k.target {
                    Target::Sqlite(conn) => store::stage_refs_on(conn, &records, &books, now).await,
                    Target::Postgres(pool) => {
                        store::stage_refs_postgres(pool, &records, &books, now).await
                    }
                };
                if result.is_ok() {
                    k.staged += records
                        .iter()
                        .filter(|r| matches!(r, Record::Event(_)))
                        .count() as u64;
                    k.last_write = Instant::now();
                }
                result
            }
        };
        if result.is_err() {
            // Not reused after a failure, whatever state it left.
            *kept = None;
        }
        result.map_err(Arc::new)
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, uploads = group.len(), "storing uploaded records failed");
    }
    for p in group {
        // The request may be gone (its client left): nobody to tell.
        let _ = p.done.send(result.clone());
    }
    // The group has its answer; the next one waits for the merge (the lock is still held).
    let Some(k) = kept.as_mut().filter(|k| same_db(&k.db, db)) else {
        return;
    };
    if k.staged >= k.merge_at {
        match &k.target {
            Target::Postgres(pool) => {
                let pool = pool.clone();
                merge_behind(k, pool).await;
            }
            Target::Sqlite(_) => merge(kept).await,
        }
    } else if k.staged > 0 && !k.idle_armed {
        k.idle_armed = true;
        tokio::spawn(merge_when_idle(db.clone()));
    }
}

/// The writer's state for `db`, set up (its staged events merged: a previous process may have
/// left some) if the one kept is another database's or none.
async fn keep<'k>(db: &Db, kept: &'k mut Option<Kept>) -> sqlx::Result<&'k mut Kept> {
    if !kept.as_ref().is_some_and(|k| same_db(&k.db, db)) {
        // Another database's (tests run several servers): closed by the drop.
        *kept = None;
        let target = match db {
            Db::Sqlite(pool) => Target::Sqlite(writer_connection(pool).await?),
            Db::Postgres(pool) => Target::Postgres(pool.clone()),
        };
        let mut k = Kept {
            db: db.clone(),
            target,
            staged: 0,
            merge_at: 0,
            last_write: Instant::now(),
            idle_armed: false,
            merging: None,
        };
        merge_on(&mut k).await?;
        k.merge_at = merge_threshold(stored_events(&mut k).await?);
        *kept = Some(k);
    }
    kept.as_mut()
        .ok_or_else(|| sqlx::Error::Protocol("the writer's connection is gone".into()))
}

/// Merges the staged events of `k`'s database: on the kept connection (SQLite), or in a
/// transaction of its own holding PostgreSQL's merge lock (waiting for a merge running beside
/// the uploads, [`merge_behind`], to end first).
async fn merge_on(k: &mut Kept) -> sqlx::Result<u64> {
    match &mut k.target {
        Target::Sqlite(conn) => store::merge_staged(conn).await,
        Target::Postgres(pool) => store::merge_staged_postgres(pool).await,
    }
}

/// Merges the kept connection's staged events. A failure leaves them staged (the merge is one
/// transaction) for the next merge, and drops the connection.
async fn merge(kept: &mut Option<Kept>) {
    let Some(k) = kept.as_mut() else { return };
    let started = Instant::now();
    match merge_on(k).await {
        Ok(added) => {
            tracing::debug!(
                added,
                staged = k.staged,
                ms = started.elapsed().as_millis() as u64,
                "merged the staged events"
            );
            k.staged = 0;
            match stored_events(k).await {
                Ok(events) => k.merge_at = merge_threshold(events),
                Err(e) => {
                    tracing::error!(error = %e, "counting the stored events failed");
                    *kept = None;
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "merging the staged events failed");
            *kept = None;
        }
    }
}

/// Starts merging PostgreSQL's staged events beside the uploads: the merge holds only the merge
/// lock (`store::postgres::MERGE_LOCK`), so the next groups are staged while it runs, on the
/// other core. One merge at a time per process: when the next threshold is reached before the
/// last merge ended, the writer waits for it (the uploads queue meanwhile), so the inbox holds
/// about two thresholds' events at most and a merge never takes more than it can sort in
/// memory. A failed merge leaves its events staged for the next one.
async fn merge_behind(k: &mut Kept, pool: sqlx::PgPool) {
    if let Some(running) = k.merging.take() {
        // A panic in the merge is the task's; the next merge takes its events.
        let _ = running.await;
    }
    let staged = k.staged;
    k.staged = 0;
    match stored_events(k).await {
        Ok(events) => k.merge_at = merge_threshold(events + staged),
        Err(e) => tracing::error!(error = %e, "counting the stored events failed"),
    }
    k.merging = Some(tokio::spawn(async move {
        let started = Instant::now();
        match store::merge_staged_postgres(&pool).await {
            Ok(added) => tracing::debug!(
                added,
                staged,
                ms = started.elapsed().as_millis() as u64,
                "merged the staged events"
            ),
            Err(e) => tracing::error!(error = %e, "merging the staged events failed"),
        }
    }));
}

/// The events stored in `k`'s database, from the catalog's counts (one row per event name).
async fn stored_events(k: &mut Kept) -> sqlx::Result<u64> {
    // PostgreSQL's `sum` of bigints is a numeric.
    const SQL: &str = "select cast(coalesce(sum(count), 0) as bigint) from event_names";
    let n: i64 = match &mut k.target {
        Target::Sqlite(conn) => sqlx::query_scalar(SQL).fetch_one(conn).await?,
        Target::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(&*pool).await?,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Merges `db`'s staged events once no upload has come for [`IDLE`].
async fn merge_when_idle(db: Db) {
    let mut wait = IDLE;
    loop {
        tokio::time::sleep(wait).await;
        let mut kept = WRITER.lock().await;
        let Some(k) = kept.as_mut().filter(|k| same_db(&k.db, &db)) else {
            // Another database took the writer; whoever keeps this one again merges first.
            return;
        };
        if k.staged == 0 {
            k.idle_armed = false;
            return;
        }
        let quiet = k.last_write.elapsed();
        if quiet >= IDLE {
            k.idle_armed = false;
            merge(&mut kept).await;
            return;
        }
        wait = IDLE - quiet;
    }
}

/// Makes every event uploaded so far visible to reads of `events` and `event_days` (and the
/// catalog's counts): merges the staged ones, through the writer. Every reader of those calls
/// it first; it costs one read of an empty table when nothing is staged.
pub async fn flush(db: &Db) -> sqlx::Result<()> {
    // An upload that has been answered is committed: a new read sees its staged events (on
    // PostgreSQL those of every server process: whichever reads first merges them).
    const STAGED: &str = "select exists (select 1 from events_inbox)";
    let staged: bool = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(STAGED).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(STAGED).fetch_one(pool).await?,
    };
    if !staged {
        return Ok(());
    }
    let mut kept = WRITER.lock().await;
    // Setting the writer up for `db` merges; otherwise merge now.
    let k = keep(db, &mut kept).await?;
    match merge_on(k).await {
        Ok(_) => {
            k.staged = 0;
            Ok(())
        }
        Err(e) => {
            *kept = None;
            Err(e)
        }
    }
}

/// [`flush`] for the engine's pool.
pub async fn flush_pool(pool: crate::engine::Pool<'_>) -> sqlx::Result<()> {
    match pool {
        crate::engine::Pool::Sqlite(pool) => flush(&Db::Sqlite(pool.clone())).await,
        crate::engine::Pool::Postgres(pool) => flush(&Db::Postgres(pool.clone())).await,
    }
}

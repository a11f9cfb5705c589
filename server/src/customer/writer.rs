//! Group commit: the uploads that arrive while another is being written are written together,
//! in the next transaction. Writers are serialised anyway (SQLite has one; PostgreSQL's are
//! serialised by the store, see `store::postgres`), and one transaction of several uploads
//! costs little more than one of a single upload: the index pages they touch are written once,
//! and the fixed costs (statements, commit) are paid once. Each upload still gets its own
//! answer; a database failure fails every upload of the group (none of them is stored, and each
//! client resends).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::{activity::Bookkeeping, record::Record, store};
use crate::db::Db;

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
/// Held while a group is written; holds the SQLite connection the writer keeps.
static WRITER: tokio::sync::Mutex<Option<Kept>> = tokio::sync::Mutex::const_new(None);

/// The connection SQLite groups are written on, kept from one group to the next (taken out of
/// its pool). SQLite's page cache belongs to a connection and is dropped when another
/// connection has written since: written from whichever pooled connection was idle longest
/// (the pool hands them out in turn), every group read each page it touched back from the
/// file; on the same connection the cache stays valid between groups.
struct Kept {
    db: Db,
    conn: sqlx::SqliteConnection,
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
        match db {
            Db::Sqlite(pool) => {
                if !kept.as_ref().is_some_and(|k| same_db(&k.db, db)) {
                    // Another database's (tests run several servers): closed by the drop.
                    *kept = None;
                    match writer_connection(pool).await {
                        Ok(conn) => {
                            *kept = Some(Kept {
                                db: db.clone(),
                                conn,
                            });
                        }
                        Err(e) => {
                            let e = Arc::new(e);
                            for p in group {
                                let _ = p.done.send(Err(e.clone()));
                            }
                            return;
                        }
                    }
                }
                let Some(k) = kept.as_mut() else { return };
                let result = store::store_refs_on(&mut k.conn, &records, &books, now).await;
                if result.is_err() {
                    // Not reused after a failure, whatever state it left.
                    *kept = None;
                }
                result.map_err(Arc::new)
            }
            Db::Postgres(_) => store::store_refs(db, &records, &books, now)
                .await
                .map_err(Arc::new),
        }
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, uploads = group.len(), "storing uploaded records failed");
    }
    for p in group {
        // The request may be gone (its client left): nobody to tell.
        let _ = p.done.send(result.clone());
    }
}

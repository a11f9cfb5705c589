//! The campaign's holdout in the sync (`shared::holdout`): the segment's members whose
//! (campaign, identity) hash falls in the holdout are taken out of what is sent, and the run
//! records who they were, so the stats can measure the same conversions for them.
//!
//! The plan (`sync::compute`) applies it member by member as it streams the segment: a
//! held-out member is never added, and one Facebook holds (the percentage was raised) is
//! removed by its confirmed entry; the identity decides, as it is now.

use super::members::{self, Entry};
use crate::db::{Db, with_pool};

/// Records who run `run_id` held out (replacing what a crashed attempt at the same instant
/// recorded); with `None` the run held nobody out.
pub async fn save(db: &Db, run_id: i64, held_out: Option<&[Entry]>) -> anyhow::Result<()> {
    let blob = held_out.map(members::encode);
    let count = held_out.map(|h| h.len() as i64);
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("delete from sync_holdouts where run_id = $1")
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        if let Some(blob) = &blob {
            sqlx::query("insert into sync_holdouts (run_id, members) values ($1, $2)")
                .bind(run_id)
                .bind(blob)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("update sync_runs set held_out = $1 where id = $2")
            .bind(count)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Records how many people dry run `run_id` would hold out (who they are is not kept: nothing
/// was sent, so there is nothing to measure).
pub async fn save_count(db: &Db, run_id: i64, count: usize) -> anyhow::Result<()> {
    with_pool!(db, pool => {
        sqlx::query("update sync_runs set held_out = $1 where id = $2")
            .bind(count as i64)
            .bind(run_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

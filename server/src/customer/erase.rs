//! Forgetting a person: `DELETE /api/profiles/{identity}` and the upload API's
//! `POST /api/v1/delete/profiles`.
//!
//! One transaction erases the profile row (its match keys), its properties, its events and its
//! daily counts, keeps the aggregates consistent (the event names' counts and last-seen, the
//! profile count), drops the refused records that carry the identity, and queues a removal by
//! EXTERN_ID (`sync::erase`) for every campaign whose confirmed membership holds the person, so
//! each Facebook audience loses them without waiting for the campaign's next run.

use std::collections::HashSet;

use jiff::Timestamp;
use shared::profile_view::ErasedProfile;

use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
    jobs::queue::enqueue_in,
    sync::{erase as erase_job, members},
};

/// What one erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The erased row's id: the audit log names the profile by it, not by its identity.
    pub profile_id: i64,
    pub counts: ErasedProfile,
    /// The campaigns a removal was queued for.
    pub campaigns: Vec<i64>,
}

/// Erases the profile `identity`; `None` when there is no such profile.
pub async fn erase(db: &Db, identity: &str, now: Timestamp) -> anyhow::Result<Option<Erasure>> {
    let is_pg = matches!(db, Db::Postgres(_));
    // The profile's staged events (customer::writer) are merged first, so that the erasure's
    // counts include them; any staged after that are deleted below with the rest.
    crate::customer::writer::flush(db).await?;
    let erasure = with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        if is_pg {
            // Uploads take this lock: an upload for this person is written wholly before or
            // wholly after the erasure (after it, as a new profile).
            sqlx::query("select pg_advisory_xact_lock($1)")
                .bind(crate::customer::store::WRITER_LOCK)
                .execute(&mut *tx)
                .await?;
            // And no merge stores this person's staged events while they are erased.
            sqlx::query("select pg_advisory_xact_lock($1)")
                .bind(crate::customer::store::MERGE_LOCK)
                .execute(&mut *tx)
                .await?;
        } else {
            // Takes SQLite's write lock first: a deferred transaction that reads, then writes
            // after another connection wrote, fails with "database is locked" instead of waiting.
            sqlx::query("update profile_count set n = n where id = 1")
                .execute(&mut *tx)
                .await?;
        }
        let row: Option<(i64, i64)> = sqlx::query_as(
            "select id, cast(\
             (case when email is null then 0 else 1 end) + (case when phone is null then 0 else 1 end) \
             + (case when first_name is null then 0 else 1 end) + (case when last_name is null then 0 else 1 end) \
             + (case when gender is null then 0 else 1 end) + (case when date_of_birth is null then 0 else 1 end) \
             + (case when city is null then 0 else 1 end) + (case when state is null then 0 else 1 end) \
             + (case when zip is null then 0 else 1 end) + (case when country is null then 0 else 1 end) \
             + (case when madid is null then 0 else 1 end) as bigint) \
             from profiles where identity = $1",
        )
        .bind(identity)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((profile_id, match_keys)) = row else {
            return Ok(None);
        };
        let properties: i64 = sqlx::query_scalar("select count(*) from profile_props where profile_id = $1")
            .bind(profile_id)
            .fetch_one(&mut *tx)
            .await?;
        let per_name: Vec<(i64, i64)> = sqlx::query_as(
            "select name_id, count(*) from events where profile_id = $1 group by name_id",
        )
        .bind(profile_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("delete from events where profile_id = $1")
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from event_days where profile_id = $1")
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
        // Staged by an upload answered after the flush above: not counted anywhere yet.
        sqlx::query("delete from events_inbox where profile_id = $1")
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
        // The catalog's counts and last-seen describe the events that exist; last-seen is read
        // again from the (name, ts) index.
        for (name_id, n) in &per_name {
            sqlx::query(
                "update event_names set count = count - $1, \
                 last_seen = (select max(ts) from events where name_id = $2) where id = $2",
            )
            .bind(n)
            .bind(name_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("delete from profile_props where profile_id = $1")
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from profiles where id = $1")
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
        // The Segment API's anonymousId links tie a device to the person: they go too, so that
        // the device's later anonymous calls make a new, anonymous profile.
        sqlx::query("delete from identity_links where identity = $1")
            .bind(identity)
            .execute(&mut *tx)
            .await?;
        sqlx::query("update profile_count set n = n - 1 where id = 1 and n > 0")
            .execute(&mut *tx)
            .await?;
        // By row id only (no personal data): a sync planned before now leaves the person out of
        // the membership it confirms (`sync::erase::erased_since`).
        sqlx::query("insert into profile_erasures (profile_id, erased_at) values ($1, $2)")
            .bind(profile_id)
            .bind(ts_to_db(now))
            .execute(&mut *tx)
            .await?;
        // Refused records are kept as sent, personal data included: those naming the person go.
        let quoted = serde_json::to_string(identity)?;
        let find = if is_pg { "strpos(record, $1) > 0" } else { "instr(record, $1) > 0" };
        sqlx::query(&format!("delete from rejected_records where {find}"))
            .bind(&quoted)
            .execute(&mut *tx)
            .await?;
        // Every audience that holds the person per its last confirmed sync gets a removal now.
        // Only the chunk of each membership that would hold them (`sync::store`).
        let audiences: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "select s.campaign_id, m.members from sync_audiences s join sync_members m \
             on m.campaign_id = s.campaign_id and m.chunk = $1 \
             where s.audience_id is not null order by s.campaign_id",
        )
        .bind(crate::sync::store::chunk_of(profile_id))
        .fetch_all(&mut *tx)
        .await?;
        let mut campaigns = Vec::new();
        for (campaign_id, blob) in audiences {
            let holds = members::records(&blob)?
                .binary_search_by_key(&profile_id, |r| r.0)
                .is_ok();
            if holds {
                let payload = serde_json::to_string(&erase_job::Payload { campaign_id, profile_id })?;
                enqueue_in!(tx, erase_job::JOB_KIND, &payload, erase_job::MAX_ATTEMPTS, now)?;
                campaigns.push(campaign_id);
            }
        }
        tx.commit().await?;
        Erasure {
            profile_id,
            counts: ErasedProfile {
                properties: properties as u64,
                events: per_name.iter().map(|(_, n)| *n as u64).sum(),
                match_keys: match_keys as u64,
                audiences: campaigns.len() as u64,
            },
            campaigns,
        }
    });
    Ok(Some(erasure))
}

/// Erases each of `identities` (duplicates once); returns how many profiles there were.
pub async fn erase_many(
    db: &Db,
    identities: &[String],
    now: Timestamp,
) -> anyhow::Result<Vec<Erasure>> {
    let mut seen = HashSet::new();
    let mut done = Vec::new();
    for identity in identities {
        if seen.insert(identity.as_str())
            && let Some(e) = erase(db, identity, now).await?
        {
            done.push(e);
        }
    }
    Ok(done)
}

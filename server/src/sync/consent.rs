//! Ads consent in the sync (`shared::consent`): while the workspace names a consent property,
//! the segment's members whose property is not `true` are taken out of what is sent — never
//! added, and removed if Facebook holds them — before the holdout is drawn, so the holdout and
//! the audience are both made of people who consented and the lift compares like with like.
//! Their removal is not held back by the small-audience guard: a withdrawal always leaves.

use std::collections::HashSet;

use shared::consent::ConsentSettings;

use crate::db::{Db, with_pool};

/// The `settings` row of the consent property.
const KEY: &str = "ads_consent";

/// The consent property, if consent filtering is on.
pub async fn property(db: &Db) -> sqlx::Result<Option<String>> {
    let value: Option<String> = with_pool!(db, pool => sqlx::query_scalar(
        "select value from settings where key = $1",
    )
    .bind(KEY)
    .fetch_optional(pool)
    .await?);
    Ok(value
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
        .and_then(|v| v.get("property")?.as_str().map(str::to_owned)))
}

/// Sets (or with `None`, clears) the consent property.
pub async fn set_property(db: &Db, property: Option<&str>) -> sqlx::Result<()> {
    with_pool!(db, pool => {
        match property {
            Some(p) => {
                let value = serde_json::json!({ "property": p }).to_string();
                sqlx::query(
                    "insert into settings (key, value) values ($1, $2) \
                     on conflict (key) do update set value = excluded.value",
                )
                .bind(KEY)
                .bind(value)
                .execute(pool)
                .await?;
            }
            None => {
                sqlx::query("delete from settings where key = $1")
                    .bind(KEY)
                    .execute(pool)
                    .await?;
            }
        }
    });
    Ok(())
}

/// The profiles whose `property` is the boolean `true` (answered from the
/// `(key, kind, n, profile_id)` index).
pub async fn consenting(db: &Db, property: &str) -> sqlx::Result<HashSet<i64>> {
    let ids: Vec<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "select profile_id from profile_props where key = $1 and kind = 'boolean' and n = 1",
    )
    .bind(property)
    .fetch_all(pool)
    .await?);
    Ok(ids.into_iter().collect())
}

/// The setting with its effect on the data as it is now.
pub async fn settings(db: &Db) -> sqlx::Result<ConsentSettings> {
    let property = property(db).await?;
    let profiles: i64 = with_pool!(db, pool => sqlx::query_scalar(
        "select coalesce((select n from profile_count where id = 1), 0)",
    )
    .fetch_one(pool)
    .await?);
    let consenting: i64 = match &property {
        None => 0,
        Some(p) => with_pool!(db, pool => sqlx::query_scalar(
            "select count(*) from profile_props where key = $1 and kind = 'boolean' and n = 1",
        )
        .bind(p)
        .fetch_one(pool)
        .await?),
    };
    Ok(ConsentSettings {
        property,
        consenting: consenting.max(0) as u64,
        profiles: profiles.max(0) as u64,
    })
}

/// The type `property` was registered with when first seen on a profile, if it was.
pub async fn registered_kind(db: &Db, property: &str) -> sqlx::Result<Option<String>> {
    with_pool!(db, pool => sqlx::query_scalar(
        "select kind from property_types where scope = 'profile' and event_name = '' and key = $1",
    )
    .bind(property)
    .fetch_optional(pool)
    .await)
}

/// Records how many people run `run_id` held back for want of consent (`None`: the filter was
/// off).
pub async fn save_count(db: &Db, run_id: i64, held: Option<usize>) -> sqlx::Result<()> {
    with_pool!(db, pool => sqlx::query("update sync_runs set consent_held = $1 where id = $2")
        .bind(held.map(|n| n as i64))
        .bind(run_id)
        .execute(pool)
        .await
        .map(drop)?);
    Ok(())
}

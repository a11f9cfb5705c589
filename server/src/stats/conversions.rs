//! Conversions of a campaign's goal event (`shared::stats::ConversionStats`): occurrences of the
//! event, among the stored customer events, by members of the campaign's Facebook audience while
//! they were members.
//!
//! Membership over time is rebuilt from the sync's own records: every batch of a succeeded run
//! is kept (`sync_batches`) with the members it carried and the instant Facebook accepted it
//! (`sent_at`). Replaying them in order gives each member's joins and leaves; the confirmed
//! membership blob (`sync_audiences.members`) only says who is in now, not since when. A member
//! whose match keys changed is removed and added again in one run: that is not a leave.

use std::collections::{HashMap, HashSet};

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use shared::stats::{DayConversions, StatsQuery};

use crate::{
    campaigns::repo::ts_from_db,
    db::{Db, with_pool},
    error::ApiResult,
    sync::members,
};

/// One member's stays in the audience: joined at, left at (`None`: still in).
type Stays = Vec<(Timestamp, Option<Timestamp>)>;

#[derive(sqlx::FromRow)]
struct SentBatch {
    run_id: i64,
    op: String,
    members: Vec<u8>,
    sent_at: Option<String>,
}

/// Every member's stays in campaign `campaign_id`'s audience, from the sent batches of its
/// succeeded runs.
pub async fn memberships(db: &Db, campaign_id: i64) -> ApiResult<HashMap<i64, Stays>> {
    let batches: Vec<SentBatch> = with_pool!(db, pool => {
        sqlx::query_as(
            "select b.run_id, b.op, b.members, b.sent_at from sync_batches b \
             join sync_runs r on r.id = b.run_id \
             where r.campaign_id = $1 and r.state = 'succeeded' and b.state = 'sent' \
             order by b.run_id, b.seq",
        )
        .bind(campaign_id)
        .fetch_all(pool)
        .await?
    });
    let mut stays: HashMap<i64, Stays> = HashMap::new();
    let mut run = Vec::new();
    let mut current = None;
    for batch in batches {
        if current != Some(batch.run_id) {
            apply_run(&mut stays, &run);
            run.clear();
            current = Some(batch.run_id);
        }
        let Some(at) = batch.sent_at.as_deref().map(ts_from_db).transpose()? else {
            continue;
        };
        let ids = members::decode(&batch.members)?
            .into_iter()
            .map(|e| e.profile_id)
            .collect::<Vec<_>>();
        run.push((batch.op, at, ids));
    }
    apply_run(&mut stays, &run);
    Ok(stays)
}

/// Applies one run's batches `(op, accepted at, profile ids)` to the stays.
fn apply_run(stays: &mut HashMap<i64, Stays>, run: &[(String, Timestamp, Vec<i64>)]) {
    if run.is_empty() {
        return;
    }
    let is_in = |stays: &HashMap<i64, Stays>, id: i64| {
        stays
            .get(&id)
            .and_then(|s| s.last())
            .is_some_and(|(_, left)| left.is_none())
    };
    let join = |stays: &mut HashMap<i64, Stays>, id: i64, at: Timestamp| {
        if !is_in(stays, id) {
            stays.entry(id).or_default().push((at, None));
        }
    };
    let leave = |stays: &mut HashMap<i64, Stays>, id: i64, at: Timestamp| {
        if let Some(last) = stays.get_mut(&id).and_then(|s| s.last_mut())
            && last.1.is_none()
        {
            last.1 = Some(at);
        }
    };
    // A replace run sends the whole audience: whoever it does not name has left when its last
    // batch was accepted.
    let replaced: Vec<&(String, Timestamp, Vec<i64>)> =
        run.iter().filter(|(op, ..)| op == "replace").collect();
    if let Some(end) = replaced.iter().map(|(_, at, _)| *at).max() {
        let kept: HashSet<i64> = replaced
            .iter()
            .flat_map(|(_, _, ids)| ids.iter().copied())
            .collect();
        let gone: Vec<i64> = stays
            .keys()
            .copied()
            .filter(|id| !kept.contains(id) && is_in(stays, *id))
            .collect();
        for id in gone {
            leave(stays, id, end);
        }
        for (_, at, ids) in &replaced {
            for &id in ids {
                join(stays, id, *at);
            }
        }
    }
    // Removed and added again in one run: the member's keys changed, the member stayed.
    let added: HashSet<i64> = run
        .iter()
        .filter(|(op, ..)| op == "add")
        .flat_map(|(_, _, ids)| ids.iter().copied())
        .collect();
    for (op, at, ids) in run {
        match op.as_str() {
            "remove" => {
                for &id in ids.iter().filter(|id| !added.contains(id)) {
                    leave(stays, id, *at);
                }
            }
            "add" => {
                for &id in ids {
                    join(stays, id, *at);
                }
            }
            _ => {}
        }
    }
}

/// The first instant of `day` in `tz`.
fn day_start(day: Date, tz: &TimeZone) -> Option<Timestamp> {
    day.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// The goal `event`'s conversions per day (in `tz`) over `query`'s range, for campaign
/// `campaign_id`'s audience members while they were members.
pub async fn per_day(
    db: &Db,
    campaign_id: i64,
    event: &str,
    tz: &TimeZone,
    query: &StatsQuery,
) -> ApiResult<Vec<DayConversions>> {
    // Uploads' events may still be staged (customer::writer): merged first, so none is missed.
    crate::customer::writer::flush(db).await?;
    let stays = memberships(db, campaign_id).await?;
    let Some(first_join) = stays.values().flatten().map(|(joined, _)| *joined).min() else {
        return Ok(Vec::new());
    };
    let name_id: Option<i64> = with_pool!(db, pool => {
        sqlx::query_scalar("select id from event_names where name = $1")
            .bind(event)
            .fetch_optional(pool)
            .await?
    });
    let Some(name_id) = name_id else {
        return Ok(Vec::new());
    };
    // Event times are whole epoch seconds: nothing before the first join can count.
    let mut since = first_join.as_second();
    if let Some(start) = query.from.and_then(|d| day_start(d, tz)) {
        since = since.max(start.as_second());
    }
    let until = query
        .to
        .and_then(|d| d.checked_add(1.day()).ok())
        .and_then(|d| day_start(d, tz))
        .map_or(i64::MAX, |t| t.as_second());
    let events: Vec<(i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select profile_id, ts from events where name_id = $1 and ts >= $2 and ts < $3",
        )
        .bind(name_id)
        .bind(since)
        .bind(until)
        .fetch_all(pool)
        .await?
    });
    let mut days: HashMap<Date, u64> = HashMap::new();
    for (profile_id, ts) in events {
        let Ok(at) = Timestamp::from_second(ts) else {
            continue;
        };
        let member = stays.get(&profile_id).is_some_and(|s| {
            s.iter()
                .any(|(joined, left)| at >= *joined && left.is_none_or(|l| at < l))
        });
        if member {
            *days.entry(at.to_zoned(tz.clone()).date()).or_default() += 1;
        }
    }
    let mut daily: Vec<DayConversions> = days
        .into_iter()
        .map(|(day, conversions)| DayConversions { day, conversions })
        .collect();
    daily.sort_by_key(|d| d.day);
    Ok(daily)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        format!("2026-11-0{s}T00:00:00Z").parse().unwrap()
    }

    fn op(name: &str, day: &str, ids: &[i64]) -> (String, Timestamp, Vec<i64>) {
        (name.to_owned(), at(day), ids.to_vec())
    }

    #[test]
    fn replays_joins_leaves_and_key_changes() {
        let mut stays = HashMap::new();
        apply_run(&mut stays, &[op("replace", "1", &[1, 2, 3])]);
        // 1 leaves, 2 changes keys (removed and re-added), 4 joins.
        apply_run(
            &mut stays,
            &[op("remove", "2", &[1, 2]), op("add", "3", &[2, 4])],
        );
        // A replace without 3: 3 leaves; 1 comes back.
        apply_run(&mut stays, &[op("replace", "4", &[1, 2, 4])]);
        assert_eq!(stays[&1], vec![(at("1"), Some(at("2"))), (at("4"), None)]);
        assert_eq!(stays[&2], vec![(at("1"), None)]);
        assert_eq!(stays[&3], vec![(at("1"), Some(at("4")))]);
        assert_eq!(stays[&4], vec![(at("3"), None)]);
    }
}

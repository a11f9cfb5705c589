//! The holdout comparison (`shared::holdout::HoldoutStats`): the goal event's conversions of the
//! people who were sent to Facebook and of the people the holdout kept out, over the same days.
//!
//! - **Audience**: each member's stays in the Facebook audience, replayed from the sent batches
//!   ([`conversions::memberships`], the stats page's own definition of a conversion).
//! - **Holdout**: each run records who of the segment it held out (`sync_holdouts`). Replaying
//!   the succeeded runs in order gives each person's stays in the holdout: from the end of the
//!   run that first held them out to the end of the first run that did not (they left the
//!   segment, or a lower percentage moved them into the audience). A run without a record held
//!   nobody out.
//! - **Days compared**: the range asked for, from the first day a run held anyone out, so the
//!   audience is not measured over days when there was no holdout to compare with.
//!
//! A group's people are those in it at some moment of the compared days; a person who converted
//! is one with at least one goal event inside one of their stays, within the days.

use std::collections::{HashMap, HashSet};

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};
use shared::{
    holdout::{GroupFigures, HoldoutStats},
    stats::StatsQuery,
};

use super::{conversions, repo};
use crate::{
    campaigns::{self, repo::ts_from_db},
    db::{Db, with_pool},
    error::ApiResult,
    sync::members,
};

/// One person's stays in a group: from, until (`None`: still in).
type Stays = Vec<(Timestamp, Option<Timestamp>)>;

#[derive(sqlx::FromRow)]
struct HoldoutRun {
    finished_at: Option<String>,
    members: Option<Vec<u8>>,
}

/// Every person's stays in campaign `campaign_id`'s holdout, from its succeeded runs.
pub async fn holdout_stays(db: &Db, campaign_id: i64) -> ApiResult<HashMap<i64, Stays>> {
    let runs: Vec<HoldoutRun> = with_pool!(db, pool => {
        sqlx::query_as(
            "select r.finished_at, h.members from sync_runs r \
             left join sync_holdouts h on h.run_id = r.id \
             where r.campaign_id = $1 and r.state = 'succeeded' and r.trigger <> 'dry_run' \
             order by r.id",
        )
        .bind(campaign_id)
        .fetch_all(pool)
        .await?
    });
    let mut stays: HashMap<i64, Stays> = HashMap::new();
    let mut inside: HashSet<i64> = HashSet::new();
    for run in runs {
        let Some(at) = run.finished_at.as_deref().map(ts_from_db).transpose()? else {
            continue;
        };
        let now: HashSet<i64> = match &run.members {
            Some(blob) => members::decode(blob)?
                .into_iter()
                .map(|e| e.profile_id)
                .collect(),
            None => HashSet::new(),
        };
        for id in inside.difference(&now) {
            if let Some(last) = stays.get_mut(id).and_then(|s| s.last_mut()) {
                last.1 = Some(at);
            }
        }
        for id in now.difference(&inside) {
            stays.entry(*id).or_default().push((at, None));
        }
        inside = now;
    }
    Ok(stays)
}

/// The first instant of `day` in `tz`.
fn day_start(day: Date, tz: &TimeZone) -> Option<Timestamp> {
    day.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

fn overlaps(stays: &Stays, from: i64, until: i64) -> bool {
    stays.iter().any(|(joined, left)| {
        joined.as_second() < until && left.is_none_or(|l| l.as_second() > from)
    })
}

fn covers(stays: &Stays, at: i64) -> bool {
    stays
        .iter()
        .any(|(joined, left)| at >= joined.as_second() && left.is_none_or(|l| at < l.as_second()))
}

/// Campaign `campaign_id`'s audience and holdout compared over `query`'s days (its ads are
/// ignored: conversions are people's, not an ad's).
pub async fn read(db: &Db, campaign_id: i64, query: &StatsQuery) -> ApiResult<HoldoutStats> {
    // Uploads' events may still be staged (customer::writer): merged first, so none is missed.
    crate::customer::writer::flush(db).await?;
    let campaign = campaigns::get(db, campaign_id).await?;
    let event = campaign.conversion_goal.as_ref().map(|g| g.event.clone());
    let percent = campaign.holdout_percent;
    let empty = |from| {
        HoldoutStats::compute(
            percent,
            event.clone(),
            (from, query.to),
            GroupFigures::default(),
            GroupFigures::default(),
        )
    };
    let held = holdout_stays(db, campaign_id).await?;
    let Some(first_held) = held.values().flatten().map(|(from, _)| *from).min() else {
        return Ok(empty(None));
    };
    // Days are the ad account's, as on the rest of the stats page.
    let record = repo::fetch_record(db, campaign_id).await?;
    let tz = record
        .and_then(|r| r.time_zone)
        .or_else(|| campaign.schedule.as_ref().map(|s| s.time_zone.clone()))
        .and_then(|z| TimeZone::get(&z).ok())
        .unwrap_or(TimeZone::UTC);
    let mut from = first_held.as_second();
    if let Some(start) = query.from.and_then(|d| day_start(d, &tz)) {
        from = from.max(start.as_second());
    }
    let until = query
        .to
        .and_then(|d| d.checked_add(1.day()).ok())
        .and_then(|d| day_start(d, &tz))
        .map_or(i64::MAX, |t| t.as_second());
    let first_day = Timestamp::from_second(from)
        .ok()
        .map(|t| t.to_zoned(tz.clone()).date());
    if from >= until {
        return Ok(empty(first_day));
    }
    let sent = conversions::memberships(db, campaign_id).await?;
    let people = |stays: &HashMap<i64, Stays>| {
        stays.values().filter(|s| overlaps(s, from, until)).count() as u64
    };
    let mut audience = GroupFigures {
        people: people(&sent),
        ..Default::default()
    };
    let mut holdout = GroupFigures {
        people: people(&held),
        ..Default::default()
    };
    let name_id: Option<i64> = match &event {
        Some(event) => with_pool!(db, pool => {
            sqlx::query_scalar("select id from event_names where name = $1")
                .bind(event)
                .fetch_optional(pool)
                .await?
        }),
        None => None,
    };
    if let Some(name_id) = name_id {
        let events: Vec<(i64, i64)> = with_pool!(db, pool => {
            sqlx::query_as(
                "select profile_id, ts from events where name_id = $1 and ts >= $2 and ts < $3",
            )
            .bind(name_id)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await?
        });
        let (mut sent_converted, mut held_converted) = (HashSet::new(), HashSet::new());
        for (profile_id, ts) in events {
            if sent.get(&profile_id).is_some_and(|s| covers(s, ts)) {
                audience.conversions += 1;
                sent_converted.insert(profile_id);
            }
            if held.get(&profile_id).is_some_and(|s| covers(s, ts)) {
                holdout.conversions += 1;
                held_converted.insert(profile_id);
            }
        }
        audience.converted = sent_converted.len() as u64;
        holdout.converted = held_converted.len() as u64;
    }
    Ok(HoldoutStats::compute(
        percent,
        event,
        (first_day, query.to),
        audience,
        holdout,
    ))
}

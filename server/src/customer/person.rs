//! One person as the segment semantics see them: their typed profile properties and their
//! events, read back from storage, and the explanation of a segment for them ("why is this
//! person in, or not in, my audience?"), computed by `shared`'s evaluator.

use std::collections::{BTreeMap, HashMap};

use jiff::{Timestamp, tz::TimeZone};
use serde_json::Value as Json;
use shared::campaign::CampaignStatus;
use shared::profile_view::{
    CampaignRef, EVENTS_PAGE, EventPage, ProfileDetail, SegmentRef, TimelineEvent, match_key_view,
    property_view,
};
use shared::segment::{
    Segment,
    eval::{
        EvalContext, EventRecord, ProfileRecord, Value,
        explain::{Explanation, explain},
        matches,
    },
};

use crate::db::{Db, with_pool};

/// A stored profile: its row id, properties and events.
pub struct Person {
    pub id: i64,
    pub profile: ProfileRecord,
    pub events: Vec<EventRecord>,
}

/// A `profile_props` row back to its typed value (the inverse of the store's columns).
fn from_columns(kind: &str, t: Option<String>, n: Option<f64>) -> Option<Value> {
    Some(match kind {
        "text" => Value::Text(t?),
        "number" => Value::Number(n?),
        "boolean" => Value::Boolean(n? != 0.0),
        "date" => Value::Date(Timestamp::from_second(n? as i64).ok()?),
        "list" => Value::List(serde_json::from_str(&t?).ok()?),
        _ => return None,
    })
}

/// An `events.props` value back to its typed value (text, number, boolean, list of texts, or a
/// date as `{"d": epoch seconds}`).
fn from_props(json: &Json) -> Option<Value> {
    Some(match json {
        Json::String(s) => Value::Text(s.clone()),
        Json::Number(x) => Value::Number(x.as_f64()?),
        Json::Bool(b) => Value::Boolean(*b),
        Json::Array(items) => Value::List(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
        ),
        Json::Object(o) => Value::Date(Timestamp::from_second(o.get("d")?.as_i64()?).ok()?),
        Json::Null => return None,
    })
}

/// The person with `identity`, with every event whose name is in `event_names` (all of them
/// when `None`); `None` when no such profile exists.
pub async fn load(
    db: &Db,
    identity: &str,
    event_names: Option<&[String]>,
) -> sqlx::Result<Option<Person>> {
    // Uploads' events may still be staged (customer::writer): merged first, so none is missed.
    crate::customer::writer::flush(db).await?;
    let id: Option<i64> = with_pool!(db, pool => {
        sqlx::query_scalar("select id from profiles where identity = $1")
            .bind(identity)
            .fetch_optional(pool)
            .await?
    });
    let Some(id) = id else { return Ok(None) };
    let rows: Vec<(String, String, Option<String>, Option<f64>)> = with_pool!(db, pool => {
        sqlx::query_as("select key, kind, t, n from profile_props where profile_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    let properties: BTreeMap<String, Value> = rows
        .into_iter()
        .filter_map(|(key, kind, t, n)| Some((key, from_columns(&kind, t, n)?)))
        .collect();
    // Read per name through (name, ts, profile) would need the name ids; a person's events are
    // few enough to read whole and filter here.
    let rows: Vec<(String, i64, String)> =
        match db {
            Db::Sqlite(pool) => sqlx::query_as(
                "select n.name, e.ts, e.props from events e join event_names n on n.id = e.name_id \
                 where e.profile_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?,
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "select n.name, e.ts, e.props::text from events e \
                 join event_names n on n.id = e.name_id where e.profile_id = $1",
                )
                .bind(id)
                .fetch_all(pool)
                .await?
            }
        };
    let events = rows
        .into_iter()
        .filter(|(name, _, _)| event_names.is_none_or(|names| names.contains(name)))
        .filter_map(|(name, ts, props)| {
            let props: serde_json::Map<String, Json> = serde_json::from_str(&props).ok()?;
            Some(EventRecord {
                name,
                at: Timestamp::from_second(ts).ok()?,
                properties: props
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), from_props(v)?)))
                    .collect(),
            })
        })
        .collect();
    Ok(Some(Person {
        id,
        profile: ProfileRecord { properties },
        events,
    }))
}

/// The saved segments `segment` refers to, directly or through others: id → (name, definition).
async fn referenced_saved(
    db: &Db,
    segment: &Segment,
) -> sqlx::Result<HashMap<i64, (String, Segment)>> {
    let mut found: HashMap<i64, (String, Segment)> = HashMap::new();
    let mut pending = saved_ids(segment);
    while let Some(id) = pending.pop() {
        if found.contains_key(&id) {
            continue;
        }
        let row: Option<(String, String)> = with_pool!(db, pool => {
            sqlx::query_as("select name, definition from saved_segments where id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        // A definition that no longer parses is left out: the rule then answers "not a
        // member", as the engine does for a missing segment.
        if let Some((name, definition)) = row
            && let Ok(definition) = serde_json::from_str::<Segment>(&definition)
        {
            pending.extend(saved_ids(&definition));
            found.insert(id, (name, definition));
        }
    }
    Ok(found)
}

fn saved_ids(segment: &Segment) -> Vec<i64> {
    match segment {
        Segment::Group(g) => g.rules.iter().flat_map(saved_ids).collect(),
        Segment::SavedSegment(s) => vec![s.segment_id],
        Segment::Event(_) | Segment::UserProperty(_) => Vec::new(),
    }
}

/// Membership of the person in the saved segment `id`, by `shared`'s evaluator on the same
/// data, at the same instant and in the same zone (as the engine expands saved segments).
/// `depth` guards against a cycle that slipped past validation.
fn in_saved(
    id: i64,
    defs: &HashMap<i64, (String, Segment)>,
    person: &Person,
    run_at: Timestamp,
    tz: &TimeZone,
    depth: usize,
) -> bool {
    let Some((_, definition)) = defs.get(&id) else {
        return false;
    };
    if depth > 16 {
        return false;
    }
    let nested = |inner: i64| in_saved(inner, defs, person, run_at, tz, depth + 1);
    let ctx = EvalContext {
        run_at,
        time_zone: tz,
        in_saved_segment: &nested,
    };
    matches(definition, &person.profile, &person.events, &ctx)
}

/// Explains `segment` for the person with `identity` at `run_at` in `tz`, its instants worded
/// in `shown_in` (the viewer's zone); `None` when there is no such profile.
pub async fn explain_person(
    db: &Db,
    identity: &str,
    segment: &Segment,
    run_at: Timestamp,
    tz: &TimeZone,
    shown_in: &TimeZone,
) -> sqlx::Result<Option<Explanation>> {
    let defs = referenced_saved(db, segment).await?;
    let Some(person) = load(db, identity, None).await? else {
        return Ok(None);
    };
    let member = |id: i64| in_saved(id, &defs, &person, run_at, tz, 0);
    let ctx = EvalContext {
        run_at,
        time_zone: tz,
        in_saved_segment: &member,
    };
    let lookup = |id: i64| defs.get(&id).cloned();
    Ok(Some(explain(
        segment,
        &person.profile,
        &person.events,
        &ctx,
        &lookup,
        shown_in,
    )))
}

/// `GET /api/profiles/{identity}`: the person's properties, masked match keys, newest events,
/// the saved segments they are in at `now` (UTC, as the Segments page computes sizes) and the
/// campaigns whose confirmed membership holds them. `None` when there is no such profile.
pub async fn detail(
    db: &Db,
    identity: &str,
    now: Timestamp,
) -> anyhow::Result<Option<ProfileDetail>> {
    let Some(person) = load(db, identity, None).await? else {
        return Ok(None);
    };
    let row: Option<(i64, i64, Vec<Option<String>>)> = {
        let sql = |dob: &str| {
            format!(
                "select created_at, updated_at, email, phone, first_name, last_name, gender, \
                 {dob}, city, state, zip, country, madid from profiles where id = $1"
            )
        };
        type Cols = (
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let r: Option<Cols> = match db {
            Db::Sqlite(pool) => {
                sqlx::query_as(&sql("date_of_birth"))
                    .bind(person.id)
                    .fetch_optional(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(&sql("to_char(date_of_birth, 'YYYY-MM-DD')"))
                    .bind(person.id)
                    .fetch_optional(pool)
                    .await?
            }
        };
        r.map(|c| {
            (
                c.0,
                c.1,
                vec![c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10, c.11, c.12],
            )
        })
    };
    let Some((created_at, updated_at, keys)) = row else {
        return Ok(None);
    };
    const KEY_NAMES: [&str; 11] = [
        "EMAIL", "PHONE", "FN", "LN", "GEN", "DOB", "CT", "ST", "ZIP", "COUNTRY", "MADID",
    ];
    let match_keys = KEY_NAMES
        .iter()
        .zip(&keys)
        .filter_map(|(name, v)| Some(match_key_view(name, v.as_deref()?)))
        .collect();
    let properties = person
        .profile
        .properties
        .iter()
        .map(|(k, v)| property_view(k, v))
        .collect();
    let events = events_page(db, person.id, 0).await?;

    // Saved segments, each evaluated by `shared` on the person's data, as the explanation does.
    let saved = crate::customer::saved::list(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let defs: HashMap<i64, (String, Segment)> = saved
        .iter()
        .map(|s| (s.id, (s.name.clone(), s.definition.clone())))
        .collect();
    let segments = saved
        .iter()
        .filter(|s| in_saved(s.id, &defs, &person, now, &TimeZone::UTC, 0))
        .map(|s| SegmentRef {
            id: s.id,
            name: s.name.clone(),
        })
        .collect();
    let campaigns = confirmed_in(db, person.id).await?;
    Ok(Some(ProfileDetail {
        identity: identity.to_owned(),
        created_at: Timestamp::from_second(created_at).unwrap_or_default(),
        updated_at: Timestamp::from_second(updated_at).unwrap_or_default(),
        properties,
        match_keys,
        events,
        segments,
        campaigns,
    }))
}

/// The campaigns whose last confirmed sync holds profile `profile_id`: what Facebook was last
/// confirmed to hold, not what the segment says now (the next run may change it).
async fn confirmed_in(db: &Db, profile_id: i64) -> anyhow::Result<Vec<CampaignRef>> {
    // Only the chunk of each membership that would hold them (`sync::store`).
    let rows: Vec<(i64, Vec<u8>, String, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "select s.campaign_id, m.members, c.name, c.status from sync_audiences s \
             join sync_members m on m.campaign_id = s.campaign_id and m.chunk = $1 \
             join campaigns c on c.id = s.campaign_id \
             order by c.name, s.campaign_id",
        )
        .bind(crate::sync::store::chunk_of(profile_id))
        .fetch_all(pool)
        .await?
    });
    let mut out = Vec::new();
    for (id, blob, name, status) in rows {
        let holds = crate::sync::members::records(&blob)?
            .iter()
            .any(|r| r.0 == profile_id);
        if !holds {
            continue;
        }
        let status = serde_json::from_value::<CampaignStatus>(Json::String(status.clone()))
            .map(|s| s.label().to_owned())
            .unwrap_or(status);
        let confirmed_at = crate::sync::repo::latest_succeeded(db, id)
            .await?
            .and_then(|r| r.finished_at);
        out.push(CampaignRef {
            id,
            name,
            status,
            confirmed_at,
        });
    }
    Ok(out)
}

/// A page of the person's events, newest first, from `offset`.
pub async fn events_page(db: &Db, profile_id: i64, offset: u64) -> sqlx::Result<EventPage> {
    // Uploads' events may still be staged (customer::writer): merged first, so none is missed.
    crate::customer::writer::flush(db).await?;
    let total: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from events where profile_id = $1")
            .bind(profile_id)
            .fetch_one(pool)
            .await?
    });
    let page = i64::from(EVENTS_PAGE);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let sql = |props: &str| {
        format!(
            "select n.name, e.ts, {props} from events e join event_names n on n.id = e.name_id \
             where e.profile_id = $1 order by e.ts desc, e.id desc limit $2 offset $3"
        )
    };
    let rows: Vec<(String, i64, String)> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&sql("e.props"))
                .bind(profile_id)
                .bind(page)
                .bind(offset)
                .fetch_all(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&sql("e.props::text"))
                .bind(profile_id)
                .bind(page)
                .bind(offset)
                .fetch_all(pool)
                .await?
        }
    };
    let shown = rows.len() as i64;
    let events = rows
        .into_iter()
        .map(|(name, ts, props)| {
            let props: serde_json::Map<String, Json> =
                serde_json::from_str(&props).unwrap_or_default();
            TimelineEvent {
                name,
                at: Timestamp::from_second(ts).unwrap_or_default(),
                properties: props
                    .iter()
                    .filter_map(|(k, v)| Some(property_view(k, &from_props(v)?)))
                    .collect(),
            }
        })
        .collect();
    let next = offset.saturating_add(shown);
    Ok(EventPage {
        events,
        total: total.max(0) as u64,
        next_offset: (shown == page && next < total).then_some(next as u64),
    })
}

/// The row id of the profile `identity`.
pub async fn profile_id(db: &Db, identity: &str) -> sqlx::Result<Option<i64>> {
    with_pool!(db, pool => {
        sqlx::query_scalar("select id from profiles where identity = $1")
            .bind(identity)
            .fetch_optional(pool)
            .await
    })
}

//! The differential test: on random data and random segments, the SQL engine must find exactly
//! the users `shared::segment::eval::matches` accepts. Data goes in through the upload parser and
//! store, so the storage encoding is under test too. Named edge cases follow.
//!
//! Every test runs on SQLite, and also on PostgreSQL when `TEST_POSTGRES_URL` names an admin
//! connection (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): each PostgreSQL run creates
//! its own database there and drops it afterwards.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde_json::{Value as Json, json};
use shared::segment::eval::{EvalContext, EventRecord, ProfileRecord, matches, start_of_day};
use shared::segment::*;
use sqlx::{Connection, Executor, PgPool};

use super::{RunAt, compile};
use crate::customer::record::{Record, parse_record};
use crate::customer::store::store;
use crate::db::{Db, with_database, with_pool};

/// splitmix64: a seeded generator, so a failure names the case that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const TEXTS: &[&str] = &["Mumbai", "Pune", "Delhi", "mumbai", "Pu", "Pune West"];
const ITEMS: &[&str] = &["a", "b", "c"];
const EVENTS: &[&str] = &["A", "B", "C", "Never Uploaded"];
/// (key, intended type): a value of another type is sometimes stored instead.
const PROFILE_KEYS: &[(&str, &str)] = &[
    ("City", "text"),
    ("Age", "number"),
    ("Vip", "boolean"),
    ("Signup", "date"),
    ("Tags", "list"),
];
const EVENT_KEYS: &[(&str, &str)] = &[
    ("Category", "text"),
    ("Amount", "number"),
    ("Paid", "boolean"),
    ("When", "date"),
    ("Items", "list"),
];

/// A world: its zone, its run instant, and instants worth testing around the window edges.
struct World {
    tz: TimeZone,
    run_at: Timestamp,
    instants: Vec<i64>,
    run_date: Date,
}

impl World {
    fn new(rng: &mut Rng) -> World {
        let zones = [
            "UTC",
            "Asia/Kolkata",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Kiritimati",
        ];
        let zone: &&str = rng.pick(&zones);
        let tz = TimeZone::get(zone).unwrap();
        // Near DST changes in New York and Lord Howe, and a year boundary.
        let bases = [
            "2027-03-14T12:00:00Z",
            "2027-11-07T06:30:00Z",
            "2027-04-04T01:00:00Z",
            "2026-12-31T18:29:59Z",
        ];
        let mut run_at: Timestamp = rng.pick(&bases).parse().unwrap();
        run_at = run_at
            .checked_add(Span::new().seconds(rng.int(-40_000, 40_000)))
            .unwrap();
        if rng.chance(0.5) {
            run_at = run_at
                .checked_add(Span::new().nanoseconds(rng.int(1, 999_999_999)))
                .unwrap();
        }
        let run_date = tz.to_datetime(run_at).date();
        let r = run_at.as_second();
        let mut instants = vec![r, r + 1, r - 1];
        for back in -1..=35 {
            let d = run_date.checked_sub(Span::new().days(back)).unwrap();
            let s = start_of_day(d, &tz).as_second();
            instants.extend([s - 1, s, s + 1]);
        }
        for h in [1, 24, 48] {
            instants.extend([r - h * 3600, r - h * 3600 + 1, r - h * 3600 - 1]);
        }
        World {
            tz,
            run_at,
            instants,
            run_date,
        }
    }

    fn instant(&self, rng: &mut Rng) -> i64 {
        if rng.chance(0.6) {
            *rng.pick(&self.instants)
        } else {
            self.run_at.as_second() + rng.int(-40 * 86_400, 2 * 86_400)
        }
    }

    fn date(&self, rng: &mut Rng) -> Date {
        self.run_date
            .checked_add(Span::new().days(rng.int(-12, 2)))
            .unwrap()
    }

    fn value_json(&self, rng: &mut Rng, kind: &str) -> Json {
        // Now and then a value of another type: conditions must not match it.
        let kind = if rng.chance(0.15) {
            *rng.pick(&["text", "number", "boolean", "date", "list"])
        } else {
            kind
        };
        match kind {
            "text" => json!(rng.pick(TEXTS)),
            "number" => json!(rng.int(-4, 20) as f64 / 2.0),
            "boolean" => json!(rng.chance(0.5)),
            "date" => json!(format!("$D_{}", self.instant(rng))),
            _ => {
                let items: Vec<&str> = ITEMS.iter().copied().filter(|_| rng.chance(0.4)).collect();
                json!(items)
            }
        }
    }

    fn properties(&self, rng: &mut Rng, keys: &[(&str, &str)]) -> Json {
        let mut m = serde_json::Map::new();
        for (key, kind) in keys {
            if rng.chance(0.6) {
                m.insert((*key).to_owned(), self.value_json(rng, kind));
            }
        }
        Json::Object(m)
    }

    fn condition(&self, rng: &mut Rng, kind: &str) -> Condition {
        let kind = if rng.chance(0.1) {
            *rng.pick(&["text", "number", "boolean", "date", "list"])
        } else {
            kind
        };
        let text = |rng: &mut Rng| rng.pick(TEXTS).to_string();
        let texts = |rng: &mut Rng| {
            let n = rng.int(1, 3);
            (0..n)
                .map(|_| rng.pick(TEXTS).to_string())
                .collect::<Vec<_>>()
        };
        let num = |rng: &mut Rng| rng.int(-4, 20) as f64 / 2.0;
        match kind {
            "text" => Condition::Text(match rng.below(9) {
                0 => TextCondition::Equals { value: text(rng) },
                1 => TextCondition::NotEquals { value: text(rng) },
                2 => TextCondition::Contains { value: text(rng) },
                3 => TextCondition::DoesNotContain { value: text(rng) },
                4 => TextCondition::StartsWith { value: text(rng) },
                5 => TextCondition::InList { values: texts(rng) },
                6 => TextCondition::NotInList { values: texts(rng) },
                7 => TextCondition::Exists,
                _ => TextCondition::DoesNotExist,
            }),
            "number" => Condition::Number(match rng.below(7) {
                0 => NumberCondition::Equals { value: num(rng) },
                1 => NumberCondition::NotEquals { value: num(rng) },
                2 => NumberCondition::LessThan { value: num(rng) },
                3 => NumberCondition::AtMost { value: num(rng) },
                4 => NumberCondition::GreaterThan { value: num(rng) },
                5 => NumberCondition::AtLeast { value: num(rng) },
                _ => {
                    let a = num(rng);
                    NumberCondition::Between {
                        from: a,
                        to: a + num(rng).abs(),
                    }
                }
            }),
            "boolean" => Condition::Boolean(if rng.chance(0.5) {
                BooleanCondition::IsTrue
            } else {
                BooleanCondition::IsFalse
            }),
            "date" => Condition::Date(match rng.below(4) {
                0 => DateCondition::Before {
                    date: self.date(rng),
                },
                1 => DateCondition::After {
                    date: self.date(rng),
                },
                2 => {
                    let from = self.date(rng);
                    DateCondition::Between {
                        from,
                        to: from.checked_add(Span::new().days(rng.int(0, 5))).unwrap(),
                    }
                }
                _ => DateCondition::InLastDays {
                    days: *rng.pick(&[1, 2, 7, 30]),
                },
            }),
            _ => Condition::List(ListCondition::ContainsAny {
                values: vec![rng.pick(ITEMS).to_string()],
            }),
        }
    }

    fn filter(&self, rng: &mut Rng, keys: &[(&str, &str)]) -> PropertyFilter {
        let (key, kind) = rng.pick(keys);
        PropertyFilter {
            property: (*key).to_owned(),
            condition: self.condition(rng, kind),
        }
    }

    fn window(&self, rng: &mut Rng) -> Window {
        match rng.below(6) {
            0 => Window::LastDays {
                days: *rng.pick(&[1, 2, 7, 30]),
            },
            1 => Window::LastHours {
                hours: *rng.pick(&[1, 24, 48]),
            },
            2 => {
                let from = self.date(rng);
                Window::Between {
                    from,
                    to: from.checked_add(Span::new().days(rng.int(0, 4))).unwrap(),
                }
            }
            3 => Window::Since {
                date: self.date(rng),
            },
            4 => Window::Before {
                date: self.date(rng),
            },
            _ => Window::Ever,
        }
    }

    fn event_rule(&self, rng: &mut Rng) -> EventRule {
        let did = rng.chance(0.6);
        let occurrence = *rng.pick(&[
            Occurrence::Any,
            Occurrence::Any,
            Occurrence::Any,
            Occurrence::FirstTime,
            Occurrence::LastTime,
        ]);
        let aggregate = (did && occurrence == Occurrence::Any && rng.chance(0.5)).then(|| {
            let op = *rng.pick(&[Comparison::AtLeast, Comparison::AtMost, Comparison::Exactly]);
            let measure = match rng.below(3) {
                0 => Measure::Count,
                1 => Measure::Sum {
                    property: "Amount".into(),
                },
                _ => Measure::Average {
                    property: "Amount".into(),
                },
            };
            let value = if measure == Measure::Count {
                let min = if op == Comparison::AtMost { 0 } else { 1 };
                rng.int(min, 4) as f64
            } else {
                rng.int(-4, 30) as f64 / 2.0
            };
            Aggregate {
                measure,
                op,
                value,
                include_never_did: op == Comparison::AtMost && rng.chance(0.5),
            }
        });
        let filters = (0..rng.int(0, 2))
            .map(|_| self.filter(rng, EVENT_KEYS))
            .collect();
        EventRule {
            did,
            event: rng.pick(EVENTS).to_string(),
            filters,
            aggregate,
            window: self.window(rng),
            occurrence,
        }
    }

    fn segment(&self, rng: &mut Rng, level: usize) -> Segment {
        if level == 0 || (level < 3 && rng.chance(0.25)) {
            let combine = if rng.chance(0.5) {
                Combine::AllOf
            } else {
                Combine::AnyOf
            };
            let rules = (0..rng.int(1, 3))
                .map(|_| self.segment(rng, level + 1))
                .collect();
            return Segment::Group(Group { combine, rules });
        }
        match rng.below(10) {
            0..=4 => Segment::Event(self.event_rule(rng)),
            5..=8 => Segment::UserProperty(self.filter(rng, PROFILE_KEYS)),
            _ => Segment::SavedSegment(SavedSegmentRule {
                segment_id: SAVED_ID,
                mode: if rng.chance(0.5) {
                    SavedSegmentMode::Include
                } else {
                    SavedSegmentMode::Exclude
                },
            }),
        }
    }
}

/// A database for one test, dropped (PostgreSQL) when the test ends, even by a panic.
struct TestDb {
    db: Db,
    /// PostgreSQL: the admin URL and the database to drop.
    owned: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.owned.take() else {
            return;
        };
        // Drop runs outside async code (maybe while unwinding): a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                conn.execute(format!("drop database if exists {name} with (force)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

async fn sqlite_db() -> TestDb {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .unwrap();
    TestDb {
        db: Db::Sqlite(pool),
        owned: None,
    }
}

/// A fresh, migrated PostgreSQL database, or `None` when `TEST_POSTGRES_URL` is not set.
async fn postgres_db() -> Option<TestDb> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("TEST_POSTGRES_URL").ok()?;
    let name = format!(
        "test_engine_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("drop database if exists {name}").as_str())
        .await
        .unwrap();
    conn.execute(format!("create database {name}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    let test_db = TestDb {
        db: Db::Postgres(
            PgPool::connect(&with_database(&admin, &name))
                .await
                .unwrap(),
        ),
        owned: Some((admin, name)),
    };
    test_db.db.migrate().await.unwrap();
    Some(test_db)
}

/// SQLite, and PostgreSQL when configured.
async fn every_db() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db().await];
    dbs.extend(postgres_db().await);
    dbs
}

async fn clear(db: &Db) {
    for table in [
        "events",
        "profile_props",
        "profiles",
        "event_names",
        "property_types",
        "event_days",
        "saved_segments",
    ] {
        let sql = format!("delete from {table}");
        with_pool!(db, pool => sqlx::query(&sql).execute(pool).await.map(drop).unwrap());
    }
    with_pool!(db, pool => {
        sqlx::query("update profile_count set n = 0")
            .execute(pool)
            .await
            .map(drop)
            .unwrap()
    });
}

/// What the reference evaluator sees: each user's properties and (deduplicated) events.
type Users = BTreeMap<String, (ProfileRecord, Vec<EventRecord>)>;

/// Uploads `records` through the parser and the store; returns the same data for `shared`.
async fn load(db: &Db, records: &[Json]) -> Users {
    let parsed: Vec<Record> = records
        .iter()
        .map(|r| parse_record(r, 0).unwrap_or_else(|e| panic!("{r}: {e:?}")))
        .collect();
    // The upload's own store, on either database, so the encoding under test is the real one.
    store(db, &parsed, 0).await.unwrap();
    let mut users = Users::new();
    let mut seen = BTreeSet::new();
    for r in parsed {
        match r {
            Record::Profile(p) => {
                let p = *p;
                let user = users.entry(p.identity).or_default();
                user.0.properties.extend(p.properties);
            }
            Record::Event(e) => {
                let user = users.entry(e.identity).or_default();
                // The store keeps one of two identical events; so must the reference.
                if seen.insert(e.dedup_key) {
                    user.1.push(EventRecord {
                        name: e.name,
                        at: Timestamp::from_second(e.ts).unwrap(),
                        properties: e.properties,
                    });
                }
            }
            // The upload API makes none (Segment's identify and alias do).
            Record::Link(_) => {}
        }
    }
    users
}

async fn engine_members(db: &Db, segment: &Segment, at: &RunAt<'_>) -> BTreeSet<String> {
    let query = compile(db, segment, at).await.unwrap();
    let ids = query.member_ids(db).await.unwrap();
    // The set evaluation (what estimates use) finds the same members as the SQL condition…
    let evaluated: Vec<i64> = query.evaluate(db).await.unwrap().members.iter().collect();
    assert_eq!(
        evaluated, ids,
        "set plan and SQL disagree on {}",
        query.where_sql
    );
    // … and so does the member stream of the sync.
    let mut streamed = Vec::new();
    let n = query
        .for_each_member(db, |m| streamed.push(m.id))
        .await
        .unwrap();
    assert_eq!(
        streamed, ids,
        "streamed members differ on {}",
        query.where_sql
    );
    assert_eq!(n as usize, ids.len());
    let names: HashMap<i64, String> = with_pool!(db, pool => {
        sqlx::query_as("select id, identity from profiles")
            .fetch_all(pool)
            .await
            .unwrap()
    })
    .into_iter()
    .collect();
    ids.into_iter().map(|id| names[&id].clone()).collect()
}

fn reference_members(users: &Users, segment: &Segment, at: &RunAt<'_>) -> BTreeSet<String> {
    reference_members_with(users, segment, at, None)
}

/// As [`reference_members`], with saved segment [`SAVED_ID`] defined as `saved` (a saved
/// segment that refers to itself counts nobody as a member inside, as the engine's loop guard).
fn reference_members_with(
    users: &Users,
    segment: &Segment,
    at: &RunAt<'_>,
    saved: Option<&Segment>,
) -> BTreeSet<String> {
    let not_member = |_: i64| false;
    users
        .iter()
        .filter(|(_, (p, e))| {
            let inner = EvalContext {
                run_at: at.run_at,
                time_zone: at.time_zone,
                in_saved_segment: &not_member,
            };
            let member =
                |id: i64| id == SAVED_ID && saved.is_some_and(|d| matches(d, p, e, &inner));
            let ctx = EvalContext {
                run_at: at.run_at,
                time_zone: at.time_zone,
                in_saved_segment: &member,
            };
            matches(segment, p, e, &ctx)
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The saved segment id the random segments refer to.
const SAVED_ID: i64 = 7;

/// Stores `definition` as saved segment [`SAVED_ID`] (replacing any earlier one).
async fn save_segment(db: &Db, definition: &Segment) {
    let definition = serde_json::to_string(definition).unwrap();
    with_pool!(db, pool => {
        sqlx::query(
            "insert into saved_segments (id, name, definition, created_at, updated_at) \
             values ($1, 'saved', $2, '', '') \
             on conflict (id) do update set definition = excluded.definition",
        )
        .bind(SAVED_ID)
        .bind(&definition)
        .execute(pool)
        .await
        .map(drop)
        .unwrap()
    });
}

#[tokio::test]
async fn the_engine_agrees_with_the_reference_evaluator_on_random_cases() {
    agrees_on_random_cases(&sqlite_db().await.db).await;
}

#[tokio::test]
async fn the_postgres_engine_agrees_with_the_reference_evaluator_on_random_cases() {
    let Some(test_db) = postgres_db().await else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL not tested");
        return;
    };
    agrees_on_random_cases(&test_db.db).await;
}

async fn agrees_on_random_cases(pool: &Db) {
    let (mut compared, mut nonempty, mut explained_count) = (0, 0, 0);
    for seed in 0..100u64 {
        let mut rng = Rng(seed);
        let world = World::new(&mut rng);
        clear(pool).await;
        let mut records = Vec::new();
        for u in 0..25 {
            let identity = format!("u{u}");
            if rng.chance(0.8) {
                records.push(json!({"type":"profile","identity":identity,
                    "profileData": world.properties(&mut rng, PROFILE_KEYS)}));
            }
            for _ in 0..rng.int(0, 8) {
                records.push(json!({"type":"event","identity":identity,
                    "ts": world.instant(&mut rng), "evtName": rng.pick(&EVENTS[..3]),
                    "evtData": world.properties(&mut rng, EVENT_KEYS)}));
            }
        }
        let users = load(pool, &records).await;
        let at = RunAt {
            run_at: world.run_at,
            time_zone: &world.tz,
        };
        for case in 0..10 {
            let segment = world.segment(&mut rng, 0);
            if !validate_segment(&segment, "segment").is_empty() {
                continue;
            }
            // Half the time saved segment 7 exists, defined by another random segment.
            let saved = rng.chance(0.5).then(|| world.segment(&mut rng, 1));
            match &saved {
                Some(definition) => save_segment(pool, definition).await,
                None => with_pool!(pool, pool => {
                    sqlx::query("delete from saved_segments")
                        .execute(pool)
                        .await
                        .map(drop)
                        .unwrap()
                }),
            }
            let engine = engine_members(pool, &segment, &at).await;
            let reference = reference_members_with(&users, &segment, &at, saved.as_ref());
            assert_eq!(
                engine,
                reference,
                "seed {seed} case {case}, run at {} in {:?}\nsegment: {}\nsaved segment 7: {}",
                world.run_at,
                world.tz.iana_name(),
                serde_json::to_string(&segment).unwrap(),
                serde_json::to_string(&saved).unwrap()
            );
            // "Why in / why not?": the explanation, from the person as stored, must give the
            // engine's verdict (three people a case; the rng is left alone so the cases stay).
            for u in [case, case + 10, case + 15] {
                let identity = format!("u{u}");
                let explained = crate::customer::person::explain_person(
                    pool,
                    &identity,
                    &segment,
                    world.run_at,
                    &world.tz,
                    &world.tz,
                )
                .await
                .unwrap();
                assert_eq!(
                    explained.as_ref().is_some_and(|e| e.matched),
                    engine.contains(&identity),
                    "explanation ≠ engine for {identity}, seed {seed} case {case}\nsegment: {}\n{explained:#?}",
                    serde_json::to_string(&segment).unwrap(),
                );
                explained_count += 1;
            }
            compared += 1;
            if !reference.is_empty() && reference.len() < users.len() {
                nonempty += 1;
            }
        }
    }
    // Guards against a generator that only produces trivial cases.
    assert!(compared >= 800, "only {compared} valid segments");
    assert!(
        explained_count >= 2400,
        "only {explained_count} explanations"
    );
    assert!(
        nonempty >= compared / 4,
        "only {nonempty} of {compared} split the users"
    );
}

// ---------------------------------------------------------------------------------------------
// Named edge cases: each asserts the expected members and agreement with `shared`.
// ---------------------------------------------------------------------------------------------

async fn check(records: &[Json], segment: Json, tz: &str, run_at: &str, expected: &[&str]) {
    let segment: Segment = serde_json::from_value(segment).unwrap();
    assert!(validate_segment(&segment, "segment").is_empty());
    let tz = TimeZone::get(tz).unwrap();
    let at = RunAt {
        run_at: run_at.parse().unwrap(),
        time_zone: &tz,
    };
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    for test_db in every_db().await {
        let db = &test_db.db;
        let users = load(db, records).await;
        let engine = engine_members(db, &segment, &at).await;
        assert_eq!(
            engine,
            reference_members(&users, &segment, &at),
            "engine ≠ shared on {:?}",
            db.kind()
        );
        assert_eq!(engine, expected, "on {:?}", db.kind());
    }
}

// By value: call sites pass `json!` literals.
#[allow(clippy::needless_pass_by_value)]
fn profile(identity: &str, data: Json) -> Json {
    json!({"type":"profile","identity":identity,"profileData":data})
}

#[allow(clippy::needless_pass_by_value)]
fn event(identity: &str, name: &str, ts: &str, data: Json) -> Json {
    let ts: Timestamp = ts.parse().unwrap();
    json!({"type":"event","identity":identity,"evtName":name,"ts":ts.as_second(),"evtData":data})
}

#[tokio::test]
async fn did_not_includes_users_with_no_events_at_all() {
    let records = [
        profile("quiet", json!({"City":"Pune"})),
        event("buyer", "Charged", "2027-03-09T10:00:00Z", json!({})),
        event("old", "Charged", "2027-01-01T10:00:00Z", json!({})),
    ];
    let segment = json!({"kind":"event","did":false,"event":"Charged","window":{"kind":"last_days","days":7}});
    check(
        &records,
        segment,
        "UTC",
        "2027-03-10T12:00:00Z",
        &["old", "quiet"],
    )
    .await;
}

#[tokio::test]
async fn at_most_leaves_out_never_did_users_unless_asked() {
    let records = [
        profile("never", json!({})),
        event("once", "Viewed", "2027-03-09T10:00:00Z", json!({})),
        event("thrice", "Viewed", "2027-03-09T10:00:00Z", json!({})),
        event("thrice", "Viewed", "2027-03-09T10:00:01Z", json!({})),
        event("thrice", "Viewed", "2027-03-09T10:00:02Z", json!({})),
    ];
    let rule = |include: bool| {
        json!({"kind":"event","did":true,"event":"Viewed","window":{"kind":"last_days","days":7},
               "aggregate":{"of":"count","op":"at_most","value":2,"include_never_did":include}})
    };
    check(
        &records,
        rule(false),
        "UTC",
        "2027-03-10T12:00:00Z",
        &["once"],
    )
    .await;
    check(
        &records,
        rule(true),
        "UTC",
        "2027-03-10T12:00:00Z",
        &["never", "once"],
    )
    .await;
}

#[tokio::test]
async fn first_and_last_time_are_tested_at_the_window_edges() {
    // Last 1 day at 15:00 UTC on 10 March starts at 00:00 on 9 March.
    let records = [
        event("edge", "Open", "2027-03-09T00:00:00Z", json!({})),
        event("before_edge", "Open", "2027-03-08T23:59:59Z", json!({})),
        event("before_edge", "Open", "2027-03-10T10:00:00Z", json!({})),
        // Its only event is after the run: ignored completely.
        event("future", "Open", "2027-03-10T15:00:01Z", json!({})),
        event("at_run", "Open", "2027-03-10T15:00:00Z", json!({})),
    ];
    let first = json!({"kind":"event","did":true,"event":"Open","occurrence":"first_time",
                       "window":{"kind":"last_days","days":1}});
    check(
        &records,
        first,
        "UTC",
        "2027-03-10T15:00:00Z",
        &["at_run", "edge"],
    )
    .await;
    let last = json!({"kind":"event","did":true,"event":"Open","occurrence":"last_time",
                      "window":{"kind":"last_days","days":1}});
    check(
        &records,
        last,
        "UTC",
        "2027-03-10T15:00:00Z",
        &["at_run", "before_edge", "edge"],
    )
    .await;
}

#[tokio::test]
async fn calendar_dates_are_counted_in_the_campaign_time_zone() {
    // Between 3 and 5 March in Kolkata: 23:30 local on 3 March (18:00Z) counts, 23:30 local on
    // 2 March does not, 00:00 local on 6 March (18:30Z on the 5th) does not.
    let records = [
        event("in", "Open", "2027-03-03T18:00:00Z", json!({})),
        event("out", "Open", "2027-03-02T18:00:00Z", json!({})),
        event("late", "Open", "2027-03-05T18:30:00Z", json!({})),
    ];
    let segment = json!({"kind":"event","did":true,"event":"Open",
        "window":{"kind":"between","from":"2027-03-03","to":"2027-03-05"}});
    check(
        &records,
        segment,
        "Asia/Kolkata",
        "2027-03-20T00:00:00Z",
        &["in"],
    )
    .await;
}

#[tokio::test]
async fn a_property_of_another_type_never_matches() {
    let records = [
        profile("text_age", json!({"Age":"30"})),
        profile("number_age", json!({"Age":30})),
        event(
            "u",
            "Charged",
            "2027-03-09T10:00:00Z",
            json!({"Amount":"100"}),
        ),
        event(
            "v",
            "Charged",
            "2027-03-09T10:00:00Z",
            json!({"Amount":100}),
        ),
    ];
    let age = json!({"kind":"user_property","property":"Age",
                     "condition":{"type":"number","op":"at_least","value":18}});
    check(
        &records,
        age,
        "UTC",
        "2027-03-10T00:00:00Z",
        &["number_age"],
    )
    .await;
    let not_equals = json!({"kind":"user_property","property":"Age",
                     "condition":{"type":"text","op":"not_equals","value":"31"}});
    check(
        &records,
        not_equals,
        "UTC",
        "2027-03-10T00:00:00Z",
        &["text_age"],
    )
    .await;
    // A text amount adds 0 to a sum.
    let sum = json!({"kind":"event","did":true,"event":"Charged","window":{"kind":"ever"},
                     "aggregate":{"of":"sum","property":"Amount","op":"at_least","value":50}});
    check(&records, sum, "UTC", "2027-03-10T00:00:00Z", &["v"]).await;
}

#[tokio::test]
async fn members_stream_with_their_normalised_match_keys() {
    let segment: Segment = serde_json::from_value(json!({"kind":"user_property","property":"City",
        "condition":{"type":"text","op":"equals","value":"Pune"}}))
    .unwrap();
    let at = RunAt {
        run_at: Timestamp::now(),
        time_zone: &TimeZone::UTC,
    };
    for test_db in every_db().await {
        let db = &test_db.db;
        load(
            db,
            &[
                profile(
                    "a",
                    json!({"Email":"A@X.com","Phone":"+14155551234","City":"Pune",
                           "DOB":"$D_0"}),
                ),
                profile("b", json!({"City":"Delhi"})),
                profile("c", json!({"City":"Pune","Name":"Asha Rao"})),
            ],
        )
        .await;
        let query = compile(db, &segment, &at).await.unwrap();
        let mut seen = Vec::new();
        let n = query.for_each_member(db, |m| seen.push(m)).await.unwrap();
        assert_eq!(n, 2, "on {:?}", db.kind());
        assert_eq!(seen[0].identity, "a");
        assert_eq!(seen[0].email.as_deref(), Some("a@x.com"));
        assert_eq!(seen[0].phone.as_deref(), Some("+14155551234"));
        assert_eq!(seen[0].date_of_birth.as_deref(), Some("1970-01-01"));
        assert_eq!(seen[1].first_name.as_deref(), Some("asha"));
        assert_eq!(seen[1].last_name.as_deref(), Some("rao"));
    }
}

#[tokio::test]
async fn members_stream_in_id_order_across_sparse_and_dense_chunks() {
    // Every third profile of 1,500 (sparse: ids sent as a list) and then every profile of the
    // next 1,500 (dense: read by id range and filtered), across many chunks (64 ids in tests).
    let mut records = Vec::new();
    for i in 0..3_000 {
        let city = if i < 1_500 && i % 3 != 0 {
            "Delhi"
        } else {
            "Pune"
        };
        records.push(profile(&format!("u{i:05}"), json!({ "City": city })));
    }
    let segment: Segment = serde_json::from_value(json!({"kind":"user_property","property":"City",
        "condition":{"type":"text","op":"equals","value":"Pune"}}))
    .unwrap();
    let at = RunAt {
        run_at: Timestamp::now(),
        time_zone: &TimeZone::UTC,
    };
    for test_db in every_db().await {
        let db = &test_db.db;
        for chunk in records.chunks(1000) {
            load(db, chunk).await;
        }
        let query = compile(db, &segment, &at).await.unwrap();
        let mut seen = Vec::new();
        query
            .for_each_member(db, |m| seen.push(m.identity))
            .await
            .unwrap();
        let expected: Vec<String> = (0..3_000)
            .filter(|i| *i >= 1_500 || i % 3 == 0)
            .map(|i| format!("u{i:05}"))
            .collect();
        assert_eq!(seen, expected, "on {:?}", db.kind());
    }
}

#[tokio::test]
async fn a_run_instant_with_a_fraction_of_a_second_bounds_rolling_windows_exactly() {
    // Last 1 hour at 12:00:00.5 starts at 11:00:00.5: an event at 11:00:00 is outside.
    let records = [
        event("outside", "Open", "2027-03-10T11:00:00Z", json!({})),
        event("inside", "Open", "2027-03-10T11:00:01Z", json!({})),
        event("at_run", "Open", "2027-03-10T12:00:00Z", json!({})),
        event("after_run", "Open", "2027-03-10T12:00:01Z", json!({})),
    ];
    let segment =
        json!({"kind":"event","did":true,"event":"Open","window":{"kind":"last_hours","hours":1}});
    check(
        &records,
        segment,
        "UTC",
        "2027-03-10T12:00:00.5Z",
        &["at_run", "inside"],
    )
    .await;
}

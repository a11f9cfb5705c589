//! `server seed`: demo data shaped like the reference benchmark (8 event names, the city from 5
//! values), written through the same parser and store as uploads.

use serde_json::{Value as Json, json};

use super::record::{Record, parse_record};
use super::store::store;
use crate::db::Db;

pub const EVENT_NAMES: [&str; 8] = [
    "App Launched",
    "Product Viewed",
    "Added To Cart",
    "Charged",
    "Searched",
    "Wishlisted",
    "Reviewed",
    "Logged Out",
];
pub const CITIES: [&str; 5] = ["Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai"];

/// splitmix64: deterministic, so two seeds with the same sizes give the same data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

pub struct SeedSize {
    pub profiles: u64,
    pub events: u64,
    pub days: u64,
}

/// Adds `size.profiles` profiles and `size.events` events spread over the `size.days` days
/// before `now` (epoch seconds); returns the number of records written.
pub async fn seed(db: &Db, size: &SeedSize, now: i64) -> anyhow::Result<u64> {
    const BATCH: u64 = 1000;
    let mut rng = Rng(42);
    let mut written = 0;
    let mut batch: Vec<Json> = Vec::with_capacity(BATCH as usize);
    let flush = |batch: &mut Vec<Json>| -> anyhow::Result<Vec<Record>> {
        let records = batch
            .drain(..)
            .map(|r| parse_record(&r, now).map_err(|e| anyhow::anyhow!("{e:?}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(records)
    };
    for i in 0..size.profiles {
        let city = CITIES[rng.below(CITIES.len() as u64) as usize];
        batch.push(
            json!({"type":"profile","identity":format!("user-{i}"),"ts":now,
            "profileData":{"City":city,"Email":format!("user{i}@example.com"),
                           "Age": 18 + rng.below(50)}}),
        );
        if batch.len() as u64 == BATCH {
            written += batch.len() as u64;
            store(db, &flush(&mut batch)?, now).await?;
        }
    }
    let span = (size.days * 86_400).max(1);
    for _ in 0..size.events {
        let user = rng.below(size.profiles.max(1));
        // Uniform over the names, as in the reference benchmark.
        let name = EVENT_NAMES[rng.below(EVENT_NAMES.len() as u64) as usize];
        let ts = now - rng.below(span) as i64;
        let data = if name == "Charged" {
            json!({"Amount": 100 + rng.below(5000)})
        } else {
            json!({})
        };
        batch.push(
            json!({"type":"event","identity":format!("user-{user}"),"ts":ts,
            "evtName":name,"evtData":data}),
        );
        if batch.len() as u64 == BATCH {
            written += batch.len() as u64;
            store(db, &flush(&mut batch)?, now).await?;
        }
    }
    written += batch.len() as u64;
    store(db, &flush(&mut batch)?, now).await?;
    Ok(written)
}

/// The small data set `serve --demo` (and so `cargo xtask run --demo`) adds to an empty database,
/// sized to load in seconds while giving the segment builder's estimates real numbers to show.
pub const DEMO: SeedSize = SeedSize {
    profiles: 2_000,
    events: 20_000,
    days: 60,
};

/// Seeds [`DEMO`] when the database holds no profiles yet; returns the records written (0 when
/// there was data already, so a restart with `--demo` never duplicates it).
pub async fn seed_demo_if_empty(db: &Db) -> anyhow::Result<u64> {
    // `profile_count` is maintained with the profiles, and a single-row read on either backend.
    let profiles: i64 = crate::db::with_pool!(db, pool => {
        sqlx::query_scalar("select n from profile_count where id = 1")
            .fetch_one(pool)
            .await?
    });
    if profiles > 0 {
        return Ok(0);
    }
    seed(db, &DEMO, jiff::Timestamp::now().as_second()).await
}

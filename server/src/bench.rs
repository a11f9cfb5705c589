//! `server bench segments` (what `cargo xtask bench segments` runs): the segment engine and the
//! upload API measured on the reference data set of issue 4 — 1,000,000 profiles, 20,000,000
//! events over 120 days, 8 event names chosen uniformly, the city from 5 values.
//!
//! The data set is written straight into the database by a bulk path (the upload API would take
//! too long for a benchmark's set-up) and kept between runs under the bench folder. It is rebuilt
//! when the schema (the migrations' checksums) or the generator changes. The estimate is then
//! measured through the real HTTP endpoint of a server started in this process, member streaming
//! (what the audience sync reads) through the engine, and ingestion through the real upload API
//! on a fresh database.
//!
//! With `--postgres-url postgres://…/DB` the same data set is also written into PostgreSQL
//! database DB (created when missing, kept between runs, rebuilt when stale) with `COPY`, and the
//! estimate and member streaming are measured there too.

// A command-line report: printing is its job.
#![allow(clippy::print_stdout)]

pub mod backfill;

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    str::FromStr,
    time::Instant,
};

use anyhow::{Context, bail};
use serde_json::json;
use sqlx::{
    ConnectOptions, Connection, Executor, PgConnection, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    config::Config,
    customer::seed::{CITIES, EVENT_NAMES},
    db::{Db, with_database},
    engine::{self, RunAt},
};

/// Bumped whenever the generator writes different data.
const GENERATOR_VERSION: u32 = 1;
/// The data set's "now" (2026-11-18T20:26:40Z): fixed, so the reference segment always sees the
/// same events. Estimates are evaluated at this instant.
pub const DATA_NOW: i64 = 1_795_000_000;
/// Events per statement of the bulk path (sent as one JSON array that SQLite unpacks).
const BULK_CHUNK: u64 = 200_000;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub profiles: u64,
    pub events: u64,
    pub days: u64,
}

/// The reference data set of issue 4.
pub const REFERENCE: Size = Size {
    profiles: 1_000_000,
    events: 20_000_000,
    days: 120,
};

/// splitmix64, seeded: the same sizes always give the same data.
struct Rng(u64);

/// The reference data set's rows, in the order both databases write them: every profile, then
/// every event, from one seeded sequence (the SQLite and PostgreSQL copies hold the same data).
struct Generator {
    rng: Rng,
    size: Size,
    charged: u64,
}

/// A generated event: profile id, event name id (1-based into `EVENT_NAMES`), time, amount.
struct GenEvent {
    profile: u64,
    name: u64,
    ts: i64,
    amount: u64,
}

impl Generator {
    fn new(size: Size) -> anyhow::Result<Generator> {
        let charged = EVENT_NAMES
            .iter()
            .position(|n| *n == "Charged")
            .context("Charged is an event name")? as u64
            + 1;
        Ok(Generator {
            rng: Rng(4),
            size,
            charged,
        })
    }

    /// The next profile's City (index into `CITIES`) and Age.
    fn profile(&mut self) -> (u64, u64) {
        let city = self.rng.below(CITIES.len() as u64);
        let age = 18 + self.rng.below(50);
        (city, age)
    }

    /// The next event: uniform over profiles, names and seconds of the window.
    fn event(&mut self) -> GenEvent {
        let span = (self.size.days * 86_400).max(1);
        let profile = 1 + self.rng.below(self.size.profiles.max(1));
        let name = 1 + self.rng.below(EVENT_NAMES.len() as u64);
        let ts = DATA_NOW - self.rng.below(span) as i64;
        let amount = if name == self.charged {
            100 + self.rng.below(5000)
        } else {
            0
        };
        GenEvent {
            profile,
            name,
            ts,
            amount,
        }
    }
}

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// What identifies a data set on disk: the schema it was written for, the generator and sizes.
fn fingerprint(size: Size) -> String {
    fingerprint_of(size, &sqlx::migrate!("./migrations/sqlite"))
}

fn fingerprint_of(size: Size, migrator: &sqlx::migrate::Migrator) -> String {
    let mut s = format!(
        "v{GENERATOR_VERSION}-{}-{}-{}",
        size.profiles, size.events, size.days
    );
    for m in migrator.iter() {
        let _ = write!(s, "-{}:", m.version);
        for b in m.checksum.iter().take(8) {
            let _ = write!(s, "{b:02x}");
        }
    }
    s
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Makes sure `dir/reference.db` holds the data set of `size` for the current schema; builds it
/// when missing or stale. Returns its path.
pub async fn ensure_dataset(dir: &Path, size: Size) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db_path = dir.join("reference.db");
    let stamp = dir.join("reference.fingerprint");
    let wanted = fingerprint(size);
    if db_path.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        println!("Reference data set is up to date: {}", db_path.display());
        return Ok(db_path);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let _ = std::fs::remove_file(&stamp);
    println!(
        "Building the reference data set ({} profiles, {} events over {} days) in {} …",
        size.profiles,
        size.events,
        size.days,
        db_path.display()
    );
    let started = Instant::now();
    bulk_write(&db_path, size).await?;
    std::fs::write(&stamp, &wanted)?;
    println!("  built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(db_path)
}

/// The bulk path: no journal, secondary indexes dropped while rows go in and rebuilt after
/// (sorting once is far cheaper than 20M random index inserts), and rows unpacked by SQLite from
/// one JSON array per statement. The file is disposable: an interrupted build leaves no
/// fingerprint and is rebuilt.
async fn bulk_write(db_path: &Path, size: Size) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::from_str(&sqlite_url(db_path))?
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-1000000")
        // Every statement here is "slow" by design (200,000 rows each).
        .create_if_missing(true)
        .disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&options).await?;
    // Migrated on this same connection: a pool's connections, closed just before, sometimes still
    // held the file (WAL) when this one switched the journal off, and the build failed with
    // "database is locked".
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut conn)
        .await
        .context("applying database migrations")?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select name, sql from sqlite_master where type = 'index' and sql is not null \
         and tbl_name in ('events', 'profile_props')",
    )
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(&format!("drop index {name}"))
            .execute(&mut conn)
            .await?;
    }
    let mut generator = Generator::new(size)?;
    let now = DATA_NOW;

    // Profiles: identity, e-mail, City (5 values) and Age.
    let mut done = 0;
    while done < size.profiles {
        let n = BULK_CHUNK.min(size.profiles - done);
        let mut rows = String::with_capacity(n as usize * 16);
        rows.push('[');
        for i in done..done + n {
            if i > done {
                rows.push(',');
            }
            let (city, age) = generator.profile();
            let _ = write!(rows, "[{},{city},{age}]", i + 1);
        }
        rows.push(']');
        let cities = json!(CITIES).to_string();
        sqlx::query(
            "insert into profiles (id, identity, email, city, created_at, updated_at) \
             select j.value->>0, 'user-' || (j.value->>0), \
                    'user' || (j.value->>0) || '@example.com', \
                    lower(? ->> (j.value->>1)), ?, ? from json_each(?) j",
        )
        .bind(&cities)
        .bind(now)
        .bind(now)
        .bind(&rows)
        .execute(&mut conn)
        .await?;
        sqlx::query(
            "insert into profile_props (profile_id, key, kind, t, n) \
             select j.value->>0, 'City', 'text', ? ->> (j.value->>1), null from json_each(?) j \
             union all \
             select j.value->>0, 'Age', 'number', null, j.value->>2 from json_each(?) j",
        )
        .bind(&cities)
        .bind(&rows)
        .bind(&rows)
        .execute(&mut conn)
        .await?;
        done += n;
    }

    // Event names 1..=8 in `EVENT_NAMES` order; counts filled in at the end.
    for (i, name) in EVENT_NAMES.iter().enumerate() {
        sqlx::query("insert into event_names (id, name, first_seen) values (?, ?, ?)")
            .bind(i as i64 + 1)
            .bind(*name)
            .bind(now - (size.days * 86_400) as i64)
            .execute(&mut conn)
            .await?;
    }
    let charged = generator.charged;

    // Events: uniform over profiles, names and seconds of the window. `dedup_key` is the event's
    // sequence number (unique, and appended in order: no random inserts into its index).
    let mut done = 0;
    while done < size.events {
        let n = BULK_CHUNK.min(size.events - done);
        let mut rows = String::with_capacity(n as usize * 32);
        rows.push('[');
        for i in done..done + n {
            if i > done {
                rows.push(',');
            }
            let GenEvent {
                profile,
                name,
                ts,
                amount,
            } = generator.event();
            let _ = write!(rows, "[{profile},{name},{ts},{amount},{i}]");
        }
        rows.push(']');
        sqlx::query(
            "insert into events (profile_id, name_id, ts, props, dedup_key) \
             select j.value->>0, j.value->>1, j.value->>2, \
                    case when j.value->>1 = ? then json_object('Amount', j.value->>3) else '{}' end, \
                    unhex(printf('%032x', j.value->>4)) \
             from json_each(?) j",
        )
        .bind(charged as i64)
        .bind(&rows)
        .execute(&mut conn)
        .await?;
        done += n;
        if done % 2_000_000 == 0 || done == size.events {
            println!("  {done} events written");
        }
    }

    println!("  indexing and aggregating …");
    for (_, sql) in &indexes {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    sqlx::query(
        "insert into event_days (name_id, day, profile_id, n) \
         select name_id, ts / 86400, profile_id, count(*) from events group by 1, 2, 3",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "update event_names set \
         count = (select count(*) from events e where e.name_id = event_names.id), \
         last_seen = (select max(ts) from events e where e.name_id = event_names.id)",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query("update profile_count set n = (select count(*) from profiles) where id = 1")
        .execute(&mut conn)
        .await?;
    sqlx::query(
        "insert into property_types (scope, event_name, key, kind, first_seen) values \
         ('profile', '', 'City', 'text', ?1), ('profile', '', 'Age', 'number', ?1), \
         ('event', 'Charged', 'Amount', 'number', ?1)",
    )
    .bind(now)
    .execute(&mut conn)
    .await?;
    // The server opens it in WAL mode, as any database it serves.
    sqlx::query("pragma journal_mode = wal")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// The reference segment: City in {Mumbai, Pune} AND did "Product Viewed" at least 3 times in
/// the last 30 days AND did not do "Charged" in the last 7 days.
pub fn reference_segment() -> serde_json::Value {
    json!({"kind":"group","combine":"all_of","rules":[
        {"kind":"user_property","property":"City",
         "condition":{"type":"text","op":"in_list","values":["Mumbai","Pune"]}},
        {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"last_days","days":30},
         "aggregate":{"of":"count","op":"at_least","value":3}},
        {"kind":"event","did":false,"event":"Charged","window":{"kind":"last_days","days":7}}]})
}

/// The user the bench signs in as (created on the first run against a database).
const BENCH_EMAIL: &str = "bench@example.com";

fn test_config(url: &str) -> anyhow::Result<Config> {
    let url = url.to_owned();
    Config::from_lookup(|key| match key {
        "ADMIN_EMAIL" => Some(BENCH_EMAIL.to_owned()),
        "ADMIN_PASSWORD" => Some("bench-password-not-a-secret".to_owned()),
        "BIND" => Some("127.0.0.1:0".to_owned()),
        "DATABASE_URL" => Some(url.to_owned()),
        "UPLOAD_API_KEY" => Some("bench".to_owned()),
        "BODY_LIMIT_BYTES" => Some((16 * 1024 * 1024).to_string()),
        _ => None,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn file_size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Options of `server bench segments`.
pub struct BenchOptions {
    pub dir: PathBuf,
    pub size: Size,
    pub runs: usize,
    pub ingest_events: u64,
    pub ingest_batch: u64,
    pub ingest_clients: u64,
    /// Measure ingestion on this database (e.g. an empty PostgreSQL one) instead of a fresh
    /// SQLite file in the bench folder.
    pub ingest_database_url: Option<String>,
    /// A PostgreSQL database to measure too (`postgres://…/DB`).
    pub postgres_url: Option<String>,
    /// The backfill through the upload API (issue 22), run first; `None` skips it.
    pub backfill: Option<backfill::BackfillOptions>,
    /// Only the backfill: no reference data set, estimate or member streaming.
    pub backfill_only: bool,
}

pub async fn run(opts: &BenchOptions) -> anyhow::Result<()> {
    if let Some(backfill) = &opts.backfill {
        backfill::run(backfill).await?;
    }
    if opts.backfill_only {
        return Ok(());
    }
    let db_path = ensure_dataset(&opts.dir, opts.size).await?;
    println!(
        "Database size on disk: {:.0} MiB ({})",
        file_size(&db_path) as f64 / (1024.0 * 1024.0),
        db_path.display()
    );
    let sqlite = sqlite_url(&db_path);
    estimate(&sqlite, "SQLite", opts.runs).await?;
    members(&sqlite, "SQLite").await?;
    if let Some(url) = &opts.postgres_url {
        ensure_postgres_dataset(url, opts.size).await?;
        estimate(url, "PostgreSQL", opts.runs).await?;
        members(url, "PostgreSQL").await?;
    }
    if opts.ingest_events > 0 {
        ingest(&opts.dir, opts).await?;
    }
    Ok(())
}

async fn estimate(database_url: &str, label: &str, runs: usize) -> anyhow::Result<()> {
    let server = crate::start(test_config(database_url)?).await?;
    let url = format!("http://{}/api/segments/estimate", server.addr);
    let http = signed_in(&server).await?;
    let at = jiff::Timestamp::from_second(DATA_NOW)?;
    let body = json!({"segment": reference_segment(), "time_zone": "Asia/Kolkata", "at": at});
    println!("\n{label}: reference segment estimate, POST /api/segments/estimate (Asia/Kolkata):");
    let mut walls = Vec::new();
    let mut tooks = Vec::new();
    // One warm-up run (page cache), then the measured runs.
    for run in 0..=runs {
        let started = Instant::now();
        let res = http.post(&url).json(&body).send().await?;
        let status = res.status();
        let answer: serde_json::Value = res.json().await?;
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            bail!("estimate failed ({status}): {answer}");
        }
        let took = answer["took_ms"].as_f64().unwrap_or(f64::NAN);
        println!(
            "  {} reach {} of {}: took_ms {took}, wall {wall:.0} ms",
            if run == 0 { "warm-up" } else { "run    " },
            answer["reach"],
            answer["total_profiles"]
        );
        if run > 0 {
            walls.push(wall);
            tooks.push(took);
        }
    }
    println!(
        "  median of {runs}: took_ms {:.0}, wall {:.0} ms (target ≤ 300 ms)",
        median(tooks),
        median(walls)
    );
    server.shutdown().await
}

/// Uploads `ingest_events` events (over 10,000 identities) in batches, from a few concurrent
/// clients, into a fresh database.
async fn ingest(dir: &Path, opts: &BenchOptions) -> anyhow::Result<()> {
    let db_path = dir.join("ingest.db");
    let url = match &opts.ingest_database_url {
        Some(url) => {
            let db = Db::connect(url).await?;
            db.migrate().await?;
            let events: i64 = crate::db::with_pool!(&db, pool => {
                sqlx::query_scalar("select count(*) from events").fetch_one(pool).await?
            });
            db.close().await;
            if events > 0 {
                bail!("the ingestion database must be empty (it holds {events} events)");
            }
            url.clone()
        }
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
            }
            sqlite_url(&db_path)
        }
    };
    let server = crate::start(test_config(&url)?).await?;
    let url = format!("http://{}/api/v1/upload", server.addr);
    let http = reqwest::Client::new();
    let mut rng = Rng(7);
    let identities = 10_000;
    // Bodies are built before the clock starts: the client's JSON work is not the server's.
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut batch = Vec::new();
    let mut flush = |batch: &mut Vec<serde_json::Value>| {
        if !batch.is_empty() {
            bodies.push(serde_json::to_vec(&json!({ "d": batch })).unwrap_or_default());
            batch.clear();
        }
    };
    for i in 0..opts.ingest_events {
        let name = EVENT_NAMES[rng.below(EVENT_NAMES.len() as u64) as usize];
        let data = if name == "Charged" {
            json!({"Amount": 100 + rng.below(5000), "Items": 1 + rng.below(5)})
        } else {
            json!({"Category": CITIES[rng.below(5) as usize]})
        };
        batch.push(
            json!({"type":"event","identity":format!("user-{}", rng.below(identities)),
            "ts": DATA_NOW - (i % 86_400) as i64, "evtName": name, "evtData": data}),
        );
        if batch.len() as u64 == opts.ingest_batch {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    let clients = opts.ingest_clients.max(1) as usize;
    println!(
        "\nIngestion, POST /api/v1/upload: {} events in {} batches of {}, {clients} concurrent clients, fresh {} database:",
        opts.ingest_events,
        bodies.len(),
        opts.ingest_batch,
        if opts.ingest_database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let started = Instant::now();
    let mut lanes: Vec<Vec<Vec<u8>>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, body) in bodies.into_iter().enumerate() {
        lanes[i % clients].push(body);
    }
    let mut tasks = Vec::new();
    for lane in lanes {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut processed = 0u64;
            for body in lane {
                let res = http
                    .post(&url)
                    .header("X-Api-Key", "bench")
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let answer: serde_json::Value = res.json().await?;
                processed += answer["processed"].as_u64().unwrap_or(0);
            }
            anyhow::Ok(processed)
        }));
    }
    let mut processed = 0;
    for t in tasks {
        processed += t.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "  {processed} events processed in {:.2} s: {:.0} events/s (target ≥ 100,000/s)",
        elapsed.as_secs_f64(),
        processed as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if opts.ingest_database_url.is_none() {
        println!(
            "  ingest database on disk: {:.0} MiB",
            file_size(&db_path) as f64 / (1024.0 * 1024.0)
        );
    }
    server.shutdown().await
}

/// Streams the members of the reference segment, and of a segment holding every profile, with
/// their match keys, as the audience sync reads them (`for_each_member`); median of 3 each.
async fn members(database_url: &str, label: &str) -> anyhow::Result<()> {
    let db = Db::connect(database_url).await?;
    let everyone = json!({"kind":"user_property","property":"City",
                          "condition":{"type":"text","op":"exists"}});
    let tz = jiff::tz::TimeZone::get("Asia/Kolkata")?;
    let at = RunAt {
        run_at: jiff::Timestamp::from_second(DATA_NOW)?,
        time_zone: &tz,
    };
    println!("\n{label}: member streaming with match keys (for_each_member), median of 3:");
    for (name, segment) in [
        ("reference segment", reference_segment()),
        ("every profile", everyone),
    ] {
        let segment: shared::segment::Segment = serde_json::from_value(segment)?;
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let query = engine::compile(&db, &segment, &at).await?;
            // Touch every row, as the sync's hashing would.
            let mut bytes = 0usize;
            count = query
                .for_each_member(&db, |m| {
                    bytes += m.identity.len() + m.email.map_or(0, |e| e.len())
                })
                .await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(bytes);
        }
        let runs: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
        let median = median(times);
        println!(
            "  {name}: {count} members in {median:.0} ms ({} ms), {:.0} members/s",
            runs.join(", "),
            count as f64 / (median / 1000.0).max(f64::EPSILON)
        );
    }
    db.close().await;
    Ok(())
}

/// The database name of a PostgreSQL URL.
fn database_name(url: &str) -> Option<&str> {
    let base = url.split('?').next()?;
    let rest = &base[base.find("://")? + 3..];
    let name = &rest[rest.find('/')? + 1..];
    (!name.is_empty()).then_some(name)
}

/// Makes sure the PostgreSQL database of `url` holds the reference data set for the current
/// PostgreSQL schema; (re)creates and fills it when missing or stale. The fingerprint is kept
/// as the database's comment.
pub async fn ensure_postgres_dataset(url: &str, size: Size) -> anyhow::Result<()> {
    let name = database_name(url).context("the PostgreSQL URL must name a database")?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("use a database name of letters, digits and _ (got {name:?})");
    }
    let wanted = fingerprint_of(size, &sqlx::migrate!("./migrations/postgres"));
    let mut admin = PgConnection::connect(&with_database(url, "postgres")).await?;
    let stamp: Option<Option<String>> = sqlx::query_scalar(
        "select shobj_description(oid, 'pg_database') from pg_database where datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut admin)
    .await?;
    if stamp.flatten().as_deref() == Some(wanted.as_str()) {
        println!(
            "\nPostgreSQL reference data set is up to date: {}",
            crate::db::redact_url(url)
        );
        return Ok(());
    }
    println!(
        "\nBuilding the reference data set in PostgreSQL ({}) …",
        crate::db::redact_url(url)
    );
    let started = Instant::now();
    admin
        .execute(format!("drop database if exists {name} with (force)").as_str())
        .await?;
    admin
        .execute(format!("create database {name}").as_str())
        .await?;
    let db = Db::connect(url).await?;
    db.migrate().await?;
    db.close().await;
    postgres_bulk_write(url, size).await?;
    admin
        .execute(format!("comment on database {name} is '{wanted}'").as_str())
        .await?;
    admin.close().await?;
    println!("  built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Sends `buf` to a `COPY … from stdin` when it is big enough (or `force`), then empties it.
async fn flush_copy(
    copy: &mut sqlx::postgres::PgCopyIn<&mut PgConnection>,
    buf: &mut String,
    force: bool,
) -> anyhow::Result<()> {
    if force || buf.len() >= 1 << 20 {
        copy.send(buf.as_bytes()).await?;
        buf.clear();
    }
    Ok(())
}

/// The same rows as [`bulk_write`], through `COPY` (text format) with the secondary indexes
/// dropped and rebuilt after, and foreign-key triggers off (the generator's ids are consistent
/// by construction). `event_days` is written sorted, as uploads day by day would leave it.
async fn postgres_bulk_write(url: &str, size: Size) -> anyhow::Result<()> {
    // Every statement here is "slow" by design (millions of rows each).
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?.disable_statement_logging();
    let mut conn = PgConnection::connect_with(&options).await?;
    conn.execute(
        "set session_replication_role = replica; set maintenance_work_mem = '512MB'; \
         set synchronous_commit = off",
    )
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select indexname, indexdef from pg_indexes where schemaname = 'public' \
         and tablename in ('events', 'profile_props') and indexname not like '%_pkey' \
         and indexname not like '%_key'",
    )
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        conn.execute(format!("drop index {name}").as_str()).await?;
    }
    conn.execute("alter table events drop constraint events_dedup_key_key")
        .await?;
    let mut generator = Generator::new(size)?;
    let now = DATA_NOW;

    let mut buf = String::with_capacity(2 << 20);
    let mut props = String::with_capacity(2 << 20);
    {
        let mut copy = conn
            .copy_in_raw(
                "copy profiles (id, identity, email, city, created_at, updated_at) from stdin",
            )
            .await?;
        for i in 1..=size.profiles {
            let (city, age) = generator.profile();
            let city = CITIES[city as usize];
            let _ = writeln!(
                buf,
                "{i}\tuser-{i}\tuser{i}@example.com\t{}\t{now}\t{now}",
                city.to_lowercase()
            );
            let _ = writeln!(props, "{i}\tCity\ttext\t{city}\t\\N");
            let _ = writeln!(props, "{i}\tAge\tnumber\t\\N\t{age}");
            flush_copy(&mut copy, &mut buf, false).await?;
        }
        flush_copy(&mut copy, &mut buf, true).await?;
        copy.finish().await?;
    }
    {
        let mut copy = conn
            .copy_in_raw("copy profile_props (profile_id, key, kind, t, n) from stdin")
            .await?;
        copy.send(props.as_bytes()).await?;
        copy.finish().await?;
    }
    drop(props);
    for (i, name) in EVENT_NAMES.iter().enumerate() {
        sqlx::query("insert into event_names (id, name, first_seen) values ($1, $2, $3)")
            .bind(i as i64 + 1)
            .bind(*name)
            .bind(now - (size.days * 86_400) as i64)
            .execute(&mut conn)
            .await?;
    }
    {
        let mut copy = conn
            .copy_in_raw("copy events (id, profile_id, name_id, ts, props, dedup_key) from stdin")
            .await?;
        for i in 0..size.events {
            let e = generator.event();
            let _ = write!(buf, "{}\t{}\t{}\t{}\t", i + 1, e.profile, e.name, e.ts);
            if e.name == generator.charged {
                let _ = write!(buf, "{{\"Amount\": {}}}", e.amount);
            } else {
                buf.push_str("{}");
            }
            let _ = writeln!(buf, "\t\\\\x{i:032x}");
            flush_copy(&mut copy, &mut buf, false).await?;
            if (i + 1) % 2_000_000 == 0 {
                println!("  {} events written", i + 1);
            }
        }
        flush_copy(&mut copy, &mut buf, true).await?;
        copy.finish().await?;
    }

    println!("  indexing and aggregating …");
    for (_, sql) in &indexes {
        conn.execute(sql.as_str()).await?;
    }
    conn.execute("alter table events add constraint events_dedup_key_key unique (dedup_key)")
        .await?;
    conn.execute(
        "insert into event_days (name_id, day, profile_id, n) \
         select name_id, ts / 86400, profile_id, count(*) from events group by 1, 2, 3 \
         order by 1, 2, 3",
    )
    .await?;
    conn.execute(
        "update event_names set \
         count = (select count(*) from events e where e.name_id = event_names.id), \
         last_seen = (select max(ts) from events e where e.name_id = event_names.id)",
    )
    .await?;
    conn.execute("update profile_count set n = (select count(*) from profiles) where id = 1")
        .await?;
    sqlx::query(
        "insert into property_types (scope, event_name, key, kind, first_seen) values \
         ('profile', '', 'City', 'text', $1), ('profile', '', 'Age', 'number', $1), \
         ('event', 'Charged', 'Amount', 'number', $1)",
    )
    .bind(now)
    .execute(&mut conn)
    .await?;
    // Ids were given explicitly: the sequences must continue after them.
    for table in ["profiles", "events", "event_names"] {
        conn.execute(
            format!(
                "select setval(pg_get_serial_sequence('{table}', 'id'), \
                 coalesce((select max(id) from {table}), 0) + 1, false)"
            )
            .as_str(),
        )
        .await?;
    }
    // Statistics for the planner, and the visibility map that index-only scans need.
    conn.execute("vacuum analyze").await?;
    conn.close().await?;
    Ok(())
}

/// A client as the app in a browser: signed in, and sending the site's `Origin` (the API refuses
/// requests from other sites).
async fn signed_in(server: &crate::RunningServer) -> anyhow::Result<reqwest::Client> {
    use reqwest::header::{COOKIE, HeaderMap, HeaderValue, ORIGIN};
    let (user_id, _, _) = crate::auth::users::credentials(&server.state.db, BENCH_EMAIL)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .context("the bench user exists")?;
    let token = crate::auth::session::start(&server.state.db, user_id, jiff::Timestamp::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        ORIGIN,
        HeaderValue::from_str(&format!("http://{}", server.addr))?,
    );
    headers.insert(
        COOKIE,
        HeaderValue::from_str(&format!("{}={token}", crate::auth::session::COOKIE))?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

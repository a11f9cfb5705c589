//! `server bench segment-api` (what `cargo xtask bench segment-api` runs): ingestion through
//! Segment's tracking API. A server is started in this process on a fresh SQLite database (or
//! the empty database `--database-url` names) and `POST /v1/batch` is sent concurrently from a
//! few clients, with the messages as Segment's SDKs write them (`messageId`, `timestamp`,
//! `context`, a batch `sentAt`), authenticated with a write key.

// A command-line report: printing is its job.
#![allow(clippy::print_stdout)]

use std::{path::PathBuf, time::Instant};

use anyhow::bail;
use base64::Engine as _;
use serde_json::json;

use crate::{config::Config, db::Db};

pub struct Options {
    /// Where the fresh SQLite database is written.
    pub dir: PathBuf,
    pub events: u64,
    /// Messages per `/v1/batch` request (Segment's SDKs send up to a few hundred).
    pub batch: u64,
    pub clients: u64,
    /// An empty database to measure on instead (e.g. PostgreSQL).
    pub database_url: Option<String>,
}

const EVENT_NAMES: [&str; 6] = [
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    "Page Viewed",
    "Signed In",
];
const CITIES: [&str; 5] = ["Mumbai", "Pune", "Delhi", "Bengaluru", "Chennai"];
const WRITE_KEY: &str = "bench-write-key";

/// A small deterministic generator (xorshift), so every run sends the same messages.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

pub async fn run(opts: &Options) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.dir)?;
    let db_path = opts.dir.join("segment-api.db");
    let url = match &opts.database_url {
        Some(url) => {
            let db = Db::connect(url).await?;
            db.migrate().await?;
            let events: i64 = crate::db::with_pool!(&db, pool => {
                sqlx::query_scalar("select count(*) from events").fetch_one(pool).await?
            });
            db.close().await;
            if events > 0 {
                bail!("the database must be empty (it holds {events} events)");
            }
            url.clone()
        }
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
            }
            format!("sqlite://{}", db_path.display())
        }
    };
    let config_url = url.clone();
    let config = Config::from_lookup(|key| match key {
        "BIND" => Some("127.0.0.1:0".to_owned()),
        "DATABASE_URL" => Some(config_url.clone()),
        "UPLOAD_API_KEY" => Some(WRITE_KEY.to_owned()),
        "WORKER" => Some("off".to_owned()),
        _ => None,
    })?;
    let server = crate::start(config).await?;
    let endpoint = format!("http://{}/v1/batch", server.addr);
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{WRITE_KEY}:"))
    );

    // Bodies are built before the clock starts: the client's JSON work is not the server's.
    let mut rng = Rng(0x5eed_1234_abcd);
    let base = jiff::Timestamp::now().as_second() - 86_400;
    let sent_at = jiff::Timestamp::now().to_string();
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut batch = Vec::with_capacity(opts.batch as usize);
    for i in 0..opts.events {
        let name = EVENT_NAMES[rng.below(EVENT_NAMES.len() as u64) as usize];
        let ts = jiff::Timestamp::from_second(base + (i % 86_400) as i64)?;
        batch.push(json!({
            "type": "track",
            "userId": format!("user-{}", rng.below(10_000)),
            "event": name,
            "properties": {"price": 10 + rng.below(500), "city": CITIES[rng.below(5) as usize]},
            "timestamp": ts.to_string(),
            "messageId": format!("bench-{i}"),
            "context": {"library": {"name": "bench", "version": "1"}},
        }));
        if batch.len() as u64 == opts.batch {
            bodies.push(serde_json::to_vec(
                &json!({"batch": std::mem::take(&mut batch), "sentAt": sent_at}),
            )?);
        }
    }
    if !batch.is_empty() {
        bodies.push(serde_json::to_vec(
            &json!({"batch": batch, "sentAt": sent_at}),
        )?);
    }
    let largest = bodies.iter().map(Vec::len).max().unwrap_or(0);
    let clients = opts.clients.max(1) as usize;
    println!(
        "\nIngestion, POST /v1/batch (Segment tracking API): {} track calls in {} batches of {} \
         (largest {} KB), {clients} concurrent clients, {} database:",
        opts.events,
        bodies.len(),
        opts.batch,
        largest / 1024,
        if opts.database_url.is_some() {
            "the given"
        } else {
            "a fresh SQLite"
        }
    );
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut lanes: Vec<Vec<Vec<u8>>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, body) in bodies.into_iter().enumerate() {
        lanes[i % clients].push(body);
    }
    let mut tasks = Vec::new();
    for lane in lanes {
        let (http, endpoint, auth) = (http.clone(), endpoint.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            for body in lane {
                let res = http
                    .post(&endpoint)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!(
                        "the server answered {}: {}",
                        res.status(),
                        res.text().await?
                    );
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    // The server stages events and merges them in batches (customer::writer): the run ends when
    // every event is queryable, the last merge included, as in the backfill bench.
    let answered = started.elapsed();
    crate::customer::writer::flush(&server.state.db).await?;
    let elapsed = started.elapsed();
    if elapsed - answered >= std::time::Duration::from_millis(50) {
        println!(
            "  (the last batch was answered at {:.2} s; the staged events were merged by {:.2} s)",
            answered.as_secs_f64(),
            elapsed.as_secs_f64()
        );
    }
    let stored: i64 = crate::db::with_pool!(&server.state.db, pool => {
        sqlx::query_scalar("select count(*) from events").fetch_one(pool).await?
    });
    println!(
        "  {stored} events stored in {:.2} s: {:.0} events/s (target ≥ 50,000/s)",
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    if stored as u64 != opts.events {
        bail!("{} events were sent but {stored} stored", opts.events);
    }
    server.shutdown().await
}

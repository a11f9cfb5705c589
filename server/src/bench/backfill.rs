//! The backfill benchmark (issue 22): a new user's history loaded through the real upload API
//! into a database that grows — profiles first, then events — from a few concurrent clients in
//! batches of 1,000, as a CleverTap export replayed by a script would.
//!
//! The server runs as a **child process** (this binary's `serve`), so its peak RSS, CPU time and
//! I/O are its own and not the client's: they are read from `/proc/<pid>` and reported per
//! event, which on a shared machine is a steadier figure than the wall-clock rate. Events/s are
//! printed per step (a million events on the large sizes) so the curve as the database grows is
//! visible, with the slowest minute.
//!
//! Each run takes an event **order** (`random`: the times of a backfill file in no order;
//! `sorted`: increasing time, as live traffic) and a **distribution** of events over profiles
//! (`skewed`: one profile gets half of them, as a bot or a load-test user; `power`: a Zipf-like
//! power law, rank r with probability ∝ 1/r; `uniform`).

// A command-line report: printing is its job.
#![allow(clippy::print_stdout)]

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use super::{DATA_NOW, Rng};
use crate::customer::seed::{CITIES, EVENT_NAMES};

/// The order events are sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Random,
    Sorted,
}

/// How events are spread over profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    Skewed,
    Power,
    Uniform,
}

impl std::str::FromStr for Order {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "random" => Ok(Self::Random),
            "sorted" => Ok(Self::Sorted),
            _ => bail!("unknown order {s:?}: random or sorted"),
        }
    }
}

impl std::str::FromStr for Dist {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "skewed" => Ok(Self::Skewed),
            "power" => Ok(Self::Power),
            "uniform" => Ok(Self::Uniform),
            _ => bail!("unknown distribution {s:?}: skewed, power or uniform"),
        }
    }
}

pub struct BackfillOptions {
    pub dir: PathBuf,
    pub profiles: u64,
    pub events: u64,
    pub days: u64,
    pub orders: Vec<Order>,
    pub dists: Vec<Dist>,
    pub clients: usize,
    pub batch: u64,
    /// An admin URL of a PostgreSQL server: each run gets a database of its own there (dropped
    /// after), instead of a SQLite file in `dir`.
    pub postgres_url: Option<String>,
    /// Keep each run's database (SQLite file or PostgreSQL database) instead of deleting it.
    pub keep: bool,
    /// The server binary to measure (default: this one), e.g. an older build for a before/after
    /// comparison driven by the same client.
    pub server_binary: Option<PathBuf>,
}

pub async fn run(opts: &BackfillOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.dir)?;
    for &order in &opts.orders {
        for &dist in &opts.dists {
            one(opts, order, dist).await?;
        }
    }
    Ok(())
}

/// The server child process and where its database is.
struct Server {
    child: Child,
    base: String,
    sqlite: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_server(
    opts: &BackfillOptions,
    label: &str,
    http: &reqwest::Client,
) -> anyhow::Result<Server> {
    let (url, sqlite, postgres) = match &opts.postgres_url {
        Some(admin) => {
            let name = format!("bench_backfill_{}", label.replace('-', "_"));
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut conn)
                .await?;
            sqlx::query(&format!("create database {name}"))
                .execute(&mut conn)
                .await?;
            let url = crate::db::with_database(admin, &name);
            (url, None, Some((admin.clone(), name)))
        }
        None => {
            let path = opts.dir.join(format!("backfill-{label}.db"));
            remove_sqlite(&path);
            (format!("sqlite://{}", path.display()), Some(path), None)
        }
    };
    let port = free_port()?;
    let binary = match &opts.server_binary {
        Some(path) => path.clone(),
        None => std::env::current_exe()?,
    };
    let child = Command::new(binary)
        .arg("serve")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &url)
        .env("UPLOAD_API_KEY", "bench")
        // Any fixed key: the bench stores no secrets.
        .env("SECRET_KEY", "00".repeat(32))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if http
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server did not answer its health check within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Server {
        child,
        base,
        sqlite,
        postgres,
    })
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let _ = std::fs::remove_file(path.with_file_name("secret.key"));
}

/// What `/proc/<pid>` says about the server.
#[derive(Debug, Default, Clone, Copy)]
struct Proc {
    rss_kib: u64,
    hwm_kib: u64,
    /// User and system CPU, in clock ticks.
    utime: u64,
    stime: u64,
    rchar: u64,
    wchar: u64,
}

fn read_proc(pid: u32) -> Proc {
    let mut p = Proc::default();
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        for line in status.lines() {
            let kib = || {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("VmRSS:") {
                p.rss_kib = kib();
            } else if line.starts_with("VmHWM:") {
                p.hwm_kib = kib();
            }
        }
    }
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Fields after the command name (which may hold spaces), from field 3 on.
        if let Some((_, rest)) = stat.rsplit_once(')') {
            let f: Vec<&str> = rest.split_whitespace().collect();
            p.utime = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            p.stime = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    if let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) {
        for line in io.lines() {
            let v = || {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("rchar:") {
                p.rchar = v();
            } else if line.starts_with("wchar:") {
                p.wchar = v();
            }
        }
    }
    p
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// Clock ticks per second of `/proc/<pid>/stat` (100 on Linux).
const TICKS: f64 = 100.0;

async fn one(opts: &BackfillOptions, order: Order, dist: Dist) -> anyhow::Result<()> {
    let label = format!("{order:?}-{dist:?}").to_lowercase();
    let http = reqwest::Client::new();
    let server = start_server(opts, &label, &http).await?;
    println!(
        "\nBackfill ({label}): {} profiles then {} events over {} days through POST /api/v1/upload, \
         {} clients, batches of {}, fresh {} database, server pid {} (load {}):",
        opts.profiles,
        opts.events,
        opts.days,
        opts.clients,
        opts.batch,
        if opts.postgres_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        server.pid(),
        load()
    );
    let result = phases(opts, order, dist, &server, &http).await;
    let Server {
        mut child,
        sqlite,
        postgres,
        ..
    } = server;
    let _ = child.kill();
    let _ = child.wait();
    if let Some(path) = &sqlite {
        let size: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "  database on disk: {:.0} MiB",
            size as f64 / (1024.0 * 1024.0)
        );
        if !opts.keep {
            remove_sqlite(path);
        }
    }
    if let Some((admin, name)) = &postgres {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
        let size: Option<i64> = sqlx::query_scalar("select pg_database_size($1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .ok();
        if let Some(size) = size {
            println!(
                "  database on disk: {:.0} MiB",
                size as f64 / (1024.0 * 1024.0)
            );
        }
        if !opts.keep {
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut conn)
                .await?;
        }
    }
    result
}

async fn phases(
    opts: &BackfillOptions,
    order: Order,
    dist: Dist,
    server: &Server,
    http: &reqwest::Client,
) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/upload", server.base);
    let profiles = opts.profiles.max(1);
    let gen_profiles = move |b: u64, batch: u64, body: &mut String| {
        let first = b * batch;
        let last = (first + batch).min(profiles);
        let mut rng = Rng(0x5eed ^ b);
        body.push_str("{\"d\":[");
        for i in first..last {
            if i > first {
                body.push(',');
            }
            let id = i + 1;
            let city = CITIES[rng.below(CITIES.len() as u64) as usize];
            let age = 18 + rng.below(50);
            let _ = write!(
                body,
                "{{\"type\":\"profile\",\"identity\":\"user-{id}\",\"ts\":{DATA_NOW},\
                 \"profileData\":{{\"Email\":\"user{id}@example.com\",\"City\":\"{city}\",\"Age\":{age}}}}}"
            );
        }
        body.push_str("]}");
        last - first
    };
    phase(
        "profiles",
        profiles,
        opts,
        server,
        http,
        &url,
        Arc::new(gen_profiles),
    )
    .await?;

    let events = opts.events;
    let span = (opts.days * 86_400).max(1);
    let charged = EVENT_NAMES
        .iter()
        .position(|n| *n == "Charged")
        .unwrap_or(0);
    let gen_events = move |b: u64, batch: u64, body: &mut String| {
        let first = b * batch;
        let last = (first + batch).min(events);
        let mut rng = Rng(0xe7e7 ^ (b << 1));
        body.push_str("{\"d\":[");
        for i in first..last {
            if i > first {
                body.push(',');
            }
            let profile = match dist {
                Dist::Uniform => 1 + rng.below(profiles),
                Dist::Skewed => {
                    if rng.below(2) == 0 {
                        1
                    } else {
                        1 + rng.below(profiles)
                    }
                }
                Dist::Power => {
                    // Rank r = P^u is log-uniform: P(r) ∝ 1/r. Ranks are scattered over the ids
                    // by a multiplication modulo P (a bijection: the multiplier is a prime that
                    // does not divide P), so the heavy users are not the first profiles.
                    let u = rng.below(1 << 53) as f64 / (1u64 << 53) as f64;
                    let rank = ((profiles as f64).powf(u) as u64).clamp(1, profiles);
                    1 + ((rank - 1) as u128 * 1_000_003 % profiles as u128) as u64
                }
            };
            let ts = match order {
                Order::Random => DATA_NOW - rng.below(span) as i64,
                Order::Sorted => {
                    DATA_NOW - span as i64 + (i as u128 * span as u128 / events as u128) as i64
                }
            };
            let name = rng.below(EVENT_NAMES.len() as u64) as usize;
            let _ = write!(
                body,
                "{{\"type\":\"event\",\"identity\":\"user-{profile}\",\"ts\":{ts},\"evtName\":\"{}\",\"evtData\":",
                EVENT_NAMES[name]
            );
            if name == charged {
                let _ = write!(
                    body,
                    "{{\"Amount\":{},\"Items\":{}}}}}",
                    100 + rng.below(5000),
                    1 + rng.below(5)
                );
            } else {
                let _ = write!(
                    body,
                    "{{\"Category\":\"{}\"}}}}",
                    CITIES[rng.below(CITIES.len() as u64) as usize]
                );
            }
        }
        body.push_str("]}");
        last - first
    };
    if events > 0 {
        phase(
            "events",
            events,
            opts,
            server,
            http,
            &url,
            Arc::new(gen_events),
        )
        .await?;
    }
    let end = read_proc(server.pid());
    println!(
        "  server peak RSS (VmHWM) over the whole backfill: {:.0} MiB (target ≤ 512 MiB)",
        end.hwm_kib as f64 / 1024.0
    );
    Ok(())
}

type Generate = Arc<dyn Fn(u64, u64, &mut String) -> u64 + Send + Sync>;

/// Sends `total` records, generated batch by batch by `generate(batch index, batch size,
/// body)`, from `opts.clients` concurrent clients; prints the rate per step and a summary.
async fn phase(
    what: &str,
    total: u64,
    opts: &BackfillOptions,
    server: &Server,
    http: &reqwest::Client,
    url: &str,
    generate: Generate,
) -> anyhow::Result<()> {
    let batch = opts.batch.max(1);
    let batches = total.div_ceil(batch);
    // A million records per line on the large sizes, a tenth of the run on the small ones.
    let step = if total >= 5_000_000 {
        1_000_000
    } else {
        (total / 10).max(batch)
    };
    let pid = server.pid();
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let resent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let before = read_proc(pid);
    // (seconds since start, records done), every 250 ms, for the slowest window.
    let samples: Arc<Mutex<Vec<(f64, u64)>>> = Arc::new(Mutex::new(vec![(0.0, 0)]));
    let peak_rss = Arc::new(AtomicU64::new(before.rss_kib));
    let sampler = {
        let (samples, done, peak_rss) = (samples.clone(), done.clone(), peak_rss.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let p = read_proc(pid);
                peak_rss.fetch_max(p.rss_kib, Ordering::Relaxed);
                if let Ok(mut s) = samples.lock() {
                    s.push((
                        started.elapsed().as_secs_f64(),
                        done.load(Ordering::Relaxed),
                    ));
                }
            }
        })
    };
    // (time, records) at the last printed step.
    let mark = Arc::new(Mutex::new((started, 0u64, before)));
    let mut tasks = Vec::new();
    for _ in 0..opts.clients.max(1) {
        let (http, url, next, done, mark, generate, resent) = (
            http.clone(),
            url.to_owned(),
            next.clone(),
            done.clone(),
            mark.clone(),
            generate.clone(),
            resent.clone(),
        );
        let what = what.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut body = String::with_capacity(batch as usize * 200);
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return anyhow::Ok(());
                }
                body.clear();
                let sent = generate(b, batch, &mut body);
                // A failed upload stored nothing and is resent, as the API asks of clients
                // (uploads are idempotent); the resends are counted and reported.
                let mut attempt = 0;
                let processed = loop {
                    let res = http
                        .post(&url)
                        .header("X-Api-Key", "bench")
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    let status = res.status();
                    let answer: serde_json::Value = res.json().await?;
                    let processed = answer["processed"].as_u64().unwrap_or(0);
                    if status.is_success() && processed == sent {
                        break processed;
                    }
                    attempt += 1;
                    if !status.is_server_error() || attempt > 5 {
                        bail!("upload of batch {b} answered {status}: {answer}");
                    }
                    resent.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let was = done.fetch_add(processed, Ordering::Relaxed);
                let now = was + processed;
                if was / step != now / step || now == total {
                    let p = read_proc(pid);
                    let mut m = mark.lock().unwrap_or_else(|e| e.into_inner());
                    let secs = m.0.elapsed().as_secs_f64().max(f64::EPSILON);
                    let n = now.saturating_sub(m.1).max(1);
                    println!(
                        "  {now:>11} {what}: {:>8.0} {what}/s over the last {n}, {:>6.1} s in all; \
                         server {:.1} µs user + {:.1} µs system CPU, {:.1} KB read + {:.1} KB written per record, RSS {} MiB; load {}",
                        n as f64 / secs,
                        started.elapsed().as_secs_f64(),
                        (p.utime - m.2.utime) as f64 / TICKS * 1e6 / n as f64,
                        (p.stime - m.2.stime) as f64 / TICKS * 1e6 / n as f64,
                        p.rchar.saturating_sub(m.2.rchar) as f64 / 1000.0 / n as f64,
                        p.wchar.saturating_sub(m.2.wchar) as f64 / 1000.0 / n as f64,
                        p.rss_kib / 1024,
                        load()
                    );
                    *m = (Instant::now(), now, p);
                }
            }
        }));
    }
    let mut failure = None;
    for t in tasks {
        if let Err(e) = t.await? {
            failure.get_or_insert(e);
        }
    }
    if let Some(e) = failure {
        sampler.abort();
        return Err(e);
    }
    // The server stages events and merges them in batches (customer::writer): the phase ends
    // when every event is queryable, the last merge included.
    let answered = started.elapsed().as_secs_f64();
    if let Some(path) = &server.sqlite {
        wait_merged(path).await?;
    }
    if let Some((admin, name)) = &server.postgres {
        wait_merged_postgres(&crate::db::with_database(admin, name)).await?;
    }
    sampler.abort();
    let elapsed = started.elapsed().as_secs_f64().max(f64::EPSILON);
    if elapsed - answered >= 0.05 {
        println!(
            "  (the last upload was answered at {answered:.1} s; the staged events were merged by {elapsed:.1} s)"
        );
    }
    let after = read_proc(pid);
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    let (window, slowest) = slowest_window(&samples, total, elapsed);
    println!(
        "  {what}: {total} in {elapsed:.1} s, {:.0} {what}/s on average, slowest {window}: {:.0}/s; \
         server CPU {:.1} µs per record ({:.1} user, {:.1} system), {:.1} KB read and {:.1} KB \
         written per record, peak RSS during the phase {} MiB; {} uploads resent after a 5xx",
        total as f64 / elapsed,
        slowest,
        ((after.utime + after.stime) - (before.utime + before.stime)) as f64 / TICKS * 1e6
            / total as f64,
        (after.utime - before.utime) as f64 / TICKS * 1e6 / total as f64,
        (after.stime - before.stime) as f64 / TICKS * 1e6 / total as f64,
        after.rchar.saturating_sub(before.rchar) as f64 / 1000.0 / total as f64,
        after.wchar.saturating_sub(before.wchar) as f64 / 1000.0 / total as f64,
        peak_rss.load(Ordering::Relaxed).max(after.rss_kib) / 1024,
        resent.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Polls `$conn` (either database's connection) every 50 ms until `events_inbox` is empty or
/// missing.
macro_rules! poll_until_merged {
    ($conn:expr) => {
        loop {
            let staged: Result<bool, _> =
                sqlx::query_scalar("select exists (select 1 from events_inbox)")
                    .fetch_one(&mut $conn)
                    .await;
            match staged {
                Ok(true) => tokio::time::sleep(Duration::from_millis(50)).await,
                Ok(false) | Err(sqlx::Error::Database(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    };
}

/// Waits until the server has merged every staged event (its `events_inbox` is empty), reading
/// the database file; a server without the table (an older build) stages nothing.
async fn wait_merged(path: &Path) -> anyhow::Result<()> {
    use sqlx::ConnectOptions as _;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    poll_until_merged!(conn)
}

/// [`wait_merged`] on PostgreSQL; a server without the table (an older build) stages nothing.
async fn wait_merged_postgres(url: &str) -> anyhow::Result<()> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
    poll_until_merged!(conn)
}

/// The slowest rate over any window of a minute (of 10 s when the run is shorter than two
/// minutes), from the samples; with the window's name.
fn slowest_window(samples: &[(f64, u64)], total: u64, elapsed: f64) -> (&'static str, f64) {
    let (name, width) = if elapsed >= 120.0 {
        ("minute", 60.0)
    } else {
        ("10 s", 10.0)
    };
    let mut points = samples.to_vec();
    points.push((elapsed, total));
    let mut slowest = total as f64 / elapsed;
    let mut j = 0;
    for i in 0..points.len() {
        while j < points.len() && points[j].0 < points[i].0 + width {
            j += 1;
        }
        if j == points.len() {
            break;
        }
        let rate = (points[j].1 - points[i].1) as f64 / (points[j].0 - points[i].0);
        slowest = slowest.min(rate);
    }
    (name, slowest)
}
